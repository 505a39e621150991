/* csqread.c - reads held in a cancel-safe queue and completed by a system thread.
 *
 * What it teaches (docs/async-io.md, "Cancel-safe queues"):
 *  - IoCsqInitializeEx / IoCsqInsertIrpEx: the driver supplies the queue (a LIST_ENTRY of
 *    IRPs through Irp->Tail.Overlay.ListEntry) and its lock (a spin lock) as callbacks; the
 *    library marks the IRP pending and sets its own cancel routine. The driver never calls
 *    IoSetCancelRoutine nor touches the cancel spin lock: CancelIo, a process exit or a
 *    closing handle cannot race with the thread taking an IRP out.
 *  - CsqInsertIrpEx may refuse: the queue holds at most CSQREAD_MAX_READS reads, and
 *    IoCsqInsertIrpEx returns the refusal, which the dispatch routine completes the IRP with.
 *  - A system thread (PsCreateSystemThread) waits for work, takes the oldest read
 *    (IoCsqRemoveNextIrp) for each written message and completes it at PASSIVE_LEVEL.
 *  - IoCsqRemoveIrp with an IO_CSQ_IRP_CONTEXT takes one particular IRP back - unless it
 *    was cancelled meanwhile: then it returns NULL (IOCTL_CSQREAD_PARK / _UNPARK).
 *  - IRP_MJ_CLEANUP drains the closing file's requests (IoCsqRemoveNextIrp with the file
 *    object as PeekContext); DriverUnload stops the thread and waits for it.
 * Shared with apps/csq_client: csqread_public.h. */
#include <ntddk.h>

#include "csqread_public.h"

typedef struct _CR_QUEUE {
    IO_CSQ Csq;
    LIST_ENTRY Irps;   /* oldest first */
    KSPIN_LOCK Lock;
    ULONG Count;
    ULONG Limit;       /* 0: no limit */
} CR_QUEUE;

typedef struct _CR_MESSAGE {
    ULONG Length;
    CHAR Text[CSQREAD_MESSAGE_MAX];
} CR_MESSAGE;

#define CR_MAX_MESSAGES 8

typedef struct _CR_EXTENSION {
    CR_QUEUE Reads;
    CR_QUEUE Parked;
    IO_CSQ_IRP_CONTEXT ParkedContext; /* the one parked request's context */
    BOOLEAN Parking;                  /* ParkedContext is in use */
    KSPIN_LOCK MessageLock;           /* guards the message ring and the counters */
    CR_MESSAGE Messages[CR_MAX_MESSAGES];
    ULONG First, Used;
    ULONG Completed, Cancelled;
    KEVENT Kick;                      /* a read or a message arrived, or stop */
    BOOLEAN Stop;
    PETHREAD Thread;
} CR_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD CrUnload;
DRIVER_DISPATCH CrCreateClose;
DRIVER_DISPATCH CrRead;
DRIVER_DISPATCH CrWrite;
DRIVER_DISPATCH CrControl;
DRIVER_DISPATCH CrCleanup;
KSTART_ROUTINE CrThread;
IO_CSQ_INSERT_IRP_EX CrInsert;
IO_CSQ_REMOVE_IRP CrRemove;
IO_CSQ_PEEK_NEXT_IRP CrPeek;
IO_CSQ_ACQUIRE_LOCK CrAcquire;
IO_CSQ_RELEASE_LOCK CrRelease;
IO_CSQ_COMPLETE_CANCELED_IRP CrCompleteCanceled;

static PDEVICE_OBJECT g_device;

static CR_EXTENSION *Ext(void) { return (CR_EXTENSION *)g_device->DeviceExtension; }

/* ---- the queue callbacks (called by the IoCsq* library) ---- */

NTSTATUS CrInsert(PIO_CSQ Csq, PIRP Irp, PVOID InsertContext)
{
    CR_QUEUE *q = CONTAINING_RECORD(Csq, CR_QUEUE, Csq);
    UNREFERENCED_PARAMETER(InsertContext);
    if (q->Limit != 0 && q->Count >= q->Limit)
        return STATUS_INSUFFICIENT_RESOURCES; /* IoCsqInsertIrpEx returns it; the IRP is not queued */
    InsertTailList(&q->Irps, &Irp->Tail.Overlay.ListEntry);
    q->Count++;
    return STATUS_SUCCESS;
}

VOID CrRemove(PIO_CSQ Csq, PIRP Irp)
{
    CR_QUEUE *q = CONTAINING_RECORD(Csq, CR_QUEUE, Csq);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    q->Count--;
}

