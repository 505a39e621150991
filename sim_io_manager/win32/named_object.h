// named_object.h - what kernel32's event and semaphore functions share: named kernel
// objects in \BaseNamedObjects (CreateX / OpenX), and a handle's object checked for its type
// and the access the call needs.
//
// Rules kept (Win32 documentation of CreateEvent, OpenEvent, CreateSemaphore,
// OpenSemaphore): CreateX of a name that exists as an object of the same type opens it
// (the object stays as it is) and sets ERROR_ALREADY_EXISTS; a name of another kind of
// object gives NULL and ERROR_INVALID_HANDLE; OpenX of an unknown name gives NULL and
// ERROR_FILE_NOT_FOUND. A named object leaves the namespace with its last handle.
// NT counterparts: NtCreateEvent / NtCreateSemaphore with OBJ_OPENIF, NtOpenEvent,
// NtOpenSemaphore, ObReferenceObjectByHandle.
#pragma once

#include <functional>

#include "nt.h"

namespace iosim::ob {
struct ObjectType;
}

namespace iosim::win32 {

// CreateX (open_only false) or OpenX (true) of a kernel object of `type` called `name` in
// \BaseNamedObjects; NULL or "" is an unnamed object (OpenX of one fails with
// `unnamed_open_error`). `create` makes a new object holding one reference, which the
// handle takes over. Returns the handle (with `access`) or NULL, the last error set.
HANDLE create_or_open_named(const char16_t* name, ob::ObjectType& type, ACCESS_MASK access, bool open_only,
                            ULONG unnamed_open_error, const std::function<void*()>& create);

// The object behind `handle`, referenced (the caller dereferences it), if it is of `type`
// and the handle grants every right in `needed`; otherwise nullptr with the last error set
// (ERROR_INVALID_HANDLE, ERROR_ACCESS_DENIED).
void* reference_by_handle(HANDLE handle, ob::ObjectType& type, ACCESS_MASK needed);

}  // namespace iosim::win32
