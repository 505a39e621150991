// driver.cpp - loading and unloading drivers, and reporting what they leave behind.
// NT counterparts: IopLoadDriver, IopUnloadDriver, IopInvalidDeviceRequest.
#include "driver.h"

#include "cancel.h"

#include <fmt/format.h>

#include "crt/format.h"

#include <algorithm>

#include "device.h"
#include "io_api.h"
#include "io_manager.h"
#include "io_workitem.h"
#include "irp.h"
#include "mdl.h"
#include "notify.h"
#include "pnp/pnp.h"
#include "ldr/symbolize.h"
#include "ob/namespace.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

ob::ObjectType g_driver_type{.name = "Driver", .delete_procedure = [](void* body) { ob::destroy_body<DriverBody>(body); }};


UNICODE_STRING counted(std::u16string& s)
{
    UNICODE_STRING u;
    u.Length = static_cast<USHORT>(s.size() * sizeof(char16_t));
    u.MaximumLength = u.Length;
    u.Buffer = reinterpret_cast<PWSTR>(s.data());
    return u;
}

void trace_note(trace::Kind kind, std::string text)
{
    if (System* sys = System::current())
        sys->trace().record(kind, 0, std::move(text));
}

// Every symbolic link in the namespace whose creating call was in `module`.
void collect_links(void* directory, const ldr::Module* module, std::vector<ob::SymbolicLink*>& out)
{
    auto* dir = static_cast<ob::Directory*>(directory);
    for (auto& entry : dir->entries()) {
        if (ob::is_object_of_type(entry.body, ob::directory_type()))
            collect_links(entry.body, module, out);
        else if (ob::is_object_of_type(entry.body, ob::symbolic_link_type())) {
            auto* link = static_cast<ob::SymbolicLink*>(entry.body);
            if (link->creator != nullptr && ldr::module_for_address(link->creator) == module)
                out.push_back(link);
        }
    }
}

// Reports (as findings) and cleans up what a driver still holds. `when` starts the sentence.
void report_leftovers(DriverBody* body, const std::string& when)
{
    System* sys = System::current();
    DRIVER_OBJECT* driver = &body->object;
    std::string name = crt::to_utf8(body->priv.object_name);
    while (DEVICE_OBJECT* device = driver->DeviceObject) {
        sys->report({"DEVICE_LEFT_BEHIND",
                     fmt::format("{}, {} still has device {}: a driver must IoDeleteDevice every device it created.", when,
                                 name, device_name(device)),
                     ldr::describe_call_site(device_private(device)->creator),
                     {}});
        delete_device(device);
    }
    std::vector<ob::SymbolicLink*> links;
    collect_links(sys->ns().root(), body->priv.module, links);
    for (ob::SymbolicLink* link : links) {
        std::string link_name = crt::to_utf8(ob::full_name(link));
        std::string target = crt::to_utf8(link->target);
        auto lookup = sys->ns().lookup(link->target);
        bool dangling = !NT_SUCCESS(lookup.status);
        if (lookup.object != nullptr)
            ob::dereference(lookup.object);
        sys->report({"SYMLINK_LEFT_BEHIND",
                     fmt::format("{}, the symbolic link {} -> {} that {} created is still there{}. IoDeleteDevice does "
                                 "not delete links: call IoDeleteSymbolicLink with the name you created.",
                                 when, link_name, target, name,
                                 dangling ? ", pointing at a device that no longer exists" : ""),
                     ldr::describe_call_site(link->creator),
                     {}});
        link->creator = nullptr;  // the module is going away; the link stays, as on Windows
    }
    // MDLs it allocated and never freed, or left locked or mapped (mdl_irp.cpp).
    report_driver_mdls(body->priv.module, when, name);
    // Lookaside lists never deleted (their held entries follow as pool leaks).
    for (const ex::LookasideRecord& list : sys->pool().lookaside().lists_of(body->priv.module)) {
        sys->report({"LOOKASIDE_LIST_LEFT_BEHIND",
                     fmt::format("{}, {} never deleted its {} lookaside list of {}-byte entries tagged '{}' (holding "
                                 "{} entries): call {} before unloading, or Windows keeps the list on its system-wide "
                                 "list after the driver's memory is gone.",
                                 when, name, list.paged ? "paged" : "non-paged", list.size,
                                 ex::tag_to_string(list.tag), list.entries.size(),
                                 list.ex ? "ExDeleteLookasideListEx"
                                 : list.paged ? "ExDeletePagedLookasideList"
                                              : "ExDeleteNPagedLookasideList"),
                     ldr::describe_call_site(list.initialized_by),
                     {}});
    }
    for (const ex::PoolBlock& block : sys->pool().outstanding(body->priv.module)) {
        sys->report({"POOL_LEAK",
                     fmt::format("{}, {} still holds {} bytes of {} pool tagged '{}': free it (ExFreePool) before "
                                 "unloading, or it stays allocated until reboot.",
                                 when, name, block.size, block.paged ? "paged" : "non-paged", ex::tag_to_string(block.tag)),
                     ldr::describe_call_site(block.caller),
                     {}});
    }
    sys->pool().forget(body->priv.module);
}

