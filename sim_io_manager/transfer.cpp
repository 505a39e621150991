// transfer.cpp - read, write, device control and query-information requests.
//
// The transfer method decides what the driver sees:
//   read/write: the device's flags. DO_BUFFERED_IO: a SystemBuffer of Length bytes (write:
//     copied in; read: copied back on completion). DO_DIRECT_IO: an MDL for the caller's
//     buffer (NULL when Length is 0). Neither: Irp->UserBuffer, the raw caller address.
//   device control: the METHOD_ bits of the control code. BUFFERED: one SystemBuffer of
//     max(input, output); input copied in; Information bytes copied back. IN/OUT_DIRECT:
//     input in SystemBuffer, output through an MDL. NEITHER: raw addresses.
//   query information: always buffered.
// User buffers (UserMode requests) are validated before the driver sees anything, as the
// NT services do: NtReadFile probes its buffer for write and NtWriteFile for read
// (ProbeForWrite / ProbeForRead, whatever the device's transfer method); buffered input is
// copied under a handler frame; a direct transfer's MDL is probed and locked
// (MmProbeAndLockPages: IoWriteAccess for a read, IoReadAccess for a write, IoReadAccess
// for METHOD_IN_DIRECT's output buffer, IoWriteAccess for METHOD_OUT_DIRECT's);
// METHOD_BUFFERED's output buffer is probed for write; METHOD_NEITHER's buffers are not
// looked at (the driver must probe them itself). A bad buffer fails the service with
// STATUS_ACCESS_VIOLATION (ERROR_NOACCESS in the app) and no IRP is sent. Zero lengths are
// never probed, and a zero-length direct transfer has no MDL (MdlAddress NULL).
// Access bits of a control code are checked against the handle's granted access before
// any IRP exists. The I/O manager does not advance CurrentByteOffset (drivers that keep a
// file position do that themselves).
// NtSetInformationFile is always buffered too (input only).
// NtFsControlFile takes the device-control path with IRP_MJ_FILE_SYSTEM_CONTROL.
// A synchronous file object (FO_SYNCHRONOUS_IO: opened without FILE_FLAG_OVERLAPPED)
// serialises its requests: every service here takes the file object's lock (Busy, Waiters,
// Lock) before it reads the file position or builds the IRP, and holds it until the request
// is done, so a second thread's request on the same file object waits - a real scheduler
// wait, so a cycle is a deadlock report naming the lock - until the first one has finished.
// An overlapped file object has no such lock. A waiter on an FO_ALERTABLE_IO file object
// (FILE_SYNCHRONOUS_IO_ALERT) is ended by a user APC: the service returns STATUS_USER_APC.
// NT counterparts: NtReadFile, NtWriteFile, NtDeviceIoControlFile, NtFsControlFile,
// NtQueryInformationFile, NtSetInformationFile, IopAcquireFileObjectLock,
// IopReleaseFileObjectLock.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "device.h"
#include "file.h"
#include "ke/event.h"
#include "io_api.h"
#include "ke/scheduler.h"
#include "ke/seh.h"
#include "mdl.h"
#include "ob/kernel_handle.h"
#include "ps/process.h"
#include "request.h"
#include "system.h"

