// overlapped.cpp - overlapped requests in the command language: `REQ = read|write|ioctl`
// on a handle opened `overlapped`, `wait REQ [timeout D]`, `cancel REQ|VAR`.
//
// Each is what an app's kernel32 does (win32/fileapi.cpp, win32/overlapped.cpp):
//  - the request: kernel32 sets the OVERLAPPED's Internal to STATUS_PENDING and makes the
//    system service (NtReadFile, NtWriteFile, NtDeviceIoControlFile) with the OVERLAPPED as
//    IO_STATUS_BLOCK, its byte offset, its hEvent (a manual-reset event the script's
//    process owns) and the OVERLAPPED as APC context; TRUE only for a success that did not
//    pend, else FALSE with RtlNtStatusToDosError (ERROR_IO_PENDING for a pended request);
//  - wait: GetOverlappedResultEx (not alertable) in the process's main thread: a real wait,
//    so timers fire, DPCs and other threads run and the I/O manager's kernel APC writes the
//    OVERLAPPED; a timeout gives WAIT_TIMEOUT and the request stays out; a wait nothing can
//    ever end is the scheduler's deadlock report (bug check 0xC4/0x1001), never a hang;
//  - cancel: CancelIoEx with the request's OVERLAPPED, or CancelIo on the handle (the
//    requests the process's main thread - the script - issued on it).
// The OVERLAPPED, event and buffers stay in the process until it ends, as an app's global
// OVERLAPPED would. A request that failed at once is never completed (its OVERLAPPED is not
// written): waiting for it is refused with that reason instead of hanging.
#include <fmt/format.h>

#include <algorithm>

#include "io_api.h"
#include "ke/apc.h"
#include "lang/names.h"
#include "lang/session_impl.h"
#include "lang/user_buffer.h"
#include "rtl/status_names.h"
#include "win32/win32.h"
#include "windows.h"

