/*
 * no_unload.c - error-case driver: DriverEntry registers no DriverUnload.
 *
 * Such a driver cannot be stopped: ControlService(SERVICE_CONTROL_STOP) fails with
 * ERROR_INVALID_SERVICE_CONTROL (1052) and the driver stays loaded. It creates nothing,
 * so nothing is left over at shutdown.
 */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("e2e_no_unload: DriverEntry, no DriverUnload registered\n");
    return STATUS_SUCCESS;
}