namespace iosim::io {

namespace {

// Kernel handles (OBJ_KERNEL_HANDLE, from ZwCreateFile) resolve in the System process's
// table for a kernel-mode caller, any other handle in the current process's: see
// ob/kernel_handle.h and zw_file.cpp.
NTSTATUS reference_file(HANDLE handle, KPROCESSOR_MODE mode, FILE_OBJECT** file, ACCESS_MASK* granted)
{
    void* object = nullptr;
    NTSTATUS status = ob::reference_by_handle(handle, mode, &file_type(), &object, granted);
    if (!NT_SUCCESS(status))
        return status;
    *file = static_cast<FILE_OBJECT*>(object);
    return STATUS_SUCCESS;
}

// Guard that drops the file reference taken by reference_file.
struct FileRef {
    FILE_OBJECT* file = nullptr;
    ~FileRef()
    {
        if (file != nullptr)
            ob::dereference(file);
    }
};

// The caller's event (NtReadFile's Event argument), referenced until the IRP owns it.
struct EventRef {
    KEVENT* event = nullptr;
    ~EventRef()
    {
        if (event != nullptr)
            ob::dereference(event);
    }
    // The IRP takes the reference (released when the request finishes).
    void hand_to(Request& request)
    {
        request.user_event = event;
        request.event_referenced = event != nullptr;
        event = nullptr;
    }
};

// ObReferenceObjectByHandle(Event, EVENT_MODIFY_STATE, ExEventObjectType): a bad handle
// fails the service before any IRP exists.
NTSTATUS reference_event(HANDLE handle, KPROCESSOR_MODE mode, EventRef* ref)
{
    if (handle == nullptr)
        return STATUS_SUCCESS;
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    NTSTATUS status = ob::reference_by_handle(handle, mode, &ke::event_type(), &object, &granted);
    if (!NT_SUCCESS(status))
        return status == STATUS_OBJECT_TYPE_MISMATCH ? status : STATUS_INVALID_HANDLE;
    ref->event = &static_cast<ke::EventObject*>(object)->event;
    return STATUS_SUCCESS;
}

void notice_to_request(const CompletionNotice& notice, EventRef& event, Request& request)
{
    event.hand_to(request);
    request.apc_routine = notice.apc_routine;
    request.apc_context = notice.apc_context;
}

// A SystemBuffer. Windows hands out pool memory as it is; iosim zeroes it, plus one
// terminating zero byte past the end that the driver must not count on, so that runs are
// deterministic and the classic DbgPrint((PCSTR)SystemBuffer) of an unterminated input
// (seed 000's IOCTL driver does this) reads a string instead of whatever follows.
void* allocate_system_buffer(size_t size) { return size == 0 ? nullptr : ex::allocate_system_buffer(size + 1); }

// ---- the caller's buffers (the user-buffer rules in the header) ----

// ProbeForWrite (`for_write`) or ProbeForRead of a caller's buffer, byte-aligned, under a
// handler frame: STATUS_ACCESS_VIOLATION for a range that reaches kernel space or wraps,
// or (for write) a page the caller cannot write. Length 0: nothing to check.
NTSTATUS probe_user_buffer(const void* buffer, ULONG length, bool for_write)
{
    if (length == 0)
        return STATUS_SUCCESS;
    struct Args {
        const void* buffer;
        ULONG length;
    } args{buffer, length};
    if (for_write)
        return seh::capture([](void* c) {
            auto* a = static_cast<Args*>(c);
            ProbeForWrite(const_cast<void*>(a->buffer), a->length, sizeof(UCHAR));
        }, &args);
    return seh::capture([](void* c) {
        auto* a = static_cast<Args*>(c);
        ProbeForRead(a->buffer, a->length, sizeof(UCHAR));
    }, &args);
}

// A SystemBuffer of `size` bytes holding the caller's `input_length` bytes of input: for a
// user-mode caller probed and copied under a handler frame. nullptr with *status set
// when the input cannot be read.
void* buffer_with_input(size_t size, const void* input, ULONG input_length, KPROCESSOR_MODE mode, NTSTATUS* status)
{
    *status = STATUS_SUCCESS;
    if (mode == UserMode && input != nullptr) {
        *status = probe_user_buffer(input, input_length, false);
        if (!NT_SUCCESS(*status))
            return nullptr;
    }
    void* system_buffer = allocate_system_buffer(size);
    if (system_buffer == nullptr || input == nullptr || input_length == 0)
        return system_buffer;
    if (mode == UserMode) {
        *status = seh::copy(system_buffer, input, input_length);
        if (!NT_SUCCESS(*status)) {
            ex::free_system_buffer(system_buffer);
            return nullptr;
        }
    } else {
        std::memcpy(system_buffer, input, input_length);
    }
    return system_buffer;
}

// The trace line for a request refused over a bad buffer (no IRP reaches a driver).
void trace_bad_buffer(const char* service, const char* which, const void* buffer, ULONG length, NTSTATUS status)
{
    if (System* sys = System::current(); sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Irp, 0,
                            fmt::format("{} refused: the caller's {} buffer {} ({} bytes) is not valid in process {} "
                                        "(STATUS_ACCESS_VIOLATION 0x{:08X}, no IRP sent)",
                                        service, which, static_cast<const void*>(buffer), length,
                                        current_process() != nullptr ? current_process()->pid() : 0,
                                        static_cast<ULONG>(status)));
}

// ---- the file object lock of a synchronous file object ----

// Held by a service for the whole request on an FO_SYNCHRONOUS_IO file object; nothing
// for an overlapped one. Declared after the FileRef, so it is released first: the FileRef's
// reference keeps the file object alive while the lock is held.
class FileObjectLock {
public:
    FileObjectLock() = default;
    FileObjectLock(const FileObjectLock&) = delete;
    FileObjectLock& operator=(const FileObjectLock&) = delete;
    ~FileObjectLock() { release(); }

