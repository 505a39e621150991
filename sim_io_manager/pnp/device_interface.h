// device_interface.h - the registered device interfaces, as user mode lists them.
//
// SetupDi* and CM_Get_Device_Interface_List (win32/setupapi.cpp) ask the PnP manager for
// the interfaces of a class. A device that is not present (removed, or being removed)
// keeps its registrations, as the registry does on Windows, but is listed only when the
// caller asks for every device, never as enabled.
// NT counterparts: the device-class registry keys (HKLM\...\Control\DeviceClasses) and
// PiCMGetDeviceInterfaceList, which user mode reaches through the user-mode PnP manager.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wdm_impl.h"

namespace iosim::io::pnp {

struct InterfaceEntry {
    GUID guid{};
    std::u16string path;        // "\\?\ROOT#IOSIM_TOYBUS#0000#{guid}": what CreateFile takes
    std::string instance_path;  // "ROOT\IOSIM_TOYBUS\0000"
    uint32_t devinst = 0;       // the device node's number (0: the node is gone)
    bool enabled = false;       // enabled on a present device
};

// Interfaces of class `guid` (nullptr: every class), of the device `instance_path` ("" any),
// in registration order; with `present_only`, only those on present devices.
std::vector<InterfaceEntry> list_interfaces(const GUID* guid, std::string_view instance_path, bool present_only);

// The instance path of device node number `devinst`, or "" (SetupDiGetDeviceInstanceId).
std::string instance_path_of(uint32_t devinst);

}  // namespace iosim::io::pnp
