/*
 * neither.c - sample driver: METHOD_NEITHER done safely (probe, then __try/__except).
 *
 * Lesson: a METHOD_NEITHER request hands the driver the caller's raw addresses, input
 * in Parameters.DeviceIoControl.Type3InputBuffer and output in Irp->UserBuffer. The I/O
 * manager has neither copied nor checked them, so the driver does what it would
 * otherwise have done:
 *  1. It uses them only here, in the dispatch routine, which runs in the caller's thread
 *     and so in the caller's address space. It keeps no copy of the pointers (see
 *     drivers/neither_unsafe for what happens when a driver does).
 *  2. ProbeForRead / ProbeForWrite check that each range is user memory (not a kernel
 *     address the caller slipped in) and aligned as the data needs; ProbeForWrite also
 *     checks that the output pages are writable now.
 *  3. Every access is inside __try/__except. The probe does not make the buffer stay
 *     valid: the caller may pass memory it already freed, or free it while the driver
 *     works. An access that faults on a user address becomes an exception that lands in
 *     the __except block, which fails the request with the exception's code.
 *  4. Each input byte is read once, into a local, before it is used: the caller can
 *     change its buffer at any moment.
 * A bad buffer thus gives STATUS_ACCESS_VIOLATION (or STATUS_DATATYPE_MISALIGNMENT),
 * which the app sees as ERROR_NOACCESS (998), and the machine goes on.
 */
#include <ntddk.h>

#include "neither_public.h"

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD NeitherUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH NeitherCreateClose;
_Dispatch_type_(IRP_MJ_DEVICE_CONTROL) DRIVER_DISPATCH NeitherControl;

/* IOCTL_NEITHER_UPPER: the input text, upper-cased, into the output buffer. */
static NTSTATUS NeitherUpper(PVOID input, ULONG inLength, PVOID output, ULONG outLength, ULONG_PTR *information)
{
    NTSTATUS status;
    ULONG i;

    *information = 0;
    if (outLength < inLength)
        return STATUS_BUFFER_TOO_SMALL;
    __try {
        ProbeForRead(input, inLength, sizeof(UCHAR));
        ProbeForWrite(output, outLength, sizeof(UCHAR));
        for (i = 0; i < inLength; i++) {
            UCHAR c = ((volatile UCHAR *)input)[i];
            ((PUCHAR)output)[i] = (c >= 'a' && c <= 'z') ? (UCHAR)(c - 'a' + 'A') : c;
        }
        *information = inLength;
        status = STATUS_SUCCESS;
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        status = GetExceptionCode();
        *information = 0;
    }
    return status;
}

/* IOCTL_NEITHER_SUM: the sum of the input ULONGs, into the output ULONG. */
static NTSTATUS NeitherSum(PVOID input, ULONG inLength, PVOID output, ULONG outLength, ULONG_PTR *information)
{
    NTSTATUS status;
    ULONG i, sum = 0;

    *information = 0;
    if (inLength % sizeof(ULONG) != 0)
        return STATUS_INVALID_PARAMETER;
    if (outLength < sizeof(ULONG))
        return STATUS_BUFFER_TOO_SMALL;
    __try {
        /* The alignment argument is the data's: a ULONG array must be 4-byte aligned. */
        ProbeForRead(input, inLength, sizeof(ULONG));
        ProbeForWrite(output, sizeof(ULONG), sizeof(ULONG));
        for (i = 0; i < inLength / sizeof(ULONG); i++)
            sum += ((volatile ULONG *)input)[i];
        *(PULONG)output = sum;
        *information = sizeof(ULONG);
        status = STATUS_SUCCESS;
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        status = GetExceptionCode();
        *information = 0;
    }
    return status;
}

NTSTATUS NeitherControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG code = stack->Parameters.DeviceIoControl.IoControlCode;
    PVOID input = stack->Parameters.DeviceIoControl.Type3InputBuffer; /* the caller's address */
    PVOID output = Irp->UserBuffer;                                    /* the caller's address */
    ULONG inLength = stack->Parameters.DeviceIoControl.InputBufferLength;
    ULONG outLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
    ULONG_PTR information = 0;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(DeviceObject);
    DbgPrint("neither: control code 0x%08X from process %p: input %p (%lu bytes), output %p (%lu bytes)\n", code,
             PsGetCurrentProcessId(), input, inLength, output, outLength);
    switch (code) {
    case IOCTL_NEITHER_UPPER:
        status = NeitherUpper(input, inLength, output, outLength, &information);
        break;
    case IOCTL_NEITHER_SUM:
        status = NeitherSum(input, inLength, output, outLength, &information);
        break;
    default:
        status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }
    if (status == STATUS_ACCESS_VIOLATION || status == STATUS_DATATYPE_MISALIGNMENT)
        DbgPrint("neither: the caller's buffers raised 0x%08X; the request fails, nothing crashed\n", status);
    /* METHOD_NEITHER: no copy back happens; Information only tells the caller the count. */
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

NTSTATUS NeitherCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

VOID NeitherUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimNeither");
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IosimNeither");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimNeither");
    PDEVICE_OBJECT device;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    /* Neither DO_BUFFERED_IO nor DO_DIRECT_IO: the control codes carry their own method. */
    DriverObject->MajorFunction[IRP_MJ_CREATE] = NeitherCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = NeitherCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = NeitherControl;
    DriverObject->DriverUnload = NeitherUnload;
    return STATUS_SUCCESS;
}
