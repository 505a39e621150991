// ex_sync.h - what the executive's locks (fast mutexes, ERESOURCEs) share: waiting for a
// lock through the scheduler, and the "who holds it" words of deadlock reports.
//
// A thread that cannot have a lock waits on a hidden or embedded event, through the
// scheduler (ke/scheduler.h), with a wait reason that names the lock, its owners and the
// call site; whoever releases the lock pulses that event and every waiter checks again
// (a lock is not handed over, as on Windows: a running thread may take it first). So a
// cycle of threads waiting on each other's locks is a deadlock the scheduler reports,
// naming every thread, the lock it waits for and who holds that lock.
// NT counterparts: the wait paths of ExAcquireFastMutex (KeWaitForSingleObject on
// FAST_MUTEX.Event) and ExpWaitForResource.
#pragma once

#include <string>

#include "nt.h"
#include "wdm_impl.h"

namespace iosim {
class Thread;
}

namespace iosim::ex {

// Waits (Executive, KernelMode, no timeout) until `event` is next signalled or pulsed.
void wait_for_lock(KEVENT* event, std::string why);
// Releases every thread waiting in wait_for_lock on `event` (a synchronization event: one).
void wake_lock_waiters(KEVENT* event);
// "t24 (System)".
std::string thread_name(const Thread* thread);
// A rule the WDK states but Windows checks only under Driver Verifier: a finding.
void report_rule(const char* code, std::string message, const void* caller);

}  // namespace iosim::ex
