// direct.cpp - sample driver: read and write through an MDL (DO_DIRECT_IO).
//
// Lesson (seed 000 section 10, "直接I/O和内存描述符表"): with DO_DIRECT_IO the I/O manager
// does not copy the caller's buffer. It describes the caller's pages with an MDL
// (Irp->MdlAddress, probed and locked): the physical page frames behind the buffer
// (MmGetMdlPfnArray). The driver asks for a system-space address of those same frames with
// MmGetSystemAddressForMdlSafe: a second mapping, at another address, of the app's memory,
// so what the driver writes there is in the app's buffer. MmGetMdlVirtualAddress is the
// address the app passed (valid only in the app's context); MmGetMdlByteOffset its offset
// into the first page, which the system address keeps. A transfer of 0 bytes has no MDL at
// all. The device keeps 256 bytes; a transfer past them fails with STATUS_INVALID_PARAMETER.
#include <ntddk.h>

#define DIRECT_SIZE 256
#define DIRECT_TAG 'riDI'

typedef struct _DIRECT_EXTENSION {
    PUCHAR Data;  // DIRECT_SIZE bytes of non-paged pool
} DIRECT_EXTENSION, *PDIRECT_EXTENSION;

static NTSTATUS Finish(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

extern "C" NTSTATUS DirectCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp) { return Finish(Irp, STATUS_SUCCESS, 0); }

extern "C" NTSTATUS DirectReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PDIRECT_EXTENSION ext = (PDIRECT_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    BOOLEAN write = stack->MajorFunction == IRP_MJ_WRITE;
    ULONG length = write ? stack->Parameters.Write.Length : stack->Parameters.Read.Length;
    LONGLONG offset = write ? stack->Parameters.Write.ByteOffset.QuadPart : stack->Parameters.Read.ByteOffset.QuadPart;

    if (length == 0) {
        DbgPrint("direct: %s of 0 bytes: MdlAddress is %p (no MDL for an empty transfer)\n",
                 write ? "write" : "read", Irp->MdlAddress);
        return Finish(Irp, STATUS_SUCCESS, 0);
    }
    if (offset < 0 || offset + length > DIRECT_SIZE)
        return Finish(Irp, STATUS_INVALID_PARAMETER, 0);

    PMDL mdl = Irp->MdlAddress;
    PUCHAR system = (PUCHAR)MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
    if (system == NULL)
        return Finish(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    PPFN_NUMBER frames = MmGetMdlPfnArray(mdl);
    ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), MmGetMdlByteCount(mdl));
    DbgPrint("direct: %s %lu bytes at offset %lu: MDL virtual address %p, byte offset %lu, byte count %lu, "
             "%lu page(s) at frame 0x%lX%s, system address %p\n",
             write ? "write" : "read", length, (ULONG)offset, MmGetMdlVirtualAddress(mdl), MmGetMdlByteOffset(mdl),
             MmGetMdlByteCount(mdl), pages, (ULONG)frames[0], pages > 1 ? " and on" : "", system);
    if (write)
        RtlCopyMemory(ext->Data + offset, system, length);
    else
        RtlCopyMemory(system, ext->Data + offset, length);
    return Finish(Irp, STATUS_SUCCESS, length);
}

extern "C" VOID DirectUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PDIRECT_EXTENSION ext = (PDIRECT_EXTENSION)device->DeviceExtension;
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimDirect");
    ExFreePoolWithTag(ext->Data, DIRECT_TAG);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(device);
}

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IosimDirect");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimDirect");
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(DIRECT_EXTENSION), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    PDIRECT_EXTENSION ext = (PDIRECT_EXTENSION)device->DeviceExtension;
    ext->Data = (PUCHAR)ExAllocatePool2(POOL_FLAG_NON_PAGED, DIRECT_SIZE, DIRECT_TAG);  // zeroed
    if (ext->Data == NULL) {
        IoDeleteDevice(device);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(ext->Data, DIRECT_TAG);
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_DIRECT_IO;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = DirectCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = DirectCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = DirectReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = DirectReadWrite;
    DriverObject->DriverUnload = DirectUnload;
    return STATUS_SUCCESS;
}
