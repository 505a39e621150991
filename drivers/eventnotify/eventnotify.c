/* eventnotify.c - reverse communication: the driver tells the app that something happened
 * (seed 002, "基于事件同步实现反向通信": event-based reverse communication).
 *
 * What it teaches (docs/async-io.md, "Reverse communication"):
 *  - An event handle is only a number in the app's handle table. The driver turns it into
 *    the event object with ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE,
 *    *ExEventObjectType, Irp->RequestorMode, ...) - in the app's context, in the dispatch
 *    routine - and keeps the pointer (referenced) until the app unregisters or its handle
 *    closes. Later, in a timer DPC at DISPATCH_LEVEL in no particular process, it can only
 *    use that pointer: KeSetEvent(event, IO_NO_INCREMENT, FALSE).
 *  - UserMode is what makes the check safe: a handle of the wrong type fails with
 *    STATUS_OBJECT_TYPE_MISMATCH, a kernel handle with STATUS_INVALID_HANDLE, a handle
 *    without EVENT_MODIFY_STATE with STATUS_ACCESS_DENIED (IOCTL_EVENTNOTIFY_CHECK_RULES
 *    shows the first two).
 *  - The inverted call: the app keeps IOCTL_EVENTNOTIFY_WAIT requests pending; they wait in
 *    a cancel-safe queue (IoCsqInitialize / IoCsqInsertIrp) and the DPC completes one per
 *    notification (IoCsqRemoveNextIrp) with what happened. The app learns it from the
 *    completion itself - an OVERLAPPED event, a completion routine or a completion port.
 *  - IRP_MJ_CLEANUP drops the closing file's registration and completes its waits;
 *    DriverUnload cancels the timer (and its DPC).
 * Shared with apps/eventnotify_client and apps/iocp_client: eventnotify_public.h. */
#include <ntddk.h>

#include "eventnotify_public.h"

typedef struct _EN_EXTENSION {
    IO_CSQ Csq;             /* pending IOCTL_EVENTNOTIFY_WAITs */
    LIST_ENTRY Waits;
    KSPIN_LOCK Lock;        /* guards Waits, Event, RegisteredBy, Last */
    PKEVENT Event;          /* the registered event object, referenced */
    PFILE_OBJECT RegisteredBy;
    EVENTNOTIFY_INFO Last;
    ULONG Remaining;        /* notifications still to come */
    KTIMER Timer;
    KDPC Dpc;
} EN_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD EnUnload;
DRIVER_DISPATCH EnCreateClose;
DRIVER_DISPATCH EnControl;
DRIVER_DISPATCH EnCleanup;
KDEFERRED_ROUTINE EnTick;
IO_CSQ_INSERT_IRP EnInsert;
IO_CSQ_REMOVE_IRP EnRemove;
IO_CSQ_PEEK_NEXT_IRP EnPeek;
IO_CSQ_ACQUIRE_LOCK EnAcquire;
IO_CSQ_RELEASE_LOCK EnRelease;
IO_CSQ_COMPLETE_CANCELED_IRP EnCompleteCanceled;

static PDEVICE_OBJECT g_device;

#define EXT(csq) CONTAINING_RECORD(csq, EN_EXTENSION, Csq)

VOID EnInsert(PIO_CSQ Csq, PIRP Irp) { InsertTailList(&EXT(Csq)->Waits, &Irp->Tail.Overlay.ListEntry); }

VOID EnRemove(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
}

PIRP EnPeek(PIO_CSQ Csq, PIRP Irp, PVOID PeekContext)
{
    EN_EXTENSION *ext = EXT(Csq);
    PLIST_ENTRY entry = Irp == NULL ? ext->Waits.Flink : Irp->Tail.Overlay.ListEntry.Flink;
    for (; entry != &ext->Waits; entry = entry->Flink) {
        PIRP candidate = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        if (PeekContext == NULL || IoGetCurrentIrpStackLocation(candidate)->FileObject == (PFILE_OBJECT)PeekContext)
            return candidate;
    }
    return NULL;
}

VOID EnAcquire(PIO_CSQ Csq, PKIRQL Irql) { KeAcquireSpinLock(&EXT(Csq)->Lock, Irql); }

VOID EnRelease(PIO_CSQ Csq, KIRQL Irql) { KeReleaseSpinLock(&EXT(Csq)->Lock, Irql); }

