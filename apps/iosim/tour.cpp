// tour.cpp - a narrated run of the seeds' lessons, in order.
//
// Each step loads sample drivers, runs their apps and shows every IRP on the way, with a
// few lines saying what to look at. The order is the issue's: load and namespace, symbolic
// link, buffered IOCTL (then reads and writes), direct I/O, neither I/O and its hazard, a
// pending request completed later, a filter in the stack; then a driver that breaks rules.
// The steps before the neither hazard share one Machine and those after it another: the
// hazard and the rule breaker crash on purpose, so each has a machine of its own (and only
// one Machine may exist at a time). The neither I/O step needs two live processes at once,
// so it is typed in the command language (a lang::Session, what `iosim run` and the shell
// use) rather than run as one app.
#include "tour.h"

#include <fmt/format.h>

#include <functional>
#include <vector>

#include "exit_codes.h"
#include "lang/session.h"
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
        {"Direct I/O through an MDL",
         "On a DO_DIRECT_IO device the I/O manager does not copy the caller's buffer: it\n"
         "locks the physical page frames behind it and lists them in an MDL (Irp->MdlAddress).\n"
         "MmGetMdlVirtualAddress is the app's own buffer address (000001..., user space);\n"
         "MmGetSystemAddressForMdlSafe maps the same frames a second time, at a system address\n"
         "(00007E...) with the same page offset, and what the driver writes there lands in\n"
         "the app's buffer. Compare the app's buffer address, the driver's two addresses and\n"
         "the frame number. An empty transfer has no MDL. (seed 000, section 10)",
         [](Machine& m, Console& c) {
             if (!load(m, c, "direct", "direct.sys"))
                 return false;
             bool ok = run_app(m, c, "direct_client.exe");
             unload(m, c, "direct");
             return ok;
         }},
    };
}

