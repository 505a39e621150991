// fileapi.cpp - CreateFile, ReadFile(Ex), WriteFile(Ex), DeviceIoControl, GetFileSize, CloseHandle.
//
// Each call becomes one system service (and so one IRP) as in kernel32. Rules kept:
//  - CreateFile maps "\\.\X" to "\??\X", the creation disposition to FILE_OPEN & co.,
//    and a handle without FILE_FLAG_OVERLAPPED to a synchronous file object;
//  - an OVERLAPPED's Offset/OffsetHigh is the byte offset even on a synchronous handle,
//    and its Internal/InternalHigh are the request's IO_STATUS_BLOCK, its hEvent the event
//    set at completion (low bit set: no completion-port packet);
//  - with an OVERLAPPED: TRUE only for a success that did not pend; ERROR_IO_PENDING for a
//    pended request (GetOverlappedResult, win32/overlapped.cpp, gets the outcome);
//  - failure: FALSE (or INVALID_HANDLE_VALUE) with GetLastError() =
//    RtlNtStatusToDosError(status); a warning status (STATUS_BUFFER_OVERFLOW) still reports
//    the bytes transferred;
//  - a synchronous ReadFile that meets STATUS_END_OF_FILE returns TRUE with 0 bytes.
// NT counterparts: kernel32!CreateFileW, ReadFile, WriteFile, DeviceIoControl, GetFileSizeEx.
#include <cstring>

#include "io_api.h"
#include "ps/process.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

LARGE_INTEGER offset_of(const OVERLAPPED* ov)
{
    LARGE_INTEGER offset;
    offset.LowPart = ov->Offset;
    offset.HighPart = static_cast<LONG>(ov->OffsetHigh);
    return offset;
}

// What kernel32 gives NtReadFile for an OVERLAPPED: its event (the low bit of hEvent is a
// flag, not part of the handle) and, as the APC context a completion port reports, the
// OVERLAPPED itself unless that low bit asks for no completion packet.
io::CompletionNotice notice_of(LPOVERLAPPED ov)
{
    auto bits = reinterpret_cast<ULONG_PTR>(ov->hEvent);
    io::CompletionNotice notice;
    notice.event = reinterpret_cast<HANDLE>(bits & ~ULONG_PTR{1});
    notice.apc_context = (bits & 1) != 0 ? nullptr : ov;
    return notice;
}

// kernel32 after a service given an OVERLAPPED: TRUE only for a success that did not pend
// (the byte count from InternalHigh); otherwise FALSE with the status's error -
// ERROR_IO_PENDING for a pended request, ERROR_MORE_DATA for STATUS_BUFFER_OVERFLOW.
BOOL overlapped_result(NTSTATUS status, LPOVERLAPPED ov, LPDWORD transferred)
{
    if (!NT_SUCCESS(status) || status == STATUS_PENDING) {
        set_last_nt_error(status);
        return FALSE;
    }
    if (transferred != nullptr)
        *transferred = static_cast<DWORD>(ov->InternalHigh);
    return TRUE;
}

// ReadFile and WriteFile. Without an OVERLAPPED the call is synchronous: a synchronous
// handle waits in the service; on an asynchronous handle kernel32 itself waits on the file
// handle when the request pended. The byte count is reported unless the status is an error;
// a synchronous read at end of file succeeds with 0 bytes. With an OVERLAPPED, its
// Offset/OffsetHigh are the byte offset (also on a synchronous handle), its Internal and
// InternalHigh the IO_STATUS_BLOCK, its hEvent the event set at completion.
BOOL transfer(bool write, HANDLE file, LPVOID buffer, DWORD length, LPDWORD transferred, LPOVERLAPPED overlapped)
{
    if (transferred != nullptr)
        *transferred = 0;
    if (overlapped == nullptr) {
        IO_STATUS_BLOCK iosb{};
        NTSTATUS status = write ? io::write_file(file, buffer, length, nullptr, UserMode, &iosb)
                                : io::read_file(file, buffer, length, nullptr, UserMode, &iosb);
        if (status == STATUS_PENDING) {
            // An asynchronous handle used without an OVERLAPPED: wait on the handle itself.
            if (WaitForSingleObject(file, INFINITE) == WAIT_OBJECT_0)
                status = iosb.Status;
        }
        TransferResult result = transfer_result(status, iosb.Information, !write);
        if (transferred != nullptr)
            *transferred = static_cast<DWORD>(result.bytes);
        return result.ok ? TRUE : FALSE;
    }
    overlapped->Internal = STATUS_PENDING;
    LARGE_INTEGER offset = offset_of(overlapped);
    io::CompletionNotice notice = notice_of(overlapped);
    auto* iosb = reinterpret_cast<IO_STATUS_BLOCK*>(overlapped);
    NTSTATUS status = write ? io::write_file(file, buffer, length, &offset, UserMode, iosb, notice)
                            : io::read_file(file, buffer, length, &offset, UserMode, iosb, notice);
    return overlapped_result(status, overlapped, transferred);
}

