// create.cpp - opening a device: name lookup, checks, IRP_MJ_CREATE, the handle.
//
// The name is looked up in the object namespace (symbolic links followed); it must end at
// a device. A device being deleted, unloaded or still initialising cannot be opened
// (STATUS_NO_SUCH_DEVICE), and an exclusive device refuses a second open while one is
// outstanding (STATUS_ACCESS_DENIED). IRP_MJ_CREATE goes to the top of the device's stack.
// NtCreateNamedPipeFile is the same open with IRP_MJ_CREATE_NAMED_PIPE and the pipe's
// NAMED_PIPE_CREATE_PARAMETERS (sim_io_manager/npfs answers it).
// NT counterparts: NtCreateFile, NtCreateNamedPipeFile, IopCreateFile, IopParseDevice,
// IopCheckDeviceAndDriver.
#include <fmt/format.h>

#include "crt/format.h"

#include "device.h"
#include "file.h"
#include "io_api.h"
#include "npfs/npfs.h"
#include "ob/kernel_handle.h"
#include "request.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

// Generic rights mapped to file rights, as the File object type's generic mapping does.
ACCESS_MASK map_generic(ACCESS_MASK access)
{
    ACCESS_MASK out = access & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL | MAXIMUM_ALLOWED);
    if (access & GENERIC_READ)
        out |= FILE_GENERIC_READ;
    if (access & GENERIC_WRITE)
        out |= FILE_GENERIC_WRITE;
    if (access & GENERIC_EXECUTE)
        out |= FILE_GENERIC_EXECUTE;
    if (access & (GENERIC_ALL | MAXIMUM_ALLOWED))
        out |= FILE_ALL_ACCESS;
    return out;
}


}  // namespace

NTSTATUS create_file(std::u16string_view nt_path, ACCESS_MASK desired_access, ULONG share_access,
                     ULONG create_disposition, ULONG create_options, KPROCESSOR_MODE mode, HANDLE* handle,
                     IO_STATUS_BLOCK* iosb)
{
    return create_file(nt_path, desired_access, share_access, create_disposition, create_options, mode, 0, handle, iosb);
}

namespace {

// NtCreateFile and NtCreateNamedPipeFile: the same parse (IopParseDevice), a different
// major function; `pipe_parameters` (IRP_MJ_CREATE_NAMED_PIPE) goes to the file system in
// Parameters.CreatePipe.Parameters.
NTSTATUS open_object(std::u16string_view nt_path, ACCESS_MASK desired_access, ULONG share_access,
                     ULONG create_disposition, ULONG create_options, KPROCESSOR_MODE mode, ULONG handle_attributes,
                     HANDLE* handle, IO_STATUS_BLOCK* iosb, UCHAR major, NAMED_PIPE_CREATE_PARAMETERS* pipe_parameters)
{
    System* sys = System::current();
    Process* process = current_process();
    *handle = nullptr;
    npfs::start_if_named(nt_path);  // the named-pipe file system starts on first use (npfs/npfs.h)
    auto found = sys->ns().lookup(nt_path);
    if (!NT_SUCCESS(found.status)) {
        if (sys->trace().enabled())
            sys->trace().record(trace::Kind::Object, 0,
                                fmt::format("open {}: {}", crt::to_utf8(nt_path), status_text(found.status)));
        return found.status;
    }
    if (!is_device(found.object)) {
        ob::dereference(found.object);
        return STATUS_OBJECT_TYPE_MISMATCH;
    }
    auto* device = static_cast<DEVICE_OBJECT*>(found.object);
    NTSTATUS status = STATUS_SUCCESS;
    if ((device_private(device)->ExtensionFlags & (DOE_UNLOAD_PENDING | DOE_DELETE_PENDING | DOE_REMOVE_PENDING |
                                                   DOE_REMOVE_PROCESSED)) != 0 ||
        (device->Flags & DO_DEVICE_INITIALIZING) != 0)
        status = STATUS_NO_SUCH_DEVICE;
    else if ((device->Flags & DO_EXCLUSIVE) != 0 && device->ReferenceCount != 0)
        status = STATUS_ACCESS_DENIED;
    if (!NT_SUCCESS(status)) {
        if (sys->trace().enabled())
            sys->trace().record(trace::Kind::Object, 0,
                                fmt::format("open {}: {}{}", device_name(device), status_text(status),
                                            status == STATUS_ACCESS_DENIED ? " (exclusive device already open)" : ""));
        ob::dereference(device);
        return status;
    }

    ACCESS_MASK granted = map_generic(desired_access);
    FILE_OBJECT* file = create_file_object(device, found.remaining);
    ob::dereference(device);  // the file object holds its own reference now
    FileBody* body = file_body(file);
    body->priv.desired_access = granted;
    file->ReadAccess = (granted & (FILE_READ_DATA | FILE_EXECUTE)) != 0;
    file->WriteAccess = (granted & (FILE_WRITE_DATA | FILE_APPEND_DATA)) != 0;
    file->DeleteAccess = (granted & DELETE) != 0;
    file->SharedRead = (share_access & FILE_SHARE_READ) != 0;
    file->SharedWrite = (share_access & FILE_SHARE_WRITE) != 0;
    file->SharedDelete = (share_access & FILE_SHARE_DELETE) != 0;
    if (create_options & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT))
        file->Flags |= FO_SYNCHRONOUS_IO;
    if (create_options & FILE_SYNCHRONOUS_IO_ALERT)
        file->Flags |= FO_ALERTABLE_IO;

