// requests.cpp - open, close, read, write and ioctl, as an app's kernel32 makes them.
//
// Each request is the system service kernel32 calls (NtCreateFile, NtReadFile,
// NtWriteFile, NtDeviceIoControlFile, NtClose: io_api.h), made in the handle's process,
// and then turned into the Win32 result with kernel32's rules (win32::transfer_result): FALSE
// and GetLastError() = RtlNtStatusToDosError(status) on failure, the byte count unless
// the status is an error, TRUE with 0 bytes for a synchronous read at end of file. So a
// script sees both sides: the NTSTATUS the driver's completion produced and what the app
// would see.
#include <fmt/format.h>

#include <cstring>

#include "io_api.h"
#include "mm/memory_manager.h"
#include "lang/lexer.h"
#include "lang/names.h"
#include "lang/session_impl.h"
#include "lang/user_buffer.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "win32/win32.h"

namespace iosim::lang {

namespace {

// kernel32's view of a read/write/ioctl status: (TRUE/FALSE, bytes reported).
void win32_result(LastRequest& last, NTSTATUS status, ULONG_PTR information, bool eof_is_success)
{
    win32::TransferResult result = win32::transfer_result(status, information, eof_is_success);
    last.win32_ok = result.ok;
    last.bytes = result.bytes;
    last.last_error = current_thread()->last_error;
}

std::u16string nt_path_of(const std::string& path)
{
    std::u16string wide = win32::widen(path.c_str());
    // "\Device\X", "\??\X", "\GLOBAL??\X": already NT paths (as NtCreateFile takes them).
    if (wide.size() >= 2 && wide[0] == u'\\' && wide[1] != u'\\')
        return wide;
    return win32::dos_path_to_nt(wide);
}

}  // namespace

void Session::Impl::begin_request(const Command& command, std::string what)
{
    last = LastRequest{};
    last.valid = true;
    last.what = std::move(what);
    last.where = command.where;
    collecting = true;
}

HandleVar* Session::Impl::handle_for(const Command& command, Outcome& failure)
{
    auto it = handles.find(command.variable);
    if (it == handles.end()) {
        failure = error_at(command.where, fmt::format("handle '{}' was never opened (its 'open' failed or has not "
                                                      "run)",
                                                      command.variable));
        return nullptr;
    }
    if (it->second.handle == nullptr) {
        failure = error_at(command.where, fmt::format("handle '{}' was not opened: its open at {}:{} failed",
                                                      command.variable, it->second.opened_at.file,
                                                      it->second.opened_at.line));
        return nullptr;
    }
    if (!it->second.open) {
        failure = error_at(command.where, fmt::format("handle '{}' is closed (at {}:{})", command.variable,
                                                      it->second.closed_at.file, it->second.closed_at.line));
        return nullptr;
    }
    return &it->second;
}

void Session::Impl::show_request_result(std::string_view api)
{
    std::string text = fmt::format("{} -> {}", api, last.win32_ok ? "TRUE" : "FALSE");
    if (last.bytes)
        text += fmt::format(", {} byte(s)", *last.bytes);
    if (!last.win32_ok)
        text += fmt::format(", GetLastError() = {}", dos_error_display(last.last_error));
    text += fmt::format("; status {}", status_text(static_cast<NTSTATUS>(last.status)));
    line("result", text);
    if (last.data && !last.data->empty())
        show_data(*last.data);
}

void Session::Impl::show_data(std::string_view bytes)
{
    for (const auto& row : hex_dump(bytes))
        line("data", row);
    if (mostly_text(bytes))
        line("text", quote(bytes));
}

Outcome Session::Impl::do_open(const Command& command)
{
    Outcome failure = Outcome::Ok;
    Process* process = current_process(command, failure);
    if (process == nullptr)
        return failure;
    begin_request(command, fmt::format("CreateFile {}", command.name));
    // CreateFile: FILE_FLAG_OVERLAPPED leaves out FILE_SYNCHRONOUS_IO_NONALERT (an
    // asynchronous file object: a pended request returns STATUS_PENDING at once).
    ULONG options = FILE_NON_DIRECTORY_FILE | (command.overlapped ? 0 : FILE_SYNCHRONOUS_IO_NONALERT);
    HANDLE handle = nullptr;
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status;
    {
        RequestScope scope(*this, process);
        status = io::create_file(nt_path_of(command.name), command.access | SYNCHRONIZE | FILE_READ_ATTRIBUTES,
                                 command.share, FILE_OPEN, options, UserMode, &handle, &iosb);
        last.status = static_cast<uint32_t>(status);
        last.win32_ok = NT_SUCCESS(status);
        if (last.win32_ok)
            win32::set_last_error(0);
        else
            win32::set_last_nt_error(status);
        last.last_error = current_thread()->last_error;
    }
    if (NT_SUCCESS(status)) {
        HandleVar& var = handles[command.variable];
        var = HandleVar{handle, current, command.name, true, command.where, {}, command.overlapped};
        line("result", fmt::format("CreateFile {}{} -> handle {:#x} ({}, in process {}); status {}", command.name,
                                   command.overlapped ? " (FILE_FLAG_OVERLAPPED)" : "",
                                   reinterpret_cast<uintptr_t>(handle), command.variable, current,
                                   status_text(status)));
    } else {
        handles[command.variable] = HandleVar{nullptr, current, command.name, false, command.where, command.where};
        line("result", fmt::format("CreateFile {} -> INVALID_HANDLE_VALUE, GetLastError() = {}; status {}",
                                   command.name, dos_error_display(last.last_error), status_text(status)));
    }
    return Outcome::Ok;
}

Outcome Session::Impl::do_close(const Command& command)
{
    Outcome failure = Outcome::Ok;
    HandleVar* var = handle_for(command, failure);
    if (var == nullptr)
        return failure;
    begin_request(command, fmt::format("CloseHandle {}", command.variable));
    var->open = false;
    var->closed_at = command.where;
    NTSTATUS status;
    {
        RequestScope scope(*this, processes[var->process].process);
        status = io::close_handle(var->handle);
        last.status = static_cast<uint32_t>(status);
        last.win32_ok = NT_SUCCESS(status);
        if (!last.win32_ok)
            win32::set_last_nt_error(status);
        last.last_error = current_thread()->last_error;
    }
    show_request_result(fmt::format("CloseHandle({})", command.variable));
    return Outcome::Ok;
}

Outcome Session::Impl::do_read(const Command& command)
{
    Outcome failure = Outcome::Ok;
    HandleVar* var = handle_for(command, failure);
    if (var == nullptr)
        return failure;
    if (!command.request.empty())
        return do_overlapped_transfer(command, *var);
    begin_request(command, fmt::format("ReadFile on {}", command.variable));
    IO_STATUS_BLOCK iosb{};
    LARGE_INTEGER offset{};
    offset.QuadPart = static_cast<LONGLONG>(command.offset.value_or(0));
    {
        Process* process = processes[var->process].process;
        RequestScope scope(*this, process);
        UserBuffer buffer(process, command.number);
        NTSTATUS status = io::read_file(var->handle, buffer.data(), static_cast<ULONG>(buffer.size()),
                                        command.offset ? &offset : nullptr, UserMode, &iosb);
        if (var->overlapped)
            status = wait_on_file_handle(var->handle, status, iosb);
        last.status = static_cast<uint32_t>(status);
        win32_result(last, status, iosb.Information, !command.offset);
        last.data = buffer.contents(*last.bytes);
    }
    show_request_result(command.offset ? fmt::format("ReadFile({}, {} bytes at offset {})", command.variable,
                                                     command.number, *command.offset)
                                       : fmt::format("ReadFile({}, {} bytes)", command.variable, command.number));
    return Outcome::Ok;
}

Outcome Session::Impl::do_write(const Command& command)
{
    Outcome failure = Outcome::Ok;
    HandleVar* var = handle_for(command, failure);
    if (var == nullptr)
        return failure;
    if (!command.request.empty())
        return do_overlapped_transfer(command, *var);
    begin_request(command, fmt::format("WriteFile on {}", command.variable));
    const std::string& data = *command.data;
    IO_STATUS_BLOCK iosb{};
    LARGE_INTEGER offset{};
    offset.QuadPart = static_cast<LONGLONG>(command.offset.value_or(0));
    {
        Process* process = processes[var->process].process;
        RequestScope scope(*this, process);
        UserBuffer buffer(process, data.size(), data);
        NTSTATUS status = io::write_file(var->handle, buffer.data(), static_cast<ULONG>(buffer.size()),
                                         command.offset ? &offset : nullptr, UserMode, &iosb);
        if (var->overlapped)
            status = wait_on_file_handle(var->handle, status, iosb);
        last.status = static_cast<uint32_t>(status);
        win32_result(last, status, iosb.Information, false);
    }
    show_request_result(command.offset ? fmt::format("WriteFile({}, {} bytes at offset {})", command.variable,
                                                     data.size(), *command.offset)
                                       : fmt::format("WriteFile({}, {} bytes)", command.variable, data.size()));
    return Outcome::Ok;
}

Outcome Session::Impl::do_ioctl(const Command& command)
{
    Outcome failure = Outcome::Ok;
    HandleVar* var = handle_for(command, failure);
    if (var == nullptr)
        return failure;
    if (!command.request.empty())
        return do_overlapped_transfer(command, *var);
    uint32_t code = static_cast<uint32_t>(command.number);
    begin_request(command, fmt::format("DeviceIoControl {:#010x} on {}", code, command.variable));
    std::string input_data = command.data.value_or("");
    size_t output_length = command.out_length.value_or(0);
    IO_STATUS_BLOCK iosb{};
    {
        Process* process = processes[var->process].process;
        RequestScope scope(*this, process);
        UserBuffer input(process, input_data.size(), input_data);
        UserBuffer output(process, output_length);
        NTSTATUS status = io::device_io_control(var->handle, code, input.data(), static_cast<ULONG>(input.size()),
                                                output.data(), static_cast<ULONG>(output.size()), false, UserMode,
                                                &iosb);
        if (var->overlapped)
            status = wait_on_file_handle(var->handle, status, iosb);
        last.status = static_cast<uint32_t>(status);
        win32_result(last, status, iosb.Information, false);
        last.data = output.contents(*last.bytes);
    }
    line("ioctl", ioctl_text(code, input_data.size(), output_length));
    show_request_result(fmt::format("DeviceIoControl({}, {:#010x})", command.variable, code));
    return Outcome::Ok;
}

// ---- formatting ----------------------------------------------------------------------------

std::string ioctl_text(uint32_t code, size_t input_length, size_t output_length)
{
    static const char* methods[] = {"METHOD_BUFFERED", "METHOD_IN_DIRECT", "METHOD_OUT_DIRECT", "METHOD_NEITHER"};
    static const char* accesses[] = {"FILE_ANY_ACCESS", "FILE_READ_ACCESS", "FILE_WRITE_ACCESS",
                                     "FILE_READ_ACCESS|FILE_WRITE_ACCESS"};
    return fmt::format("code {:#010x} = CTL_CODE({:#x}, {:#x}, {}, {}), input {} byte(s), output {} byte(s)",
                              code, code >> 16, (code >> 2) & 0xFFF, methods[code & 3], accesses[(code >> 14) & 3],
                              input_length, output_length);
}

std::vector<std::string> hex_dump(std::string_view bytes)
{
    std::vector<std::string> rows;
    for (size_t at = 0; at < bytes.size(); at += 16) {
        std::string hex;
        std::string text;
        for (size_t i = 0; i < 16; ++i) {
            if (i == 8)
                hex += " ";
            if (at + i < bytes.size()) {
                auto c = static_cast<unsigned char>(bytes[at + i]);
                hex += fmt::format("{:02x} ", c);
                text.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '.');
            } else {
                hex += "   ";
            }
        }
        rows.push_back(fmt::format("{:04x}  {} |{}|", at, hex, text));
    }
    return rows;
}

bool mostly_text(std::string_view bytes)
{
    if (bytes.empty())
        return false;
    size_t printable = 0;
    for (char c : bytes) {
        auto u = static_cast<unsigned char>(c);
        printable += (u >= 0x20 && u < 0x7F) || c == '\n' || c == '\r' || c == '\t' ? 1 : 0;
    }
    return printable * 4 >= bytes.size() * 3;
}

}  // namespace iosim::lang
