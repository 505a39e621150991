// fast_mutex.cpp - FAST_MUTEX (and KGUARDED_MUTEX, the same structure in the shim).
//
// The state lives in the driver's FAST_MUTEX: Count is 1 when free and 0 when owned, Owner
// the owning thread, Contention how many acquisitions had to wait, Event the
// synchronization event waiters sleep on (ex/ex_sync.h), OldIrql the IRQL to return to.
// Windows' rules kept:
//  - ExAcquireFastMutex / ExTryToAcquireFastMutex run at IRQL <= APC_LEVEL and raise to
//    APC_LEVEL (normal kernel APCs off while it is held); ExReleaseFastMutex returns to the
//    IRQL of the acquisition. Called above APC_LEVEL: IRQL_NOT_LESS_OR_EQUAL (0x0A).
//  - The ...Unsafe pair does not touch the IRQL: the caller must already be in a critical
//    region or at APC_LEVEL (a finding if not, as the WDK states and Verifier checks).
//  - A fast mutex is not recursive: acquiring it again in its owner would wait forever,
//    a one-thread deadlock reported at once (DRIVER_VERIFIER_DETECTED_VIOLATION 0xC4,
//    parameter 0x1001, as iosim's other deadlock reports).
//  - Releasing one the thread does not own is a finding (a free build does not check; the
//    mutex is released anyway, as there).
// Contention between simulated threads happens only at scheduling points: a thread that
// holds a fast mutex keeps the processor until it waits or yields, so a second thread
// finds the mutex owned only if the owner waited while holding it.
// NT counterparts: ExInitializeFastMutex, ExAcquireFastMutex, ExReleaseFastMutex,
// ExTryToAcquireFastMutex, ExAcquireFastMutexUnsafe, ExReleaseFastMutexUnsafe.
#include <fmt/format.h>

#include "ex/ex_sync.h"
#include "ke/bugcheck.h"
#include "ke/irql.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

constexpr ULONG_PTR kDeadlock = 0x1001;

Thread* owner_of(const FAST_MUTEX* mutex) { return static_cast<Thread*>(mutex->Owner); }

void check_irql(const char* routine, const void* caller)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql > APC_LEVEL)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, 0, irql, 0, reinterpret_cast<ULONG_PTR>(caller), caller, nullptr,
                 fmt::format("{} was called at IRQL {}: a fast mutex may be acquired only at IRQL <= APC_LEVEL, "
                             "because a thread that cannot have it must wait.",
                             routine, irql));
}

// Takes the mutex for the current thread, waiting while another thread owns it.
void acquire(PFAST_MUTEX mutex, const char* routine, const void* caller)
{
    Thread* self = current_thread();
    if (owner_of(mutex) == self)
        bugcheck(DRIVER_VERIFIER_DETECTED_VIOLATION, kDeadlock, reinterpret_cast<ULONG_PTR>(mutex), 0, 0, caller,
                 nullptr,
                 fmt::format("{}: thread {} acquired fast mutex {} that it already owns. Fast mutexes are not "
                             "recursive: the thread would wait for itself forever (a one-thread deadlock).",
                             routine, ex::thread_name(self), static_cast<const void*>(mutex)));
    bool counted = false;
    while (mutex->Count != 1) {
        if (!counted) {
            ++mutex->Contention;
            counted = true;
        }
        ex::wait_for_lock(&mutex->Event, fmt::format("{} on fast mutex {} owned by {} at {}", routine,
                                                    static_cast<const void*>(mutex), ex::thread_name(owner_of(mutex)),
                                                    ldr::describe_call_site(caller)));
    }
    mutex->Count = 0;
    mutex->Owner = self;
}

void release(PFAST_MUTEX mutex, const char* routine, const void* caller)
{
    Thread* self = current_thread();
    if (owner_of(mutex) != self)
        ex::report_rule("FAST_MUTEX_NOT_OWNED",
                        fmt::format("{}: thread {} released fast mutex {}, which {}. Only the thread that acquired a "
                                    "fast mutex may release it.",
                                    routine, ex::thread_name(self), static_cast<const void*>(mutex),
                                    mutex->Count == 1 ? "is not held at all"
                                                      : "is owned by " + ex::thread_name(owner_of(mutex))),
                        caller);
    mutex->Owner = nullptr;
    mutex->Count = 1;
    ex::wake_lock_waiters(&mutex->Event);
}

}  // namespace

extern "C" {

void ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    FastMutex->Count = 1;
    FastMutex->Owner = nullptr;
    FastMutex->Contention = 0;
    FastMutex->OldIrql = PASSIVE_LEVEL;
    KeInitializeEvent(&FastMutex->Event, SynchronizationEvent, FALSE);
}

void ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    const void* caller = __builtin_return_address(0);
    check_irql("ExAcquireFastMutex", caller);
    Thread* self = current_thread();
    KIRQL old = self->irql;
    ke::set_irql(self, APC_LEVEL, "ExAcquireFastMutex");
    acquire(FastMutex, "ExAcquireFastMutex", caller);
    FastMutex->OldIrql = old;
}

BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    check_irql("ExTryToAcquireFastMutex", __builtin_return_address(0));
    if (FastMutex->Count != 1)
        return FALSE;
    Thread* self = current_thread();
    FastMutex->OldIrql = self->irql;
    ke::set_irql(self, APC_LEVEL, "ExTryToAcquireFastMutex");
    FastMutex->Count = 0;
    FastMutex->Owner = self;
    return TRUE;
}

void ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    const void* caller = __builtin_return_address(0);
    KIRQL old = static_cast<KIRQL>(FastMutex->OldIrql);
    release(FastMutex, "ExReleaseFastMutex", caller);
    Thread* self = current_thread();
    if (self->irql != APC_LEVEL)
        ex::report_rule("FAST_MUTEX_IRQL",
                        fmt::format("ExReleaseFastMutex was called at IRQL {}: a fast mutex is released at APC_LEVEL, "
                                    "the IRQL ExAcquireFastMutex raised to.",
                                    self->irql),
                        caller);
    ke::lower_irql(std::min(old, self->irql), "ExReleaseFastMutex", caller);
}

void ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    const void* caller = __builtin_return_address(0);
    check_irql("ExAcquireFastMutexUnsafe", caller);
    Thread* self = current_thread();
    if (self->irql < APC_LEVEL && self->critical_region == 0)
        ex::report_rule("FAST_MUTEX_UNSAFE_WITH_APCS_ENABLED",
                        "ExAcquireFastMutexUnsafe was called at PASSIVE_LEVEL outside a critical region: call "
                        "KeEnterCriticalRegion first (or use ExAcquireFastMutex), or an APC could run in this thread "
                        "while it holds the mutex.",
                        caller);
    acquire(FastMutex, "ExAcquireFastMutexUnsafe", caller);
}

void ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    release(FastMutex, "ExReleaseFastMutexUnsafe", __builtin_return_address(0));
}

}  // extern "C"
