/*
 * bench_xfer.c - the transfer benchmark's driver: one buffered and one direct device.
 *
 * \Device\IosimBenchBuffered (DO_BUFFERED_IO) and \Device\IosimBenchDirect (DO_DIRECT_IO)
 * both answer IRP_MJ_READ by filling the whole request with one byte value and
 * completing it with Information = Length: the buffered one writes its SystemBuffer (the
 * I/O manager copies it back to the app), the direct one writes through the system
 * address of the MDL that maps the app's own pages (no copy back).
 */
#include <ntddk.h>

static PDEVICE_OBJECT g_buffered;
static PDEVICE_OBJECT g_direct;

static NTSTATUS XferComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS XferRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG length = sp->Parameters.Read.Length;
    PVOID target = NULL;
    if (DeviceObject == g_buffered)
        target = Irp->AssociatedIrp.SystemBuffer;
    else if (Irp->MdlAddress != NULL)
        target = MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority);
    if (length != 0 && target == NULL) {
        Irp->IoStatus.Status = STATUS_INSUFFICIENT_RESOURCES;
        Irp->IoStatus.Information = 0;
    } else {
        RtlFillMemory(target, length, 0x5A);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = length;
    }
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS MakeDevice(PDRIVER_OBJECT DriverObject, PCWSTR name, PCWSTR link, ULONG flags, PDEVICE_OBJECT *out)
{
    UNICODE_STRING device_name, link_name;
    NTSTATUS status;
    RtlInitUnicodeString(&device_name, name);
    RtlInitUnicodeString(&link_name, link);
    status = IoCreateDevice(DriverObject, 0, &device_name, FILE_DEVICE_UNKNOWN, 0, FALSE, out);
    if (!NT_SUCCESS(status))
        return status;
    (*out)->Flags |= flags;
    (*out)->Flags &= ~DO_DEVICE_INITIALIZING;
    status = IoCreateSymbolicLink(&link_name, &device_name);
    if (!NT_SUCCESS(status))
        IoDeleteDevice(*out);
    return status;
}

static VOID XferUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING buffered = RTL_CONSTANT_STRING(L"\\??\\IosimBenchBuffered");
    UNICODE_STRING direct = RTL_CONSTANT_STRING(L"\\??\\IosimBenchDirect");
    IoDeleteSymbolicLink(&buffered);
    IoDeleteSymbolicLink(&direct);
    IoDeleteDevice(g_buffered);
    IoDeleteDevice(g_direct);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS status = MakeDevice(DriverObject, L"\\Device\\IosimBenchBuffered", L"\\??\\IosimBenchBuffered",
                                 DO_BUFFERED_IO, &g_buffered);
    if (!NT_SUCCESS(status))
        return status;
    status = MakeDevice(DriverObject, L"\\Device\\IosimBenchDirect", L"\\??\\IosimBenchDirect", DO_DIRECT_IO,
                        &g_direct);
    if (!NT_SUCCESS(status)) {
        UNICODE_STRING buffered = RTL_CONSTANT_STRING(L"\\??\\IosimBenchBuffered");
        IoDeleteSymbolicLink(&buffered);
        IoDeleteDevice(g_buffered);
        return status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = XferComplete;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = XferComplete;
    DriverObject->MajorFunction[IRP_MJ_READ] = XferRead;
    DriverObject->DriverUnload = XferUnload;
    return STATUS_SUCCESS;
}
