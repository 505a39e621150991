/*
 * pnpt_layer.c - test driver for tests/pnp: one layer of a PnP device stack that says what
 * reaches it.
 *
 * Built three times: pnpt_lower.sys (PNPT_ROLE "lower", a lower filter), pnpt_func.sys
 * ("function", the function driver) and pnpt_upper.sys ("upper", an upper filter). Every
 * layer DbgPrints "<role>: AddDevice", "<role>: <IRP_MN_...> down (status 0x...)" when a
 * PnP or power IRP reaches it and "<role>: <IRP_MN_...> up 0x..." from its completion
 * routine, so a test reads the order the IRP took. Filters pass everything down; at
 * REMOVE_DEVICE each layer passes the IRP down, detaches and deletes its device.
 * The function driver also registers and enables an interface (GUID_DEVINTERFACE_PNPT),
 * holds IOCTL_PNPT_HOLD requests until the device goes (failing them with
 * STATUS_NO_SUCH_DEVICE at surprise removal, STATUS_DELETE_PENDING at removal), and guards
 * every IRP with a remove lock. A test steers it through exported variables:
 *   PnptVetoQueryRemove  fail IRP_MN_QUERY_REMOVE_DEVICE (STATUS_UNSUCCESSFUL)
 *   PnptVetoQueryPower   fail a system IRP_MN_QUERY_POWER (STATUS_UNSUCCESSFUL)
 *   PnptFailStart        fail IRP_MN_START_DEVICE (STATUS_DEVICE_CONFIGURATION_ERROR)
 *   PnptKeepDevice       at REMOVE_DEVICE, neither detach nor delete (a driver bug)
 */
#include <ntddk.h>
#include <initguid.h>

#ifndef PNPT_ROLE
#define PNPT_ROLE "function"
#define PNPT_FUNCTION 1
#endif

DEFINE_GUID(GUID_DEVINTERFACE_PNPT, 0x5e1f0c3a, 0x2b4d, 0x4c6e, 0x8f, 0x70, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6);
#define IOCTL_PNPT_HOLD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_PNPT_PING CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS)

LONG PnptVetoQueryRemove = 0;
LONG PnptVetoQueryPower = 0;
LONG PnptFailStart = 0;
LONG PnptKeepDevice = 0;

typedef struct _LAYER {
    PDEVICE_OBJECT Lower;
    PDEVICE_OBJECT Pdo;
    IO_REMOVE_LOCK RemoveLock;
    UNICODE_STRING Interface;
    LIST_ENTRY Held;
    BOOLEAN SurpriseRemoved;
} LAYER, *PLAYER;