// ReadFileEx/WriteFileEx's APC routine (kernel32's BasepIoCompletion): calls the app's
// completion routine with the Win32 error, the byte count and the OVERLAPPED.
void WINAPI io_completion_apc(PVOID context, PIO_STATUS_BLOCK iosb, ULONG)
{
    auto routine = reinterpret_cast<LPOVERLAPPED_COMPLETION_ROUTINE>(context);
    DWORD error = NT_SUCCESS(iosb->Status) ? ERROR_SUCCESS : RtlNtStatusToDosError(iosb->Status);
    routine(error, static_cast<DWORD>(iosb->Information), reinterpret_cast<LPOVERLAPPED>(iosb));
}

// ReadFileEx/WriteFileEx: the handle must be asynchronous; the completion routine runs as
// a user APC when the calling thread waits alertably. hEvent is the app's to use: kernel32
// passes no event. A request that fails at once returns FALSE and queues nothing.
BOOL transfer_ex(bool write, HANDLE file, LPVOID buffer, DWORD length, LPOVERLAPPED overlapped,
                 LPOVERLAPPED_COMPLETION_ROUTINE routine)
{
    if (overlapped == nullptr || routine == nullptr) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    io::CompletionNotice notice;
    notice.apc_routine = &io_completion_apc;
    notice.apc_context = reinterpret_cast<PVOID>(routine);
    overlapped->Internal = STATUS_PENDING;
    LARGE_INTEGER offset = offset_of(overlapped);
    auto* iosb = reinterpret_cast<IO_STATUS_BLOCK*>(overlapped);
    NTSTATUS status = write ? io::write_file(file, buffer, length, &offset, UserMode, iosb, notice)
                            : io::read_file(file, buffer, length, &offset, UserMode, iosb, notice);
    // Pended, succeeded or a warning: the routine will run. Only an error fails the call.
    if (NT_ERROR(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    set_last_error(ERROR_SUCCESS);
    return TRUE;
}

}  // namespace

extern "C" {

DWORD WINAPI GetLastError(void)
{
    Thread* thread = current_thread();
    return thread != nullptr ? thread->last_error : 0;
}

void WINAPI SetLastError(DWORD dwErrCode) { set_last_error(dwErrCode); }

HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
{
    if (lpFileName == nullptr) {
        set_last_error(ERROR_PATH_NOT_FOUND);
        return INVALID_HANDLE_VALUE;
    }
    ULONG disposition;
    switch (dwCreationDisposition) {
    case CREATE_NEW: disposition = FILE_CREATE; break;
    case CREATE_ALWAYS: disposition = FILE_OVERWRITE_IF; break;
    case OPEN_EXISTING: disposition = FILE_OPEN; break;
    case OPEN_ALWAYS: disposition = FILE_OPEN_IF; break;
    case TRUNCATE_EXISTING: disposition = FILE_OVERWRITE; break;
    default: set_last_error(ERROR_INVALID_PARAMETER); return INVALID_HANDLE_VALUE;
    }
    ULONG options = FILE_NON_DIRECTORY_FILE;
    if ((dwFlagsAndAttributes & FILE_FLAG_OVERLAPPED) == 0)
        options |= FILE_SYNCHRONOUS_IO_NONALERT;
    if (dwFlagsAndAttributes & FILE_FLAG_WRITE_THROUGH)
        options |= FILE_WRITE_THROUGH;
    if (dwFlagsAndAttributes & FILE_FLAG_NO_BUFFERING)
        options |= FILE_NO_INTERMEDIATE_BUFFERING;
    std::u16string nt_path = dos_path_to_nt(reinterpret_cast<const char16_t*>(lpFileName));
    HANDLE handle = nullptr;
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status = io::create_file(nt_path, dwDesiredAccess | SYNCHRONIZE | FILE_READ_ATTRIBUTES, dwShareMode,
                                      disposition, options, UserMode, &handle, &iosb);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return INVALID_HANDLE_VALUE;
    }
    bool existed = iosb.Information == FILE_OPENED || iosb.Information == FILE_OVERWRITTEN;
    set_last_error((dwCreationDisposition == CREATE_ALWAYS || dwCreationDisposition == OPEN_ALWAYS) && existed
                       ? ERROR_ALREADY_EXISTS
                       : ERROR_SUCCESS);
    return handle;
}

HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
{
    if (lpFileName == nullptr) {
        set_last_error(ERROR_PATH_NOT_FOUND);
        return INVALID_HANDLE_VALUE;
    }
    std::u16string wide = widen(lpFileName);
    return CreateFileW(reinterpret_cast<LPCWSTR>(wide.c_str()), dwDesiredAccess, dwShareMode, lpSecurityAttributes,
                       dwCreationDisposition, dwFlagsAndAttributes, hTemplateFile);
}

BOOL WINAPI CloseHandle(HANDLE hObject)
{
    NTSTATUS status = io::close_handle(hObject);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead, LPDWORD lpNumberOfBytesRead,
                     LPOVERLAPPED lpOverlapped)
{
    return transfer(false, hFile, lpBuffer, nNumberOfBytesToRead, lpNumberOfBytesRead, lpOverlapped);
}

BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite, LPDWORD lpNumberOfBytesWritten,
                      LPOVERLAPPED lpOverlapped)
{
    return transfer(true, hFile, const_cast<LPVOID>(lpBuffer), nNumberOfBytesToWrite, lpNumberOfBytesWritten,
                    lpOverlapped);
}

