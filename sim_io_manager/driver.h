// driver.h - driver objects, loading (DriverEntry) and unloading (DriverUnload).
//
// Loading a driver maps its module (imports checked first), creates \Driver\<Name>,
// fills every MajorFunction slot with IopInvalidDeviceRequest, calls DriverEntry in the
// System process with the driver's registry path, and clears DO_DEVICE_INITIALIZING on
// the devices DriverEntry created. A failing DriverEntry unloads the module again.
// Unloading calls DriverUnload (a driver without one cannot be stopped), then reports
// what the driver left behind: devices, symbolic links, pool.
// NT counterparts: IopLoadDriver, IopUnloadDriver, IopInvalidDeviceRequest, DRIVER_OBJECT.
#pragma once

#include <string>
#include <vector>

#include "ldr/module.h"
#include "ob/object.h"
#include "wdm_impl.h"

namespace iosim::io {

struct DriverPrivate {
    std::u16string service_name;
    std::u16string object_name;     // "\Driver\<Name>" (DriverObject->DriverName points here)
    std::u16string registry_path;   // "\Registry\Machine\System\CurrentControlSet\Services\<Name>"
    ldr::Module* module = nullptr;
    bool unload_pending = false;    // stop requested while files were open
    UNICODE_STRING registry_path_string{};
};

struct DriverBody {
    DRIVER_OBJECT object;  // first: the body pointer is the PDRIVER_OBJECT
    DRIVER_EXTENSION extension;
    DriverPrivate priv;
};

ob::ObjectType& driver_type();
DriverBody* driver_body(DRIVER_OBJECT* driver);
bool is_driver(const void* object);

DRIVER_OBJECT* find_driver(std::u16string_view service_name);
std::vector<DRIVER_OBJECT*> loaded_drivers();

// Called when a device's last open file object goes away: finishes a deferred unload.
void check_deferred_unload(DRIVER_OBJECT* driver);

// Unloads every driver that can be (machine shutdown).
void unload_all_drivers();

}  // namespace iosim::io

extern "C" NTSTATUS IopInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp);
