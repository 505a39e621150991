/* async_test.c - the test driver of tests/async: completes, pends and holds IRPs as each
 * request's input says (see async_test_public.h), so the tests can walk the requester-side
 * rules (copy-back, IO_STATUS_BLOCK, events, APCs, completion packets, cancellation).
 *
 * Held IRPs wait on a list under a spin lock; each remembers its order in
 * Tail.Overlay.DriverContext. A KTIMER's DPC completes the oldest one due; a cancel routine
 * (IoAcquireCancelSpinLock protocol) takes a held IRP off the list and completes it with
 * STATUS_CANCELLED. */
#include <ntddk.h>

#include "async_test_public.h"

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD AsyncUnload;
DRIVER_DISPATCH AsyncCreateClose;
DRIVER_DISPATCH AsyncControl;
DRIVER_DISPATCH AsyncRead;
DRIVER_CANCEL AsyncCancel;
KDEFERRED_ROUTINE AsyncTimerDpc;
IO_WORKITEM_ROUTINE AsyncWorkItem;

typedef struct _ASYNC_EXTENSION {
    KSPIN_LOCK Lock;
    LIST_ENTRY Held;
    ULONG HeldCount;
    KTIMER Timer;
    KDPC Dpc;
} ASYNC_EXTENSION;

/* DriverContext[0]: the order (pool copy); DriverContext[1]: 1 if due from the timer. */
#define ORDER_OF(irp) ((ASYNC_ORDER *)(irp)->Tail.Overlay.DriverContext[0])

static PDEVICE_OBJECT g_device;

static void Fill(PIRP Irp, ULONG Count)
{
    PUCHAR out = (PUCHAR)Irp->AssociatedIrp.SystemBuffer;
    ULONG i;
    if (out == NULL)
        return;
    for (i = 0; i < Count; ++i)
        out[i] = (UCHAR)('A' + i % 26);
}

static void Finish(PIRP Irp, NTSTATUS Status, ULONG Information)
{
    ASYNC_ORDER *order = ORDER_OF(Irp);
    Fill(Irp, Information);
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    if (order != NULL)
        ExFreePoolWithTag(order, 'tsyA');
    Irp->Tail.Overlay.DriverContext[0] = NULL;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static void ArmTimer(ASYNC_EXTENSION *ext, ULONG DelayMs)
{
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)DelayMs * 10000;
    KeSetTimer(&ext->Timer, due, &ext->Dpc);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\AsyncTest");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\AsyncTest");
    ASYNC_EXTENSION *ext;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, sizeof(ASYNC_EXTENSION), &name, ASYNC_TEST_DEVICE_TYPE, 0, FALSE, &g_device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_device);
        return status;
    }
    ext = (ASYNC_EXTENSION *)g_device->DeviceExtension;
    KeInitializeSpinLock(&ext->Lock);
    InitializeListHead(&ext->Held);
    ext->HeldCount = 0;
    KeInitializeTimer(&ext->Timer);
    KeInitializeDpc(&ext->Dpc, AsyncTimerDpc, ext);
    g_device->Flags |= DO_BUFFERED_IO;
    g_device->Flags &= ~DO_DEVICE_INITIALIZING;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = AsyncCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = AsyncCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = AsyncCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = AsyncControl;
    DriverObject->MajorFunction[IRP_MJ_READ] = AsyncRead;
    DriverObject->DriverUnload = AsyncUnload;
    return STATUS_SUCCESS;
}

VOID AsyncUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\AsyncTest");
    ASYNC_EXTENSION *ext = (ASYNC_EXTENSION *)g_device->DeviceExtension;
    UNREFERENCED_PARAMETER(DriverObject);
    KeCancelTimer(&ext->Timer);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(g_device);
    g_device = NULL;
}

NTSTATUS AsyncCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

/* Puts a pended IRP on the held list (cancelable if asked); arms the timer for it. */
static void Hold(ASYNC_EXTENSION *ext, PIRP Irp, BOOLEAN Cancelable, ULONG DelayMs)
{
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    if (Cancelable) {
        if (Irp->Cancel) {
            /* Cancelled before it was queued: complete it here (the cancel routine will not run). */
            IoReleaseCancelSpinLock(irql);
            Finish(Irp, STATUS_CANCELLED, 0);
            return;
        }
        IoSetCancelRoutine(Irp, AsyncCancel);
    }
    InsertTailList(&ext->Held, &Irp->Tail.Overlay.ListEntry);
    ext->HeldCount++;
    Irp->Tail.Overlay.DriverContext[1] = (PVOID)(ULONG_PTR)(DelayMs != 0);
    Irp->Tail.Overlay.DriverContext[2] = (PVOID)(ULONG_PTR)(Cancelable != 0);
    IoReleaseCancelSpinLock(irql);
    if (DelayMs != 0)
        ArmTimer(ext, DelayMs);
}

/* Takes the oldest held IRP due from the timer (`timed`) or held until released (not
 * `timed`), clearing its cancel routine; one being cancelled is skipped (its cancel routine
 * completes it). NULL if none. */
