// sharedmem.cpp - sample driver: a kernel buffer mapped into an app (a shared-memory channel).
//
// Lesson (seed 002's "MDL映射实现内存映射", continuous communication through shared memory):
//  - DriverEntry allocates SHAREDMEM_SIZE bytes of non-paged pool and describes them with
//    an MDL: IoAllocateMdl, then MmBuildMdlForNonPagedPool, which fills in the page frame
//    numbers (non-paged pool is resident, so nothing needs locking).
//  - IOCTL_SHAREDMEM_MAP maps those same frames into the calling process with
//    MmMapLockedPagesSpecifyCache(mdl, UserMode, MmCached, NULL, FALSE,
//    NormalPagePriority). The dispatch routine runs in the caller's context, which is the
//    process the mapping goes into. With UserMode the routine raises an exception when it
//    cannot map (it does not return NULL), so the call sits inside __try/__except.
//  - From then on, the driver writes at its kernel address and the app reads at its user
//    address (and the other way round): two virtual addresses, one set of physical pages,
//    no copy. The control codes after MAP carry no data; they only say "look now".
//  - The mapping belongs to one process and must be removed in that process's context:
//    MmUnmapLockedPages on IOCTL_SHAREDMEM_UNMAP from the process that mapped it, or at
//    IRP_MJ_CLEANUP of the handle that mapped it (when the app closes it or exits without
//    asking), which also runs in that process. A mapping left behind after its process is
//    gone would keep the pages reachable from nowhere.
//  - DriverUnload frees the MDL, then the pool.
// The driver reads the app's reply once into its own stack copy, bounded by
// SHAREDMEM_TEXT_MAX: the app can change the shared page at any moment.
#include <ntddk.h>
#include <ntstrsafe.h>

#include "sharedmem_public.h"

namespace {

constexpr ULONG kTag = 'mhSI';

struct SHAREDMEM_EXTENSION {
    PUCHAR Buffer;            // SHAREDMEM_SIZE bytes of non-paged pool (the kernel side)
    PMDL Mdl;                 // describes Buffer's pages
    PVOID UserAddress;        // the mapping in MappedProcess, or NULL
    PEPROCESS MappedProcess;  // the process the mapping belongs to
    PFILE_OBJECT MappedBy;    // the handle (file object) that asked for it
    ULONG Messages;           // messages posted so far
};
using PSHAREDMEM_EXTENSION = SHAREDMEM_EXTENSION*;

NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

// Maps the buffer into the current process. Runs in the requester's context.
NTSTATUS MapIntoCaller(PSHAREDMEM_EXTENSION ext, PFILE_OBJECT file, SHAREDMEM_MAPPING* answer)
{
    if (ext->UserAddress != NULL)
        return STATUS_DEVICE_BUSY;
    PVOID user = NULL;
    NTSTATUS status = STATUS_SUCCESS;
    __try {
        user = MmMapLockedPagesSpecifyCache(ext->Mdl, UserMode, MmCached, NULL, FALSE, NormalPagePriority);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        status = GetExceptionCode();
    }
    if (!NT_SUCCESS(status)) {
        DbgPrint("sharedmem: MmMapLockedPagesSpecifyCache(UserMode) raised 0x%08X\n", status);
        return status;
    }
    ext->UserAddress = user;
    ext->MappedProcess = PsGetCurrentProcess();
    ext->MappedBy = file;
    DbgPrint("sharedmem: kernel buffer %p mapped at user address %p in process %p\n", ext->Buffer, user,
             PsGetCurrentProcessId());
    answer->UserAddress = (ULONGLONG)(ULONG_PTR)user;
    answer->Size = SHAREDMEM_SIZE;
    answer->Reserved = 0;
    return STATUS_SUCCESS;
}

// Removes the mapping. The caller checked that the current process is the one it is in.
void UnmapFromCaller(PSHAREDMEM_EXTENSION ext, const char* why)
{
    DbgPrint("sharedmem: unmapping user address %p (%s)\n", ext->UserAddress, why);
    MmUnmapLockedPages(ext->UserAddress, ext->Mdl);
    ext->UserAddress = NULL;
    ext->MappedProcess = NULL;
    ext->MappedBy = NULL;
}

}  // namespace

extern "C" DRIVER_UNLOAD SharedMemUnload;
extern "C" _Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH SharedMemCreateClose;
extern "C" _Dispatch_type_(IRP_MJ_CLEANUP) DRIVER_DISPATCH SharedMemCleanup;
extern "C" _Dispatch_type_(IRP_MJ_DEVICE_CONTROL) DRIVER_DISPATCH SharedMemControl;

