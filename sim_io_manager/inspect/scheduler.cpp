// scheduler.cpp - !timer and !dpcs: the scheduler's set timers and queued DPCs.
//
// Like WinDbg's !timer and !dpcs, for the simulated machine: each timer with its due time
// (simulated, relative to now), its period and the DPC it queues when it expires; each
// queued DPC with its CPU and deferred routine. The lists come from a snapshot taken
// under the scheduler's lock (ke::Scheduler::timers, queued_dpcs), so nothing runs while
// they are read. DPCs are listed by CPU, then routine name, so the output does not depend
// on where objects happen to be in memory.
#include <fmt/format.h>

#include <algorithm>

#include "inspect/commands.h"
#include "ke/scheduler.h"
#include "ldr/symbolize.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim::inspect::detail {

namespace {

std::string routine_of(const KDPC* dpc)
{
    if (dpc == nullptr)
        return "(no DPC: waiters only)";
    return ldr::describe_function(reinterpret_cast<const void*>(dpc->DeferredRoutine));
}

// "12.5 ms" for a duration in 100 ns units.
std::string duration(int64_t units)
{
    return fmt::format("{:.3f} ms", static_cast<double>(units) / 10'000.0);
}

}  // namespace

bool timer(const Args& args, std::string& out, std::string& error)
{
    if (!args.empty()) {
        error = "!timer: expected no arguments";
        return false;
    }
    System* sys = System::current();
    if (sys == nullptr) {
        error = "!timer: no machine";
        return false;
    }
    ke::Scheduler& scheduler = sys->scheduler();
    auto timers = scheduler.timers();
    if (timers.empty()) {
        out += "no timers are set\n";
        return true;
    }
    int64_t now = scheduler.now();
    out += fmt::format("{} timer(s) set, soonest first (simulated time now {}):\n", timers.size(), duration(now));
    for (const auto& t : timers)
        out += fmt::format("  KTIMER {} due in {}{}  DPC: {}\n", static_cast<const void*>(t.timer),
                           duration(t.due - now), t.period != 0 ? fmt::format(", periodic every {} ms", t.period) : "",
                           routine_of(t.dpc));
    return true;
}

bool dpcs(const Args& args, std::string& out, std::string& error)
{
    if (!args.empty()) {
        error = "!dpcs: expected no arguments";
        return false;
    }
    System* sys = System::current();
    if (sys == nullptr) {
        error = "!dpcs: no machine";
        return false;
    }
    struct Row {
        unsigned cpu;
        std::string routine;
        const void* dpc;
    };
    std::vector<Row> rows;
    for (const auto& d : sys->scheduler().queued_dpcs())
        rows.push_back({d.cpu, routine_of(d.dpc), d.dpc});
    if (rows.empty()) {
        out += "no DPCs are queued (a queued DPC runs as soon as its CPU's IRQL drops below DISPATCH_LEVEL)\n";
        return true;
    }
    std::sort(rows.begin(), rows.end(),
              [](const Row& a, const Row& b) { return std::tie(a.cpu, a.routine) < std::tie(b.cpu, b.routine); });
    out += fmt::format("{} DPC(s) queued:\n", rows.size());
    for (const auto& r : rows)
        out += fmt::format("  CPU {}: KDPC {} -> {}\n", r.cpu, r.dpc, r.routine);
    return true;
}

}  // namespace iosim::inspect::detail
