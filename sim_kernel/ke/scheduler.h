// scheduler.h - simulated threads, one at a time, in a seeded deterministic order.
//
// Every simulated thread that can block (an app thread, a system thread, a worker
// thread, the host thread driving a test or a script) is a Context: a host thread that
// runs simulated code only while it holds the baton. Exactly one Context holds it; the
// others sleep on their own condition variable. Control changes hands only at defined
// points: a wait that cannot be satisfied, a yield (a seeded preemption point), the end
// of a thread. Which ready Context runs next is chosen by a seeded generator (seed 0:
// first come, first served), so the same scenario and seed give the same interleaving,
// and different seeds give different ones.
//
// Free-running mode (Options::free_running, docs/scheduler.md): the host decides instead.
// When several equal ready Contexts are parked, the baton holder wakes them all (a "host
// race"); the first whose host thread gets the lock is the one handed the baton. Still one
// at a time, still simulated time; the runs cannot be replayed.
//
// Time is simulated: it moves only when every Context is waiting, jumping to the next
// timer or wait deadline. Timers (KTIMER) expire then, set their DISPATCHER_HEADER and
// queue their DPC; DPCs wait in per-CPU queues (Boost.Asio io_contexts, polled by the
// baton holder) and run at DISPATCH_LEVEL when the scheduler drains them (before time
// moves, and whenever a Context asks). When every Context waits and no timer or DPC can
// change that, the run is deadlocked: the scheduler says which threads wait on what.
//
// Waits follow the dispatcher rules of ke/dispatcher.h: a notification event stays
// signalled for every waiter, a synchronization event, semaphore or mutex is consumed by
// the one it satisfies.
//
// APCs (ke/apc.h): each context has a queue of kernel APCs and one of user APCs for the
// simulated thread it runs. A context runs its own APCs, never another's: kernel APCs at
// the start of every wait (a waiting context is woken to run one and then waits again,
// with what is left of its timeout), user APCs only in an alertable wait, which then
// returns STATUS_USER_APC. This is how the I/O manager finishes a request "in the
// requester's thread" (sim_io_manager/iocomplete.cpp).
// NT counterparts: KiSwapThread, KiReadyThread, KeWaitForMultipleObjects, KiTimerExpiration,
// KiRetireDpcList, the dispatcher database lock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "nt.h"
#include "wdm_impl.h"

namespace boost::asio {
class io_context;
}

namespace iosim {
class Thread;
}

namespace iosim::ke {

class Scheduler;

// A host execution context that runs simulated code when it holds the baton.
class Context {
public:
    enum class State { Ready, Running, Waiting, Done };

    uint32_t id() const { return id_; }
    const std::string& name() const { return name_; }
    State state() const { return state_; }
    // Signalled when the context's body has returned (what waiting on a thread object waits for).
    DISPATCHER_HEADER* done_object() { return &done_; }

    // The simulated thread this host thread is running now (ThreadSwitch keeps it current):
    // the scheduler makes its process's address space the visible one before handing over.
    Thread* identity = nullptr;
    // The identity's thread id, kept for labels (set with identity): a thread object may be
    // freed (its last reference dropped by whoever waited for it) while its host thread is
    // still ending.
    uint32_t tid_ = 0;

private:
    friend class Scheduler;
    struct Wait {
        std::vector<DISPATCHER_HEADER*> objects;
        bool all = false;
        bool alertable = false;  // user APCs end the wait (WaitForSingleObjectEx(..., TRUE), SleepEx)
        int64_t deadline = -1;  // simulated time, -1: none
        const void* owner = nullptr;  // the simulated thread waiting (a mutex's future owner)
        NTSTATUS result = STATUS_SUCCESS;
        std::string why;
    };

