// named_object.cpp - named kernel objects for kernel32 (CreateEvent, CreateSemaphore and
// their Open* twins) and handle references with a type and access check; see named_object.h.
#include "win32/named_object.h"

#include "ob/object.h"
#include "ps/process.h"
#include "system.h"
#include "win32/win32.h"
#include "windows.h"

namespace iosim::win32 {

HANDLE create_or_open_named(const char16_t* name, ob::ObjectType& type, ACCESS_MASK access, bool open_only,
                            ULONG unnamed_open_error, const std::function<void*()>& create)
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
            if (found.remaining.empty() && ob::is_object_of_type(found.object, type)) {
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
        set_last_error(path.empty() ? unnamed_open_error : ERROR_FILE_NOT_FOUND);
        return nullptr;
    }
    void* object = create();
    if (!path.empty()) {
        NTSTATUS status = sys->ns().insert(path, object, false);
        if (!NT_SUCCESS(status)) {
            ob::dereference(object);
            set_last_nt_error(status);
            return nullptr;
        }
    }
    HANDLE handle = process->handles().insert(object, access);
    ob::dereference(object);  // the handle holds it; a named one leaves the namespace with its last handle
    set_last_error(ERROR_SUCCESS);
    return handle;
}

void* reference_by_handle(HANDLE handle, ob::ObjectType& type, ACCESS_MASK needed)
{
    Process* process = current_process();
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    NTSTATUS status =
        process != nullptr ? process->handles().reference(handle, &type, &object, &granted) : STATUS_INVALID_HANDLE;
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return nullptr;
    }
    if ((granted & needed) != needed) {
        ob::dereference(object);
        set_last_error(ERROR_ACCESS_DENIED);
        return nullptr;
    }
    return object;
}

}  // namespace iosim::win32
