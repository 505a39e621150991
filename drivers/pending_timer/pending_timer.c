/* pending_timer.c - a driver that pends every read and completes it later from a timer DPC.
 *
 * What it teaches (docs/async-io.md):
 *  - the pending protocol: IoMarkIrpPending, then return STATUS_PENDING; the IRP is
 *    completed later by other code - here a KTIMER's DPC at DISPATCH_LEVEL, in whatever
 *    thread happens to run, not the reader's;
 *  - a cancel-safe hold: the queue is guarded by the cancel spin lock, each held IRP has a
 *    cancel routine, and the DPC clears it (IoSetCancelRoutine(Irp, NULL)) before completing;
 *  - IRP_MJ_CLEANUP completes what the closing handle still has out (STATUS_CANCELLED), and
 *    DriverUnload cancels the timer: nothing of the driver runs after it is gone.
 * Buffered I/O: the DPC writes into Irp->AssociatedIrp.SystemBuffer; the I/O manager copies
 * it to the reader's buffer afterwards, in the reader's thread (a kernel APC). */
#include <ntddk.h>
#include <ntstrsafe.h>

#include "pending_timer_public.h"

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD PtUnload;
DRIVER_DISPATCH PtCreateClose;
DRIVER_DISPATCH PtRead;
DRIVER_DISPATCH PtCleanup;
DRIVER_CANCEL PtCancel;
KDEFERRED_ROUTINE PtTick;

typedef struct _PT_EXTENSION {
    LIST_ENTRY Queue; /* held reads, oldest first; guarded by the cancel spin lock */
    KTIMER Timer;
    KDPC Dpc;
    ULONG Ticks;
} PT_EXTENSION;

static PDEVICE_OBJECT g_device;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\PendingTimer");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\PendingTimer");
    PT_EXTENSION *ext;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, sizeof(PT_EXTENSION), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &g_device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_device);
        return status;
    }
    ext = (PT_EXTENSION *)g_device->DeviceExtension;
    InitializeListHead(&ext->Queue);
    KeInitializeTimer(&ext->Timer);
    KeInitializeDpc(&ext->Dpc, PtTick, ext);
    ext->Ticks = 0;
    g_device->Flags |= DO_BUFFERED_IO;
    g_device->Flags &= ~DO_DEVICE_INITIALIZING;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = PtCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PtCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = PtCleanup;
    DriverObject->MajorFunction[IRP_MJ_READ] = PtRead;
    DriverObject->DriverUnload = PtUnload;
    DbgPrint("pending_timer: loaded, reads complete %u ms after they arrive\n", PENDING_TIMER_DELAY_MS);
    return STATUS_SUCCESS;
}

VOID PtUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\PendingTimer");
    PT_EXTENSION *ext = (PT_EXTENSION *)g_device->DeviceExtension;
    UNREFERENCED_PARAMETER(DriverObject);
    KeCancelTimer(&ext->Timer); /* its DPC must not run after the code is gone */
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(g_device);
}

NTSTATUS PtCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static void ArmTimer(PT_EXTENSION *ext)
{
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)PENDING_TIMER_DELAY_MS * 10000;
    KeSetTimer(&ext->Timer, due, &ext->Dpc);
}

NTSTATUS PtRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PT_EXTENSION *ext = (PT_EXTENSION *)DeviceObject->DeviceExtension;
    KIRQL irql;
    BOOLEAN first;

    IoMarkIrpPending(Irp); /* before it can be completed by anyone else */
    IoAcquireCancelSpinLock(&irql);
    if (Irp->Cancel) {
        IoReleaseCancelSpinLock(irql);
        Irp->IoStatus.Status = STATUS_CANCELLED;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_PENDING; /* marked pending: say so, even though it is done */
    }
    IoSetCancelRoutine(Irp, PtCancel);
    first = IsListEmpty(&ext->Queue);
    InsertTailList(&ext->Queue, &Irp->Tail.Overlay.ListEntry);
    IoReleaseCancelSpinLock(irql);
    if (first)
        ArmTimer(ext);
    DbgPrint("pending_timer: read of %lu byte(s) pended\n", IoGetCurrentIrpStackLocation(Irp)->Parameters.Read.Length);
    return STATUS_PENDING;
}

/* The timer's DPC: at DISPATCH_LEVEL, in no particular thread. Completes the oldest read. */
VOID PtTick(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    PT_EXTENSION *ext = (PT_EXTENSION *)Context;
    PIRP irp = NULL;
    KIRQL irql;
    BOOLEAN more;
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);

    IoAcquireCancelSpinLock(&irql);
    while (!IsListEmpty(&ext->Queue)) {
        PLIST_ENTRY entry = RemoveHeadList(&ext->Queue);
        PIRP candidate = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        if (IoSetCancelRoutine(candidate, NULL) != NULL) {
            irp = candidate;
            break;
        }
        /* Its cancel routine is about to run and complete it: leave it to that. */
        InitializeListHead(entry);
    }
    more = !IsListEmpty(&ext->Queue);
    IoReleaseCancelSpinLock(irql);
    if (more)
        ArmTimer(ext);
    if (irp != NULL) {
        PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
        ULONG length = sp->Parameters.Read.Length;
        CHAR text[32];
        ULONG n = 0;
        ext->Ticks++;
        RtlStringCbPrintfA(text, sizeof(text), "tick %lu ", ext->Ticks);
        while (text[n] != 0)
            n++;
        if (n > length)
            n = length;
        RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, text, n);
        irp->IoStatus.Status = STATUS_SUCCESS;
        irp->IoStatus.Information = n;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    }
}

VOID PtCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    /* Called with the cancel spin lock held; the cancel routine is already cleared. */
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

/* The last handle of a file object closes: complete its reads still held. */
NTSTATUS PtCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PT_EXTENSION *ext = (PT_EXTENSION *)DeviceObject->DeviceExtension;
    PFILE_OBJECT file = IoGetCurrentIrpStackLocation(Irp)->FileObject;
    LIST_ENTRY done;
    PLIST_ENTRY entry;
    KIRQL irql;

    InitializeListHead(&done);
    IoAcquireCancelSpinLock(&irql);
    entry = ext->Queue.Flink;
    while (entry != &ext->Queue) {
        PIRP held = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        entry = entry->Flink;
        if (IoGetCurrentIrpStackLocation(held)->FileObject == file && IoSetCancelRoutine(held, NULL) != NULL) {
            RemoveEntryList(&held->Tail.Overlay.ListEntry);
            InsertTailList(&done, &held->Tail.Overlay.ListEntry);
        }
    }
    IoReleaseCancelSpinLock(irql);
    while (!IsListEmpty(&done)) {
        PIRP held = CONTAINING_RECORD(RemoveHeadList(&done), IRP, Tail.Overlay.ListEntry);
        held->IoStatus.Status = STATUS_CANCELLED;
        held->IoStatus.Information = 0;
        IoCompleteRequest(held, IO_NO_INCREMENT);
    }
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}
