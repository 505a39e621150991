// dispatcher.cpp - the signalled state and the satisfaction rules of dispatcher objects.
#include "ke/dispatcher.h"

namespace iosim::ke {

bool dispatcher_signalled(const DISPATCHER_HEADER* object, const void* waiter)
{
    if (object->Type == kMutant) {
        auto* mutant = reinterpret_cast<const KMUTANT*>(object);
        return object->SignalState > 0 || (mutant->OwnerThread != nullptr && mutant->OwnerThread == waiter);
    }
    return object->SignalState > 0;
}

void dispatcher_satisfy(DISPATCHER_HEADER* object, const void* waiter)
{
    switch (object->Type) {
    case kEventSynchronization:
    case kTimerSynchronization:
        object->SignalState = 0;
        break;
    case kSemaphore:
        --object->SignalState;
        break;
    case kMutant: {
        auto* mutant = reinterpret_cast<KMUTANT*>(object);
        --object->SignalState;
        mutant->OwnerThread = static_cast<struct _KTHREAD*>(const_cast<void*>(waiter));
        break;
    }
    default:
        break;  // notification objects release every waiter and stay signalled
    }
}

const char* dispatcher_kind(const DISPATCHER_HEADER* object)
{
    switch (object->Type) {
    case kEventNotification:
        return "notification event";
    case kEventSynchronization:
        return "synchronization event";
    case kMutant:
        return "mutex";
    case kProcess:
        return "process";
    case kSemaphore:
        return "semaphore";
    case kThread:
        return "thread";
    case kTimerNotification:
        return "notification timer";
    case kTimerSynchronization:
        return "synchronization timer";
    default:
        return "dispatcher object";
    }
}

}  // namespace iosim::ke
