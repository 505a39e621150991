// trace_json.cpp - the trace in Chrome Trace Event format, for Perfetto and chrome://tracing.
//
//   {"traceEvents":[...], "displayTimeUnit":"ns", "otherData":{...}}
//
// Time is logical: ts (microseconds in the format) is the event's sequence number, so the
// same events always give the same file. Tracks: one per (pid, tid), named by "M"
// metadata events (process_name from the "process N (image) created" events, "System" for
// pid 4; thread_name "image tN"). Each event is an instant ("ph":"i", thread scope) with
// its text and IRP fields in args; each IRP is an async slice ("b" at its first event, "e"
// at its Freed event or its last event); each dispatch routine call is a complete slice
// ("X") from the Dispatched event to the matching Returned event of the same IRP and
// device, so a pass-down nests inside the upper driver's dispatch on the thread's track.
// Every event says which CPU it happened on (args.cpu) and its simulated time (args.time).
// Scheduler events go on one track per CPU (process "CPUs", thread "cpu N"; args.thread names the thread that recorded
// it), and each context switch opens a complete slice ("X", cat "cpu") named after the
// thread switched to, ending at that CPU's next switch (or the last event): which thread ran
// where, in logical time.
#include <fmt/format.h>

#include <cctype>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "rtl/status_names.h"
#include "trace/trace_export.h"

