// process.cpp - process and thread objects, and the per-host-thread current thread.
#include "ps/process.h"

#include "ke/scheduler.h"
#include "mm/memory_manager.h"

namespace iosim {

namespace {

thread_local Thread* t_current = nullptr;

ob::ObjectType g_process_type{.name = "Process", .delete_procedure = [](void* body) { ob::destroy_body<Process>(body); }};
ob::ObjectType g_thread_type{.name = "Thread", .delete_procedure = [](void* body) { ob::destroy_body<Thread>(body); }};

}  // namespace

Process::Process(uint32_t pid, std::string image_name) : pid_(pid), image_name_(std::move(image_name)) {}

Process::~Process()
{
    if (free_win32_data != nullptr)
        free_win32_data(win32_data);
}

Thread::Thread(uint32_t tid, Process* process) : tid_(tid), process_(process) { done_object.Type = 6; /* ThreadObject */ }

ob::ObjectType& process_type() { return g_process_type; }
ob::ObjectType& thread_type() { return g_thread_type; }

Thread* current_thread() { return t_current; }
Process* effective_process(const Thread* thread)
{
    if (thread == nullptr)
        return nullptr;
    return thread->attached_process != nullptr ? thread->attached_process : thread->process();
}

Process* current_process() { return effective_process(t_current); }

// The address space follows the current thread's process (NT: KiSwapProcess on a
// context switch to a thread of another process).
void ps::switch_address_space()
{
    // The scheduler hands the baton back to this host thread later: it must know which
    // simulated thread (and so which address space) the host thread is running.
    if (ke::Context* context = ke::Scheduler::current()) {
        context->identity = t_current;
        context->tid_ = t_current != nullptr ? t_current->tid() : 0;
    }
    if (mm::MemoryManager* memory = mm::current())
        memory->activate(current_process());
}

void ps::set_current_thread(Thread* thread)
{
    t_current = thread;
    switch_address_space();
}

ThreadSwitch::ThreadSwitch(Thread* thread) : previous_(t_current)
{
    t_current = thread;
    ps::switch_address_space();
}

ThreadSwitch::~ThreadSwitch()
{
    t_current = previous_;
    ps::switch_address_space();
}

DriverCallScope::DriverCallScope(const char* what, const void* routine, void* irp)
{
    if (t_current != nullptr)
        t_current->driver_calls.push_back({what, routine, irp});
}

DriverCallScope::~DriverCallScope()
{
    if (t_current != nullptr && !t_current->driver_calls.empty())
        t_current->driver_calls.pop_back();
}

}  // namespace iosim