static const char *MinorName(UCHAR major, UCHAR minor)
{
    static const char *pnp[] = {"IRP_MN_START_DEVICE", "IRP_MN_QUERY_REMOVE_DEVICE", "IRP_MN_REMOVE_DEVICE",
                                "IRP_MN_CANCEL_REMOVE_DEVICE", "IRP_MN_STOP_DEVICE", "IRP_MN_QUERY_STOP_DEVICE",
                                "IRP_MN_CANCEL_STOP_DEVICE", "IRP_MN_QUERY_DEVICE_RELATIONS", "IRP_MN_QUERY_INTERFACE",
                                "IRP_MN_QUERY_CAPABILITIES"};
    static const char *power[] = {"IRP_MN_WAIT_WAKE", "IRP_MN_POWER_SEQUENCE", "IRP_MN_SET_POWER", "IRP_MN_QUERY_POWER"};
    if (major == IRP_MJ_POWER)
        return minor < 4 ? power[minor] : "IRP_MN_(power)";
    if (minor < sizeof(pnp) / sizeof(pnp[0]))
        return pnp[minor];
    switch (minor) {
    case IRP_MN_QUERY_ID: return "IRP_MN_QUERY_ID";
    case IRP_MN_SURPRISE_REMOVAL: return "IRP_MN_SURPRISE_REMOVAL";
    default: return "IRP_MN_(other)";
    }
}

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status)
{
    Irp->IoStatus.Status = Status;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static NTSTATUS Up(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UCHAR major = (UCHAR)((ULONG_PTR)Context >> 8), minor = (UCHAR)(ULONG_PTR)Context;
    if (Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    DbgPrint(PNPT_ROLE ": %s up 0x%08X\n", MinorName(major, minor), Irp->IoStatus.Status);
#ifdef PNPT_FUNCTION
    if (major == IRP_MJ_PNP && minor == IRP_MN_START_DEVICE && NT_SUCCESS(Irp->IoStatus.Status))
        IoSetDeviceInterfaceState(&((PLAYER)DeviceObject->DeviceExtension)->Interface, TRUE);
#endif
    if (major == IRP_MJ_POWER)
        PoStartNextPowerIrp(Irp);
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS PassDown(PLAYER Layer, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, Up, (PVOID)(ULONG_PTR)((stack->MajorFunction << 8) | stack->MinorFunction), TRUE, TRUE,
                           TRUE);
    return stack->MajorFunction == IRP_MJ_POWER ? PoCallDriver(Layer->Lower, Irp) : IoCallDriver(Layer->Lower, Irp);
}

#ifdef PNPT_FUNCTION
static void FailHeld(PLAYER Layer, NTSTATUS Status)
{
    while (!IsListEmpty(&Layer->Held)) {
        PIRP irp = CONTAINING_RECORD(RemoveHeadList(&Layer->Held), IRP, Tail.Overlay.ListEntry);
        DbgPrint(PNPT_ROLE ": failing a held request with 0x%08X\n", Status);
        irp->IoStatus.Information = 0;
        Complete(irp, Status);
        IoReleaseRemoveLock(&Layer->RemoveLock, irp);
    }
}
#endif

static NTSTATUS LayerPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PLAYER layer = (PLAYER)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status;
    DbgPrint(PNPT_ROLE ": %s down (status 0x%08X)\n", MinorName(IRP_MJ_PNP, stack->MinorFunction), Irp->IoStatus.Status);
#ifdef PNPT_FUNCTION
    status = IoAcquireRemoveLock(&layer->RemoveLock, Irp);
    if (!NT_SUCCESS(status))
        return Complete(Irp, status);
#endif
    switch (stack->MinorFunction) {
    case IRP_MN_START_DEVICE:
#ifdef PNPT_FUNCTION
        if (PnptFailStart) {
            DbgPrint(PNPT_ROLE ": failing the start\n");
            Complete(Irp, STATUS_DEVICE_CONFIGURATION_ERROR);
            IoReleaseRemoveLock(&layer->RemoveLock, Irp);
            return STATUS_DEVICE_CONFIGURATION_ERROR;
        }
#endif
        break; /* the interface is enabled on the way back up (Up) */
    case IRP_MN_QUERY_REMOVE_DEVICE:
#ifdef PNPT_FUNCTION
        if (PnptVetoQueryRemove) {
            DbgPrint(PNPT_ROLE ": vetoing the removal\n");
            Complete(Irp, STATUS_UNSUCCESSFUL);
            IoReleaseRemoveLock(&layer->RemoveLock, Irp);
            return STATUS_UNSUCCESSFUL;
        }
#endif
        Irp->IoStatus.Status = STATUS_SUCCESS;
        break;
    case IRP_MN_CANCEL_REMOVE_DEVICE:
        Irp->IoStatus.Status = STATUS_SUCCESS;
        break;
    case IRP_MN_SURPRISE_REMOVAL:
#ifdef PNPT_FUNCTION
        layer->SurpriseRemoved = TRUE;
        IoSetDeviceInterfaceState(&layer->Interface, FALSE);
        FailHeld(layer, STATUS_NO_SUCH_DEVICE);
#endif
        Irp->IoStatus.Status = STATUS_SUCCESS;
        break;
    case IRP_MN_REMOVE_DEVICE:
#ifdef PNPT_FUNCTION
        if (!layer->SurpriseRemoved)
            IoSetDeviceInterfaceState(&layer->Interface, FALSE);
        FailHeld(layer, STATUS_DELETE_PENDING);
        IoReleaseRemoveLockAndWait(&layer->RemoveLock, Irp);
#endif
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoSkipCurrentIrpStackLocation(Irp);
        status = IoCallDriver(layer->Lower, Irp);
        if (PnptKeepDevice) {
            DbgPrint(PNPT_ROLE ": keeping its device (a bug)\n");
            return status;
        }
        IoDetachDevice(layer->Lower);
#ifdef PNPT_FUNCTION
        RtlFreeUnicodeString(&layer->Interface);
#endif
        DbgPrint(PNPT_ROLE ": detached and deleted its device\n");
        IoDeleteDevice(DeviceObject);
        return status;
    default:
        break;
    }
    status = PassDown(layer, Irp);
#ifdef PNPT_FUNCTION
    IoReleaseRemoveLock(&layer->RemoveLock, Irp);
#endif
    return status;
}

static NTSTATUS LayerPower(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PLAYER layer = (PLAYER)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    DbgPrint(PNPT_ROLE ": %s %s %d down\n", MinorName(IRP_MJ_POWER, stack->MinorFunction),
             stack->Parameters.Power.Type == SystemPowerState ? "S" : "D",
             stack->Parameters.Power.Type == SystemPowerState ? stack->Parameters.Power.State.SystemState - 1
                                                              : stack->Parameters.Power.State.DeviceState - 1);
#ifdef PNPT_FUNCTION
    if (stack->MinorFunction == IRP_MN_QUERY_POWER && stack->Parameters.Power.Type == SystemPowerState &&
        PnptVetoQueryPower) {
        DbgPrint(PNPT_ROLE ": vetoing the sleep\n");
        PoStartNextPowerIrp(Irp);
        return Complete(Irp, STATUS_UNSUCCESSFUL);
    }
#endif
    return PassDown(layer, Irp);
}

static NTSTATUS LayerCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PLAYER layer = (PLAYER)DeviceObject->DeviceExtension;
#ifdef PNPT_FUNCTION
    if (layer->SurpriseRemoved && IoGetCurrentIrpStackLocation(Irp)->MajorFunction == IRP_MJ_CREATE)
        return Complete(Irp, STATUS_NO_SUCH_DEVICE);
    Irp->IoStatus.Information = 0;
    return Complete(Irp, STATUS_SUCCESS);
#else
    IoSkipCurrentIrpStackLocation(Irp);
    return IoCallDriver(layer->Lower, Irp);
#endif
}

