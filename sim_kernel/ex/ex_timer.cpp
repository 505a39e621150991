// ex_timer.cpp - executive timers: ExAllocateTimer, ExSetTimer, ExCancelTimer, ExDeleteTimer,
// and ExQueryTimerResolution.
//
// An EX_TIMER is a KTIMER with a DPC that calls the driver's EXT_CALLBACK at
// DISPATCH_LEVEL, kept in non-paged pool charged to the allocating driver (so one never
// deleted is a pool leak at its unload). It runs on the scheduler's simulated clock like
// every KTIMER (ke/scheduler.h): DueTime as KeSetTimerEx takes it (negative: relative, in
// 100 ns units); Period in 100 ns units (rounded up to whole milliseconds, the KTIMER
// period unit). Windows' rules kept: ExSetTimer on a set timer cancels it first and
// returns TRUE; ExCancelTimer returns TRUE only if the timer was set; ExDeleteTimer with
// Cancel FALSE on a set timer is refused by Windows' contract (the timer must be cancelled
// or expired): iosim reports it and cancels. A deleted timer's DeleteCallback runs once.
// The timer resolution is the default clock tick: 15.625 ms maximum and current, 0.5 ms
// minimum.
// NT counterparts: ExAllocateTimer, ExSetTimer, ExCancelTimer, ExDeleteTimer, ExpTimerDpcRoutine,
// ExQueryTimerResolution.
#include <fmt/format.h>

#include "ex/ex_sync.h"
#include "system.h"
#include "wdm_impl.h"

// iosim's definition of the (opaque to drivers) executive timer.
struct _EX_TIMER {
    KTIMER Timer;
    KDPC Dpc;
    PEXT_CALLBACK Callback;
    PVOID Context;
    ULONG Attributes;
    ULONG Magic;
};

using namespace iosim;

namespace {

constexpr ULONG kPoolTag = 0x6D547845;  // "ExTm"
constexpr ULONG kMagic = 0x6D547845;
constexpr ULONG kMaximumResolution = 156250;  // 15.625 ms
constexpr ULONG kMinimumResolution = 5000;    // 0.5 ms

void expire(PKDPC, PVOID context, PVOID, PVOID)
{
    auto* timer = static_cast<PEX_TIMER>(context);
    timer->Callback(timer, timer->Context);
}

// A pointer that is not a live EX_TIMER is reported and the call does nothing (FALSE).
bool valid(PEX_TIMER timer, const char* routine, const void* caller)
{
    if (timer != nullptr && timer->Magic == kMagic)
        return true;
    ex::report_rule("EX_TIMER_INVALID",
                    fmt::format("{} was given {}, which is not a timer from ExAllocateTimer (or was already deleted). "
                                "Nothing was done.",
                                routine, static_cast<const void*>(timer)),
                    caller);
    return false;
}

}  // namespace

extern "C" {

PEX_TIMER ExAllocateTimer(PEXT_CALLBACK Callback, PVOID CallbackContext, ULONG Attributes)
{
    const void* caller = __builtin_return_address(0);
    void* memory = System::current()->pool().allocate(false, sizeof(_EX_TIMER), kPoolTag, caller, true);
    if (memory == nullptr)
        return nullptr;
    auto* timer = static_cast<PEX_TIMER>(memory);
    KeInitializeTimerEx(&timer->Timer, NotificationTimer);
    KeInitializeDpc(&timer->Dpc, expire, timer);
    timer->Callback = Callback;
    timer->Context = CallbackContext;
    timer->Attributes = Attributes;
    timer->Magic = kMagic;
    return timer;
}

BOOLEAN ExSetTimer(PEX_TIMER Timer, LONGLONG DueTime, LONGLONG Period, PEXT_SET_PARAMETERS Parameters)
{
    if (!valid(Timer, "ExSetTimer", __builtin_return_address(0)))
        return FALSE;
    LARGE_INTEGER due{};
    due.QuadPart = DueTime;
    LONG period_ms = Period <= 0 ? 0 : static_cast<LONG>((Period + 9999) / 10000);
    return KeSetTimerEx(&Timer->Timer, due, period_ms, Timer->Callback != nullptr ? &Timer->Dpc : nullptr);
}

BOOLEAN ExCancelTimer(PEX_TIMER Timer, PEXT_CANCEL_PARAMETERS Parameters)
{
    if (!valid(Timer, "ExCancelTimer", __builtin_return_address(0)))
        return FALSE;
    BOOLEAN was_set = KeCancelTimer(&Timer->Timer);
    KeRemoveQueueDpc(&Timer->Dpc);
    return was_set;
}

BOOLEAN ExDeleteTimer(PEX_TIMER Timer, BOOLEAN Cancel, BOOLEAN Wait, PEXT_DELETE_PARAMETERS Parameters)
{
    const void* caller = __builtin_return_address(0);
    if (!valid(Timer, "ExDeleteTimer", caller))
        return FALSE;
    BOOLEAN was_set = KeCancelTimer(&Timer->Timer);
    KeRemoveQueueDpc(&Timer->Dpc);
    if (was_set && !Cancel)
        ex::report_rule("EX_TIMER_DELETED_WHILE_SET",
                        "ExDeleteTimer was called with Cancel FALSE on a timer that is still set: cancel it (Cancel "
                        "TRUE, or ExCancelTimer) or let it expire first. iosim cancelled it.",
                        caller);
    Timer->Magic = 0;
    if (Parameters != nullptr && Parameters->DeleteCallback != nullptr)
        Parameters->DeleteCallback(Parameters->DeleteContext);
    System::current()->pool().free(Timer, kPoolTag, true, caller);
    return was_set;
}

void ExQueryTimerResolution(PULONG MaximumTime, PULONG MinimumTime, PULONG CurrentTime)
{
    *MaximumTime = kMaximumResolution;
    *MinimumTime = kMinimumResolution;
    *CurrentTime = kMaximumResolution;
}

}  // extern "C"
