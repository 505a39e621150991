/*
 * toychild.c - sample function driver for the toy bus's children (hardware id TOYBUS\CHILD).
 *
 * Lesson (the PnP manager; seed 000: "WDM drivers expose device interfaces instead of
 * symbolic links"): a WDM function driver has no DriverEntry devices. The PnP manager calls
 * AddDevice with each child's PDO; the driver creates its FDO, attaches it, and registers a
 * device interface (GUID_DEVINTERFACE_TOYCHILD) on the PDO. It enables the interface when
 * IRP_MN_START_DEVICE has come back up from the bus driver, and apps find it with SetupDi*.
 *  - PnP IRPs: START and CANCEL_REMOVE are passed down first and finished on the way back
 *    up (ForwardAndWait); QUERY_REMOVE is refused while a handle is open (the veto);
 *    SURPRISE_REMOVAL fails the requests the driver holds with STATUS_NO_SUCH_DEVICE and new
 *    ones after it; REMOVE waits for the remove lock, passes the IRP down, detaches and
 *    deletes the FDO.
 *  - Remove lock: every IRP is worked on with the lock held; IoReleaseRemoveLockAndWait in
 *    REMOVE; requests that arrive after it fail with STATUS_DELETE_PENDING.
 *  - Power: the FDO is the device's power policy owner. For a system set-power IRP it asks
 *    for the matching device power IRP (PoRequestPowerIrp: D0 for the working state, D3
 *    otherwise) and passes the system IRP down to the bus once that one is done. A device
 *    power-down is noted (PoSetPowerState) before it goes down, a power-up after it comes
 *    back up.
 *  - IOCTL_TOYCHILD_WHO_ARE_YOU answers which child this is (the bus's UINumber, read from
 *    IRP_MN_QUERY_CAPABILITIES on its way back up). IOCTL_TOYCHILD_HOLD is kept by the
 *    driver (pending) until the child goes away: a request in flight during removal.
 */
#include <ntddk.h>
#include <initguid.h>

#include "toy_public.h"

#define TOYCHILD_TAG 'dhCT'

typedef enum _CHILD_STATE { NotStarted, Started, RemovePending, SurpriseRemoved, Removed } CHILD_STATE;

typedef struct _CHILD_EXTENSION {
    PDEVICE_OBJECT Self;
    PDEVICE_OBJECT Pdo;
    PDEVICE_OBJECT Lower;
    IO_REMOVE_LOCK RemoveLock;
    UNICODE_STRING InterfaceName;
    CHILD_STATE State;
    ULONG Number;   /* from the bus's capabilities (UINumber) */
    ULONG Requests; /* WHO_ARE_YOU answers */
    LONG OpenHandles;
    LIST_ENTRY Held; /* IOCTL_TOYCHILD_HOLD requests, pending */
} CHILD_EXTENSION, *PCHILD_EXTENSION;

static const char *StateName(CHILD_STATE state)
{
    static const char *names[] = {"NotStarted", "Started", "RemovePending", "SurpriseRemoved", "Removed"};
    return names[state];
}

static NTSTATUS CompleteIrp(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static NTSTATUS SignalCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/* Passes the IRP down; returns once the drivers below have completed it (it is ours again). */
static NTSTATUS ForwardAndWait(PCHILD_EXTENSION Ext, PIRP Irp)
{
    KEVENT done;
    NTSTATUS status;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, SignalCompletion, &done, TRUE, TRUE, TRUE);
    status = IoCallDriver(Ext->Lower, Irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        status = Irp->IoStatus.Status;
    }
    return status;
}

/* Completes every held request with `Status`, releasing the remove lock each one holds. */
static void FailHeldRequests(PCHILD_EXTENSION Ext, NTSTATUS Status)
{
    while (!IsListEmpty(&Ext->Held)) {
        PLIST_ENTRY entry = RemoveHeadList(&Ext->Held);
        PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        DbgPrint("toychild %lu: failing a held request with 0x%08X\n", Ext->Number, Status);
        CompleteIrp(irp, Status, 0);
        IoReleaseRemoveLock(&Ext->RemoveLock, irp);
    }
}

