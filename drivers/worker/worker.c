/*
 * worker.c - sample driver: a system thread and a work item, driven by DeviceIoControl.
 *
 * Lesson (system threads and system worker threads):
 *  - DriverEntry starts a system thread with PsCreateSystemThread. The handle it returns is
 *    turned into a pointer to the thread object (ObReferenceObjectByHandle with
 *    *PsThreadType) and closed at once (ZwClose): the pointer is what DriverUnload waits on.
 *  - The thread sleeps on a synchronization event (KeWaitForSingleObject) until a request
 *    wakes it, does one round of work, and signals a second event the request waits for.
 *    It ends itself with PsTerminateSystemThread when DriverUnload asks it to stop.
 *  - A work item (IoAllocateWorkItem / IoQueueWorkItem) runs its routine in one of the
 *    system's worker threads; the I/O manager keeps the device referenced until the
 *    routine returns. The driver frees it in DriverUnload.
 *  - The round counter is shared by the thread, the work-item routine and the dispatch
 *    routine, so it is guarded by a FAST_MUTEX (ExAcquireFastMutex raises to APC_LEVEL).
 *  - DriverUnload must stop everything it started: set the stop flag, wake the thread,
 *    KeWaitForSingleObject on the thread object, ObDereferenceObject it. The
 *    IOCTL_WORKER_FORGET_TO_STOP request makes it skip that, to show what follows
 *    (DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS).
 * The codes and the answer are in worker_public.h, shared with apps/worker_client.
 */
#include <ntddk.h>

#include "worker_public.h"

typedef struct _WORKER_EXTENSION {
    UNICODE_STRING LinkName;
    PETHREAD Thread;        /* the system thread's object, referenced */
    KEVENT WakeEvent;       /* set by a request: there is work for the thread */
    KEVENT RoundDone;       /* set by the thread or the work item after one round */
    BOOLEAN Stop;           /* DriverUnload asks the thread to end */
    BOOLEAN ForgetToStop;   /* the mistake IOCTL_WORKER_FORGET_TO_STOP asks for */
    PIO_WORKITEM WorkItem;
    FAST_MUTEX Lock;        /* guards Rounds and Last */
    ULONG Rounds;
    WORKER_RESULT Last;
    KSPIN_LOCK SpinLock;    /* only for the bad-IRQL mistake */
} WORKER_EXTENSION, *PWORKER_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD WorkerUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH WorkerCreateClose;
_Dispatch_type_(IRP_MJ_DEVICE_CONTROL) DRIVER_DISPATCH WorkerDeviceControl;
KSTART_ROUTINE WorkerThread;
IO_WORKITEM_ROUTINE WorkerItemRoutine;
IO_WORKITEM_ROUTINE WorkerBadIrqlRoutine;

/* One round of work, in whichever thread does it: count it and remember who did it. */
static void DoRound(PWORKER_EXTENSION ext, const char* who)
{
    WORKER_RESULT round;
    round.Irql = KeGetCurrentIrql(); /* before the fast mutex raises it to APC_LEVEL */
    round.ThreadId = (ULONG)(ULONG_PTR)PsGetCurrentThreadId();
    round.ProcessId = (ULONG)(ULONG_PTR)PsGetCurrentProcessId();
    ExAcquireFastMutex(&ext->Lock);
    round.Rounds = ++ext->Rounds;
    ext->Last = round;
    ExReleaseFastMutex(&ext->Lock);
    DbgPrint("worker: round %lu by the %s (thread %lu, process %lu, IRQL %lu)\n", round.Rounds, who,
             round.ThreadId, round.ProcessId, round.Irql);
}

VOID WorkerThread(PVOID Context)
{
    PWORKER_EXTENSION ext = (PWORKER_EXTENSION)Context;
    DbgPrint("worker: system thread started\n");
    for (;;) {
        KeWaitForSingleObject(&ext->WakeEvent, Executive, KernelMode, FALSE, NULL);
        if (ext->Stop)
            break;
        DoRound(ext, "system thread");
        KeSetEvent(&ext->RoundDone, IO_NO_INCREMENT, FALSE);
    }
    DbgPrint("worker: system thread stopping\n");
    PsTerminateSystemThread(STATUS_SUCCESS);
}

VOID WorkerItemRoutine(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    PWORKER_EXTENSION ext = (PWORKER_EXTENSION)Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    DoRound(ext, "work item");
    KeSetEvent(&ext->RoundDone, IO_NO_INCREMENT, FALSE);
}

