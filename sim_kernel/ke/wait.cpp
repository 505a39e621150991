// wait.cpp - KeWaitForSingleObject, KeWaitForMultipleObjects, KeDelayExecutionThread.
//
// A wait names dispatcher objects: a driver's own KEVENT/KSEMAPHORE/KMUTEX/KTIMER, an
// event an app created (its object body starts with a KEVENT), or a thread object (it is
// signalled when the thread ends). The scheduler (ke/scheduler.h) runs other threads,
// DPCs and timers until the wait is satisfied or times out; a wait nothing can ever
// satisfy is reported as a deadlock naming every waiting thread.
// Windows' rules kept here: waiting with a non-zero timeout at DISPATCH_LEVEL or above is
// a bug check (IRQL_NOT_LESS_OR_EQUAL); more than THREAD_WAIT_OBJECTS (3) objects need a
// caller-supplied wait block array, more than MAXIMUM_WAIT_OBJECTS (64) are refused
// (MAXIMUM_WAIT_OBJECTS_EXCEEDED); KeDelayExecutionThread returns STATUS_SUCCESS.
// Alertable waits ("Waits and APCs" in the WDK docs): with Alertable = TRUE and WaitMode =
// UserMode a user APC queued to the thread (QueueUserAPC, an I/O completion APC) is
// delivered and ends the wait, which returns STATUS_USER_APC (KeDelayExecutionThread too).
// With WaitMode = KernelMode user APCs are not delivered and do not end the wait (only an
// alert would, and nothing in iosim alerts a thread); a non-alertable wait is never ended
// by one. Kernel APCs run in every wait without ending it.
// NT counterparts: KeWaitForSingleObject, KeWaitForMultipleObjects, KeDelayExecutionThread.
#include <cstddef>

#include <fmt/format.h>

#include "ke/bugcheck.h"
#include "ke/event.h"
#include "ke/scheduler.h"
#include "ldr/symbolize.h"
#include "ob/object.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

constexpr ULONG kThreadWaitObjects = 3;
constexpr ULONG kMaximumWaitObjects = 64;

// Every dispatcher object starts with its DISPATCHER_HEADER: a driver's KEVENT, an app's
// event body, and a Thread (done_object is its first member, as KTHREAD's Header is). So
// the header is read in place; nothing in front of the pointer (which may be a driver's
// stack or a global) is ever looked at.
DISPATCHER_HEADER* header_for(PVOID object)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
    static_assert(offsetof(Thread, done_object) == 0);
#pragma GCC diagnostic pop
    return static_cast<DISPATCHER_HEADER*>(object);
}

void check_irql(const LARGE_INTEGER* timeout, const void* caller, const void* object)
{
    KIRQL irql = KeGetCurrentIrql();
    bool polling = timeout != nullptr && timeout->QuadPart == 0;
    if (irql > DISPATCH_LEVEL || (irql == DISPATCH_LEVEL && !polling))
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, reinterpret_cast<ULONG_PTR>(object), irql, 0,
                 reinterpret_cast<ULONG_PTR>(caller), caller, nullptr,
                 fmt::format("The driver waited at IRQL {} ({}). A thread may wait only below DISPATCH_LEVEL; at "
                             "DISPATCH_LEVEL only a zero timeout (a poll) is allowed, because the waiting "
                             "processor could never be given to another thread.",
                             irql, irql == DISPATCH_LEVEL ? "DISPATCH_LEVEL" : "a device level"));
}

// `alertable`: Alertable && WaitMode == UserMode, the only case a user APC ends a wait.
NTSTATUS wait_on(DISPATCHER_HEADER* const* headers, ULONG count, bool all, const LARGE_INTEGER* timeout,
                 const char* what, const void* caller, bool alertable)
{
    System* sys = System::current();
    std::string why = fmt::format("{}{} at {}", what, alertable ? " (alertable, user mode)" : "",
                                  ldr::describe_call_site(caller));
    return sys->scheduler().wait(headers, count, all, timeout, std::move(why), alertable);
}

bool user_apcs_end_wait(KPROCESSOR_MODE mode, BOOLEAN alertable) { return alertable != FALSE && mode == UserMode; }

}  // namespace

extern "C" {

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    const void* caller = __builtin_return_address(0);
    check_irql(Timeout, caller, Object);
    DISPATCHER_HEADER* header = header_for(Object);
    return wait_on(&header, 1, false, Timeout, "KeWaitForSingleObject", caller,
                   user_apcs_end_wait(WaitMode, Alertable));
}

NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                  KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PVOID WaitBlockArray)
{
    const void* caller = __builtin_return_address(0);
    if (Count > kMaximumWaitObjects || (Count > kThreadWaitObjects && WaitBlockArray == nullptr))
        bugcheck(MAXIMUM_WAIT_OBJECTS_EXCEEDED, Count, 0, 0, 0, caller, nullptr,
                 Count > kMaximumWaitObjects
                     ? fmt::format("KeWaitForMultipleObjects was given {} objects; at most 64 can be waited for.", Count)
                     : fmt::format("KeWaitForMultipleObjects was given {} objects and no WaitBlockArray: above "
                                   "THREAD_WAIT_OBJECTS (3) the caller must supply the wait blocks.",
                                   Count));
    check_irql(Timeout, caller, Count != 0 ? Object[0] : nullptr);
    std::vector<DISPATCHER_HEADER*> headers;
    for (ULONG i = 0; i < Count; ++i)
        headers.push_back(header_for(Object[i]));
    return wait_on(headers.data(), Count, WaitType == WaitAll, Timeout, "KeWaitForMultipleObjects", caller,
                   user_apcs_end_wait(WaitMode, Alertable));
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    const void* caller = __builtin_return_address(0);
    check_irql(Interval, caller, nullptr);
    NTSTATUS status = wait_on(nullptr, 0, false, Interval, "KeDelayExecutionThread", caller,
                              user_apcs_end_wait(WaitMode, Alertable));
    return status == STATUS_USER_APC ? STATUS_USER_APC : STATUS_SUCCESS;
}

}  // extern "C"
