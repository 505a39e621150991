// symlink.cpp - IoCreateSymbolicLink and IoDeleteSymbolicLink.
//
// A link is a permanent object in the namespace (usually \GLOBAL??, reached as \??)
// whose target is a path, normally a device name. Links are resolved when a name is
// looked up, not when they are created, so a link may outlive its device: IoDeleteDevice
// leaves links alone, and a link left behind points at nothing.
// NT counterparts: IoCreateSymbolicLink, IoDeleteSymbolicLink, ObpParseSymbolicLink.
#include <fmt/format.h>

#include "crt/format.h"

#include "ldr/symbolize.h"
#include "ob/namespace.h"
#include "rtl/status_names.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

std::u16string from_unicode(const UNICODE_STRING* s)
{
    if (s == nullptr || s->Buffer == nullptr)
        return {};
    return std::u16string(reinterpret_cast<const char16_t*>(s->Buffer), s->Length / sizeof(WCHAR));
}


NTSTATUS create_link(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName, const void* caller)
{
    System* sys = System::current();
    std::u16string name = from_unicode(SymbolicLinkName);
    std::u16string target = from_unicode(DeviceName);
    NTSTATUS status = sys->ns().create_symbolic_link(name, target, caller, nullptr);
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0,
                            NT_SUCCESS(status)
                                ? fmt::format("symbolic link {} -> {} created", crt::to_utf8(ob::ObjectNamespace::expand_dos_devices(name)),
                                              crt::to_utf8(target))
                                : fmt::format("IoCreateSymbolicLink({} -> {}) failed: {}", crt::to_utf8(name), crt::to_utf8(target),
                                              status_text(status)));
    if (!NT_SUCCESS(status))
        sys->report({"SYMLINK_CREATE_FAILED",
                     fmt::format("IoCreateSymbolicLink({} -> {}) failed with {}{}", crt::to_utf8(name), crt::to_utf8(target),
                                 status_text(status),
                                 status == STATUS_OBJECT_NAME_COLLISION
                                     ? ": a link of that name exists already (perhaps left behind by an earlier load)"
                                     : ""),
                     ldr::describe_call_site(caller),
                     {}});
    return status;
}

}  // namespace

extern "C" {

NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName)
{
    return create_link(SymbolicLinkName, DeviceName, __builtin_return_address(0));
}

NTSTATUS IoCreateUnprotectedSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName)
{
    return create_link(SymbolicLinkName, DeviceName, __builtin_return_address(0));
}

NTSTATUS IoDeleteSymbolicLink(PUNICODE_STRING SymbolicLinkName)
{
    const void* caller = __builtin_return_address(0);
    System* sys = System::current();
    std::u16string name = from_unicode(SymbolicLinkName);
    auto found = sys->ns().lookup(name, /*open_link=*/true);
    NTSTATUS status = found.status;
    if (NT_SUCCESS(status) && !found.remaining.empty())
        status = STATUS_OBJECT_NAME_NOT_FOUND;
    else if (NT_SUCCESS(status) && !ob::is_object_of_type(found.object, ob::symbolic_link_type()))
        status = STATUS_OBJECT_TYPE_MISMATCH;  // the name is taken by an object of another type
    if (NT_SUCCESS(status))
        sys->ns().make_temporary(found.object);
    if (found.object != nullptr)
        ob::dereference(found.object);
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0,
                            NT_SUCCESS(status) ? fmt::format("symbolic link {} deleted", crt::to_utf8(name))
                                               : fmt::format("IoDeleteSymbolicLink({}) failed: {}", crt::to_utf8(name),
                                                             status_text(status)));
    if (!NT_SUCCESS(status))
        sys->report({"SYMLINK_DELETE_FAILED",
                     fmt::format("IoDeleteSymbolicLink({}) failed with {}: there is no symbolic link of that name.",
                                 crt::to_utf8(name), status_text(status)),
                     ldr::describe_call_site(caller),
                     {}});
    return status;
}

}  // extern "C"
