// zw_file.cpp - the kernel-mode file routines a driver calls to use another driver's
// device: ZwCreateFile, ZwOpenFile, ZwReadFile, ZwWriteFile, ZwDeviceIoControlFile,
// ZwQueryInformationFile, ZwClose.
//
// Rules (as Windows documents them):
//  - These are the I/O system services called with PreviousMode = KernelMode: the IRPs
//    they build carry Irp->RequestorMode == KernelMode, so the target trusts the buffers
//    (no probing), and the handle's granted access is not checked against the request.
//  - The name comes from OBJECT_ATTRIBUTES (InitializeObjectAttributes): a full NT path
//    such as L"\\Device\\IosimKbuffer" or L"\\??\\IosimKbuffer"; a request to it goes to the
//    top of the device stack the name resolves to. No such name: STATUS_OBJECT_NAME_NOT_FOUND.
//  - OBJ_KERNEL_HANDLE makes a kernel handle (System process's table, valid in any context,
//    usable only from kernel mode). Without it the handle goes into the current process's
//    table: from DriverEntry that is the System process, from a dispatch routine running in
//    an app's thread it is the app's own table - the app could use or close it, and the
//    driver cannot use it from another context. Drivers should always pass OBJ_KERNEL_HANDLE.
//  - ZwClose returns STATUS_INVALID_HANDLE for a handle that is not valid in the caller's
//    context.
//  - An Event handle passed to ZwReadFile/ZwWriteFile/ZwDeviceIoControlFile is cleared when
//    the request starts and set when it completes (not for an error returned at once).
//    Requests run synchronously in this version, so a request returns finished unless the
//    target pended it; APC routines (ApcRoutine) are not simulated yet and are refused.
// Named pipes: "\??\pipe\name" reaches the named-pipe file system (npfs/, docs/pipes.md)
// as a client end of a pipe an app created; reads and writes go through it like any file.
// Relative opens (RootDirectory) are not simulated yet.
// NT counterparts: ZwCreateFile/NtCreateFile (IoCreateFile), ZwOpenFile, ZwReadFile,
// ZwWriteFile, ZwDeviceIoControlFile, ZwQueryInformationFile, ZwClose (ObCloseHandle).
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "crt/format.h"
#include "io_api.h"
#include "irp.h"
#include "ke/event.h"
#include "ldr/symbolize.h"
#include "ob/kernel_handle.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

void trace_call(const void* caller, std::string text)
{
    if (System* sys = System::current(); sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0, fmt::format("{} ({})", text, ldr::describe_call_site(caller)));
}

std::u16string_view name_of(const UNICODE_STRING* s)
{
    return std::u16string_view(reinterpret_cast<const char16_t*>(s->Buffer), s->Length / sizeof(WCHAR));
}

NTSTATUS open(PHANDLE handle, ACCESS_MASK access, POBJECT_ATTRIBUTES attributes, PIO_STATUS_BLOCK iosb, ULONG share,
              ULONG disposition, ULONG options, const char* routine, const void* caller)
{
    if (handle == nullptr || attributes == nullptr || iosb == nullptr)
        return STATUS_INVALID_PARAMETER;
    *handle = nullptr;
    if (attributes->Length != sizeof(OBJECT_ATTRIBUTES) || (attributes->Attributes & ~OBJ_VALID_ATTRIBUTES) != 0 ||
        disposition > FILE_MAXIMUM_DISPOSITION)
        return STATUS_INVALID_PARAMETER;
    if (attributes->ObjectName == nullptr || attributes->ObjectName->Length == 0)
        return STATUS_OBJECT_NAME_INVALID;
    std::u16string_view name = name_of(attributes->ObjectName);
    if (attributes->RootDirectory != nullptr) {
        trace_call(caller, fmt::format("{}({}) relative to a RootDirectory handle: not simulated yet", routine,
                                       crt::to_utf8(name)));
        return STATUS_NOT_SUPPORTED;
    }
    if (name.front() != u'\\')
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    NTSTATUS status = create_file(name, access, share, disposition, options, KernelMode, attributes->Attributes, handle,
                                  iosb);
    trace_call(caller, fmt::format("{}({}{}) by a driver: {}{}", routine, crt::to_utf8(name),
                                   (attributes->Attributes & OBJ_KERNEL_HANDLE) != 0 ? ", OBJ_KERNEL_HANDLE" : "",
                                   status_text(status),
                                   NT_SUCCESS(status) ? fmt::format(", handle {}", *handle) : std::string()));
    return status;
}

