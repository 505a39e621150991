// main.cpp - the iosim command: the guided tour, and running apps with drivers loaded.
//
//   iosim                       the guided tour (iosim's main job)
//   iosim tour                  the same
//   iosim exec [-d DRIVER]... APP [ARGS...]   run an app module as a process
//   iosim run SCRIPT...         run command-language scripts (docs/command-language.md)
//   iosim shell                 type the command language interactively
// Exit codes: see exit_codes.h and docs/iosim-command.md.
#include <CLI/CLI.hpp>

#include <sys/personality.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>

#include "exec.h"
#include "exit_codes.h"
#include "io_manager.h"
#include "ke/fault.h"
#include "run.h"
#include "shell.h"
#include "tour.h"
#include "trace/trace_export.h"

using namespace iosim::cli;

namespace {

// Apps print addresses (the seeds print their buffers' addresses, drivers print MDL
// addresses), and those land in the trace. Address-space randomisation would make two runs
// of the same scenario differ, so iosim runs itself once more with it turned off
// (IOSIM_KEEP_ASLR=1 keeps it; under gdb it is already off).
void run_without_aslr(char** argv)
{
    int persona = personality(0xffffffff);
    if (persona == -1 || (persona & ADDR_NO_RANDOMIZE) != 0 || std::getenv("IOSIM_KEEP_ASLR") != nullptr)
        return;
    if (personality(static_cast<unsigned long>(persona | ADDR_NO_RANDOMIZE)) == -1)
        return;
    execv("/proc/self/exe", argv);  // on failure, carry on with randomisation
}

}  // namespace

