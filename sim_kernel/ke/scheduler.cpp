// scheduler.cpp - the baton, the seeded choice of the next context, simulated time, timers
// and per-CPU DPC queues.
//
// Locking: one mutex (lock_) guards all scheduler state; it is never held while driver
// code runs (DPC routines, thread bodies). A context waits for the baton on its own
// condition variable under lock_, so handing over is "set next->go_, notify, wait for
// own go_" in one critical section. Every such sleep is Scheduler::park, which is also
// where a parked context answers a host race (free-running mode).
#include "ke/scheduler.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "ke/bugcheck.h"
#include "ke/dispatcher.h"
#include "ldr/symbolize.h"
#include "mm/memory_manager.h"
#include "ps/process.h"

namespace iosim::ke {

namespace {
thread_local Context* t_context = nullptr;

// "t16 (hello_open.exe)": the simulated thread a context runs, as traces name threads.
std::string label(const Context* context)
{
    if (context == nullptr)
        return "idle";
    if (context->tid_ != 0)
        return fmt::format("t{} ({})", context->tid_, context->name());
    return context->name();
}

struct Start {
    Scheduler* scheduler;
    Context* context;
};
}  // namespace

Scheduler::Scheduler(Options options) : options_(std::move(options)), random_(options_.seed)
{
    if (options_.cpus == 0)
        options_.cpus = 1;
    if (options_.free_running)
        random_.seed(std::random_device{}());
    preempting_.store(options_.seed != 0 || options_.free_running, std::memory_order_relaxed);
    for (unsigned i = 0; i < options_.cpus; ++i)
        dpc_queues_.push_back(std::make_unique<boost::asio::io_context>());
}

Scheduler::~Scheduler()
{
    // Contexts still alive unwind one at a time, each holding the baton while it does
    // (their destructors run simulated code: thread switches, address-space changes).
    std::vector<Context*> spawned;
    {
        std::unique_lock lock(lock_);
        for (auto& context : contexts_)
            if (!context->adopted_)
                spawned.push_back(context.get());
    }
    for (Context* context : spawned)
        terminate(context);
    std::unique_lock lock(lock_);
    tearing_down_ = true;
    if (t_context != nullptr && t_context->adopted_)
        t_context = nullptr;
}

Context* Scheduler::current() { return t_context; }

void Scheduler::reseed(uint64_t seed)
{
    std::lock_guard lock(lock_);
    options_.seed = seed;
    random_.seed(seed);
    preempting_.store(seed != 0 || options_.free_running, std::memory_order_relaxed);
}

void Scheduler::set_free_running(bool on)
{
    std::lock_guard lock(lock_);
    options_.free_running = on;
    if (on)
        random_.seed(std::random_device{}());
    else
        random_.seed(options_.seed);
    preempting_.store(options_.seed != 0 || on, std::memory_order_relaxed);
}

bool Scheduler::free_running() const
{
    std::lock_guard lock(lock_);
    return options_.free_running;
}

void Scheduler::trace(const std::string& text)
{
    if (options_.trace)
        options_.trace(now_, cpu_, text);
}

Context* Scheduler::adopt(std::string name)
{
    std::unique_lock lock(lock_);
    auto owned = std::make_unique<Context>();
    Context* context = owned.get();
    context->id_ = next_id_++;
    context->name_ = std::move(name);
    context->adopted_ = true;
    context->started_ = true;  // its host thread is the caller
    context->host_ = pthread_self();
    context->identity = current_thread();
    context->tid_ = context->identity != nullptr ? context->identity->tid() : 0;
    context->done_.Type = kThread;
    contexts_.push_back(std::move(owned));
    t_context = context;
    if (running_ == nullptr) {
        running_ = context;
        context->state_ = Context::State::Running;
        return context;
    }
    context->state_ = Context::State::Ready;
    ready_.push_back(context);
    park(context, lock, true);
    if (context->abort_ && !context->go_)
        throw ContextAbort{};
    return context;
}

void* Scheduler::host_main(void* arg)
{
    std::unique_ptr<Start> start(static_cast<Start*>(arg));
    Scheduler* self = start->scheduler;
    Context* context = start->context;
    t_context = context;
    int marker = 0;
    context->entry_sp_.store(reinterpret_cast<uintptr_t>(&marker), std::memory_order_release);
    bool run;
    bool crashed = false;
    {
        std::unique_lock lock(self->lock_);
        // Parked: from here on it touches its stack only after being handed the baton, when
        // its process's pages are visible again (spawn waits for this before returning).
        context->parked_ = true;
        self->parked_cv_.notify_all();
        self->park(context, lock, false);
        run = !context->abort_;  // terminated before it ever ran
    }
    if (run) {
        try {
            context->body_();
            // Kernel APCs still queued (an I/O completion for this thread) run before it ends.
            self->deliver_apcs(false);
        } catch (const ContextAbort&) {
            // terminated, or the run is being torn down
        } catch (const BugCheck&) {
            context->error_ = std::current_exception();
            crashed = true;
        } catch (...) {
            context->error_ = std::current_exception();
        }
    }
    std::unique_lock lock(self->lock_);
    if (crashed && !self->crash_)
        self->crash_ = context->error_;  // the machine stopped: the driving context rethrows it
    context->state_ = Context::State::Done;
    context->done_.SignalState = 1;
    if (context->stack_ != nullptr) {
        std::lock_guard exited(self->exited_lock_);
        self->exited_.push_back(context);
    }
    self->wake_satisfied(&context->done_);
    self->trace(fmt::format("thread {} ended", label(context)));
    if (context->abort_ && self->terminator_ != nullptr) {
        // Back to whoever terminated it; it joins this host thread.
        Context* back = self->terminator_;
        self->terminator_ = nullptr;
        self->running_ = back;
        back->go_ = true;
        back->cv_.notify_one();
    } else if (self->running_ == context) {
        self->schedule_away(lock, true);
    }
    t_context = nullptr;
    return nullptr;
}

Context* Scheduler::spawn(std::string name, std::function<void()> body, void* stack, size_t stack_size,
                          Thread* identity, bool suspended)
{
    std::unique_lock lock(lock_);
    auto owned = std::make_unique<Context>();
    Context* context = owned.get();
    context->id_ = next_id_++;
    context->name_ = std::move(name);
    context->body_ = std::move(body);
    context->identity = identity;
    context->tid_ = identity != nullptr ? identity->tid() : 0;
    context->done_.Type = kThread;
    context->state_ = Context::State::Ready;
    contexts_.push_back(std::move(owned));
    context->stack_ = stack;
    context->stack_size_ = stack_size;
    if (stack != nullptr) {
        std::lock_guard stacks(exited_lock_);
        on_user_stacks_.push_back(context);
    }
    if (stack == nullptr) {
        // A host stack is never hidden: start it now and let it park.
        start_host(context);
        parked_cv_.wait(lock, [&] { return context->parked_; });
    }
    if (suspended) {
        context->state_ = Context::State::Waiting;  // on nothing, until resumed
        context->wait_ = Context::Wait{};
        context->wait_.why = "created suspended";
        trace(fmt::format("thread {} created, suspended", label(context)));
        return context;
    }
    ready_.push_back(context);
    trace(fmt::format("thread {} created, ready", label(context)));
    return context;
}

void Scheduler::start_host(Context* context)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (context->stack_ != nullptr)
        pthread_attr_setstack(&attr, context->stack_, context->stack_size_);
    int error = pthread_create(&context->host_, &attr, &Scheduler::host_main, new Start{this, context});
    pthread_attr_destroy(&attr);
    if (error != 0)
        throw std::runtime_error(fmt::format("iosim: cannot start a host thread for simulated thread {}: {}",
                                             label(context), std::strerror(error)));
    context->started_ = true;
}

