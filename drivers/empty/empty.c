/*
 * empty.c - sample driver: the smallest driver that answers requests.
 *
 * Lesson (seed 000 sections 2 "简单的NT驱动" and 6 "NT驱动的基本结构"):
 *  - DriverEntry is the driver's "main". The I/O manager calls it once, in the System
 *    process, with the driver object it created (\Driver\<service name>) and the
 *    service's registry path.
 *  - DriverUnload is registered by storing its address in DriverObject->DriverUnload.
 *    Without it the driver can never be stopped (see the DriverWithoutUnloadCannotBeStopped
 *    test). It must undo everything DriverEntry did.
 *  - Dispatch routines are registered per IRP major function in DriverObject->MajorFunction.
 *    One routine may serve several majors. Here one routine completes CREATE, CLOSE, READ
 *    and WRITE with STATUS_SUCCESS and 0 bytes: it sets IoStatus, calls IoCompleteRequest
 *    and returns the same status.
 *  - Every slot left alone keeps the I/O manager's default, which fails the IRP with
 *    STATUS_INVALID_DEVICE_REQUEST (ERROR_INVALID_FUNCTION in the app). That includes
 *    IRP_MJ_CLEANUP: the handle still closes.
 *
 * A driver without a device receives no IRPs at all, so unlike the seed's driver shell
 * this one creates \Device\IosimEmpty and the link \??\IosimEmpty ("\\.\IosimEmpty" for
 * an app). Written in C: DriverEntry needs no extern "C".
 */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD EmptyUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) _Dispatch_type_(IRP_MJ_READ)
_Dispatch_type_(IRP_MJ_WRITE) DRIVER_DISPATCH EmptyDispatch;

static UNICODE_STRING g_DeviceName = RTL_CONSTANT_STRING(L"\\Device\\IosimEmpty");
static UNICODE_STRING g_LinkName = RTL_CONSTANT_STRING(L"\\??\\IosimEmpty");

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status;

    DbgPrint("empty: DriverEntry (%wZ)\n", RegistryPath);

    DriverObject->DriverUnload = EmptyUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = EmptyDispatch;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = EmptyDispatch;
    DriverObject->MajorFunction[IRP_MJ_READ] = EmptyDispatch;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = EmptyDispatch;

    status = IoCreateDevice(DriverObject, 0, &g_DeviceName, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE,
                            &device);
    if (!NT_SUCCESS(status)) {
        DbgPrint("empty: IoCreateDevice failed 0x%08X\n", status);
        return status;
    }
    status = IoCreateSymbolicLink(&g_LinkName, &g_DeviceName);
    if (!NT_SUCCESS(status)) {
        DbgPrint("empty: IoCreateSymbolicLink failed 0x%08X\n", status);
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

VOID EmptyUnload(PDRIVER_OBJECT DriverObject)
{
    DbgPrint("empty: DriverUnload\n");
    IoDeleteSymbolicLink(&g_LinkName);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS EmptyDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    UNREFERENCED_PARAMETER(DeviceObject);

    switch (stack->MajorFunction) {
    case IRP_MJ_CREATE: DbgPrint("empty: IRP_MJ_CREATE\n"); break;
    case IRP_MJ_CLOSE: DbgPrint("empty: IRP_MJ_CLOSE\n"); break;
    case IRP_MJ_READ: DbgPrint("empty: IRP_MJ_READ of %lu byte(s): nothing to give\n", stack->Parameters.Read.Length); break;
    case IRP_MJ_WRITE: DbgPrint("empty: IRP_MJ_WRITE of %lu byte(s): dropped\n", stack->Parameters.Write.Length); break;
    default: break;
    }
    /* Nothing to do: complete with success and 0 bytes transferred. */
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}
