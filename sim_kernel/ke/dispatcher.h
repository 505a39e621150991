// dispatcher.h - when a dispatcher object satisfies a wait, and what satisfying it consumes.
//
// Every waitable kernel object starts with a DISPATCHER_HEADER whose Type says its kind
// and whose SignalState says whether a wait on it is satisfied now:
//   notification event, notification timer, thread, process: signalled while SignalState > 0;
//     satisfying a wait changes nothing (every waiter is released);
//   synchronization event, synchronization timer: signalled while SignalState > 0; satisfying
//     one wait resets it (one waiter is released);
//   semaphore: signalled while the count (SignalState) > 0; satisfying a wait takes one;
//   mutant (KMUTEX): signalled while free (SignalState == 1) or owned by the waiter (it
//     may acquire it again); satisfying a wait takes ownership (SignalState--, OwnerThread).
// NT counterparts: KiWaitSatisfyAny, KiWaitSatisfyAll, KiSignalObject.
#pragma once

#include "wdm_impl.h"

namespace iosim::ke {

// DISPATCHER_HEADER.Type values (Windows' KOBJECTS numbering).
enum DispatcherType : UCHAR {
    kEventNotification = 0,
    kEventSynchronization = 1,
    kMutant = 2,
    kProcess = 3,
    kQueue = 4,
    kSemaphore = 5,
    kThread = 6,
    kGate = 7,
    kTimerNotification = 8,
    kTimerSynchronization = 9,
};

// `waiter` is the thread that would own a mutant (KMUTANT.OwnerThread).
bool dispatcher_signalled(const DISPATCHER_HEADER* object, const void* waiter);
void dispatcher_satisfy(DISPATCHER_HEADER* object, const void* waiter);
// "notification event 0x..." and the like, for deadlock reports and traces.
const char* dispatcher_kind(const DISPATCHER_HEADER* object);

}  // namespace iosim::ke
