// system_thread.cpp - PsCreateSystemThread, IoCreateSystemThread, PsTerminateSystemThread,
// PsIsSystemThread, and the thread and process look-ups by id.
//
// Rules: see ps/system_thread.h. A system thread's body runs on its own host thread (a
// scheduler context, like CreateThread's), with its Thread object current, at
// PASSIVE_LEVEL; it ends by returning or by PsTerminateSystemThread, which unwinds the
// driver's frames with a C++ exception (driver modules are built with -fexceptions).
// Look-ups: PsLookupThreadByThreadId / PsLookupProcessByProcessId return a referenced
// object (the caller dereferences it) or STATUS_INVALID_PARAMETER for an unknown id.
#include "ps/system_thread.h"

#include <fmt/format.h>

#include <mutex>

#include "ke/bugcheck.h"
#include "ke/fault.h"
#include "ke/scheduler.h"
#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "ob/kernel_handle.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

constexpr ACCESS_MASK kThreadAllAccess = 0x001FFFFF;  // THREAD_ALL_ACCESS
const HANDLE kCurrentProcess = reinterpret_cast<HANDLE>(static_cast<intptr_t>(-1));

// Thrown by PsTerminateSystemThread, caught where the start routine was called.
struct SystemThreadExit {
    NTSTATUS status;
};

// The system threads created so far (they stay listed after they end; the System owns them).
std::mutex g_lock;
std::vector<Thread*> g_threads;
uint64_t g_threads_of = 0;  // which System (boot_id) g_threads belongs to (tests build many)

void remember(Thread* thread)
{
    std::lock_guard guard(g_lock);
    if (g_threads_of != System::current()->boot_id()) {
        g_threads.clear();
        g_threads_of = System::current()->boot_id();
    }
    g_threads.push_back(thread);
}

void trace(std::string text)
{
    if (System* sys = System::current())
        sys->trace().record(trace::Kind::Scheduler, 0, std::move(text));
}

// What PspExitThread checks: a thread leaves at PASSIVE_LEVEL with normal kernel APCs enabled.
void check_exit_state(Thread* thread, PKSTART_ROUTINE routine)
{
    if (thread->irql == PASSIVE_LEVEL && thread->critical_region == 0)
        return;
    bugcheck(KERNEL_APC_PENDING_DURING_EXIT, 0, static_cast<ULONG_PTR>(-thread->critical_region), thread->irql, 0,
             nullptr, nullptr,
             fmt::format("The system thread {} ({}) ended {}: a thread must end at PASSIVE_LEVEL with every "
                         "KeEnterCriticalRegion (and every fast mutex or resource it took) balanced.",
                         thread->tid(), ldr::describe_function(reinterpret_cast<const void*>(routine)),
                         thread->irql != PASSIVE_LEVEL
                             ? fmt::format("at IRQL {}", thread->irql)
                             : fmt::format("inside {} critical region(s)", thread->critical_region)));
}

NTSTATUS create_system_thread(PVOID io_object, PHANDLE ThreadHandle, ULONG DesiredAccess, HANDLE ProcessHandle,
                              PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine, PVOID StartContext,
                              const void* caller)
{
    System* sys = System::current();
    if (sys == nullptr || ThreadHandle == nullptr || StartRoutine == nullptr)
        return STATUS_INVALID_PARAMETER;
    Process* process = sys->system_process();
    if (ProcessHandle == kCurrentProcess) {
        process = current_process();
        ob::reference(process);
    } else if (ProcessHandle != nullptr) {
        void* body = nullptr;
        NTSTATUS status = ob::reference_by_handle(ProcessHandle, KernelMode, &process_type(), &body, nullptr);
        if (!NT_SUCCESS(status))
            return status;
        process = static_cast<Process*>(body);
    } else {
        ob::reference(process);
    }
    if (io_object != nullptr)
        ob::reference(io_object);  // IoCreateSystemThread: the driver stays until the thread ends

    Thread* thread = sys->create_thread(process);
    ob::dereference(process);  // the thread keeps the process alive from here (System's lists)
    thread->system_thread = true;
    thread->start_routine = reinterpret_cast<const void*>(StartRoutine);
    remember(thread);
    *ThreadHandle = ob::insert_kernel_handle(thread, DesiredAccess != 0 ? DesiredAccess : kThreadAllAccess);
    if (ClientId != nullptr) {
        ClientId->UniqueProcess = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(process->pid()));
        ClientId->UniqueThread = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(thread->tid()));
    }
    // NT counterpart: PspSystemThreadStartup.
    auto body = [thread, StartRoutine, StartContext, io_object] {
        ThreadSwitch as_thread(thread);
        install_fault_stack();
        thread->irql = PASSIVE_LEVEL;
        NTSTATUS status = STATUS_SUCCESS;
        {
            DriverCallScope scope("system thread", reinterpret_cast<const void*>(StartRoutine));
            try {
                StartRoutine(StartContext);
            } catch (const SystemThreadExit& exit) {
                status = exit.status;
            }
        }
        check_exit_state(thread, StartRoutine);
        thread->exit_status = static_cast<uint32_t>(status);
        thread->start_routine = nullptr;
        System* sys = System::current();
        trace(fmt::format("system thread t{} ended with 0x{:08X}", thread->tid(), static_cast<uint32_t>(status)));
        thread->done_object.SignalState = 1;
        sys->scheduler().signalled(&thread->done_object);
        if (io_object != nullptr)
            ob::dereference(io_object);
    };
    trace(fmt::format("PsCreateSystemThread: thread t{} in process {} ({}) runs {}, created at {}", thread->tid(),
                      process->pid(), process->image_name(),
                      ldr::describe_function(reinterpret_cast<const void*>(StartRoutine)),
                      ldr::describe_call_site(caller)));
    thread->context = sys->scheduler().spawn(process->image_name(), body, nullptr, 0, thread);
    return STATUS_SUCCESS;
}

}  // namespace

