/*
 * logfilter.c - sample filter driver: sits on top of another device and logs every IRP.
 *
 * Lesson (seed 004, "device stacks"): a filter creates an unnamed device and attaches it
 * to the top of an existing stack (here the hello sample's \Device\IosimHello). From then
 * on every request to that name reaches the filter first: it logs the IRP, copies its
 * stack location to the next one, sets a completion routine, and passes the IRP down with
 * IoCallDriver. The completion routine runs on the way back up, after the lower driver
 * completes, and sees its own stack location. DriverUnload detaches before deleting.
 */
#include <ntddk.h>

typedef struct _FILTER_EXTENSION {
    PDEVICE_OBJECT Lower; /* the device we are attached to */
    ULONG Seen;
} FILTER_EXTENSION, *PFILTER_EXTENSION;

static const char *MajorName(UCHAR major)
{
    switch (major) {
    case IRP_MJ_CREATE: return "IRP_MJ_CREATE";
    case IRP_MJ_CLOSE: return "IRP_MJ_CLOSE";
    case IRP_MJ_READ: return "IRP_MJ_READ";
    case IRP_MJ_WRITE: return "IRP_MJ_WRITE";
    case IRP_MJ_DEVICE_CONTROL: return "IRP_MJ_DEVICE_CONTROL";
    case IRP_MJ_CLEANUP: return "IRP_MJ_CLEANUP";
    default: return "another IRP";
    }
}

static NTSTATUS FilterCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    /* The rule for a routine that does not return STATUS_MORE_PROCESSING_REQUIRED: if a
       lower driver pended the IRP, mark it pending at this level too. */
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    DbgPrint("logfilter: %s completed below with 0x%08X, Information %Iu\n", MajorName((UCHAR)(ULONG_PTR)Context),
             Irp->IoStatus.Status, Irp->IoStatus.Information);
    return STATUS_SUCCESS; /* STATUS_CONTINUE_COMPLETION: let completion go on up */
}

static NTSTATUS FilterPass(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PFILTER_EXTENSION ext = (PFILTER_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ext->Seen++;
    DbgPrint("logfilter: %s passing down (stack location %d of %d)\n", MajorName(stack->MajorFunction),
             Irp->CurrentLocation, Irp->StackCount);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, FilterCompletion, (PVOID)(ULONG_PTR)stack->MajorFunction, TRUE, TRUE, TRUE);
    return IoCallDriver(ext->Lower, Irp);
}

static VOID FilterUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT filter = DriverObject->DeviceObject;
    PFILTER_EXTENSION ext = (PFILTER_EXTENSION)filter->DeviceExtension;
    DbgPrint("logfilter: saw %lu IRP(s); detaching\n", ext->Seen);
    IoDetachDevice(ext->Lower);
    IoDeleteDevice(filter);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING target = RTL_CONSTANT_STRING(L"\\Device\\IosimHello");
    PDEVICE_OBJECT filter;
    PFILTER_EXTENSION ext;
    NTSTATUS status;
    ULONG i;

    for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = FilterPass;
    DriverObject->DriverUnload = FilterUnload;

    status = IoCreateDevice(DriverObject, sizeof(FILTER_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &filter);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PFILTER_EXTENSION)filter->DeviceExtension;
    status = IoAttachDevice(filter, &target, &ext->Lower);
    if (!NT_SUCCESS(status)) {
        DbgPrint("logfilter: cannot attach to %wZ: 0x%08X (load the hello driver first)\n", &target, status);
        IoDeleteDevice(filter);
        return status;
    }
    /* A filter copies the transfer flags of the device below, so the I/O manager sets up
       requests the way the lower driver expects them. */
    filter->Flags |= ext->Lower->Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
    filter->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint("logfilter: attached to %wZ\n", &target);
    return STATUS_SUCCESS;
}