    uint32_t id_ = 0;
    std::string name_;
    State state_ = State::Ready;
    Wait wait_;
    bool go_ = false;        // the baton was handed to this context
    bool abort_ = false;     // the run ends: unwind out of the wait
    std::condition_variable cv_;
    DISPATCHER_HEADER done_{};
    std::function<void()> body_;
    pthread_t host_{};
    std::exception_ptr error_;  // what escaped the body (a bug check in a system thread)
    bool joined_ = false;
    bool reaped_ = false;    // its host thread was joined (under Scheduler::exited_lock_)
    // Where its stack pointer was when it last handed the baton on (0: running, or never
    // parked): those pages stay mapped when its address space is hidden.
    std::atomic<uintptr_t> park_sp_{0};
    // Its host thread's stack pointer on entry (on a user stack): above it glibc keeps the
    // thread's descriptor and static TLS, which the thread reads whenever it runs.
    std::atomic<uintptr_t> entry_sp_{0};
    bool adopted_ = false;
    bool parked_ = false;  // its host thread waits for the baton (set once, before it first runs)
    // A context on a user-space stack gets its host thread only when it is first handed the
    // baton, after its process's pages are made visible: a host thread that parked on a
    // stack the next switch hides could fault while still entering its wait.
    bool started_ = false;
    // Its host thread sleeps in Scheduler::park (under lock_): it can be entered in a host race.
    bool baton_wait_ = false;
    uint64_t race_mark_ = 0;  // the host race it was entered in (0: none)
    void* stack_ = nullptr;
    size_t stack_size_ = 0;
    std::deque<std::function<void()>> kernel_apcs_;  // run at its next wait (ke/apc.h)
    std::deque<std::function<void()>> user_apcs_;    // run in its next alertable wait
};

// Thrown out of a wait when the run is being torn down (a deadlock was reported, or the
// scheduler is destroyed with contexts still waiting); it unwinds the context's host thread.
struct ContextAbort {};

// What the scheduler says when every context waits forever.
struct Deadlock {
    std::vector<std::string> lines;  // one per waiting context: who waits on what, since when
};

class Scheduler {
public:
    struct Options {
        unsigned cpus = 2;
        uint64_t seed = 0;
        // The host's wake-up order, not the seed, picks among equal ready threads, and the
        // preemption points are active (the generator, for what cannot race, is seeded from
        // std::random_device). Runs differ and cannot be replayed.
        bool free_running = false;
        // System time (100 ns since 1601) at boot: absolute timeouts are system times.
        int64_t boot_time = 0;
        // One line per scheduling event (context switch, timer, DPC), for the trace.
        std::function<void(int64_t time, unsigned cpu, const std::string& text)> trace;
    };

    explicit Scheduler(Options options);
    // Ends every context still alive (they unwind with ContextAbort) and joins their hosts.
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // The calling host thread becomes a context holding the baton (the first one), or
    // waits for the baton (later ones are Ready).
    Context* adopt(std::string name);
    // Creates a context running `body` on a new host thread (on `stack` if given); it is
    // Ready and runs when the scheduler picks it.
    Context* spawn(std::string name, std::function<void()> body, void* stack = nullptr, size_t stack_size = 0,
                   Thread* identity = nullptr, bool suspended = false);
    // A context spawned suspended becomes ready (ResumeThread).
    void resume(Context* context);
    // Ends a context that has not finished (process exit, TerminateThread): it unwinds out
    // of its wait with ContextAbort; a ready one that never ran just ends. Then joins it.
    void terminate(Context* context);
    // Waits (as a wait, letting others run) until `context` ended, then reaps its host thread.
    // Rethrows what escaped its body.
    void join(Context* context);
    // The calling host thread stops being a context (it must hold the baton); the baton
    // goes to another ready context.
    void leave();

    // Joins the host threads of ended contexts that ran on user-space stacks. After its
    // last hand-off such a host thread still unwinds (its TLS destructors, glibc's thread
    // exit) on that stack, so the stack must stay mapped until the thread is gone: the
    // memory manager calls this before it hides or releases user pages.
    // Returns the pages around the stack pointer of every parked context on a user stack:
    // the memory manager keeps them mapped when it hides their address space.
    std::vector<std::pair<uintptr_t, uintptr_t>> reap_exited_hosts();

