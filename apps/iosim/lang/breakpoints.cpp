// breakpoints.cpp - the session's trace listener: every event is shown as it happens (like
// the tour), the IRPs of the running request are noted for failure reports, and IRP
// breakpoints fire when a matching IRP is dispatched, running their inspection commands
// while the IRP is still in flight.
#include <fmt/format.h>

#include <algorithm>
#include <strings.h>

#include "inspect/inspect.h"
#include "irp.h"
#include "lang/names.h"
#include "lang/session_impl.h"
#include "ps/process.h"
#include "trace/trace.h"

namespace iosim::lang {

namespace {

const char* label_of(trace::Kind kind)
{
    switch (kind) {
    case trace::Kind::Irp: return "irp";
    case trace::Kind::Driver: return "driver";
    case trace::Kind::Object: return "object";
    case trace::Kind::Process: return "process";
    case trace::Kind::Win32: return "win32";
    case trace::Kind::Finding: return "REPORT";
    case trace::Kind::Irql: return "irql";
    default: return "trace";
    }
}

bool same_name(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

void Session::Impl::on_event(const trace::Event& event)
{
    if (collecting && event.irp != 0 && std::find(last.irps.begin(), last.irps.end(), event.irp) == last.irps.end())
        last.irps.push_back(event.irp);
    if (options.trace && event.kind != trace::Kind::DebugPrint) {
        flush_app();
        line(label_of(event.kind), options.verbose ? trace::Trace::format(event) : event.text);
    }
    if (options.on_event)
        options.on_event(event);
    if (in_breakpoint)
        return;
    // The I/O manager records "dispatched" just before it calls the dispatch routine, so a
    // breakpoint's commands wait for the first event inside the driver (its DbgPrint, its
    // IoCompleteRequest, a call further down): then the IRP is on the thread's stack of
    // driver calls and !irp finds it. If the routine returns first, they run then.
    Thread* thread = current_thread();
    bool inside_driver = thread != nullptr && !thread->driver_calls.empty() && thread->driver_calls.back().irp != nullptr;
    if (!armed.empty()) {
        std::vector<ArmedBreakpoint> ready;
        for (auto it = armed.begin(); it != armed.end();) {
            bool returned = event.irp == it->irp && (event.info.phase == trace::IrpPhase::Returned ||
                                                     event.info.phase == trace::IrpPhase::Freed);
            if (inside_driver || returned) {
                ready.push_back(*it);
                it = armed.erase(it);
            } else {
                ++it;
            }
        }
        for (const auto& a : ready)
            run_breakpoint_commands(a.breakpoint, inside_driver ? "" : "(the dispatch routine returned before any "
                                                                      "traced step: the IRP is no longer in a driver)");
    }
    if (event.kind != trace::Kind::Irp || event.info.phase != trace::IrpPhase::Dispatched)
        return;
    std::vector<Breakpoint> matching;  // copied: the commands run below may not change the list, but be safe
    for (const auto& bp : breakpoints)
        if (bp.major == event.info.major && (bp.device.empty() || same_name(bp.device, event.info.device)))
            matching.push_back(bp);
    for (const auto& bp : matching) {
        flush_app();
        out(fmt::format("breakpoint {} hit: {}\n", bp.id, event.text));
        if (bp.commands.empty())
            continue;
        if (inside_driver)
            run_breakpoint_commands(bp, "");
        else
            armed.push_back(ArmedBreakpoint{bp, event.irp});
    }
}

void Session::Impl::run_breakpoint_commands(const Breakpoint& bp, std::string_view note)
{
    in_breakpoint = true;
    flush_app();
    if (!note.empty())
        out(fmt::format("breakpoint {}: {}\n", bp.id, note));
    for (const auto& command : bp.commands) {
        std::string text;
        std::string error;
        bool ok = inspect::run(command, text, error);
        out(fmt::format("> {}\n", command));
        if (!text.empty())
            out(text.back() == '\n' ? text : text + "\n");
        if (!ok) {
            error_at(bp.where, fmt::format("breakpoint {}: {} failed: {}", bp.id, command,
                                           error.empty() ? std::string("(no message)") : error));
            pending = Outcome::BadScript;
        }
    }
    in_breakpoint = false;
}

Outcome Session::Impl::do_break(const Command& command)
{
    Breakpoint bp;
    bp.id = next_breakpoint++;
    bp.major = command.major;
    bp.device = command.name;
    bp.commands = command.args;
    bp.where = command.where;
    breakpoints.push_back(bp);
    std::string text = fmt::format("breakpoint {}: {}", bp.id, io::major_name(bp.major));
    if (!bp.device.empty())
        text += " at " + bp.device;
    if (!bp.commands.empty())
        text += fmt::format(", then {}", fmt::join(bp.commands, "; "));
    line("break", text);
    return Outcome::Ok;
}

Outcome Session::Impl::do_delete(const Command& command)
{
    auto it = std::find_if(breakpoints.begin(), breakpoints.end(),
                           [&](const Breakpoint& bp) { return static_cast<uint64_t>(bp.id) == command.number; });
    if (it == breakpoints.end()) {
        std::vector<int> ids;
        for (const auto& bp : breakpoints)
            ids.push_back(bp.id);
        return error_at(command.where, fmt::format("no breakpoint {} (breakpoints: {})", command.number,
                                                   ids.empty() ? std::string("none") : fmt::format("{}", fmt::join(ids, ", "))));
    }
    breakpoints.erase(it);
    line("break", fmt::format("breakpoint {} deleted", command.number));
    return Outcome::Ok;
}

std::vector<std::string> Session::Impl::irp_lines(const std::vector<uint64_t>& irps)
{
    std::vector<std::string> lines;
    for (const auto& event : machine.system().trace().events())
        if (event.irp != 0 && std::find(irps.begin(), irps.end(), event.irp) != irps.end())
            lines.push_back(trace::Trace::format(event));
    return lines;
}

}  // namespace iosim::lang
