// pipe.cpp - kernel32's named-pipe calls: CreateNamedPipe, ConnectNamedPipe,
// DisconnectNamedPipe, PeekNamedPipe, WaitNamedPipe (W and A), SetNamedPipeHandleState.
//
// Each is one system service and so one IRP to the named-pipe file system
// (sim_io_manager/npfs, docs/pipes.md), as in kernel32:
//  - CreateNamedPipe: NtCreateNamedPipeFile on "\??\pipe\name" (IRP_MJ_CREATE_NAMED_PIPE);
//    the access mode gives GENERIC_READ (inbound) and/or GENERIC_WRITE (outbound); no
//    FILE_FLAG_OVERLAPPED: a synchronous handle; FILE_FLAG_FIRST_PIPE_INSTANCE: FILE_CREATE,
//    else FILE_OPEN_IF; nMaxInstances 1..PIPE_UNLIMITED_INSTANCES (255 = unlimited), else
//    ERROR_INVALID_PARAMETER; nDefaultTimeOut 0 means 50 ms. Failure: INVALID_HANDLE_VALUE.
//  - ConnectNamedPipe: NtFsControlFile(FSCTL_PIPE_LISTEN). With an OVERLAPPED: FALSE with
//    ERROR_IO_PENDING while it waits for a client; a client already there: FALSE with
//    ERROR_PIPE_CONNECTED (still a good connection); one that came and went: ERROR_NO_DATA.
//  - SetNamedPipeHandleState: NtSetInformationFile(FilePipeInformation) with the read mode
//    and wait mode of lpMode; collection counts and timeouts (remote pipes only):
//    ERROR_INVALID_PARAMETER.
//  - DisconnectNamedPipe: FSCTL_PIPE_DISCONNECT. PeekNamedPipe: FSCTL_PIPE_PEEK into a
//    buffer of its own (header + nBufferSize), STATUS_BUFFER_OVERFLOW being a success here.
//  - WaitNamedPipe: opens the file system's root "\??\pipe\" and sends FSCTL_PIPE_WAIT
//    with the name after "\\.\pipe\"; NMPWAIT_USE_DEFAULT_WAIT: the pipe's default timeout;
//    NMPWAIT_WAIT_FOREVER: none. No such pipe: ERROR_FILE_NOT_FOUND; timeout:
//    ERROR_SEM_TIMEOUT; a name not under \\.\pipe\: ERROR_BAD_PATHNAME.
// Without an OVERLAPPED on an overlapped handle kernel32 waits on the handle itself when
// the request pends (as ReadFile does).
// NT counterparts: kernel32!CreateNamedPipeW, ConnectNamedPipe, DisconnectNamedPipe,
// PeekNamedPipe, WaitNamedPipeW, SetNamedPipeHandleState.
#include <climits>
#include <cstring>
#include <vector>

#include "io_api.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

// kernel32's wait after a request pended on an asynchronous handle it was given no
// OVERLAPPED for: the file object's event, then the IO_STATUS_BLOCK.
NTSTATUS wait_if_pending(HANDLE handle, NTSTATUS status, const IO_STATUS_BLOCK& iosb)
{
    if (status == STATUS_PENDING && WaitForSingleObject(handle, INFINITE) == WAIT_OBJECT_0)
        return iosb.Status;
    return status;
}

bool has_prefix_nocase(std::u16string_view text, std::u16string_view prefix)
{
    if (text.size() < prefix.size())
        return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char16_t a = text[i] >= u'A' && text[i] <= u'Z' ? static_cast<char16_t>(text[i] + 32) : text[i];
        if (a != prefix[i])
            return false;
    }
    return true;
}

}  // namespace

