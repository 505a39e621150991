// pnp_manager.cpp - declaring devices, plugging them, and bringing a new device node up.
//
// A new node (a root device just plugged, or a child its bus driver reported) goes
// through the steps Windows takes, each traced:
//   1. IRP_MN_QUERY_ID (DeviceID, InstanceID, HardwareIDs, CompatibleIDs) and
//      IRP_MN_QUERY_CAPABILITIES, answered by the bus driver (the PDO is the whole stack yet);
//   2. the first hardware id, then compatible id, with a declaration picks the drivers;
//      each is loaded if it is not (DriverEntry), bottom up: lower filters, the function
//      driver, upper filters;
//   3. each driver's AddDevice(DriverObject, PDO) in that order: each attaches its device
//      on top of the stack so far;
//   4. IRP_MN_START_DEVICE to the top of the stack: every driver passes it down first and
//      finishes its own start as it completes back up; a failure leaves the node with a
//      problem and the stack torn down (IRP_MN_REMOVE_DEVICE), as Windows does;
//   5. IRP_MN_QUERY_CAPABILITIES again (now the whole stack), then
//      IRP_MN_QUERY_DEVICE_RELATIONS (BusRelations): a bus driver lists its child PDOs,
//      each referenced (ObReferenceObject) for the PnP manager, which keeps that
//      reference for a new child and drops it for a known one; a child no longer listed
//      is removed (pnp_remove.cpp).
// A driver's IoInvalidateDeviceRelations asks for step 5 again. Windows queues it to the
// PnP worker thread; iosim's PnP manager has no worker thread yet and runs it at once, in
// the caller's thread (the driver's code is still on the stack), or, when the PnP manager
// is in the middle of something, right after that (drain_invalidations).
// NT counterparts: PipProcessNewDeviceNode, PipCallDriverAddDevice, IopStartDevice,
// PipEnumerateDevice, IoInvalidateDeviceRelations.
#include <fmt/format.h>

#include <algorithm>

#include "crt/format.h"
#include "device.h"
#include "driver.h"
#include "io_api.h"
#include "io_manager.h"
#include "irp.h"
#include "ke/bugcheck.h"
#include "ldr/symbolize.h"
#include "ob/directory.h"
#include "pnp/pnp_irp.h"
#include "pnp/pnp_manager.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "win32/scm.h"

