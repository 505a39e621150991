// thread.cpp - kernel32's threads: CreateThread, ExitThread, GetExitCodeThread,
// ResumeThread, GetCurrentThread, QueueUserAPC.
//
// A created thread is a simulated thread of the scheduler (ke/scheduler.h) with its own
// stack in its process's user space, like the main thread's (ps/user_thread.h). It runs
// when the scheduler picks it; its handle is a Thread object, signalled when it ends, so
// WaitForSingleObject(hThread) joins it. Its exit code is STILL_ACTIVE (259) while it
// runs, then its start routine's return value or ExitThread's argument. When the process
// ends, the threads still running are terminated, as Windows does at ExitProcess.
// NT counterparts: CreateThread -> NtCreateThreadEx, RtlExitUserThread, NtQueryInformationThread.
#include <fmt/format.h>

#include "ke/apc.h"
#include "ke/fault.h"
#include "ke/scheduler.h"
#include "mm/memory_manager.h"
#include "ps/process.h"
#include "ps/user_thread.h"
#include "system.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

constexpr ACCESS_MASK kThreadAllAccess = 0x1FFFFF;
constexpr size_t kDefaultStack = 256 * 1024;
HANDLE const kCurrentThread = reinterpret_cast<HANDLE>(static_cast<intptr_t>(-2));

struct ThreadExit {
    DWORD code;
};

Thread* reference_thread(HANDLE handle)
{
    Process* process = current_process();
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    if (handle == kCurrentThread) {
        ob::reference(current_thread());
        return current_thread();
    }
    if (process == nullptr || !NT_SUCCESS(process->handles().reference(handle, &thread_type(), &object, &granted))) {
        set_last_error(ERROR_INVALID_HANDLE);
        return nullptr;
    }
    return static_cast<Thread*>(object);
}

}  // namespace

namespace iosim::win32 {

// Process exit: the threads it created that are still running are terminated.
void terminate_process_threads(Process* process)
{
    System* sys = System::current();
    for (Thread* thread : sys->threads_of(process))
        if (thread->context != nullptr && thread != current_thread())
            sys->scheduler().terminate(static_cast<ke::Context*>(thread->context));
}

}  // namespace iosim::win32

extern "C" {

HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter, DWORD dwCreationFlags,
                           LPDWORD lpThreadId)
{
    System* sys = System::current();
    Process* process = current_process();
    if (sys == nullptr || process == nullptr || process->memory == nullptr || lpStartAddress == nullptr) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return nullptr;
    }
    UserStack stack = reserve_user_stack(process, dwStackSize != 0 ? dwStackSize : kDefaultStack);
    if (stack.base == nullptr) {
        set_last_error(ERROR_NOT_ENOUGH_MEMORY);
        return nullptr;
    }
    Thread* thread = sys->create_thread(process);
    HANDLE handle = process->handles().insert(thread, kThreadAllAccess);
    auto body = [thread, lpStartAddress, lpParameter] {
        ThreadSwitch as_thread(thread);
        install_fault_stack();
        DWORD code = 0;
        try {
            code = lpStartAddress(lpParameter);
        } catch (const ThreadExit& exit) {
            code = exit.code;
        }
        thread->exit_status = code;
        thread->done_object.SignalState = 1;
        System::current()->scheduler().signalled(&thread->done_object);
    };
    thread->context = sys->scheduler().spawn(process->image_name(), body, stack.stack, stack.size, thread,
                                             (dwCreationFlags & CREATE_SUSPENDED) != 0);
    sys->trace().record(trace::Kind::Win32, 0,
                        fmt::format("CreateThread: thread {} in process {}{}", thread->tid(), process->pid(),
                                    (dwCreationFlags & CREATE_SUSPENDED) != 0 ? " (suspended)" : ""));
    if (lpThreadId != nullptr)
        *lpThreadId = thread->tid();
    return handle;
}

void WINAPI ExitThread(DWORD dwExitCode)
{
    Thread* thread = current_thread();
    if (thread != nullptr && thread->context == nullptr)
        throw AppExit{dwExitCode};  // the main thread: its process ends with it here
    throw ThreadExit{dwExitCode};
}

BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode)
{
    Thread* thread = reference_thread(hThread);
    if (thread == nullptr)
        return FALSE;
    if (lpExitCode != nullptr)
        *lpExitCode = thread->exit_status;
    ob::dereference(thread);
    return TRUE;
}

DWORD WINAPI ResumeThread(HANDLE hThread)
{
    Thread* thread = reference_thread(hThread);
    if (thread == nullptr)
        return static_cast<DWORD>(-1);
    if (thread->context != nullptr)
        System::current()->scheduler().resume(static_cast<ke::Context*>(thread->context));
    ob::dereference(thread);
    return 1;  // the previous suspend count
}

HANDLE WINAPI GetCurrentThread(void) { return kCurrentThread; }

// A user APC to the thread: pfnAPC(dwData) runs when it next waits alertably (ke/apc.h).
// 0 with ERROR_INVALID_HANDLE for a bad handle, ERROR_INVALID_PARAMETER if the thread ended.
DWORD WINAPI QueueUserAPC(PAPCFUNC pfnAPC, HANDLE hThread, ULONG_PTR dwData)
{
    Thread* thread = reference_thread(hThread);
    if (thread == nullptr)
        return 0;
    bool queued = pfnAPC != nullptr && ke::queue_user_apc(thread, [pfnAPC, dwData] { pfnAPC(dwData); });
    ob::dereference(thread);
    if (!queued) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    return 1;
}

}  // extern "C"
