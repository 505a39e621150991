// io_manager.h - the I/O manager's own state: loaded drivers and where modules are found.
//
// The module search path lists folders holding driver (.sys) and app (.exe) modules;
// by default the folder of the running iosim program, then the current directory,
// then the folders in IOSIM_MODULE_PATH (colon-separated).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "wdm_impl.h"

namespace iosim::io {

struct IoManagerState {
    std::recursive_mutex lock;
    std::vector<DRIVER_OBJECT*> drivers;  // load order
    std::vector<std::string> module_path;
};

IoManagerState& state();

void set_module_path(std::vector<std::string> folders);
const std::vector<std::string>& module_path();
// Finds `file_name` ("mydriver.sys") in the module path; "" if absent. A name with a '/'
// is taken as a path of its own.
std::string find_module(const std::string& file_name);

// Hooks the I/O manager into the kernel (IRP histories in bug check reports).
void initialize();

}  // namespace iosim::io