    // NT counterpart: IopAcquireFileObjectLock. STATUS_SUCCESS once held (or for an
    // overlapped file object); STATUS_USER_APC when an alertable wait (FO_ALERTABLE_IO,
    // user mode) was ended by a user APC. Throws ContextAbort when the thread is terminated.
    NTSTATUS acquire(FILE_OBJECT* file, KPROCESSOR_MODE mode, const char* service)
    {
        if ((file->Flags & FO_SYNCHRONOUS_IO) == 0)
            return STATUS_SUCCESS;
        System* sys = System::current();
        InterlockedIncrement(reinterpret_cast<volatile LONG*>(&file->Waiters));
        const bool alertable = (file->Flags & FO_ALERTABLE_IO) != 0 && mode == UserMode;
        try {
            while (file->Busy != 0) {
                uint32_t holder = file_body(file)->priv.lock_holder;
                // No address in the text: the trace must be the same from run to run.
                std::string why = fmt::format("{} waits for the file object lock of {} (a synchronous file "
                                              "object: its requests are serialised; held by thread {})",
                                              service, device_name(file->DeviceObject), holder);
                if (sys->trace().enabled())
                    sys->trace().record(trace::Kind::Scheduler, 0, why);
                DISPATCHER_HEADER* header = &file->Lock.Header;
                NTSTATUS status = sys->scheduler().wait(&header, 1, false, nullptr, why, alertable);
                if (status == STATUS_USER_APC || status == STATUS_ALERTED) {
                    InterlockedDecrement(reinterpret_cast<volatile LONG*>(&file->Waiters));
                    pass_on(file);
                    return status;
                }
            }
        } catch (...) {
            // Terminated while waiting: a wake-up it may have consumed goes to the next waiter.
            InterlockedDecrement(reinterpret_cast<volatile LONG*>(&file->Waiters));
            pass_on(file);
            throw;
        }
        InterlockedDecrement(reinterpret_cast<volatile LONG*>(&file->Waiters));
        file->Busy = TRUE;
        file_ = file;
        Thread* thread = current_thread();
        file_body(file)->priv.lock_holder = thread != nullptr ? thread->tid() : 0;
        return STATUS_SUCCESS;
    }

    // NT counterpart: IopReleaseFileObjectLock.
    void release()
    {
        FILE_OBJECT* file = file_;
        if (file == nullptr)
            return;
        file_ = nullptr;
        file_body(file)->priv.lock_holder = 0;
        file->Busy = FALSE;
        pass_on(file);
    }

private:
    // A free lock with waiters: wake one (Lock is a synchronization event).
    static void pass_on(FILE_OBJECT* file)
    {
        if (file->Busy == 0 && file->Waiters != 0)
            KeSetEvent(&file->Lock, IO_NO_INCREMENT, FALSE);
    }

