/*
 * bench_null.c - the benchmark's driver: the cheapest possible request handling.
 * IRP_MJ_DEVICE_CONTROL completes at once with STATUS_SUCCESS and no data, so a
 * benchmark of DeviceIoControl measures the I/O path itself.
 */
#include <ntddk.h>

#define IOCTL_BENCH_NULL CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)

NTSTATUS BenchComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static VOID BenchUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimBench");
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IosimBench");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimBench");
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    device->Flags |= DO_BUFFERED_IO;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = BenchComplete;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = BenchComplete;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = BenchComplete;
    DriverObject->DriverUnload = BenchUnload;
    return STATUS_SUCCESS;
}
