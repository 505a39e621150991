/*
 * ioctl_buffered.c - sample driver: answering DeviceIoControl with METHOD_BUFFERED codes.
 *
 * Lesson (seed 000 section 7 "处理设备I/O控制函数DeviceIoControl"; section 6 for the
 * device and link):
 *  - DeviceIoControl reaches the driver as IRP_MJ_DEVICE_CONTROL. The current stack
 *    location holds Parameters.DeviceIoControl: IoControlCode, InputBufferLength and
 *    OutputBufferLength.
 *  - With METHOD_BUFFERED there is one kernel buffer, Irp->AssociatedIrp.SystemBuffer, of
 *    max(input, output) bytes: it holds the input when the driver is called and must hold
 *    the output when the driver completes. So read the input before writing the output.
 *  - IoStatus.Information says how many output bytes are valid; the I/O manager copies
 *    exactly that many back, and only when the status is not an error. A warning such as
 *    STATUS_BUFFER_OVERFLOW still copies (ERROR_MORE_DATA, with data); an error such as
 *    STATUS_BUFFER_TOO_SMALL copies nothing (ERROR_INSUFFICIENT_BUFFER, 0 bytes).
 *  - The Access bits of a code are checked before the driver is called: the request
 *    IOCTL_IOSIM_WRITE_ONLY on a handle opened with GENERIC_READ only never gets here.
 *  - Codes the driver does not know are failed with STATUS_INVALID_DEVICE_REQUEST
 *    (the seed uses STATUS_INVALID_VARIANT; any error status fails the call).
 * The codes are in ioctl_buffered_public.h, shared with apps/ioctl_client.
 * CLEANUP (last handle closed) and CLOSE (last reference gone) are narrated, so the
 * tests can watch both arrive.
 */
#include <ntddk.h>

#include "ioctl_buffered_public.h"

typedef struct _IOCTL_EXTENSION {
    UNICODE_STRING LinkName;
    ULONG RequestCount; /* control requests since load (or since the last reset) */
} IOCTL_EXTENSION, *PIOCTL_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD IoctlUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLEANUP) _Dispatch_type_(IRP_MJ_CLOSE)
DRIVER_DISPATCH IoctlCreateClose;
_Dispatch_type_(IRP_MJ_DEVICE_CONTROL) DRIVER_DISPATCH IoctlDeviceControl;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(L"\\Device\\IosimIoctl");
    PDEVICE_OBJECT device = NULL;
    PIOCTL_EXTENSION ext;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("ioctl_buffered: DriverEntry\n");

    DriverObject->DriverUnload = IoctlUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = IoctlCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = IoctlCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = IoctlCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = IoctlDeviceControl;

    status = IoCreateDevice(DriverObject, sizeof(IOCTL_EXTENSION), &deviceName, FILE_DEVICE_UNKNOWN,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        DbgPrint("ioctl_buffered: IoCreateDevice failed 0x%08X\n", status);
        return status;
    }
    ext = (PIOCTL_EXTENSION)device->DeviceExtension; /* zeroed by IoCreateDevice */
    RtlInitUnicodeString(&ext->LinkName, L"\\??\\IosimIoctl");
    status = IoCreateSymbolicLink(&ext->LinkName, &deviceName);
    if (!NT_SUCCESS(status)) {
        DbgPrint("ioctl_buffered: IoCreateSymbolicLink failed 0x%08X\n", status);
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

VOID IoctlUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PIOCTL_EXTENSION ext = (PIOCTL_EXTENSION)device->DeviceExtension;

    DbgPrint("ioctl_buffered: DriverUnload after %lu control request(s)\n", ext->RequestCount);
    IoDeleteSymbolicLink(&ext->LinkName);
    IoDeleteDevice(device);
}

