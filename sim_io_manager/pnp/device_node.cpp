// device_node.cpp - the device tree's bookkeeping: the per-machine state, finding nodes,
// walking the tree and a node's stack, and the text that describes them.
// NT counterparts: IopRootDeviceNode, PipAllocateDeviceNode, IopDestroyDeviceNode.
#include "pnp/device_node.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "device.h"
#include "driver.h"
#include "irp.h"
#include "ob/object.h"

namespace iosim::io::pnp {

namespace {

PnpState* g_state = nullptr;

void collect_leaves_first(DeviceNode* node, std::vector<DeviceNode*>& out)
{
    for (DeviceNode* child : node->children) {
        collect_leaves_first(child, out);
        out.push_back(child);
    }
}

void collect_parents_first(DeviceNode* node, std::vector<DeviceNode*>& out)
{
    for (DeviceNode* child : node->children) {
        out.push_back(child);
        collect_parents_first(child, out);
    }
}

void describe(const DeviceNode* node, int depth, std::vector<std::string>& out)
{
    std::string indent(static_cast<size_t>(depth) * 2, ' ');
    if (node->pdo == nullptr) {
        out.push_back(indent + node->instance_path + "  (the root bus)");
    } else {
        std::string stack = node->services.empty() ? std::string("no driver")
                                                   : fmt::format("{}", fmt::join(node->services, ", "));
        out.push_back(fmt::format("{}{}  {}  PDO {} [{}]  drivers: {}{}", indent, node->instance_path,
                                  state_name(node->state), device_name(node->pdo),
                                  driver_name(node->pdo->DriverObject), stack,
                                  node->problem.empty() ? "" : "  problem: " + node->problem));
    }
    for (const DeviceNode* child : node->children)
        describe(child, depth + 1, out);
}

}  // namespace

const char* state_name(NodeState state)
{
    switch (state) {
    case NodeState::Initialized: return "Initialized";
    case NodeState::DriversAdded: return "DriversAdded";
    case NodeState::Started: return "Started";
    case NodeState::QueryRemoved: return "QueryRemoved";
    case NodeState::SurpriseRemoved: return "SurpriseRemoved";
    case NodeState::Removed: return "Removed";
    case NodeState::Failed: return "Failed";
    }
    return "?";
}

PnpState& pnp_state()
{
    System* current = System::current();
    if (g_state == nullptr || g_state->owner != current) {
        // A new machine: the previous one's nodes and objects are gone with it.
        delete g_state;
        g_state = new PnpState;
        g_state->owner = current;
        auto root = std::make_unique<DeviceNode>();
        root->handle = g_state->next_handle++;
        root->instance_path = "HTREE\\ROOT\\0";
        root->device_id = "HTREE\\ROOT";
        root->instance_id = "0";
        root->state = NodeState::Started;
        g_state->nodes.push_back(std::move(root));
    }
    return *g_state;
}

DeviceNode* root_node() { return pnp_state().nodes.front().get(); }

DeviceNode* node_of_pdo(const DEVICE_OBJECT* pdo)
{
    if (pdo == nullptr)
        return nullptr;
    for (auto& node : pnp_state().nodes)
        if (node->pdo == pdo)
            return node.get();
    return nullptr;
}

DeviceNode* node_of_device(DEVICE_OBJECT* device)
{
    if (device == nullptr)
        return nullptr;
    // Down the stack to its bottom, which is the PDO of a PnP stack.
    DEVICE_OBJECT* bottom = device;
    for (int i = 0; i < 64 && device_private(bottom)->AttachedTo != nullptr; ++i)
        bottom = device_private(bottom)->AttachedTo;
    return node_of_pdo(bottom);
}

DeviceNode* node_by_instance(std::string_view instance_path)
{
    for (auto& node : pnp_state().nodes)
        if (same_id(node->instance_path, instance_path))
            return node.get();
    return nullptr;
}

DeviceNode* node_by_handle(uint32_t handle)
{
    for (auto& node : pnp_state().nodes)
        if (node->handle == handle)
            return node.get();
    return nullptr;
}

DeviceNode* add_node(DeviceNode* parent, DEVICE_OBJECT* pdo)
{
    PnpState& s = pnp_state();
    auto node = std::make_unique<DeviceNode>();
    node->handle = s.next_handle++;
    node->parent = parent;
    node->pdo = pdo;
    node->root_enumerated = parent == s.nodes.front().get();
    for (auto& d : node->s_to_d)
        d = PowerDeviceUnspecified;
    DeviceNode* raw = node.get();
    parent->children.push_back(raw);
    s.nodes.push_back(std::move(node));
    return raw;
}

void delete_node(DeviceNode* node)
{
    PnpState& s = pnp_state();
    if (node->parent != nullptr) {
        auto& siblings = node->parent->children;
        siblings.erase(std::remove(siblings.begin(), siblings.end(), node), siblings.end());
    }
    DEVICE_OBJECT* pdo = node->pdo;
    node->pdo = nullptr;
    auto it = std::find_if(s.nodes.begin(), s.nodes.end(), [&](const auto& n) { return n.get() == node; });
    if (it != s.nodes.end())
        s.nodes.erase(it);
    if (pdo != nullptr) {
        s.device_power.erase(pdo);
        ob::dereference(pdo);  // the PnP manager's reference: the PDO goes once its driver deleted it
    }
}

std::vector<DeviceNode*> subtree_leaves_first(DeviceNode* node)
{
    std::vector<DeviceNode*> out;
    collect_leaves_first(node, out);
    return out;
}

std::vector<DeviceNode*> subtree_parents_first(DeviceNode* node)
{
    std::vector<DeviceNode*> out;
    collect_parents_first(node, out);
    return out;
}

std::vector<DEVICE_OBJECT*> stack_of(const DeviceNode* node)
{
    std::vector<DEVICE_OBJECT*> stack;
    for (DEVICE_OBJECT* d = node->pdo; d != nullptr && stack.size() < 64; d = d->AttachedDevice)
        stack.push_back(d);
    return stack;
}

bool has_open_handles(const DeviceNode* node)
{
    for (DEVICE_OBJECT* device : stack_of(node))
        if (device->ReferenceCount > 0)
            return true;
    return false;
}

std::string upper(std::string_view text)
{
    std::string out(text);
    for (auto& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool same_id(std::string_view a, std::string_view b) { return upper(a) == upper(b); }

void note(std::string text)
{
    if (System* sys = System::current(); sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Driver, 0, "PnP: " + std::move(text));
}

BusyScope::BusyScope() : guard_(pnp_state().lock) { ++pnp_state().busy; }

BusyScope::~BusyScope() { --pnp_state().busy; }

std::string device_node_driven_by(DRIVER_OBJECT* driver)
{
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    for (auto& node : s.nodes)
        if (node->pdo != nullptr && node->state != NodeState::Removed)
            for (DEVICE_OBJECT* device : stack_of(node.get()))
                if (device->DriverObject == driver && (device_private(device)->ExtensionFlags & DOE_DELETE_PENDING) == 0)
                    return node->instance_path;
    return "";
}

std::u16string next_autogenerated_device_name()
{
    std::lock_guard guard(pnp_state().lock);
    std::string name = fmt::format("\\Device\\{:08x}", pnp_state().next_device_name++);
    return std::u16string(name.begin(), name.end());
}

std::vector<std::string> describe_tree()
{
    std::lock_guard guard(pnp_state().lock);
    std::vector<std::string> out;
    describe(root_node(), 0, out);
    return out;
}

}  // namespace iosim::io::pnp