// The Event parameter of the transfer routines: cleared now, set when the request ends.
class RequestEvent {
public:
    NTSTATUS open(HANDLE handle)
    {
        if (handle == nullptr)
            return STATUS_SUCCESS;
        void* object = nullptr;
        NTSTATUS status = ob::reference_by_handle(handle, KernelMode, &ke::event_type(), &object, nullptr);
        if (!NT_SUCCESS(status))
            return status;
        event_ = static_cast<ke::EventObject*>(object);
        KeClearEvent(&event_->event);
        return STATUS_SUCCESS;
    }
    void finish(NTSTATUS status)
    {
        if (event_ != nullptr && status != STATUS_PENDING && !NT_ERROR(status))
            KeSetEvent(&event_->event, IO_NO_INCREMENT, FALSE);
    }
    ~RequestEvent()
    {
        if (event_ != nullptr)
            ob::dereference(event_);
    }

private:
    ke::EventObject* event_ = nullptr;
};

}  // namespace

}  // namespace iosim::io

using namespace iosim;
using namespace iosim::io;

extern "C" {

NTSTATUS ZwCreateFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                      PIO_STATUS_BLOCK IoStatusBlock, PLARGE_INTEGER AllocationSize, ULONG FileAttributes,
                      ULONG ShareAccess, ULONG CreateDisposition, ULONG CreateOptions, PVOID EaBuffer, ULONG EaLength)
{
    return io::open(FileHandle, DesiredAccess, ObjectAttributes, IoStatusBlock, ShareAccess, CreateDisposition,
                    CreateOptions, "ZwCreateFile", __builtin_return_address(0));
}

NTSTATUS ZwOpenFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                    PIO_STATUS_BLOCK IoStatusBlock, ULONG ShareAccess, ULONG OpenOptions)
{
    return io::open(FileHandle, DesiredAccess, ObjectAttributes, IoStatusBlock, ShareAccess, FILE_OPEN, OpenOptions,
                    "ZwOpenFile", __builtin_return_address(0));
}

NTSTATUS ZwReadFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext,
                    PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length, PLARGE_INTEGER ByteOffset, PULONG Key)
{
    if (ApcRoutine != nullptr)
        return STATUS_NOT_SUPPORTED;  // completion APCs come with the scheduler
    RequestEvent event;
    if (NTSTATUS status = event.open(Event); !NT_SUCCESS(status))
        return status;
    NTSTATUS status = read_file(FileHandle, Buffer, Length, ByteOffset, KernelMode, IoStatusBlock);
    event.finish(status);
    return status;
}

NTSTATUS ZwWriteFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext,
                     PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length, PLARGE_INTEGER ByteOffset, PULONG Key)
{
    if (ApcRoutine != nullptr)
        return STATUS_NOT_SUPPORTED;
    RequestEvent event;
    if (NTSTATUS status = event.open(Event); !NT_SUCCESS(status))
        return status;
    NTSTATUS status = write_file(FileHandle, Buffer, Length, ByteOffset, KernelMode, IoStatusBlock);
    event.finish(status);
    return status;
}

NTSTATUS ZwDeviceIoControlFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext,
                               PIO_STATUS_BLOCK IoStatusBlock, ULONG IoControlCode, PVOID InputBuffer,
                               ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength)
{
    if (ApcRoutine != nullptr)
        return STATUS_NOT_SUPPORTED;
    RequestEvent event;
    if (NTSTATUS status = event.open(Event); !NT_SUCCESS(status))
        return status;
    // Always IRP_MJ_DEVICE_CONTROL, as NtDeviceIoControlFile: IRP_MJ_INTERNAL_DEVICE_CONTROL
    // comes only from IoBuildDeviceIoControlRequest.
    NTSTATUS status = device_io_control(FileHandle, IoControlCode, InputBuffer, InputBufferLength, OutputBuffer,
                                        OutputBufferLength, false, KernelMode, IoStatusBlock);
    event.finish(status);
    return status;
}

NTSTATUS ZwQueryInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock, PVOID FileInformation,
                                ULONG Length, FILE_INFORMATION_CLASS FileInformationClass)
{
    return query_information_file(FileHandle, FileInformation, Length, FileInformationClass, KernelMode,
                                  IoStatusBlock);
}

NTSTATUS ZwClose(HANDLE Handle)
{
    NTSTATUS status = close_handle(Handle, KernelMode);
    if (!NT_SUCCESS(status))
        trace_call(__builtin_return_address(0), fmt::format("ZwClose({}): {}", Handle, status_text(status)));
    return status;
}

}  // extern "C"