VOID EnCompleteCanceled(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

/* The timer's DPC: one notification. DISPATCH_LEVEL, arbitrary thread and process: only the
 * referenced event pointer is usable here, never the app's handle. */
VOID EnTick(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    EN_EXTENSION *ext = (EN_EXTENSION *)Context;
    EVENTNOTIFY_INFO info;
    PIRP waiting;
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);

    if (ext->Remaining == 0)
        return;
    if (--ext->Remaining == 0)
        KeCancelTimer(&ext->Timer);
    waiting = IoCsqRemoveNextIrp(&ext->Csq, NULL);
    KeAcquireSpinLockAtDpcLevel(&ext->Lock);
    ext->Last.Sequence++;
    ext->Last.TimeMs = (ULONG)(KeQueryInterruptTime() / 10000);
    if (waiting == NULL)
        ext->Last.Dropped++;
    info = ext->Last;
    if (ext->Event != NULL)
        KeSetEvent(ext->Event, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLockFromDpcLevel(&ext->Lock);
    if (waiting != NULL) {
        RtlCopyMemory(waiting->AssociatedIrp.SystemBuffer, &info, sizeof(info));
        waiting->IoStatus.Status = STATUS_SUCCESS;
        waiting->IoStatus.Information = sizeof(info);
        IoCompleteRequest(waiting, IO_NO_INCREMENT);
    }
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\EventNotify");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\EventNotify");
    EN_EXTENSION *ext;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, sizeof(EN_EXTENSION), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &g_device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_device);
        return status;
    }
    ext = (EN_EXTENSION *)g_device->DeviceExtension;
    InitializeListHead(&ext->Waits);
    KeInitializeSpinLock(&ext->Lock);
    IoCsqInitialize(&ext->Csq, EnInsert, EnRemove, EnPeek, EnAcquire, EnRelease, EnCompleteCanceled);
    KeInitializeTimer(&ext->Timer);
    KeInitializeDpc(&ext->Dpc, EnTick, ext);
    g_device->Flags |= DO_BUFFERED_IO;
    g_device->Flags &= ~DO_DEVICE_INITIALIZING;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = EnCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = EnCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = EnCleanup;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = EnControl;
    DriverObject->DriverUnload = EnUnload;
    return STATUS_SUCCESS;
}

VOID EnUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\EventNotify");
    EN_EXTENSION *ext = (EN_EXTENSION *)g_device->DeviceExtension;
    UNREFERENCED_PARAMETER(DriverObject);
    KeCancelTimer(&ext->Timer);
    KeRemoveQueueDpc(&ext->Dpc);
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

NTSTATUS EnCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

/* Swaps the registered event (NULL: none); dereferences the one it replaces. */
static void SetRegistration(EN_EXTENSION *ext, PKEVENT event, PFILE_OBJECT file)
{
    PKEVENT old;
    KIRQL irql;
    KeAcquireSpinLock(&ext->Lock, &irql);
    old = ext->Event;
    ext->Event = event;
    ext->RegisteredBy = file;
    KeReleaseSpinLock(&ext->Lock, irql);
    if (old != NULL)
        ObDereferenceObject(old);
}

static NTSTATUS CheckRules(HANDLE handle, KPROCESSOR_MODE mode, EVENTNOTIFY_RULES *rules)
{
    PVOID event = NULL, object = NULL;
    HANDLE kernel_handle = NULL;
    NTSTATUS status;

    rules->AsEventUserMode = ObReferenceObjectByHandle(handle, EVENT_MODIFY_STATE, *ExEventObjectType, mode, &event, NULL);
    if (!NT_SUCCESS(rules->AsEventUserMode))
        return rules->AsEventUserMode;
    rules->AsFileUserMode = ObReferenceObjectByHandle(handle, SYNCHRONIZE, *IoFileObjectType, mode, &object, NULL);
    if (NT_SUCCESS(rules->AsFileUserMode))
        ObDereferenceObject(object); /* not expected: the type is checked */
    /* A kernel handle to the same event: only kernel-mode callers may use it. */
    status = ObOpenObjectByPointer(event, OBJ_KERNEL_HANDLE, NULL, EVENT_MODIFY_STATE, *ExEventObjectType, KernelMode,
                                   &kernel_handle);
    ObDereferenceObject(event);
    if (!NT_SUCCESS(status))
        return status;
    rules->KernelHandleUserMode = ObReferenceObjectByHandle(kernel_handle, EVENT_MODIFY_STATE, *ExEventObjectType,
                                                            UserMode, &object, NULL);
    if (NT_SUCCESS(rules->KernelHandleUserMode))
        ObDereferenceObject(object);
    rules->KernelHandleKernelMode = ObReferenceObjectByHandle(kernel_handle, EVENT_MODIFY_STATE, *ExEventObjectType,
                                                              KernelMode, &object, NULL);
    if (NT_SUCCESS(rules->KernelHandleKernelMode))
        ObDereferenceObject(object);
    ZwClose(kernel_handle);
    return STATUS_SUCCESS;
}

