// pnp_remove.cpp - devices leaving: orderly removal with its veto, surprise removal,
// children a bus stops reporting, and the machine's shutdown.
//
// Rules kept (Windows' own):
//  - A device's children go before it: queries, surprise removals and removals are sent
//    children first, then the device.
//  - Orderly removal asks first: IRP_MN_QUERY_REMOVE_DEVICE to each device; one failure
//    vetoes the whole removal, and every device asked gets IRP_MN_CANCEL_REMOVE_DEVICE (the
//    bus driver handles it first, each driver above on the way back up).
//  - IRP_MN_REMOVE_DEVICE goes to the top of the stack; each driver passes it down and
//    detaches (IoDetachDevice) and deletes (IoDeleteDevice) its own device; drivers must
//    not fail it. The bus driver deletes the PDO only if its child is gone (unplugged,
//    reported missing, or its own bus going away): a child still present keeps its PDO.
//  - Surprise removal (the device vanished): IRP_MN_SURPRISE_REMOVAL to each started
//    device; drivers fail their queued and new I/O and disable their interfaces, but
//    delete nothing yet. IRP_MN_REMOVE_DEVICE follows once no file object is open on the
//    stack (on_last_file_closed), and after the device's children are removed.
//  - While a device is being removed the I/O manager refuses new opens of its stack
//    (DOE_REMOVE_PENDING: STATUS_NO_SUCH_DEVICE), and after REMOVE it marks the devices
//    DOE_REMOVE_PROCESSED; interfaces still enabled are disabled by the PnP manager; a WDM
//    driver whose last device went is unloaded.
// Reports: a driver that fails REMOVE_DEVICE, a filter or function driver that did not
// delete its device at REMOVE_DEVICE, a bus driver that kept the PDO of a vanished child.
// NT counterparts: IopRemoveDevice, IopQueryRemoveDevices, IopCancelRemoveDevices,
// PnpSurpriseRemoveLockedDeviceNode, IopDeleteLockedDeviceNode.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "device.h"
#include "driver.h"
#include "irp.h"
#include "pnp/pnp_irp.h"
#include "pnp/pnp_manager.h"
#include "rtl/status_names.h"

