// work_queue.cpp - system worker threads: the queues, the workers, and ExQueueWorkItem.
//
// Rules: see ex/work_queue.h. All queue state is touched only by the thread holding the
// scheduler's baton (the lock below is for the host threads' memory order), so a worker
// that finds its queue empty can end without a race against a producer: the producer
// runs before or after it, never beside it.
#include "ex/work_queue.h"

#include <fmt/format.h>

#include <deque>
#include <mutex>

#include "ke/bugcheck.h"
#include "ke/fault.h"
#include "ke/scheduler.h"
#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"

namespace iosim::ex {

namespace {

constexpr int kQueues = 3;  // CriticalWorkQueue, DelayedWorkQueue, HyperCriticalWorkQueue
constexpr LONG kPriorities[kQueues] = {13, 12, 15};
constexpr const char* kQueueNames[kQueues] = {"CriticalWorkQueue", "DelayedWorkQueue", "HyperCriticalWorkQueue"};

struct Running {
    Thread* thread;
    const void* routine;
    const char* kind;
};

struct Queue {
    std::deque<WorkRequest> pending;
    unsigned workers = 0;  // alive
    unsigned busy = 0;     // inside a routine
};

struct Pools {
    uint64_t owner = 0;  // the System's boot_id
    Queue queues[kQueues];
    std::vector<Running> running;
};

std::mutex g_lock;
Pools g_pools;

// The pools of the current System (a test builds a new machine per case).
Pools& pools()
{
    if (g_pools.owner != System::current()->boot_id()) {
        g_pools = Pools{};
        g_pools.owner = System::current()->boot_id();
    }
    return g_pools;
}

void trace(std::string text)
{
    if (System* sys = System::current())
        sys->trace().record(trace::Kind::Scheduler, 0, std::move(text));
}

// NT counterpart: the checks at the bottom of ExpWorkerThread's loop.
void run_one(const WorkRequest& request, Thread* thread)
{
    thread->irql = PASSIVE_LEVEL;
    thread->critical_region = 0;
    trace(fmt::format("worker thread t{} runs {} {}", thread->tid(), request.kind,
                      ldr::describe_function(request.routine)));
    {
        DriverCallScope scope("work item", request.routine);
        request.run();
    }
    // The wrapper's own epilogue (IopProcessWorkItem dropping its device reference) comes
    // before the worker loop checks the IRQL, so a bug check there leaks nothing.
    if (request.done)
        request.done();
    if (thread->irql != PASSIVE_LEVEL)
        bugcheck(WORKER_THREAD_RETURNED_AT_BAD_IRQL, reinterpret_cast<ULONG_PTR>(request.routine), thread->irql,
                 reinterpret_cast<ULONG_PTR>(request.parameter), reinterpret_cast<ULONG_PTR>(request.item), nullptr,
                 nullptr,
                 fmt::format("The {} routine {} returned at IRQL {}: a worker routine must return at PASSIVE_LEVEL, "
                             "the IRQL it was called at (a spin lock or fast mutex still held, or a KeRaiseIrql "
                             "without its KeLowerIrql).",
                             request.kind, ldr::describe_function(request.routine), thread->irql));
    if (thread->critical_region != 0)
        bugcheck(APC_INDEX_MISMATCH, reinterpret_cast<ULONG_PTR>(request.routine), 0,
                 static_cast<USHORT>(-thread->critical_region), 1, nullptr, nullptr,
                 fmt::format("The {} routine {} returned inside {} critical region(s): every KeEnterCriticalRegion "
                             "(and every resource or unsafe fast mutex it guarded) must be balanced before it returns.",
                             request.kind, ldr::describe_function(request.routine), thread->critical_region));
}

// Keeps the queue's counts right however the worker ends (an item's bug check, or the
// worker terminated inside a routine when its driver's image goes).
struct WorkerAccount {
    int queue;
    Thread* thread;
    bool in_routine = false;
    bool counted_out = false;
    ~WorkerAccount()
    {
        std::lock_guard guard(g_lock);
        if (System::current() == nullptr || g_pools.owner != System::current()->boot_id())
            return;
        Queue& q = g_pools.queues[queue];
        if (in_routine) {
            --q.busy;
            auto& running = g_pools.running;
            for (auto it = running.begin(); it != running.end(); ++it)
                if (it->thread == thread) {
                    running.erase(it);
                    break;
                }
        }
        if (!counted_out)
            --q.workers;
    }
};

// NT counterpart: ExpWorkerThread.
void worker_main(int queue, Thread* thread)
{
    ThreadSwitch as_worker(thread);
    install_fault_stack();
    WorkerAccount account{queue, thread};
    for (;;) {
        WorkRequest request;
        {
            std::lock_guard guard(g_lock);
            Queue& q = pools().queues[queue];
            if (q.pending.empty()) {
                --q.workers;
                account.counted_out = true;
                break;
            }
            request = std::move(q.pending.front());
            q.pending.pop_front();
            ++q.busy;
            pools().running.push_back({thread, request.routine, request.kind});
            account.in_routine = true;
        }
        run_one(request, thread);
        std::lock_guard guard(g_lock);
        account.in_routine = false;
        --pools().queues[queue].busy;
        auto& running = pools().running;
        for (auto it = running.begin(); it != running.end(); ++it)
            if (it->thread == thread) {
                running.erase(it);
                break;
            }
    }
    trace(fmt::format("worker thread t{} ends: {} is empty", thread->tid(), kQueueNames[queue]));
}

// NT counterpart: ExpCreateWorkerThread.
void start_worker(int queue)
{
    System* sys = System::current();
    Thread* thread = sys->create_thread(sys->system_process());
    thread->worker_thread = true;
    thread->priority = kPriorities[queue];
    trace(fmt::format("worker thread t{} created for {} (priority {})", thread->tid(), kQueueNames[queue],
                      thread->priority));
    thread->context = sys->scheduler().spawn("System", [queue, thread] { worker_main(queue, thread); }, nullptr, 0,
                                             thread);
}

}  // namespace

void queue_work(WorkRequest request, WORK_QUEUE_TYPE type)
{
    int queue = type >= CriticalWorkQueue && type < MaximumWorkQueue ? static_cast<int>(type) : DelayedWorkQueue;
    trace(fmt::format("{} {} queued to {}", request.kind, ldr::describe_function(request.routine), kQueueNames[queue]));
    bool start = false;
    {
        std::lock_guard guard(g_lock);
        Queue& q = pools().queues[queue];
        q.pending.push_back(std::move(request));
        // A free worker takes the items one after another; another worker starts only when
        // every one alive is inside a routine (it may be blocked there).
        start = q.pending.size() > q.workers - q.busy && q.workers < kWorkersPerQueue;
        if (start)
            ++q.workers;
    }
    if (start)
        start_worker(queue);
}

std::vector<ps::CodeInModule> work_in(const ldr::Module* module)
{
    std::vector<ps::CodeInModule> out;
    std::lock_guard guard(g_lock);
    if (g_pools.owner != System::current()->boot_id())
        return out;
    for (const Running& running : g_pools.running)
        if (ldr::module_for_address(running.routine) == module)
            out.push_back({running.thread, running.routine, running.kind});
    for (const Queue& q : g_pools.queues)
        for (const WorkRequest& request : q.pending)
            if (ldr::module_for_address(request.routine) == module)
                out.push_back({nullptr, request.routine, request.kind});
    return out;
}

std::vector<Thread*> cancel_work_in(const ldr::Module* module)
{
    std::vector<Thread*> workers;
    std::vector<WorkRequest> dropped;
    {
        std::lock_guard guard(g_lock);
        if (g_pools.owner != System::current()->boot_id())
            return workers;
        for (const Running& running : g_pools.running)
            if (ldr::module_for_address(running.routine) == module)
                workers.push_back(running.thread);
        for (Queue& q : g_pools.queues)
            for (auto it = q.pending.begin(); it != q.pending.end();)
                if (ldr::module_for_address(it->routine) == module) {
                    dropped.push_back(std::move(*it));
                    it = q.pending.erase(it);
                } else {
                    ++it;
                }
    }
    for (WorkRequest& request : dropped)
        if (request.done)
            request.done();
    return workers;
}

}  // namespace iosim::ex