// Removes the driver object and unmaps the module.
void destroy_driver(DriverBody* body)
{
    System* sys = System::current();
    {
        auto& s = state();
        std::lock_guard guard(s.lock);
        s.drivers.erase(std::remove(s.drivers.begin(), s.drivers.end(), &body->object), s.drivers.end());
    }
    forget_driver_notifications(&body->object);  // reinitialization routines not yet called
    ldr::Module* module = body->priv.module;
    body->priv.module = nullptr;
    sys->ns().make_temporary(&body->object);  // drops the namespace's reference: the object goes
    ldr::unload(module);
}

void finish_unload(DriverBody* body, bool at_shutdown = false)
{
    System* sys = System::current();
    DRIVER_OBJECT* driver = &body->object;
    std::string name = crt::to_utf8(body->priv.object_name);
    std::vector<uint64_t> held = io::irps_held_by(driver);
    {
        ThreadSwitch as_system(sys->system_thread());
        DriverCallScope scope("DriverUnload", reinterpret_cast<const void*>(driver->DriverUnload));
        trace_note(trace::Kind::Driver, fmt::format("{}: calling DriverUnload ({})", name,
                                                    ldr::describe_function(reinterpret_cast<const void*>(driver->DriverUnload))));
        driver->Flags |= DRVO_UNLOAD_INVOKED;
        driver->DriverUnload(driver);
    }
    io::check_irps_at_unload(driver, held, at_shutdown);  // IRPs it still holds: bug check 0xCE (cancel.cpp)
    // Its work items still queued run first; its code still running is reported (io_workitem.h).
    io::before_image_unload(driver, body->priv.module, at_shutdown);
    report_leftovers(body, "After DriverUnload");
    trace_note(trace::Kind::Driver, fmt::format("{} unloaded", name));
    destroy_driver(body);
}

}  // namespace

ob::ObjectType& driver_type() { return g_driver_type; }
DriverBody* driver_body(DRIVER_OBJECT* driver) { return reinterpret_cast<DriverBody*>(driver); }
bool is_driver(const void* object) { return ob::is_object_of_type(object, g_driver_type); }

DRIVER_OBJECT* find_driver(std::u16string_view service_name)
{
    auto& s = state();
    std::lock_guard guard(s.lock);
    std::u16string wanted = ob::upcase(service_name);
    for (DRIVER_OBJECT* driver : s.drivers)
        if (ob::upcase(driver_body(driver)->priv.service_name) == wanted)
            return driver;
    return nullptr;
}

std::vector<DRIVER_OBJECT*> loaded_drivers()
{
    auto& s = state();
    std::lock_guard guard(s.lock);
    return s.drivers;
}

bool driver_loaded(std::u16string_view service_name) { return find_driver(service_name) != nullptr; }

