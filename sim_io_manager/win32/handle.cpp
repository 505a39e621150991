// handle.cpp - DuplicateHandle and GetCurrentProcess.
//
// Rules kept (Win32 documentation of DuplicateHandle, NtDuplicateObject):
//  - The source handle is looked up in the source process's table, the copy inserted in the
//    target process's table; both refer to the same object (one more handle to it: a file
//    object sees IRP_MJ_CLEANUP only when its last handle closes).
//  - GetCurrentProcess() (the pseudo handle -1) names the calling process; any other process
//    handle must grant PROCESS_DUP_HANDLE. As a source handle, the pseudo handles give a
//    real handle to the calling process (-1) or thread (-2).
//  - DUPLICATE_SAME_ACCESS: the copy has the source handle's access (dwDesiredAccess is
//    ignored); otherwise it has dwDesiredAccess. iosim objects carry no security
//    descriptor, so no access asked for is refused.
//  - DUPLICATE_CLOSE_SOURCE: the source handle is closed, in its process, even if the call
//    fails.
//  - A bad handle: FALSE, ERROR_INVALID_HANDLE; a process handle without PROCESS_DUP_HANDLE:
//    ERROR_ACCESS_DENIED. lpTargetHandle NULL: the copy is made but its value not returned.
// NT counterparts: kernel32!DuplicateHandle, NtDuplicateObject, ObDuplicateObject,
// GetCurrentProcess.
#include "ps/process.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

#ifndef PROCESS_DUP_HANDLE
constexpr ACCESS_MASK PROCESS_DUP_HANDLE = 0x0040;
#endif
constexpr ACCESS_MASK kProcessAllAccess = 0x001FFFFF;  // PROCESS_ALL_ACCESS
constexpr ACCESS_MASK kThreadAllAccess = 0x001FFFFF;   // THREAD_ALL_ACCESS
const HANDLE kCurrentProcess = reinterpret_cast<HANDLE>(static_cast<intptr_t>(-1));
const HANDLE kCurrentThread = reinterpret_cast<HANDLE>(static_cast<intptr_t>(-2));

// The process a process handle names, referenced.
NTSTATUS process_from_handle(HANDLE handle, Process** process)
{
    if (handle == kCurrentProcess) {
        *process = current_process();
        ob::reference(*process);
        return STATUS_SUCCESS;
    }
    void* body = nullptr;
    ACCESS_MASK granted = 0;
    NTSTATUS status = current_process()->handles().reference(handle, &process_type(), &body, &granted);
    if (!NT_SUCCESS(status))
        return status;
    if ((granted & PROCESS_DUP_HANDLE) == 0) {
        ob::dereference(body);
        return STATUS_ACCESS_DENIED;
    }
    *process = static_cast<Process*>(body);
    return STATUS_SUCCESS;
}

NTSTATUS duplicate(HANDLE source_process_handle, HANDLE source_handle, HANDLE target_process_handle, HANDLE* target,
                   ACCESS_MASK desired, DWORD options)
{
    Process* source = nullptr;
    NTSTATUS status = process_from_handle(source_process_handle, &source);
    if (!NT_SUCCESS(status))
        return status;
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    if (source_handle == kCurrentProcess && source == current_process()) {
        object = source;
        ob::reference(object);
        granted = kProcessAllAccess;
    } else if (source_handle == kCurrentThread && source == current_process()) {
        object = current_thread();
        ob::reference(object);
        granted = kThreadAllAccess;
    } else {
        status = source->handles().reference(source_handle, nullptr, &object, &granted);
    }
    if (NT_SUCCESS(status)) {
        Process* target_process = nullptr;
        status = process_from_handle(target_process_handle, &target_process);
        if (NT_SUCCESS(status)) {
            HANDLE copy = target_process->handles().insert(object, (options & DUPLICATE_SAME_ACCESS) ? granted : desired);
            if (target != nullptr)
                *target = copy;
            ob::dereference(target_process);
        }
        ob::dereference(object);
    }
    if ((options & DUPLICATE_CLOSE_SOURCE) != 0 && source_handle != kCurrentProcess && source_handle != kCurrentThread)
        source->handles().close(source, source_handle);
    ob::dereference(source);
    return status;
}

}  // namespace

extern "C" {

HANDLE WINAPI GetCurrentProcess(void) { return kCurrentProcess; }

BOOL WINAPI DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle, HANDLE hTargetProcessHandle,
                            LPHANDLE lpTargetHandle, DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwOptions)
{
    (void)bInheritHandle;  // iosim has no child processes to inherit handles
    NTSTATUS status =
        duplicate(hSourceProcessHandle, hSourceHandle, hTargetProcessHandle, lpTargetHandle, dwDesiredAccess, dwOptions);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    return TRUE;
}

}  // extern "C"
