// apc.cpp - queueing APCs to a simulated thread and delivering them at service exit.
//
// The queues themselves belong to the scheduler's contexts (ke/scheduler.h): a context
// runs its own APCs in its waits. This file finds the context for a thread and adds the
// one delivery point a wait does not cover: the end of a system service.
// NT counterparts: KeInsertQueueApc, KiDeliverApc.
#include "ke/apc.h"

#include "ke/scheduler.h"
#include "ps/process.h"
#include "system.h"

namespace iosim::ke {

namespace {

bool queue(Thread* thread, bool user, std::function<void()> routine)
{
    System* sys = System::current();
    if (sys == nullptr || thread == nullptr)
        return false;
    Context* target = sys->scheduler().context_of(thread);
    if (target == nullptr)
        return false;
    return sys->scheduler().queue_apc(target, user, std::move(routine));
}

}  // namespace

bool queue_kernel_apc(Thread* thread, std::function<void()> routine) { return queue(thread, false, std::move(routine)); }

bool queue_user_apc(Thread* thread, std::function<void()> routine) { return queue(thread, true, std::move(routine)); }

size_t deliver_kernel_apcs()
{
    System* sys = System::current();
    Thread* thread = current_thread();
    if (sys == nullptr || thread == nullptr || thread->irql != PASSIVE_LEVEL || !thread->driver_calls.empty())
        return 0;
    Context* self = Scheduler::current();
    if (self == nullptr || self->identity != thread || !sys->scheduler().apc_pending(self, false))
        return 0;
    return sys->scheduler().deliver_apcs(false);
}

}  // namespace iosim::ke
