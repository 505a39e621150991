// run.h - `iosim run SCRIPT...`: each script in its own Session (its own machine).
//
// The exit status is the worst outcome of the scripts (docs/iosim-command.md): 0 every
// expectation held, 1 an expectation failed, 2 a bad script, 3 an unexpected bug check,
// 4 a module missing or an internal error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trace/trace_export.h"

namespace iosim::cli {

struct RunOptions {
    std::vector<std::string> scripts;
    bool quiet = false;
    bool verbose = false;
    bool show_trace = true;               // false: --no-trace
    std::optional<uint64_t> seed;
    bool free_running = false;            // --free-running: runs cannot be replayed
    std::string trace_path;               // "" none: every script's events, in order, written at the end
    trace::Format trace_format = trace::Format::Text;
};

int run_scripts(const RunOptions& options);

}  // namespace iosim::cli
