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

std::string Trace::format(const Event& event)
{
    return fmt::format("{:>4}  p{}:t{} {:<8} {}", event.seq, event.pid, event.tid, irql_name(event.irql), event.text);
}

}  // namespace iosim::trace
