// process.cpp - OpenProcess, GetExitCodeProcess, and the process object as something to
// wait on.
//
// Rules kept (Win32 documentation of OpenProcess, GetExitCodeProcess, WaitForSingleObject):
//  - OpenProcess(access, inherit, pid): a handle to the process with the access asked for
//    (iosim objects carry no security descriptor: nothing asked for is refused); pid 0 (the
//    idle process) or a pid no live process has: NULL, ERROR_INVALID_PARAMETER.
//  - A process object is signalled when the process has exited; waiting on its handle needs
//    SYNCHRONIZE (otherwise WAIT_FAILED, ERROR_ACCESS_DENIED).
//  - GetExitCodeProcess: STILL_ACTIVE (0x103) while it runs, its exit code afterwards; the
//    handle needs PROCESS_QUERY_INFORMATION or PROCESS_QUERY_LIMITED_INFORMATION
//    (ERROR_ACCESS_DENIED), a handle to another kind of object is ERROR_INVALID_HANDLE.
//    GetCurrentProcess()'s pseudo handle names the caller.
// The process's exit is a notification event the Win32 layer keeps with the process
// (Process::win32_data, freed with the process): Machine::end_process sets it once the exit
// code is known (signal_process_exit).
// NT counterparts: kernel32!OpenProcess -> NtOpenProcess, GetExitCodeProcess ->
// NtQueryInformationProcess(ProcessBasicInformation), the EPROCESS dispatcher header.
#include "ke/event.h"
#include "ps/process.h"
#include "system.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace iosim::win32 {

namespace {

const HANDLE kCurrentProcess = reinterpret_cast<HANDLE>(static_cast<intptr_t>(-1));

// What the Win32 layer keeps with a process.
struct ProcessData {
    ke::EventObject* exited = nullptr;  // signalled when the process has exited
};

void free_process_data(void* data)
{
    auto* process_data = static_cast<ProcessData*>(data);
    if (process_data->exited != nullptr)
        ob::dereference(process_data->exited);
    delete process_data;
}

ProcessData* data_of(Process* process)
{
    if (process->win32_data == nullptr) {
        auto* data = new ProcessData;
        data->exited = ke::create_event(NotificationEvent, process->exited());
        process->win32_data = data;
        process->free_win32_data = free_process_data;
    }
    if (process->free_win32_data != free_process_data)
        return nullptr;  // another part of the Win32 layer owns it (not so today)
    return static_cast<ProcessData*>(process->win32_data);
}

// The process a handle names, referenced, with the access the handle grants.
NTSTATUS process_from_handle(HANDLE handle, Process** process, ACCESS_MASK* granted)
{
    if (handle == kCurrentProcess) {
        *process = current_process();
        ob::reference(*process);
        *granted = PROCESS_ALL_ACCESS;
        return STATUS_SUCCESS;
    }
    void* body = nullptr;
    NTSTATUS status = current_process()->handles().reference(handle, &process_type(), &body, granted);
    if (NT_SUCCESS(status))
        *process = static_cast<Process*>(body);
    return status;
}

}  // namespace

// Sets the exit event of a process that has exited (Machine::end_process, after its exit
// code is set): its waiters are released.
void signal_process_exit(Process* process)
{
    if (process->win32_data == nullptr || process->free_win32_data != free_process_data)
        return;  // nobody opened it: nothing waits
    KeSetEvent(&static_cast<ProcessData*>(process->win32_data)->exited->event, IO_NO_INCREMENT, FALSE);
}

// What a wait on a process handle waits for (win32/wait.cpp); nullptr if unavailable.
DISPATCHER_HEADER* process_exit_object(Process* process)
{
    ProcessData* data = data_of(process);
    return data != nullptr ? &data->exited->event.Header : nullptr;
}

}  // namespace iosim::win32

extern "C" {

HANDLE WINAPI OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId)
{
    System* sys = System::current();
    Process* process = dwProcessId != 0 ? sys->find_process(dwProcessId) : nullptr;
    if (process == nullptr || process->exited()) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return nullptr;
    }
    HANDLE handle = current_process()->handles().insert(process, dwDesiredAccess);
    set_last_error(ERROR_SUCCESS);
    return handle;
}

BOOL WINAPI GetExitCodeProcess(HANDLE hProcess, LPDWORD lpExitCode)
{
    Process* process = nullptr;
    ACCESS_MASK granted = 0;
    NTSTATUS status = process_from_handle(hProcess, &process, &granted);
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    if ((granted & (PROCESS_QUERY_INFORMATION | PROCESS_QUERY_LIMITED_INFORMATION)) == 0) {
        ob::dereference(process);
        set_last_error(ERROR_ACCESS_DENIED);
        return FALSE;
    }
    if (lpExitCode != nullptr)
        *lpExitCode = process->exited() ? process->exit_code() : STILL_ACTIVE;
    ob::dereference(process);
    return TRUE;
}

}  // extern "C"
