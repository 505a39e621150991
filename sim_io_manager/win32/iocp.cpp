// iocp.cpp - kernel32's I/O completion ports: CreateIoCompletionPort,
// GetQueuedCompletionStatus(Ex), PostQueuedCompletionStatus, SetFileCompletionNotificationModes.
//
// The port is the kernel's IoCompletion object (completion_port.h); which requests queue a
// packet is the I/O manager's rule (iocomplete.cpp): one per request that wrote its
// OVERLAPPED - a success, a warning, or an error that was pended - none for an error
// returned at once, none when the OVERLAPPED's hEvent has its low bit set, and none for a
// success that did not pend once FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is set.
// Rules kept (the functions' documentation):
//  - CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, ..) makes a port; with a file handle
//    it associates the file (a new port if ExistingCompletionPort is NULL) and returns the
//    port; a file already associated fails with ERROR_INVALID_PARAMETER;
//  - GetQueuedCompletionStatus: a packet of a successful request: TRUE; of a failed one:
//    FALSE with its error and *lpOverlapped set; a timeout: FALSE, WAIT_TIMEOUT and
//    *lpOverlapped = NULL. Packets come out first in, first out;
//  - GetQueuedCompletionStatusEx removes up to ulCount packets; an alertable wait that ran
//    APCs returns FALSE with WAIT_IO_COMPLETION.
// NT counterparts: NtCreateIoCompletion, NtSetInformationFile(FileCompletionInformation),
// NtRemoveIoCompletion(Ex), NtSetIoCompletion.
#include <fmt/format.h>

#include "completion_port.h"
#include "file.h"
#include "ps/process.h"
#include "system.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

constexpr DWORD kInfinite = 0xFFFFFFFF;
constexpr ACCESS_MASK kIoCompletionAllAccess = 0x1F0003;

template <typename T>
T* reference_handle(HANDLE handle, ob::ObjectType& type)
{
    Process* process = current_process();
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    if (process == nullptr || handle == nullptr || !NT_SUCCESS(process->handles().reference(handle, &type, &object, &granted)))
        return nullptr;
    return static_cast<T*>(object);
}

// Waits for a packet; STATUS_WAIT_0 (one count taken), STATUS_TIMEOUT or STATUS_USER_APC.
NTSTATUS wait_for_packet(io::CompletionPort* port, DWORD milliseconds, bool alertable, const char* api)
{
    LARGE_INTEGER timeout{};
    timeout.QuadPart = -static_cast<LONGLONG>(milliseconds) * 10000;
    DISPATCHER_HEADER* header = &port->header;
    return System::current()->scheduler().wait(&header, 1, false, milliseconds == kInfinite ? nullptr : &timeout, api,
                                               alertable);
}

}  // namespace

extern "C" {

HANDLE WINAPI CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort, ULONG_PTR CompletionKey,
                                     DWORD NumberOfConcurrentThreads)
{
    Process* process = current_process();
    io::CompletionPort* port = nullptr;
    if (ExistingCompletionPort != nullptr) {
        port = reference_handle<io::CompletionPort>(ExistingCompletionPort, io::completion_port_type());
        if (port == nullptr) {
            set_last_error(ERROR_INVALID_HANDLE);
            return nullptr;
        }
    } else {
        port = io::create_completion_port();
    }
    HANDLE result = ExistingCompletionPort;
    if (FileHandle != INVALID_HANDLE_VALUE) {
        auto* file = reference_handle<FILE_OBJECT>(FileHandle, io::file_type());
        if (file == nullptr) {
            ob::dereference(port);
            set_last_error(ERROR_INVALID_HANDLE);
            return nullptr;
        }
        NTSTATUS status = io::associate_completion_port(file, port, CompletionKey);
        ob::dereference(file);
        if (!NT_SUCCESS(status)) {
            ob::dereference(port);
            set_last_nt_error(status);
            return nullptr;
        }
    } else if (ExistingCompletionPort != nullptr) {
        ob::dereference(port);
        set_last_error(ERROR_INVALID_PARAMETER);
        return nullptr;
    }
    if (result == nullptr)
        result = process->handles().insert(port, kIoCompletionAllAccess);
    ob::dereference(port);  // the handle (and the file, if associated) hold it
    set_last_error(ERROR_SUCCESS);
    return result;
}

