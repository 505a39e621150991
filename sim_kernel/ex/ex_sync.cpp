// ex_sync.cpp - the waiting and reporting the executive's locks share (ex/ex_sync.h).
#include "ex/ex_sync.h"

#include <fmt/format.h>

#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"

namespace iosim::ex {

void wait_for_lock(KEVENT* event, std::string why)
{
    DISPATCHER_HEADER* header = &event->Header;
    System::current()->scheduler().wait(&header, 1, false, nullptr, std::move(why));
}

void wake_lock_waiters(KEVENT* event)
{
    // A pulse: the waiters there are now are released, and nothing stays signalled for
    // a later one (it checks the lock itself before it waits).
    event->Header.SignalState = 1;
    System::current()->scheduler().signalled(&event->Header);
    event->Header.SignalState = 0;
}

std::string thread_name(const Thread* thread)
{
    if (thread == nullptr)
        return "nobody";
    return fmt::format("t{} ({})", thread->tid(), thread->process() != nullptr ? thread->process()->image_name() : "?");
}

void report_rule(const char* code, std::string message, const void* caller)
{
    if (System* sys = System::current())
        sys->report({code, std::move(message), ldr::describe_call_site(caller), {}});
}

}  // namespace iosim::ex