namespace iosim::lang {

namespace {

OVERLAPPED* overlapped_of(const RequestVar& request) { return reinterpret_cast<OVERLAPPED*>(request.overlapped->data()); }

}  // namespace

// NT counterpart: kernel32!ReadFile/DeviceIoControl given no OVERLAPPED on an asynchronous
// handle: wait on the file handle (its file object's event) when the request pended.
NTSTATUS wait_on_file_handle(HANDLE handle, NTSTATUS status, const IO_STATUS_BLOCK& iosb)
{
    if (status != STATUS_PENDING)
        return status;
    if (WaitForSingleObject(handle, INFINITE) == WAIT_OBJECT_0)
        return iosb.Status;
    return status;
}

// NT counterparts: kernel32!ReadFile, WriteFile, DeviceIoControl with an OVERLAPPED.
Outcome Session::Impl::do_overlapped_transfer(const Command& command, HandleVar& var)
{
    if (!var.overlapped)
        return error_at(command.where, fmt::format("'{}' names an overlapped request, but handle '{}' was not opened "
                                                   "overlapped (its open at {}:{})",
                                                   command.request, command.variable, var.opened_at.file,
                                                   var.opened_at.line));
    RequestVar request;
    request.handle_variable = command.variable;
    request.handle = var.handle;
    request.process = var.process;
    request.issued_at = command.where;
    std::string input_data = command.data.value_or("");
    size_t output_length = 0;
    switch (command.verb) {
    case Verb::Read:
        request.api = fmt::format("ReadFile({}, {} bytes{}, &{})", command.variable, command.number,
                                  command.offset ? fmt::format(" at offset {}", *command.offset) : "",
                                  command.request);
        output_length = command.number;
        input_data.clear();
        break;
    case Verb::Write:
        request.api = fmt::format("WriteFile({}, {} bytes{}, &{})", command.variable, input_data.size(),
                                  command.offset ? fmt::format(" at offset {}", *command.offset) : "",
                                  command.request);
        break;
    default:
        request.api = fmt::format("DeviceIoControl({}, {:#010x}, &{})", command.variable,
                                  static_cast<uint32_t>(command.number), command.request);
        output_length = command.out_length.value_or(0);
        break;
    }
    begin_request(command, fmt::format("{} ({})", request.api, command.request));
    Process* process = processes[var.process].process;
    {
        RequestScope scope(*this, process);
        request.event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
        request.overlapped = std::make_shared<UserBuffer>(process, sizeof(OVERLAPPED));
        request.input = std::make_shared<UserBuffer>(process, input_data.size(), input_data);
        request.output = std::make_shared<UserBuffer>(process, output_length);
        OVERLAPPED* ov = overlapped_of(request);
        std::memset(ov, 0, sizeof(*ov));
        uint64_t offset = command.offset.value_or(0);
        ov->Offset = static_cast<DWORD>(offset);
        ov->OffsetHigh = static_cast<DWORD>(offset >> 32);
        ov->hEvent = request.event;
        ov->Internal = static_cast<ULONG_PTR>(STATUS_PENDING);
        LARGE_INTEGER byte_offset{};
        byte_offset.QuadPart = static_cast<LONGLONG>(offset);
        io::CompletionNotice notice;
        notice.event = request.event;
        notice.apc_context = ov;
        auto* iosb = reinterpret_cast<IO_STATUS_BLOCK*>(ov);
        NTSTATUS status;
        if (command.verb == Verb::Read)
            status = io::read_file(var.handle, request.output->data(), static_cast<ULONG>(output_length), &byte_offset,
                                   UserMode, iosb, notice);
        else if (command.verb == Verb::Write)
            status = io::write_file(var.handle, request.input->data(), static_cast<ULONG>(input_data.size()),
                                    &byte_offset, UserMode, iosb, notice);
        else
            status = io::device_io_control(var.handle, static_cast<ULONG>(command.number), request.input->data(),
                                           static_cast<ULONG>(input_data.size()), request.output->data(),
                                           static_cast<ULONG>(output_length), false, UserMode, iosb, notice);
        request.immediate = static_cast<uint32_t>(status);
        request.failed_at_once = NT_ERROR(status);  // a warning still writes the OVERLAPPED
        last.status = static_cast<uint32_t>(status);
        // kernel32: TRUE only for a success that did not pend, with InternalHigh as the count.
        if (!NT_SUCCESS(status) || status == STATUS_PENDING) {
            win32::set_last_nt_error(status);
            last.win32_ok = false;
        } else {
            last.win32_ok = true;
            last.bytes = ov->InternalHigh;
            last.data = request.output->contents(static_cast<size_t>(ov->InternalHigh));
        }
        last.last_error = current_thread()->last_error;
    }
    request.irps = last.irps;
    if (command.verb == Verb::Ioctl)
        line("ioctl", ioctl_text(static_cast<uint32_t>(command.number), input_data.size(), output_length));
    show_request_result(request.api);
    if (static_cast<NTSTATUS>(last.status) == STATUS_PENDING)
        last.still_out = command.request;
    if (static_cast<NTSTATUS>(last.status) == STATUS_PENDING)
        line("pending", fmt::format("{} is out: 'wait {}' gets its outcome, 'cancel {}' asks the driver to stop",
                                    command.request, command.request, command.request));
    else if (request.failed_at_once)
        line("pending", fmt::format("{} failed at once: its OVERLAPPED will never be written (nothing to wait for)",
                                    command.request));
    requests[command.request] = std::move(request);
    return Outcome::Ok;
}

RequestVar* Session::Impl::request_for(const Command& command, Outcome& failure)
{
    auto it = requests.find(command.request);
    if (it == requests.end()) {
        failure = error_at(command.where, fmt::format("request '{}' was never issued (its read, write or ioctl has "
                                                      "not run)",
                                                      command.request));
        return nullptr;
    }
    const ProcessVar& process = processes[it->second.process];
    if (process.exited || process.process == nullptr) {
        failure = error_at(command.where, fmt::format("request '{}' belonged to process '{}', which exited at {}:{} "
                                                      "(its requests were cancelled and waited for then)",
                                                      command.request, it->second.process, process.exited_at.file,
                                                      process.exited_at.line));
        return nullptr;
    }
    return &it->second;
}

// NT counterpart: kernelbase!GetOverlappedResultEx(handle, &ov, &bytes, ms, FALSE).
Outcome Session::Impl::do_wait(const Command& command)
{
    Outcome failure = Outcome::Ok;
    RequestVar* request = request_for(command, failure);
    if (request == nullptr)
        return failure;
    if (request->failed_at_once)
        return error_at(command.where,
                        fmt::format("request '{}' failed at once ({}, at {}:{}): kernel32 never writes its OVERLAPPED "
                                    "or sets its event, so a wait would never end (docs/async-io.md)",
                                    command.request, status_text(static_cast<NTSTATUS>(request->immediate)),
                                    request->issued_at.file, request->issued_at.line));
    DWORD ms = command.timeout ? static_cast<DWORD>(*command.timeout / 10000) : INFINITE;
    std::string timeout_text = command.timeout ? fmt::format("{}ms", ms) : std::string("INFINITE");
    begin_request(command, fmt::format("wait {} ({})", command.request, request->api));
    int64_t started = machine.system().interrupt_time();
    {
        RequestScope scope(*this, processes[request->process].process);
        // The script's thread has been running since its last command: on Windows a kernel
        // APC queued meanwhile (a completion's requester's side) would have run already;
        // iosim runs it now, before kernel32 looks at the OVERLAPPED (docs/async-io.md).
        ke::deliver_kernel_apcs();
        OVERLAPPED* ov = overlapped_of(*request);
        DWORD bytes = 0;
        BOOL ok = GetOverlappedResultEx(request->handle, ov, &bytes, ms, FALSE);
        last.win32_ok = ok != FALSE;
        last.last_error = current_thread()->last_error;
        last.status = static_cast<uint32_t>(ov->Internal);
        if (static_cast<NTSTATUS>(ov->Internal) != STATUS_PENDING) {
            last.bytes = bytes;
            if (!NT_ERROR(static_cast<NTSTATUS>(ov->Internal)))
                last.data = request->output->contents(bytes);
        }
    }
    std::vector<uint64_t> irps = request->irps;  // the request's IRPs first, then any seen while waiting
    for (uint64_t irp : last.irps)
        if (std::find(irps.begin(), irps.end(), irp) == irps.end())
            irps.push_back(irp);
    last.irps = std::move(irps);
    int64_t waited = machine.system().interrupt_time() - started;
    line("wait", fmt::format("{} waited {} x 100ns of simulated time", command.request, waited));
    show_request_result(fmt::format("GetOverlappedResultEx({}, &{}, {})", request->handle_variable, command.request,
                                    timeout_text));
    if (static_cast<NTSTATUS>(last.status) == STATUS_PENDING) {
        last.still_out = command.request;
        line("pending", fmt::format("{} is still out", command.request));
    }
    return Outcome::Ok;
}

// NT counterparts: kernel32!CancelIoEx (NtCancelIoFileEx), CancelIo (NtCancelIoFile).
Outcome Session::Impl::do_cancel(const Command& command)
{
    Outcome failure = Outcome::Ok;
    std::string api;
    if (!command.request.empty()) {
        RequestVar* request = request_for(command, failure);
        if (request == nullptr)
            return failure;
        api = fmt::format("CancelIoEx({}, &{})", request->handle_variable, command.request);
        begin_request(command, api);
        RequestScope scope(*this, processes[request->process].process);
        ke::deliver_kernel_apcs();  // as in do_wait: what completed meanwhile is written first
        BOOL ok = CancelIoEx(request->handle, overlapped_of(*request));
        last.win32_ok = ok != FALSE;
        last.last_error = current_thread()->last_error;
        // NtCancelIoFileEx: STATUS_NOT_FOUND when no request matched.
        last.status = static_cast<uint32_t>(ok ? STATUS_SUCCESS
                                               : last.last_error == ERROR_NOT_FOUND ? STATUS_NOT_FOUND
                                                                                    : STATUS_INVALID_HANDLE);
    } else {
        HandleVar* var = handle_for(command, failure);
        if (var == nullptr)
            return failure;
        api = fmt::format("CancelIo({})", command.variable);
        begin_request(command, api);
        RequestScope scope(*this, processes[var->process].process);
        ke::deliver_kernel_apcs();
        BOOL ok = CancelIo(var->handle);
        last.win32_ok = ok != FALSE;
        last.last_error = current_thread()->last_error;
        last.status = static_cast<uint32_t>(ok ? STATUS_SUCCESS : STATUS_INVALID_HANDLE);
    }
    show_request_result(api);
    return Outcome::Ok;
}

}  // namespace iosim::lang