BOOL WINAPI GetQueuedCompletionStatus(HANDLE CompletionPort, LPDWORD lpNumberOfBytesTransferred,
                                      PULONG_PTR lpCompletionKey, LPOVERLAPPED* lpOverlapped, DWORD dwMilliseconds)
{
    auto* port = reference_handle<io::CompletionPort>(CompletionPort, io::completion_port_type());
    if (port == nullptr) {
        set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    NTSTATUS wait = wait_for_packet(port, dwMilliseconds, false, "GetQueuedCompletionStatus");
    if (wait != STATUS_WAIT_0) {
        ob::dereference(port);
        if (lpOverlapped != nullptr)
            *lpOverlapped = nullptr;
        set_last_error(WAIT_TIMEOUT);
        return FALSE;
    }
    io::CompletionPacket packet = io::take_packet(port);
    ob::dereference(port);
    if (lpNumberOfBytesTransferred != nullptr)
        *lpNumberOfBytesTransferred = static_cast<DWORD>(packet.iosb.Information);
    if (lpCompletionKey != nullptr)
        *lpCompletionKey = packet.key;
    if (lpOverlapped != nullptr)
        *lpOverlapped = static_cast<LPOVERLAPPED>(packet.apc_context);
    if (!NT_SUCCESS(packet.iosb.Status)) {
        set_last_nt_error(packet.iosb.Status);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI GetQueuedCompletionStatusEx(HANDLE CompletionPort, LPOVERLAPPED_ENTRY lpCompletionPortEntries,
                                        ULONG ulCount, PULONG ulNumEntriesRemoved, DWORD dwMilliseconds,
                                        BOOL fAlertable)
{
    if (lpCompletionPortEntries == nullptr || ulCount == 0 || ulNumEntriesRemoved == nullptr) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    *ulNumEntriesRemoved = 0;
    auto* port = reference_handle<io::CompletionPort>(CompletionPort, io::completion_port_type());
    if (port == nullptr) {
        set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    NTSTATUS wait = wait_for_packet(port, dwMilliseconds, fAlertable != FALSE, "GetQueuedCompletionStatusEx");
    if (wait != STATUS_WAIT_0) {
        ob::dereference(port);
        set_last_error(wait == STATUS_USER_APC ? WAIT_IO_COMPLETION : WAIT_TIMEOUT);
        return FALSE;
    }
    ULONG n = 0;
    for (;;) {
        io::CompletionPacket packet = io::take_packet(port);
        OVERLAPPED_ENTRY& entry = lpCompletionPortEntries[n++];
        entry.lpCompletionKey = packet.key;
        entry.lpOverlapped = static_cast<LPOVERLAPPED>(packet.apc_context);
        entry.Internal = static_cast<ULONG_PTR>(static_cast<ULONG>(packet.iosb.Status));
        entry.dwNumberOfBytesTransferred = static_cast<DWORD>(packet.iosb.Information);
        if (n == ulCount || port->header.SignalState <= 0)
            break;
        port->header.SignalState--;  // one more packet taken, as the wait took the first
    }
    ob::dereference(port);
    *ulNumEntriesRemoved = n;
    return TRUE;
}

BOOL WINAPI PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD dwNumberOfBytesTransferred,
                                       ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped)
{
    auto* port = reference_handle<io::CompletionPort>(CompletionPort, io::completion_port_type());
    if (port == nullptr) {
        set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    IO_STATUS_BLOCK iosb{};
    iosb.Status = STATUS_SUCCESS;
    iosb.Information = dwNumberOfBytesTransferred;
    io::post_packet(port, {dwCompletionKey, lpOverlapped, iosb});
    ob::dereference(port);
    return TRUE;
}

BOOL WINAPI SetFileCompletionNotificationModes(HANDLE FileHandle, UCHAR Flags)
{
    auto* file = reference_handle<FILE_OBJECT>(FileHandle, io::file_type());
    if (file == nullptr) {
        set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    if ((Flags & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) != 0)
        file->Flags |= io::kFoSkipCompletionPort;
    if ((Flags & FILE_SKIP_SET_EVENT_ON_HANDLE) != 0)
        file->Flags |= io::kFoSkipSetEvent;
    ob::dereference(file);
    return TRUE;
}

}  // extern "C"
