// event.cpp - the Event object type and the KEVENT state routines.
#include "ke/event.h"

#include "system.h"

namespace iosim::ke {

namespace {
ob::ObjectType g_event_type{.name = "Event"};

// DISPATCHER_HEADER.Type values of event objects (Windows' KOBJECTS numbering).
constexpr UCHAR kNotificationEventType = 0;
constexpr UCHAR kSynchronizationEventType = 1;
}  // namespace

ob::ObjectType& event_type() { return g_event_type; }

EventObject* create_event(EVENT_TYPE type, bool signaled)
{
    auto* body = static_cast<EventObject*>(ob::create_object(g_event_type, sizeof(EventObject)));
    KeInitializeEvent(&body->event, type, signaled ? TRUE : FALSE);
    return body;
}

constexpr UCHAR notification_type() { return kNotificationEventType; }
constexpr UCHAR synchronization_type() { return kSynchronizationEventType; }

}  // namespace iosim::ke

namespace {
POBJECT_TYPE iosim_event_type_ptr = reinterpret_cast<POBJECT_TYPE>(&iosim::ke::event_type());
}

extern "C" {

POBJECT_TYPE* ExEventObjectType = &iosim_event_type_ptr;

void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    Event->Header.Type = Type == NotificationEvent ? iosim::ke::notification_type() : iosim::ke::synchronization_type();
    Event->Header.Size = sizeof(KEVENT) / sizeof(LONG);
    Event->Header.SignalState = State ? 1 : 0;
    InitializeListHead(&Event->Header.WaitListHead);
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    // Waiters it satisfies become ready (a synchronization event is consumed by the first).
    if (iosim::System* sys = iosim::System::current())
        sys->scheduler().signalled(&Event->Header);
    return previous;
}

LONG KePulseEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    if (iosim::System* sys = iosim::System::current())
        sys->scheduler().signalled(&Event->Header);
    Event->Header.SignalState = 0;  // released whoever was waiting, and is reset again
    return previous;
}

LONG KeResetEvent(PRKEVENT Event)
{
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    return previous;
}

void KeClearEvent(PRKEVENT Event) { Event->Header.SignalState = 0; }

LONG KeReadStateEvent(PRKEVENT Event) { return Event->Header.SignalState; }

}  // extern "C"
