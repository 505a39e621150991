/* notify_driver.c - reinitialization routines and shutdown notifications
 * (tests/stack/notify_test.cpp).
 *
 * DriverEntry creates five devices and registers them:
 *   \Device\NotifyFirst    IoRegisterShutdownNotification (first)
 *   \Device\NotifySecond   IoRegisterShutdownNotification (second: notified first)
 *   \Device\NotifyLast     IoRegisterLastChanceShutdownNotification
 *   \Device\NotifyGone     registered, then IoUnregisterShutdownNotification
 *   \Device\NotifyDeleted  registered, then deleted (IoDeleteDevice unregisters it)
 * and queues a reinitialization routine, which records each Count it is called with and
 * registers itself again on its first call. Every IRP_MJ_SHUTDOWN is printed with the
 * device's name, so the test reads the order from the debug output. */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD NotifyUnload;
static DRIVER_DISPATCH NotifyShutdown;
static DRIVER_REINITIALIZE NotifyReinitialize;

ULONG NotifyReinitCounts[4];
ULONG NotifyReinitCalls = 0;
BOOLEAN NotifyEntryReturned = FALSE;
BOOLEAN NotifyReinitSawEntryReturned = FALSE;
BOOLEAN NotifyReinitFlagDuringEntry = FALSE;
PVOID NotifyReinitContext = NULL;
int NotifyContext;

typedef struct _NOTIFY_EXTENSION {
    CHAR Tag[16];
} NOTIFY_EXTENSION, *PNOTIFY_EXTENSION;

static NTSTATUS MakeDevice(PDRIVER_OBJECT DriverObject, PCWSTR Name, PCSTR Tag, PDEVICE_OBJECT *Device)
{
    UNICODE_STRING name;
    NTSTATUS status;
    RtlInitUnicodeString(&name, Name);
    status = IoCreateDevice(DriverObject, sizeof(NOTIFY_EXTENSION), &name, FILE_DEVICE_UNKNOWN, 0, FALSE, Device);
    if (NT_SUCCESS(status))
        RtlCopyMemory(((PNOTIFY_EXTENSION)(*Device)->DeviceExtension)->Tag, Tag, strlen(Tag) + 1);
    return status;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PDEVICE_OBJECT first, second, last, gone, deleted;
    UNREFERENCED_PARAMETER(RegistryPath);

    DriverObject->MajorFunction[IRP_MJ_SHUTDOWN] = NotifyShutdown;
    DriverObject->DriverUnload = NotifyUnload;
    if (!NT_SUCCESS(MakeDevice(DriverObject, L"\\Device\\NotifyFirst", "First", &first)) ||
        !NT_SUCCESS(MakeDevice(DriverObject, L"\\Device\\NotifySecond", "Second", &second)) ||
        !NT_SUCCESS(MakeDevice(DriverObject, L"\\Device\\NotifyLast", "Last", &last)) ||
        !NT_SUCCESS(MakeDevice(DriverObject, L"\\Device\\NotifyGone", "Gone", &gone)) ||
        !NT_SUCCESS(MakeDevice(DriverObject, L"\\Device\\NotifyDeleted", "Deleted", &deleted)))
        return STATUS_UNSUCCESSFUL;
    IoRegisterShutdownNotification(first);
    IoRegisterShutdownNotification(second);
    IoRegisterLastChanceShutdownNotification(last);
    IoRegisterShutdownNotification(gone);
    IoUnregisterShutdownNotification(gone);
    IoRegisterShutdownNotification(deleted);
    IoDeleteDevice(deleted);

    IoRegisterDriverReinitialization(DriverObject, NotifyReinitialize, &NotifyContext);
    NotifyReinitFlagDuringEntry = (DriverObject->Flags & DRVO_REINIT_REGISTERED) != 0;
    NotifyEntryReturned = TRUE; /* the last statement before returning */
    return STATUS_SUCCESS;
}

static VOID NotifyReinitialize(PDRIVER_OBJECT DriverObject, PVOID Context, ULONG Count)
{
    if (NotifyReinitCalls < 4)
        NotifyReinitCounts[NotifyReinitCalls] = Count;
    NotifyReinitCalls++;
    NotifyReinitSawEntryReturned = NotifyEntryReturned;
    NotifyReinitContext = Context;
    if (Count == 1)
        IoRegisterDriverReinitialization(DriverObject, NotifyReinitialize, Context);
}

static NTSTATUS NotifyShutdown(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    DbgPrint("notify: IRP_MJ_SHUTDOWN for %s\n", ((PNOTIFY_EXTENSION)DeviceObject->DeviceExtension)->Tag);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static VOID NotifyUnload(PDRIVER_OBJECT DriverObject)
{
    while (DriverObject->DeviceObject != NULL) {
        IoUnregisterShutdownNotification(DriverObject->DeviceObject);
        IoDeleteDevice(DriverObject->DeviceObject);
    }
}
