/* io_unit_driver.c - the smallest driver the I/O manager unit tests (tests/io) load.
 *
 * DriverEntry creates one named device, \Device\IoUnitEntry, and records the device's
 * Flags as DriverEntry saw them (IoUnitFlagsInDriverEntry), so a test can check that
 * DO_DEVICE_INITIALIZING is set during DriverEntry and cleared by the I/O manager after
 * it. Every other dispatch slot is left to the tests, which install their own routines
 * in the driver object and create further devices with IoCreateDevice.
 * DriverUnload deletes every device still on the driver's list (including the tests'). */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD IoUnitUnload;

ULONG IoUnitFlagsInDriverEntry = 0;
PDEVICE_OBJECT IoUnitEntryDevice = NULL;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IoUnitEntry");
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &IoUnitEntryDevice);
    if (!NT_SUCCESS(status))
        return status;
    IoUnitFlagsInDriverEntry = IoUnitEntryDevice->Flags;
    DriverObject->DriverUnload = IoUnitUnload;
    return STATUS_SUCCESS;
}

VOID IoUnitUnload(PDRIVER_OBJECT DriverObject)
{
    while (DriverObject->DeviceObject != NULL)
        IoDeleteDevice(DriverObject->DeviceObject);
    IoUnitEntryDevice = NULL;
}