/* ---- PnP ---- */

static NTSTATUS ChildPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PCHILD_EXTENSION ext = (PCHILD_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(status))
        return CompleteIrp(Irp, status, 0);

    switch (stack->MinorFunction) {
    case IRP_MN_START_DEVICE:
        status = ForwardAndWait(ext, Irp); /* the bus starts the child first */
        if (NT_SUCCESS(status)) {
            ext->State = Started;
            IoSetDeviceInterfaceState(&ext->InterfaceName, TRUE);
            DbgPrint("toychild: started; interface enabled\n");
        }
        CompleteIrp(Irp, status, 0);
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return status;
    case IRP_MN_QUERY_CAPABILITIES:
        status = ForwardAndWait(ext, Irp); /* the bus fills the capabilities first */
        if (NT_SUCCESS(status))
            ext->Number = stack->Parameters.DeviceCapabilities.Capabilities->UINumber;
        CompleteIrp(Irp, status, Irp->IoStatus.Information);
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return status;
    case IRP_MN_QUERY_REMOVE_DEVICE:
        if (ext->OpenHandles > 0) {
            DbgPrint("toychild %lu: removal refused: %ld handle(s) open\n", ext->Number, ext->OpenHandles);
            CompleteIrp(Irp, STATUS_DEVICE_BUSY, 0);
            IoReleaseRemoveLock(&ext->RemoveLock, Irp);
            return STATUS_DEVICE_BUSY;
        }
        ext->State = RemovePending;
        Irp->IoStatus.Status = STATUS_SUCCESS;
        break;
    case IRP_MN_CANCEL_REMOVE_DEVICE:
        status = ForwardAndWait(ext, Irp); /* the bus first, then each driver above */
        if (ext->State == RemovePending)
            ext->State = Started;
        DbgPrint("toychild %lu: removal cancelled, %s again\n", ext->Number, StateName(ext->State));
        CompleteIrp(Irp, STATUS_SUCCESS, 0);
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return STATUS_SUCCESS;
    case IRP_MN_SURPRISE_REMOVAL:
        ext->State = SurpriseRemoved;
        IoSetDeviceInterfaceState(&ext->InterfaceName, FALSE);
        FailHeldRequests(ext, STATUS_NO_SUCH_DEVICE);
        DbgPrint("toychild %lu: surprise removal\n", ext->Number);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        break;
    case IRP_MN_REMOVE_DEVICE:
        if (ext->State != SurpriseRemoved && ext->State != NotStarted)
            IoSetDeviceInterfaceState(&ext->InterfaceName, FALSE);
        ext->State = Removed;
        FailHeldRequests(ext, STATUS_DELETE_PENDING);
        /* Wait until no request uses the device any more; later ones get STATUS_DELETE_PENDING. */
        IoReleaseRemoveLockAndWait(&ext->RemoveLock, Irp);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoSkipCurrentIrpStackLocation(Irp);
        status = IoCallDriver(ext->Lower, Irp);
        IoDetachDevice(ext->Lower);
        RtlFreeUnicodeString(&ext->InterfaceName);
        DbgPrint("toychild %lu: removed\n", ext->Number);
        IoDeleteDevice(DeviceObject);
        return status;
    default:
        break; /* not ours: down the stack untouched */
    }
    IoSkipCurrentIrpStackLocation(Irp);
    status = IoCallDriver(ext->Lower, Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return status;
}

/* ---- power: the policy owner ---- */

