// user_thread.cpp - a host thread on a user-space stack, joined by its creator.
#include "ps/user_thread.h"

#include <stdexcept>

#include "ke/fault.h"
#include "ke/scheduler.h"
#include "mm/memory_manager.h"
#include "ps/process.h"
#include "system.h"

namespace iosim {

namespace {

// glibc puts a thread's static TLS at the top of a stack it is given, and ThreadSanitizer's
// per-thread state is a large static TLS object: under TSan a small stack (CreateThread's
// 256 KiB default) is refused by pthread_create (EINVAL). The simulated stack the app sees
// is the same size either way; only the reservation grows.
#if defined(__SANITIZE_THREAD__)
constexpr size_t kHostTlsReserve = 4u << 20;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr size_t kHostTlsReserve = 4u << 20;
#else
constexpr size_t kHostTlsReserve = 0;
#endif
#else
constexpr size_t kHostTlsReserve = 0;
#endif

}  // namespace

UserStack reserve_user_stack(Process* process, size_t bytes)
{
    mm::AddressSpace& space = *process->memory->space;
    size_t pages = mm::pages_for(bytes + kHostTlsReserve);
    // One uncommitted guard page below the stack: an overflow faults instead of running
    // into whatever lies below.
    void* base = space.reserve(pages + 1, "stack", PAGE_READWRITE, 0, 16);
    if (base == nullptr)
        return {};
    void* stack = static_cast<char*>(base) + mm::kPageSize;
    if (!NT_SUCCESS(space.commit(stack, pages, PAGE_READWRITE))) {
        space.release(base);
        return {};
    }
    return {base, stack, pages * mm::kPageSize};
}

void run_on_user_stack(Process* process, const std::function<void()>& body, size_t stack_bytes)
{
    System* sys = System::current();
    if (process == nullptr || process->memory == nullptr || sys == nullptr) {
        body();  // no user space (the System process): the caller's own stack will do
        return;
    }
    mm::AddressSpace& space = *process->memory->space;
    UserStack stack = reserve_user_stack(process, stack_bytes);
    void* base = stack.base;
    if (base == nullptr)
        throw std::runtime_error("iosim: no room for an app thread's stack in its user space");
    // A simulated thread of the scheduler: it runs when the caller waits for it.
    ke::Scheduler& scheduler = sys->scheduler();
    ke::Context* context = scheduler.spawn(
        process->image_name(),
        [&body] {
            install_fault_stack();
            body();
        },
        stack.stack, stack.size, current_thread());
    try {
        scheduler.join(context);
    } catch (...) {
        // A bug check (this thread's, or another's delivered to the joiner): the host thread
        // must be gone before its stack is, since glibc keeps its descriptor there and the
        // join reads it. terminate() unwinds it if it still runs, then joins it.
        scheduler.terminate(context);
        space.release(base);
        throw;
    }
    // glibc kept the thread's descriptor and TLS at the top of the stack; both are dead now.
    space.release(base);
}

}  // namespace iosim