namespace iosim::trace {

namespace {

using nlohmann::json;
using ThreadKey = std::pair<uint32_t, uint32_t>;  // (pid, tid)

constexpr uint32_t kCpuPid = 1000000;  // the CPU tracks' "process" (no simulated pid gets this high)

// Scheduler events go on their CPU's track.
std::optional<unsigned> cpu_of(const Event& event)
{
    if (event.kind != Kind::Scheduler)
        return std::nullopt;
    return event.cpu;
}

// The thread a context switch switches to: "... context switch: t16 (main) -> t17 (x)" -> "t17 (x)".
std::optional<std::string> switched_to(const Event& event)
{
    size_t at = event.text.find("context switch: ");
    if (at == std::string::npos)
        return std::nullopt;
    size_t arrow = event.text.find(" -> ", at);
    if (arrow == std::string::npos)
        return std::nullopt;
    return event.text.substr(arrow + 4);
}

struct IrpSpan {
    size_t first = 0;         // index of its first event
    size_t last = 0;          // index of its Freed event, else of its last event
    bool freed = false;
    std::optional<UCHAR> major;  // from its Allocated or first Dispatched event
};

struct Dispatch {
    size_t end = 0;  // index of the matching Returned event (or the trace's last event)
    bool returned = false;
};

std::string instant_name(const Event& event, const std::string& major)
{
    if (event.kind == Kind::DebugPrint)
        return "DbgPrint";
    if (event.kind != Kind::Irp)
        return detail::shorten(event.text, 48);
    switch (event.info.phase) {
    case IrpPhase::Allocated: return major + " allocated";
    case IrpPhase::Dispatched: return major + " dispatched";
    case IrpPhase::Returned: return major + " dispatch returned";
    case IrpPhase::Completed: return major + " completed";
    case IrpPhase::CompletionRoutine: return "completion routine";
    case IrpPhase::CopiedBack: return "copied back";
    case IrpPhase::Freed: return "IRP freed";
    case IrpPhase::None: break;
    }
    return detail::shorten(event.text, 48);
}

json base_event(const char* ph, const std::string& name, const char* cat, uint64_t ts, uint32_t pid, uint32_t tid)
{
    json e = json::object();
    e["name"] = name;
    e["ph"] = ph;
    e["cat"] = cat;
    e["ts"] = ts;
    e["pid"] = pid;
    e["tid"] = tid;
    return e;
}

}  // namespace

std::string to_json(const std::vector<Event>& events)
{
    // Pass 1: tracks, IRP spans and their request types, dispatch slices.
    std::set<ThreadKey> threads;
    std::map<uint64_t, IrpSpan> irps;
    std::map<size_t, Dispatch> dispatches;  // by the Dispatched event's index
    std::map<ThreadKey, std::vector<size_t>> open;  // per thread: Dispatched indexes, innermost last
    for (size_t i = 0; i < events.size(); ++i) {
        const Event& event = events[i];
        ThreadKey thread{event.pid, event.tid};
        threads.insert(thread);
        if (event.irp == 0)
            continue;
        auto [it, fresh] = irps.try_emplace(event.irp);
        IrpSpan& span = it->second;
        if (fresh)
            span.first = i;
        if (!span.freed)
            span.last = i;
        if (event.info.phase == IrpPhase::Freed)
            span.freed = true;
        if (!span.major && (event.info.phase == IrpPhase::Allocated || event.info.phase == IrpPhase::Dispatched))
            span.major = event.info.major;
        if (event.info.phase == IrpPhase::Dispatched) {
            dispatches[i] = Dispatch{};
            open[thread].push_back(i);
        } else if (event.info.phase == IrpPhase::Returned) {
            auto& stack = open[thread];
            for (size_t k = stack.size(); k-- > 0;) {
                const Event& d = events[stack[k]];
                if (d.irp == event.irp && d.info.device == event.info.device) {
                    // Anything opened above it and never returned ends here too, so slices nest.
                    for (size_t j = k; j < stack.size(); ++j)
                        dispatches[stack[j]].end = i;
                    dispatches[stack[k]].returned = true;
                    stack.resize(k);
                    break;
                }
            }
        }
    }
    size_t last_index = events.empty() ? 0 : events.size() - 1;

    // The CPU tracks: each context switch runs its thread until that CPU's next switch.
    std::set<unsigned> cpus;
    std::map<size_t, size_t> runs;  // context switch index -> index where the run ends
    {
        std::map<unsigned, size_t> running;  // cpu -> its latest switch
        for (size_t i = 0; i < events.size(); ++i) {
            auto cpu = cpu_of(events[i]);
            if (!cpu)
                continue;
            cpus.insert(*cpu);
            if (!switched_to(events[i]))
                continue;
            if (auto it = running.find(*cpu); it != running.end())
                runs[it->second] = i;
            running[*cpu] = i;
        }
        for (const auto& [cpu, index] : running)
            runs[index] = last_index;
    }
    for (auto& [thread, stack] : open)
        for (size_t index : stack)
            dispatches[index].end = last_index;
    std::map<size_t, std::vector<uint64_t>> irp_ends;  // event index -> IRPs whose slice ends there
    for (const auto& [irp, span] : irps)
        irp_ends[span.last].push_back(irp);

    auto major_of = [&](const Event& event) {
        auto it = irps.find(event.irp);
        UCHAR major = it != irps.end() && it->second.major ? *it->second.major : event.info.major;
        return detail::major_name(major);
    };

    json trace_events = json::array();

    // Track names.
    auto names = detail::process_names(events);
    std::map<uint32_t, std::string> process_name(names.begin(), names.end());
    std::set<uint32_t> named;
    for (const auto& [pid, tid] : threads) {
        auto it = process_name.find(pid);
        std::string image = it != process_name.end() ? it->second
                            : pid == 0                 ? std::string("(no process)")
                                                       : fmt::format("process {}", pid);
        if (named.insert(pid).second) {
            json m = base_event("M", "process_name", "__metadata", 0, pid, tid);
            m["args"] = {{"name", image}};
            trace_events.push_back(std::move(m));
        }
        json m = base_event("M", "thread_name", "__metadata", 0, pid, tid);
        m["args"] = {{"name", fmt::format("{} t{}", image, tid)}};
        trace_events.push_back(std::move(m));
    }

    if (!cpus.empty()) {
        json m = base_event("M", "process_name", "__metadata", 0, kCpuPid, *cpus.begin());
        m["args"] = {{"name", "CPUs"}};
        trace_events.push_back(std::move(m));
        for (unsigned cpu : cpus) {
            json t = base_event("M", "thread_name", "__metadata", 0, kCpuPid, cpu);
            t["args"] = {{"name", fmt::format("cpu {}", cpu)}};
            trace_events.push_back(std::move(t));
        }
    }

    // Pass 2: the events in order, slices opened and closed around them.
    for (size_t i = 0; i < events.size(); ++i) {
        const Event& event = events[i];
        std::string major = event.irp != 0 ? major_of(event) : std::string();
        if (event.irp != 0 && irps[event.irp].first == i) {
            json b = base_event("b", fmt::format("IRP#{} {}", event.irp, major), "irp", event.seq, event.pid, event.tid);
            b["id"] = event.irp;
            b["args"] = {{"irp", event.irp}, {"major", major}};
            trace_events.push_back(std::move(b));
        }
        if (auto d = dispatches.find(i); d != dispatches.end()) {
            const Event& end = events[d->second.end];
            std::string routine = event.info.routine.empty() ? major + " dispatch" : event.info.routine;
            json x = base_event("X", routine, "dispatch", event.seq, event.pid, event.tid);
            x["dur"] = end.seq - event.seq;
            x["args"] = {{"irp", event.irp},
                         {"major", major},
                         {"device", event.info.device},
                         {"driver", event.info.driver},
                         {"location", event.info.location},
                         {"stack_count", event.info.stack_count},
                         {"returned", d->second.returned ? status_text(end.info.status) : std::string("(never returned)")}};
            trace_events.push_back(std::move(x));
        }

        std::optional<unsigned> cpu = cpu_of(event);
        if (auto run = runs.find(i); run != runs.end()) {
            json x = base_event("X", *switched_to(event), "cpu", event.seq, kCpuPid, *cpu);
            x["dur"] = events[run->second].seq - event.seq;
            x["args"] = {{"cpu", *cpu}, {"switch", event.text}};
            trace_events.push_back(std::move(x));
        }

        json e = base_event("i", instant_name(event, major), detail::kind_name(event.kind), event.seq,
                            cpu ? kCpuPid : event.pid, cpu ? *cpu : event.tid);
        e["s"] = "t";
        json args = {{"seq", event.seq},
                     {"cpu", event.cpu},
                     {"time", Trace::format_time(event.time)},
                     {"irql", irql_name(event.irql)},
                     {"text", event.text}};
        if (cpu)
            args["thread"] = fmt::format("{}:{}", event.pid, event.tid);
        if (event.irp != 0)
            args["irp"] = event.irp;
        if (event.kind == Kind::Irp) {
            const IrpInfo& info = event.info;
            args["phase"] = detail::phase_name(info.phase);
            args["major"] = event.irp != 0 ? major : detail::major_name(info.major);
            args["location"] = info.location;
            args["stack_count"] = info.stack_count;
            args["status"] = status_text(info.status);
            args["information"] = static_cast<uint64_t>(info.information);
            args["device"] = info.device;
            args["driver"] = info.driver;
            args["routine"] = info.routine;
        }
        e["args"] = std::move(args);
        trace_events.push_back(std::move(e));

        if (auto ends = irp_ends.find(i); ends != irp_ends.end()) {
            for (uint64_t irp : ends->second) {
                // Ends on the track it began on, so viewers pair "b" and "e".
                const IrpSpan& span = irps[irp];
                const Event& begin = events[span.first];
                json x = base_event("e", fmt::format("IRP#{} {}", irp, major_of(begin)), "irp", event.seq, begin.pid,
                                    begin.tid);
                x["id"] = irp;
                x["args"] = {{"freed", span.freed}};
                trace_events.push_back(std::move(x));
            }
        }
    }

    json out = json::object();
    out["traceEvents"] = std::move(trace_events);
    out["displayTimeUnit"] = "ns";
    out["otherData"] = {{"generator", "iosim"},
                        {"clock", "logical: ts is the event's sequence number"},
                        {"events", events.size()},
                        {"cpus", cpus.size()},
                        {"irps", irps.size()}};
    return out.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace iosim::trace