void Scheduler::resume(Context* context)
{
    std::unique_lock lock(lock_);
    if (context->state_ != Context::State::Waiting || context->wait_.why != "created suspended")
        return;
    context->state_ = Context::State::Ready;
    ready_.push_back(context);
    trace(fmt::format("thread {} resumed, ready", label(context)));
}

void Scheduler::terminate(Context* context)
{
    {
        std::unique_lock lock(lock_);
        if (context->joined_ || context->adopted_)
            return;
        context->joined_ = true;
        if (context->state_ != Context::State::Done) {
            for (DISPATCHER_HEADER* object : context->wait_.objects) {
                auto& vec = waiters_[object];
                vec.erase(std::remove(vec.begin(), vec.end(), context), vec.end());
            }
            ready_.erase(std::remove(ready_.begin(), ready_.end(), context), ready_.end());
            trace(fmt::format("thread {} terminated", label(context)));
            if (!context->started_) {
                // Never ran: there is no host thread to unwind or join.
                context->state_ = Context::State::Done;
                context->done_.SignalState = 1;
                wake_satisfied(&context->done_);
                return;
            }
            // Its stack may be user memory: make its process's pages visible before it runs.
            if (context->identity != nullptr)
                if (mm::MemoryManager* memory = mm::current())
                    memory->activate(effective_process(context->identity));
            // Hand it the baton so it unwinds alone, and wait until it gives it back.
            Context* self = t_context;
            context->abort_ = true;
            terminator_ = self;
            running_ = context;
            context->go_ = true;
            context->cv_.notify_one();
            if (self != nullptr) {
                self->go_ = false;
                park(self, lock, false);
            } else {
                while (context->state_ != Context::State::Done) {
                    lock.unlock();
                    sched_yield();
                    lock.lock();
                }
            }
        }
    }
    if (context->started_)
        reap_host(context);
}

