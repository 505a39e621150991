/*
 * sloppy.c - error-case driver: METHOD_BUFFERED requests answered carelessly.
 *
 *  IOCTL_SLOPPY_TOO_MUCH       Information larger than the caller's output buffer. Windows
 *                              would copy Information bytes and overrun the caller's buffer;
 *                              iosim copies only what fits and reports
 *                              IRP_INFORMATION_TOO_LARGE.
 *  IOCTL_SLOPPY_NOT_COMPLETED  returns without completing the IRP (nor pending it):
 *                              reported as IRP_NOT_COMPLETED.
 *  IOCTL_SLOPPY_ERROR_WITH_DATA an error status with data and Information set: for an
 *                              error the I/O manager copies nothing back.
 */
#include <ntddk.h>

#include "sloppy_public.h"

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD SloppyUnload;
DRIVER_DISPATCH SloppyCreateClose;
DRIVER_DISPATCH SloppyDeviceControl;

static UNICODE_STRING g_LinkName = RTL_CONSTANT_STRING(L"\\??\\E2eSloppy");

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\E2eSloppy");
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = SloppyUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = SloppyCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = SloppyCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = SloppyDeviceControl;
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&g_LinkName, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

VOID SloppyUnload(PDRIVER_OBJECT DriverObject)
{
    IoDeleteSymbolicLink(&g_LinkName);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS SloppyCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS SloppyDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG inLength = stack->Parameters.DeviceIoControl.InputBufferLength;
    ULONG outLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
    NTSTATUS status = STATUS_SUCCESS;

    UNREFERENCED_PARAMETER(DeviceObject);
    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_SLOPPY_TOO_MUCH:
        /* The bug: the input is echoed whole, whatever the output buffer's size. */
        DbgPrint("e2e_sloppy: TOO_MUCH, output %lu byte(s), Information %lu\n", outLength, inLength);
        Irp->IoStatus.Information = inLength;
        break;
    case IOCTL_SLOPPY_NOT_COMPLETED:
        DbgPrint("e2e_sloppy: NOT_COMPLETED, returning without IoCompleteRequest\n");
        return STATUS_SUCCESS; /* The bug: no IoCompleteRequest. */
    case IOCTL_SLOPPY_ERROR_WITH_DATA:
        if (outLength != 0)
            RtlFillMemory(Irp->AssociatedIrp.SystemBuffer, outLength, 'E');
        Irp->IoStatus.Information = outLength;
        status = STATUS_INVALID_PARAMETER;
        DbgPrint("e2e_sloppy: ERROR_WITH_DATA, %lu byte(s) of data and status 0x%08X\n", outLength, status);
        break;
    default:
        Irp->IoStatus.Information = 0;
        status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }
    Irp->IoStatus.Status = status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}
