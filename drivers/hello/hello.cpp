// hello.cpp - sample driver: a named device and a symbolic link an app can open.
//
// Lesson (seed 000 §6, "NT驱动的基本结构"): DriverEntry creates \Device\IosimHello and the
// link \??\IosimHello so that user mode can open "\\.\IosimHello"; CreateFile reaches
// the driver as IRP_MJ_CREATE, CloseHandle as IRP_MJ_CLEANUP then IRP_MJ_CLOSE.
// DriverUnload deletes the link and the device, in that order.
#include <ntddk.h>

typedef struct _HELLO_EXTENSION {
    UNICODE_STRING LinkName;
    ULONG OpenCount;
} HELLO_EXTENSION, *PHELLO_EXTENSION;

extern "C" DRIVER_UNLOAD HelloUnload;
extern "C" _Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH HelloCreateClose;
extern "C" _Dispatch_type_(IRP_MJ_CLEANUP) DRIVER_DISPATCH HelloCleanup;

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    DbgPrint("hello: DriverEntry, registry path %wZ\n", RegistryPath);
    DriverObject->DriverUnload = HelloUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = HelloCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = HelloCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = HelloCleanup;

    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(L"\\Device\\IosimHello");
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(HELLO_EXTENSION), &deviceName, FILE_DEVICE_UNKNOWN,
                                     FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status)) {
        DbgPrint("hello: IoCreateDevice failed 0x%08X\n", status);
        return status;
    }
    PHELLO_EXTENSION ext = (PHELLO_EXTENSION)device->DeviceExtension;
    RtlInitUnicodeString(&ext->LinkName, L"\\??\\IosimHello");
    status = IoCreateSymbolicLink(&ext->LinkName, &deviceName);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

extern "C" VOID HelloUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PHELLO_EXTENSION ext = (PHELLO_EXTENSION)device->DeviceExtension;
    DbgPrint("hello: DriverUnload after %lu open(s)\n", ext->OpenCount);
    IoDeleteSymbolicLink(&ext->LinkName);
    IoDeleteDevice(device);
}

extern "C" NTSTATUS HelloCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    PHELLO_EXTENSION ext = (PHELLO_EXTENSION)DeviceObject->DeviceExtension;
    if (stack->MajorFunction == IRP_MJ_CREATE) {
        ext->OpenCount++;
        DbgPrint("hello: IRP_MJ_CREATE from process %p, desired access 0x%08X\n", PsGetCurrentProcessId(),
                 stack->Parameters.Create.SecurityContext->DesiredAccess);
    } else {
        DbgPrint("hello: IRP_MJ_CLOSE\n");
    }
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

extern "C" NTSTATUS HelloCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    DbgPrint("hello: IRP_MJ_CLEANUP (the last handle closed)\n");
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}