void Scheduler::reap_host(Context* context)
{
    {
        std::lock_guard exited(exited_lock_);
        if (context->reaped_)
            return;
        context->reaped_ = true;
        exited_.erase(std::remove(exited_.begin(), exited_.end(), context), exited_.end());
    }
    pthread_join(context->host_, nullptr);
}

std::vector<std::pair<uintptr_t, uintptr_t>> Scheduler::reap_exited_hosts()
{
    std::vector<Context*> ended;
    std::vector<std::pair<uintptr_t, uintptr_t>> keep;
    {
        std::lock_guard exited(exited_lock_);
        pthread_t me = pthread_self();
        for (auto it = exited_.begin(); it != exited_.end();) {
            Context* context = *it;
            if (!context->reaped_ && context->started_ && !pthread_equal(context->host_, me)) {
                context->reaped_ = true;
                ended.push_back(context);
                it = exited_.erase(it);
            } else {
                ++it;
            }
        }
    }
    // An ended host thread never takes the scheduler's lock again, so this may run with it held.
    for (Context* context : ended)
        pthread_join(context->host_, nullptr);
    // A context that just handed the baton on released the lock and is on its way into the
    // condition variable's wait: that path still pushes onto its stack (the mutex unlock, the
    // futex call). Its pages around the stack pointer stay mapped; the frames there belong to
    // the scheduler's hand-off, not to app data.
    constexpr uintptr_t kPage = 4096;
    {
        std::lock_guard stacks(exited_lock_);
        for (Context* context : on_user_stacks_) {
            uintptr_t sp = context->park_sp_.load(std::memory_order_acquire);
            if (sp == 0)
                continue;
            uintptr_t page = sp & ~(kPage - 1);
            keep.emplace_back(page - 3 * kPage, page + 2 * kPage);
            // Its descriptor and TLS (errno, the futex call's thread pointer reads) above
            // the frame the host thread entered with; app frames are all below it.
            if (uintptr_t entry = context->entry_sp_.load(std::memory_order_acquire); entry != 0)
                keep.emplace_back(entry & ~(kPage - 1), reinterpret_cast<uintptr_t>(context->stack_) + context->stack_size_);
        }
    }
    return keep;
}

void Scheduler::join(Context* context)
{
    DISPATCHER_HEADER* done = context->done_object();
    wait(&done, 1, false, nullptr, "join " + context->name_);
    std::exception_ptr error;
    {
        std::unique_lock lock(lock_);
        if (context->joined_)
            return;
        context->joined_ = true;
        error = context->error_;
    }
    if (context->started_)
        reap_host(context);
    if (error)
        std::rethrow_exception(error);
}

void Scheduler::leave()
{
    std::unique_lock lock(lock_);
    Context* self = t_context;
    if (self == nullptr || running_ != self)
        throw std::logic_error("iosim: Scheduler::leave from a context that does not hold the baton");
    self->state_ = Context::State::Done;
    self->done_.SignalState = 1;
    wake_satisfied(&self->done_);
    schedule_away(lock, true);
    t_context = nullptr;
}

namespace {
int priority_of(const Context* context)
{
    return context->identity != nullptr ? context->identity->priority : Scheduler::kDefaultPriority;
}
}  // namespace

