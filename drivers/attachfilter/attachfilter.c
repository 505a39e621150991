/*
 * attachfilter.c - sample generic filter: attaches to any named device at run time and
 * detaches cleanly (seed 004, device stacks).
 *
 * Lesson: a filter does not have to know its target when it is built. This one creates only
 * a control device (\Device\IosimAttachFilter, \??\IosimAttachFilter) in DriverEntry; an
 * app names a target with IOCTL_ATTACHFILTER_ATTACH, and the driver then creates an
 * unnamed filter device and puts it on top of the target's stack with IoAttachDevice. From
 * then on every request to the target's name passes through the filter first, which counts
 * it and hands it down untouched (IoSkipCurrentIrpStackLocation). Rules it keeps:
 *  - copy the transfer flags (DO_BUFFERED_IO / DO_DIRECT_IO) and the device type of the
 *    device below, and clear DO_DEVICE_INITIALIZING, after attaching;
 *  - one dispatch table serves every device of the driver, so each request is first sorted
 *    by which device it arrived at (control device or a filter);
 *  - detach only a filter that is still directly on top of its lower device: detaching one
 *    with another layer above would cut that layer off (refused with STATUS_DEVICE_BUSY);
 *  - at unload, detach every filter before deleting it.
 */
#include <ntddk.h>

#include "attachfilter_public.h"

#define MAX_NAME_CHARS 127

typedef struct _COMMON_EXTENSION {
    BOOLEAN IsFilter;
} COMMON_EXTENSION;

typedef struct _CONTROL_EXTENSION {
    COMMON_EXTENSION Common;
    UNICODE_STRING LinkName;
} CONTROL_EXTENSION, *PCONTROL_EXTENSION;

typedef struct _FILTER_EXTENSION {
    COMMON_EXTENSION Common;
    PDEVICE_OBJECT Lower;
    ULONG Seen;
    UNICODE_STRING Target;
    WCHAR TargetBuffer[MAX_NAME_CHARS + 1];
} FILTER_EXTENSION, *PFILTER_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD AttachFilterUnload;
static DRIVER_DISPATCH AttachFilterDispatch;

static PDRIVER_OBJECT g_Driver;
static PDEVICE_OBJECT g_Control;

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(L"\\Device\\IosimAttachFilter");
    PCONTROL_EXTENSION ext;
    NTSTATUS status;
    ULONG i;

    UNREFERENCED_PARAMETER(RegistryPath);
    g_Driver = DriverObject;
    for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = AttachFilterDispatch;
    DriverObject->DriverUnload = AttachFilterUnload;
    status = IoCreateDevice(DriverObject, sizeof(CONTROL_EXTENSION), &deviceName, FILE_DEVICE_UNKNOWN, 0, FALSE,
                            &g_Control);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PCONTROL_EXTENSION)g_Control->DeviceExtension;
    ext->Common.IsFilter = FALSE;
    RtlInitUnicodeString(&ext->LinkName, L"\\??\\IosimAttachFilter");
    status = IoCreateSymbolicLink(&ext->LinkName, &deviceName);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_Control);
        return status;
    }
    g_Control->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

/* The filter device attached to `name`, or NULL. */
static PDEVICE_OBJECT FindFilter(PCUNICODE_STRING name)
{
    PDEVICE_OBJECT device;
    for (device = g_Driver->DeviceObject; device != NULL; device = device->NextDevice) {
        PFILTER_EXTENSION ext = (PFILTER_EXTENSION)device->DeviceExtension;
        if (ext->Common.IsFilter && RtlEqualUnicodeString(&ext->Target, name, TRUE))
            return device;
    }
    return NULL;
}

