// wait.cpp - kernel32's waits: WaitForSingleObject(Ex), WaitForMultipleObjects(Ex),
// Sleep, SleepEx.
//
// A handle names an Event (its body starts with a KEVENT), a semaphore (a KSEMAPHORE), a
// thread (signalled when it ends), a process (signalled when it has exited; the handle
// needs SYNCHRONIZE, else ERROR_ACCESS_DENIED) or a file (its FILE_OBJECT's event, set
// when a request on it completes); the wait is the scheduler's (ke/scheduler.h), so other
// simulated threads, DPCs and timers run meanwhile, and simulated time jumps to the next
// deadline when everyone waits. INFINITE waits forever; a wait nothing can satisfy is
// reported as a deadlock.
// Results as Windows gives them: WAIT_OBJECT_0 + index, WAIT_TIMEOUT, or WAIT_FAILED with
// ERROR_INVALID_HANDLE (a bad handle) or ERROR_INVALID_PARAMETER (0 or more than
// MAXIMUM_WAIT_OBJECTS handles). Sleep(0) gives other ready threads a turn.
// Alertable waits (WaitFor*Ex(.., TRUE), SleepEx(.., TRUE)) run the thread's queued user APCs
// (ReadFileEx completion routines, QueueUserAPC) and then return WAIT_IO_COMPLETION; every
// wait runs the thread's kernel APCs (the I/O manager's completions, ke/apc.h).
// NT counterparts: NtWaitForSingleObject, NtWaitForMultipleObjects, NtDelayExecution.
#include <fmt/format.h>

#include <vector>

#include "file.h"
#include "ke/event.h"
#include "ke/scheduler.h"
#include "ps/process.h"
#include "system.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

constexpr DWORD kInfinite = 0xFFFFFFFF;

// The dispatcher header behind a handle, with a reference held in `object`.
DISPATCHER_HEADER* waitable(HANDLE handle, void** object, bool* access_denied)
{
    Process* process = current_process();
    if (process == nullptr)
        return nullptr;
    ACCESS_MASK granted = 0;
    if (NT_SUCCESS(process->handles().reference(handle, &ke::event_type(), object, &granted)))
        return &static_cast<ke::EventObject*>(*object)->event.Header;
    if (NT_SUCCESS(process->handles().reference(handle, &thread_type(), object, &granted)))
        return &static_cast<Thread*>(*object)->done_object;
    if (NT_SUCCESS(process->handles().reference(handle, &io::file_type(), object, &granted)))
        return &static_cast<FILE_OBJECT*>(*object)->Event.Header;
    // A semaphore's body is its KSEMAPHORE (semaphore.cpp): a satisfied wait takes one unit.
    auto* semaphore_type = reinterpret_cast<ob::ObjectType*>(*ExSemaphoreObjectType);
    if (NT_SUCCESS(process->handles().reference(handle, semaphore_type, object, &granted)))
        return &static_cast<KSEMAPHORE*>(*object)->Header;
    // A process (OpenProcess): signalled once it has exited; the handle needs SYNCHRONIZE.
    if (NT_SUCCESS(process->handles().reference(handle, &process_type(), object, &granted))) {
        DISPATCHER_HEADER* exited = (granted & SYNCHRONIZE) != 0 ? process_exit_object(static_cast<Process*>(*object))
                                                                 : nullptr;
        if (exited == nullptr) {
            *access_denied = true;
            ob::dereference(*object);
            *object = nullptr;
        }
        return exited;
    }
    return nullptr;
}

DWORD wait_handles(DWORD count, const HANDLE* handles, bool all, DWORD milliseconds, const char* api,
                   bool alertable = false)
{
    if (count == 0 || count > MAXIMUM_WAIT_OBJECTS || handles == nullptr) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return WAIT_FAILED;
    }
    // The references are dropped however the wait ends, also when the thread is terminated
    // inside it (process exit unwinds the thread through here).
    struct References {
        std::vector<void*> objects;
        ~References()
        {
            for (void* object : objects)
                if (object != nullptr)
                    ob::dereference(object);
        }
    } held{std::vector<void*>(count, nullptr)};
    std::vector<void*>& objects = held.objects;
    std::vector<DISPATCHER_HEADER*> headers;
    for (DWORD i = 0; i < count; ++i) {
        bool access_denied = false;
        DISPATCHER_HEADER* header = waitable(handles[i], &objects[i], &access_denied);
        if (header == nullptr) {
            set_last_error(access_denied ? ERROR_ACCESS_DENIED : ERROR_INVALID_HANDLE);
            return WAIT_FAILED;
        }
        headers.push_back(header);
    }
    LARGE_INTEGER timeout{};
    timeout.QuadPart = -static_cast<LONGLONG>(milliseconds) * 10000;
    System* sys = System::current();
    NTSTATUS status = sys->scheduler().wait(headers.data(), count, all,
                                            milliseconds == kInfinite ? nullptr : &timeout, api, alertable);
    if (status == STATUS_TIMEOUT)
        return WAIT_TIMEOUT;
    if (status == STATUS_USER_APC)
        return WAIT_IO_COMPLETION;
    return WAIT_OBJECT_0 + static_cast<DWORD>(status - STATUS_WAIT_0);
}

}  // namespace

extern "C" {

DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)
{
    return wait_handles(1, &hHandle, false, dwMilliseconds, "WaitForSingleObject");
}

DWORD WINAPI WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable)
{
    return wait_handles(1, &hHandle, false, dwMilliseconds, "WaitForSingleObjectEx", bAlertable != FALSE);
}

DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll, DWORD dwMilliseconds)
{
    return wait_handles(nCount, lpHandles, bWaitAll != FALSE, dwMilliseconds, "WaitForMultipleObjects");
}

DWORD WINAPI WaitForMultipleObjectsEx(DWORD nCount, const HANDLE* lpHandles, BOOL bWaitAll, DWORD dwMilliseconds,
                                      BOOL bAlertable)
{
    return wait_handles(nCount, lpHandles, bWaitAll != FALSE, dwMilliseconds, "WaitForMultipleObjectsEx",
                        bAlertable != FALSE);
}

void WINAPI Sleep(DWORD dwMilliseconds)
{
    System* sys = System::current();
    if (sys == nullptr)
        return;
    sys->trace().record(trace::Kind::Win32, 0, fmt::format("Sleep({} ms)", dwMilliseconds));
    if (dwMilliseconds == 0) {
        sys->scheduler().yield("Sleep(0)");
        return;
    }
    LARGE_INTEGER interval{};
    interval.QuadPart = -static_cast<LONGLONG>(dwMilliseconds) * 10000;
    sys->scheduler().wait(nullptr, 0, false, dwMilliseconds == kInfinite ? nullptr : &interval, "Sleep");
}

DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable)
{
    if (!bAlertable) {
        Sleep(dwMilliseconds);
        return 0;
    }
    System* sys = System::current();
    if (sys == nullptr)
        return 0;
    sys->trace().record(trace::Kind::Win32, 0, fmt::format("SleepEx({} ms, alertable)", dwMilliseconds));
    LARGE_INTEGER interval{};
    interval.QuadPart = -static_cast<LONGLONG>(dwMilliseconds) * 10000;
    NTSTATUS status = sys->scheduler().wait(nullptr, 0, false, dwMilliseconds == kInfinite ? nullptr : &interval,
                                            "SleepEx", true);
    return status == STATUS_USER_APC ? WAIT_IO_COMPLETION : 0;
}

}  // extern "C"
