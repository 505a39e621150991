// fileapi.cpp - CreateFile, ReadFile, WriteFile, DeviceIoControl, GetFileSize, CloseHandle.
//
// Each call becomes one system service (and so one IRP) as in kernel32. Rules kept:
//  - CreateFile maps "\\.\X" to "\??\X", the creation disposition to FILE_OPEN & co.,
//    and a handle without FILE_FLAG_OVERLAPPED to a synchronous file object;
//  - an OVERLAPPED's Offset/OffsetHigh is the byte offset even on a synchronous handle,
//    and its Internal/InternalHigh are the request's IO_STATUS_BLOCK;
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

// ReadFile and WriteFile: an OVERLAPPED supplies the byte offset (also on a synchronous
// handle) and doubles as the IO_STATUS_BLOCK; the byte count is reported unless the
// status is an error; a synchronous read at end of file succeeds with 0 bytes.
BOOL transfer(bool write, HANDLE file, LPVOID buffer, DWORD length, LPDWORD transferred, LPOVERLAPPED overlapped)
{
    if (transferred != nullptr)
        *transferred = 0;
    IO_STATUS_BLOCK local{};
    IO_STATUS_BLOCK* iosb = overlapped != nullptr ? reinterpret_cast<IO_STATUS_BLOCK*>(overlapped) : &local;
    LARGE_INTEGER offset;
    const LARGE_INTEGER* offset_ptr = nullptr;
    if (overlapped != nullptr) {
        overlapped->Internal = STATUS_PENDING;
        offset = offset_of(overlapped);
        offset_ptr = &offset;
    }
    NTSTATUS status = write ? io::write_file(file, buffer, length, offset_ptr, UserMode, iosb)
                            : io::read_file(file, buffer, length, offset_ptr, UserMode, iosb);
    TransferResult result = transfer_result(status, iosb->Information, !write && overlapped == nullptr);
    if (transferred != nullptr)
        *transferred = static_cast<DWORD>(result.bytes);
    return result.ok ? TRUE : FALSE;
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

BOOL WINAPI DeviceIoControl(HANDLE hDevice, DWORD dwIoControlCode, LPVOID lpInBuffer, DWORD nInBufferSize,
                            LPVOID lpOutBuffer, DWORD nOutBufferSize, LPDWORD lpBytesReturned,
                            LPOVERLAPPED lpOverlapped)
{
    if (lpBytesReturned != nullptr)
        *lpBytesReturned = 0;
    IO_STATUS_BLOCK local{};
    IO_STATUS_BLOCK* iosb = lpOverlapped != nullptr ? reinterpret_cast<IO_STATUS_BLOCK*>(lpOverlapped) : &local;
    if (lpOverlapped != nullptr)
        lpOverlapped->Internal = STATUS_PENDING;
    NTSTATUS status = io::device_io_control(hDevice, dwIoControlCode, lpInBuffer, nInBufferSize, lpOutBuffer,
                                            nOutBufferSize, false, UserMode, iosb);
    TransferResult result = transfer_result(status, iosb->Information, false);
    if (lpBytesReturned != nullptr)
        *lpBytesReturned = static_cast<DWORD>(result.bytes);
    return result.ok ? TRUE : FALSE;
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
