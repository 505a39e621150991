// main.cpp - the iosim command: the guided tour, and running apps with drivers loaded.
//
//   iosim                       the guided tour (iosim's main job)
//   iosim tour                  the same
//   iosim exec [-d DRIVER]... APP [ARGS...]   run an app module as a process
// Exit codes: see exit_codes.h and docs/iosim-command.md.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "exec.h"
#include "exit_codes.h"
#include "io_manager.h"
#include "tour.h"

using namespace iosim::cli;

int main(int argc, char** argv)
{
    CLI::App app{"iosim - a simulator of the Windows NT kernel I/O subsystem, for teaching.\n"
                 "With no command, runs the guided tour.",
                 "iosim"};
    app.require_subcommand(0, 1);
    app.fallthrough();  // the common options may also follow the subcommand
    app.footer("Examples:\n  iosim                     the guided tour\n"
               "  iosim exec -d hello.sys hello_open.exe\n"
               "Exit codes: 0 ok, 1 app failed (or findings with --strict), 2 bad usage, 3 bug check, 4 internal error");
    std::vector<std::string> module_path;
    std::string trace_file;
    bool quiet = false;
    bool verbose = false;
    app.add_option("--module-path", module_path, "Folder to search for .sys/.exe modules (repeatable; default: "
                                                  "the iosim program's folder, the current folder, $IOSIM_MODULE_PATH)");
    app.add_option("--trace-file", trace_file, "Also write every trace event, numbered, to FILE");
    app.add_flag("-q,--quiet", quiet, "Show only what apps print (findings and bug checks go to stderr)");
    app.add_flag("-v,--verbose", verbose, "Prefix each event with its sequence number, process:thread and IRQL");

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
    exec->add_flag("!--no-trace", exec_trace, "Do not show the IRP flow, only app and driver output");
    exec->add_option("app", exec_options.app, "App module (name.exe in the module path, or a path)")->required();
    exec->add_option("args", exec_options.args, "Arguments passed to the app");
    exec->positionals_at_end();
    exec->footer("Example:\n  iosim exec --driver hello.sys hello_open.exe\n"
                 "  iosim exec -d ioctl_buffered.sys:IosimIoctl ioctl_client.exe\n"
                 "  iosim exec -d ./mydriver.sys ./myapp.exe -- --my-app-flag");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kOk : kBadUsage;
    }

    try {
        if (!module_path.empty())
            iosim::io::set_module_path(module_path);
        ConsoleOptions console;
        console.quiet = quiet;
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
        int code;
        if (exec->parsed())
            code = run_exec(exec_options, console, exec_trace);
        else
            code = run_tour(console);
        if (trace_out != nullptr)
            std::fclose(trace_out);
        return code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "iosim: internal error: %s\n", e.what());
        return kInternalError;
    }
}
