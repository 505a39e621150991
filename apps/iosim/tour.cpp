// tour.cpp - a narrated run of the seeds' lessons, in order.
//
// Each step loads sample drivers, runs their apps and shows every IRP on the way, with a
// few lines saying what to look at. Steps share one Machine, except the last, which
// breaks a rule on purpose and so needs a machine of its own to crash.
#include "tour.h"

#include <fmt/format.h>

#include <functional>
#include <vector>

#include "exit_codes.h"
#include "ob/listing.h"

namespace iosim::cli {

namespace {

struct Step {
    const char* title;
    const char* lesson;
    std::function<bool(Machine&, Console&)> run;  // false: a sample module is missing
};

bool run_app(Machine& machine, Console& console, const std::string& app, std::vector<std::string> args = {})
{
    std::string shown = app;
    for (const auto& a : args)
        shown += " " + a;
    console.say(fmt::format("  > {}\n", shown));
    auto result = machine.run_app(app, args);
    console.flush_app_output();
    if (!result.started) {
        console.line("ERROR", result.error);
        return false;
    }
    console.say(fmt::format("  ({} exited with code {})\n", app, result.exit_code));
    return true;
}

bool load(Machine& machine, Console& console, const std::string& service, const std::string& module)
{
    console.say(fmt::format("  > load driver {} as service \"{}\"\n", module, service));
    std::string message;
    NTSTATUS status = machine.load_driver(service, module, &message);
    if (!NT_SUCCESS(status)) {
        console.line("ERROR", message);
        return false;
    }
    return true;
}

void unload(Machine& machine, Console& console, const std::string& service)
{
    console.say(fmt::format("  > unload driver \"{}\"\n", service));
    machine.unload_driver(service);
}

void show_namespace(Machine& machine, Console& console, const std::vector<std::string>& paths)
{
    for (const auto& directory : {"\\Driver", "\\Device", "\\GLOBAL??"}) {
        for (const auto& item : ob::list_directory(machine.system().ns(), directory, false)) {
            for (const auto& wanted : paths)
                if (item.path == wanted)
                    console.line("object", fmt::format("{:<28} {}{}", item.path, item.type,
                                                       item.target.empty() ? "" : " -> " + item.target));
        }
    }
}

std::vector<Step> steps()
{
    return {
        {"Loading a driver with the Service Control Manager",
         "A driver is a module the kernel calls. An app installs it with CreateService and\n"
         "starts it with StartService: the I/O manager creates \\Driver\\Empty and calls\n"
         "DriverEntry; ControlService(STOP) calls DriverUnload. (seed 000, sections 2-3)",
         [](Machine& m, Console& c) { return run_app(m, c, "scm_loader.exe", {"Empty", "C:\\drivers\\empty.sys"}); }},
        {"A device and its symbolic link",
         "DriverEntry creates \\Device\\IosimHello and the link \\??\\IosimHello. An app opens\n"
         "\"\\\\.\\IosimHello\"; the name becomes \\??\\IosimHello, the link leads to the device,\n"
         "and the driver gets IRP_MJ_CREATE. CloseHandle brings IRP_MJ_CLEANUP (last handle)\n"
         "then IRP_MJ_CLOSE (last reference). (seed 000, section 6)",
         [](Machine& m, Console& c) {
             if (!load(m, c, "hello", "hello.sys"))
                 return false;
             show_namespace(m, c, {"\\Driver\\hello", "\\Device\\IosimHello", "\\GLOBAL??\\IosimHello"});
             bool ok = run_app(m, c, "hello_open.exe");
             unload(m, c, "hello");
             return ok;
         }},
        {"DeviceIoControl with METHOD_BUFFERED",
         "The I/O manager allocates one SystemBuffer of max(input, output), copies the input\n"
         "in, and after completion copies IoStatus.Information bytes back to the caller.\n"
         "A control code whose access bits need write access is refused on a read-only\n"
         "handle before any IRP exists. (seed 000, section 7)",
         [](Machine& m, Console& c) {
             if (!load(m, c, "IosimIoctl", "ioctl_buffered.sys"))
                 return false;
             bool ok = run_app(m, c, "ioctl_client.exe");
             unload(m, c, "IosimIoctl");
             return ok;
         }},
        {"ReadFile and WriteFile on a buffered device, and GetFileSize",
         "Reads and writes carry a length and a byte offset (from an OVERLAPPED, even on a\n"
         "synchronous handle). GetFileSize becomes IRP_MJ_QUERY_INFORMATION for\n"
         "FileStandardInformation. (seed 000, sections 9-10, with buffered I/O)",
         [](Machine& m, Console& c) {
             if (!load(m, c, "kbuffer", "kbuffer.sys"))
                 return false;
             bool ok = run_app(m, c, "kbuffer_client.exe");
             unload(m, c, "kbuffer");
             return ok;
         }},
        {"Direct I/O through an MDL",
         "On a DO_DIRECT_IO device the I/O manager does not copy the caller's buffer: it\n"
         "describes the caller's pages with an MDL (Irp->MdlAddress), and the driver gets a\n"
         "system address for them with MmGetSystemAddressForMdlSafe. MmGetMdlVirtualAddress\n"
         "is the app's own buffer address; an empty transfer has no MDL. (In this version the\n"
         "system address is the app's address too; simulated physical pages and a second\n"
         "mapping come with iosim's memory model.) (seed 000, section 10)",
         [](Machine& m, Console& c) {
             if (!load(m, c, "direct", "direct.sys"))
                 return false;
             bool ok = run_app(m, c, "direct_client.exe");
             unload(m, c, "direct");
             return ok;
         }},
        {"A filter in the device stack",
         "A filter driver attaches a device of its own on top of \\Device\\IosimHello. Now every\n"
         "request to that name reaches the filter first (the stack has 2 layers, so each IRP\n"
         "has 2 stack locations): it passes the IRP down with IoCallDriver, and its completion\n"
         "routine runs on the way back up, bottom to top. (seed 004, device stacks)",
         [](Machine& m, Console& c) {
             if (!load(m, c, "hello", "hello.sys") || !load(m, c, "logfilter", "logfilter.sys"))
                 return false;
             bool ok = run_app(m, c, "hello_open.exe");
             unload(m, c, "logfilter");
             unload(m, c, "hello");
             return ok;
         }},
        {"A read the driver fills",
         "IRP_MJ_READ on a DO_BUFFERED_IO device: the driver writes into SystemBuffer and\n"
         "sets Information; the I/O manager copies that many bytes to the app. (seed 002)",
         [](Machine& m, Console& c) {
             if (!load(m, c, "pattern", "pattern.sys"))
                 return false;
             bool ok = run_app(m, c, "pattern_reader.exe");
             unload(m, c, "pattern");
             return ok;
         }},
    };
}

// The last step: a driver that breaks rules, on a machine of its own.
bool mistakes_step(ConsoleOptions options)
{
    Console console(options);
    Machine machine(console.machine_options(true));
    console.attach(machine);
    if (!load(machine, console, "buggy", "buggy.sys"))
        return false;
    console.say("  First, unloading: the driver deletes the wrong link name (seed 002's mistake).\n");
    machine.unload_driver("buggy");
    if (!load(machine, console, "buggy2", "buggy.sys"))
        return false;
    console.say("  Loading it again: its old link is still there, so IoCreateSymbolicLink collides.\n");
    console.say("  Now an IOCTL the driver completes twice:\n");
    try {
        machine.run_app("buggy_client.exe", {"double-complete"});
        console.line("ERROR", "the machine did not stop");
        return false;
    } catch (const BugCheck& stop) {
        console.flush_app_output();
        std::string report = stop.info().report;
        size_t start = 0;
        while (start < report.size()) {
            size_t end = report.find('\n', start);
            if (end == std::string::npos)
                end = report.size();
            console.line("BUGCHECK", report.substr(start, end - start));
            start = end + 1;
        }
    }
    return true;
}

}  // namespace

int run_tour(ConsoleOptions options)
{
    auto all = steps();
    size_t total = all.size() + 1;
    Console console(options);
    console.say("iosim guided tour: a Windows I/O request's whole path, one step at a time.\n"
                "Labels: app = what the app printed, dbg = the driver's DbgPrint, irp = the I/O\n"
                "manager's IRP events, object/driver = namespace and driver events.\n");
    bool ok = true;
    {
        Machine machine(console.machine_options(true));
        console.attach(machine);
        for (size_t i = 0; i < all.size(); ++i) {
            console.say(fmt::format("\n[{}/{}] {}\n{}\n\n", i + 1, total, all[i].title, all[i].lesson));
            ok = all[i].run(machine, console) && ok;
        }
    }
    console.say(fmt::format("\n[{}/{}] When a driver breaks a rule\n"
                            "Windows would show a blue screen or silently leak. iosim reports the rule, the\n"
                            "driver's source line and the IRP's history instead.\n\n",
                            total, total));
    ok = mistakes_step(options) && ok;
    console.say("\nWhat to try next:\n"
                "  iosim exec -d ioctl_buffered.sys ioctl_client.exe      one app with its driver, every IRP shown\n"
                "  iosim run scenarios/hello.iosim                        a scenario script, its expectations checked\n"
                "  iosim shell                                            the same commands, typed (try: step, !irp)\n"
                "  iosim run --trace flow.mmd --trace-format mermaid scenarios/hello.iosim   the flow as a picture\n"
                "  iosim exec -d buggy.sys buggy_client.exe null-pointer  a NULL pointer becomes bug check 0x50\n"
                "  gdb -x build/dev/bin/iosim-gdb.py --args build/dev/bin/iosim exec -d hello.sys hello_open.exe\n"
                "                                                         then: break HelloCreateClose, run, bt, irp\n"
                "  docs/getting-started.md: your own driver and app with find_package(iosim)\n");
    return ok ? kOk : kInternalError;
}

}  // namespace iosim::cli