extern "C" {

HANDLE WINAPI CreateNamedPipeW(LPCWSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode, DWORD nMaxInstances,
                               DWORD nOutBufferSize, DWORD nInBufferSize, DWORD nDefaultTimeOut,
                               LPSECURITY_ATTRIBUTES lpSecurityAttributes)
{
    if (lpName == nullptr) {
        set_last_error(ERROR_PATH_NOT_FOUND);
        return INVALID_HANDLE_VALUE;
    }
    if (nMaxInstances == 0 || nMaxInstances > PIPE_UNLIMITED_INSTANCES || (dwOpenMode & PIPE_ACCESS_DUPLEX) == 0) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    ACCESS_MASK access = SYNCHRONIZE | (dwOpenMode & (WRITE_DAC | WRITE_OWNER));
    if (dwOpenMode & PIPE_ACCESS_INBOUND)
        access |= GENERIC_READ;
    if (dwOpenMode & PIPE_ACCESS_OUTBOUND)
        access |= GENERIC_WRITE;
    ULONG options = 0;
    if ((dwOpenMode & FILE_FLAG_OVERLAPPED) == 0)
        options |= FILE_SYNCHRONOUS_IO_NONALERT;
    if (dwOpenMode & FILE_FLAG_WRITE_THROUGH)
        options |= FILE_WRITE_THROUGH;
    ULONG disposition = (dwOpenMode & FILE_FLAG_FIRST_PIPE_INSTANCE) ? FILE_CREATE : FILE_OPEN_IF;
    NAMED_PIPE_CREATE_PARAMETERS params{};
    params.NamedPipeType = (dwPipeMode & PIPE_TYPE_MESSAGE) ? FILE_PIPE_MESSAGE_TYPE : FILE_PIPE_BYTE_STREAM_TYPE;
    params.ReadMode = (dwPipeMode & PIPE_READMODE_MESSAGE) ? FILE_PIPE_MESSAGE_MODE : FILE_PIPE_BYTE_STREAM_MODE;
    params.CompletionMode = (dwPipeMode & PIPE_NOWAIT) ? FILE_PIPE_COMPLETE_OPERATION : FILE_PIPE_QUEUE_OPERATION;
    params.MaximumInstances = nMaxInstances == PIPE_UNLIMITED_INSTANCES ? 0xFFFFFFFF : nMaxInstances;
    params.InboundQuota = nInBufferSize;
    params.OutboundQuota = nOutBufferSize;
    params.DefaultTimeout.QuadPart = -10000LL * (nDefaultTimeOut != 0 ? nDefaultTimeOut : 50);
    params.TimeoutSpecified = TRUE;
    std::u16string nt_path = dos_path_to_nt(reinterpret_cast<const char16_t*>(lpName));
    HANDLE handle = nullptr;
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status = io::create_named_pipe_file(nt_path, access, FILE_SHARE_READ | FILE_SHARE_WRITE, disposition,
                                                 options, UserMode, params, &handle, &iosb);
    if (!NT_SUCCESS(status)) {
        // A name outside the pipe file system reaches some other device: not a pipe name.
        set_last_nt_error(status == STATUS_INVALID_DEVICE_REQUEST || status == STATUS_OBJECT_TYPE_MISMATCH
                              ? STATUS_OBJECT_NAME_INVALID
                              : status);
        return INVALID_HANDLE_VALUE;
    }
    set_last_error(ERROR_SUCCESS);
    return handle;
}

HANDLE WINAPI CreateNamedPipeA(LPCSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode, DWORD nMaxInstances,
                               DWORD nOutBufferSize, DWORD nInBufferSize, DWORD nDefaultTimeOut,
                               LPSECURITY_ATTRIBUTES lpSecurityAttributes)
{
    if (lpName == nullptr) {
        set_last_error(ERROR_PATH_NOT_FOUND);
        return INVALID_HANDLE_VALUE;
    }
    std::u16string wide = widen(lpName);
    return CreateNamedPipeW(reinterpret_cast<LPCWSTR>(wide.c_str()), dwOpenMode, dwPipeMode, nMaxInstances,
                            nOutBufferSize, nInBufferSize, nDefaultTimeOut, lpSecurityAttributes);
}

BOOL WINAPI ConnectNamedPipe(HANDLE hNamedPipe, LPOVERLAPPED lpOverlapped)
{
    if (lpOverlapped != nullptr) {
        lpOverlapped->Internal = STATUS_PENDING;
        auto bits = reinterpret_cast<ULONG_PTR>(lpOverlapped->hEvent);
        io::CompletionNotice notice;
        notice.event = reinterpret_cast<HANDLE>(bits & ~ULONG_PTR{1});
        notice.apc_context = (bits & 1) != 0 ? nullptr : lpOverlapped;
        NTSTATUS status = io::fs_control_file(hNamedPipe, FSCTL_PIPE_LISTEN, nullptr, 0, nullptr, 0, UserMode,
                                              reinterpret_cast<IO_STATUS_BLOCK*>(lpOverlapped), notice);
        if (!NT_SUCCESS(status) || status == STATUS_PENDING) {
            set_last_nt_error(status);  // ERROR_IO_PENDING, ERROR_PIPE_CONNECTED, ERROR_NO_DATA, ...
            return FALSE;
        }
        return TRUE;
    }
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status = io::fs_control_file(hNamedPipe, FSCTL_PIPE_LISTEN, nullptr, 0, nullptr, 0, UserMode, &iosb);
    status = wait_if_pending(hNamedPipe, status, iosb);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI DisconnectNamedPipe(HANDLE hNamedPipe)
{
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status = io::fs_control_file(hNamedPipe, FSCTL_PIPE_DISCONNECT, nullptr, 0, nullptr, 0, UserMode, &iosb);
    status = wait_if_pending(hNamedPipe, status, iosb);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI PeekNamedPipe(HANDLE hNamedPipe, LPVOID lpBuffer, DWORD nBufferSize, LPDWORD lpBytesRead,
                          LPDWORD lpTotalBytesAvail, LPDWORD lpBytesLeftThisMessage)
{
    const DWORD header = FIELD_OFFSET(FILE_PIPE_PEEK_BUFFER, Data);
    DWORD room = lpBuffer != nullptr ? nBufferSize : 0;
    std::vector<char> peek(header + room);
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status = io::fs_control_file(hNamedPipe, FSCTL_PIPE_PEEK, nullptr, 0, peek.data(),
                                          static_cast<ULONG>(peek.size()), UserMode, &iosb);
    status = wait_if_pending(hNamedPipe, status, iosb);
    if (NT_ERROR(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    auto* info = reinterpret_cast<FILE_PIPE_PEEK_BUFFER*>(peek.data());
    DWORD read = iosb.Information > header ? static_cast<DWORD>(iosb.Information - header) : 0;
    if (lpBuffer != nullptr && read != 0)
        std::memcpy(lpBuffer, info->Data, read);
    if (lpBytesRead != nullptr)
        *lpBytesRead = read;
    if (lpTotalBytesAvail != nullptr)
        *lpTotalBytesAvail = info->ReadDataAvailable;
    if (lpBytesLeftThisMessage != nullptr)
        *lpBytesLeftThisMessage = info->NumberOfMessages != 0 ? info->MessageLength - read : 0;
    return TRUE;
}

BOOL WINAPI SetNamedPipeHandleState(HANDLE hNamedPipe, LPDWORD lpMode, LPDWORD lpMaxCollectionCount,
                                    LPDWORD lpCollectDataTimeout)
{
    if (lpMaxCollectionCount != nullptr || lpCollectDataTimeout != nullptr) {
        // Collection counts and timeouts apply to remote pipes only.
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (lpMode == nullptr)
        return TRUE;
    if ((*lpMode & ~(PIPE_READMODE_MESSAGE | PIPE_NOWAIT)) != 0) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    FILE_PIPE_INFORMATION info{};
    info.ReadMode = (*lpMode & PIPE_READMODE_MESSAGE) ? FILE_PIPE_MESSAGE_MODE : FILE_PIPE_BYTE_STREAM_MODE;
    info.CompletionMode = (*lpMode & PIPE_NOWAIT) ? FILE_PIPE_COMPLETE_OPERATION : FILE_PIPE_QUEUE_OPERATION;
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status = io::set_information_file(hNamedPipe, &info, sizeof(info), FilePipeInformation, UserMode, &iosb);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI WaitNamedPipeW(LPCWSTR lpNamedPipeName, DWORD nTimeOut)
{
    if (lpNamedPipeName == nullptr) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    std::u16string_view name(reinterpret_cast<const char16_t*>(lpNamedPipeName));
    const std::u16string_view prefix = u"\\\\.\\pipe\\";
    if (!has_prefix_nocase(name, prefix) || name.size() == prefix.size()) {
        set_last_error(ERROR_BAD_PATHNAME);
        return FALSE;
    }
    std::u16string_view pipe = name.substr(prefix.size());
    HANDLE root = nullptr;
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status = io::create_file(u"\\??\\pipe\\", FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT,
                                      UserMode, &root, &iosb);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    std::vector<char> buffer(FIELD_OFFSET(FILE_PIPE_WAIT_FOR_BUFFER, Name) + pipe.size() * sizeof(char16_t));
    auto* wait = reinterpret_cast<FILE_PIPE_WAIT_FOR_BUFFER*>(buffer.data());
    wait->NameLength = static_cast<ULONG>(pipe.size() * sizeof(char16_t));
    std::memcpy(wait->Name, pipe.data(), wait->NameLength);
    if (nTimeOut == NMPWAIT_USE_DEFAULT_WAIT) {
        wait->TimeoutSpecified = FALSE;
    } else {
        wait->TimeoutSpecified = TRUE;
        wait->Timeout.QuadPart = nTimeOut == NMPWAIT_WAIT_FOREVER ? LLONG_MIN : -10000LL * nTimeOut;
    }
    status = io::fs_control_file(root, FSCTL_PIPE_WAIT, buffer.data(), static_cast<ULONG>(buffer.size()), nullptr, 0,
                                 UserMode, &iosb);
    io::close_handle(root);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI WaitNamedPipeA(LPCSTR lpNamedPipeName, DWORD nTimeOut)
{
    if (lpNamedPipeName == nullptr) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    std::u16string wide = widen(lpNamedPipeName);
    return WaitNamedPipeW(reinterpret_cast<LPCWSTR>(wide.c_str()), nTimeOut);
}

}  // extern "C"
