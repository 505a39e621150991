/*
 * stack_bottom.c - the bottom of the device-stack sample (see stack_public.h).
 *
 * Lesson (seed 004, device stacks): this driver plays the part a bus driver's PDO plays in
 * a PnP stack: it owns the named device \Device\IosimStack (and the link \??\IosimStack)
 * that the other layers attach above, and it is the one that finally completes requests.
 * Its "device" is 64 bytes of memory: IRP_MJ_WRITE stores, IRP_MJ_READ returns what was
 * stored. It must be loaded first and unloaded last: deleting a device while others are
 * still attached above it is a bug (iosim reports it).
 */
#include <ntddk.h>

#include "stack_public.h"

#define BOTTOM_SIZE 64

typedef struct _BOTTOM_EXTENSION {
    UNICODE_STRING LinkName;
    UCHAR Data[BOTTOM_SIZE];
    ULONG Length;
} BOTTOM_EXTENSION, *PBOTTOM_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD BottomUnload;
static DRIVER_DISPATCH BottomDispatch;

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(STACK_DEVICE_NAME);
    PDEVICE_OBJECT device;
    PBOTTOM_EXTENSION ext;
    NTSTATUS status;
    ULONG i;

    UNREFERENCED_PARAMETER(RegistryPath);
    for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = BottomDispatch;
    DriverObject->DriverUnload = BottomUnload;
    status = IoCreateDevice(DriverObject, sizeof(BOTTOM_EXTENSION), &deviceName, FILE_DEVICE_UNKNOWN, 0, FALSE,
                            &device);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PBOTTOM_EXTENSION)device->DeviceExtension;
    RtlInitUnicodeString(&ext->LinkName, L"\\??\\IosimStack");
    status = IoCreateSymbolicLink(&ext->LinkName, &deviceName);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    DbgPrint("stack_bottom: %wZ created, the bottom of the stack\n", &deviceName);
    return STATUS_SUCCESS;
}

static VOID BottomUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PBOTTOM_EXTENSION ext = (PBOTTOM_EXTENSION)device->DeviceExtension;
    IoDeleteSymbolicLink(&ext->LinkName);
    IoDeleteDevice(device);
}

static NTSTATUS BottomDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PBOTTOM_EXTENSION ext = (PBOTTOM_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG length;

    DbgPrint("stack_bottom: major 0x%02X at stack location %d of %d\n", stack->MajorFunction,
             Irp->CurrentLocation, Irp->StackCount);
    switch (stack->MajorFunction) {
    case IRP_MJ_CREATE:
    case IRP_MJ_CLEANUP:
    case IRP_MJ_CLOSE:
        return Complete(Irp, STATUS_SUCCESS, 0);
    case IRP_MJ_READ:
        length = stack->Parameters.Read.Length < ext->Length ? stack->Parameters.Read.Length : ext->Length;
        RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, ext->Data, length);
        return Complete(Irp, STATUS_SUCCESS, length);
    case IRP_MJ_WRITE:
        length = stack->Parameters.Write.Length;
        if (length > BOTTOM_SIZE)
            return Complete(Irp, STATUS_INVALID_BUFFER_SIZE, 0);
        RtlCopyMemory(ext->Data, Irp->AssociatedIrp.SystemBuffer, length);
        ext->Length = length;
        return Complete(Irp, STATUS_SUCCESS, length);
    case IRP_MJ_DEVICE_CONTROL:
        if (StackIsPathRequest(Irp)) {
            Irp->IoStatus.Status = STATUS_SUCCESS;
            StackAppendPath(Irp, "bottom");
            IoCompleteRequest(Irp, IO_NO_INCREMENT);
            return STATUS_SUCCESS;
        }
        break;
    default:
        break;
    }
    return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
}
