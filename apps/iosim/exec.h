// exec.h - `iosim exec`: run one app with drivers preloaded.
#pragma once

#include <string>
#include <vector>

#include "console.h"

namespace iosim::cli {

struct ExecOptions {
    std::vector<std::string> drivers;  // "module.sys" or "module.sys:ServiceName"
    std::string app;
    std::vector<std::string> args;
    std::string input;
    bool strict = false;               // findings make the exit status 1
    std::vector<std::string> special_pool;  // Driver Verifier's special pool: module names, or "all"
};

int run_exec(const ExecOptions& options, ConsoleOptions console_options, bool trace);

}  // namespace iosim::cli
