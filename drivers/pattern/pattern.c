/*
 * pattern.c - sample driver: a device that only answers ReadFile, with generated data.
 *
 * Lesson (seed 002 "通过ReadFile实现与内核通信"):
 *  - IRP_MJ_READ is how an app pulls data from a driver with plain ReadFile. With
 *    DO_BUFFERED_IO the driver fills Irp->AssociatedIrp.SystemBuffer (Parameters.Read.Length
 *    bytes) and sets IoStatus.Information to the number of bytes it produced; the I/O
 *    manager copies that many bytes into the app's buffer after completion.
 *  - The data here is a pattern, 'A'..'Z' repeating, positioned by Parameters.Read.ByteOffset:
 *    byte n of the "file" is 'A' + n % 26. The whole buffer is always filled, so the app gets
 *    exactly what it asked for.
 *  - Reads without an OVERLAPPED all start at offset 0 (the I/O manager does not advance
 *    CurrentByteOffset), so two reads in a row both begin with 'A'.
 *  - IRP_MJ_WRITE is not registered: WriteFile fails with ERROR_INVALID_FUNCTION.
 * Written in C.
 */
#include <ntddk.h>

#define PATTERN_LETTERS 26

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD PatternUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH PatternCreateClose;
_Dispatch_type_(IRP_MJ_READ) DRIVER_DISPATCH PatternRead;

static UNICODE_STRING g_LinkName = RTL_CONSTANT_STRING(L"\\??\\IosimPattern");

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(L"\\Device\\IosimPattern");
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("pattern: DriverEntry\n");
    DriverObject->DriverUnload = PatternUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = PatternCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PatternCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = PatternRead;

    status = IoCreateDevice(DriverObject, 0, &deviceName, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        DbgPrint("pattern: IoCreateDevice failed 0x%08X\n", status);
        return status;
    }
    status = IoCreateSymbolicLink(&g_LinkName, &deviceName);
    if (!NT_SUCCESS(status)) {
        DbgPrint("pattern: IoCreateSymbolicLink failed 0x%08X\n", status);
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

VOID PatternUnload(PDRIVER_OBJECT DriverObject)
{
    DbgPrint("pattern: DriverUnload\n");
    IoDeleteSymbolicLink(&g_LinkName);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS PatternCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS PatternRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG length = stack->Parameters.Read.Length;
    LONGLONG offset = stack->Parameters.Read.ByteOffset.QuadPart;
    PUCHAR buffer = (PUCHAR)Irp->AssociatedIrp.SystemBuffer; /* NULL when length is 0 */
    NTSTATUS status = STATUS_SUCCESS;
    ULONG i;

    UNREFERENCED_PARAMETER(DeviceObject);
    DbgPrint("pattern: IRP_MJ_READ of %lu byte(s) at offset %I64d\n", length, offset);
    if (offset < 0) {
        status = STATUS_INVALID_PARAMETER;
        length = 0;
    } else {
        for (i = 0; i < length; i++)
            buffer[i] = (UCHAR)('A' + (ULONG)((offset + i) % PATTERN_LETTERS));
    }
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = length;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}