namespace iosim::io::pnp {

namespace {

std::vector<DeviceNode*> with_subtree(DeviceNode* node)
{
    std::vector<DeviceNode*> nodes = subtree_leaves_first(node);
    nodes.push_back(node);
    return nodes;
}

void mark_stack(const DeviceNode* node, ULONG flags)
{
    for (DEVICE_OBJECT* device : stack_of(node))
        device_private(device)->ExtensionFlags |= flags;
}

void mark_gone(const std::vector<DeviceNode*>& nodes)
{
    for (DeviceNode* n : nodes) {
        n->present = false;
        n->removal_pending = true;
        set_root_pdo_present(n->pdo, false);
    }
}

void surprise_remove(const std::vector<DeviceNode*>& nodes)
{
    for (DeviceNode* n : nodes) {
        if (n->state != NodeState::Started && n->state != NodeState::QueryRemoved)
            continue;  // never started: it gets REMOVE_DEVICE alone
        mark_stack(n, DOE_REMOVE_PENDING);
        IrpResult r = send_pnp(n->pdo, IRP_MN_SURPRISE_REMOVAL, nullptr, n->instance_path);
        n->state = NodeState::SurpriseRemoved;
        note(fmt::format("{} surprise-removed ({}){}", n->instance_path, status_text(r.status),
                         has_open_handles(n) ? "; IRP_MN_REMOVE_DEVICE waits until its open handles are closed" : ""));
    }
}

DeviceNode* find_target(std::string_view device)
{
    if (DeviceNode* node = node_by_instance(device); node != nullptr && node->pdo != nullptr)
        return node;
    DeviceNode* found = nullptr;  // the most recent instance with that hardware id
    for (auto& node : pnp_state().nodes)
        for (const auto& id : node->hardware_ids)
            if (same_id(id, device) && node->pdo != nullptr && (found == nullptr || !node->removal_pending))
                found = node.get();
    return found;
}

}  // namespace

void remove_nodes(const std::vector<DeviceNode*>& nodes)
{
    System* sys = System::current();
    for (DeviceNode* n : nodes) {
        std::vector<DEVICE_OBJECT*> stack = stack_of(n);
        for (DEVICE_OBJECT* device : stack)
            ob::reference(device);  // to look at them once their drivers have deleted them
        mark_stack(n, DOE_REMOVE_PENDING);
        IrpResult r = send_pnp(n->pdo, IRP_MN_REMOVE_DEVICE, nullptr, n->instance_path);
        if (r.completed && !NT_SUCCESS(r.status))
            sys->report({"REMOVE_DEVICE_FAILED",
                         fmt::format("IRP_MN_REMOVE_DEVICE for {} was completed with {}{}: drivers must not fail it "
                                     "(the device is gone either way).",
                                     n->instance_path, status_text(r.status),
                                     r.completed_at.empty() ? "" : " at " + r.completed_at),
                         "", {}});
        for (size_t i = 1; i < stack.size(); ++i)
            if ((device_private(stack[i])->ExtensionFlags & DOE_DELETE_PENDING) == 0)
                sys->report({"DEVICE_NOT_DELETED_AT_REMOVE",
                             fmt::format("{} did not delete {} when IRP_MN_REMOVE_DEVICE for {} reached it: a function "
                                         "or filter driver passes the IRP down, then detaches (IoDetachDevice) and "
                                         "deletes (IoDeleteDevice) its device.",
                                         driver_name(stack[i]->DriverObject), device_name(stack[i]), n->instance_path),
                             "", {}});
        for (DEVICE_OBJECT* device : stack) {
            device_private(device)->ExtensionFlags |= DOE_REMOVE_PROCESSED;
            ob::dereference(device);
        }
        disable_interfaces_of(n);
        n->state = NodeState::Removed;
        note(fmt::format("{} removed", n->instance_path));
        unload_unused_drivers(n->services);
    }
    for (DeviceNode* n : nodes) {
        // A vanished child's PDO is its bus driver's to delete at REMOVE_DEVICE; when the bus
        // itself is going too, the bus's own REMOVE deletes it, later.
        bool bus_stays = n->parent == root_node() || n->parent == nullptr || !n->parent->removal_pending;
        if (bus_stays && n->pdo != nullptr && (device_private(n->pdo)->ExtensionFlags & DOE_DELETE_PENDING) == 0 &&
            !n->present)
            sys->report({"PDO_NOT_DELETED_AT_REMOVE",
                         fmt::format("{} kept the PDO {} of {} after IRP_MN_REMOVE_DEVICE, though it no longer reports "
                                     "the child: a bus driver deletes the PDO of a child that is gone when the remove "
                                     "IRP reaches it.",
                                     driver_name(n->pdo->DriverObject), device_name(n->pdo), n->instance_path),
                         "", {}});
        delete_node(n);
    }
}

void remove_missing(DeviceNode* node)
{
    std::vector<DeviceNode*> nodes = with_subtree(node);
    note(fmt::format("{} is no longer reported by its bus", node->instance_path));
    mark_gone(nodes);
    surprise_remove(nodes);
    finish_pending_removals();
}

void finish_pending_removals()
{
    for (bool progress = true; progress;) {
        progress = false;
        for (DeviceNode* n : subtree_leaves_first(root_node())) {
            if (!n->removal_pending || !n->children.empty())
                continue;
            if (n->state == NodeState::SurpriseRemoved && has_open_handles(n))
                continue;
            remove_nodes({n});
            progress = true;
            break;  // the tree changed: walk it again
        }
    }
}

NTSTATUS unplug(std::string_view device, Removal how, std::string* message)
{
    std::string local;
    std::string& text = message != nullptr ? *message : local;
    NTSTATUS status = STATUS_SUCCESS;
    {
        BusyScope busy;
        DeviceNode* node = find_target(device);
        if (node == nullptr) {
            text = fmt::format("no device {} is plugged in (an instance path such as ROOT\\X\\0000, or a hardware id)",
                               device);
            return STATUS_NO_SUCH_DEVICE;
        }
        if (!node->root_enumerated) {
            text = fmt::format("{} is a child of {}: it leaves when its bus driver stops reporting it (after "
                               "IoInvalidateDeviceRelations); unplug the root device it hangs from instead",
                               node->instance_path, node->parent->instance_path);
            return STATUS_INVALID_PARAMETER;
        }
        if (node->removal_pending) {
            text = fmt::format("{} is already being removed: IRP_MN_REMOVE_DEVICE waits until its open handles are "
                               "closed",
                               node->instance_path);
            return STATUS_DELETE_PENDING;
        }
        std::vector<DeviceNode*> nodes = with_subtree(node);
        if (how == Removal::Orderly) {
            std::vector<std::pair<DeviceNode*, NodeState>> queried;
            for (DeviceNode* n : nodes) {
                IrpResult r = send_pnp(n->pdo, IRP_MN_QUERY_REMOVE_DEVICE, nullptr, n->instance_path);
                queried.emplace_back(n, n->state);
                if (r.completed && NT_SUCCESS(r.status)) {
                    n->state = NodeState::QueryRemoved;
                    continue;
                }
                // Vetoed: everyone asked is told the removal is off, in the reverse order.
                for (auto it = queried.rbegin(); it != queried.rend(); ++it) {
                    send_pnp(it->first->pdo, IRP_MN_CANCEL_REMOVE_DEVICE, nullptr, it->first->instance_path);
                    it->first->state = it->second;
                }
                status = r.completed ? r.status : STATUS_UNSUCCESSFUL;
                text = fmt::format("removal of {} vetoed: IRP_MN_QUERY_REMOVE_DEVICE for {} failed with {}{}; "
                                   "IRP_MN_CANCEL_REMOVE_DEVICE sent to {} device(s), which stay",
                                   node->instance_path, n->instance_path, status_text(status),
                                   r.completed_at.empty() ? "" : " (completed at " + r.completed_at + ")",
                                   queried.size());
                note(text);
                return status;
            }
            std::string path = node->instance_path;
            mark_gone(nodes);
            remove_nodes(nodes);
            text = fmt::format("{} removed", path);
        } else {
            std::string path = node->instance_path;  // `node` may be gone after the removals
            mark_gone(nodes);
            surprise_remove(nodes);
            finish_pending_removals();
            text = node_by_instance(path) == nullptr
                       ? fmt::format("{} surprise-removed and removed", path)
                       : fmt::format("{} surprise-removed; IRP_MN_REMOVE_DEVICE waits until its open handles are "
                                     "closed",
                                     path);
        }
    }
    drain_invalidations();
    return status;
}

void on_last_file_closed()
{
    System* sys = System::current();
    if (sys == nullptr || sys->dead())
        return;
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    bool pending = std::any_of(s.nodes.begin(), s.nodes.end(), [](const auto& n) { return n->removal_pending; });
    if (!pending || s.busy != 0)
        return;  // a running operation finishes the removals itself
    {
        BusyScope busy;
        finish_pending_removals();
    }
    drain_invalidations();
}

void on_shutdown()
{
    System* sys = System::current();
    if (sys == nullptr)
        return;
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    s.shutting_down = true;
    std::vector<DeviceNode*> nodes = subtree_leaves_first(root_node());
    if (sys->dead()) {
        // No driver code runs after a bug check: take the stacks apart quietly, so that the
        // drivers' devices can be released without reports about them.
        for (DeviceNode* n : nodes)
            for (DEVICE_OBJECT* device : stack_of(n)) {
                device_private(device)->AttachedTo = nullptr;
                if (device->AttachedDevice != nullptr)
                    device_private(device->AttachedDevice)->AttachedTo = nullptr;
                device->AttachedDevice = nullptr;
            }
        for (DeviceNode* n : nodes) {
            if (is_root_pdo(n->pdo) && (device_private(n->pdo)->ExtensionFlags & DOE_DELETE_PENDING) == 0)
                delete_device(n->pdo);
            delete_node(n);
        }
    } else if (!nodes.empty()) {
        BusyScope busy;
        power_off_for_shutdown();
        note("shutdown: every device node is removed (Windows powers off here; a simulated machine hands its "
             "drivers' devices back before they unload)");
        mark_gone(nodes);
        remove_nodes(nodes);
    }
    delete_interface_links();
    release_stranded_irps();
    destroy_root_driver();
    s.invalidated.clear();
    s.remove_locks.clear();
    s.owner = nullptr;  // a fresh state for the next machine (even one at the same address)
}

}  // namespace iosim::io::pnp
