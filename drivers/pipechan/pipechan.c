/*
 * pipechan.c - sample driver: talks to its app through the app's named pipe, both ways.
 *
 * Lesson (seed 002's PIPE channel, docs/pipes.md):
 *  - The app is the pipe server (CreateNamedPipe, ConnectNamedPipe); the driver is a client:
 *    ZwCreateFile on "\??\pipe\iosim_pipechan" with OBJ_KERNEL_HANDLE (a handle valid in
 *    any process, usable only from kernel mode) and FILE_SYNCHRONOUS_IO_NONALERT, so that
 *    ZwReadFile and ZwWriteFile wait until their request is done. The requests carry
 *    RequestorMode KernelMode: the named-pipe file system trusts the driver's buffers.
 *  - Which thread does the pipe work matters. The dialogue needs the app: it must read the
 *    greeting and write a reply before the driver's ZwReadFile can finish. Done inside the
 *    IOCTL, in the app's own thread, that ZwReadFile would wait for a reply only the waiting
 *    thread could write - a deadlock. So, as a real driver would, the IOCTL only starts a
 *    system thread (PsCreateSystemThread) and returns; the thread does the dialogue while
 *    the app's thread is free to serve the pipe, and ends itself when done.
 *  - ZwClose of the driver's last handle sends IRP_MJ_CLEANUP: the app's next ReadFile,
 *    once the data queued is read, fails with ERROR_BROKEN_PIPE.
 *  - IOCTL_PIPECHAN_RESULT waits for the thread object (KeWaitForSingleObject), then
 *    reports what the thread saw; DriverUnload waits for a thread still running too.
 * The codes and the result are in pipechan_public.h, shared with apps/pipechan_client.
 */
#include <ntddk.h>

#include "pipechan_public.h"

typedef struct _PIPECHAN_EXTENSION {
    UNICODE_STRING LinkName;
    PETHREAD Thread;    /* the session's system thread, referenced; NULL when none */
    FAST_MUTEX Lock;    /* guards Thread against two START requests */
    PIPECHAN_RESULT Result;
} PIPECHAN_EXTENSION, *PPIPECHAN_EXTENSION;

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD PipeChanUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH PipeChanCreateClose;
_Dispatch_type_(IRP_MJ_DEVICE_CONTROL) DRIVER_DISPATCH PipeChanDeviceControl;
KSTART_ROUTINE PipeChanSession;

static const char Greeting[] = "log: pipechan.sys connected, please reply";
static const char Acknowledgement[] = "log: pipechan.sys got your reply, bye";

/* Writes one message to the pipe; waits until it is done (synchronous handle). */
static NTSTATUS PipeWrite(HANDLE pipe, const char* text, ULONG length)
{
    IO_STATUS_BLOCK iosb;
    return ZwWriteFile(pipe, NULL, NULL, NULL, &iosb, (PVOID)text, length, NULL, NULL);
}

