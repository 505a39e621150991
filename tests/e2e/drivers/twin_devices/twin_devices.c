/*
 * twin_devices.c - error-case driver: two devices with the same name.
 *
 * Device names are unique in the object namespace: the second IoCreateDevice of
 * \Device\E2eTwin fails with STATUS_OBJECT_NAME_COLLISION and returns no device. This
 * driver reports the status, deletes the first device (cleaning up properly) and fails
 * DriverEntry with that status.
 */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\E2eTwin");
    PDEVICE_OBJECT first = NULL;
    PDEVICE_OBJECT second = NULL;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &first);
    DbgPrint("e2e_twin_devices: first IoCreateDevice returned 0x%08X\n", status);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &second);
    DbgPrint("e2e_twin_devices: second IoCreateDevice returned 0x%08X, device %s\n", status,
             second == NULL ? "NULL" : "not NULL");
    if (second != NULL)
        IoDeleteDevice(second);
    IoDeleteDevice(first);
    return NT_SUCCESS(status) ? STATUS_UNSUCCESSFUL : status;
}
