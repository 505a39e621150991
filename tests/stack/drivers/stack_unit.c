/* stack_unit.c - the smallest driver the stack tests (tests/stack) load to own devices.
 *
 * It creates nothing: the tests create devices on its driver object with IoCreateDevice,
 * stack them with the real attach routines and install their own dispatch routines in
 * its MajorFunction table. DriverUnload deletes (after detaching) every device left. */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD StackUnitUnload;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = StackUnitUnload;
    return STATUS_SUCCESS;
}

VOID StackUnitUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device;
    /* Detach everything first, so no device is deleted under another. */
    for (device = DriverObject->DeviceObject; device != NULL; device = device->NextDevice)
        if (device->AttachedDevice != NULL && device->AttachedDevice->DriverObject == DriverObject)
            IoDetachDevice(device);
    while (DriverObject->DeviceObject != NULL)
        IoDeleteDevice(DriverObject->DeviceObject);
}