// NT counterpart: KiSelectReadyThread (the highest non-empty ready queue; FIFO within it).
// lock_ held; a host race (free-running mode) releases it while the racers wake.
Context* Scheduler::pick_ready(std::unique_lock<std::mutex>& lock)
{
    if (ready_.empty())
        return nullptr;
    // Only the highest-priority ready contexts are candidates; when all are equal (the usual
    // case) the candidates are ready_ itself and the choice is exactly what it always was.
    int best = priority_of(ready_.front());
    for (Context* context : ready_)
        best = std::max(best, priority_of(context));
    std::vector<size_t> candidates;
    for (size_t i = 0; i < ready_.size(); ++i)
        if (priority_of(ready_[i]) == best)
            candidates.push_back(i);
    Context* next;
    if (options_.free_running && candidates.size() >= 2) {
        std::vector<Context*> equals;
        for (size_t i : candidates)
            equals.push_back(ready_[i]);
        next = host_race(equals, lock);
    } else {
        bool seeded = options_.seed != 0 || options_.free_running;
        size_t pick = seeded ? static_cast<size_t>(random_() % candidates.size()) : 0;
        next = ready_[candidates[pick]];
    }
    // Nothing but the racers' flags changes during a race (only the baton holder changes
    // the ready list), so the winner is still there.
    ready_.erase(std::find(ready_.begin(), ready_.end(), next));
    return next;
}

// Free-running mode: which of `candidates` (equal ready contexts, lock_ held) runs next.
// Those whose host threads sleep in park() race: each is marked with a new race id and
// woken, and the first to get lock_ back claims the race; the order they are woken in is
// shuffled, the order they get the lock is the host's. A candidate that cannot race (the
// baton holder itself, a context on a user stack whose host thread has not started) gets
// its fair share from the generator; with fewer than two racers the generator chooses.
Context* Scheduler::host_race(const std::vector<Context*>& candidates, std::unique_lock<std::mutex>& lock)
{
    std::vector<Context*> racers;
    std::vector<Context*> others;
    for (Context* context : candidates)
        (context->started_ && context->baton_wait_ ? racers : others).push_back(context);
    if (racers.size() < 2)
        return candidates[static_cast<size_t>(random_() % candidates.size())];
    if (!others.empty()) {
        size_t pick = static_cast<size_t>(random_() % candidates.size());
        if (pick < others.size())
            return others[pick];
    }
    std::shuffle(racers.begin(), racers.end(), random_);
    ++race_id_;
    race_winner_ = nullptr;
    for (Context* racer : racers) {
        racer->race_mark_ = race_id_;
        racer->cv_.notify_one();
    }
    race_cv_.wait(lock, [&] { return race_winner_ != nullptr; });
    trace(fmt::format("host race among {} ready threads: {} got there first", racers.size(), label(race_winner_)));
    return race_winner_;
}

// lock_ held. The calling context's host thread sleeps until it is handed the baton (go_),
// or, with wake_on_abort, told to unwind (abort_). Its stack may be hidden from here on
// except the pages around park_sp_ (reap_exited_hosts keeps them mapped), so a wake-up for
// a host race does nothing but the flag dance: claim the race if nobody has, tell the baton
// holder, sleep again.
void Scheduler::park(Context* self, std::unique_lock<std::mutex>& lock, bool wake_on_abort)
{
    int marker = 0;
    self->park_sp_.store(reinterpret_cast<uintptr_t>(&marker), std::memory_order_release);
    self->baton_wait_ = true;
    for (;;) {
        self->cv_.wait(lock, [&] {
            return self->go_ || (wake_on_abort && self->abort_) ||
                   (self->race_mark_ != 0 && self->race_mark_ == race_id_ && race_winner_ == nullptr);
        });
        if (self->go_ || (wake_on_abort && self->abort_))
            break;
        self->race_mark_ = 0;
        race_winner_ = self;
        race_cv_.notify_one();
    }
    self->race_mark_ = 0;
    self->baton_wait_ = false;
    self->park_sp_.store(0, std::memory_order_release);
}

void Scheduler::deliver_crash(Context* self)
{
    if (!crash_ || self == nullptr || !self->adopted_)
        return;
    std::exception_ptr crash = crash_;
    crash_ = nullptr;
    deadlock_carrier_ = nullptr;
    for (DISPATCHER_HEADER* object : self->wait_.objects) {
        auto& vec = waiters_[object];
        vec.erase(std::remove(vec.begin(), vec.end(), self), vec.end());
    }
    self->abort_ = false;
    self->state_ = Context::State::Running;
    running_ = self;
    std::rethrow_exception(crash);
}