namespace iosim::ps {

std::vector<CodeInModule> system_threads_running_in(const ldr::Module* module)
{
    std::vector<CodeInModule> out;
    std::lock_guard guard(g_lock);
    if (System::current() == nullptr || g_threads_of != System::current()->boot_id())
        return out;
    for (Thread* thread : g_threads)
        if (thread->start_routine != nullptr && thread->done_object.SignalState == 0 && thread->context != nullptr &&
            static_cast<ke::Context*>(thread->context)->state() != ke::Context::State::Done &&
            ldr::module_for_address(thread->start_routine) == module)
            out.push_back({thread, thread->start_routine, "system thread"});
    return out;
}

}  // namespace iosim::ps

extern "C" {

NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext)
{
    return create_system_thread(nullptr, ThreadHandle, DesiredAccess, ProcessHandle, ClientId, StartRoutine,
                                StartContext, __builtin_return_address(0));
}

NTSTATUS IoCreateSystemThread(PVOID IoObject, PHANDLE ThreadHandle, ULONG DesiredAccess,
                              POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle, PCLIENT_ID ClientId,
                              PKSTART_ROUTINE StartRoutine, PVOID StartContext)
{
    if (IoObject == nullptr || !ob::is_object(IoObject))
        return STATUS_INVALID_PARAMETER;
    return create_system_thread(IoObject, ThreadHandle, DesiredAccess, ProcessHandle, ClientId, StartRoutine,
                                StartContext, __builtin_return_address(0));
}

NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    Thread* thread = current_thread();
    if (thread != nullptr && thread->worker_thread)
        bugcheck(ACTIVE_EX_WORKER_THREAD_TERMINATION, reinterpret_cast<ULONG_PTR>(thread), 0, 0, 0,
                 __builtin_return_address(0), nullptr,
                 "A work-item routine called PsTerminateSystemThread: the routine runs in one of the system's "
                 "worker threads, which it must never end. Return from the routine instead.");
    if (thread == nullptr || !thread->system_thread || thread->context == nullptr ||
        thread->context != ke::Scheduler::current())
        return STATUS_INVALID_PARAMETER;  // not a system thread: nothing ends
    throw SystemThreadExit{ExitStatus};
}

BOOLEAN PsIsSystemThread(PETHREAD Thread)
{
    auto* thread = reinterpret_cast<iosim::Thread*>(Thread);
    System* sys = System::current();
    return thread != nullptr && sys != nullptr && thread->process() == sys->system_process() ? TRUE : FALSE;
}

NTSTATUS PsLookupThreadByThreadId(HANDLE ThreadId, PETHREAD* Thread)
{
    System* sys = System::current();
    auto tid = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(ThreadId));
    if (sys != nullptr)
        for (Process* process : sys->processes())
            for (iosim::Thread* thread : sys->threads_of(process))
                if (thread->tid() == tid) {
                    ob::reference(thread);
                    *Thread = reinterpret_cast<PETHREAD>(thread);
                    return STATUS_SUCCESS;
                }
    return STATUS_INVALID_PARAMETER;
}

NTSTATUS PsLookupProcessByProcessId(HANDLE ProcessId, PEPROCESS* Process)
{
    System* sys = System::current();
    auto pid = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(ProcessId));
    iosim::Process* process = sys != nullptr ? sys->find_process(pid) : nullptr;
    if (process == nullptr)
        return STATUS_INVALID_PARAMETER;
    ob::reference(process);
    *Process = reinterpret_cast<PEPROCESS>(process);
    return STATUS_SUCCESS;
}

}  // extern "C"