    // The context of the calling host thread (nullptr if it is none).
    static Context* current();
    uint64_t seed() const { return options_.seed; }
    // A new seed from now on (a script's `seed` command): the choices that follow are the
    // ones this seed gives, so the same script replays the same run.
    void reseed(uint64_t seed);
    // Free-running mode on or off from now on (Options::free_running). Off: the generator
    // is seeded again with seed().
    void set_free_running(bool on);
    bool free_running() const;
    unsigned cpus() const { return options_.cpus; }
    unsigned current_cpu() const { return cpu_; }

    // A preemption point: another ready context may run first (seeded choice).
    void yield(const char* why);
    // A seeded preemption point on the I/O path (IoCallDriver, IoCompleteRequest): with a
    // non-zero seed or free-running, another ready thread may run here, as another CPU
    // would; with seed 0 nothing happens. Only at PASSIVE_LEVEL (the caller passes the
    // IRQL): a thread holding a spin lock or at APC_LEVEL keeps the processor. Inline: it
    // sits on every IRP's path and usually does nothing.
    void preemption_point(const char* where, KIRQL irql)
    {
        if (irql != PASSIVE_LEVEL || !preempting_.load(std::memory_order_relaxed))
            return;
        preemption_point_slow(where);
    }
    // Waits until one (or all) of the objects is signalled, or the timeout passes. Timeout
    // in 100 ns units as Windows gives it: negative relative, positive absolute (simulated
    // system time since boot), nullptr forever. Returns STATUS_WAIT_0 + index (wait any),
    // STATUS_WAIT_0 (wait all) or STATUS_TIMEOUT. Throws ContextAbort when the run ends.
    NTSTATUS wait(DISPATCHER_HEADER* const* objects, size_t count, bool wait_all, const LARGE_INTEGER* timeout,
                  std::string why);
    // The same, alertable: queued user APCs run first (or wake the wait) and it returns
    // STATUS_USER_APC. Kernel APCs run in every wait, alertable or not.
    NTSTATUS wait(DISPATCHER_HEADER* const* objects, size_t count, bool wait_all, const LARGE_INTEGER* timeout,
                  std::string why, bool alertable);

    // ---- APCs (ke/apc.h) ----
    // The context running simulated thread `thread` now (the newest live one if several: an
    // app's main thread and the host thread joining it), nullptr if none.
    Context* context_of(const Thread* thread);
    // Queues an APC to `target`; a target waiting is woken to run it (a user APC only from an
    // alertable wait). False if `target` has ended or is ending: the APC was not queued.
    bool queue_apc(Context* target, bool user, std::function<void()> routine);
    // Runs the calling context's queued kernel APCs (at APC_LEVEL), or its user APCs if
    // `user`. Returns how many ran.
    size_t deliver_apcs(bool user);
    bool apc_pending(const Context* context, bool user);

    // Extra lines for a deadlock report (the I/O manager names the IRPs still out). Called
    // with the scheduler's lock held: it must not call back into the scheduler.
    void set_deadlock_annotator(std::function<std::vector<std::string>()> annotator)
    {
        deadlock_annotator_ = std::move(annotator);
    }
    // After an object's SignalState was raised: wakes the waiters it now satisfies.
    void signalled(DISPATCHER_HEADER* object);

    // Simulated time in 100 ns units since boot.
    int64_t now() const { return now_; }
    // Moves time forward by `units` (Sleep without waiters), expiring what falls due.
    void advance(int64_t units);

    // Timers: due as KeSetTimerEx takes it; period in milliseconds (0: one-shot).
    bool set_timer(KTIMER* timer, LARGE_INTEGER due, LONG period, KDPC* dpc);
    bool cancel_timer(KTIMER* timer);
    // DPCs: queued to a CPU (the current one if cpu < 0); FALSE if already queued.
    bool queue_dpc(KDPC* dpc, PVOID argument1, PVOID argument2, int cpu = -1);
    bool remove_dpc(KDPC* dpc);
    // Runs every queued DPC (at DISPATCH_LEVEL, in the current context). Returns how many ran.
    size_t run_dpcs();