NTSTATUS EnControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    EN_EXTENSION *ext = (EN_EXTENSION *)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG in = sp->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
    PVOID buffer = Irp->AssociatedIrp.SystemBuffer;

    switch (sp->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_EVENTNOTIFY_REGISTER: {
        HANDLE handle;
        PVOID object = NULL;
        NTSTATUS status;
        if (in < sizeof(EVENTNOTIFY_REGISTER))
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        handle = ((EVENTNOTIFY_REGISTER *)buffer)->Event;
        if (handle == NULL) {
            SetRegistration(ext, NULL, NULL);
            return Complete(Irp, STATUS_SUCCESS, 0);
        }
        /* In the app's context, with the app's mode: its handle, checked like the app's own call. */
        status = ObReferenceObjectByHandle(handle, EVENT_MODIFY_STATE, *ExEventObjectType, Irp->RequestorMode, &object,
                                           NULL);
        if (!NT_SUCCESS(status))
            return Complete(Irp, status, 0);
        SetRegistration(ext, (PKEVENT)object, sp->FileObject);
        DbgPrint("eventnotify: event registered\n");
        return Complete(Irp, STATUS_SUCCESS, 0);
    }
    case IOCTL_EVENTNOTIFY_START: {
        EVENTNOTIFY_START *start = (EVENTNOTIFY_START *)buffer;
        LARGE_INTEGER due;
        if (in < sizeof(EVENTNOTIFY_START) || start->PeriodMs == 0)
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        ext->Remaining = start->Count;
        due.QuadPart = -(LONGLONG)start->PeriodMs * 10000;
        KeSetTimerEx(&ext->Timer, due, (LONG)start->PeriodMs, &ext->Dpc);
        return Complete(Irp, STATUS_SUCCESS, 0);
    }
    case IOCTL_EVENTNOTIFY_GET_LAST: {
        KIRQL irql;
        if (out < sizeof(EVENTNOTIFY_INFO))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        KeAcquireSpinLock(&ext->Lock, &irql);
        RtlCopyMemory(buffer, &ext->Last, sizeof(EVENTNOTIFY_INFO));
        KeReleaseSpinLock(&ext->Lock, irql);
        return Complete(Irp, STATUS_SUCCESS, sizeof(EVENTNOTIFY_INFO));
    }
    case IOCTL_EVENTNOTIFY_WAIT:
        if (out < sizeof(EVENTNOTIFY_INFO))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        IoCsqInsertIrp(&ext->Csq, Irp, NULL); /* marks it pending */
        return STATUS_PENDING;
    case IOCTL_EVENTNOTIFY_CHECK_RULES: {
        EVENTNOTIFY_RULES rules;
        NTSTATUS status;
        if (in < sizeof(EVENTNOTIFY_REGISTER) || out < sizeof(EVENTNOTIFY_RULES))
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        RtlZeroMemory(&rules, sizeof(rules));
        status = CheckRules(((EVENTNOTIFY_REGISTER *)buffer)->Event, Irp->RequestorMode, &rules);
        if (!NT_SUCCESS(status))
            return Complete(Irp, status, 0);
        RtlCopyMemory(buffer, &rules, sizeof(rules));
        return Complete(Irp, STATUS_SUCCESS, sizeof(rules));
    }
    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* The last handle of a file object closes: its registration and its waits end. */
NTSTATUS EnCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    EN_EXTENSION *ext = (EN_EXTENSION *)DeviceObject->DeviceExtension;
    PFILE_OBJECT file = IoGetCurrentIrpStackLocation(Irp)->FileObject;
    PIRP waiting;
    if (ext->RegisteredBy == file)
        SetRegistration(ext, NULL, NULL);
    while ((waiting = IoCsqRemoveNextIrp(&ext->Csq, file)) != NULL)
        Complete(waiting, STATUS_CANCELLED, 0);
    return Complete(Irp, STATUS_SUCCESS, 0);
}
