/*
 * buggy.c - sample driver that gets things wrong on purpose, to show iosim's reports.
 *
 * Two classic mistakes:
 *  1. DriverUnload deletes a symbolic link under a different name than the one
 *     DriverEntry created (seed 002 does exactly this: it creates \??\My_Device and
 *     deletes \??\My_Driver). IoDeleteDevice does not remove links, so the link is left
 *     behind pointing at a deleted device, and the next load cannot create it again.
 *  2. IOCTL_BUGGY_DOUBLE_COMPLETE completes its IRP twice. After the first
 *     IoCompleteRequest the IRP is no longer the driver's; Windows stops with bug check
 *     MULTIPLE_IRP_COMPLETE_REQUESTS (0x44), and so does iosim, naming this file's line.
 *  3. IOCTL_BUGGY_NULL_POINTER writes through a pointer it never set: a page fault in
 *     kernel mode, PAGE_FAULT_IN_NONPAGED_AREA (0x50), naming the line.
 *  4. IOCTL_BUGGY_IRQL_LEAK takes a spin lock on one path and returns without releasing
 *     it: the dispatch routine returns at DISPATCH_LEVEL although it was called at
 *     PASSIVE_LEVEL. Driver Verifier stops with DRIVER_VERIFIER_IOMANAGER_VIOLATION (0xC9,
 *     parameter 1 = 5), naming the dispatch routine and both IRQLs.
 */
#include <ntddk.h>
#include "buggy_public.h"
typedef struct _BUGGY_STATE {
    ULONG Counter;
} BUGGY_STATE, *PBUGGY_STATE;

static PBUGGY_STATE g_state; /* never allocated: the mistake behind IOCTL_BUGGY_NULL_POINTER */
static KSPIN_LOCK g_lock;

static VOID BuggyUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING wrongLink;
    DbgPrint("buggy: DriverUnload\n");
    IoDeleteDevice(DriverObject->DeviceObject);
    RtlInitUnicodeString(&wrongLink, L"\\??\\IosimBuggyLink"); /* created as \??\IosimBuggy */
    IoDeleteSymbolicLink(&wrongLink);
}

static NTSTATUS BuggyCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS BuggyControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    if (stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_BUGGY_DOUBLE_COMPLETE) {
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        DbgPrint("buggy: completed the IRP once... and now again\n");
        IoCompleteRequest(Irp, IO_NO_INCREMENT); /* the second completion: bug check 0x44 */
        return STATUS_SUCCESS;
    }
    if (stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_BUGGY_NULL_POINTER) {
        g_state->Counter++; /* g_state is NULL: page fault */
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
    }
    if (stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_BUGGY_IRQL_LEAK) {
        KIRQL oldIrql;
        KeAcquireSpinLock(&g_lock, &oldIrql);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS; /* forgot KeReleaseSpinLock(&g_lock, oldIrql): back at DISPATCH_LEVEL */
    }
    Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_INVALID_DEVICE_REQUEST;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING deviceName, linkName;
    PDEVICE_OBJECT device;
    NTSTATUS status;

    KeInitializeSpinLock(&g_lock);
    DriverObject->DriverUnload = BuggyUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = BuggyCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = BuggyCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = BuggyControl;

    RtlInitUnicodeString(&deviceName, L"\\Device\\IosimBuggy");
    status = IoCreateDevice(DriverObject, 0, &deviceName, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    device->Flags |= DO_BUFFERED_IO;
    RtlInitUnicodeString(&linkName, L"\\??\\IosimBuggy");
    status = IoCreateSymbolicLink(&linkName, &deviceName);
    DbgPrint("buggy: IoCreateSymbolicLink returned 0x%08X\n", status); /* and carries on regardless */
    return STATUS_SUCCESS;
}