void Scheduler::hand_baton(Context* next, std::unique_lock<std::mutex>& lock, bool wait_for_return)
{
    Context* self = t_context;
    cpu_ = (next->id_ - 1) % options_.cpus;
    trace(fmt::format("context switch: {} -> {}", label(self), label(next)));
    running_ = next;
    // Outgoing reveals incoming: the next thread's stack and pages must be reachable before
    // it wakes (its own stack may live in its process's user space).
    if (next->identity != nullptr)
        if (mm::MemoryManager* memory = mm::current())
            memory->activate(effective_process(next->identity));
    next->state_ = Context::State::Running;
    next->go_ = true;
    if (!next->started_)
        start_host(next);  // its first run: the host thread starts on the now-visible stack
    next->cv_.notify_one();
    if (!wait_for_return || self == nullptr)
        return;
    self->go_ = false;
    park(self, lock, true);
    if (self->abort_)
        throw_abort(self);
    deliver_crash(self);
}

void Scheduler::throw_abort(Context* self)
{
    deliver_crash(self);  // a bug check in another thread explains the stop better than a deadlock
    if (deadlock_ != nullptr && self == deadlock_carrier_) {
        // The carrier holds the baton again: the run is over, but it may still tear down.
        deadlock_carrier_ = nullptr;
        self->abort_ = false;
        for (DISPATCHER_HEADER* object : self->wait_.objects) {
            auto& vec = waiters_[object];
            vec.erase(std::remove(vec.begin(), vec.end(), self), vec.end());
        }
        self->state_ = Context::State::Running;
        running_ = self;
        std::string text;
        for (const auto& line : deadlock_->lines)
            text += "\n  " + line;
        throw BugCheck(make_bugcheck_report(
            DRIVER_VERIFIER_DETECTED_VIOLATION, {0x1001, 0, 0, 0}, nullptr, true, nullptr,
            "Deadlock: every thread is waiting and nothing (no other thread, timer or DPC) can ever wake one of "
            "them." + text));
    }
    throw ContextAbort{};
}

void Scheduler::yield(const char* why)
{
    deliver_apcs(false);  // a yield is a point where the thread takes its kernel APCs too
    std::unique_lock lock(lock_);
    Context* self = t_context;
    if (self == nullptr || ready_.empty())
        return;
    self->state_ = Context::State::Ready;
    ready_.push_back(self);
    Context* next = pick_ready(lock);
    if (next == self) {
        self->state_ = Context::State::Running;
        return;
    }
    hand_baton(next, lock, true);
}

void Scheduler::preemption_point_slow(const char* where)
{
    if (t_context == nullptr)
        return;
    {
        std::lock_guard lock(lock_);
        if (ready_.empty())
            return;
    }
    yield(where);
}

bool Scheduler::try_satisfy(Context* context)
{
    Context::Wait& wait = context->wait_;
    if (wait.all) {
        for (DISPATCHER_HEADER* object : wait.objects)
            if (!dispatcher_signalled(object, wait.owner))
                return false;
        for (DISPATCHER_HEADER* object : wait.objects)
            dispatcher_satisfy(object, wait.owner);
        wait.result = STATUS_WAIT_0;
    } else {
        size_t i = 0;
        for (; i < wait.objects.size(); ++i)
            if (dispatcher_signalled(wait.objects[i], wait.owner))
                break;
        if (i == wait.objects.size())
            return false;
        dispatcher_satisfy(wait.objects[i], wait.owner);
        wait.result = static_cast<NTSTATUS>(STATUS_WAIT_0 + i);
    }
    return true;
}

void Scheduler::wake_satisfied(DISPATCHER_HEADER* object)
{
    auto it = waiters_.find(object);
    if (it == waiters_.end())
        return;
    std::vector<Context*> list = it->second;
    for (Context* waiter : list) {
        if (waiter->state_ != Context::State::Waiting || !try_satisfy(waiter))
            continue;
        for (DISPATCHER_HEADER* other : waiter->wait_.objects) {
            auto& vec = waiters_[other];
            vec.erase(std::remove(vec.begin(), vec.end(), waiter), vec.end());
        }
        waiter->state_ = Context::State::Ready;
        ready_.push_back(waiter);
        trace(fmt::format("thread {} released from its wait ({})", label(waiter), waiter->wait_.why));
    }
}

void Scheduler::signalled(DISPATCHER_HEADER* object)
{
    std::unique_lock lock(lock_);
    wake_satisfied(object);
}

NTSTATUS Scheduler::wait(DISPATCHER_HEADER* const* objects, size_t count, bool wait_all, const LARGE_INTEGER* timeout,
                         std::string why)
{
    return wait(objects, count, wait_all, timeout, std::move(why), false);
}

// The wait result a context is woken with to run a kernel APC (never returned to a caller).
constexpr NTSTATUS kApcWake = STATUS_KERNEL_APC;