static NTSTATUS Attach(PUNICODE_STRING name)
{
    PDEVICE_OBJECT filter;
    PFILTER_EXTENSION ext;
    NTSTATUS status;

    if (FindFilter(name) != NULL)
        return STATUS_OBJECT_NAME_COLLISION;
    status = IoCreateDevice(g_Driver, sizeof(FILTER_EXTENSION), NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &filter);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PFILTER_EXTENSION)filter->DeviceExtension;
    ext->Common.IsFilter = TRUE;
    RtlCopyMemory(ext->TargetBuffer, name->Buffer, name->Length);
    ext->Target.Buffer = ext->TargetBuffer;
    ext->Target.Length = name->Length;
    ext->Target.MaximumLength = sizeof(ext->TargetBuffer);
    status = IoAttachDevice(filter, &ext->Target, &ext->Lower);
    if (!NT_SUCCESS(status)) {
        DbgPrint("attachfilter: cannot attach to %wZ: 0x%08X\n", &ext->Target, status);
        IoDeleteDevice(filter);
        return status;
    }
    filter->Flags |= ext->Lower->Flags & (DO_BUFFERED_IO | DO_DIRECT_IO | DO_POWER_PAGABLE);
    filter->DeviceType = ext->Lower->DeviceType;
    filter->Characteristics = ext->Lower->Characteristics;
    filter->Flags &= ~DO_DEVICE_INITIALIZING;
    DbgPrint("attachfilter: attached to %wZ (the stack is now %d deep)\n", &ext->Target, filter->StackSize);
    return STATUS_SUCCESS;
}

static NTSTATUS Detach(PDEVICE_OBJECT filter)
{
    PFILTER_EXTENSION ext = (PFILTER_EXTENSION)filter->DeviceExtension;
    if (ext->Lower->AttachedDevice != filter || filter->AttachedDevice != NULL) {
        DbgPrint("attachfilter: %wZ has another layer above the filter; detach that first\n", &ext->Target);
        return STATUS_DEVICE_BUSY;
    }
    DbgPrint("attachfilter: detached from %wZ after %lu IRP(s)\n", &ext->Target, ext->Seen);
    IoDetachDevice(ext->Lower);
    IoDeleteDevice(filter);
    return STATUS_SUCCESS;
}

static VOID AttachFilterUnload(PDRIVER_OBJECT DriverObject)
{
    PCONTROL_EXTENSION control = (PCONTROL_EXTENSION)g_Control->DeviceExtension;
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    while (device != NULL) {
        PDEVICE_OBJECT next = device->NextDevice;
        PFILTER_EXTENSION ext = (PFILTER_EXTENSION)device->DeviceExtension;
        if (ext->Common.IsFilter) {
            IoDetachDevice(ext->Lower);
            IoDeleteDevice(device);
        }
        device = next;
    }
    IoDeleteSymbolicLink(&control->LinkName);
    IoDeleteDevice(g_Control);
}

static NTSTATUS ControlDispatch(PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    UNICODE_STRING name;
    PDEVICE_OBJECT filter;
    ULONG inLength;

    if (stack->MajorFunction == IRP_MJ_CREATE || stack->MajorFunction == IRP_MJ_CLOSE ||
        stack->MajorFunction == IRP_MJ_CLEANUP)
        return Complete(Irp, STATUS_SUCCESS, 0);
    if (stack->MajorFunction != IRP_MJ_DEVICE_CONTROL)
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);

    inLength = stack->Parameters.DeviceIoControl.InputBufferLength;
    if (inLength == 0 || inLength % sizeof(WCHAR) != 0 || inLength > MAX_NAME_CHARS * sizeof(WCHAR))
        return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
    name.Buffer = (PWCH)Irp->AssociatedIrp.SystemBuffer;
    name.Length = (USHORT)inLength;
    name.MaximumLength = (USHORT)inLength;

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_ATTACHFILTER_ATTACH:
        return Complete(Irp, Attach(&name), 0);
    case IOCTL_ATTACHFILTER_DETACH:
        filter = FindFilter(&name);
        return Complete(Irp, filter != NULL ? Detach(filter) : STATUS_NOT_FOUND, 0);
    case IOCTL_ATTACHFILTER_COUNT:
        filter = FindFilter(&name);
        if (filter == NULL)
            return Complete(Irp, STATUS_NOT_FOUND, 0);
        if (stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(ULONG))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        *(PULONG)Irp->AssociatedIrp.SystemBuffer = ((PFILTER_EXTENSION)filter->DeviceExtension)->Seen;
        return Complete(Irp, STATUS_SUCCESS, sizeof(ULONG));
    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

static NTSTATUS AttachFilterDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PFILTER_EXTENSION ext = (PFILTER_EXTENSION)DeviceObject->DeviceExtension;
    if (!ext->Common.IsFilter)
        return ControlDispatch(Irp);
    ext->Seen++;
    DbgPrint("attachfilter: major 0x%02X for %wZ passes through\n", IoGetCurrentIrpStackLocation(Irp)->MajorFunction,
             &ext->Target);
    IoSkipCurrentIrpStackLocation(Irp);
    return IoCallDriver(ext->Lower, Irp);
}