    // What !timer and !dpcs show: the set timers, soonest first, and the queued DPCs.
    struct TimerView {
        const KTIMER* timer;
        const KDPC* dpc;
        int64_t due;  // simulated time, 100 ns units since boot
        LONG period;  // milliseconds; 0 for one-shot
    };
    struct DpcView {
        const KDPC* dpc;
        unsigned cpu;
    };
    std::vector<TimerView> timers() const;
    std::vector<DpcView> queued_dpcs() const;

    // Set when a deadlock was found; the report the first waiter throws.
    const Deadlock* deadlock() const { return deadlock_.get(); }

    // Priorities (KPRIORITY, 0-31): a context's is its simulated thread's (Thread::priority),
    // or kDefaultPriority without one. The next context to run is always one of the
    // highest-priority ready ones; the seed picks among equals (seed 0: the first ready), or
    // in free-running mode a host race does.
    // There is no preemption: a higher-priority thread made ready runs at the next
    // scheduling point (a wait, a yield, the end of a thread).
    static constexpr int kDefaultPriority = 8;

    // A bug check escaping a spawned context's body (a system or worker thread) ends the
    // run: it is rethrown once, in the adopted context that drives the run, the next time
    // that context holds the baton (or instead of a deadlock report).
    bool crashed() const { return crash_ != nullptr; }

private:
    Context* pick_ready(std::unique_lock<std::mutex>& lock);
    Context* host_race(const std::vector<Context*>& candidates, std::unique_lock<std::mutex>& lock);
    void park(Context* self, std::unique_lock<std::mutex>& lock, bool wake_on_abort);
    void preemption_point_slow(const char* where);
    void hand_baton(Context* next, std::unique_lock<std::mutex>& lock, bool wait_for_return);
    void schedule_away(std::unique_lock<std::mutex>& lock, bool exiting);
    bool expire_due(std::unique_lock<std::mutex>& lock);
    int64_t next_deadline() const;
    void wake_satisfied(DISPATCHER_HEADER* object);
    bool try_satisfy(Context* context);
    void report_deadlock(std::unique_lock<std::mutex>& lock);
    void trace(const std::string& text);
    [[noreturn]] void throw_abort(Context* self);
    static void* host_main(void* arg);
    void start_host(Context* context);  // lock_ held

    Options options_;
    mutable std::mutex lock_;
    std::condition_variable parked_cv_;  // spawn waits for the new host thread to park
    std::vector<std::unique_ptr<Context>> contexts_;
    std::vector<Context*> ready_;   // FIFO; the seeded generator may pick any
    Context* running_ = nullptr;
    std::mt19937_64 random_;
    // seed != 0 or free-running: the preemption points act (read without lock_).
    std::atomic<bool> preempting_{false};
    // Free-running mode: the current host race (a parked context marked with race_id_ may
    // claim it) and its winner; the baton holder waits on race_cv_ for one.
    uint64_t race_id_ = 0;
    Context* race_winner_ = nullptr;
    std::condition_variable race_cv_;
    // Ended contexts on user stacks whose host threads are not joined yet, and every
    // context on a user stack (for their parked stack pointers).
    std::mutex exited_lock_;
    std::vector<Context*> exited_;
    std::vector<Context*> on_user_stacks_;
    void reap_host(Context* context);
    uint32_t next_id_ = 1;
    unsigned cpu_ = 0;
    int64_t now_ = 0;
    struct TimerEntry {
        KTIMER* timer;
        KDPC* dpc;
        LONG period;
    };
    std::multimap<int64_t, TimerEntry> timers_;
    std::map<DISPATCHER_HEADER*, std::vector<Context*>> waiters_;
    std::vector<std::unique_ptr<boost::asio::io_context>> dpc_queues_;
    std::map<KDPC*, unsigned> queued_dpcs_;
    std::unique_ptr<Deadlock> deadlock_;
    Context* deadlock_carrier_ = nullptr;  // the context that throws the deadlock report
    Context* terminator_ = nullptr;        // the context waiting for a terminated one to unwind
    bool tearing_down_ = false;
    std::function<std::vector<std::string>()> deadlock_annotator_;
    std::exception_ptr crash_;             // escaped a spawned body, not yet rethrown
    void deliver_crash(Context* self);
};

}  // namespace iosim::ke