/* The mistake: returns with a spin lock held, at DISPATCH_LEVEL. */
VOID WorkerBadIrqlRoutine(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    PWORKER_EXTENSION ext = (PWORKER_EXTENSION)Context;
    KIRQL old;
    UNREFERENCED_PARAMETER(DeviceObject);
    KeAcquireSpinLock(&ext->SpinLock, &old);
    DbgPrint("worker: bad work item returns holding its spin lock\n");
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(L"\\Device\\IosimWorker");
    PDEVICE_OBJECT device = NULL;
    PWORKER_EXTENSION ext;
    HANDLE thread;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = WorkerUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = WorkerCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = WorkerCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = WorkerDeviceControl;

    status = IoCreateDevice(DriverObject, sizeof(WORKER_EXTENSION), &deviceName, FILE_DEVICE_UNKNOWN,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PWORKER_EXTENSION)device->DeviceExtension;
    KeInitializeEvent(&ext->WakeEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&ext->RoundDone, SynchronizationEvent, FALSE);
    ExInitializeFastMutex(&ext->Lock);
    KeInitializeSpinLock(&ext->SpinLock);
    ext->WorkItem = IoAllocateWorkItem(device);
    if (ext->WorkItem == NULL) {
        IoDeleteDevice(device);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    RtlInitUnicodeString(&ext->LinkName, L"\\??\\IosimWorker");
    status = IoCreateSymbolicLink(&ext->LinkName, &deviceName);
    if (!NT_SUCCESS(status)) {
        IoFreeWorkItem(ext->WorkItem);
        IoDeleteDevice(device);
        return status;
    }

    /* The thread, then a pointer to its object: the handle itself is closed at once. */
    status = PsCreateSystemThread(&thread, THREAD_ALL_ACCESS, NULL, NULL, NULL, WorkerThread, ext);
    if (!NT_SUCCESS(status)) {
        IoDeleteSymbolicLink(&ext->LinkName);
        IoFreeWorkItem(ext->WorkItem);
        IoDeleteDevice(device);
        return status;
    }
    ObReferenceObjectByHandle(thread, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID*)&ext->Thread, NULL);
    ZwClose(thread);
    DbgPrint("worker: DriverEntry started system thread %lu\n", (ULONG)(ULONG_PTR)PsGetThreadId(ext->Thread));
    device->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

VOID WorkerUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PWORKER_EXTENSION ext = (PWORKER_EXTENSION)device->DeviceExtension;

    if (!ext->ForgetToStop) {
        /* Stop the thread and wait until it has really ended. */
        ext->Stop = TRUE;
        KeSetEvent(&ext->WakeEvent, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(ext->Thread, Executive, KernelMode, FALSE, NULL);
        DbgPrint("worker: system thread ended, %lu round(s) done\n", ext->Rounds);
    }
    ObDereferenceObject(ext->Thread);
    IoFreeWorkItem(ext->WorkItem);
    IoDeleteSymbolicLink(&ext->LinkName);
    IoDeleteDevice(device);
}

NTSTATUS WorkerCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS WorkerDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PWORKER_EXTENSION ext = (PWORKER_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG outLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
    NTSTATUS status = STATUS_SUCCESS;
    ULONG_PTR information = 0;

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_WORKER_KICK_THREAD:
    case IOCTL_WORKER_QUEUE_ITEM:
        if (outLength < sizeof(WORKER_RESULT)) {
            status = STATUS_BUFFER_TOO_SMALL;
            break;
        }
        if (stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_WORKER_KICK_THREAD)
            KeSetEvent(&ext->WakeEvent, IO_NO_INCREMENT, FALSE);
        else
            IoQueueWorkItem(ext->WorkItem, WorkerItemRoutine, DelayedWorkQueue, ext);
        /* This thread (the client's) waits; the other thread runs meanwhile. */
        KeWaitForSingleObject(&ext->RoundDone, Executive, KernelMode, FALSE, NULL);
        ExAcquireFastMutex(&ext->Lock);
        RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, &ext->Last, sizeof(WORKER_RESULT));
        ExReleaseFastMutex(&ext->Lock);
        information = sizeof(WORKER_RESULT);
        break;
    case IOCTL_WORKER_FORGET_TO_STOP:
        ext->ForgetToStop = TRUE;
        break;
    case IOCTL_WORKER_BAD_IRQL_ITEM:
        IoQueueWorkItem(ext->WorkItem, WorkerBadIrqlRoutine, DelayedWorkQueue, ext);
        break;
    case IOCTL_WORKER_FREE_QUEUED:
        IoQueueWorkItem(ext->WorkItem, WorkerItemRoutine, DelayedWorkQueue, ext);
        IoFreeWorkItem(ext->WorkItem); /* the mistake: its routine has not run yet */
        ext->WorkItem = NULL;
        break;
    default:
        status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}
