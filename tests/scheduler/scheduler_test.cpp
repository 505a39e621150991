// scheduler_test.cpp - the deterministic scheduler core: baton, seeded order, time, timers,
// DPCs, waits and their dispatcher rules, deadlock reports, teardown.
#include <gtest/gtest.h>

#include <set>

#include "ke/bugcheck.h"
#include "ke/dispatcher.h"
#include "ke/scheduler.h"
#include "system.h"

using namespace iosim;
using namespace iosim::ke;

namespace {

struct Sched : ::testing::Test {
    System system;
    std::vector<std::string> lines;
    std::unique_ptr<Scheduler> make(uint64_t seed, unsigned cpus = 2)
    {
        return std::make_unique<Scheduler>(Scheduler::Options{
            .cpus = cpus, .seed = seed, .trace = [this](int64_t t, unsigned cpu, const std::string& text) {
                lines.push_back(std::to_string(t) + " cpu" + std::to_string(cpu) + " " + text);
            }});
    }
};

void init_event(KEVENT* e, bool synchronization, bool signalled)
{
    *e = KEVENT{};
    e->Header.Type = synchronization ? kEventSynchronization : kEventNotification;
    e->Header.SignalState = signalled ? 1 : 0;
}

// Three threads append their name three times each, yielding in between.
std::string interleaving(uint64_t seed)
{
    System system;
    Scheduler s({.cpus = 2, .seed = seed});
    s.adopt("root");
    std::string order;
    std::vector<Context*> workers;
    for (char name : std::string("abc"))
        workers.push_back(s.spawn(std::string(1, name), [&s, &order, name] {
            for (int i = 0; i < 3; ++i) {
                order += name;
                s.yield("preemption point");
            }
        }));
    for (Context* w : workers) {
        DISPATCHER_HEADER* done = w->done_object();
        s.wait(&done, 1, false, nullptr, "join");
    }
    s.leave();
    return order;
}

}  // namespace

TEST_F(Sched, OneContextAtATimeInFirstComeOrderWithSeedZero)
{
    EXPECT_EQ(interleaving(0), "abcabcabc");
}

TEST_F(Sched, TheSameSeedGivesTheSameInterleavingAndSeedsDiffer)
{
    std::set<std::string> seen;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        std::string first = interleaving(seed);
        EXPECT_EQ(first, interleaving(seed)) << "seed " << seed;
        EXPECT_EQ(std::count(first.begin(), first.end(), 'a'), 3);
        seen.insert(first);
    }
    EXPECT_GE(seen.size(), 3u) << "different seeds give different interleavings";
}

TEST_F(Sched, ASynchronizationEventReleasesOneWaiterAndResets)
{
    auto s = make(0);
    s->adopt("root");
    KEVENT event;
    init_event(&event, true, false);
    int woken = 0;
    for (int i = 0; i < 2; ++i)
        s->spawn("waiter", [&] {
            DISPATCHER_HEADER* h = &event.Header;
            s->wait(&h, 1, false, nullptr, "event");
            ++woken;
        });
    s->yield("let them wait");
    EXPECT_EQ(woken, 0);
    event.Header.SignalState = 1;
    s->signalled(&event.Header);
    LARGE_INTEGER soon{};
    soon.QuadPart = -10;
    s->wait(nullptr, 0, false, &soon, "sleep");
    EXPECT_EQ(woken, 1) << "one waiter released";
    EXPECT_EQ(event.Header.SignalState, 0) << "and the event reset";
    event.Header.SignalState = 1;
    s->signalled(&event.Header);
    s->wait(nullptr, 0, false, &soon, "sleep");
    EXPECT_EQ(woken, 2);
    s->leave();
}

TEST_F(Sched, ANotificationEventReleasesEveryWaiterAndStaysSignalled)
{
    auto s = make(0);
    s->adopt("root");
    KEVENT event;
    init_event(&event, false, false);
    int woken = 0;
    for (int i = 0; i < 3; ++i)
        s->spawn("waiter", [&] {
            DISPATCHER_HEADER* h = &event.Header;
            s->wait(&h, 1, false, nullptr, "event");
            ++woken;
        });
    s->yield("let them wait");
    event.Header.SignalState = 1;
    s->signalled(&event.Header);
    LARGE_INTEGER soon{};
    soon.QuadPart = -10;
    s->wait(nullptr, 0, false, &soon, "sleep");
    EXPECT_EQ(woken, 3);
    EXPECT_EQ(event.Header.SignalState, 1);
    s->leave();
}

TEST_F(Sched, AWaitTimesOutWhenTimeReachesItsDeadlineAndTimeJumpsThere)
{
    auto s = make(0);
    s->adopt("root");
    KEVENT event;
    init_event(&event, false, false);
    DISPATCHER_HEADER* h = &event.Header;
    LARGE_INTEGER timeout{};
    timeout.QuadPart = -5'000'000;  // 500 ms, relative
    EXPECT_EQ(s->wait(&h, 1, false, &timeout, "event or timeout"), STATUS_TIMEOUT);
    EXPECT_EQ(s->now(), 5'000'000);
    timeout.QuadPart = 0;
    EXPECT_EQ(s->wait(&h, 1, false, &timeout, "poll"), STATUS_TIMEOUT) << "a zero timeout only tests the state";
    s->leave();
}

