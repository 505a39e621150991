// support.cpp - text, argument and lookup helpers shared by the inspection commands.
//
// Symbols: ldr::symbolize resolves a code address from the module's symbol table; the
// module part is the file name without its extension, and iosim's own libraries
// (libiosim_io, libiosim_kernel) are shown as "nt", since they play ntoskrnl's part:
// the default dispatch slot is "nt!IopInvalidDeviceRequest", as in WinDbg.
// Safety: an address is followed only after it matched the object registry
// (live_object_at, live_set); IRPs are found through threads' driver-call frames only.
#include "inspect/support.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "crt/format.h"
#include "device.h"
#include "irp.h"
#include "ldr/symbolize.h"

#if defined(__SANITIZE_ADDRESS__)
#define IOSIM_INSPECT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IOSIM_INSPECT_ASAN 1
#endif
#endif
#ifdef IOSIM_INSPECT_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace iosim::inspect::detail {

std::string address(uintptr_t value) { return fmt::format("0x{:016x}", static_cast<unsigned long long>(value)); }
std::string address(const void* p) { return address(reinterpret_cast<uintptr_t>(p)); }

std::string symbol(const void* code)
{
    if (code == nullptr)
        return "";
    ldr::SourceLocation where = ldr::symbolize(code);
    std::string module = where.module.substr(0, where.module.find('.'));
    if (module == "libiosim_io" || module == "libiosim_kernel")
        module = "nt";
    if (!where.function.empty())
        return module.empty() ? where.function : module + "!" + where.function;
    return where.module.empty() ? "" : "(in " + where.module + ")";
}

std::string routine(const void* code)
{
    if (code == nullptr)
        return "00000000";
    std::string name = symbol(code);
    return name.empty() ? address(code) : address(code) + "  " + name;
}

std::string decode_flags(uint32_t value, std::span<const FlagName> names)
{
    if (value == 0)
        return "none";
    std::string out;
    uint32_t left = value;
    for (const FlagName& flag : names) {
        if (flag.bits != 0 && (value & flag.bits) == flag.bits && (left & flag.bits) != 0) {
            out += (out.empty() ? "" : " | ") + std::string(flag.name);
            left &= ~flag.bits;
        }
    }
    if (left != 0)
        out += (out.empty() ? "" : " | ") + fmt::format("0x{:x}", left);
    return out;
}

std::string flags_text(uint32_t value, std::span<const FlagName> names)
{
    return fmt::format("0x{:08x} ({})", value, decode_flags(value, names));
}

std::string utf8(std::u16string_view text) { return crt::to_utf8(text); }
std::u16string utf16(std::string_view text) { return crt::to_utf16(text); }

std::string irql_text(KIRQL irql)
{
    const char* name = "DIRQL (a device's interrupt level)";
    switch (irql) {
    case PASSIVE_LEVEL: name = "PASSIVE_LEVEL"; break;
    case APC_LEVEL: name = "APC_LEVEL"; break;
    case DISPATCH_LEVEL: name = "DISPATCH_LEVEL"; break;
    case CLOCK_LEVEL: name = "CLOCK_LEVEL"; break;
    case IPI_LEVEL: name = "IPI_LEVEL"; break;
    case HIGH_LEVEL: name = "HIGH_LEVEL"; break;
    default:
        if (irql > HIGH_LEVEL)
            name = "not a valid IRQL";
    }
    return fmt::format("{} ({})", static_cast<int>(irql), name);
}

std::string device_type_text(ULONG type)
{
    static const char* const kNames[] = {
        nullptr, "BEEP", "CD_ROM", "CD_ROM_FILE_SYSTEM", "CONTROLLER", "DATALINK", "DFS", "DISK",
        "DISK_FILE_SYSTEM", "FILE_SYSTEM", "INPORT_PORT", "KEYBOARD", "MAILSLOT", "MIDI_IN", "MIDI_OUT",
        "MOUSE", "MULTI_UNC_PROVIDER", "NAMED_PIPE", "NETWORK", "NETWORK_BROWSER", "NETWORK_FILE_SYSTEM",
        "NULL", "PARALLEL_PORT", "PHYSICAL_NETCARD", "PRINTER", "SCANNER", "SERIAL_MOUSE_PORT", "SERIAL_PORT",
        "SCREEN", "SOUND", "STREAMS", "TAPE", "TAPE_FILE_SYSTEM", "TRANSPORT", "UNKNOWN", "VIDEO",
        "VIRTUAL_DISK", "WAVE_IN", "WAVE_OUT", "8042_PORT", "NETWORK_REDIRECTOR", "BATTERY", "BUS_EXTENDER",
        "MODEM", "VDM", "MASS_STORAGE", "SMB", "KS", "CHANGER", "SMARTCARD", "ACPI", "DVD",
        "FULLSCREEN_VIDEO", "DFS_FILE_SYSTEM", "DFS_VOLUME", "SERENUM", "TERMSRV", "KSEC", "FIPS", "INFINIBAND",
    };
    std::string name = type < std::size(kNames) && kNames[type] != nullptr ? fmt::format("FILE_DEVICE_{}", kNames[type])
                       : type >= 0x8000                                   ? "a vendor-defined type"
                                                                          : "unknown type";
    return fmt::format("0x{:08x} ({})", type, name);
}

