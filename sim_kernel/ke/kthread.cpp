// kthread.cpp - the per-thread kernel state drivers change: priority and critical regions.
//
// Priority (KTHREAD.Priority, 0-31) decides which ready thread the scheduler runs next:
// the highest first, the seed choosing among equals (ke/scheduler.h). Changing a priority
// takes effect at the next scheduling point; nothing is preempted on the spot.
// A critical region (KeEnterCriticalRegion) disables normal kernel APCs; iosim keeps the
// count (Thread::critical_region) because the rules built on it are checked: ERESOURCEs
// must be acquired inside one (ex/resource.cpp), a system thread or work item must leave
// with the count balanced (KERNEL_APC_PENDING_DURING_EXIT, APC_INDEX_MISMATCH), and leaving
// a region never entered is the CriticalRegions DDI rule of Driver Verifier
// (DRIVER_VERIFIER_DETECTED_VIOLATION 0xC4, parameter 0x00040003).
// NT counterparts: KeSetPriorityThread, KeQueryPriorityThread, KeEnterCriticalRegion,
// KeLeaveCriticalRegion, KeAreApcsDisabled.
#include <fmt/format.h>

#include "ke/bugcheck.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {
constexpr KPRIORITY kLowPriority = 0;    // LOW_PRIORITY
constexpr KPRIORITY kHighPriority = 31;  // HIGH_PRIORITY
constexpr ULONG_PTR kCriticalRegionsRule = 0x00040003;
}  // namespace

extern "C" {

KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority)
{
    auto* thread = reinterpret_cast<iosim::Thread*>(Thread);
    KPRIORITY old = thread->priority;
    if (Priority <= kLowPriority || Priority > kHighPriority) {
        // The WDK requires LOW_PRIORITY < Priority <= HIGH_PRIORITY; Windows asserts.
        if (System* sys = System::current())
            sys->report({"PRIORITY_OUT_OF_RANGE",
                         fmt::format("KeSetPriorityThread was given priority {}: it must be above LOW_PRIORITY (0) "
                                     "and at most HIGH_PRIORITY (31). The priority is left at {}.",
                                     Priority, old),
                         ldr::describe_call_site(__builtin_return_address(0)),
                         {}});
        return old;
    }
    thread->priority = Priority;
    if (System* sys = System::current())
        sys->trace().record(trace::Kind::Scheduler, 0,
                            fmt::format("thread t{} priority {} -> {}", thread->tid(), old, Priority));
    return old;
}

KPRIORITY KeQueryPriorityThread(PKTHREAD Thread) { return reinterpret_cast<iosim::Thread*>(Thread)->priority; }

void KeEnterCriticalRegion(void)
{
    if (iosim::Thread* thread = current_thread())
        ++thread->critical_region;
}

void KeLeaveCriticalRegion(void)
{
    iosim::Thread* thread = current_thread();
    if (thread == nullptr)
        return;
    if (thread->critical_region == 0)
        bugcheck(DRIVER_VERIFIER_DETECTED_VIOLATION, kCriticalRegionsRule, 0, 0, 0, __builtin_return_address(0),
                 nullptr,
                 "KeLeaveCriticalRegion was called by a thread that is not in a critical region: every "
                 "KeLeaveCriticalRegion must pair with an earlier KeEnterCriticalRegion of the same thread "
                 "(Driver Verifier's CriticalRegions rule).");
    --thread->critical_region;
}

BOOLEAN KeAreApcsDisabled(void)
{
    iosim::Thread* thread = current_thread();
    return thread != nullptr && thread->critical_region != 0 ? TRUE : FALSE;
}

}  // extern "C"