using namespace iosim;

extern "C" {

// NT counterpart: ExQueueWorkItem.
void ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, WORK_QUEUE_TYPE QueueType)
{
    const void* caller = __builtin_return_address(0);
    if (KeGetCurrentIrql() > DISPATCH_LEVEL)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, reinterpret_cast<ULONG_PTR>(WorkItem), KeGetCurrentIrql(), 0,
                 reinterpret_cast<ULONG_PTR>(caller), caller, nullptr,
                 "ExQueueWorkItem was called above DISPATCH_LEVEL.");
    if (WorkItem->List.Flink != nullptr)
        bugcheck(WORKER_INVALID, 1, reinterpret_cast<ULONG_PTR>(WorkItem), static_cast<ULONG_PTR>(QueueType), 0,
                 caller, nullptr,
                 "ExQueueWorkItem was given a work item that is already queued (its List.Flink is set): a "
                 "WORK_QUEUE_ITEM may be queued again only after its routine started.");
    WorkItem->List.Flink = &WorkItem->List;  // queued (cleared just before the routine runs)
    ex::WorkRequest request;
    request.routine = reinterpret_cast<const void*>(WorkItem->WorkerRoutine);
    request.parameter = WorkItem->Parameter;
    request.item = WorkItem;
    request.run = [WorkItem] {
        // Copied out first: the routine may free or requeue its own item.
        PWORKER_THREAD_ROUTINE routine = WorkItem->WorkerRoutine;
        PVOID parameter = WorkItem->Parameter;
        WorkItem->List.Flink = nullptr;
        routine(parameter);
    };
    ex::queue_work(std::move(request), QueueType);
}

}  // extern "C"
