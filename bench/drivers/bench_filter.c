/*
 * bench_filter.c - the stack-depth benchmark's driver: pass-through filters on demand.
 *
 * Its control device \Device\IosimBenchFilter (\\.\IosimBenchFilter) takes
 * IOCTL_BENCH_FILTER_ADD with a ULONG count and attaches that many filter devices, one on
 * top of the other, to \Device\IosimBench (bench_null.sys). Each filter does the least a
 * filter can: IoSkipCurrentIrpStackLocation and IoCallDriver, so a request's extra cost per
 * layer is the I/O manager's cost of one more IoCallDriver. DriverUnload detaches them
 * top-down and deletes them.
 */
#include <ntddk.h>

#define IOCTL_BENCH_FILTER_ADD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)

typedef struct _BENCH_FILTER_EXTENSION {
    PDEVICE_OBJECT Lower; /* NULL for the control device */
} BENCH_FILTER_EXTENSION, *PBENCH_FILTER_EXTENSION;

static PDEVICE_OBJECT g_Control;

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static NTSTATUS AddFilters(PDRIVER_OBJECT DriverObject, ULONG Count)
{
    UNICODE_STRING target = RTL_CONSTANT_STRING(L"\\Device\\IosimBench");
    ULONG i;
    for (i = 0; i < Count; i++) {
        PDEVICE_OBJECT filter;
        PBENCH_FILTER_EXTENSION ext;
        NTSTATUS status = IoCreateDevice(DriverObject, sizeof(BENCH_FILTER_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0,
                                         FALSE, &filter);
        if (!NT_SUCCESS(status))
            return status;
        ext = (PBENCH_FILTER_EXTENSION)filter->DeviceExtension;
        status = IoAttachDevice(filter, &target, &ext->Lower);
        if (!NT_SUCCESS(status)) {
            IoDeleteDevice(filter);
            return status;
        }
        filter->Flags |= ext->Lower->Flags & (DO_BUFFERED_IO | DO_DIRECT_IO);
        filter->Flags &= ~DO_DEVICE_INITIALIZING;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS BenchFilterDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PBENCH_FILTER_EXTENSION ext = (PBENCH_FILTER_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack;
    if (ext->Lower != NULL) {
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(ext->Lower, Irp);
    }
    stack = IoGetCurrentIrpStackLocation(Irp);
    if (stack->MajorFunction != IRP_MJ_DEVICE_CONTROL)
        return Complete(Irp, STATUS_SUCCESS);
    if (stack->Parameters.DeviceIoControl.IoControlCode != IOCTL_BENCH_FILTER_ADD ||
        stack->Parameters.DeviceIoControl.InputBufferLength < sizeof(ULONG))
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST);
    return Complete(Irp, AddFilters(DeviceObject->DriverObject, *(PULONG)Irp->AssociatedIrp.SystemBuffer));
}

static VOID BenchFilterUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimBenchFilter");
    /* Newest first on the driver's list, which is also top of the stack first. */
    while (DriverObject->DeviceObject != g_Control) {
        PDEVICE_OBJECT filter = DriverObject->DeviceObject;
        IoDetachDevice(((PBENCH_FILTER_EXTENSION)filter->DeviceExtension)->Lower);
        IoDeleteDevice(filter);
    }
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(g_Control);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IosimBenchFilter");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimBenchFilter");
    NTSTATUS status;
    ULONG i;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, sizeof(BENCH_FILTER_EXTENSION), &name, FILE_DEVICE_UNKNOWN, 0, FALSE,
                            &g_Control);
    if (!NT_SUCCESS(status))
        return status;
    g_Control->Flags |= DO_BUFFERED_IO;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_Control);
        return status;
    }
    for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = BenchFilterDispatch;
    DriverObject->DriverUnload = BenchFilterUnload;
    return STATUS_SUCCESS;
}
