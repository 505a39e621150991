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
        {"open", "VAR = open PATH [access ACCESS] [share SHARE]", "CreateFile in the current process"},
        {"close", "close VAR", "CloseHandle"},
        {"read", "read VAR LENGTH [offset N]", "ReadFile"},
        {"write", "write VAR DATA [offset N]", "WriteFile"},
        {"ioctl", "ioctl VAR CODE [in DATA] [out LENGTH]", "DeviceIoControl"},
        {"advance", "advance DURATION", "advance the simulated clock (100ns, 5us, 100ms, 2s)"},
        {"seed", "seed N", "record the run's seed"},
        {"break", "break IRP_MJ_X [at DEVICE] [do !CMD[; !CMD]...]", "stop on an IRP's dispatch and inspect"},
        {"delete", "delete N", "delete breakpoint N"},
        {"!", "!COMMAND [ARGS]", "inspection (WinDbg style)"},
        {"expect", "expect WHAT ...", "check a result; see the expectations table"},
        {"print", "print \"TEXT\"", "narration"},
    };
    return table;
}

const std::vector<UnsupportedInfo>& unsupported_table()
{
    static const std::vector<UnsupportedInfo> table{
        {"overlapped", "needs threads and asynchronous I/O, which iosim does not simulate yet"},
        {"wait", "needs threads and asynchronous I/O, which iosim does not simulate yet"},
        {"cancel", "needs threads and asynchronous I/O (IRPs that stay pending), which iosim does not simulate yet"},
        {"attach", "needs device stacks (IoAttachDeviceToDeviceStack), which iosim does not simulate yet"},
        {"detach", "needs device stacks (IoDetachDevice), which iosim does not simulate yet"},
        {"plug", "needs the PnP manager, which iosim does not simulate yet"},
        {"unplug", "needs the PnP manager, which iosim does not simulate yet"},
    };
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
