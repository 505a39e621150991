// user_thread.h - running app code on a host thread whose stack lives in a process's user space.
//
// An app's stack arrays are user memory of its process, as on Windows: a driver reaches
// them at the address the app sees, in the app's context, and faults on them from any
// other. So an app's main (and, later, every thread it creates) runs on a host thread
// whose stack is a "stack" reservation in the process's user address space, with an
// uncommitted guard page below it. The runner waits for the thread and rethrows whatever
// escaped it (a bug check, an internal error).
// NT counterparts: the user stack NtCreateThreadEx allocates (RtlCreateUserStack).
#pragma once

#include <cstddef>
#include <functional>

namespace iosim {

class Process;

// A thread stack in `process`'s user space: a "stack" reservation of `bytes` (rounded to
// pages) with one uncommitted guard page below it. `base` is the reservation (release it),
// `stack`/`size` what pthread_attr_setstack takes. Null base when there is no room.
struct UserStack {
    void* base = nullptr;
    void* stack = nullptr;
    size_t size = 0;
};
UserStack reserve_user_stack(Process* process, size_t bytes);

// Runs `body` on a new host thread with a `stack_bytes` stack in `process`'s user space
// (the process's space must be the visible one: the caller switched to the process) and
// waits for it. Exceptions thrown by `body` are rethrown here.
void run_on_user_stack(Process* process, const std::function<void()>& body, size_t stack_bytes = 1 << 20);

}  // namespace iosim
