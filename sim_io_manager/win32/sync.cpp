// sync.cpp - Win32 event objects: CreateEvent, OpenEvent, SetEvent, ResetEvent.
//
// Events are kernel Event objects (ke/event.h) in the process's handle table, so a driver
// given the handle in an IOCTL can ObReferenceObjectByHandle(..., *ExEventObjectType, ...)
// it and set it. Named events live in \BaseNamedObjects. Waiting on them: wait.cpp.
// NT counterparts: kernel32!CreateEventW -> NtCreateEvent, NtSetEvent, NtResetEvent.
#include <fmt/format.h>

#include "ke/event.h"
#include "ps/process.h"
#include "system.h"
#include "win32/named_object.h"
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

constexpr ACCESS_MASK kEventAllAccess = 0x1F0003;  // EVENT_ALL_ACCESS
constexpr ACCESS_MASK kEventModifyState = 0x0002;  // EVENT_MODIFY_STATE

ke::EventObject* reference_event(HANDLE handle, ACCESS_MASK needed)
{
    return static_cast<ke::EventObject*>(reference_by_handle(handle, ke::event_type(), needed));
}

// OpenEvent gets the access it asked for; CreateEvent (also on an existing name) EVENT_ALL_ACCESS.
HANDLE create_event(const char16_t* name, bool manual_reset, bool initial_state, bool open_only, ACCESS_MASK access)
{
    return create_or_open_named(name, ke::event_type(), access, open_only, ERROR_FILE_NOT_FOUND, [&]() -> void* {
        return ke::create_event(manual_reset ? NotificationEvent : SynchronizationEvent, initial_state);
    });
}

}  // namespace

extern "C" {

HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState, LPCWSTR lpName)
{
    return create_event(reinterpret_cast<const char16_t*>(lpName), bManualReset, bInitialState, false, kEventAllAccess);
}

HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState, LPCSTR lpName)
{
    std::u16string name = widen(lpName);
    return create_event(lpName != nullptr ? name.c_str() : nullptr, bManualReset, bInitialState, false, kEventAllAccess);
}

HANDLE WINAPI OpenEventW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName)
{
    return create_event(reinterpret_cast<const char16_t*>(lpName), false, false, true, dwDesiredAccess);
}

HANDLE WINAPI OpenEventA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName)
{
    std::u16string name = widen(lpName);
    return create_event(name.c_str(), false, false, true, dwDesiredAccess);
}

BOOL WINAPI SetEvent(HANDLE hEvent)
{
    ke::EventObject* event = reference_event(hEvent, kEventModifyState);
    if (event == nullptr)
        return FALSE;
    KeSetEvent(&event->event, 0, FALSE);
    ob::dereference(event);
    return TRUE;
}

BOOL WINAPI ResetEvent(HANDLE hEvent)
{
    ke::EventObject* event = reference_event(hEvent, kEventModifyState);
    if (event == nullptr)
        return FALSE;
    KeResetEvent(&event->event);
    ob::dereference(event);
    return TRUE;
}

}  // extern "C"
