// process.h - simulated processes and threads.
//
// A Process owns a handle table, an image name and a console (standard input fed by
// the scenario, output labelled and captured). A Thread belongs to a process and
// carries per-thread state the kernel and Win32 need: IRQL, the Win32 last-error value
// and the stack of driver calls it is inside (for reports).
//
// The "current thread" is per host thread (thread_local): the simulated thread whose
// code the host thread is running. Driver code called from an app's DeviceIoControl runs
// in the app's thread, as on Windows; DriverEntry runs in a System-process thread.
// Process and Thread are object bodies (types "Process" and "Thread"), so PEPROCESS and
// PETHREAD are pointers to them and ObReferenceObject works on them.
// NT counterparts: EPROCESS, ETHREAD, PsGetCurrentProcess, PsGetCurrentThread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nt.h"
#include "ob/handle_table.h"
#include "ob/object.h"
#include "wdm_impl.h"

namespace iosim {

class Thread;
namespace mm {
struct ProcessMemory;
}

// Console of a simulated process: what its stdin holds, where its stdout goes.
struct Console {
    std::string input;      // bytes the process can read (getchar, fgets)
    size_t input_pos = 0;
    std::function<void(std::string_view)> output;  // receives every byte written
};

class Process {
public:
    Process(uint32_t pid, std::string image_name);
    ~Process();

    uint32_t pid() const { return pid_; }
    const std::string& image_name() const { return image_name_; }
    ob::HandleTable& handles() { return handles_; }
    Console& console() { return console_; }

    bool exited() const { return exited_; }
    uint32_t exit_code() const { return exit_code_; }
    void set_exited(uint32_t code)
    {
        exited_ = true;
        exit_code_ = code;
    }

    // Its user address space and heaps (nullptr for the System process). Owned by the
    // memory manager (mm/memory_manager.h).
    mm::ProcessMemory* memory = nullptr;

    // Opaque per-subsystem data (the Win32 layer keeps its SCM handles here).
    void* win32_data = nullptr;
    void (*free_win32_data)(void*) = nullptr;

private:
    uint32_t pid_;
    std::string image_name_;
    ob::HandleTable handles_;
    Console console_;
    bool exited_ = false;
    uint32_t exit_code_ = 0;
};

// One frame of "this thread is inside driver code".
struct DriverCall {
    const char* what;       // "DriverEntry", "dispatch", "DriverUnload", ...
    const void* routine;    // the driver routine being run
    void* irp;              // IRP being dispatched, if any
};

class Thread {
public:
    // First member, as KTHREAD's Header is: a wait on a thread object reads the body as a
    // DISPATCHER_HEADER (Type ThreadObject, 6), the same as for any other dispatcher object.
    // Signalled when the thread ends (what KeWaitForSingleObject on a thread object waits for).
    DISPATCHER_HEADER done_object{};

    Thread(uint32_t tid, Process* process);

    uint32_t tid() const { return tid_; }
    Process* process() const { return process_; }

    KIRQL irql = 0;
    // Its exit status (STILL_ACTIVE, 0x103, while it runs) and the scheduler context running
    // it when it has one of its own (a created thread; ke::Context).
    uint32_t exit_status = 0x103;
    void* context = nullptr;
    // KeStackAttachProcess: the process whose address space the thread runs in meanwhile.
    Process* attached_process = nullptr;
    ULONG last_error = 0;  // Win32 GetLastError
    std::vector<DriverCall> driver_calls;
    // KTHREAD.Priority (KeSetPriorityThread): the scheduler runs the highest ready first.
    LONG priority = 8;
    // KTHREAD.KernelApcDisable as a count of KeEnterCriticalRegion (and fast mutexes held
    // through ExAcquireFastMutexUnsafe do not count): 0 outside any critical region.
    LONG critical_region = 0;
    // A system thread (PsCreateSystemThread) or a system worker thread: its start routine,
    // and whether it is a worker of the executive's pool (ex/work_queue.h).
    const void* start_routine = nullptr;
    bool system_thread = false;
    bool worker_thread = false;

private:
    uint32_t tid_;
    Process* process_;
};

ob::ObjectType& process_type();
ob::ObjectType& thread_type();

// The simulated thread running on this host thread (never null while a System exists).
Thread* current_thread();
Process* current_process();
// The process whose address space `thread` runs in (its own, or the one it attached to).
Process* effective_process(const Thread* thread);

// Makes `thread` current on this host thread for the lifetime of the guard.
class ThreadSwitch {
public:
    explicit ThreadSwitch(Thread* thread);
    ~ThreadSwitch();
    ThreadSwitch(const ThreadSwitch&) = delete;
    ThreadSwitch& operator=(const ThreadSwitch&) = delete;

private:
    Thread* previous_;
};

// Marks the current thread as inside a driver routine for the guard's lifetime.
class DriverCallScope {
public:
    DriverCallScope(const char* what, const void* routine, void* irp = nullptr);
    ~DriverCallScope();
    DriverCallScope(const DriverCallScope&) = delete;
    DriverCallScope& operator=(const DriverCallScope&) = delete;
};

namespace ps {
void set_current_thread(Thread* thread);
// Makes the current process's user space the visible one (after a thread switch or an attach).
void switch_address_space();
}

}  // namespace iosim
