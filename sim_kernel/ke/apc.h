// apc.h - asynchronous procedure calls: work that must run in one particular simulated
// thread, the next time that thread runs.
//
// Two kinds, as on Windows:
//   kernel APCs (the special kernel APC the I/O manager queues to finish a request in the
//     requester's context) run at APC_LEVEL at the start of the thread's next wait, or at
//     the end of the system service it is in (deliver_kernel_apcs); a waiting thread is
//     woken to run one and then waits again;
//   user APCs (ReadFileEx completion routines, QueueUserAPC) run only when the thread
//     waits alertably (SleepEx(.., TRUE), WaitFor*Ex(.., TRUE)); the wait then returns
//     STATUS_USER_APC (WAIT_IO_COMPLETION).
// A thread is found by the scheduler context running it (Scheduler::context_of). When no
// context runs it any more, the APC is not queued and the caller decides what to do (the
// I/O manager then finishes the request at once, attached to the requester's process).
// Windows delivers a kernel APC to a running thread as soon as its IRQL drops below
// APC_LEVEL; iosim waits for the next wait or service exit, which no code can tell apart
// except by tracing.
// NT counterparts: KeInitializeApc, KeInsertQueueApc, KiDeliverApc, NtQueueApcThread.
#pragma once

#include <functional>

#include "nt.h"

namespace iosim {
class Thread;
}

namespace iosim::ke {

// Queues a special kernel APC to `thread`. False: no context runs `thread` now.
bool queue_kernel_apc(Thread* thread, std::function<void()> routine);
// Queues a user-mode APC to `thread`. False: no context runs `thread` now.
bool queue_user_apc(Thread* thread, std::function<void()> routine);
// At a system service's exit: runs the current thread's kernel APCs if it may take them
// now (PASSIVE_LEVEL, not inside a driver routine). Returns how many ran.
size_t deliver_kernel_apcs();

}  // namespace iosim::ke
