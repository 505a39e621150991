// devnode.cpp - !devnode: the PnP manager's device tree.
//
//   !devnode                      the whole tree (WinDbg's "!devnode 0 1")
//   !devnode 0 1                  the same
//   !devnode <instance path>      one node in detail: IDs, state, stack, power, interfaces
//   !devnode 0xaddress            the node of that DevNode or PDO address
//
// As WinDbg's, one "DevNode 0x... for PDO 0x..." line per node, indented by depth, then its
// instance path, service and state; iosim's states are the PnP manager's own steps
// (pnp/device_node.h), printed with WinDbg's "DeviceNode" prefix. A node that could not be
// started shows its problem in one plain sentence instead of a CM_PROB number.
// WinDbg counterpart: !devnode.
#include <fmt/format.h>

#include "device.h"
#include "driver.h"
#include "inspect/commands.h"
#include "irp.h"
#include "pnp/device_interface.h"
#include "pnp/device_node.h"

namespace iosim::inspect::detail {

namespace {

using io::pnp::DeviceNode;

const char* power_name(DEVICE_POWER_STATE s)
{
    static const char* const names[] = {"PowerDeviceUnspecified", "D0", "D1", "D2", "D3"};
    return s >= 0 && s < PowerDeviceMaximum ? names[s] : "?";
}

std::string service_of(const DeviceNode* node)
{
    if (node->pdo == nullptr)
        return "";
    DEVICE_OBJECT* top = io::attached_top(node->pdo);
    return top != node->pdo ? io::driver_name(top->DriverObject) : std::string();
}

void summary(const DeviceNode* node, int depth, std::string& out)
{
    std::string indent(static_cast<size_t>(depth) * 2, ' ');
    out += fmt::format("{}DevNode {} for PDO {}\n", indent, address(node), address(node->pdo));
    out += fmt::format("{}  InstancePath is \"{}\"\n", indent, node->instance_path);
    if (std::string service = service_of(node); !service.empty())
        out += fmt::format("{}  ServiceName is \"{}\"\n", indent, service);
    out += fmt::format("{}  State = DeviceNode{}\n", indent, io::pnp::state_name(node->state));
    if (!node->problem.empty())
        out += fmt::format("{}  Problem: {}\n", indent, node->problem);
    for (const DeviceNode* child : node->children)
        summary(child, depth + 1, out);
}

void details(const DeviceNode* node, std::string& out)
{
    out += fmt::format("DevNode {} for PDO {}\n", address(node), address(node->pdo));
    out += fmt::format("  InstancePath is \"{}\"\n", node->instance_path);
    if (node->parent != nullptr)
        out += fmt::format("  Parent is \"{}\"\n", node->parent->instance_path);
    std::string ids = node->hardware_ids.empty() ? "(none)" : fmt::format("{}", fmt::join(node->hardware_ids, " "));
    out += fmt::format("  HardwareIDs: {}\n", ids);
    if (!node->compatible_ids.empty())
        out += fmt::format("  CompatibleIDs: {}\n", fmt::join(node->compatible_ids, " "));
    if (!node->matched_id.empty())
        out += fmt::format("  Drivers chosen by \"{}\": {}\n", node->matched_id, fmt::join(node->services, ", "));
    out += fmt::format("  State = DeviceNode{}{}\n", io::pnp::state_name(node->state),
                       node->removal_pending ? " (gone: IRP_MN_REMOVE_DEVICE due)" : "");
    if (!node->problem.empty())
        out += fmt::format("  Problem: {}\n", node->problem);
    if (node->pdo != nullptr) {
        out += "  Device stack (top first):\n";
        std::vector<DEVICE_OBJECT*> stack = io::pnp::stack_of(node);
        auto& power = io::pnp::pnp_state().device_power;
        for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
            auto p = power.find(*it);
            out += fmt::format("    {}  {:<20}  {}{}\n", address(*it), io::driver_name((*it)->DriverObject),
                               device_label(*it), p != power.end() ? fmt::format("  ({})", power_name(p->second)) : "");
        }
    }
    for (const auto& i : io::pnp::list_interfaces(nullptr, node->instance_path, false))
        out += fmt::format("  Interface {} ({})\n", utf8(i.path), i.enabled ? "enabled" : "disabled");
    for (const DeviceNode* child : node->children)
        out += fmt::format("  Child \"{}\"\n", child->instance_path);
}

}  // namespace

bool devnode(const Args& args, std::string& out, std::string& error)
{
    auto& s = io::pnp::pnp_state();
    std::lock_guard guard(s.lock);
    if (args.empty() || (args.size() == 2 && args[0] == "0" && args[1] == "1")) {
        out += fmt::format("Dumping the root device node (= {})\n", address(io::pnp::root_node()));
        summary(io::pnp::root_node(), 0, out);
        return true;
    }
    if (args.size() != 1) {
        error = "!devnode: expected nothing (the tree), 0 1, an instance path or an address (0x...)";
        return false;
    }
    const DeviceNode* node = nullptr;
    if (auto addr = parse_address(args[0])) {
        for (auto& n : s.nodes)
            if (reinterpret_cast<uintptr_t>(n.get()) == *addr || reinterpret_cast<uintptr_t>(n->pdo) == *addr)
                node = n.get();
    } else {
        node = io::pnp::node_by_instance(args[0]);
    }
    if (node == nullptr) {
        error = fmt::format("!devnode: no device node {} (try !devnode for the tree)", args[0]);
        return false;
    }
    details(node, out);
    return true;
}

// The line !devstack prints after the stack: the node the stack belongs to, if any.
std::string devnode_of_stack(DEVICE_OBJECT* bottom)
{
    auto& s = io::pnp::pnp_state();
    std::lock_guard guard(s.lock);
    const DeviceNode* node = io::pnp::node_of_pdo(bottom);
    if (node == nullptr)
        return "";
    std::string service = service_of(node);
    return fmt::format("!DevNode {} :\n  DeviceInst is \"{}\"\n{}", address(node), node->instance_path,
                       service.empty() ? std::string() : fmt::format("  ServiceName is \"{}\"\n", service));
}

}  // namespace iosim::inspect::detail
