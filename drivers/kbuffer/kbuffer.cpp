// kbuffer.cpp - sample driver: a device that reads and writes like a small file.
//
// Lesson (seed 000 section 10 "直接I/O和内存描述符表", done with buffered I/O instead of
// an MDL; seed 002 "通过ReadFile实现与内核通信" for the read side):
//  - The "disk" is 512 bytes of non-paged pool (ExAllocatePoolWithTag, tag 'fubK', which
//    pool listings show as "Kbuf"), allocated in DriverEntry and freed in DriverUnload.
//  - DO_BUFFERED_IO: for IRP_MJ_READ/WRITE the I/O manager gives the driver
//    Irp->AssociatedIrp.SystemBuffer of Parameters.Read/Write.Length bytes; a write's
//    data is copied in before the call, a read's Information bytes are copied out after.
//  - Parameters.Read/Write.ByteOffset says where: the OVERLAPPED's Offset when the app
//    passes one (even on a synchronous handle), otherwise the file object's
//    CurrentByteOffset, which the I/O manager never advances: a plain device like this
//    one keeps seeing offset 0.
//  - A transfer that does not fit fails with STATUS_FILE_INVALID (ERROR_FILE_INVALID,
//    1006 in the app) and 0 bytes.
//  - The driver keeps a "file length" (the highest byte written) and answers
//    IRP_MJ_QUERY_INFORMATION / FileStandardInformation with it as EndOfFile, which is
//    what GetFileSize asks for. That request is always buffered.
//  - The device is exclusive (IoCreateDevice(..., Exclusive = TRUE, ...), as in the seed):
//    while one handle is open a second CreateFile fails with ERROR_ACCESS_DENIED.
// Written in C++: the driver's entry points are extern "C".
#include <ntddk.h>

#define KBUFFER_SIZE 512
#define KBUFFER_TAG 'fubK'

typedef struct _KBUFFER_EXTENSION {
    UNICODE_STRING LinkName;
    PUCHAR Buffer;     // KBUFFER_SIZE bytes of non-paged pool
    ULONG FileLength;  // one past the highest byte written so far
} KBUFFER_EXTENSION, *PKBUFFER_EXTENSION;

extern "C" DRIVER_INITIALIZE DriverEntry;
extern "C" DRIVER_UNLOAD KbufferUnload;
extern "C" _Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH KbufferCreateClose;
extern "C" _Dispatch_type_(IRP_MJ_READ) _Dispatch_type_(IRP_MJ_WRITE) DRIVER_DISPATCH KbufferReadWrite;
extern "C" _Dispatch_type_(IRP_MJ_QUERY_INFORMATION) DRIVER_DISPATCH KbufferQueryInformation;

static NTSTATUS CompleteIrp(PIRP Irp, NTSTATUS status, ULONG_PTR information)
{
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("kbuffer: DriverEntry\n");

    DriverObject->DriverUnload = KbufferUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = KbufferCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = KbufferCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = KbufferReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = KbufferReadWrite;
    DriverObject->MajorFunction[IRP_MJ_QUERY_INFORMATION] = KbufferQueryInformation;

    UNICODE_STRING deviceName;
    RtlInitUnicodeString(&deviceName, L"\\Device\\IosimKbuffer");
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(KBUFFER_EXTENSION), &deviceName, FILE_DEVICE_UNKNOWN,
                                     FILE_DEVICE_SECURE_OPEN, TRUE, &device);
    if (!NT_SUCCESS(status)) {
        DbgPrint("kbuffer: IoCreateDevice failed 0x%08X\n", status);
        return status;
    }
    PKBUFFER_EXTENSION ext = (PKBUFFER_EXTENSION)device->DeviceExtension;
    ext->Buffer = (PUCHAR)ExAllocatePoolWithTag(NonPagedPool, KBUFFER_SIZE, KBUFFER_TAG);
    if (ext->Buffer == NULL) {
        IoDeleteDevice(device);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    RtlZeroMemory(ext->Buffer, KBUFFER_SIZE);  // ExAllocatePoolWithTag does not zero
    ext->FileLength = 0;

    RtlInitUnicodeString(&ext->LinkName, L"\\??\\IosimKbuffer");
    status = IoCreateSymbolicLink(&ext->LinkName, &deviceName);
    if (!NT_SUCCESS(status)) {
        DbgPrint("kbuffer: IoCreateSymbolicLink failed 0x%08X\n", status);
        ExFreePoolWithTag(ext->Buffer, KBUFFER_TAG);
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    DbgPrint("kbuffer: %d-byte buffer ready\n", KBUFFER_SIZE);
    return STATUS_SUCCESS;
}

extern "C" VOID KbufferUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PKBUFFER_EXTENSION ext = (PKBUFFER_EXTENSION)device->DeviceExtension;
    DbgPrint("kbuffer: DriverUnload, file length was %lu\n", ext->FileLength);
    ExFreePoolWithTag(ext->Buffer, KBUFFER_TAG);
    ext->Buffer = NULL;
    IoDeleteSymbolicLink(&ext->LinkName);
    IoDeleteDevice(device);
}

