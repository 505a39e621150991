// trace.cpp - event recording and the one-line text form.
#include "trace/trace.h"

#include <fmt/format.h>

#include "ps/process.h"

namespace iosim::trace {

const char* irql_name(KIRQL irql)
{
    switch (irql) {
    case 0: return "PASSIVE";
    case 1: return "APC";
    case 2: return "DISPATCH";
    case 15: return "HIGH";
    default: return "DIRQL";
    }
}

void Trace::record(Kind kind, uint64_t irp, std::string text, IrpInfo info)
{
    if (!enabled())
        return;
    Event event;
    event.kind = kind;
    event.irp = irp;
    event.text = std::move(text);
    event.info = std::move(info);
    if (clock_) {
        Stamp stamp = clock_();
        event.cpu = stamp.cpu;
        event.time = stamp.time;
    }
    append(std::move(event));
}

void Trace::record_at(Stamp stamp, Kind kind, std::string text)
{
    if (!enabled())
        return;
    Event event;
    event.kind = kind;
    event.text = std::move(text);
    event.cpu = stamp.cpu;
    event.time = stamp.time;
    append(std::move(event));
}

void Trace::append(Event event)
{
    if (Thread* thread = current_thread()) {
        event.tid = thread->tid();
        event.pid = thread->process() != nullptr ? thread->process()->pid() : 0;
        event.irql = thread->irql;
    }
    std::function<void(const Event&)> listener;
    {
        std::lock_guard guard(lock_);
        event.seq = next_seq_++;
        events_.push_back(event);
        listener = listener_;
    }
    if (listener)
        listener(event);
}

std::vector<Event> Trace::events() const
{
    std::lock_guard guard(lock_);
    return events_;
}

void Trace::clear()
{
    std::lock_guard guard(lock_);
    events_.clear();
    next_seq_ = 1;
}

void Trace::set_listener(std::function<void(const Event&)> listener)
{
    std::lock_guard guard(lock_);
    listener_ = std::move(listener);
}

std::string Trace::format_time(int64_t time)
{
    // 100 ns units: four decimals of a millisecond are exact.
    const char* sign = time < 0 ? "-" : "";
    uint64_t magnitude = time < 0 ? static_cast<uint64_t>(-(time + 1)) + 1 : static_cast<uint64_t>(time);
    return fmt::format("{}{}.{:04}ms", sign, magnitude / 10000, magnitude % 10000);
}

std::string Trace::format(const Event& event)
{
    return fmt::format("{:>4} {:>10} cpu{} p{}:t{} {:<8} {}", event.seq, format_time(event.time), event.cpu, event.pid,
                       event.tid, irql_name(event.irql), event.text);
}

}  // namespace iosim::trace