namespace iosim::io::pnp {

namespace {

std::u16string widen(std::string_view s) { return crt::to_utf16(std::string(s)); }

// The module a service's driver lives in: its SCM record's binary path (CreateService),
// or <service>.sys in the module path, as an INF's ServiceBinary would name it.
std::string module_for_service(const std::string& service)
{
    auto& db = win32::services().services;
    auto it = db.find(ob::upcase(widen(service)));
    if (it != db.end())
        return resolve_driver_image(it->second.binary_path);
    return find_module(service + ".sys");
}

DRIVER_OBJECT* ensure_driver(const std::string& service, std::string& why)
{
    if (DRIVER_OBJECT* driver = find_driver(widen(service)))
        return driver;
    std::string image = module_for_service(service);
    if (image.empty()) {
        why = fmt::format("no module for service {} (no SCM record for it, and no {}.sys in the module path)", service,
                          service);
        return nullptr;
    }
    std::string message;
    NTSTATUS status = load_driver(widen(service), image, &message);
    if (!NT_SUCCESS(status)) {
        why = fmt::format("loading service {} failed with {}{}", service, status_text(status),
                          message.empty() ? "" : ": " + message);
        return nullptr;
    }
    return find_driver(widen(service));
}

// The device stack could not be built or started: REMOVE_DEVICE tears down what exists.
void tear_down_stack(DeviceNode* node)
{
    if (attached_top(node->pdo) == node->pdo)
        return;  // only the PDO: nothing for a driver to undo
    std::vector<DEVICE_OBJECT*> stack = stack_of(node);
    for (DEVICE_OBJECT* device : stack) {
        ob::reference(device);  // each driver deletes its device while the one above is still attached
        device_private(device)->ExtensionFlags |= DOE_REMOVE_PENDING;
    }
    send_pnp(node->pdo, IRP_MN_REMOVE_DEVICE, nullptr, node->instance_path);
    // The PDO stays (the device is still plugged in), ready for drivers again.
    device_private(node->pdo)->ExtensionFlags &= ~DOE_REMOVE_PENDING;
    for (DEVICE_OBJECT* device : stack)
        ob::dereference(device);
    unload_unused_drivers(node->services);
}

void fail(DeviceNode* node, std::string problem)
{
    node->problem = std::move(problem);
    node->state = NodeState::Failed;
    note(fmt::format("{}: {}", node->instance_path.empty() ? "(new device)" : node->instance_path, node->problem));
}

// Step 3: AddDevice for one driver; false when the node failed.
bool add_device(DeviceNode* node, DRIVER_OBJECT* driver, const std::string& service, bool function)
{
    System* sys = System::current();
    PDRIVER_ADD_DEVICE add = driver->DriverExtension->AddDevice;
    if (add == nullptr) {
        fail(node, fmt::format("{} has no AddDevice routine (DriverObject->DriverExtension->AddDevice): it is not "
                               "a PnP driver, so it cannot drive a device node",
                               driver_name(driver)));
        return false;
    }
    DEVICE_OBJECT* before = attached_top(node->pdo);
    note(fmt::format("{}: AddDevice of {} ({}) with PDO {}", node->instance_path, driver_name(driver),
                     ldr::describe_function(reinterpret_cast<const void*>(add)), device_name(node->pdo)));
    NTSTATUS status;
    {
        ThreadSwitch as_system(sys->system_thread());
        DriverCallScope scope("AddDevice", reinterpret_cast<const void*>(add));
        status = add(driver, node->pdo);
    }
    DEVICE_OBJECT* after = attached_top(node->pdo);
    note(fmt::format("{}: AddDevice of {} returned {}{}", node->instance_path, driver_name(driver), status_text(status),
                     after != before ? fmt::format("; {} is now the top of the stack", device_name(after)) : ""));
    if (!NT_SUCCESS(status)) {
        fail(node, fmt::format("AddDevice of {} failed with {}", driver_name(driver), status_text(status)));
        return false;
    }
    if (after == before && function)
        sys->report({"ADD_DEVICE_DID_NOT_ATTACH",
                     fmt::format("AddDevice of {} for {} returned {} without attaching a device to the stack: a function "
                                 "driver creates its FDO and attaches it with IoAttachDeviceToDeviceStack(Fdo, Pdo).",
                                 driver_name(driver), node->instance_path, status_text(status)),
                     "", {}});
    if (after != before && (after->Flags & DO_DEVICE_INITIALIZING) != 0)
        sys->report({"DEVICE_STILL_INITIALIZING",
                     fmt::format("AddDevice of {} returned with DO_DEVICE_INITIALIZING still set on {}: clear it "
                                 "(DeviceObject->Flags &= ~DO_DEVICE_INITIALIZING) at the end of AddDevice, or no "
                                 "filter can attach above it and it cannot be opened.",
                                 driver_name(driver), device_name(after)),
                     ldr::describe_call_site(device_private(after)->creator), {}});
    return true;
}

std::string root_device_id(std::string_view hardware_id)
{
    std::string rest(hardware_id);
    if (rest.size() > 5 && same_id(rest.substr(0, 5), "ROOT\\"))
        rest = rest.substr(5);
    for (char& c : rest)
        if (c == '\\')
            c = '_';
    return "ROOT\\" + upper(rest);
}

std::string free_root_instance(const std::string& device_id)
{
    for (int n = 0;; ++n) {
        std::string id = fmt::format("{:04}", n);
        if (node_by_instance(device_id + "\\" + id) == nullptr)
            return id;
    }
}

std::string id_list(const std::vector<std::string>& ids)
{
    return ids.empty() ? std::string("none") : fmt::format("{}", fmt::join(ids, " "));
}

[[noreturn]] void fatal_pdo(ULONG_PTR kind, DEVICE_OBJECT* device, std::string reason)
{
    bugcheck(PNP_DETECTED_FATAL_ERROR, kind, reinterpret_cast<ULONG_PTR>(device), 0, 0, nullptr, nullptr,
             std::move(reason));
}

}  // namespace

// ---- declarations ----------------------------------------------------------------------------

void declare_device(std::string_view hardware_id, DeviceConfig config)
{
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    for (auto& [id, existing] : s.declared)
        if (same_id(id, hardware_id)) {
            existing = std::move(config);
            return;
        }
    s.declared.emplace_back(std::string(hardware_id), std::move(config));
}

const DeviceConfig* find_declaration(std::string_view hardware_id)
{
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    for (auto& [id, config] : s.declared)
        if (same_id(id, hardware_id))
            return &config;
    return nullptr;
}

std::vector<std::pair<std::string, DeviceConfig>> declarations()
{
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    return s.declared;
}

// ---- a new node ------------------------------------------------------------------------------

void query_capabilities(DeviceNode* node)
{
    DEVICE_CAPABILITIES caps{};
    caps.Size = sizeof(DEVICE_CAPABILITIES);
    caps.Version = 1;
    caps.Address = 0xFFFFFFFF;  // "unknown", until the bus driver says
    caps.UINumber = 0xFFFFFFFF;
    IrpResult r = send_pnp(
        node->pdo, IRP_MN_QUERY_CAPABILITIES,
        [&](IO_STACK_LOCATION& sp) { sp.Parameters.DeviceCapabilities.Capabilities = &caps; },
        node->instance_path.empty() ? device_name(node->pdo) : node->instance_path);
    if (!r.completed || !NT_SUCCESS(r.status))
        return;
    node->unique_id = caps.UniqueID != 0;
    node->surprise_removal_ok = caps.SurpriseRemovalOK != 0;
    for (int s = 0; s < PowerSystemMaximum; ++s)
        node->s_to_d[s] = caps.DeviceState[s];
}

void process_new_node(DeviceNode* node)
{
    std::string about = device_name(node->pdo);
    // 1. Who is it?
    auto device_id = query_id(node->pdo, BusQueryDeviceID, about);
    if (!device_id || device_id->empty()) {
        fail(node, fmt::format("the bus driver {} did not answer IRP_MN_QUERY_ID (BusQueryDeviceID) for {}",
                               driver_name(node->pdo->DriverObject), about));
        return;
    }
    auto instance_id = query_id(node->pdo, BusQueryInstanceID, about);
    node->device_id = device_id->front();
    node->instance_id = instance_id && !instance_id->empty() ? instance_id->front() : "0";
    node->instance_path = node->device_id + "\\" + node->instance_id;
    for (auto& other : pnp_state().nodes)
        if (other.get() != node && same_id(other->instance_path, node->instance_path))
            fatal_pdo(0x1, node->pdo,
                      fmt::format("{} reported a child whose instance path {} is the same as another device's: a bus "
                                  "driver must give each child a distinct device ID or instance ID "
                                  "(IRP_MN_QUERY_ID).",
                                  driver_name(node->pdo->DriverObject), node->instance_path));
    if (auto ids = query_id(node->pdo, BusQueryHardwareIDs, node->instance_path))
        node->hardware_ids = *ids;
    if (auto ids = query_id(node->pdo, BusQueryCompatibleIDs, node->instance_path))
        node->compatible_ids = *ids;
    query_capabilities(node);
    note(fmt::format("new device {} (PDO {} of {}), hardware ids: {}", node->instance_path, device_name(node->pdo),
                     driver_name(node->pdo->DriverObject),
                     id_list(node->hardware_ids)));

    // 2. Which drivers?
    const DeviceConfig* config = nullptr;
    std::vector<std::string> candidates = node->hardware_ids;
    candidates.insert(candidates.end(), node->compatible_ids.begin(), node->compatible_ids.end());
    for (const auto& id : candidates)
        if ((config = find_declaration(id)) != nullptr) {
            node->matched_id = id;
            break;
        }
    if (config == nullptr) {
        node->problem = fmt::format("no driver is declared for {} (hardware ids: {}); declare one and plug it again",
                                    node->instance_path, id_list(candidates));
        note(fmt::format("{}: {}", node->instance_path, node->problem));
        return;
    }
    std::vector<std::pair<std::string, bool>> stack;  // service, is the function driver
    for (const auto& s : config->lower)
        stack.emplace_back(s, false);
    if (!config->function.empty())
        stack.emplace_back(config->function, true);
    for (const auto& s : config->upper)
        stack.emplace_back(s, false);
    std::vector<DRIVER_OBJECT*> drivers;
    for (const auto& [service, function] : stack) {
        node->services.push_back(service);
        std::string why;
        DRIVER_OBJECT* driver = ensure_driver(service, why);
        if (driver == nullptr) {
            fail(node, why);
            return;
        }
        drivers.push_back(driver);
    }

    // 3. AddDevice, bottom up.
    for (size_t i = 0; i < drivers.size(); ++i)
        if (!add_device(node, drivers[i], stack[i].first, stack[i].second)) {
            tear_down_stack(node);
            return;
        }
    node->state = NodeState::DriversAdded;

    // 4. Start: the stack's resources (none: iosim simulates no hardware resources).
    IrpResult r = send_pnp(
        node->pdo, IRP_MN_START_DEVICE,
        [](IO_STACK_LOCATION& sp) {
            sp.Parameters.StartDevice.AllocatedResources = nullptr;
            sp.Parameters.StartDevice.AllocatedResourcesTranslated = nullptr;
        },
        node->instance_path);
    if (!r.completed || !NT_SUCCESS(r.status)) {
        fail(node, fmt::format("IRP_MN_START_DEVICE failed with {}{}", status_text(r.status),
                               r.completed_at.empty() ? "" : " (completed at " + r.completed_at + ")"));
        tear_down_stack(node);
        return;
    }
    node->state = NodeState::Started;
    note(fmt::format("{} started", node->instance_path));

    // 5. Its capabilities as the whole stack reports them, then its children.
    query_capabilities(node);
    enumerate(node);
}

void enumerate(DeviceNode* node)
{
    System* sys = System::current();
    PnpState& s = pnp_state();
    if (node->pdo == nullptr || node->state != NodeState::Started)
        return;
    // Whatever was invalidated for this node is answered by this query.
    s.invalidated.erase(std::remove(s.invalidated.begin(), s.invalidated.end(), node->pdo), s.invalidated.end());
    IrpResult r = send_pnp(
        node->pdo, IRP_MN_QUERY_DEVICE_RELATIONS,
        [](IO_STACK_LOCATION& sp) { sp.Parameters.QueryDeviceRelations.Type = BusRelations; }, node->instance_path);
    if (!r.completed || !NT_SUCCESS(r.status))
        return;  // not a bus, or it failed: the children stay as they were
    std::vector<DEVICE_OBJECT*> reported;
    if (auto* relations = reinterpret_cast<DEVICE_RELATIONS*>(r.information)) {
        for (ULONG i = 0; i < relations->Count && i < 4096; ++i)
            reported.push_back(relations->Objects[i]);
        free_driver_buffer(relations);
    }
    std::vector<DeviceNode*> fresh;
    std::vector<DeviceNode*> still;
    for (size_t i = 0; i < reported.size(); ++i) {
        DEVICE_OBJECT* pdo = reported[i];
        if (!is_device(pdo))
            fatal_pdo(0x2, pdo,
                      fmt::format("{} listed something that is not a device object in its BusRelations.",
                                  driver_name(attached_top(node->pdo)->DriverObject)));
        for (size_t j = 0; j < i; ++j)
            if (reported[j] == pdo)
                fatal_pdo(0x1, pdo,
                          fmt::format("{} listed the PDO {} twice in its BusRelations: each child appears once.",
                                      driver_name(pdo->DriverObject), device_name(pdo)));
        if (device_private(pdo)->AttachedTo != nullptr)
            fatal_pdo(0x2, pdo,
                      fmt::format("{} listed {} in its BusRelations, but that device is attached on top of another "
                                  "one: a bus driver reports the PDOs it created for its children, never an FDO.",
                                  driver_name(attached_top(node->pdo)->DriverObject), device_name(pdo)));
        DeviceNode* known = node_of_pdo(pdo);
        if (known != nullptr && known->parent != node)
            fatal_pdo(0x1, pdo,
                      fmt::format("{} listed {}, which is already the PDO of {} (another bus's child).",
                                  driver_name(pdo->DriverObject), device_name(pdo), known->instance_path));
        // The bus driver references each PDO it lists: its own reference (the name's, or the
        // creation reference of an unnamed PDO), the PnP manager's for a known child, and the one
        // it hands over now.
        bool referenced = ob::pointer_count(pdo) >= (known != nullptr ? 3 : 2);
        if (!referenced)
            sys->report({"RELATIONS_NOT_REFERENCED",
                         fmt::format("{} listed {} in its BusRelations without referencing it (ObReferenceObject): "
                                     "the PnP manager takes over one reference per listed PDO and drops it, which "
                                     "would free the PDO under its bus driver. iosim made up for it.",
                                     driver_name(pdo->DriverObject), device_name(pdo)),
                         "", {}});
        if (known != nullptr) {
            known->present = true;
            still.push_back(known);
            if (referenced)
                ob::dereference(pdo);  // the PnP manager holds one already
            continue;
        }
        if (!referenced)
            ob::reference(pdo);
        if ((pdo->Flags & DO_DEVICE_HAS_NAME) == 0)
            sys->report({"PDO_WITHOUT_NAME",
                         fmt::format("{} reported the unnamed device {} as a child: a bus driver creates its child "
                                     "PDOs with FILE_AUTOGENERATED_DEVICE_NAME, because a PDO must have a name (device "
                                     "interfaces link to it).",
                                     driver_name(pdo->DriverObject), device_name(pdo)),
                         ldr::describe_call_site(device_private(pdo)->creator), {}});
        DeviceNode* child = add_node(node, pdo);  // keeps the reference the bus driver gave
        pdo->Flags |= DO_BUS_ENUMERATED_DEVICE;
        if ((pdo->Flags & DO_DEVICE_INITIALIZING) != 0) {
            sys->report({"PDO_STILL_INITIALIZING",
                         fmt::format("{} reported {} with DO_DEVICE_INITIALIZING still set: a bus driver clears it "
                                     "when it has finished creating the child PDO. iosim cleared it.",
                                     driver_name(pdo->DriverObject), device_name(pdo)),
                         ldr::describe_call_site(device_private(pdo)->creator), {}});
            pdo->Flags &= ~DO_DEVICE_INITIALIZING;
        }
        fresh.push_back(child);
    }
    note(fmt::format("{} reports {} child device(s): {} new", node->instance_path, reported.size(), fresh.size()));
    std::vector<DeviceNode*> gone;
    for (DeviceNode* child : node->children)
        if (std::find(still.begin(), still.end(), child) == still.end() &&
            std::find(fresh.begin(), fresh.end(), child) == fresh.end() && !child->removal_pending)
            gone.push_back(child);
    for (DeviceNode* child : gone)
        remove_missing(child);
    for (DeviceNode* child : fresh)
        process_new_node(child);
}

void unload_unused_drivers(const std::vector<std::string>& services)
{
    std::vector<std::string> done;
    for (auto it = services.rbegin(); it != services.rend(); ++it) {
        if (std::find(done.begin(), done.end(), *it) != done.end())
            continue;
        done.push_back(*it);
        DRIVER_OBJECT* driver = find_driver(widen(*it));
        if (driver == nullptr || driver->DeviceObject != nullptr || driver->DriverExtension->AddDevice == nullptr ||
            driver->DriverUnload == nullptr)
            continue;
        note(fmt::format("{} has no device left: unloading it", driver_name(driver)));
        std::string message;
        unload_driver(widen(*it), &message);
    }
}

void drain_invalidations()
{
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    if (s.busy != 0 || System::current() == nullptr || System::current()->dead())
        return;
    for (int round = 0; round < 16; ++round) {
        if (s.invalidated.empty()) {
            BusyScope busy;
            finish_pending_removals();
            if (s.invalidated.empty())
                return;
        }
        std::vector<DEVICE_OBJECT*> pdos;
        pdos.swap(s.invalidated);
        for (DEVICE_OBJECT* pdo : pdos) {
            BusyScope busy;
            if (DeviceNode* node = node_of_pdo(pdo))
                enumerate(node);
        }
    }
    System::current()->report({"RELATIONS_INVALIDATED_FOREVER",
                               "A bus driver keeps calling IoInvalidateDeviceRelations while its relations are being "
                               "queried: the PnP manager gave up after 16 rounds. Call it only when a child arrives "
                               "or leaves.",
                               "", {}});
    s.invalidated.clear();
}

// ---- plugging ----------------------------------------------------------------------------------

NTSTATUS plug(std::string_view hardware_id, std::string* instance_path, std::string* message)
{
    std::string local;
    std::string& text = message != nullptr ? *message : local;
    NTSTATUS status;
    {
        BusyScope busy;
        if (find_declaration(hardware_id) == nullptr) {
            text = fmt::format("no device is declared with hardware id {} (declare its drivers first)", hardware_id);
            return STATUS_NOT_FOUND;
        }
        std::string device_id = root_device_id(hardware_id);
        std::string instance_id = free_root_instance(device_id);
        note(fmt::format("{} plugged into the root bus as {}\\{}", hardware_id, device_id, instance_id));
        DEVICE_OBJECT* pdo = create_root_pdo(device_id, instance_id, std::string(hardware_id));
        if (pdo == nullptr) {
            text = "the root bus could not create a PDO";
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        ob::reference(pdo);  // the node's reference (the namespace holds the name's)
        DeviceNode* node = add_node(root_node(), pdo);
        process_new_node(node);
        if (instance_path != nullptr)
            *instance_path = node->instance_path;
        if (node->state == NodeState::Started) {
            text = fmt::format("{} started", node->instance_path);
            status = STATUS_SUCCESS;
        } else {
            text = fmt::format("{} is in the tree but not started: {}", node->instance_path, node->problem);
            status = STATUS_UNSUCCESSFUL;
        }
    }
    drain_invalidations();
    return status;
}

}  // namespace iosim::io::pnp

using namespace iosim;
using namespace iosim::io;
using namespace iosim::io::pnp;

extern "C" void IoInvalidateDeviceRelations(PDEVICE_OBJECT DeviceObject, DEVICE_RELATION_TYPE Type)
{
    const void* caller = __builtin_return_address(0);
    PnpState& s = pnp_state();
    std::lock_guard guard(s.lock);
    DeviceNode* node = node_of_pdo(DeviceObject);
    if (node == nullptr)
        bugcheck(PNP_DETECTED_FATAL_ERROR, 0x2, reinterpret_cast<ULONG_PTR>(DeviceObject), 0, 0, caller, nullptr,
                 fmt::format("IoInvalidateDeviceRelations was given {}, which is not a PDO the PnP manager knows: a "
                             "bus driver passes the PDO of its own device (the one AddDevice received), not its FDO.",
                             device_name(DeviceObject)));
    if (Type != BusRelations) {
        note(fmt::format("IoInvalidateDeviceRelations({}, relation type {}): iosim re-queries only BusRelations",
                         node->instance_path, static_cast<int>(Type)));
        return;
    }
    if (node->state != NodeState::Started)
        return;  // its relations are asked for when it starts
    if (std::find(s.invalidated.begin(), s.invalidated.end(), DeviceObject) == s.invalidated.end())
        s.invalidated.push_back(DeviceObject);
    if (s.busy != 0) {
        note(fmt::format("IoInvalidateDeviceRelations({}): queued until the PnP manager finishes what it is doing",
                         node->instance_path));
        return;
    }
    note(fmt::format("IoInvalidateDeviceRelations({}) from {}: Windows queues this to the PnP worker thread; iosim "
                     "(its PnP manager has no worker thread yet) enumerates now",
                     node->instance_path, ldr::describe_call_site(caller)));
    drain_invalidations();
}