    DEVICE_OBJECT* top = attached_top(device);
    IRP* irp = build_request_irp(file, top, major, mode);
    irp->Flags |= IRP_CREATE_OPERATION;
    IO_SECURITY_CONTEXT security{};
    security.DesiredAccess = granted;
    security.FullCreateOptions = create_options;
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->Parameters.Create.SecurityContext = &security;
    sp->Parameters.Create.Options = (create_disposition << 24) | (create_options & 0x00FFFFFF);
    sp->Parameters.Create.ShareAccess = static_cast<USHORT>(share_access);
    sp->Parameters.Create.FileAttributes = 0;
    if (major == IRP_MJ_CREATE_NAMED_PIPE)
        sp->Parameters.CreatePipe.Parameters = pipe_parameters;
    Request request;
    request.user_iosb = iosb;
    request.synchronous_api = true;  // IopParseDevice waits for a pended create
    status = send_request(top, irp, request);
    if (!NT_SUCCESS(status)) {
        // The driver refused the open: the file object goes without CLEANUP or CLOSE.
        ob::dereference(file);
        return status;
    }
    body->priv.opened = true;
    file->Flags |= FO_HANDLE_CREATED;
    device->ReferenceCount++;
    *handle = (handle_attributes & OBJ_KERNEL_HANDLE) != 0 ? ob::insert_kernel_handle(file, granted)
                                                           : process->handles().insert(file, granted);
    ob::dereference(file);  // the handle holds it
    return status;
}

}  // namespace

NTSTATUS create_file(std::u16string_view nt_path, ACCESS_MASK desired_access, ULONG share_access,
                     ULONG create_disposition, ULONG create_options, KPROCESSOR_MODE mode, ULONG handle_attributes,
                     HANDLE* handle, IO_STATUS_BLOCK* iosb)
{
    return open_object(nt_path, desired_access, share_access, create_disposition, create_options, mode,
                       handle_attributes, handle, iosb, IRP_MJ_CREATE, nullptr);
}

NTSTATUS create_named_pipe_file(std::u16string_view nt_path, ACCESS_MASK desired_access, ULONG share_access,
                                ULONG create_disposition, ULONG create_options, KPROCESSOR_MODE mode,
                                const NAMED_PIPE_CREATE_PARAMETERS& parameters, HANDLE* handle, IO_STATUS_BLOCK* iosb)
{
    NAMED_PIPE_CREATE_PARAMETERS copy = parameters;  // the service's captured copy
    return open_object(nt_path, desired_access, share_access, create_disposition, create_options, mode, 0, handle,
                       iosb, IRP_MJ_CREATE_NAMED_PIPE, &copy);
}

NTSTATUS close_handle(HANDLE handle)
{
    Process* process = current_process();
    if (process == nullptr)
        return STATUS_INVALID_HANDLE;
    return process->handles().close(process, handle);
}

NTSTATUS close_handle(HANDLE handle, KPROCESSOR_MODE mode) { return ob::close_by_handle(handle, mode); }

}  // namespace iosim::io
