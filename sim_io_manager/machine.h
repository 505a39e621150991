// machine.h - a whole simulated computer: kernel, I/O manager, SCM, processes.
//
// Machine is the front door for the iosim command, the tests and the benchmarks. It
// creates the System (one at a time), points the I/O manager at the module folders,
// loads and unloads drivers, runs app modules as processes and, at shutdown, unloads
// what can be unloaded and lists the kernel objects still alive.
//
// A bug check ends the machine's life: Machine calls propagate iosim::BugCheck; after
// one, destroy the Machine (its shutdown then only releases memory).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ke/bugcheck.h"
#include "system.h"

namespace iosim {

class Machine {
public:
    struct Options {
        bool trace = false;
        uint64_t seed = 0;      // the scheduler's choices among ready threads (0: first come, first served)
        // The host's wake-up order picks among ready threads instead (docs/scheduler.md,
        // "Free-running mode"): runs differ and cannot be replayed.
        bool free_running = false;
        unsigned cpus = 2;      // simulated processors
        std::vector<std::string> module_path;  // empty: the default search path
        // Where apps' console output goes (default: standard output, unlabelled).
        std::function<void(uint32_t pid, const std::string& image, std::string_view text)> app_output;
        // Where DbgPrint output goes (default: standard error, "[driver.sys] text").
        std::function<void(std::string_view module, std::string_view text)> debug_output;
    };

    explicit Machine(Options options);
    Machine() : Machine(Options{}) {}
    ~Machine();
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    System& system() { return *system_; }

    // Loads a driver module as service `service_name` (like sc create + sc start).
    // `module` is a file name found in the module path, or a path.
    NTSTATUS load_driver(const std::string& service_name, const std::string& module, std::string* message = nullptr);
    NTSTATUS unload_driver(const std::string& service_name, std::string* message = nullptr);

    struct AppResult {
        bool started = false;    // false: the module could not be loaded (see error)
        int exit_code = 0;
        std::string output;      // everything the app wrote to its console
        std::string error;       // why it did not start
        uint32_t pid = 0;
    };
    // Runs an app module (a .exe built with iosim_add_app) as a new process, with
    // `args` after argv[0] and `input` as its standard input.
    AppResult run_app(const std::string& module, const std::vector<std::string>& args = {}, const std::string& input = "");

    // A process to run code in directly (tests, the command language); its handles are
    // closed and it is reaped by end_process.
    Process* create_process(const std::string& image_name);
    void end_process(Process* process, uint32_t exit_code = 0);

    // Shuts down now (unloads drivers, closes processes) and returns the lines of the
    // "still alive" report; the destructor does this if it was not done.
    std::vector<std::string> shutdown();

private:
    std::unique_ptr<System> system_;
    Options options_;
    bool shut_down_ = false;
};

}  // namespace iosim