NTSTATUS Scheduler::wait(DISPATCHER_HEADER* const* objects, size_t count, bool wait_all, const LARGE_INTEGER* timeout,
                         std::string why, bool alertable)
{
    Context* self = t_context;
    if (self == nullptr)
        throw std::logic_error("iosim: a wait on a host thread that is not a simulated thread");
    int64_t deadline = 0;  // meaningful only with a timeout (an absolute one may lie before boot)
    if (timeout != nullptr) {
        std::unique_lock lock(lock_);
        int64_t t = timeout->QuadPart;
        deadline = t < 0 ? now_ - t : t - options_.boot_time;
    }
    for (;;) {
        // APCs first, with the lock released (they run simulated code): kernel APCs in any
        // wait, user APCs in an alertable one, which they end (KiDeliverApc, KeWaitFor...).
        deliver_apcs(false);
        if (alertable && deliver_apcs(true) != 0)
            return STATUS_USER_APC;
        std::unique_lock lock(lock_);
        if (!self->kernel_apcs_.empty() || (alertable && !self->user_apcs_.empty()))
            continue;  // an APC routine queued another one
        self->wait_ = Context::Wait{};
        self->wait_.objects.assign(objects, objects + count);
        self->wait_.all = wait_all;
        self->wait_.alertable = alertable;
        self->wait_.why = why;
        self->wait_.owner = current_thread();
        if (count != 0 && try_satisfy(self))
            return self->wait_.result;
        if (timeout != nullptr) {
            if (deadline <= now_)
                return STATUS_TIMEOUT;
            self->wait_.deadline = deadline;
        }
        self->state_ = Context::State::Waiting;
        for (DISPATCHER_HEADER* object : self->wait_.objects)
            waiters_[object].push_back(self);
        // A wait that blocks is an event of its own; "released", "timed out" or "woken" ends it.
        trace(fmt::format("thread {} waits ({})", label(self), self->wait_.why));
        schedule_away(lock, false);
        if (self->wait_.result != kApcWake)
            return self->wait_.result;
        // Woken to run an APC: run it, then wait again for what is left of the timeout.
    }
}

Context* Scheduler::context_of(const Thread* thread)
{
    std::unique_lock lock(lock_);
    for (auto it = contexts_.rbegin(); it != contexts_.rend(); ++it) {
        Context* context = it->get();
        if (context->identity == thread && context->state_ != Context::State::Done && !context->abort_)
            return context;
    }
    return nullptr;
}

bool Scheduler::queue_apc(Context* target, bool user, std::function<void()> routine)
{
    std::unique_lock lock(lock_);
    if (target == nullptr || target->state_ == Context::State::Done || target->abort_ || tearing_down_)
        return false;
    (user ? target->user_apcs_ : target->kernel_apcs_).push_back(std::move(routine));
    trace(fmt::format("{} APC queued to thread {}", user ? "user" : "kernel", label(target)));
    bool suspended = target->wait_.why == "created suspended";
    if (target->state_ == Context::State::Waiting && !suspended && (!user || target->wait_.alertable)) {
        // Interrupt the wait (KiUnwaitThread with STATUS_KERNEL_APC / STATUS_USER_APC): the
        // context runs the APC when it next holds the baton, then waits again.
        for (DISPATCHER_HEADER* object : target->wait_.objects) {
            auto& vec = waiters_[object];
            vec.erase(std::remove(vec.begin(), vec.end(), target), vec.end());
        }
        target->wait_.result = kApcWake;
        target->state_ = Context::State::Ready;
        ready_.push_back(target);
        trace(fmt::format("thread {} woken from its wait ({}) to run an APC", label(target), target->wait_.why));
    }
    return true;
}

bool Scheduler::apc_pending(const Context* context, bool user)
{
    std::unique_lock lock(lock_);
    return context != nullptr && !(user ? context->user_apcs_ : context->kernel_apcs_).empty();
}

size_t Scheduler::deliver_apcs(bool user)
{
    Context* self = t_context;
    if (self == nullptr)
        return 0;
    size_t ran = 0;
    for (;;) {
        std::function<void()> apc;
        {
            std::unique_lock lock(lock_);
            auto& queue = user ? self->user_apcs_ : self->kernel_apcs_;
            if (queue.empty())
                break;
            apc = std::move(queue.front());
            queue.pop_front();
            trace(fmt::format("thread {} runs a {} APC", label(self), user ? "user" : "kernel"));
        }
        // Kernel APCs run at APC_LEVEL, user APCs at PASSIVE_LEVEL (in user mode).
        Thread* thread = current_thread();
        KIRQL saved = thread != nullptr ? thread->irql : 0;
        if (thread != nullptr && !user)
            thread->irql = APC_LEVEL;
        try {
            apc();
        } catch (...) {
            if (thread != nullptr)
                thread->irql = saved;
            throw;
        }
        if (thread != nullptr)
            thread->irql = saved;
        ++ran;
    }
    return ran;
}

