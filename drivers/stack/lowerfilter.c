/*
 * lowerfilter.c - the lower filter of the device-stack sample (see stack_public.h).
 *
 * Lesson (seed 004): a lower filter sits *under* the function driver: it is loaded after the
 * bottom driver and before the function driver, and attaches to \Device\IosimStack while
 * nothing else is there. It sees only what the function driver lets through.
 * It shows both ways of passing an IRP down:
 *  - IoSkipCurrentIrpStackLocation when it has nothing to do afterwards: the driver below
 *    reuses this layer's stack location, and no completion routine runs here;
 *  - IoCopyCurrentIrpStackLocationToNext plus IoSetCompletionRoutine when it wants to see
 *    the result (here: STACK_PATH requests, to which it appends "lower" / "<lower").
 */
#include <ntddk.h>

#include "stack_public.h"

typedef struct _LOWER_EXTENSION {
    PDEVICE_OBJECT Lower;
    ULONG Skipped;
    ULONG Copied;
} LOWER_EXTENSION, *PLOWER_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD LowerUnload;
static DRIVER_DISPATCH LowerDispatch;
static IO_COMPLETION_ROUTINE LowerCompletion;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING target = RTL_CONSTANT_STRING(STACK_DEVICE_NAME);
    PDEVICE_OBJECT filter;
    PLOWER_EXTENSION ext;
    NTSTATUS status;
    ULONG i;

    UNREFERENCED_PARAMETER(RegistryPath);
    for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = LowerDispatch;
    DriverObject->DriverUnload = LowerUnload;
    status = IoCreateDevice(DriverObject, sizeof(LOWER_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &filter);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PLOWER_EXTENSION)filter->DeviceExtension;
    status = IoAttachDevice(filter, &target, &ext->Lower);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(filter);
        return status;
    }
    filter->Flags |= ext->Lower->Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
    filter->DeviceType = ext->Lower->DeviceType;
    filter->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint("lowerfilter: attached under whatever comes next\n");
    return STATUS_SUCCESS;
}

static VOID LowerUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT filter = DriverObject->DeviceObject;
    PLOWER_EXTENSION ext = (PLOWER_EXTENSION)filter->DeviceExtension;
    DbgPrint("lowerfilter: %lu IRP(s) skipped, %lu copied; detaching\n", ext->Skipped, ext->Copied);
    IoDetachDevice(ext->Lower);
    IoDeleteDevice(filter);
}

static NTSTATUS LowerCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    if (NT_SUCCESS(Irp->IoStatus.Status))
        StackAppendPath(Irp, "<lower");
    DbgPrint("lowerfilter: STACK_PATH completed below\n");
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS LowerDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PLOWER_EXTENSION ext = (PLOWER_EXTENSION)DeviceObject->DeviceExtension;
    DbgPrint("lowerfilter: major 0x%02X at stack location %d of %d\n", IoGetCurrentIrpStackLocation(Irp)->MajorFunction,
             Irp->CurrentLocation, Irp->StackCount);
    if (StackIsPathRequest(Irp)) {
        ext->Copied++;
        StackAppendPath(Irp, "lower");
        IoCopyCurrentIrpStackLocationToNext(Irp);
        IoSetCompletionRoutine(Irp, LowerCompletion, NULL, TRUE, TRUE, TRUE);
        return IoCallDriver(ext->Lower, Irp);
    }
    ext->Skipped++;
    IoSkipCurrentIrpStackLocation(Irp);
    return IoCallDriver(ext->Lower, Irp);
}
