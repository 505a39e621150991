// device_node.h - the device tree: one node per device the PnP manager knows, and the
// PnP manager's per-machine state.
//
// The root node (HTREE\ROOT\0) stands for the root bus; its children are the
// root-enumerated devices, whose PDOs belong to \Driver\PnpManager. A bus driver's child
// PDOs become children of the bus's node when it reports them in BusRelations. A node
// holds one reference on its PDO (the one the bus driver handed over in the relations,
// or the root bus's own) and drops it when the node is deleted, after REMOVE_DEVICE.
// The stack on a PDO is PDO, lower filters, function driver, upper filters, bottom up.
//
// State is per machine: it is discarded when a new System is current, so a test's
// machine never sees the previous one's devices. Access is serialised by a recursive
// lock (driver code called by the PnP manager may call back into it: IoRegisterDeviceInterface,
// IoInvalidateDeviceRelations).
// NT counterparts: DEVICE_NODE, IopRootDeviceNode, PNP_DEVNODE_STATE.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pnp/pnp.h"
#include "system.h"

namespace iosim::io::pnp {

enum class NodeState {
    Initialized,      // PDO known, IDs and capabilities asked; no drivers yet
    DriversAdded,     // AddDevice called for every driver of the stack
    Started,          // IRP_MN_START_DEVICE succeeded
    QueryRemoved,     // IRP_MN_QUERY_REMOVE_DEVICE succeeded; REMOVE or CANCEL follows
    SurpriseRemoved,  // IRP_MN_SURPRISE_REMOVAL sent; REMOVE waits for the handles to close
    Removed,          // IRP_MN_REMOVE_DEVICE sent; the node goes away
    Failed,           // a driver could not be loaded, AddDevice or START failed (see problem)
};
const char* state_name(NodeState state);

struct DeviceNode {
    uint32_t handle = 0;           // the DEVINST number user mode sees (SP_DEVINFO_DATA.DevInst)
    std::string instance_path;     // "ROOT\IOSIM_TOYBUS\0000"
    std::string device_id;         // "ROOT\IOSIM_TOYBUS"
    std::string instance_id;       // "0000"
    std::vector<std::string> hardware_ids;
    std::vector<std::string> compatible_ids;
    std::string matched_id;        // the id whose declaration chose the drivers
    DeviceNode* parent = nullptr;
    std::vector<DeviceNode*> children;
    DEVICE_OBJECT* pdo = nullptr;  // referenced by the node
    bool root_enumerated = false;
    bool present = true;           // its bus still reports it
    NodeState state = NodeState::Initialized;
    std::string problem;           // why it is not started (empty when fine)
    std::vector<std::string> services;  // the stack's drivers, bottom up (lower, function, upper)
    bool unique_id = false;        // DEVICE_CAPABILITIES.UniqueID
    bool surprise_removal_ok = false;
    DEVICE_POWER_STATE s_to_d[PowerSystemMaximum] = {};  // DEVICE_CAPABILITIES.DeviceState
    SYSTEM_POWER_STATE system_power = PowerSystemWorking;
    bool removal_pending = false;  // gone (unplugged, surprise-removed or reported missing): REMOVE_DEVICE due
};

// A registered device interface (device_interface.cpp). Registrations outlive the device
// node, as the registry keys do on Windows: plugging the device again gives the same name.
struct DeviceInterface {
    GUID guid{};
    std::string instance_path;  // of the device node that registered it
    std::u16string reference;   // reference string, without its leading backslash ("" none)
    std::u16string link;        // "\??\ROOT#IOSIM_TOYBUS#0000#{guid}": the symbolic link object
    std::u16string name;        // link, plus "\" + reference when there is one: the registered name
    bool enabled = false;
};

// One outstanding IoAcquireRemoveLock, as the checked build tracks it (remove_lock.cpp).
struct RemoveLockHold {
    const void* tag = nullptr;
    std::string file;
    ULONG line = 0;
};
struct RemoveLockTrack {
    std::vector<RemoveLockHold> holds;
    bool checked = false;  // the lock has the DBG block (drivers built with DBG=1)
    bool waited = false;   // IoReleaseRemoveLockAndWait was called
};

struct PnpState {
    System* owner = nullptr;
    std::recursive_mutex lock;
    std::vector<std::pair<std::string, DeviceConfig>> declared;  // hardware id as given
    std::vector<std::unique_ptr<DeviceNode>> nodes;              // nodes[0] is the root
    DRIVER_OBJECT* root_driver = nullptr;                        // \Driver\PnpManager
    uint32_t next_handle = 1;
    uint32_t next_device_name = 1;
    int busy = 0;                                  // depth of PnP manager operations running
    std::vector<DEVICE_OBJECT*> invalidated;       // IoInvalidateDeviceRelations waiting for `busy` to end
    std::map<const DEVICE_OBJECT*, DEVICE_POWER_STATE> device_power;  // PoSetPowerState
    SYSTEM_POWER_STATE system_power = PowerSystemWorking;
    POWER_ACTION last_action = PowerActionNone;
    bool shutting_down = false;
    std::vector<DeviceInterface> interfaces;
    std::map<const void*, RemoveLockTrack> remove_locks;  // by IO_REMOVE_LOCK address
};

// The state of the current machine (created, with its root node, on first use).
PnpState& pnp_state();

DeviceNode* root_node();
DeviceNode* node_of_pdo(const DEVICE_OBJECT* pdo);
// The node whose stack `device` belongs to (any layer), or nullptr.
DeviceNode* node_of_device(DEVICE_OBJECT* device);
DeviceNode* node_by_instance(std::string_view instance_path);
DeviceNode* node_by_handle(uint32_t handle);
DeviceNode* add_node(DeviceNode* parent, DEVICE_OBJECT* pdo);
// Unlinks the node (which must have no children), drops its PDO reference and frees it.
void delete_node(DeviceNode* node);

// The nodes below `node` (not itself), children before their parents (the order of
// removal and of going to sleep); and parents before children.
std::vector<DeviceNode*> subtree_leaves_first(DeviceNode* node);
std::vector<DeviceNode*> subtree_parents_first(DeviceNode* node);

// The stack on the node's PDO, bottom (the PDO) first.
std::vector<DEVICE_OBJECT*> stack_of(const DeviceNode* node);
// True while a file object is open on any device of the node's stack.
bool has_open_handles(const DeviceNode* node);

std::string upper(std::string_view text);
bool same_id(std::string_view a, std::string_view b);  // case-insensitive

// A trace line labelled "driver" ("PnP: ..."), when tracing.
void note(std::string text);

// Marks the PnP manager busy for a scope (and holds its lock). IoInvalidateDeviceRelations
// called meanwhile is queued; the public operations process the queue (drain_invalidations)
// once the outermost scope has ended, as the PnP worker would after its current action.
class BusyScope {
public:
    BusyScope();
    ~BusyScope();
    BusyScope(const BusyScope&) = delete;
    BusyScope& operator=(const BusyScope&) = delete;

private:
    std::lock_guard<std::recursive_mutex> guard_;
};

// Processes IoInvalidateDeviceRelations calls queued while the PnP manager was busy
// (pnp_manager.cpp); does nothing while it still is.
void drain_invalidations();

}  // namespace iosim::io::pnp