NTSTATUS IoctlCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    UNREFERENCED_PARAMETER(DeviceObject);

    switch (stack->MajorFunction) {
    case IRP_MJ_CREATE:
        DbgPrint("ioctl_buffered: IRP_MJ_CREATE, desired access 0x%08X\n",
                 stack->Parameters.Create.SecurityContext->DesiredAccess);
        break;
    case IRP_MJ_CLEANUP: DbgPrint("ioctl_buffered: IRP_MJ_CLEANUP\n"); break;
    case IRP_MJ_CLOSE: DbgPrint("ioctl_buffered: IRP_MJ_CLOSE\n"); break;
    default: break;
    }
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

/* Upper-cases `count` bytes in place: the input is read and the output written in the
 * same SystemBuffer, byte by byte, so nothing is overwritten before it is read. */
static void UpperCaseInPlace(PUCHAR buffer, ULONG count)
{
    ULONG i;
    for (i = 0; i < count; i++) {
        if (buffer[i] >= 'a' && buffer[i] <= 'z')
            buffer[i] = (UCHAR)(buffer[i] - 'a' + 'A');
    }
}

NTSTATUS IoctlDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIOCTL_EXTENSION ext = (PIOCTL_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG code = stack->Parameters.DeviceIoControl.IoControlCode;
    ULONG inLength = stack->Parameters.DeviceIoControl.InputBufferLength;
    ULONG outLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
    PUCHAR buffer = (PUCHAR)Irp->AssociatedIrp.SystemBuffer; /* NULL when both lengths are 0 */
    ULONG_PTR information = 0;
    NTSTATUS status = STATUS_SUCCESS;

    ext->RequestCount++;
    DbgPrint("ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x%08X, input %lu, output %lu\n", code, inLength, outLength);

    switch (code) {
    case IOCTL_IOSIM_ECHO: {
        ULONG count = inLength < outLength ? inLength : outLength;
        DbgPrint("ioctl_buffered: ECHO \"%.*s\"\n", (int)inLength, buffer != NULL ? (PCSTR)buffer : "");
        if (count != 0)
            UpperCaseInPlace(buffer, count);
        information = count;
        break;
    }
    case IOCTL_IOSIM_FILL:
        DbgPrint("ioctl_buffered: FILL, input \"%.*s\", filling %lu byte(s) with 0x%02X\n", (int)inLength,
                 buffer != NULL ? (PCSTR)buffer : "", outLength, IOSIM_FILL_BYTE);
        if (outLength != 0)
            RtlFillMemory(buffer, outLength, IOSIM_FILL_BYTE);
        information = outLength;
        break;
    case IOCTL_IOSIM_WRITE_ONLY:
        DbgPrint("ioctl_buffered: WRITE_ONLY, request counter reset\n");
        ext->RequestCount = 0;
        break;
    case IOCTL_IOSIM_SMALL:
        if (outLength < IOSIM_SMALL_MINIMUM) {
            status = STATUS_BUFFER_TOO_SMALL; /* an error: nothing is returned */
        } else if (outLength < IOSIM_SMALL_FULL) {
            RtlCopyMemory(buffer, IOSIM_SMALL_HEADER, IOSIM_SMALL_MINIMUM);
            information = IOSIM_SMALL_MINIMUM;
            status = STATUS_BUFFER_OVERFLOW; /* a warning: the header still goes back */
        } else {
            RtlCopyMemory(buffer, IOSIM_SMALL_HEADER, IOSIM_SMALL_MINIMUM);
            RtlCopyMemory(buffer + IOSIM_SMALL_MINIMUM, IOSIM_SMALL_BODY, IOSIM_SMALL_FULL - IOSIM_SMALL_MINIMUM);
            information = IOSIM_SMALL_FULL;
        }
        DbgPrint("ioctl_buffered: SMALL, %lu of %d byte(s) fit\n", (ULONG)information, IOSIM_SMALL_FULL);
        break;
    default:
        DbgPrint("ioctl_buffered: unknown control code\n");
        status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }

    DbgPrint("ioctl_buffered: completing with 0x%08X, Information %lu\n", status, (ULONG)information);
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}