/* The device power IRP asked for is done: now the system IRP goes on down to the bus. */
static VOID DevicePowerDone(PDEVICE_OBJECT DeviceObject, UCHAR MinorFunction, POWER_STATE PowerState, PVOID Context,
                            PIO_STATUS_BLOCK IoStatus)
{
    PIRP systemIrp = (PIRP)Context;
    PCHILD_EXTENSION ext = (PCHILD_EXTENSION)IoGetCurrentIrpStackLocation(systemIrp)->DeviceObject->DeviceExtension;
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(MinorFunction);
    UNREFERENCED_PARAMETER(PowerState);
    DbgPrint("toychild %lu: device power IRP done (0x%08X); the system power IRP goes on to the bus\n", ext->Number,
             IoStatus->Status);
    PoStartNextPowerIrp(systemIrp);
    IoSkipCurrentIrpStackLocation(systemIrp);
    PoCallDriver(ext->Lower, systemIrp);
    IoReleaseRemoveLock(&ext->RemoveLock, systemIrp);
}

/* A device power-up IRP is back from the bus: the device is powered now. */
static NTSTATUS DevicePowerUp(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    PCHILD_EXTENSION ext = (PCHILD_EXTENSION)DeviceObject->DeviceExtension;
    UNREFERENCED_PARAMETER(Context);
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    PoSetPowerState(DeviceObject, DevicePowerState, IoGetCurrentIrpStackLocation(Irp)->Parameters.Power.State);
    PoStartNextPowerIrp(Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS ChildPower(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PCHILD_EXTENSION ext = (PCHILD_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(status)) {
        PoStartNextPowerIrp(Irp);
        return CompleteIrp(Irp, status, 0);
    }
    if (stack->MinorFunction == IRP_MN_SET_POWER && stack->Parameters.Power.Type == SystemPowerState &&
        ext->State == Started) {
        /* The system is changing state: the device follows (D0 when working, D3 otherwise).
           The system IRP waits here until the device IRP is done (DevicePowerDone). */
        POWER_STATE device;
        device.DeviceState =
            stack->Parameters.Power.State.SystemState == PowerSystemWorking ? PowerDeviceD0 : PowerDeviceD3;
        DbgPrint("toychild %lu: system going to S%d: asking for D%d\n", ext->Number,
                 stack->Parameters.Power.State.SystemState - PowerSystemWorking, device.DeviceState - PowerDeviceD0);
        IoMarkIrpPending(Irp);
        status = PoRequestPowerIrp(ext->Pdo, IRP_MN_SET_POWER, device, DevicePowerDone, Irp, NULL);
        if (!NT_SUCCESS(status)) {
            PoStartNextPowerIrp(Irp);
            IoSkipCurrentIrpStackLocation(Irp);
            PoCallDriver(ext->Lower, Irp);
            IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        }
        return STATUS_PENDING;
    }
    if (stack->MinorFunction == IRP_MN_SET_POWER && stack->Parameters.Power.Type == DevicePowerState) {
        if (stack->Parameters.Power.State.DeviceState == PowerDeviceD0) {
            IoCopyCurrentIrpStackLocationToNext(Irp);
            IoSetCompletionRoutine(Irp, DevicePowerUp, NULL, TRUE, TRUE, TRUE);
            return PoCallDriver(ext->Lower, Irp);
        }
        /* Powering down: save what must be saved, say so, then let the bus cut the power. */
        PoSetPowerState(DeviceObject, DevicePowerState, stack->Parameters.Power.State);
    }
    PoStartNextPowerIrp(Irp);
    IoSkipCurrentIrpStackLocation(Irp);
    status = PoCallDriver(ext->Lower, Irp);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return status;
}

/* ---- requests from apps ---- */

static NTSTATUS ChildCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PCHILD_EXTENSION ext = (PCHILD_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(status))
        return CompleteIrp(Irp, status, 0);
    switch (stack->MajorFunction) {
    case IRP_MJ_CREATE:
        if (ext->State != Started)
            status = STATUS_NO_SUCH_DEVICE;
        else
            InterlockedIncrement(&ext->OpenHandles);
        break;
    case IRP_MJ_CLOSE:
        InterlockedDecrement(&ext->OpenHandles);
        break;
    default:
        break;
    }
    CompleteIrp(Irp, status, 0);
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return status;
}

static NTSTATUS ChildControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PCHILD_EXTENSION ext = (PCHILD_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    PTOY_CHILD_INFO info;
    NTSTATUS status = IoAcquireRemoveLock(&ext->RemoveLock, Irp);
    if (!NT_SUCCESS(status))
        return CompleteIrp(Irp, status, 0); /* STATUS_DELETE_PENDING: the device is being removed */
    if (ext->State == SurpriseRemoved) {
        status = CompleteIrp(Irp, STATUS_NO_SUCH_DEVICE, 0); /* the hardware is gone */
        IoReleaseRemoveLock(&ext->RemoveLock, Irp);
        return status;
    }
    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_TOYCHILD_WHO_ARE_YOU:
        if (stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(TOY_CHILD_INFO)) {
            status = CompleteIrp(Irp, STATUS_BUFFER_TOO_SMALL, 0);
            break;
        }
        info = (PTOY_CHILD_INFO)Irp->AssociatedIrp.SystemBuffer;
        info->Number = ext->Number;
        info->Requests = ++ext->Requests;
        DbgPrint("toychild %lu: who am I? child %lu (request %lu)\n", ext->Number, info->Number, info->Requests);
        status = CompleteIrp(Irp, STATUS_SUCCESS, sizeof(TOY_CHILD_INFO));
        break;
    case IOCTL_TOYCHILD_HOLD:
        /* Kept until the child goes away; the remove lock stays held with it. */
        IoMarkIrpPending(Irp);
        InsertTailList(&ext->Held, &Irp->Tail.Overlay.ListEntry);
        DbgPrint("toychild %lu: holding a request until the device goes away\n", ext->Number);
        return STATUS_PENDING;
    default:
        status = CompleteIrp(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
        break;
    }
    IoReleaseRemoveLock(&ext->RemoveLock, Irp);
    return status;
}

/* ---- the driver ---- */

static NTSTATUS ChildAddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    PDEVICE_OBJECT fdo;
    PCHILD_EXTENSION ext;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(CHILD_EXTENSION), NULL, FILE_DEVICE_UNKNOWN,
                                     FILE_DEVICE_SECURE_OPEN, FALSE, &fdo);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PCHILD_EXTENSION)fdo->DeviceExtension;
    ext->Self = fdo;
    ext->Pdo = Pdo;
    ext->State = NotStarted;
    InitializeListHead(&ext->Held);
    IoInitializeRemoveLock(&ext->RemoveLock, TOYCHILD_TAG, 0, 0);
    status = IoRegisterDeviceInterface(Pdo, &GUID_DEVINTERFACE_TOYCHILD, NULL, &ext->InterfaceName);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(fdo);
        return status;
    }
    ext->Lower = IoAttachDeviceToDeviceStack(fdo, Pdo);
    if (ext->Lower == NULL) {
        RtlFreeUnicodeString(&ext->InterfaceName);
        IoDeleteDevice(fdo);
        return STATUS_NO_SUCH_DEVICE;
    }
    fdo->Flags |= DO_BUFFERED_IO | DO_POWER_PAGABLE;
    fdo->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint("toychild: AddDevice: FDO attached, interface %wZ registered\n", &ext->InterfaceName);
    return STATUS_SUCCESS;
}

static VOID ChildUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("toychild: unloaded\n");
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverExtension->AddDevice = ChildAddDevice;
    DriverObject->DriverUnload = ChildUnload;
    DriverObject->MajorFunction[IRP_MJ_PNP] = ChildPnp;
    DriverObject->MajorFunction[IRP_MJ_POWER] = ChildPower;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = ChildCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = ChildCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = ChildCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = ChildControl;
    return STATUS_SUCCESS;
}