NTSTATUS load_driver(std::u16string_view service_name, const std::string& image_path, std::string* message)
{
    System* sys = System::current();
    if (find_driver(service_name) != nullptr) {
        *message = crt::to_utf8(service_name) + " is already loaded";
        return STATUS_IMAGE_ALREADY_LOADED;
    }
    ldr::LoadError error;
    ldr::Module* module = ldr::load(image_path, ldr::ModuleKind::Driver, &error);
    if (module == nullptr) {
        *message = error.message;
        sys->report({"DRIVER_LOAD_FAILED", error.message, "", {}});
        if (!error.missing_modules.empty())
            return STATUS_DLL_NOT_FOUND;  // an export driver it imports from is not loaded
        if (!error.missing.empty() || !error.refused.empty())
            return STATUS_PROCEDURE_NOT_FOUND;
        return error.message.find("cannot open") != std::string::npos ? STATUS_OBJECT_NAME_NOT_FOUND
                                                                        : STATUS_INVALID_IMAGE_FORMAT;
    }
    auto entry = reinterpret_cast<PDRIVER_INITIALIZE>(ldr::symbol(module, "DriverEntry"));
    if (entry == nullptr)  // a C++ driver that forgot extern "C"
        entry = reinterpret_cast<PDRIVER_INITIALIZE>(
            ldr::symbol(module, "_Z11DriverEntryP14_DRIVER_OBJECTP15_UNICODE_STRING"));
    if (entry == nullptr) {
        *message = module->name + " has no DriverEntry routine";
        ldr::unload(module);
        return STATUS_DRIVER_ENTRYPOINT_NOT_FOUND;
    }

    auto* body = ob::create_object_of<DriverBody>(g_driver_type);
    DRIVER_OBJECT* driver = &body->object;
    body->priv.service_name = std::u16string(service_name);
    body->priv.object_name = u"\\Driver\\" + std::u16string(service_name);
    body->priv.registry_path = u"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\" + std::u16string(service_name);
    body->priv.module = module;
    body->priv.registry_path_string = counted(body->priv.registry_path);
    driver->Type = IO_TYPE_DRIVER;
    driver->Size = sizeof(DRIVER_OBJECT);
    driver->Flags = DRVO_LEGACY_DRIVER;
    driver->DriverStart = reinterpret_cast<PVOID>(module->base);
    driver->DriverExtension = &body->extension;
    driver->DriverName = counted(body->priv.object_name);
    driver->DriverInit = entry;
    body->extension.DriverObject = driver;
    body->extension.ServiceKeyName = counted(body->priv.service_name);
    for (auto& slot : driver->MajorFunction)
        slot = &IopInvalidDeviceRequest;

    NTSTATUS status = sys->ns().insert(body->priv.object_name, driver, true);
    ob::dereference(driver);  // the namespace holds it now
    if (!NT_SUCCESS(status)) {
        *message = fmt::format("cannot create {}: {}", crt::to_utf8(body->priv.object_name), status_text(status));
        ldr::unload(module);
        return status;
    }
    {
        auto& s = state();
        std::lock_guard guard(s.lock);
        s.drivers.push_back(driver);
    }
    trace_note(trace::Kind::Driver, fmt::format("loading {} from {}: calling DriverEntry", crt::to_utf8(body->priv.object_name),
                                                module->name));
    {
        ThreadSwitch as_system(sys->system_thread());
        DriverCallScope scope("DriverEntry", reinterpret_cast<const void*>(entry));
        status = entry(driver, &body->priv.registry_path_string);
    }
    trace_note(trace::Kind::Driver, fmt::format("DriverEntry of {} returned {}", crt::to_utf8(body->priv.object_name),
                                                status_text(status)));
    if (!NT_SUCCESS(status)) {
        *message = fmt::format("DriverEntry of {} failed with {}", module->name, status_text(status));
        report_leftovers(body, "After DriverEntry failed");
        destroy_driver(body);
        return status;
    }
    // The I/O manager finishes initialising the devices DriverEntry created.
    for (DEVICE_OBJECT* device = driver->DeviceObject; device != nullptr; device = device->NextDevice)
        device->Flags &= ~DO_DEVICE_INITIALIZING;
    // PnP: a driver with an AddDevice routine is a WDM (PnP) driver, not a legacy one, as IopLoadDriver decides.
    if (driver->DriverExtension->AddDevice != nullptr)
        driver->Flags &= ~DRVO_LEGACY_DRIVER;
    call_reinitialization_routines(driver);  // IoRegisterDriverReinitialization (notify.cpp)
    return STATUS_SUCCESS;
}

