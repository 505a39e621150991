/* startio_test.c - a test driver for system-queued StartIo, device queues and the I/O timer
 * (tests/async/startio_test.cpp; the packet modes are in startio_test_public.h).
 *
 * It logs what the tests check: each StartIo call's packet key, whether the IRP still had a
 * cancel routine then, the IRQL, nesting depth and overlap (StartIo entered while the
 * previous packet was not completed), and each IoTimer call's IRQL and simulated time.
 * Its cancel routine is the classic StartIo one: the current IRP is completed and the next
 * packet started; a queued IRP is taken out with KeRemoveEntryDeviceQueue. */
#include <ntddk.h>

#include "startio_test_public.h"

typedef struct _SI_EXTENSION {
    SI_CONFIG Config;
    SI_LOG Log;
    ULONG Depth;
    BOOLEAN InProgress;   /* a packet is between StartIo and its completion */
    KTIMER Timer;         /* DelayMs packets */
    KDPC Dpc;
} SI_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD SiUnload;
DRIVER_DISPATCH SiCreateClose;
DRIVER_DISPATCH SiControl;
DRIVER_STARTIO SiStartIo;
DRIVER_CANCEL SiCancel;
KDEFERRED_ROUTINE SiDone;
IO_TIMER_ROUTINE SiTick;

static PDEVICE_OBJECT g_device;

static SI_EXTENSION *Ext(PDEVICE_OBJECT device) { return (SI_EXTENSION *)device->DeviceExtension; }

static SI_PACKET *PacketOf(PIRP Irp) { return (SI_PACKET *)Irp->AssociatedIrp.SystemBuffer; }

/* Completes the current packet and starts the next one; at DISPATCH_LEVEL. */
static void FinishCurrent(PDEVICE_OBJECT device, PIRP irp, NTSTATUS status)
{
    SI_EXTENSION *ext = Ext(device);
    ULONG key = PacketOf(irp)->Key;
    ext->InProgress = FALSE;
    irp->IoStatus.Status = status;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    if (ext->Config.ByKey)
        IoStartNextPacketByKey(device, TRUE, key + 1);
    else
        IoStartNextPacket(device, TRUE);
}

VOID SiStartIo(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    SI_EXTENSION *ext = Ext(DeviceObject);
    SI_PACKET *packet = PacketOf(Irp);
    ULONG n = ext->Log.Count;
    KIRQL irql;

    if (n < SI_LOG_MAX) {
        ext->Log.Keys[n] = packet->Key;
        ext->Log.CancelRoutineSet[n] = Irp->CancelRoutine != NULL;
    }
    ext->Log.Count++;
    if (KeGetCurrentIrql() != DISPATCH_LEVEL)
        ext->Log.NotAtDispatch++;
    if (ext->InProgress)
        ext->Log.Overlaps++;
    ext->InProgress = TRUE;
    ext->Depth++;
    if (ext->Depth > ext->Log.MaxDepth)
        ext->Log.MaxDepth = ext->Depth;

    if (packet->Hold) {
        /* Stays current (and cancelable, unless NonCancelable) until released or cancelled. */
    } else {
        IoAcquireCancelSpinLock(&irql);
        IoSetCancelRoutine(Irp, NULL); /* ours from now on */
        IoReleaseCancelSpinLock(irql);
        if (packet->DelayMs != 0) {
            LARGE_INTEGER due;
            due.QuadPart = -(LONGLONG)packet->DelayMs * 10000;
            KeSetTimer(&ext->Timer, due, &ext->Dpc);
        } else {
            FinishCurrent(DeviceObject, Irp, STATUS_SUCCESS);
        }
    }
    ext->Depth--;
}

VOID SiDone(PKDPC Dpc, PVOID Context, PVOID Argument1, PVOID Argument2)
{
    PDEVICE_OBJECT device = (PDEVICE_OBJECT)Context;
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    if (device->CurrentIrp != NULL)
        FinishCurrent(device, device->CurrentIrp, STATUS_SUCCESS);
}

VOID SiCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    if (Irp == DeviceObject->CurrentIrp) {
        KIRQL irql = Irp->CancelIrql;
        IoReleaseCancelSpinLock(DISPATCH_LEVEL); /* stay at DISPATCH_LEVEL for the next StartIo */
        FinishCurrent(DeviceObject, Irp, STATUS_CANCELLED);
        KeLowerIrql(irql);
        return;
    }
    KeRemoveEntryDeviceQueue(&DeviceObject->DeviceQueue, &Irp->Tail.Overlay.DeviceQueueEntry);
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