/* The IRP after Irp (the first if Irp is NULL) whose file object is PeekContext (any if NULL). */
PIRP CrPeek(PIO_CSQ Csq, PIRP Irp, PVOID PeekContext)
{
    CR_QUEUE *q = CONTAINING_RECORD(Csq, CR_QUEUE, Csq);
    PLIST_ENTRY entry = Irp == NULL ? q->Irps.Flink : Irp->Tail.Overlay.ListEntry.Flink;
    for (; entry != &q->Irps; entry = entry->Flink) {
        PIRP candidate = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        if (PeekContext == NULL || IoGetCurrentIrpStackLocation(candidate)->FileObject == (PFILE_OBJECT)PeekContext)
            return candidate;
    }
    return NULL;
}

VOID CrAcquire(PIO_CSQ Csq, PKIRQL Irql)
{
    KeAcquireSpinLock(&CONTAINING_RECORD(Csq, CR_QUEUE, Csq)->Lock, Irql);
}

VOID CrRelease(PIO_CSQ Csq, KIRQL Irql)
{
    KeReleaseSpinLock(&CONTAINING_RECORD(Csq, CR_QUEUE, Csq)->Lock, Irql);
}

VOID CrCompleteCanceled(PIO_CSQ Csq, PIRP Irp)
{
    CR_EXTENSION *ext = Ext();
    KIRQL irql;
    UNREFERENCED_PARAMETER(Csq);
    KeAcquireSpinLock(&ext->MessageLock, &irql);
    ext->Cancelled++;
    KeReleaseSpinLock(&ext->MessageLock, irql);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static void InitQueue(CR_QUEUE *q, ULONG limit)
{
    InitializeListHead(&q->Irps);
    KeInitializeSpinLock(&q->Lock);
    q->Count = 0;
    q->Limit = limit;
    IoCsqInitializeEx(&q->Csq, CrInsert, CrRemove, CrPeek, CrAcquire, CrRelease, CrCompleteCanceled);
}

/* ---- the system thread: one message, one read ---- */

VOID CrThread(PVOID Context)
{
    CR_EXTENSION *ext = (CR_EXTENSION *)Context;
    DbgPrint("csqread: system thread started\n");
    for (;;) {
        KeWaitForSingleObject(&ext->Kick, Executive, KernelMode, FALSE, NULL);
        if (ext->Stop)
            break;
        for (;;) {
            CR_MESSAGE message;
            KIRQL irql;
            PIRP irp;
            ULONG n;
            if (ext->Used == 0)  /* only this thread takes messages out */
                break;
            irp = IoCsqRemoveNextIrp(&ext->Reads.Csq, NULL);
            if (irp == NULL)
                break;  /* the message waits for the next read */
            KeAcquireSpinLock(&ext->MessageLock, &irql);
            message = ext->Messages[ext->First];
            ext->First = (ext->First + 1) % CR_MAX_MESSAGES;
            ext->Used--;
            ext->Completed++;
            KeReleaseSpinLock(&ext->MessageLock, irql);
            n = message.Length;
            if (n > IoGetCurrentIrpStackLocation(irp)->Parameters.Read.Length)
                n = IoGetCurrentIrpStackLocation(irp)->Parameters.Read.Length;
            RtlCopyMemory(irp->AssociatedIrp.SystemBuffer, message.Text, n);
            irp->IoStatus.Status = STATUS_SUCCESS;
            irp->IoStatus.Information = n;
            DbgPrint("csqread: system thread completes a read with %lu byte(s)\n", n);
            IoCompleteRequest(irp, IO_NO_INCREMENT);
        }
    }
    DbgPrint("csqread: system thread stopping\n");
    PsTerminateSystemThread(STATUS_SUCCESS);
}

/* ---- dispatch ---- */

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\CsqRead");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\CsqRead");
    CR_EXTENSION *ext;
    HANDLE thread;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, sizeof(CR_EXTENSION), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &g_device);
    if (!NT_SUCCESS(status))
        return status;
    ext = Ext();
    InitQueue(&ext->Reads, CSQREAD_MAX_READS);
    InitQueue(&ext->Parked, 0);
    KeInitializeSpinLock(&ext->MessageLock);
    KeInitializeEvent(&ext->Kick, SynchronizationEvent, FALSE);
    status = PsCreateSystemThread(&thread, THREAD_ALL_ACCESS, NULL, NULL, NULL, CrThread, ext);
    if (NT_SUCCESS(status)) {
        status = ObReferenceObjectByHandle(thread, SYNCHRONIZE, *PsThreadType, KernelMode, (PVOID *)&ext->Thread, NULL);
        ZwClose(thread);
    }
    if (NT_SUCCESS(status))
        status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        if (ext->Thread != NULL) {
            ext->Stop = TRUE;
            KeSetEvent(&ext->Kick, IO_NO_INCREMENT, FALSE);
            KeWaitForSingleObject(ext->Thread, Executive, KernelMode, FALSE, NULL);
            ObDereferenceObject(ext->Thread);
        }
        IoDeleteDevice(g_device);
        return status;
    }
    g_device->Flags |= DO_BUFFERED_IO;
    g_device->Flags &= ~DO_DEVICE_INITIALIZING;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = CrCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = CrCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = CrCleanup;
    DriverObject->MajorFunction[IRP_MJ_READ] = CrRead;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = CrWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = CrControl;
    DriverObject->DriverUnload = CrUnload;
    return STATUS_SUCCESS;
}