int main(int argc, char** argv)
{
    run_without_aslr(argv);
    iosim::install_fault_reports();  // a driver's bad pointer: a bug check report, exit 3
    CLI::App app{"iosim - a simulator of the Windows NT kernel I/O subsystem, for teaching.\n"
                 "With no command, runs the guided tour.",
                 "iosim"};
    app.require_subcommand(0, 1);
    app.fallthrough();  // the common options may also follow the subcommand
    app.footer("Examples:\n  iosim                     the guided tour\n"
               "  iosim exec -d hello.sys hello_open.exe\n"
               "  iosim run scenarios/hello.iosim\n"
               "Exit codes: 0 ok, 1 app failed or expectation failed (or findings with --strict), 2 bad usage or bad "
               "script, 3 bug check, 4 internal error");
    std::vector<std::string> module_path;
    std::string trace_file;
    std::string trace_path;
    std::string trace_format_name = "text";
    std::optional<uint64_t> seed;
    bool free_running = false;
    bool quiet = false;
    bool verbose = false;
    app.add_option("--module-path", module_path, "Folder to search for .sys/.exe modules (repeatable; default: "
                                                  "the iosim program's folder, the current folder, $IOSIM_MODULE_PATH)");
    app.add_option("--trace-file", trace_file, "Also write every trace event, numbered, to FILE (--trace FILE, text)");
    app.add_option("--trace", trace_path, "Write the whole trace to FILE (in --trace-format)");
    app.add_option("--trace-format", trace_format_name, "Format of --trace: text, json (Chrome/Perfetto) or mermaid")
        ->check([](const std::string& name) {
            return iosim::trace::parse_format(name) ? std::string() : "expected text, json or mermaid, got " + name;
        });
    auto* seed_option =
        app.add_option("--seed", seed, "Seed of the scheduler's choices among ready threads (default 0: first come, "
                                       "first served); the same command and seed give the same run, byte for byte");
    app.add_flag("--free-running", free_running,
                 "The host's thread wake-ups, not a seed, choose among ready threads (stress runs; still one thread at "
                 "a time, simulated time); runs differ and cannot be replayed")
        ->excludes(seed_option);
    app.add_flag("-q,--quiet", quiet, "Show only what apps print (findings and bug checks go to stderr)");
    app.add_flag("-v,--verbose", verbose,
                 "Prefix each event with its sequence number, simulated time, CPU, process:thread and IRQL, and show "
                 "IRQL changes");

    auto* tour = app.add_subcommand("tour", "The guided tour: the seeds' lessons, step by step, with every IRP shown");
    tour->footer("Example:\n  iosim tour");

    ExecOptions exec_options;
    bool exec_trace = true;
    auto* exec = app.add_subcommand("exec", "Run an app module as a process, with drivers loaded first");
    exec->add_option("-d,--driver", exec_options.drivers,
                     "Driver module to load first, optionally as MODULE:SERVICE (repeatable)")
        ->allow_extra_args(false);
    exec->add_option("-i,--input", exec_options.input, "Text the app reads as its standard input");
    exec->add_flag("--strict", exec_options.strict, "Exit with 1 if anything was reported (leaks, misuse)");
    exec->add_option("--special-pool", exec_options.special_pool,
                     "Driver Verifier's special pool for DRIVER (a module name such as kbuffer.sys; repeatable), or "
                     "for all: an overrun or a use after free faults at the driver's line")
        ->allow_extra_args(false);
    exec->add_flag("!--no-trace", exec_trace, "Do not show the IRP flow, only app and driver output");
    exec->add_option("app", exec_options.app, "App module (name.exe in the module path, or a path)")->required();
    exec->add_option("args", exec_options.args, "Arguments passed to the app");
    exec->positionals_at_end();
    exec->footer("Example:\n  iosim exec --driver hello.sys hello_open.exe\n"
                 "  iosim exec -d ioctl_buffered.sys:IosimIoctl ioctl_client.exe\n"
                 "  iosim exec -d ./mydriver.sys ./myapp.exe -- --my-app-flag");

    RunOptions run_options;
    bool run_trace = true;
    auto* run = app.add_subcommand("run", "Run command-language scripts, each on a fresh machine; exit with the worst "
                                          "outcome");
    run->add_option("scripts", run_options.scripts, "Script files (docs/command-language.md)")->required();
    run->add_flag("!--no-trace", run_trace, "Do not show the IRP flow, only results, app and driver output");
    run->footer("Example:\n  iosim run scenarios/hello.iosim\n"
                "  iosim run --trace flow.json --trace-format json scenarios/ioctl_buffered.iosim\n"
                "Exit codes: 0 every expectation held, 1 an expectation failed, 2 bad script, 3 unexpected bug "
                "check, 4 module missing or internal error");

    ShellOptions shell_options;
    auto* shell = app.add_subcommand("shell", "An interactive shell for the command language, with history, tab "
                                              "completion and single-stepping");
    shell->add_option("--history", shell_options.history_file, "History file (default: ~/.iosim_history)");
    shell->footer("Example:\n  iosim shell\n  iosim> load hello.sys\n  iosim> h = open \\\\.\\IosimHello\n"
                  "  iosim> !devstack \\Device\\IosimHello\n"
                  "Shell words: help, step, next, continue, quit (or Ctrl-D).");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kOk : kBadUsage;
    }

    try {
        if (!module_path.empty())
            iosim::io::set_module_path(module_path);
        auto trace_format = *iosim::trace::parse_format(trace_format_name);
        if (!trace_file.empty() && !trace_path.empty()) {
            std::fprintf(stderr, "iosim: give --trace or --trace-file, not both\n");
            return kBadUsage;
        }
        if (!trace_file.empty()) {  // the older spelling of --trace FILE --trace-format text
            trace_path = trace_file;
            trace_format = iosim::trace::Format::Text;
        }
        if (shell->parsed()) {
            shell_options.session.quiet = quiet;
            shell_options.session.verbose = verbose;
            shell_options.session.seed = seed;
            shell_options.session.free_running = free_running;
            return run_shell(shell_options);
        }
        if (run->parsed()) {
            run_options.quiet = quiet;
            run_options.verbose = verbose;
            run_options.show_trace = run_trace;
            run_options.seed = seed;
            run_options.free_running = free_running;
            run_options.trace_path = trace_path;
            run_options.trace_format = trace_format;
            return run_scripts(run_options);
        }
        bool export_trace = !trace_path.empty() && trace_format != iosim::trace::Format::Text;
        trace_file = export_trace ? std::string() : trace_path;
        if (verbose && free_running)
            std::printf("free-running (the host decides which ready thread runs next; the run cannot be replayed)\n");
        else if (verbose && seed)
            std::printf("seed %llu (the same command and seed give the same run)\n",
                        static_cast<unsigned long long>(*seed));
        ConsoleOptions console;
        console.quiet = quiet;
        console.seed = seed.value_or(0);
        console.free_running = free_running;
        std::FILE* trace_out = nullptr;
        if (!trace_file.empty()) {
            trace_out = std::fopen(trace_file.c_str(), "w");
            if (trace_out == nullptr) {
                std::fprintf(stderr, "iosim: cannot write %s\n", trace_file.c_str());
                return kBadUsage;
            }
            console.trace_file = trace_out;
        }
        console.verbose = verbose;
        std::vector<iosim::trace::Event> events;
        console.collected = export_trace ? &events : nullptr;
        int code;
        if (exec->parsed())
            code = run_exec(exec_options, console, exec_trace);
        else
            code = run_tour(console);
        if (code != kOk && code != kBadUsage && free_running)
            std::fprintf(stderr, "iosim: this run was free-running (--free-running): it cannot be replayed\n");
        else if (code != kOk && code != kBadUsage)
            std::fprintf(stderr, "iosim: seed %llu: --seed %llu replays this run\n",
                         static_cast<unsigned long long>(console.seed), static_cast<unsigned long long>(console.seed));
        if (trace_out != nullptr)
            std::fclose(trace_out);
        if (export_trace) {
            std::FILE* out = std::fopen(trace_path.c_str(), "w");
            if (out == nullptr) {
                std::fprintf(stderr, "iosim: cannot write %s\n", trace_path.c_str());
                return kBadUsage;
            }
            std::string text = iosim::trace::render(trace_format, events);
            std::fwrite(text.data(), 1, text.size(), out);
            std::fclose(out);
        }
        return code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "iosim: internal error: %s\n", e.what());
        return kInternalError;
    }
}
