// system.cpp - creating and tearing down the simulated machine's kernel state.
#include "system.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "ke/fault.h"

namespace iosim {

namespace {
System* g_current = nullptr;
// 2024-01-01 00:00:00 UTC in 100 ns units since 1601-01-01: a fixed boot date keeps
// KeQuerySystemTime deterministic.
constexpr int64_t kBootSystemTime = 133485408000000000LL;
}  // namespace

System* System::current() { return g_current; }

System::System(Options options)
{
    static std::atomic<uint64_t> boots{0};
    boot_id_ = ++boots;
    g_current = this;
    install_fault_reports();  // faults in simulated code: structured exceptions or bug check reports
    memory_ = std::make_unique<mm::MemoryManager>();
    mm::set_current(memory_.get());
    trace_.set_enabled(options.trace);
    namespace_ = std::make_unique<ob::ObjectNamespace>();
    system_process_ = create_process("System");
    system_thread_ = main_thread(system_process_);
    previous_thread_ = current_thread();
    ps::set_current_thread(system_thread_);
    // The host thread that builds the machine is its first simulated thread: it drives the
    // run (a test, a script, the tour) and holds the scheduler's baton.
    scheduler_ = std::make_unique<ke::Scheduler>(ke::Scheduler::Options{
        .cpus = options.cpus,
        .seed = options.seed,
        .boot_time = kBootSystemTime,
        .trace = [this](int64_t time, unsigned cpu, const std::string& text) {
            if (trace_.enabled())
                trace_.record_at({.cpu = cpu, .time = time}, trace::Kind::Scheduler, text);
        }});
    trace_.set_clock([this] {
        // After the scheduler is gone (the teardown's last events) the run is over: no CPU, no time.
        return scheduler_ != nullptr ? trace::Stamp{.cpu = scheduler_->current_cpu(), .time = scheduler_->now()}
                                     : trace::Stamp{};
    });
    scheduler_->adopt("main");
    memory_->set_before_hide([this] {
        return scheduler_ != nullptr ? scheduler_->reap_exited_hosts()
                                     : std::vector<std::pair<uintptr_t, uintptr_t>>{};
    });
}

System::~System()
{
    // Threads still running driver code (system threads, apps that never ended) are
    // unwound and joined first: nothing simulated runs during the teardown.
    scheduler_.reset();
    ps::set_current_thread(previous_thread_);
    std::vector<Process*> processes;
    std::vector<Thread*> threads;
    {
        std::lock_guard guard(lock_);
        processes.swap(processes_);
        threads.swap(threads_);
    }
    for (Process* process : processes) {
        ThreadSwitch in_process(first_thread_of(threads, process));
        process->handles().close_all(process);
    }
    for (Thread* thread : threads)
        if (ob::dereference(thread) != 0 && dead_) {
            // After a bug check nothing will ever drop the references a dead driver (or its
            // caller) still holds on a thread object. Its body is plain data, so it is
            // released here rather than reported as a leak of the dead machine.
            while (ob::dereference(thread) != 0) {
            }
        }
    for (Process* process : processes)
        memory_->destroy_process_memory(process);
    for (Process* process : processes)
        ob::dereference(process);
    namespace_.reset();
    if (g_current == this)
        g_current = nullptr;
    if (mm::current() == memory_.get())
        mm::set_current(nullptr);
}

Process* System::create_process(std::string image_name)
{
    uint32_t pid;
    {
        std::lock_guard guard(lock_);
        pid = next_id_;
        next_id_ += 4;
    }
    bool user = system_process_ != nullptr;  // the first process is System: no user space
    auto* process = ob::create_object_of<Process>(process_type(), pid, std::move(image_name));
    if (user)
        memory_->create_process_memory(process);
    {
        std::lock_guard guard(lock_);
        processes_.push_back(process);
    }
    create_thread(process);
    return process;
}

Thread* System::create_thread(Process* process)
{
    uint32_t tid;
    {
        std::lock_guard guard(lock_);
        tid = next_id_;
        next_id_ += 4;
    }
    auto* thread = ob::create_object_of<Thread>(thread_type(), tid, process);
    std::lock_guard guard(lock_);
    threads_.push_back(thread);
    return thread;
}

std::vector<Thread*> System::threads_of(Process* process) const
{
    std::lock_guard guard(lock_);
    std::vector<Thread*> out;
    for (Thread* thread : threads_)
        if (thread->process() == process)
            out.push_back(thread);
    return out;
}

Thread* System::main_thread(Process* process) const
{
    std::lock_guard guard(lock_);
    return first_thread_of(threads_, process);
}

Thread* System::first_thread_of(const std::vector<Thread*>& threads, Process* process)
{
    for (Thread* thread : threads)
        if (thread->process() == process)
            return thread;
    return nullptr;
}

void System::reap_process(Process* process)
{
    std::vector<Thread*> dead;
    {
        std::lock_guard guard(lock_);
        auto it = std::find(processes_.begin(), processes_.end(), process);
        if (it == processes_.end())
            return;
        processes_.erase(it);
        for (auto t = threads_.begin(); t != threads_.end();) {
            if ((*t)->process() == process) {
                dead.push_back(*t);
                t = threads_.erase(t);
            } else {
                ++t;
            }
        }
    }
    for (Thread* thread : dead)
        ob::dereference(thread);
    memory_->destroy_process_memory(process);
    ob::dereference(process);
}

std::vector<Process*> System::processes() const
{
    std::lock_guard guard(lock_);
    return processes_;
}

Process* System::find_process(uint32_t pid) const
{
    std::lock_guard guard(lock_);
    for (Process* process : processes_)
        if (process->pid() == pid)
            return process;
    return nullptr;
}

void System::report(Finding finding)
{
    std::string line = finding.code + ": " + finding.message;
    if (!finding.location.empty())
        line += " [" + finding.location + "]";
    {
        std::lock_guard guard(lock_);
        findings_.push_back(std::move(finding));
    }
    trace_.record(trace::Kind::Finding, 0, std::move(line));
}

std::vector<Finding> System::findings() const
{
    std::lock_guard guard(lock_);
    return findings_;
}

void System::clear_findings()
{
    std::lock_guard guard(lock_);
    findings_.clear();
}

int64_t System::system_time() const { return kBootSystemTime + scheduler_->now(); }

}  // namespace iosim