TEST_F(Sched, ATimerDpcRunsAtDispatchLevelWhenTimeReachesItsDueTime)
{
    auto s = make(0);
    s->adopt("root");
    static KEVENT event;
    init_event(&event, false, false);
    struct Ctx {
        Scheduler* s;
        KIRQL irql = 0;
        int64_t when = 0;
    } ctx{s.get()};
    KDPC dpc{};
    dpc.DeferredContext = &ctx;
    dpc.DeferredRoutine = [](KDPC*, PVOID context, PVOID, PVOID) {
        auto* c = static_cast<Ctx*>(context);
        c->irql = current_thread()->irql;
        c->when = c->s->now();
        event.Header.SignalState = 1;
        c->s->signalled(&event.Header);
    };
    KTIMER timer{};
    timer.Header.Type = kTimerNotification;
    LARGE_INTEGER due{};
    due.QuadPart = -1'000'000;  // 100 ms
    s->set_timer(&timer, due, 0, &dpc);
    DISPATCHER_HEADER* h = &event.Header;
    EXPECT_EQ(s->wait(&h, 1, false, nullptr, "the DPC's event"), STATUS_WAIT_0);
    EXPECT_EQ(ctx.when, 1'000'000);
    EXPECT_EQ(ctx.irql, DISPATCH_LEVEL);
    EXPECT_EQ(timer.Header.SignalState, 1) << "an expired timer is signalled";
    s->leave();
}

TEST_F(Sched, APeriodicTimerFiresEveryPeriodUntilCancelled)
{
    auto s = make(0);
    s->adopt("root");
    static int fired;
    fired = 0;
    KDPC dpc{};
    dpc.DeferredRoutine = [](KDPC*, PVOID, PVOID, PVOID) { ++fired; };
    KTIMER timer{};
    timer.Header.Type = kTimerSynchronization;
    LARGE_INTEGER due{};
    due.QuadPart = -100'000;  // 10 ms, then every 10 ms
    s->set_timer(&timer, due, 10, &dpc);
    LARGE_INTEGER sleep{};
    sleep.QuadPart = -450'000;  // 45 ms
    s->wait(nullptr, 0, false, &sleep, "sleep");
    EXPECT_EQ(fired, 4);
    EXPECT_TRUE(s->cancel_timer(&timer));
    s->wait(nullptr, 0, false, &sleep, "sleep");
    EXPECT_EQ(fired, 4);
    s->leave();
}

TEST_F(Sched, ASemaphoreCountsAndAMutexIsReentrantForItsOwner)
{
    KSEMAPHORE sem{};
    sem.Header.Type = kSemaphore;
    sem.Header.SignalState = 2;
    int me = 0;
    int other = 0;
    EXPECT_TRUE(dispatcher_signalled(&sem.Header, &me));
    dispatcher_satisfy(&sem.Header, &me);
    dispatcher_satisfy(&sem.Header, &me);
    EXPECT_FALSE(dispatcher_signalled(&sem.Header, &me));
    KMUTANT mutex{};
    mutex.Header.Type = kMutant;
    mutex.Header.SignalState = 1;
    dispatcher_satisfy(&mutex.Header, &me);
    EXPECT_TRUE(dispatcher_signalled(&mutex.Header, &me)) << "the owner may acquire it again";
    EXPECT_FALSE(dispatcher_signalled(&mutex.Header, &other));
}

TEST_F(Sched, EveryThreadWaitingForeverIsReportedAsADeadlockNamingThem)
{
    auto s = make(0);
    s->adopt("root");
    KEVENT a, b;
    init_event(&a, false, false);
    init_event(&b, false, false);
    s->spawn("worker", [&] {
        DISPATCHER_HEADER* h = &b.Header;
        s->wait(&h, 1, false, nullptr, "waits for b");
    });
    DISPATCHER_HEADER* h = &a.Header;
    try {
        s->wait(&h, 1, false, nullptr, "waits for a");
        FAIL() << "expected a deadlock report";
    } catch (const BugCheck& stop) {
        EXPECT_EQ(stop.info().code, DRIVER_VERIFIER_DETECTED_VIOLATION);
        EXPECT_EQ(stop.info().parameters[0], 0x1001u);
        EXPECT_NE(stop.info().reason.find("root"), std::string::npos) << stop.info().reason;
        EXPECT_NE(stop.info().reason.find("worker"), std::string::npos) << stop.info().reason;
        EXPECT_NE(stop.info().reason.find("waits for b"), std::string::npos) << stop.info().reason;
    }
    ASSERT_NE(s->deadlock(), nullptr);
    EXPECT_EQ(s->deadlock()->lines.size(), 2u);
    s.reset();  // the worker unwinds and its host thread is joined
}

TEST_F(Sched, ContextSwitchesAreTracedAndTheTraceRepeats)
{
    auto run = [this](uint64_t seed) {
        lines.clear();
        auto s = make(seed);
        s->adopt("root");
        KEVENT e;
        init_event(&e, true, false);
        Context* w = s->spawn("worker", [&] {
            e.Header.SignalState = 1;
            s->signalled(&e.Header);
        });
        DISPATCHER_HEADER* h = &e.Header;
        s->wait(&h, 1, false, nullptr, "worker's event");
        DISPATCHER_HEADER* done = w->done_object();
        s->wait(&done, 1, false, nullptr, "join");
        s->leave();
        return lines;
    };
    auto first = run(7);
    EXPECT_EQ(first, run(7));
    bool switched = false;
    for (const auto& l : first)
        switched = switched || l.find("context switch: t8 (root) -> worker") != std::string::npos;
    EXPECT_TRUE(switched);
}
