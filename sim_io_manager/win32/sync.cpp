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
#include "win32/win32.h"
#include "windows.h"

using namespace iosim;
using namespace iosim::win32;

namespace {

constexpr ACCESS_MASK kEventAllAccess = 0x1F0003;  // EVENT_ALL_ACCESS
constexpr ACCESS_MASK kEventModifyState = 0x0002;  // EVENT_MODIFY_STATE

ke::EventObject* reference_event(HANDLE handle, ACCESS_MASK needed)
{
    Process* process = current_process();
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    NTSTATUS status = process != nullptr
                          ? process->handles().reference(handle, &ke::event_type(), &object, &granted)
                          : STATUS_INVALID_HANDLE;
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return nullptr;
    }
    if ((granted & needed) != needed) {
        ob::dereference(object);
        set_last_error(ERROR_ACCESS_DENIED);
        return nullptr;
    }
    return static_cast<ke::EventObject*>(object);
}

HANDLE create_event(const char16_t* name, bool manual_reset, bool initial_state, bool open_only, ACCESS_MASK access)
{
    System* sys = System::current();
    Process* process = current_process();
    std::u16string path;
    if (name != nullptr && *name != 0)
        path = u"\\BaseNamedObjects\\" + widen(name);
    if (!path.empty()) {
        auto found = sys->ns().lookup(path);
        if (NT_SUCCESS(found.status)) {
            HANDLE handle = nullptr;
            if (found.remaining.empty() && ob::is_object_of_type(found.object, ke::event_type())) {
                // OpenEvent gets the access it asked for; CreateEvent on an existing name EVENT_ALL_ACCESS.
                handle = process->handles().insert(found.object, access);
                set_last_error(open_only ? ERROR_SUCCESS : ERROR_ALREADY_EXISTS);
            } else {
                set_last_error(ERROR_INVALID_HANDLE);  // the name belongs to another kind of object
            }
            ob::dereference(found.object);
            return handle;
        }
    }
    if (open_only) {
        set_last_error(ERROR_FILE_NOT_FOUND);
        return nullptr;
    }
    ke::EventObject* event = ke::create_event(manual_reset ? NotificationEvent : SynchronizationEvent, initial_state);
    if (!path.empty()) {
        NTSTATUS status = sys->ns().insert(path, event, false);
        if (!NT_SUCCESS(status)) {
            ob::dereference(event);
            set_last_nt_error(status);
            return nullptr;
        }
    }
    HANDLE handle = process->handles().insert(event, access);
    ob::dereference(event);  // the handle holds it; a named event leaves the namespace with its last handle
    set_last_error(ERROR_SUCCESS);
    return handle;
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
