// irql.h - the current thread's IRQL: raising, lowering, and the trace of each change.
//
// Every IRQL change a driver asks for (KeRaiseIrql, KeLowerIrql, KeRaiseIrqlToDpcLevel and
// what is built on them: spin locks, in-stack queued spin locks, fast mutexes) goes through
// raise() and lower() here, which check the direction (raising must not lower, lowering
// must not raise: bug check IRQL_NOT_LESS_OR_EQUAL otherwise) and record one trace event,
// "IRQL PASSIVE -> DISPATCH (KeAcquireSpinLock)". The IRQL the kernel itself sets while it
// runs a DPC (DISPATCH_LEVEL) or a kernel APC (APC_LEVEL) is not an event of its own: the
// DPC and APC events say it. Dropping below DISPATCH_LEVEL runs the DPCs queued meanwhile.
// NT counterparts: KfRaiseIrql, KfLowerIrql, KeRaiseIrqlToDpcLevel (HAL), the DPC software
// interrupt requested when a DPC is queued at or above DISPATCH_LEVEL.
#pragma once

#include "nt.h"

namespace iosim {
class Thread;
}

namespace iosim::ke {

// Raises the current thread to `irql` and returns the IRQL it had. `by` names the routine
// the driver called (for the trace and the report), `caller` its return address.
KIRQL raise_irql(KIRQL irql, const char* by, const void* caller);
// To DISPATCH_LEVEL if below it (KeRaiseIrqlToDpcLevel's rule: never lowers); the old IRQL.
KIRQL raise_irql_to_dpc_level(const char* by);
// Lowers the current thread to `irql`; runs the queued DPCs when it drops below DISPATCH_LEVEL.
void lower_irql(KIRQL irql, const char* by, const void* caller);
// Sets `thread`'s IRQL with a trace event (the fast mutex's raise to APC_LEVEL).
void set_irql(Thread* thread, KIRQL irql, const char* by);

}  // namespace iosim::ke
