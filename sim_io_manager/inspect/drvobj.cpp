// drvobj.cpp - !drvobj: a driver object, its entry points, devices and dispatch table.
//
//   !drvobj <name | \Driver\name | module.sys | 0xaddress> [flags]
//
// As WinDbg's: the header ("Driver object (0x...) is for: \Driver\hello"), the device
// object list, then DriverEntry / DriverStartIo / DriverUnload / AddDevice as symbols
// ("hello!DriverEntry"; 00000000 when null). Flags, as WinDbg's bits: 0x2 adds the
// dispatch table, all 28 slots [00]..[1b] with their routine ("[00] IRP_MJ_CREATE
// hello!HelloCreateClose"); slots the driver left alone hold iosim's default and print as
// nt!IopInvalidDeviceRequest. 0x4 adds the !devobj text of every device; 0x1 (the device
// list) is always shown. iosim-specific lines: the service name, registry path, module
// and whether an unload is pending (DriverUnload waits for open file objects).
// Seed: /work/shared/seeds/004 (the `!drvobj parport 2` listing).
#include <fmt/format.h>

#include "device.h"
#include "driver.h"
#include "inspect/commands.h"
#include "irp.h"
#include "ob/directory.h"
#include "system.h"

namespace iosim::inspect::detail {

namespace {

constexpr const char* kUsage = "!drvobj: expected a driver (name, \\Driver\\name or address 0x...) and optional flags 0-7";

const FlagName kDriverFlags[] = {
    {DRVO_UNLOAD_INVOKED, "DRVO_UNLOAD_INVOKED"},
    {DRVO_LEGACY_DRIVER, "DRVO_LEGACY_DRIVER"},
    {DRVO_BUILTIN_DRIVER, "DRVO_BUILTIN_DRIVER"},
};

// Finds a loaded driver by service name, module file name (with or without ".sys"),
// object name or address. Sets `error` when there is none.
DRIVER_OBJECT* resolve_driver(const std::string& arg, std::string& error)
{
    if (looks_like_address(arg)) {
        std::optional<uintptr_t> value = parse_address(arg);
        if (!value) {
            error = kUsage;
            return nullptr;
        }
        void* body = live_object_at(*value, &io::driver_type());
        if (body == nullptr)
            error = fmt::format("!drvobj: {} is not a driver object", address(*value));
        return static_cast<DRIVER_OBJECT*>(body);
    }
    std::string name = arg;
    const std::string prefix = "\\Driver\\";
    if (name.size() > prefix.size() && ob::upcase(utf16(name.substr(0, prefix.size()))) == u"\\DRIVER\\")
        name = name.substr(prefix.size());
    if (DRIVER_OBJECT* driver = io::find_driver(utf16(name)))
        return driver;
    std::u16string wanted = ob::upcase(utf16(name));
    for (DRIVER_OBJECT* driver : io::loaded_drivers()) {
        const ldr::Module* module = io::driver_body(driver)->priv.module;
        if (module == nullptr)
            continue;
        std::u16string file = ob::upcase(utf16(module->name));
        if (file == wanted || file == wanted + u".SYS")
            return driver;
    }
    error = fmt::format("!drvobj: no driver named \"{}\" is loaded (expected a service name, \\Driver\\name or address)",
                        arg);
    return nullptr;
}

void describe_driver(DRIVER_OBJECT* driver, uint64_t flags, std::string& out)
{
    io::DriverBody* body = io::driver_body(driver);
    const io::DriverPrivate& priv = body->priv;
    out += fmt::format("Driver object ({}) is for: {}\n", address(driver), io::driver_name(driver));
    out += fmt::format("  Service: {}  Registry path: {}\n", utf8(priv.service_name), utf8(priv.registry_path));
    if (priv.module != nullptr)
        out += fmt::format("  Module: {} at {}\n", priv.module->name, address(priv.module->base));
    else
        out += "  Module: (unloaded; the object stays while its last devices are referenced)\n";
    out += fmt::format("  Flags: {}\n", flags_text(driver->Flags, kDriverFlags));
    if (priv.unload_pending)
        out += "  Unload pending: DriverUnload runs when the last file object on its devices closes\n";

    out += "\nDevice Object list:\n";
    auto devices = live_set(io::device_type());
    int count = 0;
    for (DEVICE_OBJECT* device = driver->DeviceObject; device != nullptr && count < 4096; device = device->NextDevice) {
        if (devices.count(device) == 0) {
            out += fmt::format("{}  (not a live device object: the list is broken)\n", address(device));
            break;
        }
        out += fmt::format("{}  {}\n", address(device), device_label(device));
        ++count;
    }
    if (count == 0 && driver->DeviceObject == nullptr)
        out += "(none)\n";

    PDRIVER_ADD_DEVICE add_device = driver->DriverExtension != nullptr ? driver->DriverExtension->AddDevice : nullptr;
    out += "\n";
    out += fmt::format("DriverEntry:   {}\n", routine(reinterpret_cast<const void*>(driver->DriverInit)));
    out += fmt::format("DriverStartIo: {}\n", routine(reinterpret_cast<const void*>(driver->DriverStartIo)));
    out += fmt::format("DriverUnload:  {}\n", routine(reinterpret_cast<const void*>(driver->DriverUnload)));
    out += fmt::format("AddDevice:     {}\n", routine(reinterpret_cast<const void*>(add_device)));

    if ((flags & 0x2) != 0) {
        out += "\nDispatch routines:\n";
        for (UCHAR major = 0; major <= IRP_MJ_MAXIMUM_FUNCTION; ++major)
            out += fmt::format("[{:02x}] {:<32} {}\n", major, io::major_name(major),
                               routine(reinterpret_cast<const void*>(driver->MajorFunction[major])));
    }

    if ((flags & 0x4) != 0) {
        for (DEVICE_OBJECT* device = driver->DeviceObject; device != nullptr && devices.count(device) != 0;
             device = device->NextDevice) {
            out += "\n";
            describe_device(device, out);
        }
    }
}

}  // namespace

bool drvobj(const Args& args, std::string& out, std::string& error)
{
    if (args.empty() || args.size() > 2) {
        error = kUsage;
        return false;
    }
    uint64_t flags = 0x1;
    if (args.size() == 2) {
        // WinDbg reads the flags as hex; "2", "0x2" and "7" all work the same here.
        std::optional<uint64_t> value = parse_number(args[1]);
        if (!value || *value > 7) {
            error = kUsage;
            return false;
        }
        flags = *value;
    }
    DRIVER_OBJECT* driver = resolve_driver(args[0], error);
    if (driver == nullptr)
        return false;
    describe_driver(driver, flags, out);
    return true;
}

}  // namespace iosim::inspect::detail
