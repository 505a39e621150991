/*
 * stack_function.c - the function driver of the device-stack sample (see stack_public.h).
 *
 * Lesson (seed 004): the function driver is the layer that knows what the device *means*.
 * It attaches above whatever is already on \Device\IosimStack (the lower filter, when it
 * was loaded first) and decides per request:
 *  - requests it refuses never go further: a write longer than 32 bytes fails here with
 *    STATUS_INVALID_BUFFER_SIZE, and an unknown control code with
 *    STATUS_INVALID_DEVICE_REQUEST; the layers below never see them;
 *  - everything else goes down with IoCopyCurrentIrpStackLocationToNext and a completion
 *    routine, which runs after the layers below have completed the IRP, in its own stack
 *    location (it appends "<function" to a STACK_PATH answer).
 * A completion routine that lets completion continue must propagate a pending return:
 * "if (Irp->PendingReturned) IoMarkIrpPending(Irp);".
 */
#include <ntddk.h>

#include "stack_public.h"

#define FUNCTION_MAX_WRITE 32

typedef struct _FUNCTION_EXTENSION {
    PDEVICE_OBJECT Lower;
} FUNCTION_EXTENSION, *PFUNCTION_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD FunctionUnload;
static DRIVER_DISPATCH FunctionDispatch;
static IO_COMPLETION_ROUTINE FunctionCompletion;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING target = RTL_CONSTANT_STRING(STACK_DEVICE_NAME);
    PDEVICE_OBJECT device;
    PFUNCTION_EXTENSION ext;
    NTSTATUS status;
    ULONG i;

    UNREFERENCED_PARAMETER(RegistryPath);
    for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = FunctionDispatch;
    DriverObject->DriverUnload = FunctionUnload;
    status = IoCreateDevice(DriverObject, sizeof(FUNCTION_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PFUNCTION_EXTENSION)device->DeviceExtension;
    status = IoAttachDevice(device, &target, &ext->Lower);
    if (!NT_SUCCESS(status)) {
        DbgPrint("stack_function: cannot attach to %wZ: 0x%08X (load stack_bottom first)\n", &target, status);
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= ext->Lower->Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
    device->DeviceType = ext->Lower->DeviceType;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint("stack_function: attached, the stack is now %d deep\n", device->StackSize);
    return STATUS_SUCCESS;
}

static VOID FunctionUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PFUNCTION_EXTENSION ext = (PFUNCTION_EXTENSION)device->DeviceExtension;
    IoDetachDevice(ext->Lower);
    IoDeleteDevice(device);
}

static NTSTATUS FunctionCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    if (StackIsPathRequest(Irp) && NT_SUCCESS(Irp->IoStatus.Status))
        StackAppendPath(Irp, "<function");
    DbgPrint("stack_function: completion routine, status 0x%08X\n", Irp->IoStatus.Status);
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS FunctionDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PFUNCTION_EXTENSION ext = (PFUNCTION_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS refuse = STATUS_SUCCESS;

    DbgPrint("stack_function: major 0x%02X at stack location %d of %d\n", stack->MajorFunction, Irp->CurrentLocation,
             Irp->StackCount);
    if (stack->MajorFunction == IRP_MJ_WRITE && stack->Parameters.Write.Length > FUNCTION_MAX_WRITE)
        refuse = STATUS_INVALID_BUFFER_SIZE;
    else if (stack->MajorFunction == IRP_MJ_DEVICE_CONTROL && !StackIsPathRequest(Irp))
        refuse = STATUS_INVALID_DEVICE_REQUEST;
    if (!NT_SUCCESS(refuse)) {
        Irp->IoStatus.Status = refuse;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return refuse;
    }
    if (StackIsPathRequest(Irp))
        StackAppendPath(Irp, "function");
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, FunctionCompletion, NULL, TRUE, TRUE, TRUE);
    return IoCallDriver(ext->Lower, Irp);
}