int64_t Scheduler::next_deadline() const
{
    int64_t best = -1;
    if (!timers_.empty())
        best = timers_.begin()->first;
    for (const auto& context : contexts_)
        if (context->state_ == Context::State::Waiting && context->wait_.deadline >= 0 &&
            (best < 0 || context->wait_.deadline < best))
            best = context->wait_.deadline;
    return best;
}

bool Scheduler::expire_due(std::unique_lock<std::mutex>& lock)
{
    int64_t due = next_deadline();
    if (due < 0)
        return false;
    if (due > now_)
        now_ = due;
    while (!timers_.empty() && timers_.begin()->first <= now_) {
        TimerEntry entry = timers_.begin()->second;
        timers_.erase(timers_.begin());
        entry.timer->Header.SignalState = 1;
        // Named by its DPC routine, never by address: the trace must not depend on where
        // the timer happens to be in memory (same seed, same trace).
        trace(entry.dpc != nullptr
                  ? fmt::format("timer expired, its DPC {} queued",
                                ldr::describe_function(reinterpret_cast<const void*>(entry.dpc->DeferredRoutine)))
                  : std::string("timer expired"));
        wake_satisfied(&entry.timer->Header);
        if (entry.period > 0)
            timers_.emplace(now_ + int64_t{entry.period} * 10000, entry);
        if (entry.dpc != nullptr && queued_dpcs_.count(entry.dpc) == 0) {
            unsigned cpu = entry.timer->Processor % options_.cpus;
            queued_dpcs_[entry.dpc] = cpu;
            KDPC* dpc = entry.dpc;
            boost::asio::post(*dpc_queues_[cpu], [this, dpc] {
                {
                    std::unique_lock inner(lock_);
                    if (queued_dpcs_.erase(dpc) == 0)
                        return;
                }
                PVOID low = reinterpret_cast<PVOID>(static_cast<ULONG_PTR>(now_));
                dpc->DeferredRoutine(dpc, dpc->DeferredContext, low, nullptr);
            });
        }
    }
    for (const auto& context : contexts_) {
        Context* c = context.get();
        if (c->state_ != Context::State::Waiting || c->wait_.deadline < 0 || c->wait_.deadline > now_)
            continue;
        for (DISPATCHER_HEADER* other : c->wait_.objects) {
            auto& vec = waiters_[other];
            vec.erase(std::remove(vec.begin(), vec.end(), c), vec.end());
        }
        c->wait_.result = STATUS_TIMEOUT;
        c->state_ = Context::State::Ready;
        ready_.push_back(c);
        trace(fmt::format("thread {} wait timed out ({})", label(c), c->wait_.why));
    }
    return true;
}

void Scheduler::advance(int64_t units)
{
    std::unique_lock lock(lock_);
    int64_t target = now_ + units;
    for (int64_t due = next_deadline(); due >= 0 && due <= target; due = next_deadline()) {
        expire_due(lock);
        // The DPCs of what expired run at its due time, before the clock moves on, as the
        // clock interrupt's DPCs would (a timer due at 200 ms completes its IRP at 200 ms,
        // even when the script advances to 210 ms).
        lock.unlock();
        run_dpcs();
        lock.lock();
    }
    now_ = std::max(now_, target);
}

void Scheduler::schedule_away(std::unique_lock<std::mutex>& lock, bool exiting)
{
    Context* self = t_context;
    for (;;) {
        if (tearing_down_) {
            if (exiting)
                return;
            throw ContextAbort{};
        }
        Context* next = pick_ready(lock);
        if (next != nullptr) {
            if (next == self) {
                self->state_ = Context::State::Running;
                running_ = self;
                return;
            }
            hand_baton(next, lock, !exiting);
            return;
        }
        lock.unlock();
        size_t ran = run_dpcs();
        lock.lock();
        if (ran != 0)
            continue;
        if (expire_due(lock))
            continue;
        report_deadlock(lock);
        Context* carrier = deadlock_carrier_;
        if (carrier == nullptr || carrier == self) {
            if (exiting)
                return;
            throw_abort(self);
        }
        // The carrier wakes to throw the report; this context waits until the run is torn down.
        carrier->abort_ = true;
        hand_baton(carrier, lock, !exiting);
        return;
    }
}