/* The session, in the driver's own system thread (System process, PASSIVE_LEVEL). */
VOID PipeChanSession(PVOID Context)
{
    PPIPECHAN_EXTENSION ext = (PPIPECHAN_EXTENSION)Context;
    PIPECHAN_RESULT* result = &ext->Result;
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES attributes;
    IO_STATUS_BLOCK iosb;
    HANDLE pipe = NULL;

    RtlInitUnicodeString(&name, PIPECHAN_PIPE_NT_NAME);
    InitializeObjectAttributes(&attributes, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    result->OpenStatus = ZwCreateFile(&pipe, GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE, &attributes, &iosb, NULL,
                                      FILE_ATTRIBUTE_NORMAL, 0, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0);
    if (!NT_SUCCESS(result->OpenStatus)) {
        DbgPrint("pipechan: cannot open the app's pipe: 0x%08X\n", result->OpenStatus);
        PsTerminateSystemThread(STATUS_SUCCESS);
        return;
    }
    /* Driver -> app. */
    result->WriteStatus = PipeWrite(pipe, Greeting, sizeof(Greeting) - 1);
    DbgPrint("pipechan: greeting written: 0x%08X\n", result->WriteStatus);
    /* App -> driver: waits here, in this thread, until the app writes its reply. */
    if (NT_SUCCESS(result->WriteStatus)) {
        result->ReadStatus = ZwReadFile(pipe, NULL, NULL, NULL, &iosb, result->Reply, sizeof(result->Reply) - 1,
                                        NULL, NULL);
        if (NT_SUCCESS(result->ReadStatus)) {
            result->ReplyLength = (ULONG)iosb.Information;
            result->Reply[result->ReplyLength] = 0;
            DbgPrint("pipechan: the app replied \"%s\"\n", result->Reply);
            PipeWrite(pipe, Acknowledgement, sizeof(Acknowledgement) - 1);
        }
    }
    ZwClose(pipe); /* IRP_MJ_CLEANUP: the app sees the pipe broken after the last message */
    PsTerminateSystemThread(STATUS_SUCCESS);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING deviceName = RTL_CONSTANT_STRING(L"\\Device\\IosimPipeChan");
    PDEVICE_OBJECT device;
    PPIPECHAN_EXTENSION ext;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = PipeChanUnload;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = PipeChanCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PipeChanCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = PipeChanDeviceControl;

    status = IoCreateDevice(DriverObject, sizeof(PIPECHAN_EXTENSION), &deviceName, FILE_DEVICE_UNKNOWN,
                            FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    ext = (PPIPECHAN_EXTENSION)device->DeviceExtension;
    ExInitializeFastMutex(&ext->Lock);
    RtlInitUnicodeString(&ext->LinkName, L"\\??\\IosimPipeChan");
    status = IoCreateSymbolicLink(&ext->LinkName, &deviceName);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

/* Waits for the session thread, if one was started, and lets go of its object. */
static void WaitForSession(PPIPECHAN_EXTENSION ext)
{
    PETHREAD thread;
    ExAcquireFastMutex(&ext->Lock);
    thread = ext->Thread;
    ext->Thread = NULL;
    ExReleaseFastMutex(&ext->Lock);
    if (thread != NULL) {
        KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(thread);
    }
}

VOID PipeChanUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    PPIPECHAN_EXTENSION ext = (PPIPECHAN_EXTENSION)device->DeviceExtension;
    WaitForSession(ext);
    IoDeleteSymbolicLink(&ext->LinkName);
    IoDeleteDevice(device);
}

NTSTATUS PipeChanCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS PipeChanDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPIPECHAN_EXTENSION ext = (PPIPECHAN_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status = STATUS_SUCCESS;
    ULONG_PTR information = 0;
    HANDLE thread;

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_PIPECHAN_START:
        ExAcquireFastMutex(&ext->Lock);
        if (ext->Thread != NULL) {
            status = STATUS_DEVICE_BUSY; /* one session at a time */
        } else {
            RtlZeroMemory(&ext->Result, sizeof(ext->Result));
            status = PsCreateSystemThread(&thread, THREAD_ALL_ACCESS, NULL, NULL, NULL, PipeChanSession, ext);
            if (NT_SUCCESS(status)) {
                ObReferenceObjectByHandle(thread, THREAD_ALL_ACCESS, *PsThreadType, KernelMode,
                                          (PVOID*)&ext->Thread, NULL);
                ZwClose(thread);
            }
        }
        ExReleaseFastMutex(&ext->Lock);
        break;
    case IOCTL_PIPECHAN_RESULT:
        if (stack->Parameters.DeviceIoControl.OutputBufferLength < sizeof(PIPECHAN_RESULT)) {
            status = STATUS_BUFFER_TOO_SMALL;
            break;
        }
        WaitForSession(ext);
        RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, &ext->Result, sizeof(PIPECHAN_RESULT));
        information = sizeof(PIPECHAN_RESULT);
        break;
    default:
        status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}
