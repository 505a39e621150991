// overlapped.cpp - kernel32's side of overlapped I/O: GetOverlappedResult(Ex), CancelIo,
// CancelIoEx, CancelSynchronousIo.
//
// An OVERLAPPED is the request's IO_STATUS_BLOCK (Internal = status, InternalHigh = bytes)
// plus its byte offset and event. kernel32 sets Internal to STATUS_PENDING before the
// request; the I/O manager writes both fields when the request completes (in the
// requesting thread, iocomplete.cpp), which is what HasOverlappedIoCompleted reads.
// Rules kept (GetOverlappedResultEx's documentation):
//  - still pending and no wait asked (bWait FALSE, or a 0 ms timeout): FALSE with
//    ERROR_IO_INCOMPLETE;
//  - otherwise it waits on hEvent (low bit cleared), or on the file handle when hEvent is
//    NULL (the file object's event); a timeout gives FALSE with WAIT_TIMEOUT, an alertable
//    wait that ran APCs FALSE with WAIT_IO_COMPLETION;
//  - then *lpNumberOfBytesTransferred = InternalHigh, and TRUE if Internal is a success
//    status, else FALSE with its Win32 error (ERROR_MORE_DATA for STATUS_BUFFER_OVERFLOW,
//    ERROR_OPERATION_ABORTED for STATUS_CANCELLED).
// Cancelling asks the drivers to stop (cancel.cpp) and returns; the requests complete as
// usual, with STATUS_CANCELLED (ERROR_OPERATION_ABORTED) when their driver honours it.
// NT counterparts: kernel32!GetOverlappedResult, kernelbase!GetOverlappedResultEx, CancelIo
// (NtCancelIoFile), CancelIoEx (NtCancelIoFileEx), CancelSynchronousIo.
#include "cancel.h"
#include "file.h"
#include "ke/apc.h"
#include "ps/process.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

constexpr DWORD kInfinite = 0xFFFFFFFF;

}  // namespace

extern "C" {

BOOL WINAPI GetOverlappedResultEx(HANDLE hFile, LPOVERLAPPED lpOverlapped, LPDWORD lpNumberOfBytesTransferred,
                                  DWORD dwMilliseconds, BOOL bAlertable)
{
    if (lpOverlapped == nullptr) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (static_cast<NTSTATUS>(lpOverlapped->Internal) == STATUS_PENDING) {
        if (dwMilliseconds == 0) {
            set_last_error(ERROR_IO_INCOMPLETE);
            return FALSE;
        }
        auto bits = reinterpret_cast<ULONG_PTR>(lpOverlapped->hEvent) & ~ULONG_PTR{1};
        HANDLE wait_on = bits != 0 ? reinterpret_cast<HANDLE>(bits) : hFile;
        DWORD result = WaitForSingleObjectEx(wait_on, dwMilliseconds, bAlertable);
        if (result == WAIT_TIMEOUT) {
            set_last_error(WAIT_TIMEOUT);
            return FALSE;
        }
        if (result == WAIT_IO_COMPLETION) {
            set_last_error(WAIT_IO_COMPLETION);
            return FALSE;
        }
        if (result != WAIT_OBJECT_0)
            return FALSE;  // WAIT_FAILED: the wait set the error
        // As kernel32: no second look. An event shared with another request may have been
        // set by that one; Internal then still says STATUS_PENDING (a success code).
    }
    if (lpNumberOfBytesTransferred != nullptr)
        *lpNumberOfBytesTransferred = static_cast<DWORD>(lpOverlapped->InternalHigh);
    NTSTATUS status = static_cast<NTSTATUS>(lpOverlapped->Internal);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped, LPDWORD lpNumberOfBytesTransferred,
                                BOOL bWait)
{
    return GetOverlappedResultEx(hFile, lpOverlapped, lpNumberOfBytesTransferred, bWait ? kInfinite : 0, FALSE);
}

}  // extern "C"

// ---- cancelling (the kernel side and its rules: cancel.cpp) ----

namespace {

FILE_OBJECT* reference_file_handle(HANDLE handle)
{
    Process* process = current_process();
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    if (process == nullptr || !NT_SUCCESS(process->handles().reference(handle, &io::file_type(), &object, &granted))) {
        set_last_error(ERROR_INVALID_HANDLE);
        return nullptr;
    }
    return static_cast<FILE_OBJECT*>(object);
}

}  // namespace

extern "C" {

// The calling thread's requests on the handle. TRUE even if there were none.
BOOL WINAPI CancelIo(HANDLE hFile)
{
    FILE_OBJECT* file = reference_file_handle(hFile);
    if (file == nullptr)
        return FALSE;
    io::cancel_file_io(file, current_thread(), nullptr);
    ob::dereference(file);
    ke::deliver_kernel_apcs();
    return TRUE;
}

// Any thread's requests of this process on the handle, or only the one using lpOverlapped.
// FALSE with ERROR_NOT_FOUND when there is nothing to cancel.
BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped)
{
    FILE_OBJECT* file = reference_file_handle(hFile);
    if (file == nullptr)
        return FALSE;
    size_t found = io::cancel_file_io(file, nullptr, lpOverlapped);
    ob::dereference(file);
    ke::deliver_kernel_apcs();
    if (found == 0) {
        set_last_error(ERROR_NOT_FOUND);
        return FALSE;
    }
    return TRUE;
}

// The synchronous request another thread waits in. FALSE with ERROR_NOT_FOUND when it waits
// in none.
BOOL WINAPI CancelSynchronousIo(HANDLE hThread)
{
    Process* process = current_process();
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    if (process == nullptr || !NT_SUCCESS(process->handles().reference(hThread, &thread_type(), &object, &granted))) {
        set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    size_t found = io::cancel_synchronous_io(static_cast<Thread*>(object));
    ob::dereference(object);
    if (found == 0) {
        set_last_error(ERROR_NOT_FOUND);
        return FALSE;
    }
    return TRUE;
}

}  // extern "C"