static NTSTATUS LayerControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PLAYER layer = (PLAYER)DeviceObject->DeviceExtension;
#ifdef PNPT_FUNCTION
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = IoAcquireRemoveLock(&layer->RemoveLock, Irp);
    Irp->IoStatus.Information = 0;
    if (!NT_SUCCESS(status))
        return Complete(Irp, status);
    if (layer->SurpriseRemoved) {
        Complete(Irp, STATUS_NO_SUCH_DEVICE);
        IoReleaseRemoveLock(&layer->RemoveLock, Irp);
        return STATUS_NO_SUCH_DEVICE;
    }
    if (stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_PNPT_HOLD) {
        IoMarkIrpPending(Irp);
        InsertTailList(&layer->Held, &Irp->Tail.Overlay.ListEntry);
        DbgPrint(PNPT_ROLE ": holding a request\n");
        return STATUS_PENDING; /* the remove lock stays held with it */
    }
    status = stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_PNPT_PING ? STATUS_SUCCESS
                                                                               : STATUS_INVALID_DEVICE_REQUEST;
    Complete(Irp, status);
    IoReleaseRemoveLock(&layer->RemoveLock, Irp);
    return status;
#else
    IoSkipCurrentIrpStackLocation(Irp);
    return IoCallDriver(layer->Lower, Irp);
#endif
}

static NTSTATUS LayerAddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    PDEVICE_OBJECT device;
    PLAYER layer;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(LAYER), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    layer = (PLAYER)device->DeviceExtension;
    layer->Pdo = Pdo;
    InitializeListHead(&layer->Held);
#ifdef PNPT_FUNCTION
    IoInitializeRemoveLock(&layer->RemoveLock, 'tpnP', 0, 0);
    status = IoRegisterDeviceInterface(Pdo, &GUID_DEVINTERFACE_PNPT, NULL, &layer->Interface);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
#endif
    layer->Lower = IoAttachDeviceToDeviceStack(device, Pdo);
    device->Flags |= layer->Lower->Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
    device->Flags |= DO_BUFFERED_IO;
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint(PNPT_ROLE ": AddDevice\n");
    return STATUS_SUCCESS;
}

static VOID LayerUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint(PNPT_ROLE ": unloaded\n");
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverExtension->AddDevice = LayerAddDevice;
    DriverObject->DriverUnload = LayerUnload;
    DriverObject->MajorFunction[IRP_MJ_PNP] = LayerPnp;
    DriverObject->MajorFunction[IRP_MJ_POWER] = LayerPower;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = LayerCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = LayerCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = LayerCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = LayerControl;
    return STATUS_SUCCESS;
}