// The steps after the neither I/O hazard, on a machine of their own.
std::vector<Step> later_steps()
{
    return {
        {"A request the driver pends and completes later",
         "pending_timer marks every read pending (IoMarkIrpPending) and returns STATUS_PENDING;\n"
         "a KTIMER's DPC completes it 100 ms later, at DISPATCH_LEVEL, in whatever thread runs.\n"
         "The app opened the device with FILE_FLAG_OVERLAPPED, so each ReadFile returns FALSE\n"
         "with ERROR_IO_PENDING at once and three reads are out together. While the app waits,\n"
         "simulated time jumps to the timer; the I/O manager's kernel APC then copies the bytes\n"
         "back and writes the OVERLAPPED in the app's own thread. Last, a ReadFileEx whose\n"
         "completion routine runs as a user APC in SleepEx. (docs/async-io.md; in a script:\n"
         "r = read h 16, then wait r, or cancel r - scenarios/pending.iosim)",
         [](Machine& m, Console& c) {
             if (!load(m, c, "pending_timer", "pending_timer.sys"))
                 return false;
             bool ok = run_app(m, c, "pending_client.exe");
             unload(m, c, "pending_timer");
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

// The neither-I/O hazard (seeds 000 section 10 and 004, "virtual address space"): a
// METHOD_NEITHER driver keeps alice's raw user pointer; used again while alice's process
// is current it works, used while bob's is current it is a page fault the report explains.
bool neither_hazard_step(ConsoleOptions options)
{
    Console console(options);
    lang::Session::Options session_options;
    session_options.trace = options.show_trace;
    session_options.quiet = options.quiet;
    session_options.verbose = options.verbose;
    session_options.out = [&console](std::string_view text) { console.say(text); };
    session_options.err = [&console](std::string_view text) { console.say(text); };
    session_options.on_event = [&options](const trace::Event& event) {
        if (options.trace_file != nullptr)
            std::fprintf(options.trace_file, "%s\n", trace::Trace::format(event).c_str());
        if (options.collected != nullptr) {
            trace::Event copy = event;
            copy.seq = options.collected->size() + 1;
            options.collected->push_back(std::move(copy));
        }
    };
    lang::Session session(std::move(session_options));
    const char* lines[] = {
        "load neither_unsafe.sys",
        "process alice",
        "a = open \\\\.\\IosimNeitherUnsafe",
        "ioctl a ctl 0x22 0x910 neither any in \"alice's secret\"",
        "ioctl a ctl 0x22 0x911 buffered any out 14",
        "process bob",
        "b = open \\\\.\\IosimNeitherUnsafe",
        "ioctl b ctl 0x22 0x911 buffered any out 14",
    };
    int number = 0;
    for (const char* line : lines) {
        lang::Outcome outcome = session.run_line(line, {"tour", ++number, 0});
        if (outcome == lang::Outcome::BugCheck)
            return true;
        if (outcome != lang::Outcome::Ok)
            return false;
    }
    console.line("ERROR", "the machine did not stop");
    return false;
}

}  // namespace

// Runs `list` on one machine, numbering from `first`.
bool run_steps(Console& console, const std::vector<Step>& list, size_t first, size_t total)
{
    bool ok = true;
    Machine machine(console.machine_options(true));
    console.attach(machine);
    for (size_t i = 0; i < list.size(); ++i) {
        console.say(fmt::format("\n[{}/{}] {}\n{}\n\n", first + i, total, list[i].title, list[i].lesson));
        ok = list[i].run(machine, console) && ok;
    }
    return ok;
}

int run_tour(ConsoleOptions options)
{
    auto before = steps();
    auto after = later_steps();
    size_t total = before.size() + 1 + after.size() + 1;
    Console console(options);
    console.say("iosim guided tour: a Windows I/O request's whole path, one step at a time.\n"
                "Labels: app = what the app printed, dbg = the driver's DbgPrint, irp = the I/O\n"
                "manager's IRP events, object/driver = namespace and driver events.\n");
    bool ok = run_steps(console, before, 1, total);
    console.say(fmt::format("\n[{}/{}] A user pointer kept for later (METHOD_NEITHER)\n"
                            "With METHOD_NEITHER the driver gets the app's raw address, which means something\n"
                            "only while that app's process is current. The driver below keeps alice's pointer.\n"
                            "Used again while alice is current it works; used while bob is current, the same\n"
                            "address is not alice's memory: a page fault, bug check 0x50. The report names the\n"
                            "driver line, the address, its owner (alice.exe) and the current process (bob.exe).\n"
                            "(seed 000 section 10; drivers/neither shows the safe way: probe, copy, __try)\n\n",
                            before.size() + 1, total));
    ok = neither_hazard_step(options) && ok;
    ok = run_steps(console, after, before.size() + 2, total) && ok;
    console.say(fmt::format("\n[{}/{}] When a driver breaks a rule\n"
                            "Windows would show a blue screen or silently leak. iosim reports the rule, the\n"
                            "driver's source line and the IRP's history instead.\n\n",
                            total, total));
    ok = mistakes_step(options) && ok;
    console.say("\nWhat to try next:\n"
                "  iosim exec -d ioctl_buffered.sys ioctl_client.exe      one app with its driver, every IRP shown\n"
                "  iosim run scenarios/hello.iosim                        a scenario script, its expectations checked\n"
                "  iosim run scenarios/pending.iosim                      overlapped requests: wait, cancel, time\n"
                "  iosim shell                                            the same commands, typed (try: step, !irp)\n"
                "  iosim run --trace flow.mmd --trace-format mermaid scenarios/hello.iosim   the flow as a picture\n"
                "  iosim exec -d buggy.sys buggy_client.exe null-pointer  a NULL pointer becomes bug check 0x50\n"
                "  gdb -x build/dev/bin/iosim-gdb.py --args build/dev/bin/iosim exec -d hello.sys hello_open.exe\n"
                "                                                         then: break HelloCreateClose, run, bt, irp\n"
                "  docs/getting-started.md: your own driver and app with find_package(iosim)\n");
    return ok ? kOk : kInternalError;
}

}  // namespace iosim::cli