extern "C" NTSTATUS SharedMemControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    auto ext = (PSHAREDMEM_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG outLength = stack->Parameters.DeviceIoControl.OutputBufferLength;

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_SHAREDMEM_MAP: {
        if (outLength < sizeof(SHAREDMEM_MAPPING))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        auto answer = (SHAREDMEM_MAPPING*)Irp->AssociatedIrp.SystemBuffer;
        NTSTATUS status = MapIntoCaller(ext, stack->FileObject, answer);
        return Complete(Irp, status, NT_SUCCESS(status) ? sizeof(SHAREDMEM_MAPPING) : 0);
    }
    case IOCTL_SHAREDMEM_POST_MESSAGE: {
        // Written at the kernel address only; the app sees it through its own mapping.
        PCHAR message = (PCHAR)ext->Buffer + SHAREDMEM_MESSAGE_OFFSET;
        ext->Messages++;
        RtlStringCbPrintfA(message, SHAREDMEM_TEXT_MAX, "message #%lu from the sharedmem driver", ext->Messages);
        DbgPrint("sharedmem: wrote \"%s\" at kernel address %p\n", message, message);
        return Complete(Irp, STATUS_SUCCESS, 0);
    }
    case IOCTL_SHAREDMEM_READ_REPLY: {
        // One bounded copy out of the shared page, then only the copy is used.
        CHAR reply[SHAREDMEM_TEXT_MAX];
        RtlCopyMemory(reply, ext->Buffer + SHAREDMEM_REPLY_OFFSET, sizeof(reply));
        reply[sizeof(reply) - 1] = '\0';
        size_t length = 0;
        RtlStringCbLengthA(reply, sizeof(reply), &length);
        DbgPrint("sharedmem: the reply at kernel address %p reads \"%s\"\n", ext->Buffer + SHAREDMEM_REPLY_OFFSET,
                 reply);
        if (outLength < length)
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        RtlCopyMemory(Irp->AssociatedIrp.SystemBuffer, reply, length);
        return Complete(Irp, STATUS_SUCCESS, length);
    }
    case IOCTL_SHAREDMEM_UNMAP:
        if (ext->UserAddress == NULL)
            return Complete(Irp, STATUS_INVALID_DEVICE_STATE, 0);
        // A user mapping is removed in the context of the process it is in.
        if (ext->MappedProcess != PsGetCurrentProcess())
            return Complete(Irp, STATUS_ACCESS_DENIED, 0);
        UnmapFromCaller(ext, "the app asked");
        return Complete(Irp, STATUS_SUCCESS, 0);
    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

extern "C" NTSTATUS SharedMemCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    auto ext = (PSHAREDMEM_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    // The last handle of the file object that mapped: the app closed it or is exiting.
    if (ext->UserAddress != NULL && ext->MappedBy == stack->FileObject) {
        if (ext->MappedProcess == PsGetCurrentProcess())
            UnmapFromCaller(ext, "its handle is being closed");
        else
            DbgPrint("sharedmem: the mapping's handle closes in another process; the mapping cannot be removed "
                     "here\n");
    }
    return Complete(Irp, STATUS_SUCCESS, 0);
}

extern "C" NTSTATUS SharedMemCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

extern "C" VOID SharedMemUnload(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = DriverObject->DeviceObject;
    auto ext = (PSHAREDMEM_EXTENSION)device->DeviceExtension;
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimSharedMem");
    if (ext->UserAddress != NULL)
        DbgPrint("sharedmem: still mapped at %p at unload (not in that process's context: cannot unmap)\n",
                 ext->UserAddress);
    IoFreeMdl(ext->Mdl);
    ExFreePoolWithTag(ext->Buffer, kTag);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(device);
}

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\IosimSharedMem");
    UNICODE_STRING link = RTL_CONSTANT_STRING(L"\\??\\IosimSharedMem");
    PDEVICE_OBJECT device;
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(SHAREDMEM_EXTENSION), &name, FILE_DEVICE_UNKNOWN,
                                     FILE_DEVICE_SECURE_OPEN, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    auto ext = (PSHAREDMEM_EXTENSION)device->DeviceExtension;
    RtlZeroMemory(ext, sizeof(*ext));

    // The kernel side of the channel: zeroed non-paged pool, and an MDL describing it.
    ext->Buffer = (PUCHAR)ExAllocatePool2(POOL_FLAG_NON_PAGED, SHAREDMEM_SIZE, kTag);
    if (ext->Buffer == NULL) {
        IoDeleteDevice(device);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    ext->Mdl = IoAllocateMdl(ext->Buffer, SHAREDMEM_SIZE, FALSE, FALSE, NULL);
    if (ext->Mdl == NULL) {
        ExFreePoolWithTag(ext->Buffer, kTag);
        IoDeleteDevice(device);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    MmBuildMdlForNonPagedPool(ext->Mdl);
    DbgPrint("sharedmem: %d bytes of non-paged pool at %p, MDL %p (%lu pages)\n", SHAREDMEM_SIZE, ext->Buffer,
             ext->Mdl, (ULONG)ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext->Buffer, SHAREDMEM_SIZE));

    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoFreeMdl(ext->Mdl);
        ExFreePoolWithTag(ext->Buffer, kTag);
        IoDeleteDevice(device);
        return status;
    }
    device->Flags |= DO_BUFFERED_IO;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = SharedMemCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = SharedMemCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = SharedMemCleanup;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = SharedMemControl;
    DriverObject->DriverUnload = SharedMemUnload;
    return STATUS_SUCCESS;
}