    FILE_OBJECT* file_ = nullptr;
};

NTSTATUS read_write(bool write, HANDLE handle, void* buffer, ULONG length, const LARGE_INTEGER* byte_offset,
                    KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb, const CompletionNotice& notice)
{
    FileRef ref;
    ACCESS_MASK granted = 0;
    NTSTATUS status = reference_file(handle, mode, &ref.file, &granted);
    if (!NT_SUCCESS(status))
        return status;
    EventRef event;
    status = reference_event(notice.event, mode, &event);
    if (!NT_SUCCESS(status))
        return status;
    FILE_OBJECT* file = ref.file;
    if (mode == UserMode && (granted & (write ? (FILE_WRITE_DATA | FILE_APPEND_DATA) : FILE_READ_DATA)) == 0)
        return STATUS_ACCESS_DENIED;
    const char* service = write ? "WriteFile" : "ReadFile";
    FileObjectLock lock;  // a synchronous file object: held until the request is done
    status = lock.acquire(file, mode, write ? "NtWriteFile" : "NtReadFile");
    if (status != STATUS_SUCCESS)
        return status;
    LARGE_INTEGER offset{};
    if (byte_offset != nullptr)
        offset = *byte_offset;
    else if ((file->Flags & FO_SYNCHRONOUS_IO) != 0)
        offset = file->CurrentByteOffset;
    else if ((file->Flags & (FO_NAMED_PIPE | FO_MAILSLOT)) == 0)
        return STATUS_INVALID_PARAMETER;  // an asynchronous file object needs an explicit offset (not a pipe: no position)

    if (mode == UserMode) {
        // NtReadFile: ProbeForWrite; NtWriteFile: ProbeForRead - for every kind of device.
        status = probe_user_buffer(buffer, length, !write);
        if (!NT_SUCCESS(status)) {
            trace_bad_buffer(service, "data", buffer, length, status);
            return status;
        }
    }
    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    void* system_buffer = nullptr;
    if ((top->Flags & DO_BUFFERED_IO) != 0 && length != 0) {
        system_buffer = write ? buffer_with_input(length, buffer, length, mode, &status) : allocate_system_buffer(length);
        if (!NT_SUCCESS(status)) {
            trace_bad_buffer(service, "data", buffer, length, status);
            return status;
        }
    }
    IRP* irp = build_request_irp(file, top, write ? IRP_MJ_WRITE : IRP_MJ_READ, mode, true);
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    if (write) {
        sp->Parameters.Write.Length = length;
        sp->Parameters.Write.ByteOffset = offset;
        irp->Flags |= IRP_WRITE_OPERATION;
    } else {
        sp->Parameters.Read.Length = length;
        sp->Parameters.Read.ByteOffset = offset;
        irp->Flags |= IRP_READ_OPERATION;
    }
    Request request;
    request.user_iosb = iosb;
    request.user_buffer_length = length;
    if ((top->Flags & DO_BUFFERED_IO) != 0) {
        if (length != 0) {
            irp->AssociatedIrp.SystemBuffer = system_buffer;
            irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
            if (!write)
                irp->Flags |= IRP_INPUT_OPERATION;
        }
        irp->UserBuffer = buffer;
    } else if ((top->Flags & DO_DIRECT_IO) != 0) {
        // Irp->MdlAddress stays NULL for a zero-length transfer.
        if (length != 0) {
            status = attach_user_mdl(irp, buffer, length, write ? IoReadAccess : IoWriteAccess, mode);
            if (!NT_SUCCESS(status)) {
                ob::dereference(file);  // the IRP's reference
                free_irp(irp);
                trace_bad_buffer(service, "data", buffer, length, status);
                return status;
            }
        }
    } else {
        irp->UserBuffer = buffer;
    }
    notice_to_request(notice, event, request);
    return send_request(top, irp, request);
}

}  // namespace

NTSTATUS read_file(HANDLE handle, void* buffer, ULONG length, const LARGE_INTEGER* byte_offset, KPROCESSOR_MODE mode,
                   IO_STATUS_BLOCK* iosb, const CompletionNotice& notice)
{
    return read_write(false, handle, buffer, length, byte_offset, mode, iosb, notice);
}

NTSTATUS write_file(HANDLE handle, const void* buffer, ULONG length, const LARGE_INTEGER* byte_offset,
                    KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb, const CompletionNotice& notice)
{
    return read_write(true, handle, const_cast<void*>(buffer), length, byte_offset, mode, iosb, notice);
}

namespace {

// NtDeviceIoControlFile and NtFsControlFile: one code path, a different major function.
NTSTATUS control_request(UCHAR major, HANDLE handle, ULONG io_control_code, void* input, ULONG input_length,
                         void* output, ULONG output_length, KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb,
                         const CompletionNotice& notice)
{
    const bool internal = major == IRP_MJ_INTERNAL_DEVICE_CONTROL;
    FileRef ref;
    ACCESS_MASK granted = 0;
    NTSTATUS status = reference_file(handle, mode, &ref.file, &granted);
    if (!NT_SUCCESS(status))
        return status;
    EventRef event;
    status = reference_event(notice.event, mode, &event);
    if (!NT_SUCCESS(status))
        return status;
    FILE_OBJECT* file = ref.file;
    // The access bits of the code are checked against the handle before the driver sees anything.
    ULONG access = ACCESS_FROM_CTL_CODE(io_control_code);
    if (mode == UserMode && (((access & FILE_READ_ACCESS) && !(granted & FILE_READ_DATA)) ||
                             ((access & FILE_WRITE_ACCESS) && !(granted & FILE_WRITE_DATA)))) {
        if (System* sys = System::current(); sys->trace().enabled())
            sys->trace().record(trace::Kind::Irp, 0,
                                fmt::format("DeviceIoControl 0x{:08X} refused: the code needs {} access the handle lacks "
                                            "(STATUS_ACCESS_DENIED, no IRP built)",
                                            io_control_code,
                                            (access & FILE_READ_ACCESS) && !(granted & FILE_READ_DATA) ? "read" : "write"));
        return STATUS_ACCESS_DENIED;
    }
    FileObjectLock lock;  // a synchronous file object: held until the request is done
    status = lock.acquire(file, mode, service_name(major));
    if (status != STATUS_SUCCESS)
        return status;

    // The caller's buffers, checked and captured before any IRP exists (the header's rules).
    const ULONG method = METHOD_FROM_CTL_CODE(io_control_code);
    const char* service = major == IRP_MJ_FILE_SYSTEM_CONTROL ? "NtFsControlFile"
                           : internal                         ? "internal DeviceIoControl"
                                                              : "DeviceIoControl";
    void* system_buffer = nullptr;
    if (method == METHOD_BUFFERED || method == METHOD_IN_DIRECT || method == METHOD_OUT_DIRECT) {
        if (method == METHOD_BUFFERED && mode == UserMode && output != nullptr) {
            status = probe_user_buffer(output, output_length, true);
            if (!NT_SUCCESS(status)) {
                trace_bad_buffer(service, "output", output, output_length, status);
                return status;
            }
        }
        ULONG size = method == METHOD_BUFFERED ? std::max(input_length, output_length)
                     : input != nullptr      ? input_length
                                             : 0;
        if (size != 0) {
            system_buffer = buffer_with_input(size, input, input_length, mode, &status);
            if (!NT_SUCCESS(status)) {
                trace_bad_buffer(service, "input", input, input_length, status);
                return status;
            }
        }
    }

    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    IRP* irp = build_request_irp(file, top, major, mode, true);
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    if (major == IRP_MJ_FILE_SYSTEM_CONTROL)
        sp->MinorFunction = IRP_MN_USER_FS_REQUEST;  // Parameters.FileSystemControl: the same layout
    sp->Parameters.DeviceIoControl.IoControlCode = io_control_code;
    sp->Parameters.DeviceIoControl.InputBufferLength = input_length;
    sp->Parameters.DeviceIoControl.OutputBufferLength = output_length;
    Request request;
    request.user_iosb = iosb;
    request.user_buffer_length = output_length;
    switch (method) {
    case METHOD_BUFFERED:
        if (system_buffer != nullptr) {
            irp->AssociatedIrp.SystemBuffer = system_buffer;
            irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
            if (output_length != 0) {
                irp->Flags |= IRP_INPUT_OPERATION;
                irp->UserBuffer = output;
            }
        }
        break;
    case METHOD_IN_DIRECT:
    case METHOD_OUT_DIRECT:
        if (system_buffer != nullptr) {
            irp->AssociatedIrp.SystemBuffer = system_buffer;
            irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
        }
        // The output buffer through an MDL: probed for read (IN_DIRECT: the driver reads
        // it) or write (OUT_DIRECT). No output buffer, or length 0: MdlAddress stays NULL.
        if (output_length != 0 && output != nullptr) {
            LOCK_OPERATION op = method == METHOD_IN_DIRECT ? IoReadAccess : IoWriteAccess;
            status = attach_user_mdl(irp, output, output_length, op, mode);
            if (!NT_SUCCESS(status)) {
                ex::free_system_buffer(irp->AssociatedIrp.SystemBuffer);
                irp->AssociatedIrp.SystemBuffer = nullptr;
                ob::dereference(file);  // the IRP's reference
                free_irp(irp);
                trace_bad_buffer(service, "output", output, output_length, status);
                return status;
            }
        }
        break;
    case METHOD_NEITHER:
        sp->Parameters.DeviceIoControl.Type3InputBuffer = input;
        irp->UserBuffer = output;
        break;
    }
    notice_to_request(notice, event, request);
    return send_request(top, irp, request);
}

}  // namespace

NTSTATUS device_io_control(HANDLE handle, ULONG io_control_code, void* input, ULONG input_length, void* output,
                           ULONG output_length, bool internal, KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb,
                           const CompletionNotice& notice)
{
    return control_request(internal ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL, handle, io_control_code,
                           input, input_length, output, output_length, mode, iosb, notice);
}

NTSTATUS fs_control_file(HANDLE handle, ULONG fs_control_code, void* input, ULONG input_length, void* output,
                         ULONG output_length, KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb, const CompletionNotice& notice)
{
    return control_request(IRP_MJ_FILE_SYSTEM_CONTROL, handle, fs_control_code, input, input_length, output,
                           output_length, mode, iosb, notice);
}

NTSTATUS query_information_file(HANDLE handle, void* information, ULONG length, FILE_INFORMATION_CLASS info_class,
                                KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb)
{
    FileRef ref;
    ACCESS_MASK granted = 0;
    NTSTATUS status = reference_file(handle, mode, &ref.file, &granted);
    if (!NT_SUCCESS(status))
        return status;
    FILE_OBJECT* file = ref.file;
    FileObjectLock lock;  // a synchronous file object: held until the request is done
    status = lock.acquire(file, mode, "NtQueryInformationFile");
    if (status != STATUS_SUCCESS)
        return status;
    if (mode == UserMode) {
        status = probe_user_buffer(information, length, true);  // NtQueryInformationFile: ProbeForWrite
        if (!NT_SUCCESS(status)) {
            trace_bad_buffer("NtQueryInformationFile", "information", information, length, status);
            return status;
        }
    }
    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    IRP* irp = build_request_irp(file, top, IRP_MJ_QUERY_INFORMATION, mode, true);
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->Parameters.QueryFile.Length = length;
    sp->Parameters.QueryFile.FileInformationClass = info_class;
    // Always buffered, whatever the device's flags. The buffer starts zeroed so a driver
    // that fills only some fields does not leak stale memory to the caller.
    irp->AssociatedIrp.SystemBuffer = allocate_system_buffer(length);
    irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION;
    irp->UserBuffer = information;
    Request request;
    request.user_iosb = iosb;
    request.user_buffer_length = length;
    request.synchronous_api = true;  // a synchronous API whatever the file object (its own event)
    return send_request(top, irp, request);
}

NTSTATUS set_information_file(HANDLE handle, const void* information, ULONG length, FILE_INFORMATION_CLASS info_class,
                              KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb)
{
    FileRef ref;
    ACCESS_MASK granted = 0;
    NTSTATUS status = reference_file(handle, mode, &ref.file, &granted);
    if (!NT_SUCCESS(status))
        return status;
    FILE_OBJECT* file = ref.file;
    FileObjectLock lock;  // a synchronous file object: held until the request is done
    status = lock.acquire(file, mode, "NtSetInformationFile");
    if (status != STATUS_SUCCESS)
        return status;
    // NtSetInformationFile: ProbeForRead, then the input captured in a SystemBuffer.
    void* system_buffer = buffer_with_input(length, information, length, mode, &status);
    if (!NT_SUCCESS(status)) {
        trace_bad_buffer("NtSetInformationFile", "information", information, length, status);
        return status;
    }
    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    IRP* irp = build_request_irp(file, top, IRP_MJ_SET_INFORMATION, mode, true);
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->Parameters.SetFile.Length = length;
    sp->Parameters.SetFile.FileInformationClass = info_class;
    irp->AssociatedIrp.SystemBuffer = system_buffer;
    if (system_buffer != nullptr)
        irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
    Request request;
    request.user_iosb = iosb;
    request.synchronous_api = true;
    return send_request(top, irp, request);
}

}  // namespace iosim::io
