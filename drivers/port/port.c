/*
 * port.c - sample port driver: the general half of a port/miniport pair (seed 004).
 *
 * Lesson: port.sys exports PortInitialize (see port.h). A miniport imports it and calls it
 * from its own DriverEntry; the port then creates the miniport's device and link, installs
 * its own dispatch routines and DriverUnload in the *miniport's* driver object, and turns
 * every request into calls of the miniport's hardware callbacks:
 *   IRP_MJ_CREATE / CLOSE / CLEANUP  completed by the port itself
 *   IRP_MJ_READ                      HwRead into the SystemBuffer
 *   IRP_MJ_WRITE                     HwWrite from the SystemBuffer
 * As an export driver it is loaded before any miniport (its own DriverEntry only says
 * hello) and stays loaded while a miniport imports from it: stopping it first is refused.
 */
#define PORT_EXPORTS
#include "port.h"

#include <ntstrsafe.h>

#define PORT_TAG 'troP'

typedef struct _PORT_EXTENSION {
    PORT_MINIPORT_CALLBACKS Callbacks;
    PVOID Context;              /* the miniport's per-device storage */
    UNICODE_STRING LinkName;
    WCHAR LinkBuffer[64];
    ULONG Requests;
} PORT_EXTENSION, *PPORT_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD PortSelfUnload;
static DRIVER_UNLOAD PortMiniportUnload;
static DRIVER_DISPATCH PortDispatchOpenClose;
static DRIVER_DISPATCH PortDispatchReadWrite;

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    /* An export driver has no device of its own: its work starts when a miniport calls it. */
    DbgPrint("port: loaded; waiting for miniports to call PortInitialize\n");
    DriverObject->DriverUnload = PortSelfUnload;
    return STATUS_SUCCESS;
}

static VOID PortSelfUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("port: unloaded\n");
}

PORTAPI NTSTATUS PortInitialize(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath,
                                const PORT_MINIPORT_CALLBACKS *Callbacks)
{
    WCHAR nameBuffer[64];
    UNICODE_STRING deviceName;
    PDEVICE_OBJECT device;
    PPORT_EXTENSION ext;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    if (Callbacks == NULL || Callbacks->Size != sizeof(PORT_MINIPORT_CALLBACKS) || Callbacks->DeviceName == NULL ||
        Callbacks->HwRead == NULL || Callbacks->HwWrite == NULL)
        return STATUS_INVALID_PARAMETER;  /* a miniport built for another interface version */

    status = RtlStringCbPrintfW(nameBuffer, sizeof(nameBuffer), L"\\Device\\%ws", Callbacks->DeviceName);
    if (!NT_SUCCESS(status))
        return status;
    RtlInitUnicodeString(&deviceName, nameBuffer);
    /* The device belongs to the miniport's driver object: requests to it reach the
       dispatch routines installed below, which live here in port.sys. */
    status = IoCreateDevice(DriverObject, sizeof(PORT_EXTENSION), &deviceName, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    device->Flags |= DO_BUFFERED_IO;
    ext = (PPORT_EXTENSION)device->DeviceExtension;
    ext->Callbacks = *Callbacks;
    if (Callbacks->ContextSize != 0) {
        ext->Context = ExAllocatePoolWithTag(NonPagedPool, Callbacks->ContextSize, PORT_TAG);
        if (ext->Context == NULL) {
            IoDeleteDevice(device);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        RtlZeroMemory(ext->Context, Callbacks->ContextSize);
    }
    RtlStringCbPrintfW(ext->LinkBuffer, sizeof(ext->LinkBuffer), L"\\??\\%ws", Callbacks->DeviceName);
    RtlInitUnicodeString(&ext->LinkName, ext->LinkBuffer);
    status = IoCreateSymbolicLink(&ext->LinkName, &deviceName);
    if (NT_SUCCESS(status) && Callbacks->HwInitialize != NULL)
        status = Callbacks->HwInitialize(ext->Context);
    if (!NT_SUCCESS(status)) {
        if (ext->LinkName.Length != 0)
            IoDeleteSymbolicLink(&ext->LinkName);
        if (ext->Context != NULL)
            ExFreePoolWithTag(ext->Context, PORT_TAG);
        IoDeleteDevice(device);
        return status;
    }

    DriverObject->MajorFunction[IRP_MJ_CREATE] = PortDispatchOpenClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PortDispatchOpenClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = PortDispatchOpenClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = PortDispatchReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = PortDispatchReadWrite;
    DriverObject->DriverUnload = PortMiniportUnload;
    DbgPrint("port: miniport %wZ initialized as %wZ\n", &DriverObject->DriverName, &deviceName);
    return STATUS_SUCCESS;
}

static NTSTATUS PortDispatchOpenClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

static NTSTATUS PortDispatchReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPORT_EXTENSION ext = (PPORT_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    PUCHAR buffer = (PUCHAR)Irp->AssociatedIrp.SystemBuffer;
    ULONG done = 0;
    NTSTATUS status;

    ext->Requests++;
    if (stack->MajorFunction == IRP_MJ_READ)
        status = ext->Callbacks.HwRead(ext->Context, buffer, stack->Parameters.Read.Length, &done);
    else
        status = ext->Callbacks.HwWrite(ext->Context, buffer, stack->Parameters.Write.Length, &done);
    DbgPrint("port: %s of %lu byte(s) through the miniport: 0x%08X, %lu done\n",
             stack->MajorFunction == IRP_MJ_READ ? "read" : "write", stack->Parameters.Read.Length, status, done);
    return Complete(Irp, status, NT_SUCCESS(status) ? done : 0);
}

/* The miniport's DriverUnload, provided by the port: stop the hardware, then undo
   everything PortInitialize did. */
static VOID PortMiniportUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PPORT_EXTENSION ext = (PPORT_EXTENSION)device->DeviceExtension;
    if (ext->Callbacks.HwStop != NULL)
        ext->Callbacks.HwStop(ext->Context);
    DbgPrint("port: miniport %wZ unloading after %lu request(s)\n", &DriverObject->DriverName, ext->Requests);
    IoDeleteSymbolicLink(&ext->LinkName);
    if (ext->Context != NULL)
        ExFreePoolWithTag(ext->Context, PORT_TAG);
    IoDeleteDevice(device);
}
