// device_interface.cpp - device interfaces: how a WDM driver makes its device reachable.
//
// A WDM driver does not name its device or create a link of its own choosing: it
// registers an interface class (a GUID that says "speaks this protocol") on its PDO with
// IoRegisterDeviceInterface, and enables it with IoSetDeviceInterfaceState once the device
// has started. Rules kept:
//  - The name is the PnP manager's: \??\<instance path with '\' as '#'>#{guid}, plus
//    \<reference string> when the driver gives one. It is returned in a UNICODE_STRING
//    allocated from pool, which the driver frees (RtlFreeUnicodeString).
//  - Registering again (same device, class and reference) gives the same name, also after
//    the device was removed and plugged in again: registrations live in the registry.
//  - The PhysicalDeviceObject must be a PDO the PnP manager enumerated: anything else (an
//    FDO, a legacy device) stops the machine with PNP_DETECTED_FATAL_ERROR (0xCA, 2), as on
//    Windows.
//  - Enabling creates the symbolic link \GLOBAL??\<name> -> the PDO's name (a request to
//    it goes to the top of the PDO's stack); enabling twice returns
//    STATUS_OBJECT_NAME_EXISTS; disabling deletes the link; disabling what is not enabled
//    returns STATUS_OBJECT_NAME_NOT_FOUND. A reference string becomes the file name the
//    driver sees in IRP_MJ_CREATE (the link covers the instance and class; "\ref" follows).
//  - When a device is removed, the PnP manager disables the interfaces its drivers left
//    enabled.
// User mode lists interfaces through win32/setupapi.cpp (SetupDi*, CM_Get_Device_Interface_List).
// NT counterparts: IoRegisterDeviceInterface, IoSetDeviceInterfaceState, IopDisableDeviceInterfaces.
#include <fmt/format.h>

#include <cstring>

#include "crt/format.h"
#include "device.h"
#include "irp.h"
#include "ke/bugcheck.h"
#include "ob/namespace.h"
#include "pnp/pnp_manager.h"
#include "system.h"
#include "ldr/symbolize.h"
#include "pnp/device_interface.h"

namespace iosim::io::pnp {

namespace {

constexpr ULONG kLinkNameTag = 'P' | ('n' << 8) | ('p' << 16) | ('I' << 24);  // "PnpI"

std::u16string from_unicode(const UNICODE_STRING* s)
{
    if (s == nullptr || s->Buffer == nullptr)
        return {};
    return std::u16string(reinterpret_cast<const char16_t*>(s->Buffer), s->Length / sizeof(WCHAR));
}

std::string guid_text(const GUID& g)
{
    return fmt::format("{{{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}}}", g.Data1, g.Data2,
                       g.Data3, g.Data4[0], g.Data4[1], g.Data4[2], g.Data4[3], g.Data4[4], g.Data4[5], g.Data4[6],
                       g.Data4[7]);
}

DeviceInterface* find_interface(std::u16string_view name)
{
    std::u16string wanted = ob::upcase(name);
    for (auto& i : pnp_state().interfaces)
        if (ob::upcase(i.name) == wanted)
            return &i;
    return nullptr;
}

bool link_in_use(const std::u16string& link, const DeviceInterface* except)
{
    for (const auto& i : pnp_state().interfaces)
        if (&i != except && i.enabled && i.link == link)
            return true;
    return false;
}

void delete_link(const std::u16string& link)
{
    System* sys = System::current();
    auto found = sys->ns().lookup(link, /*open_link=*/true);
    if (NT_SUCCESS(found.status) && found.remaining.empty() &&
        ob::is_object_of_type(found.object, ob::symbolic_link_type()))
        sys->ns().make_temporary(found.object);
    if (found.object != nullptr)
        ob::dereference(found.object);
}

NTSTATUS set_state(DeviceInterface& i, bool enable, const char* who)
{
    System* sys = System::current();
    if (enable == i.enabled)
        return enable ? STATUS_OBJECT_NAME_EXISTS : STATUS_OBJECT_NAME_NOT_FOUND;
    if (enable) {
        DeviceNode* node = node_by_instance(i.instance_path);
        if (node == nullptr || node->pdo == nullptr)
            return STATUS_INVALID_DEVICE_REQUEST;
        if (!link_in_use(i.link, &i)) {
            std::u16string target = ob::full_name(node->pdo);
            NTSTATUS status = sys->ns().create_symbolic_link(i.link, target, nullptr, nullptr);
            if (!NT_SUCCESS(status))
                return status;
            note(fmt::format("{} enabled interface {} (symbolic link {} -> {})", who, guid_text(i.guid),
                             crt::to_utf8(ob::ObjectNamespace::expand_dos_devices(i.link)), crt::to_utf8(target)));
        }
        i.enabled = true;
    } else {
        i.enabled = false;
        if (!link_in_use(i.link, &i)) {
            delete_link(i.link);
            note(fmt::format("{} disabled interface {} (symbolic link {} deleted)", who, guid_text(i.guid),
                             crt::to_utf8(ob::ObjectNamespace::expand_dos_devices(i.link))));
        }
    }
    return STATUS_SUCCESS;
}

}  // namespace

void disable_interfaces_of(const DeviceNode* node)
{
    for (auto& i : pnp_state().interfaces)
        if (i.enabled && same_id(i.instance_path, node->instance_path))
            set_state(i, false, "the PnP manager (the device was removed)");
}

void delete_interface_links()
{
    for (auto& i : pnp_state().interfaces)
        if (i.enabled)
            set_state(i, false, "shutdown");
}

std::vector<InterfaceEntry> list_interfaces(const GUID* guid, std::string_view instance_path, bool present_only)
{
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    std::vector<InterfaceEntry> out;
    for (const auto& i : s.interfaces) {
        if (guid != nullptr && std::memcmp(&i.guid, guid, sizeof(GUID)) != 0)
            continue;
        if (!instance_path.empty() && !same_id(i.instance_path, instance_path))
            continue;
        DeviceNode* node = node_by_instance(i.instance_path);
        bool present = node != nullptr && node->pdo != nullptr && !node->removal_pending;
        if (present_only && !present)
            continue;
        InterfaceEntry e;
        e.guid = i.guid;
        e.path = u"\\\\?\\" + i.name.substr(4);  // "\??\X" as user mode spells it: "\\?\X"
        e.instance_path = i.instance_path;
        e.devinst = node != nullptr ? node->handle : 0;
        e.enabled = i.enabled && present;
        out.push_back(std::move(e));
    }
    return out;
}

std::string instance_path_of(uint32_t devinst)
{
    std::lock_guard guard(pnp_state().lock);
    DeviceNode* node = node_by_handle(devinst);
    return node != nullptr ? node->instance_path : std::string();
}

}  // namespace iosim::io::pnp