std::optional<uintptr_t> parse_address(std::string_view text)
{
    if (text.size() < 3 || text.size() > 18 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        return std::nullopt;
    uintptr_t value = 0;
    auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), value, 16);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::optional<uint64_t> parse_number(std::string_view text)
{
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        return parse_address(text);
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

bool looks_like_address(std::string_view text) { return text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'); }

void* live_object_at(uintptr_t address, const ob::ObjectType* type)
{
    for (const ob::LiveObject& object : ob::live_objects())
        if (reinterpret_cast<uintptr_t>(object.body) == address && (type == nullptr || object.type == type))
            return object.body;
    return nullptr;
}

std::vector<void*> live_objects_of(const ob::ObjectType& type)
{
    std::vector<void*> out;
    for (const ob::LiveObject& object : ob::live_objects())
        if (object.type == &type)
            out.push_back(object.body);
    return out;
}

std::unordered_set<const void*> live_set(const ob::ObjectType& type)
{
    std::unordered_set<const void*> out;
    for (void* body : live_objects_of(type))
        out.insert(body);
    return out;
}

std::vector<Thread*> all_threads()
{
    std::vector<Thread*> threads;
    for (void* body : live_objects_of(thread_type()))
        threads.push_back(static_cast<Thread*>(body));
    std::sort(threads.begin(), threads.end(), [](Thread* a, Thread* b) { return a->tid() < b->tid(); });
    return threads;
}

std::string thread_text(Thread* thread)
{
    Process* process = thread->process();
    if (process == nullptr)
        return fmt::format("tid {} (no process)", thread->tid());
    return fmt::format("tid {} of process {} ({})", thread->tid(), process->pid(), process->image_name());
}

std::string device_label(DEVICE_OBJECT* device)
{
    std::string name = utf8(ob::full_name(device));
    return name.empty() ? "(unnamed)" : name;
}

bool readable_live_irp(const void* irp)
{
    // IRPs sit 16-byte aligned right after iosim's IrpPrivate, in a malloc'd block.
    if (irp == nullptr || (reinterpret_cast<uintptr_t>(irp) & 15) != 0)
        return false;
    const void* start = io::private_of(static_cast<const IRP*>(irp));
#ifdef IOSIM_INSPECT_ASAN
    size_t size = static_cast<const char*>(irp) + sizeof(IRP) - static_cast<const char*>(start);
    if (__asan_region_is_poisoned(const_cast<void*>(start), size) != nullptr)
        return false;  // freed to the allocator while a frame still names it
#endif
    (void)start;
    if (!io::is_live_irp(static_cast<const IRP*>(irp)))
        return false;
    // The stack locations follow the IRP; StackCount must fit what was allocated.
    const auto* packet = static_cast<const IRP*>(irp);
    return packet->StackCount >= 1 && packet->StackCount <= io::private_of(packet)->capacity;
}

std::vector<DispatchedIrp> dispatched_irps()
{
    std::vector<DispatchedIrp> found;
    for (Thread* thread : all_threads()) {
        for (const DriverCall& call : thread->driver_calls) {
            if (call.irp == nullptr || !readable_live_irp(call.irp))
                continue;
            auto it = std::find_if(found.begin(), found.end(), [&](const DispatchedIrp& d) { return d.irp == call.irp; });
            if (it == found.end())
                found.push_back({static_cast<IRP*>(call.irp), thread, {call}});
            else
                it->frames.push_back(call);
        }
    }
    return found;
}

}  // namespace iosim::inspect::detail
