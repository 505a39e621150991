// pnp_manager.h - what the PnP manager's files share (internal to sim_io_manager/pnp).
//
// root_bus.cpp         the root bus: \Driver\PnpManager and the PDOs of root-enumerated devices
// pnp_manager.cpp      declaring, plugging, enumerating a new node (IDs, capabilities, drivers,
//                      AddDevice, START), BusRelations and IoInvalidateDeviceRelations
// pnp_remove.cpp       QUERY_REMOVE/CANCEL, REMOVE, SURPRISE_REMOVAL, unplug, shutdown
// device_interface.cpp IoRegisterDeviceInterface, IoSetDeviceInterfaceState, the interface list
// power.cpp            Po* routines and the system power transitions
// remove_lock.cpp      IoAcquireRemoveLock and friends
#pragma once

#include <string>
#include <vector>

#include "pnp/device_node.h"

namespace iosim::io::pnp {

// ---- root_bus.cpp
// \Driver\PnpManager, created on first use.
DRIVER_OBJECT* root_driver();
// A PDO for a root-enumerated device that answers IRP_MN_QUERY_ID with these IDs.
DEVICE_OBJECT* create_root_pdo(const std::string& device_id, const std::string& instance_id,
                               const std::string& hardware_id);
// The root bus stops reporting the device (it was unplugged): its PDO is deleted at REMOVE.
void set_root_pdo_present(DEVICE_OBJECT* pdo, bool present);
bool is_root_pdo(const DEVICE_OBJECT* device);
// Removes \Driver\PnpManager from the namespace (shutdown; its PDOs are gone).
void destroy_root_driver();

// ---- pnp_manager.cpp
// Takes a node whose PDO is known through IDs, capabilities, drivers, AddDevice and START,
// then enumerates its children.
void process_new_node(DeviceNode* node);
// IRP_MN_QUERY_DEVICE_RELATIONS (BusRelations) for a started node: new children are
// processed, children no longer reported are removed.
void enumerate(DeviceNode* node);
// IRP_MN_QUERY_CAPABILITIES to the node's stack; updates the node.
void query_capabilities(DeviceNode* node);
// Unloads the PnP drivers among `services` that have no device left (Windows unloads a
// WDM driver when its last device is removed).
void unload_unused_drivers(const std::vector<std::string>& services);

// ---- pnp_remove.cpp
// Sends IRP_MN_REMOVE_DEVICE to each node (children first), checks what the drivers left,
// and deletes the nodes. The nodes must be gone from their bus (removal_pending).
void remove_nodes(const std::vector<DeviceNode*>& nodes);
// A node its bus no longer reports: surprise removal if it was started, REMOVE when its
// handles are closed (with its children, first).
void remove_missing(DeviceNode* node);
// REMOVE_DEVICE for the surprise-removed nodes whose handles have all closed.
void finish_pending_removals();

// ---- device_interface.cpp
// The PnP manager disables what a removed device's drivers left enabled.
void disable_interfaces_of(const DeviceNode* node);
// Deletes every interface link still present (shutdown).
void delete_interface_links();

// ---- power.cpp
// IRP_MN_SET_POWER for PowerSystemShutdown to every started node, children first.
void power_off_for_shutdown();

}  // namespace iosim::io::pnp
