// inspect.h - WinDbg-style inspection commands over the running simulated machine.
//
// "!drvobj hello 2", "!devobj \Device\IosimHello", "!devstack", "!irp", "!object \",
// "!handle", "!poolused", "!process", "!thread", "!irql", "!timer", "!dpcs": the text
// is modelled on WinDbg's kernel extensions, but every line says only what iosim has (no
// fake PnP nodes, timers or DPCs). The machine is System::current(); without one every
// command fails with "no simulated machine is running".
//
// Addresses are printed as 0x%016llx; everything else in the text is deterministic, so
// tests can compare lines. An address typed by the user is never dereferenced unless it
// matches something iosim can find on its own (a live object in the object registry, or
// an IRP on some thread's stack of driver calls).
//
// Rules: read-only (no command changes the machine or runs driver code); not for use
// while another host thread is changing the machine. Called from gdb while the program
// is stopped inside one of iosim's locks (pool, handle table, object registry), a command
// that needs that lock waits forever: stop elsewhere.
// WinDbg counterparts: !drvobj, !devobj, !devstack, !irp, !object, !handle, !poolused,
// !process, !thread, !irql, !timer, !dpcs.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace iosim::inspect {

// Runs one inspection command line, e.g. "!drvobj hello 2", "!devstack \Device\IosimHello".
// On success returns true and the text (lines ending in '\n'); on an unknown command or
// bad arguments returns false and a one-line error naming what was expected
// ("!irp: expected an IRP address (0x...) or nothing").
bool run(const std::string& command_line, std::string& output, std::string& error);

// The command names ("!drvobj", ...) with a one-line help each, for the shell's
// completion and help.
std::vector<std::pair<std::string, std::string>> commands();

}  // namespace iosim::inspect

// For gdb's commands and any debugger: the same text, in a buffer owned by iosim (valid
// until the next call), or "error: ..." text.
extern "C" const char* iosim_inspect(const char* command_line);