static PIRP TakeHeld(ASYNC_EXTENSION *ext, BOOLEAN timed)
{
    KIRQL irql;
    PLIST_ENTRY entry;
    IoAcquireCancelSpinLock(&irql);
    for (entry = ext->Held.Flink; entry != &ext->Held; entry = entry->Flink) {
        PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        if ((irp->Tail.Overlay.DriverContext[1] != NULL) != (timed != FALSE))
            continue;
        if (irp->Tail.Overlay.DriverContext[2] != NULL && IoSetCancelRoutine(irp, NULL) == NULL)
            continue; /* its cancel routine owns it now */
        RemoveEntryList(entry);
        ext->HeldCount--;
        IoReleaseCancelSpinLock(irql);
        return irp;
    }
    IoReleaseCancelSpinLock(irql);
    return NULL;
}

static void CompleteHeld(PIRP Irp)
{
    ASYNC_ORDER *order = ORDER_OF(Irp);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (order != NULL) {
        Finish(Irp, order->Final, order->Information);
    } else {
        /* a read: the whole length, successfully */
        Finish(Irp, STATUS_SUCCESS, sp->Parameters.Read.Length);
    }
}

VOID AsyncTimerDpc(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    ASYNC_EXTENSION *ext = (ASYNC_EXTENSION *)Context;
    PIRP irp;
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    irp = TakeHeld(ext, TRUE);
    if (irp != NULL)
        CompleteHeld(irp);
    /* More due later: one timer, re-armed for the next (each waits its own delay again). */
    {
        KIRQL irql;
        PLIST_ENTRY entry;
        ULONG next = 0;
        IoAcquireCancelSpinLock(&irql);
        for (entry = ext->Held.Flink; entry != &ext->Held; entry = entry->Flink) {
            PIRP held = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
            if (held->Tail.Overlay.DriverContext[1] != NULL) {
                next = ORDER_OF(held) != NULL ? ORDER_OF(held)->DelayMs : 10;
                break;
            }
        }
        IoReleaseCancelSpinLock(irql);
        if (next != 0)
            ArmTimer(ext, next);
    }
}

VOID AsyncCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ASYNC_EXTENSION *ext = (ASYNC_EXTENSION *)DeviceObject->DeviceExtension;
    /* Called with the cancel spin lock held and the cancel routine already cleared. */
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    ext->HeldCount--;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    Finish(Irp, STATUS_CANCELLED, 0);
}

NTSTATUS AsyncControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ASYNC_EXTENSION *ext = (ASYNC_EXTENSION *)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    ASYNC_ORDER *order;
    PIRP held;

    Irp->Tail.Overlay.DriverContext[0] = NULL;
    switch (code) {
    case IOCTL_ASYNC_ORDER:
        if (sp->Parameters.DeviceIoControl.InputBufferLength < sizeof(ASYNC_ORDER)) {
            Finish(Irp, STATUS_INVALID_PARAMETER, 0);
            return STATUS_INVALID_PARAMETER;
        }
        order = (ASYNC_ORDER *)ExAllocatePoolWithTag(NonPagedPool, sizeof(ASYNC_ORDER), 'tsyA');
        if (order == NULL) {
            Finish(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        RtlCopyMemory(order, Irp->AssociatedIrp.SystemBuffer, sizeof(ASYNC_ORDER));
        if (order->Information > sp->Parameters.DeviceIoControl.OutputBufferLength)
            order->Information = sp->Parameters.DeviceIoControl.OutputBufferLength;
        Irp->Tail.Overlay.DriverContext[0] = order;
        if (order->Pend == 0) {
            NTSTATUS ret = order->Return;
            Finish(Irp, order->Final, order->Information);
            return ret;
        } else if (order->Pend == 3) {
            /* Completed by an I/O work item, in a System worker thread. */
            PIO_WORKITEM item = IoAllocateWorkItem(DeviceObject);
            IoMarkIrpPending(Irp);
            Irp->Tail.Overlay.DriverContext[3] = item;
            IoQueueWorkItem(item, AsyncWorkItem, DelayedWorkQueue, Irp);
            return STATUS_PENDING;
        } else {
            NTSTATUS ret = order->Return;
            if (order->Pend == 1)
                IoMarkIrpPending(Irp);
            Hold(ext, Irp, order->Cancelable != 0, order->DelayMs);
            return ret;
        }
    case IOCTL_ASYNC_RELEASE: {
        ULONG released = 0;
        while ((held = TakeHeld(ext, FALSE)) != NULL) {
            CompleteHeld(held);
            released++;
        }
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
    }
    case IOCTL_ASYNC_COUNT:
        if (sp->Parameters.DeviceIoControl.OutputBufferLength < sizeof(ULONG)) {
            Finish(Irp, STATUS_BUFFER_TOO_SMALL, 0);
            return STATUS_BUFFER_TOO_SMALL;
        }
        *(ULONG *)Irp->AssociatedIrp.SystemBuffer = ext->HeldCount;
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = sizeof(ULONG);
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
    default:
        Finish(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}

VOID AsyncWorkItem(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    PIRP irp = (PIRP)Context;
    PIO_WORKITEM item = (PIO_WORKITEM)irp->Tail.Overlay.DriverContext[3];
    ASYNC_ORDER *order = ORDER_OF(irp);
    UNREFERENCED_PARAMETER(DeviceObject);
    irp->Tail.Overlay.DriverContext[3] = NULL;
    Finish(irp, order->Final, order->Information);
    IoFreeWorkItem(item);
}

NTSTATUS AsyncRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    ASYNC_EXTENSION *ext = (ASYNC_EXTENSION *)DeviceObject->DeviceExtension;
    Irp->Tail.Overlay.DriverContext[0] = NULL;
    IoMarkIrpPending(Irp);
    Hold(ext, Irp, TRUE, 10);
    return STATUS_PENDING;
}
