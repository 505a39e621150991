// event.h - event objects: the named/handled kind (Win32 CreateEvent, ObReferenceObjectByHandle
// with *ExEventObjectType) and the state routines on a driver's own KEVENT.
//
// An Event object's body starts with a KEVENT, as Windows' does, so a driver that
// references an app's event by handle gets a PKEVENT it can pass to KeSetEvent.
// Setting an event releases the waits it satisfies (ke/scheduler.h); the waits themselves
// are in ke/wait.cpp (KeWaitForSingleObject) and the Win32 layer (WaitForSingleObject).
// NT counterparts: KEVENT, ExEventObjectType, KeInitializeEvent, KeSetEvent, NtCreateEvent.
#pragma once

#include "ob/object.h"
#include "wdm_impl.h"

namespace iosim::ke {

struct EventObject {
    KEVENT event;  // first: the body pointer is the PKEVENT
};

ob::ObjectType& event_type();

// Creates an unnamed event object (one reference).
EventObject* create_event(EVENT_TYPE type, bool signaled);

}  // namespace iosim::ke
