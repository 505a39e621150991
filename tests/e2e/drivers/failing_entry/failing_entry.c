/*
 * failing_entry.c - error-case driver: DriverEntry fails after creating a device.
 *
 * When DriverEntry returns an error the I/O manager unloads the image without calling
 * DriverUnload, and \Driver\<service> goes away. Whatever DriverEntry created stays
 * behind unless DriverEntry itself deleted it: here the device \Device\E2eFailing is
 * left, which iosim reports (DEVICE_LEFT_BEHIND) and removes.
 */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD FailingUnload;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\E2eFailing");
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = FailingUnload;
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device); /* LEFT_BEHIND */
    if (!NT_SUCCESS(status))
        return status;
    DbgPrint("e2e_failing_entry: device created, failing with STATUS_DEVICE_CONFIGURATION_ERROR\n");
    /* The bug: the error path forgets IoDeleteDevice(device). */
    return STATUS_DEVICE_CONFIGURATION_ERROR;
}

VOID FailingUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("e2e_failing_entry: DriverUnload ran, which it never should after a failed DriverEntry\n");
}
