// system.h - the simulated machine's kernel state.
//
// One System exists at a time (System::current()); tests make a fresh one per case. It
// owns the object namespace, the process list with the System process, the pool, the
// trace, the simulated clock and the list of findings (non-fatal reports: leaks at
// unload, links left dangling, misuse the I/O manager caught). The I/O manager keeps its
// own state beside it (sim_io_manager/io_manager.h).
// NT counterparts: the kernel's global state (PsInitialSystemProcess, ObpRootDirectoryObject, ...).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ex/pool.h"
#include "ke/scheduler.h"
#include "mm/memory_manager.h"
#include "nt.h"
#include "ob/namespace.h"
#include "ps/process.h"
#include "trace/trace.h"

namespace iosim {

// A non-fatal report: something a driver did wrong that Windows would let pass (or only
// Driver Verifier would catch), said plainly.
struct Finding {
    std::string code;      // short stable name, e.g. "SYMLINK_LEFT_BEHIND"
    std::string message;   // one plain sentence
    std::string location;  // driver source line, if known
    std::vector<std::string> details;
};

class System {
public:
    struct Options {
        bool trace = false;
        unsigned cpus = 2;   // simulated processors
        uint64_t seed = 0;   // the scheduler's choices (0: first come, first served)
    };

    explicit System(Options options);
    System() : System(Options{}) {}
    ~System();
    System(const System&) = delete;
    System& operator=(const System&) = delete;

    static System* current();
    // Which machine this is, unique in the host process (a new System may reuse an old
    // one's address): subsystems that keep state beside the System compare this.
    uint64_t boot_id() const { return boot_id_; }

    ob::ObjectNamespace& ns() { return *namespace_; }
    trace::Trace& trace() { return trace_; }
    ex::PoolTracker& pool() { return pool_; }
    mm::MemoryManager& memory() { return *memory_; }
    ke::Scheduler& scheduler() { return *scheduler_; }

    Process* system_process() const { return system_process_; }
    Thread* system_thread() const { return system_thread_; }

    // Creates a process (and its first thread); the System keeps a reference until
    // the process is reaped.
    Process* create_process(std::string image_name);
    Thread* create_thread(Process* process);
    Thread* main_thread(Process* process) const;
    std::vector<Thread*> threads_of(Process* process) const;
    void reap_process(Process* process);
    std::vector<Process*> processes() const;
    Process* find_process(uint32_t pid) const;

    void report(Finding finding);
    std::vector<Finding> findings() const;
    void clear_findings();

    // After a bug check the machine is dead: no driver code runs any more (shutdown only
    // releases memory).
    bool dead() const { return dead_; }
    void mark_dead() { dead_ = true; }

    // Simulated time in 100 ns units since boot; advances only when told (Sleep, timers).
    int64_t interrupt_time() const { return scheduler_->now(); }
    void advance_time(int64_t units) { scheduler_->advance(units); }
    // KeQuerySystemTime: a fixed boot date plus interrupt time (deterministic).
    int64_t system_time() const;

private:
    static Thread* first_thread_of(const std::vector<Thread*>& threads, Process* process);

    // Declared first: destroyed last, after every process and pool block is gone.
    std::unique_ptr<mm::MemoryManager> memory_;
    std::unique_ptr<ob::ObjectNamespace> namespace_;
    std::unique_ptr<ke::Scheduler> scheduler_;
    trace::Trace trace_;
    ex::PoolTracker pool_;
    mutable std::mutex lock_;
    std::vector<Process*> processes_;
    std::vector<Thread*> threads_;
    Process* system_process_ = nullptr;
    Thread* system_thread_ = nullptr;
    uint32_t next_id_ = 4;  // process and thread ids share one counter, multiples of 4
    std::vector<Finding> findings_;
    Thread* previous_thread_ = nullptr;
    bool dead_ = false;
    uint64_t boot_id_ = 0;
};

}  // namespace iosim