NTSTATUS unload_driver(std::u16string_view service_name, std::string* message)
{
    DRIVER_OBJECT* driver = find_driver(service_name);
    if (driver == nullptr) {
        *message = crt::to_utf8(service_name) + " is not loaded";
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    DriverBody* body = driver_body(driver);
    // Driver pairs: an export driver stays while a loaded driver imports from it.
    if (std::vector<ldr::Module*> importers = ldr::importers_of(body->priv.module); !importers.empty()) {
        std::string names;
        for (const ldr::Module* importer : importers)
            names += (names.empty() ? "" : ", ") + importer->name;
        *message = fmt::format("{} cannot be unloaded: {} import{} routines from {}. Unload the importing driver{} "
                               "first (Windows keeps an export driver loaded while any loaded image imports from it).",
                               crt::to_utf8(body->priv.object_name), names, importers.size() == 1 ? "s" : "",
                               body->priv.module->name, importers.size() == 1 ? "" : "s");
        trace_note(trace::Kind::Driver, *message);
        return STATUS_DEVICE_BUSY;
    }
    // PnP: a WDM driver stops when the PnP manager has removed its devices, not on request.
    if (std::string node = pnp::device_node_driven_by(driver); !node.empty()) {
        *message = fmt::format("{} drives the device {}: a PnP driver is unloaded when its devices are removed "
                               "(unplug), not stopped on request",
                               crt::to_utf8(body->priv.object_name), node);
        return STATUS_INVALID_DEVICE_REQUEST;  // the SCM's ERROR_INVALID_SERVICE_CONTROL, as on Windows
    }
    if (driver->DriverUnload == nullptr) {
        *message = crt::to_utf8(body->priv.object_name) +
                   " has no DriverUnload routine, so it cannot be stopped (as on Windows: it stays until reboot)";
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    LONG open = 0;
    for (DEVICE_OBJECT* device = driver->DeviceObject; device != nullptr; device = device->NextDevice)
        open += device->ReferenceCount;
    if (open > 0) {
        body->priv.unload_pending = true;
        for (DEVICE_OBJECT* device = driver->DeviceObject; device != nullptr; device = device->NextDevice)
            device_private(device)->ExtensionFlags |= DOE_UNLOAD_PENDING;
        *message = fmt::format("{} will unload when its {} open file object(s) close", crt::to_utf8(body->priv.object_name), open);
        trace_note(trace::Kind::Driver, *message);
        return STATUS_SUCCESS;
    }
    finish_unload(body);
    return STATUS_SUCCESS;
}

void check_deferred_unload(DRIVER_OBJECT* driver)
{
    pnp::on_last_file_closed();  // PnP: a surprise-removed device waits for its handles (pnp/pnp_remove.cpp)
    // Only a loaded driver can have an unload pending. Its membership is checked in the
    // list, never by reading the object: after a bug check the driver may already be gone
    // when the last file (an abandoned request's) is released at shutdown.
    std::vector<DRIVER_OBJECT*> loaded = loaded_drivers();
    if (driver == nullptr || std::find(loaded.begin(), loaded.end(), driver) == loaded.end())
        return;
    DriverBody* body = driver_body(driver);
    if (!body->priv.unload_pending)
        return;
    for (DEVICE_OBJECT* device = driver->DeviceObject; device != nullptr; device = device->NextDevice)
        if (device->ReferenceCount != 0)
            return;
    body->priv.unload_pending = false;
    finish_unload(body);
}

void unload_all_drivers()
{
    std::vector<DRIVER_OBJECT*> drivers = loaded_drivers();
    bool dead = System::current()->dead();
    for (auto it = drivers.rbegin(); it != drivers.rend(); ++it) {
        DriverBody* body = driver_body(*it);
        if (dead) {
            // After a bug check no driver code runs: release what the driver held, quietly.
            DRIVER_OBJECT* driver = &body->object;
            io::end_code_in(body->priv.module);  // threads inside it unwind before it is unmapped
            while (DEVICE_OBJECT* device = driver->DeviceObject)
                delete_device(device);
            System::current()->pool().forget(body->priv.module);
            destroy_driver(body);
        } else if ((*it)->DriverUnload != nullptr && !body->priv.unload_pending) {
            finish_unload(body, true);
        } else {
            // Shutdown of a driver that cannot unload: drop it without calling it.
            report_leftovers(body, "At shutdown");
            destroy_driver(body);
        }
    }
}

std::string resolve_driver_image(std::u16string_view binary_path)
{
    std::string path = crt::to_utf8(binary_path);
    while (!path.empty() && (path.front() == '"' || path.front() == ' '))
        path.erase(path.begin());
    while (!path.empty() && (path.back() == '"' || path.back() == ' '))
        path.pop_back();
    size_t cut = path.find_last_of("\\/");
    std::string file = cut == std::string::npos ? path : path.substr(cut + 1);
    if (file.empty())
        return "";
    std::string found = find_module(file);
    if (found.empty() && file.find('.') == std::string::npos)
        found = find_module(file + ".sys");
    return found;
}

}  // namespace iosim::io

extern "C" NTSTATUS IopInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    Irp->IoStatus.Information = 0;
    IofCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_INVALID_DEVICE_REQUEST;
}

namespace {
POBJECT_TYPE g_driver_type_ptr = reinterpret_cast<POBJECT_TYPE>(&iosim::io::driver_type());
}
extern "C" {
POBJECT_TYPE* IoDriverObjectType = &g_driver_type_ptr;
}