using namespace iosim;
using namespace iosim::io;
using namespace iosim::io::pnp;

extern "C" {

NTSTATUS IoRegisterDeviceInterface(PDEVICE_OBJECT PhysicalDeviceObject, CONST GUID* InterfaceClassGuid,
                                   PUNICODE_STRING ReferenceString, PUNICODE_STRING SymbolicLinkName)
{
    const void* caller = __builtin_return_address(0);
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    DeviceNode* node = node_of_pdo(PhysicalDeviceObject);
    if (node == nullptr || node->instance_path.empty())
        bugcheck(PNP_DETECTED_FATAL_ERROR, 0x2, reinterpret_cast<ULONG_PTR>(PhysicalDeviceObject), 0, 0, caller,
                 nullptr,
                 fmt::format("IoRegisterDeviceInterface was given {}, which is not a PDO the PnP manager enumerated. "
                             "Pass the PhysicalDeviceObject your AddDevice routine received (not your own FDO, nor a "
                             "device made in DriverEntry).",
                             device_name(PhysicalDeviceObject)));
    std::u16string reference = from_unicode(ReferenceString);
    while (!reference.empty() && reference.front() == u'\\')
        reference.erase(reference.begin());
    std::string instance = node->instance_path;
    for (char& c : instance)
        if (c == '\\')
            c = '#';
    std::u16string link = u"\\??\\" + crt::to_utf16(instance + "#" + guid_text(*InterfaceClassGuid));
    std::u16string name = reference.empty() ? link : link + u"\\" + reference;
    if (find_interface(name) == nullptr) {
        DeviceInterface i;
        i.guid = *InterfaceClassGuid;
        i.instance_path = node->instance_path;
        i.reference = reference;
        i.link = link;
        i.name = name;
        s.interfaces.push_back(std::move(i));
        note(fmt::format("{} registered interface {} as {}", ldr::describe_call_site(caller),
                         guid_text(*InterfaceClassGuid), crt::to_utf8(name)));
    }
    size_t bytes = (name.size() + 1) * sizeof(char16_t);
    auto* buffer = static_cast<char16_t*>(
        System::current()->pool().allocate(/*paged=*/true, bytes, kLinkNameTag, caller, /*zero=*/true));
    std::memcpy(buffer, name.data(), name.size() * sizeof(char16_t));
    SymbolicLinkName->Buffer = reinterpret_cast<PWSTR>(buffer);
    SymbolicLinkName->Length = static_cast<USHORT>(name.size() * sizeof(char16_t));
    SymbolicLinkName->MaximumLength = static_cast<USHORT>(bytes);
    return STATUS_SUCCESS;
}

NTSTATUS IoSetDeviceInterfaceState(PUNICODE_STRING SymbolicLinkName, BOOLEAN Enable)
{
    const void* caller = __builtin_return_address(0);
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    DeviceInterface* i = find_interface(from_unicode(SymbolicLinkName));
    if (i == nullptr)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    return set_state(*i, Enable != FALSE, ldr::describe_call_site(caller).c_str());
}

}  // extern "C"