VOID SiTick(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    SI_EXTENSION *ext = (SI_EXTENSION *)Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    if (ext->Log.Ticks < SI_LOG_MAX)
        ext->Log.TickMs[ext->Log.Ticks] = (ULONG)(KeQueryInterruptTime() / 10000);
    ext->Log.Ticks++;
    if (KeGetCurrentIrql() != DISPATCH_LEVEL)
        ext->Log.TickNotAtDispatch++;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\StartIoTest");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\StartIoTest");
    NTSTATUS status;
    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, sizeof(SI_EXTENSION), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &g_device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_device);
        return status;
    }
    KeInitializeTimer(&Ext(g_device)->Timer);
    KeInitializeDpc(&Ext(g_device)->Dpc, SiDone, g_device);
    g_device->Flags |= DO_BUFFERED_IO;
    g_device->Flags &= ~DO_DEVICE_INITIALIZING;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = SiCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = SiCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = SiControl;
    DriverObject->DriverStartIo = SiStartIo;
    DriverObject->DriverUnload = SiUnload;
    return STATUS_SUCCESS;
}

VOID SiUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\StartIoTest");
    UNREFERENCED_PARAMETER(DriverObject);
    KeCancelTimer(&Ext(g_device)->Timer);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(g_device); /* also removes the I/O timer, running or not */
}

static NTSTATUS Complete(PIRP Irp, NTSTATUS status, ULONG_PTR information)
{
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

NTSTATUS SiCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

NTSTATUS SiControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    SI_EXTENSION *ext = Ext(DeviceObject);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG in = sp->Parameters.DeviceIoControl.InputBufferLength;
    PVOID buffer = Irp->AssociatedIrp.SystemBuffer;

    switch (sp->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_SI_PACKET: {
        SI_PACKET *packet = (SI_PACKET *)buffer;
        if (in < sizeof(SI_PACKET))
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        IoMarkIrpPending(Irp);
        IoStartPacket(DeviceObject, Irp, packet->UseKey ? &packet->Key : NULL, packet->Cancelable ? SiCancel : NULL);
        return STATUS_PENDING;
    }
    case IOCTL_SI_RELEASE: {
        KIRQL irql, cancel;
        PIRP current;
        KeRaiseIrql(DISPATCH_LEVEL, &irql);
        IoAcquireCancelSpinLock(&cancel);
        current = DeviceObject->CurrentIrp;
        if (current != NULL && PacketOf(current)->Hold && (IoSetCancelRoutine(current, NULL) != NULL || !PacketOf(current)->Cancelable ||
                                                           ext->Config.NonCancelable)) {
            IoReleaseCancelSpinLock(cancel);
            FinishCurrent(DeviceObject, current, STATUS_SUCCESS);
        } else {
            IoReleaseCancelSpinLock(cancel);
            current = NULL;
        }
        KeLowerIrql(irql);
        return Complete(Irp, current != NULL ? STATUS_SUCCESS : STATUS_NOT_FOUND, 0);
    }
    case IOCTL_SI_CONFIG: {
        if (in < sizeof(SI_CONFIG))
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        ext->Config = *(SI_CONFIG *)buffer;
        IoSetStartIoAttributes(DeviceObject, ext->Config.Deferred ? TRUE : FALSE,
                               ext->Config.NonCancelable ? TRUE : FALSE);
        return Complete(Irp, STATUS_SUCCESS, 0);
    }
    case IOCTL_SI_LOG: {
        if (sp->Parameters.DeviceIoControl.OutputBufferLength < sizeof(SI_LOG))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        ext->Log.Busy = DeviceObject->DeviceQueue.Busy;
        ext->Log.CurrentIrpSet = DeviceObject->CurrentIrp != NULL;
        RtlCopyMemory(buffer, &ext->Log, sizeof(SI_LOG));
        return Complete(Irp, STATUS_SUCCESS, sizeof(SI_LOG));
    }
    case IOCTL_SI_TIMER: {
        ULONG op;
        NTSTATUS status = STATUS_SUCCESS;
        if (in < sizeof(ULONG))
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        op = *(ULONG *)buffer;
        if (op == SI_TIMER_INIT_START) {
            status = IoInitializeTimer(DeviceObject, SiTick, ext);
            if (NT_SUCCESS(status))
                IoStartTimer(DeviceObject);
        } else if (op == SI_TIMER_STOP) {
            IoStopTimer(DeviceObject);
        } else if (op == SI_TIMER_START) {
            IoStartTimer(DeviceObject);
        }
        return Complete(Irp, status, 0);
    }
    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}
