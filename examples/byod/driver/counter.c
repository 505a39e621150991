/*
 * counter.c - an out-of-tree example driver: each IOCTL_COUNTER_NEXT returns the next
 * number. It includes its shared header the Windows way, with a backslash; iosim's CMake
 * functions make that work without changing the source.
 */
#include <ntddk.h>
#include "..\common\counter_ioctl.h"

static ULONG g_counter;

static NTSTATUS CounterCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS CounterControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = STATUS_INVALID_DEVICE_REQUEST;
    ULONG_PTR info = 0;
    if (stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_COUNTER_NEXT) {
        if (stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(ULONG)) {
            status = STATUS_BUFFER_TOO_SMALL;
        } else {
            *(PULONG)Irp->AssociatedIrp.SystemBuffer = ++g_counter;
            info = sizeof(ULONG);
            status = STATUS_SUCCESS;
        }
    }
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = info;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

static VOID CounterUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\Counter");
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(DriverObject->DeviceObject);
    DbgPrint("counter: unloaded after %lu requests\n", g_counter);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\Counter");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\Counter");
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = CounterCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = CounterCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = CounterControl;
    DriverObject->DriverUnload = CounterUnload;
    return STATUS_SUCCESS;
}
