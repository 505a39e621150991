// command.cpp - the command table (syntax and one line per command), the unsupported
// words with their reasons, and outcome/diagnostic formatting.
#include "lang/command.h"

#include <fmt/format.h>

namespace iosim::lang {

const std::vector<CommandInfo>& command_table()
{
    static const std::vector<CommandInfo> table{
        {"include", "include \"FILE\"", "run another script here (relative to this file)"},
        {"load", "load MODULE [as SERVICE]", "load a driver module (hello.sys, or a path)"},
        {"unload", "unload SERVICE", "unload a driver (DriverUnload)"},
        {"process", "process NAME", "create a process; later commands act in it"},
        {"in", "in NAME", "act in the process NAME from now on"},
        {"exit", "exit [NAME]", "end a process (its handles close)"},
        {"run", "run APP [ARGS...] [input \"TEXT\"]", "run an app module as its own process"},
        {"open", "VAR = open PATH [access ACCESS] [share SHARE] [overlapped]", "CreateFile in the current process"},
        {"close", "close VAR", "CloseHandle"},
        {"read", "[REQ =] read VAR LENGTH [offset N]", "ReadFile (REQ: with an OVERLAPPED, on an overlapped handle)"},
        {"write", "[REQ =] write VAR DATA [offset N]", "WriteFile (REQ: with an OVERLAPPED)"},
        {"ioctl", "[REQ =] ioctl VAR CODE [in DATA] [out LENGTH]", "DeviceIoControl (REQ: with an OVERLAPPED)"},
        {"wait", "wait REQ [timeout DURATION]", "GetOverlappedResultEx: wait for a named request while time runs"},
        {"cancel", "cancel NAME", "NAME a request: CancelIoEx on its OVERLAPPED; NAME a handle: CancelIo"},
        {"attach", "attach SERVICE to DEVICE",
         "tell a loaded run-time filter (attachfilter) to attach a device on top of DEVICE's stack"},
        {"detach", "detach SERVICE from DEVICE", "tell it to take its device off DEVICE's stack again"},
        {"advance", "advance DURATION", "advance the simulated clock (100ns, 5us, 100ms, 2s)"},
        {"seed", "seed N", "record the run's seed"},
        {"break", "break IRP_MJ_X [at DEVICE] [do !CMD[; !CMD]...]", "stop on an IRP's dispatch and inspect"},
        {"delete", "delete N", "delete breakpoint N"},
        {"!", "!COMMAND [ARGS]", "inspection (WinDbg style)"},
        {"expect", "expect WHAT ...", "check a result; see the expectations table"},
        {"print", "print \"TEXT\"", "narration"},
        {"device", "device declare HARDWARE_ID function SERVICE [upper SERVICE...] [lower SERVICE...]",
         "declare the drivers of a hardware id, as an INF does (PnP)"},
        {"plug", "plug HARDWARE_ID", "plug a declared device into the root bus: AddDevice, START, its children"},
        {"unplug", "unplug DEVICE [surprise]", "remove a root device (instance path or hardware id), children first"},
        {"sleep", "sleep [STATE]", "put the machine to sleep in S1, S2, S3 (default) or S4: QUERY_POWER, then SET_POWER"},
        {"wake", "wake", "wake the machine: SET_POWER for the working state, parents first"},
        {"verifier", "verifier special-pool [MODULE]",
         "Driver Verifier's special pool for a driver (or all): overruns and uses after free fault at the line"},
    };
    return table;
}

const std::vector<UnsupportedInfo>& unsupported_table()
{
    static const std::vector<UnsupportedInfo> table{};
    return table;
}

const std::vector<std::string>& expectation_words()
{
    static const std::vector<std::string> words{"status", "bytes",  "data",   "last-error", "bugcheck", "clean",
                                                "finding", "trace", "object", "output",     "exit"};
    return words;
}

const char* outcome_name(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Ok: return "ok";
    case Outcome::ExpectationFailed: return "expectation failed";
    case Outcome::BadScript: return "bad script";
    case Outcome::BugCheck: return "bug check";
    case Outcome::InternalError: return "internal error";
    }
    return "?";
}

std::string format_error(const Location& where, std::string_view message)
{
    std::string prefix = where.file.empty() ? std::string() : where.file + ":";
    if (where.line > 0) {
        prefix += std::to_string(where.line) + ":";
        if (where.column > 0)
            prefix += std::to_string(where.column) + ":";
    }
    if (!prefix.empty())
        prefix += " ";
    return fmt::format("{}error: {}", prefix, message);
}

}  // namespace iosim::lang
