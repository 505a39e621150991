/*
 * neither_unsafe.c - sample driver, WRONG ON PURPOSE: it keeps a METHOD_NEITHER pointer.
 *
 * Lesson: a user address is meaningful only in the process it came from, and only while
 * that process's request is running. This driver breaks both rules:
 *  - IOCTL_UNSAFE_REMEMBER stores Type3InputBuffer (the caller's raw address) and its
 *    length in a global, without probing it and without copying the data.
 *  - IOCTL_UNSAFE_USE_REMEMBERED reads through the stored address, with no probe and no
 *    __try, in whatever context that request runs. Sent by the process that gave the
 *    pointer, it works (the address is that process's memory, visible now). Sent by
 *    another process, the address is not mapped in the current address space: the read
 *    faults, nothing catches it, and Windows stops with PAGE_FAULT_IN_NONPAGED_AREA
 *    (0x50). iosim's report names the line below marked "the hazard", the address, the
 *    process that owns it and the process whose context the driver was running in.
 *  - After IOCTL_UNSAFE_TOUCH_AT_UNLOAD, DriverUnload reads through it as well. Unload
 *    runs in a system thread of the System process, which has no user address space at
 *    all: the same bug check, with "the System process" as the current context.
 * The fix is drivers/neither: probe and use the buffer inside __try/__except during the
 * request itself, and copy what must be kept into pool (or lock it with an MDL and map
 * it into system space).
 * The reads go byte by byte through a volatile pointer, as a parsing loop would, so that
 * the faulting instruction is in this file and not inside a library memcpy.
 */
#include <ntddk.h>

#include "neither_unsafe_public.h"

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD UnsafeUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH UnsafeCreateClose;
_Dispatch_type_(IRP_MJ_DEVICE_CONTROL) DRIVER_DISPATCH UnsafeControl;

/* The mistake: a user address kept after its request completed. */
static volatile UCHAR *g_Remembered;
static ULONG g_RememberedLength;
static HANDLE g_RememberedBy;
static BOOLEAN g_TouchAtUnload;

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

NTSTATUS UnsafeControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG i, count;
    PUCHAR out;

    UNREFERENCED_PARAMETER(DeviceObject);
    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_UNSAFE_REMEMBER:
        g_Remembered = (volatile UCHAR *)stack->Parameters.DeviceIoControl.Type3InputBuffer;
        g_RememberedLength = stack->Parameters.DeviceIoControl.InputBufferLength;
        g_RememberedBy = PsGetCurrentProcessId();
        DbgPrint("neither_unsafe: remembered %p (%lu bytes) given by process %p\n", (PVOID)g_Remembered,
                 g_RememberedLength, g_RememberedBy);
        return Complete(Irp, STATUS_SUCCESS, 0);

    case IOCTL_UNSAFE_USE_REMEMBERED:
        if (g_Remembered == NULL)
            return Complete(Irp, STATUS_INVALID_DEVICE_STATE, 0);
        DbgPrint("neither_unsafe: reading %p (given by process %p) in the context of process %p\n",
                 (PVOID)g_Remembered, g_RememberedBy, PsGetCurrentProcessId());
        count = g_RememberedLength;
        if (count > stack->Parameters.DeviceIoControl.OutputBufferLength)
            count = stack->Parameters.DeviceIoControl.OutputBufferLength;
        out = (PUCHAR)Irp->AssociatedIrp.SystemBuffer;
        for (i = 0; i < count; i++)
            out[i] = g_Remembered[i]; /* the hazard: a kept user pointer, no probe, no __try */
        return Complete(Irp, STATUS_SUCCESS, count);

    case IOCTL_UNSAFE_TOUCH_AT_UNLOAD:
        g_TouchAtUnload = TRUE;
        return Complete(Irp, STATUS_SUCCESS, 0);

    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

NTSTATUS UnsafeCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

VOID UnsafeUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimNeitherUnsafe");
    if (g_TouchAtUnload && g_Remembered != NULL) {
        DbgPrint("neither_unsafe: DriverUnload reads %p (given by process %p) in the context of process %p\n",
                 (PVOID)g_Remembered, g_RememberedBy, PsGetCurrentProcessId());
        DbgPrint("neither_unsafe: first byte 0x%02X\n", g_Remembered[0]); /* the hazard at unload */
    }
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IosimNeitherUnsafe");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimNeitherUnsafe");
    PDEVICE_OBJECT device;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    g_Remembered = NULL;
    g_RememberedLength = 0;
    g_TouchAtUnload = FALSE;
    status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = UnsafeCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = UnsafeCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = UnsafeControl;
    DriverObject->DriverUnload = UnsafeUnload;
    return STATUS_SUCCESS;
}
