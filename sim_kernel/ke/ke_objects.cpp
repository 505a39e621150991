// ke_objects.cpp - semaphores, mutexes, timers, DPCs, spin locks, processors and time.
//
// The objects are the driver's own WDK structures; their state lives in their
// DISPATCHER_HEADER (ke/dispatcher.h says what signalled and satisfied mean), and the
// scheduler (ke/scheduler.h) owns the timer queue, the per-CPU DPC queues and the
// simulated clock. Windows' rules kept: releasing a semaphore past its limit raises
// STATUS_SEMAPHORE_LIMIT_EXCEEDED; releasing a mutex one does not own is bug check
// THREAD_NOT_MUTEX_OWNER (0x11); KeSetTimer(Ex) on a set timer re-arms it and returns TRUE;
// a DPC already queued is not queued twice; spin locks raise to DISPATCH_LEVEL, and taking
// one the thread already holds is SPIN_LOCK_ALREADY_OWNED (0x0F), releasing one it does not
// hold SPIN_LOCK_NOT_OWNED (0x10).
// NT counterparts: KeInitializeSemaphore, KeReleaseSemaphore, KeInitializeMutex,
// KeReleaseMutex, KeSetTimerEx, KeCancelTimer, KeInsertQueueDpc, KeAcquireSpinLock...,
// KeQuerySystemTime, KeQueryInterruptTime, KeQueryTimeIncrement.
#include <fmt/format.h>

#include "ke/bugcheck.h"
#include "ke/dispatcher.h"
#include "ke/irql.h"
#include "ke/scheduler.h"
#include "ke/seh.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

constexpr ULONG kTimeIncrement = 156250;  // 15.625 ms, the default clock tick, in 100 ns units
constexpr UCHAR kDpcObjectType = 19;      // KOBJECTS: DpcObject

ke::Scheduler& scheduler() { return System::current()->scheduler(); }

PKTHREAD current_kthread() { return reinterpret_cast<PKTHREAD>(current_thread()); }

// Spin lock value while held: the owning thread (NT stores a pointer-sized owner mark).
ULONG_PTR owner_mark() { return reinterpret_cast<ULONG_PTR>(current_thread()) | 1; }

}  // namespace

extern "C" {

// ---- semaphores and mutexes ----

void KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit)
{
    Semaphore->Header = DISPATCHER_HEADER{};
    Semaphore->Header.Type = ke::kSemaphore;
    Semaphore->Header.SignalState = Count;
    InitializeListHead(&Semaphore->Header.WaitListHead);
    Semaphore->Limit = Limit;
}

LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait)
{
    LONG previous = Semaphore->Header.SignalState;
    if (Adjustment <= 0 || previous > Semaphore->Limit - Adjustment)
        seh::raise(STATUS_SEMAPHORE_LIMIT_EXCEEDED, __builtin_return_address(0));
    Semaphore->Header.SignalState = previous + Adjustment;
    scheduler().signalled(&Semaphore->Header);
    return previous;
}

LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore) { return Semaphore->Header.SignalState; }

void KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    Mutex->Header = DISPATCHER_HEADER{};
    Mutex->Header.Type = ke::kMutant;
    Mutex->Header.SignalState = 1;
    InitializeListHead(&Mutex->Header.WaitListHead);
    Mutex->OwnerThread = nullptr;
    Mutex->Abandoned = FALSE;
}

LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    if (Mutex->OwnerThread != current_kthread())
        bugcheck(THREAD_NOT_MUTEX_OWNER, reinterpret_cast<ULONG_PTR>(Mutex->OwnerThread),
                 reinterpret_cast<ULONG_PTR>(Mutex), reinterpret_cast<ULONG_PTR>(current_kthread()), 0,
                 __builtin_return_address(0), nullptr,
                 "KeReleaseMutex was called by a thread that does not own the mutex: only the thread whose wait "
                 "acquired it may release it.");
    LONG previous = Mutex->Header.SignalState;
    Mutex->Header.SignalState = previous + 1;
    if (Mutex->Header.SignalState == 1) {
        Mutex->OwnerThread = nullptr;
        scheduler().signalled(&Mutex->Header);
    }
    return previous;
}

LONG KeReadStateMutex(PRKMUTEX Mutex) { return Mutex->Header.SignalState; }

// ---- timers ----

void KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    *Timer = KTIMER{};
    Timer->Header.Type = Type == NotificationTimer ? ke::kTimerNotification : ke::kTimerSynchronization;
    InitializeListHead(&Timer->Header.WaitListHead);
}

void KeInitializeTimer(PKTIMER Timer) { KeInitializeTimerEx(Timer, NotificationTimer); }

BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    Timer->Processor = KeGetCurrentProcessorNumber();
    return scheduler().set_timer(Timer, DueTime, Period, Dpc) ? TRUE : FALSE;
}

BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc) { return KeSetTimerEx(Timer, DueTime, 0, Dpc); }

BOOLEAN KeCancelTimer(PKTIMER Timer) { return scheduler().cancel_timer(Timer) ? TRUE : FALSE; }

BOOLEAN KeReadStateTimer(PKTIMER Timer) { return Timer->Header.SignalState != 0 ? TRUE : FALSE; }

// ---- DPCs ----

void KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    *Dpc = KDPC{};
    Dpc->Type = kDpcObjectType;
    Dpc->Importance = MediumImportance;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
}

BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    if (!scheduler().queue_dpc(Dpc, SystemArgument1, SystemArgument2))
        return FALSE;
    // The DPC software interrupt fires as soon as the processor is below DISPATCH_LEVEL.
    if (KeGetCurrentIrql() < DISPATCH_LEVEL)
        scheduler().run_dpcs();
    return TRUE;
}

BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc) { return scheduler().remove_dpc(Dpc) ? TRUE : FALSE; }

// ---- spin locks ----

void KeInitializeSpinLock(PKSPIN_LOCK SpinLock) { *SpinLock = 0; }

void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    if (*SpinLock == owner_mark())
        bugcheck(SPIN_LOCK_ALREADY_OWNED, reinterpret_cast<ULONG_PTR>(SpinLock), 0, 0, 0, __builtin_return_address(0),
                 nullptr, "The thread acquired a spin lock it already holds: it would spin forever.");
    if (*SpinLock != 0)
        bugcheck(SPIN_LOCK_ALREADY_OWNED, reinterpret_cast<ULONG_PTR>(SpinLock), *SpinLock, 0, 0,
                 __builtin_return_address(0), nullptr,
                 "The spin lock is held by a thread that is not running: it was never released, so this processor "
                 "would spin forever.");
    *SpinLock = owner_mark();
}

void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    if (*SpinLock != owner_mark())
        bugcheck(SPIN_LOCK_NOT_OWNED, reinterpret_cast<ULONG_PTR>(SpinLock), *SpinLock, 0, 0,
                 __builtin_return_address(0), nullptr, "The thread released a spin lock it does not hold.");
    *SpinLock = 0;
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    KIRQL old = ke::raise_irql_to_dpc_level("KeAcquireSpinLock");
    KeAcquireSpinLockAtDpcLevel(SpinLock);
    return old;
}

void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    KeReleaseSpinLockFromDpcLevel(SpinLock);
    ke::lower_irql(NewIrql, "KeReleaseSpinLock", __builtin_return_address(0));
}

void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->LockQueue.Next = nullptr;
    LockHandle->OldIrql = ke::raise_irql_to_dpc_level("KeAcquireInStackQueuedSpinLock");
    KeAcquireSpinLockAtDpcLevel(SpinLock);
}

void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    KeReleaseSpinLockFromDpcLevel(LockHandle->LockQueue.Lock);
    ke::lower_irql(LockHandle->OldIrql, "KeReleaseInStackQueuedSpinLock", __builtin_return_address(0));
}

void KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->LockQueue.Next = nullptr;
    LockHandle->OldIrql = DISPATCH_LEVEL;
    KeAcquireSpinLockAtDpcLevel(SpinLock);
}

void KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle)
{
    KeReleaseSpinLockFromDpcLevel(LockHandle->LockQueue.Lock);
}

// ---- processors and time ----

ULONG KeGetCurrentProcessorNumber(void) { return System::current() != nullptr ? scheduler().current_cpu() : 0; }

ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors)
{
    ULONG count = System::current() != nullptr ? scheduler().cpus() : 1;
    if (ActiveProcessors != nullptr)
        *ActiveProcessors = (KAFFINITY{1} << count) - 1;
    return count;
}

void KeQuerySystemTime(PLARGE_INTEGER CurrentTime) { CurrentTime->QuadPart = System::current()->system_time(); }

void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime) { KeQuerySystemTime(CurrentTime); }

ULONGLONG KeQueryInterruptTime(void) { return static_cast<ULONGLONG>(System::current()->interrupt_time()); }

ULONG KeQueryTimeIncrement(void) { return kTimeIncrement; }

void KeQueryTickCount(PLARGE_INTEGER TickCount) { TickCount->QuadPart = System::current()->interrupt_time() / kTimeIncrement; }

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    // A 10 MHz counter: one tick per 100 ns of simulated time.
    if (PerformanceFrequency != nullptr)
        PerformanceFrequency->QuadPart = 10'000'000;
    LARGE_INTEGER now{};
    now.QuadPart = System::current()->interrupt_time();
    return now;
}

}  // extern "C"
