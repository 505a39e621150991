// irql.cpp - KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql, KeRaiseIrqlToDpcLevel,
// PAGED_CODE(), and the trace event of each IRQL change (see irql.h).
// NT counterparts: KeGetCurrentIrql, KfRaiseIrql, KfLowerIrql, KeRaiseIrqlToDpcLevel.
#include "ke/irql.h"

#include <fmt/format.h>

#include "ke/bugcheck.h"
#include "ke/scheduler.h"
#include "ps/process.h"
#include "system.h"
#include "trace/trace.h"
#include "wdm_impl.h"

namespace iosim::ke {

void set_irql(Thread* thread, KIRQL irql, const char* by)
{
    KIRQL old = thread->irql;
    thread->irql = irql;
    if (old == irql)
        return;
    if (System* sys = System::current(); sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Irql, 0,
                            fmt::format("IRQL {} -> {} ({})", trace::irql_name(old), trace::irql_name(irql), by));
}

KIRQL raise_irql(KIRQL irql, const char* by, const void* caller)
{
    Thread* thread = current_thread();
    KIRQL old = thread->irql;
    if (irql < old)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, irql, old, 0, 0, caller, nullptr,
                 fmt::format("{} was asked to go from IRQL {} down to {}: raising must not lower the IRQL.", by, old,
                             irql));
    set_irql(thread, irql, by);
    return old;
}

KIRQL raise_irql_to_dpc_level(const char* by)
{
    Thread* thread = current_thread();
    KIRQL old = thread->irql;
    if (old < DISPATCH_LEVEL)
        set_irql(thread, DISPATCH_LEVEL, by);
    return old;
}

void lower_irql(KIRQL irql, const char* by, const void* caller)
{
    Thread* thread = current_thread();
    KIRQL old = thread->irql;
    if (irql > old)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, irql, old, 0, 0, caller, nullptr,
                 fmt::format("{} was asked to go from IRQL {} up to {}: lowering must not raise the IRQL.", by, old,
                             irql));
    set_irql(thread, irql, by);
    // Dropping below DISPATCH_LEVEL lets queued DPCs run, as the DPC software interrupt does.
    if (old >= DISPATCH_LEVEL && irql < DISPATCH_LEVEL)
        if (System* sys = System::current())
            sys->scheduler().run_dpcs();
}

}  // namespace iosim::ke

using namespace iosim;

extern "C" {

KIRQL KeGetCurrentIrql(void)
{
    Thread* thread = current_thread();
    return thread != nullptr ? thread->irql : PASSIVE_LEVEL;
}

void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    *OldIrql = ke::raise_irql(NewIrql, "KeRaiseIrql", __builtin_return_address(0));
}

void KeLowerIrql(KIRQL NewIrql) { ke::lower_irql(NewIrql, "KeLowerIrql", __builtin_return_address(0)); }

KIRQL KeRaiseIrqlToDpcLevel(void) { return ke::raise_irql_to_dpc_level("KeRaiseIrqlToDpcLevel"); }

void PagedCodeCheck_iosim(void)
{
    Thread* thread = current_thread();
    if (thread != nullptr && thread->irql > APC_LEVEL)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, 0, thread->irql, 0, 0, __builtin_return_address(0), nullptr,
                 fmt::format("PAGED_CODE() ran at IRQL {}: pageable code may only run at PASSIVE_LEVEL or APC_LEVEL.",
                             thread->irql));
}

}  // extern "C"
