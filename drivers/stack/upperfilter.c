/*
 * upperfilter.c - the upper filter of the device-stack sample (see stack_public.h).
 *
 * Lesson (seed 004): an upper filter is loaded after the function driver and attaches to
 * the top of \Device\IosimStack, so every request an app sends to \\.\IosimStack reaches
 * it first - even requests the function driver will refuse. It logs each IRP on the way
 * down and again in its completion routine on the way back up, then lets completion
 * continue (propagating a pending return, as every such routine must). Unloaded first,
 * it detaches before deleting its device.
 */
#include <ntddk.h>

#include "stack_public.h"

typedef struct _UPPER_EXTENSION {
    PDEVICE_OBJECT Lower;
    ULONG Seen;
} UPPER_EXTENSION, *PUPPER_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD UpperUnload;
static DRIVER_DISPATCH UpperDispatch;
static IO_COMPLETION_ROUTINE UpperCompletion;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING target = RTL_CONSTANT_STRING(STACK_DEVICE_NAME);
    PDEVICE_OBJECT filter;
    PUPPER_EXTENSION ext;
    NTSTATUS status;
    ULONG i;

    UNREFERENCED_PARAMETER(RegistryPath);
    for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = UpperDispatch;
    DriverObject->DriverUnload = UpperUnload;
    status = IoCreateDevice(DriverObject, sizeof(UPPER_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &filter);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PUPPER_EXTENSION)filter->DeviceExtension;
    status = IoAttachDevice(filter, &target, &ext->Lower);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(filter);
        return status;
    }
    filter->Flags |= ext->Lower->Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
    filter->DeviceType = ext->Lower->DeviceType;
    filter->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint("upperfilter: attached on top\n");
    return STATUS_SUCCESS;
}

static VOID UpperUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT filter = DriverObject->DeviceObject;
    PUPPER_EXTENSION ext = (PUPPER_EXTENSION)filter->DeviceExtension;
    DbgPrint("upperfilter: saw %lu IRP(s); detaching\n", ext->Seen);
    IoDetachDevice(ext->Lower);
    IoDeleteDevice(filter);
}

static NTSTATUS UpperCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    if (StackIsPathRequest(Irp) && NT_SUCCESS(Irp->IoStatus.Status))
        StackAppendPath(Irp, "<upper");
    DbgPrint("upperfilter: major 0x%02X completed with 0x%08X, Information %Iu\n", (UCHAR)(ULONG_PTR)Context,
             Irp->IoStatus.Status, Irp->IoStatus.Information);
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS UpperDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PUPPER_EXTENSION ext = (PUPPER_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ext->Seen++;
    DbgPrint("upperfilter: major 0x%02X at stack location %d of %d\n", stack->MajorFunction, Irp->CurrentLocation,
             Irp->StackCount);
    if (StackIsPathRequest(Irp))
        StackAppendPath(Irp, "upper");
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, UpperCompletion, (PVOID)(ULONG_PTR)stack->MajorFunction, TRUE, TRUE, TRUE);
    return IoCallDriver(ext->Lower, Irp);
}
