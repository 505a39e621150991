/*
 * bench_pend.c - the asynchronous benchmark's driver: every request is pended and
 * completed later by the driver's own system thread.
 *
 * IRP_MJ_DEVICE_CONTROL marks the IRP pending, queues it (spin lock), releases a
 * semaphore and returns STATUS_PENDING. The worker thread waits on the semaphore, takes
 * the oldest IRP and completes it with STATUS_SUCCESS and no data. So one request costs
 * the pending protocol, two context switches (app -> worker -> app) and the requester's
 * side of completion delivered as a kernel APC in the app's thread: the async round
 * trip of docs/performance.md.
 */
#include <ntddk.h>

typedef struct _BENCH_PEND {
    KSPIN_LOCK Lock;
    LIST_ENTRY Queue;
    KSEMAPHORE Work;
    PKTHREAD Worker;
    BOOLEAN Stop;
} BENCH_PEND;

static BENCH_PEND g_pend;

static NTSTATUS PendCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS PendControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    KIRQL irql;
    UNREFERENCED_PARAMETER(DeviceObject);
    IoMarkIrpPending(Irp);
    KeAcquireSpinLock(&g_pend.Lock, &irql);
    InsertTailList(&g_pend.Queue, &Irp->Tail.Overlay.ListEntry);
    KeReleaseSpinLock(&g_pend.Lock, irql);
    KeReleaseSemaphore(&g_pend.Work, IO_NO_INCREMENT, 1, FALSE);
    return STATUS_PENDING;
}

static VOID PendWorker(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    for (;;) {
        KIRQL irql;
        PLIST_ENTRY entry = NULL;
        PIRP irp;
        KeWaitForSingleObject(&g_pend.Work, Executive, KernelMode, FALSE, NULL);
        KeAcquireSpinLock(&g_pend.Lock, &irql);
        if (!IsListEmpty(&g_pend.Queue))
            entry = RemoveHeadList(&g_pend.Queue);
        KeReleaseSpinLock(&g_pend.Lock, irql);
        if (entry == NULL) {
            if (g_pend.Stop)
                break;
            continue;
        }
        irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        irp->IoStatus.Status = STATUS_SUCCESS;
        irp->IoStatus.Information = 0;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    }
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static VOID PendUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimBenchPend");
    g_pend.Stop = TRUE;
    KeReleaseSemaphore(&g_pend.Work, IO_NO_INCREMENT, 1, FALSE);
    KeWaitForSingleObject(g_pend.Worker, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(g_pend.Worker);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IosimBenchPend");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimBenchPend");
    PDEVICE_OBJECT device;
    HANDLE thread;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeSpinLock(&g_pend.Lock);
    InitializeListHead(&g_pend.Queue);
    KeInitializeSemaphore(&g_pend.Work, 0, MAXLONG);
    g_pend.Stop = FALSE;
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    status = PsCreateSystemThread(&thread, THREAD_ALL_ACCESS, NULL, NULL, NULL, PendWorker, NULL);
    if (!NT_SUCCESS(status)) {
        IoDeleteSymbolicLink(&link);
        IoDeleteDevice(device);
        return status;
    }
    ObReferenceObjectByHandle(thread, SYNCHRONIZE, NULL, KernelMode, (PVOID*)&g_pend.Worker, NULL);
    ZwClose(thread);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = PendCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PendCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = PendControl;
    DriverObject->DriverUnload = PendUnload;
    return STATUS_SUCCESS;
}
