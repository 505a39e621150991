// exec.cpp - `iosim exec`: load drivers, run an app as a process, unload, report.
#include "exec.h"

#include <fmt/format.h>

#include "exit_codes.h"

namespace iosim::cli {

namespace {

std::string service_from_module(const std::string& module)
{
    std::string name = module.substr(module.find_last_of('/') + 1);
    return name.substr(0, name.find('.'));
}

void print_report(Console& console, const BugCheckInfo& info)
{
    size_t start = 0;
    const std::string& report = info.report;
    while (start < report.size()) {
        size_t end = report.find('\n', start);
        if (end == std::string::npos)
            end = report.size();
        console.line("BUGCHECK", report.substr(start, end - start));
        start = end + 1;
    }
}

}  // namespace

int run_exec(const ExecOptions& options, ConsoleOptions console_options, bool trace)
{
    Console console(console_options);
    Machine machine(console.machine_options(trace));
    console.attach(machine);
    std::vector<std::string> services;
    for (const auto& driver : options.special_pool) {
        if (driver == "all")
            machine.system().pool().set_special_pool_for_all(true);
        else
            machine.system().pool().set_special_pool_for(driver.substr(driver.find_last_of('/') + 1), true);
    }
    try {
        for (const auto& spec : options.drivers) {
            size_t colon = spec.find(':');
            std::string module = spec.substr(0, colon);
            std::string service = colon == std::string::npos ? service_from_module(module) : spec.substr(colon + 1);
            std::string message;
            NTSTATUS status = machine.load_driver(service, module, &message);
            if (!NT_SUCCESS(status)) {
                std::fprintf(stderr, "iosim exec: cannot load driver %s: %s\n", module.c_str(), message.c_str());
                return kInternalError;
            }
            services.push_back(service);
        }
        auto result = machine.run_app(options.app, options.args, options.input);
        console.flush_app_output();
        if (!result.started) {
            std::fprintf(stderr, "iosim exec: cannot run %s: %s\n", options.app.c_str(), result.error.c_str());
            return kInternalError;
        }
        for (auto it = services.rbegin(); it != services.rend(); ++it)
            machine.unload_driver(*it);
        std::vector<std::string> alive = machine.shutdown();
        for (const auto& line : alive)
            console.line("REPORT", line);
        bool findings = !machine.system().findings().empty() || !alive.empty();
        if (console_options.quiet)
            for (const auto& finding : machine.system().findings())
                std::fprintf(stderr, "iosim: %s: %s%s%s\n", finding.code.c_str(), finding.message.c_str(),
                             finding.location.empty() ? "" : " at ", finding.location.c_str());
        if (result.exit_code != 0)
            return kFailed;
        return options.strict && findings ? kFailed : kOk;
    } catch (const BugCheck& stop) {
        console.flush_app_output();
        print_report(console, stop.info());
        if (console_options.quiet)
            std::fputs(stop.info().report.c_str(), stderr);
        return kBugCheck;
    }
}

}  // namespace iosim::cli