void Scheduler::report_deadlock(std::unique_lock<std::mutex>&)
{
    if (deadlock_ != nullptr && deadlock_carrier_ != nullptr)
        return;  // reported, not yet delivered; the contexts are unwinding
    auto report = std::make_unique<Deadlock>();
    Context* carrier = nullptr;
    for (const auto& context : contexts_) {
        if (context->state_ != Context::State::Waiting)
            continue;
        std::string on;
        for (DISPATCHER_HEADER* object : context->wait_.objects)
            on += fmt::format("{}{} {}", on.empty() ? "" : ", ", dispatcher_kind(object), static_cast<const void*>(object));
        report->lines.push_back(fmt::format("thread {} waits {} {} ({})", label(context.get()),
                                            context->wait_.all ? "for all of" : "on", on.empty() ? "nothing" : on,
                                            context->wait_.why));
        if (carrier == nullptr || (context->adopted_ && !carrier->adopted_))
            carrier = context.get();
    }
    if (deadlock_annotator_)
        for (std::string& line : deadlock_annotator_())
            report->lines.push_back(std::move(line));
    deadlock_ = std::move(report);
    deadlock_carrier_ = carrier;
    trace("deadlock: every thread waits");
    // Only the carrier wakes (schedule_away hands it the baton); the others stay blocked
    // until the run is torn down, then unwind one at a time.
}

bool Scheduler::set_timer(KTIMER* timer, LARGE_INTEGER due, LONG period, KDPC* dpc)
{
    std::unique_lock lock(lock_);
    bool was_set = false;
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.timer == timer) {
            timers_.erase(it);
            was_set = true;
            break;
        }
    }
    timer->Header.SignalState = 0;
    timer->Dpc = dpc;
    timer->Period = period;
    int64_t when = due.QuadPart < 0 ? now_ - due.QuadPart : due.QuadPart - options_.boot_time;
    timers_.emplace(std::max(when, now_), TimerEntry{timer, dpc, period});
    return was_set;
}

bool Scheduler::cancel_timer(KTIMER* timer)
{
    std::unique_lock lock(lock_);
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.timer == timer) {
            timers_.erase(it);
            return true;
        }
    }
    return false;
}

bool Scheduler::queue_dpc(KDPC* dpc, PVOID argument1, PVOID argument2, int cpu)
{
    std::unique_lock lock(lock_);
    if (queued_dpcs_.count(dpc) != 0)
        return false;
    unsigned target = cpu < 0 ? cpu_ : static_cast<unsigned>(cpu) % options_.cpus;
    dpc->SystemArgument1 = argument1;
    dpc->SystemArgument2 = argument2;
    queued_dpcs_[dpc] = target;
    boost::asio::post(*dpc_queues_[target], [this, dpc] {
        {
            std::unique_lock inner(lock_);
            if (queued_dpcs_.erase(dpc) == 0)
                return;  // removed (KeRemoveQueueDpc) before it ran
        }
        dpc->DeferredRoutine(dpc, dpc->DeferredContext, dpc->SystemArgument1, dpc->SystemArgument2);
    });
    return true;
}

bool Scheduler::remove_dpc(KDPC* dpc)
{
    std::unique_lock lock(lock_);
    return queued_dpcs_.erase(dpc) != 0;
}

size_t Scheduler::run_dpcs()
{
    size_t ran = 0;
    Thread* thread = current_thread();
    KIRQL saved = thread != nullptr ? thread->irql : 0;
    if (thread != nullptr)
        thread->irql = DISPATCH_LEVEL;
    for (unsigned i = 0; i < options_.cpus; ++i) {
        boost::asio::io_context& queue = *dpc_queues_[i];
        queue.restart();
        ran += queue.poll();
    }
    if (thread != nullptr)
        thread->irql = saved;
    return ran;
}

std::vector<Scheduler::TimerView> Scheduler::timers() const
{
    std::unique_lock lock(lock_);
    std::vector<TimerView> out;
    for (const auto& [due, entry] : timers_)
        out.push_back({entry.timer, entry.dpc, due, entry.period});
    return out;
}

std::vector<Scheduler::DpcView> Scheduler::queued_dpcs() const
{
    std::unique_lock lock(lock_);
    std::vector<DpcView> out;
    for (const auto& [dpc, cpu] : queued_dpcs_)
        out.push_back({dpc, cpu});
    return out;
}

}  // namespace iosim::ke
