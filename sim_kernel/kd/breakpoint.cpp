// breakpoint.cpp - DbgBreakPoint: logs, and stops in the debugger when one is attached.
//
// On Windows a breakpoint with no kernel debugger attached is a bug check; iosim, being
// for students, logs it (naming the driver line) and carries on, or raises SIGTRAP when a
// debugger (gdb) is tracing the process, so execution stops right there.
// NT counterparts: DbgBreakPoint, DbgBreakPointWithStatus.
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "kd/debug_print.h"
#include "ldr/symbolize.h"
#include "wdm_impl.h"

namespace {

bool debugger_attached()
{
    std::FILE* status = std::fopen("/proc/self/status", "r");
    if (status == nullptr)
        return false;
    char line[256];
    bool traced = false;
    while (std::fgets(line, sizeof(line), status) != nullptr) {
        if (std::strncmp(line, "TracerPid:", 10) == 0) {
            traced = std::atoi(line + 10) != 0;
            break;
        }
    }
    std::fclose(status);
    return traced;
}

void breakpoint(const void* caller, const char* what)
{
    bool attached = debugger_attached();
    iosim::kd::debug_print(caller, DPFLTR_DEFAULT_ID, DPFLTR_ERROR_LEVEL,
                           fmt::format("{} at {}{}", what, iosim::ldr::describe_call_site(caller),
                                       attached ? ": stopping in the debugger" : " (no debugger attached: continuing)"));
    if (attached)
        std::raise(SIGTRAP);
}

}  // namespace

extern "C" {

void DbgBreakPoint(void) { breakpoint(__builtin_return_address(0), "DbgBreakPoint"); }

void DbgBreakPointWithStatus(ULONG Status)
{
    breakpoint(__builtin_return_address(0), fmt::format("DbgBreakPointWithStatus(0x{:08X})", Status).c_str());
}

}  // extern "C"