BOOL WINAPI ReadFileEx(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead, LPOVERLAPPED lpOverlapped,
                       LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
    return transfer_ex(false, hFile, lpBuffer, nNumberOfBytesToRead, lpOverlapped, lpCompletionRoutine);
}

BOOL WINAPI WriteFileEx(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite, LPOVERLAPPED lpOverlapped,
                        LPOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine)
{
    return transfer_ex(true, hFile, const_cast<LPVOID>(lpBuffer), nNumberOfBytesToWrite, lpOverlapped,
                       lpCompletionRoutine);
}

BOOL WINAPI DeviceIoControl(HANDLE hDevice, DWORD dwIoControlCode, LPVOID lpInBuffer, DWORD nInBufferSize,
                            LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesReturned,
                            LPOVERLAPPED lpOverlapped)
{
    if (lpBytesReturned != nullptr)
        *lpBytesReturned = 0;
    if (lpOverlapped == nullptr) {
        IO_STATUS_BLOCK iosb{};
        NTSTATUS status = io::device_io_control(hDevice, dwIoControlCode, lpInBuffer, nInBufferSize, lpOutBuffer,
                                                nOutBufferSize, false, UserMode, &iosb);
        if (status == STATUS_PENDING) {
            // An asynchronous handle used without an OVERLAPPED: wait on the handle itself.
            if (WaitForSingleObject(hDevice, INFINITE) == WAIT_OBJECT_0)
                status = iosb.Status;
        }
        TransferResult result = transfer_result(status, iosb.Information, false);
        if (lpBytesReturned != nullptr)
            *lpBytesReturned = static_cast<DWORD>(result.bytes);
        return result.ok ? TRUE : FALSE;
    }
    lpOverlapped->Internal = STATUS_PENDING;
    NTSTATUS status = io::device_io_control(hDevice, dwIoControlCode, lpInBuffer, nInBufferSize, lpOutBuffer,
                                            nOutBufferSize, false, UserMode,
                                            reinterpret_cast<IO_STATUS_BLOCK*>(lpOverlapped), notice_of(lpOverlapped));
    return overlapped_result(status, lpOverlapped, lpBytesReturned);
}

BOOL WINAPI GetFileSizeEx(HANDLE hFile, PLARGE_INTEGER lpFileSize)
{
    FILE_STANDARD_INFORMATION info{};
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status =
        io::query_information_file(hFile, &info, sizeof(info), FileStandardInformation, UserMode, &iosb);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    lpFileSize->QuadPart = info.EndOfFile.QuadPart;
    return TRUE;
}

DWORD WINAPI GetFileSize(HANDLE hFile, LPDWORD lpFileSizeHigh)
{
    LARGE_INTEGER size;
    if (!GetFileSizeEx(hFile, &size))
        return INVALID_FILE_SIZE;
    if (lpFileSizeHigh != nullptr)
        *lpFileSizeHigh = static_cast<DWORD>(size.HighPart);
    if (size.LowPart == INVALID_FILE_SIZE)
        set_last_error(NO_ERROR);  // so a caller can tell a real size of 0xFFFFFFFF from failure
    return size.LowPart;
}

}  // extern "C"
