// scheduler.cpp - !timer and !dpcs: what the scheduler would show, and why it is empty.
//
// iosim runs every request synchronously in the requesting thread; timers, DPCs and
// waits come with the scheduler (docs/roadmap.md). The kernel routines that would set a
// timer or queue a DPC are declared but not provided, so a driver that calls them does
// not load: there can be no timer or DPC to list. These commands say exactly that
// instead of printing an empty table that would look like a real, idle timer list.
#include "inspect/commands.h"

namespace iosim::inspect::detail {

bool timer(const Args& args, std::string& out, std::string& error)
{
    if (!args.empty()) {
        error = "!timer: expected no arguments";
        return false;
    }
    out += "no timers are set: iosim does not simulate timers yet (docs/roadmap.md)\n";
    return true;
}

bool dpcs(const Args& args, std::string& out, std::string& error)
{
    if (!args.empty()) {
        error = "!dpcs: expected no arguments";
        return false;
    }
    out += "no DPCs are queued: iosim does not simulate DPCs yet (docs/roadmap.md)\n";
    return true;
}

}  // namespace iosim::inspect::detail
