/*
 * no_stack.c - error-case driver: passing an IRP to a device it has no stack location for.
 *
 * The driver has two devices: \Device\E2eFront, which apps open, and \Device\E2eBack,
 * which does the work. A read on the front device is handed to the back device with
 * IoCallDriver. The bug: the front device's StackSize is left at 1 (it should be
 * Back->StackSize + 1), so the IRP the I/O manager builds for it has exactly one stack
 * location, already in use; IoCallDriver finds none left for the back device and bug
 * checks 0x35 NO_MORE_IRP_STACK_LOCATIONS before the back device sees the IRP. (Setting
 * up the next location with IoCopyCurrentIrpStackLocationToNext would already write
 * outside the IRP, so this driver hands the IRP on as it is.)
 */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD NoStackUnload;
DRIVER_DISPATCH NoStackDispatch;

static UNICODE_STRING g_LinkName = RTL_CONSTANT_STRING(L"\\??\\E2eFront");
static PDEVICE_OBJECT g_Front;
static PDEVICE_OBJECT g_Back;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING frontName = RTL_CONSTANT_STRING(L"\\Device\\E2eFront");
    UNICODE_STRING backName = RTL_CONSTANT_STRING(L"\\Device\\E2eBack");
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = NoStackUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = NoStackDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = NoStackDispatch;
    DriverObject->MajorFunction[IRP_MJ_READ] = NoStackDispatch;

    status = IoCreateDevice(DriverObject, 0, &backName, FILE_DEVICE_UNKNOWN, 0, FALSE, &g_Back);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateDevice(DriverObject, 0, &frontName, FILE_DEVICE_UNKNOWN, 0, FALSE, &g_Front);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_Back);
        return status;
    }
    /* The bug: missing g_Front->StackSize = g_Back->StackSize + 1; */
    status = IoCreateSymbolicLink(&g_LinkName, &frontName);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_Front);
        IoDeleteDevice(g_Back);
        return status;
    }
    g_Front->Flags |= DO_BUFFERED_IO;
    g_Back->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

VOID NoStackUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    IoDeleteSymbolicLink(&g_LinkName);
    IoDeleteDevice(g_Front);
    IoDeleteDevice(g_Back);
}

NTSTATUS NoStackDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    if (DeviceObject == g_Front && stack->MajorFunction == IRP_MJ_READ) {
        DbgPrint("e2e_no_stack: front device passes the read on (IRP has %d stack location(s))\n", (int)Irp->StackCount);
        return IoCallDriver(g_Back, Irp); /* NO_LOCATION_LEFT */
    }
    if (DeviceObject == g_Back)
        DbgPrint("e2e_no_stack: back device got the IRP, which it never should\n");
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}
