// scm.h - the Service Control Manager's database (services.exe's state).
//
// Drivers are installed and started the Windows way: CreateService records a service
// with its binary path; StartService resolves that path to a driver module
// (io::resolve_driver_image) and loads it; ControlService(SERVICE_CONTROL_STOP) unloads
// it; DeleteService removes the record once no handle is open. One database per Machine.
#pragma once

#include <map>
#include <set>
#include <string>

#include "nt.h"

namespace iosim::win32 {

struct Service {
    std::u16string name;
    std::u16string display_name;
    std::u16string binary_path;
    ULONG type = 0;
    ULONG start_type = 0;
    ULONG error_control = 0;
    bool marked_for_delete = false;
    int open_handles = 0;
    ULONG last_exit_code = 0;  // Win32 error of the last failed start
};

struct ServiceDatabase {
    std::map<std::u16string, Service> services;  // key: upper-cased name
    std::set<void*> handles;                     // live SC_HANDLEs
};

ServiceDatabase& services();
void reset_services();

}  // namespace iosim::win32
