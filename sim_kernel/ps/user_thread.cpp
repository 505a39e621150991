// user_thread.cpp - a host thread on a user-space stack, joined by its creator.
#include "ps/user_thread.h"

#include <pthread.h>

#include <exception>
#include <stdexcept>

#include "ke/fault.h"
#include "mm/memory_manager.h"
#include "ps/process.h"

namespace iosim {

// The SEH work provides the real one in ke/fault.cpp (a per-thread signal stack); until
// then this weak default keeps the build whole.
__attribute__((weak)) void install_fault_stack() {}

namespace {

struct Start {
    const std::function<void()>* body;
    std::exception_ptr error;
};

void* thread_main(void* arg)
{
    auto* start = static_cast<Start*>(arg);
    install_fault_stack();
    try {
        (*start->body)();
    } catch (...) {
        start->error = std::current_exception();
    }
    return nullptr;
}

}  // namespace

void run_on_user_stack(Process* process, const std::function<void()>& body, size_t stack_bytes)
{
    if (process == nullptr || process->memory == nullptr) {
        body();  // no user space (the System process): the caller's own stack will do
        return;
    }
    mm::AddressSpace& space = *process->memory->space;
    size_t pages = mm::pages_for(stack_bytes);
    // One uncommitted guard page below the stack: an overflow faults instead of running
    // into whatever lies below.
    void* base = space.reserve(pages + 1, "stack", PAGE_READWRITE, 0, 16);
    if (base == nullptr || !NT_SUCCESS(space.commit(static_cast<char*>(base) + mm::kPageSize, pages, PAGE_READWRITE)))
        throw std::runtime_error("iosim: no room for an app thread's stack in its user space");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, static_cast<char*>(base) + mm::kPageSize, pages * mm::kPageSize);
    Start start{&body, nullptr};
    pthread_t thread;
    int error = pthread_create(&thread, &attr, &thread_main, &start);
    pthread_attr_destroy(&attr);
    if (error != 0) {
        space.release(base);
        throw std::runtime_error("iosim: cannot start an app thread");
    }
    pthread_join(thread, nullptr);
    // glibc kept the thread's descriptor and TLS at the top of the stack; both are dead now.
    space.release(base);
    if (start.error)
        std::rethrow_exception(start.error);
}

}  // namespace iosim
