// devstack.cpp - !devstack: the device stack a device belongs to.
//
//   !devstack <\Device\name | name | 0xaddress>
//
// As WinDbg's: one line per device, the top of the stack first (where a request to the
// stack's name arrives), `>` marking the device asked about:
//
//     !DevObj             !DrvObj           !DevExt             ObjectName
//     0x00005581...       \Driver\logfilter 0x0000000000000000  (unnamed)
//   > 0x00005581...       \Driver\hello     0x00005581...       \Device\IosimHello
//
// The stack is followed upward through DEVICE_OBJECT.AttachedDevice and downward through
// the DEVOBJ_EXTENSION's AttachedTo, every pointer checked against the live devices. When
// the bottom device is a PDO the PnP manager enumerated, its device node follows (WinDbg's
// "!DevNode" lines); a legacy stack has none, and the text says so.
#include <fmt/format.h>

#include <algorithm>

#include "device.h"
#include "driver.h"
#include "inspect/commands.h"
#include "irp.h"

namespace iosim::inspect::detail {

bool devstack(const Args& args, std::string& out, std::string& error)
{
    if (args.size() != 1) {
        error = "!devstack: expected a device (\\Device\\name, name or address 0x...)";
        return false;
    }
    DEVICE_OBJECT* device = resolve_device(args[0], "!devstack", error);
    if (device == nullptr)
        return false;
    auto devices = live_set(io::device_type());
    constexpr int kMaxDepth = 64;  // a cycle would be a corrupted stack

    DEVICE_OBJECT* top = device;
    for (int i = 0; i < kMaxDepth && top->AttachedDevice != nullptr && devices.count(top->AttachedDevice) != 0; ++i)
        top = top->AttachedDevice;
    std::vector<DEVICE_OBJECT*> stack;
    bool broken = false;
    for (DEVICE_OBJECT* d = top; d != nullptr && static_cast<int>(stack.size()) < kMaxDepth;) {
        stack.push_back(d);
        DEVICE_OBJECT* lower = io::device_private(d)->AttachedTo;
        if (lower != nullptr && devices.count(lower) == 0) {
            broken = true;
            break;
        }
        d = lower;
    }

    size_t driver_width = 8;  // "!DrvObj"
    for (DEVICE_OBJECT* d : stack)
        driver_width = std::max(driver_width, io::driver_name(d->DriverObject).size());
    out += fmt::format("  {:<18}  {:<{}}  {:<18}  {}\n", "!DevObj", "!DrvObj", driver_width, "!DevExt", "ObjectName");
    for (DEVICE_OBJECT* d : stack)
        out += fmt::format("{} {}  {:<{}}  {}  {}\n", d == device ? ">" : " ", address(d), io::driver_name(d->DriverObject),
                           driver_width, address(d->DeviceExtension), device_label(d));
    if (broken)
        out += "(the stack continues at a pointer that is not a live device object)\n";
    std::string node = broken || stack.empty() ? std::string() : devnode_of_stack(stack.back());
    out += fmt::format("{} device(s) in the stack; requests to it start at the top.{}\n", stack.size(),
                       node.empty() ? " No device node: the PnP manager did not build this stack (a legacy device, "
                                      "created in DriverEntry)."
                                    : "");
    out += node;
    return true;
}

}  // namespace iosim::inspect::detail