VOID CrUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\CsqRead");
    CR_EXTENSION *ext = Ext();
    UNREFERENCED_PARAMETER(DriverObject);
    /* No handle is open, so IRP_MJ_CLEANUP emptied both queues: only the thread is left. */
    ext->Stop = TRUE;
    KeSetEvent(&ext->Kick, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(ext->Thread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(ext->Thread);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(g_device);
}

static NTSTATUS Complete(PIRP Irp, NTSTATUS status, ULONG_PTR information)
{
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

NTSTATUS CrCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

NTSTATUS CrRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    CR_EXTENSION *ext = (CR_EXTENSION *)DeviceObject->DeviceExtension;
    NTSTATUS status = IoCsqInsertIrpEx(&ext->Reads.Csq, Irp, NULL, NULL);
    if (!NT_SUCCESS(status)) {
        DbgPrint("csqread: queue full, read refused\n");
        return Complete(Irp, status, 0);  /* not marked pending: complete it and return the status */
    }
    KeSetEvent(&ext->Kick, IO_NO_INCREMENT, FALSE);
    return STATUS_PENDING;  /* IoCsqInsertIrpEx marked it pending */
}

NTSTATUS CrWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    CR_EXTENSION *ext = (CR_EXTENSION *)DeviceObject->DeviceExtension;
    ULONG length = IoGetCurrentIrpStackLocation(Irp)->Parameters.Write.Length;
    CR_MESSAGE *slot;
    KIRQL irql;

    if (length > CSQREAD_MESSAGE_MAX)
        length = CSQREAD_MESSAGE_MAX;
    KeAcquireSpinLock(&ext->MessageLock, &irql);
    if (ext->Used == CR_MAX_MESSAGES) {
        KeReleaseSpinLock(&ext->MessageLock, irql);
        return Complete(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    }
    slot = &ext->Messages[(ext->First + ext->Used) % CR_MAX_MESSAGES];
    slot->Length = length;
    RtlCopyMemory(slot->Text, Irp->AssociatedIrp.SystemBuffer, length);
    ext->Used++;
    KeReleaseSpinLock(&ext->MessageLock, irql);
    KeSetEvent(&ext->Kick, IO_NO_INCREMENT, FALSE);
    return Complete(Irp, STATUS_SUCCESS, length);
}

NTSTATUS CrControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    CR_EXTENSION *ext = (CR_EXTENSION *)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    switch (sp->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_CSQREAD_PARK:
        if (ext->Parking && ext->ParkedContext.Irp != NULL)
            return Complete(Irp, STATUS_DEVICE_BUSY, 0);
        ext->Parking = TRUE;
        IoCsqInsertIrpEx(&ext->Parked.Csq, Irp, &ext->ParkedContext, NULL);
        return STATUS_PENDING;
    case IOCTL_CSQREAD_UNPARK: {
        PIRP parked = ext->Parking ? IoCsqRemoveIrp(&ext->Parked.Csq, &ext->ParkedContext) : NULL;
        ext->Parking = FALSE;
        if (parked == NULL)
            return Complete(Irp, STATUS_NOT_FOUND, 0);  /* never parked, or cancelled meanwhile */
        Complete(parked, STATUS_SUCCESS, 0);
        return Complete(Irp, STATUS_SUCCESS, 0);
    }
    case IOCTL_CSQREAD_COUNT: {
        CSQREAD_COUNTS counts;
        KIRQL irql;
        if (sp->Parameters.DeviceIoControl.OutputBufferLength < sizeof(counts))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        KeAcquireSpinLock(&ext->MessageLock, &irql);
        counts.QueuedReads = ext->Reads.Count;
        counts.Messages = ext->Used;
        counts.Completed = ext->Completed;
        counts.Cancelled = ext->Cancelled;
        KeReleaseSpinLock(&ext->MessageLock, irql);
        RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, &counts, sizeof(counts));
        return Complete(Irp, STATUS_SUCCESS, sizeof(counts));
    }
    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* The last handle of a file object closes: its requests still queued end now. */
NTSTATUS CrCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    CR_EXTENSION *ext = (CR_EXTENSION *)DeviceObject->DeviceExtension;
    PFILE_OBJECT file = IoGetCurrentIrpStackLocation(Irp)->FileObject;
    PIRP held;
    while ((held = IoCsqRemoveNextIrp(&ext->Reads.Csq, file)) != NULL)
        Complete(held, STATUS_CANCELLED, 0);
    while ((held = IoCsqRemoveNextIrp(&ext->Parked.Csq, file)) != NULL)
        Complete(held, STATUS_CANCELLED, 0);
    return Complete(Irp, STATUS_SUCCESS, 0);
}