extern "C" NTSTATUS KbufferCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    DbgPrint("kbuffer: %s\n", stack->MajorFunction == IRP_MJ_CREATE ? "IRP_MJ_CREATE" : "IRP_MJ_CLOSE");
    return CompleteIrp(Irp, STATUS_SUCCESS, 0);
}

extern "C" NTSTATUS KbufferReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PKBUFFER_EXTENSION ext = (PKBUFFER_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    BOOLEAN write = stack->MajorFunction == IRP_MJ_WRITE;
    ULONG length = write ? stack->Parameters.Write.Length : stack->Parameters.Read.Length;
    LONGLONG offset = write ? stack->Parameters.Write.ByteOffset.QuadPart : stack->Parameters.Read.ByteOffset.QuadPart;

    DbgPrint("kbuffer: %s of %lu byte(s) at offset %I64d\n", write ? "IRP_MJ_WRITE" : "IRP_MJ_READ", length, offset);
    if (offset < 0 || offset > KBUFFER_SIZE || length > KBUFFER_SIZE - (ULONG)offset) {
        DbgPrint("kbuffer: does not fit in %d bytes: STATUS_FILE_INVALID\n", KBUFFER_SIZE);
        return CompleteIrp(Irp, STATUS_FILE_INVALID, 0);
    }
    if (length == 0)
        return CompleteIrp(Irp, STATUS_SUCCESS, 0);  // no SystemBuffer for 0 bytes

    PUCHAR systemBuffer = (PUCHAR)Irp->AssociatedIrp.SystemBuffer;
    if (write) {
        RtlCopyMemory(ext->Buffer + offset, systemBuffer, length);
        if (offset + length > ext->FileLength)
            ext->FileLength = (ULONG)(offset + length);
        DbgPrint("kbuffer: file length now %lu\n", ext->FileLength);
    } else {
        RtlCopyMemory(systemBuffer, ext->Buffer + offset, length);
    }
    return CompleteIrp(Irp, STATUS_SUCCESS, length);
}

extern "C" NTSTATUS KbufferQueryInformation(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PKBUFFER_EXTENSION ext = (PKBUFFER_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    FILE_INFORMATION_CLASS infoClass = stack->Parameters.QueryFile.FileInformationClass;

    if (infoClass != FileStandardInformation) {
        DbgPrint("kbuffer: IRP_MJ_QUERY_INFORMATION class %d not supported\n", (int)infoClass);
        return CompleteIrp(Irp, STATUS_INVALID_INFO_CLASS, 0);
    }
    if (stack->Parameters.QueryFile.Length < sizeof(FILE_STANDARD_INFORMATION))
        return CompleteIrp(Irp, STATUS_BUFFER_TOO_SMALL, 0);

    PFILE_STANDARD_INFORMATION info = (PFILE_STANDARD_INFORMATION)Irp->AssociatedIrp.SystemBuffer;
    RtlZeroMemory(info, sizeof(*info));
    info->AllocationSize.QuadPart = KBUFFER_SIZE;
    info->EndOfFile.QuadPart = ext->FileLength;
    info->NumberOfLinks = 1;
    info->DeletePending = FALSE;
    info->Directory = FALSE;
    DbgPrint("kbuffer: IRP_MJ_QUERY_INFORMATION FileStandardInformation, EndOfFile %lu\n", ext->FileLength);
    return CompleteIrp(Irp, STATUS_SUCCESS, sizeof(FILE_STANDARD_INFORMATION));
}
