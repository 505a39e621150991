/*
 * double_complete.c - error-case driver: a read dispatch routine that completes its IRP twice.
 *
 * After IoCompleteRequest the IRP belongs to the I/O manager again; completing it a
 * second time is bug check 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS. The report must name the
 * line of the second call (marked SECOND_COMPLETION below) and list the IRP's history.
 */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD DoubleUnload;
DRIVER_DISPATCH DoubleCreateClose;
DRIVER_DISPATCH DoubleRead;

static UNICODE_STRING g_LinkName = RTL_CONSTANT_STRING(L"\\??\\E2eDouble");

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\E2eDouble");
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DoubleUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = DoubleCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = DoubleCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = DoubleRead;
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

VOID DoubleUnload(PDRIVER_OBJECT DriverObject)
{
    IoDeleteSymbolicLink(&g_LinkName);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS DoubleCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS DoubleRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT); /* FIRST_COMPLETION */
    DbgPrint("e2e_double_complete: completed once, completing again\n");
    IoCompleteRequest(Irp, IO_NO_INCREMENT); /* SECOND_COMPLETION: the bug */
    return STATUS_SUCCESS;
}
