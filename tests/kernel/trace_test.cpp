// trace_test.cpp - the event trace (sim_kernel/trace/trace.cpp): sequence numbers, the
// stamp of the current thread, CPU and simulated time, recording only when enabled, the
// one-line format, and the IRQL change events of ke/irql.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ps/process.h"
#include "system.h"
#include "trace/trace.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

TEST(TraceTest, SequenceNumbersStartAtOneAndIncrease)
{
    System sys({.trace = true});
    sys.trace().record(trace::Kind::Note, 0, "first");
    sys.trace().record(trace::Kind::Irp, 42, "second");
    sys.trace().record(trace::Kind::Driver, 0, "third");
    auto events = sys.trace().events();
    ASSERT_EQ(events.size(), 3u);
    for (size_t i = 0; i < events.size(); ++i)
        EXPECT_EQ(events[i].seq, i + 1);
    EXPECT_EQ(events[0].text, "first");
    EXPECT_EQ(events[1].kind, trace::Kind::Irp);
    EXPECT_EQ(events[1].irp, 42u);
    EXPECT_EQ(events[2].kind, trace::Kind::Driver);
}

TEST(TraceTest, EventsCarryTheCurrentThreadProcessAndIrql)
{
    System sys({.trace = true});
    Process* app = sys.create_process("app.exe");
    Thread* thread = sys.main_thread(app);
    {
        ThreadSwitch in_app(thread);
        thread->irql = DISPATCH_LEVEL;
        sys.trace().record(trace::Kind::Note, 0, "in app");
        thread->irql = PASSIVE_LEVEL;
    }
    sys.trace().record(trace::Kind::Note, 0, "in system");
    auto events = sys.trace().events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].pid, app->pid());
    EXPECT_EQ(events[0].tid, thread->tid());
    EXPECT_EQ(events[0].irql, DISPATCH_LEVEL);
    EXPECT_EQ(events[1].pid, sys.system_process()->pid());
    EXPECT_EQ(events[1].tid, sys.system_thread()->tid());
    EXPECT_EQ(events[1].irql, PASSIVE_LEVEL);
}

TEST(TraceTest, DisabledTraceRecordsNothing)
{
    System sys;  // tracing is off by default
    EXPECT_FALSE(sys.trace().enabled());
    int heard = 0;
    sys.trace().set_listener([&](const trace::Event&) { ++heard; });
    sys.trace().record(trace::Kind::Note, 0, "lost");
    EXPECT_TRUE(sys.trace().events().empty());
    EXPECT_EQ(heard, 0);

    sys.trace().set_enabled(true);
    sys.trace().record(trace::Kind::Note, 0, "kept");
    auto events = sys.trace().events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].seq, 1u) << "a disabled trace must not consume sequence numbers";
    EXPECT_EQ(heard, 1);

    sys.trace().set_enabled(false);
    sys.trace().record(trace::Kind::Note, 0, "lost again");
    EXPECT_EQ(sys.trace().events().size(), 1u);
}

TEST(TraceTest, ListenerSeesEachEventAsRecorded)
{
    System sys({.trace = true});
    std::vector<std::string> heard;
    sys.trace().set_listener([&](const trace::Event& e) { heard.push_back(std::to_string(e.seq) + ":" + e.text); });
    sys.trace().record(trace::Kind::Note, 0, "a");
    sys.trace().record(trace::Kind::Note, 0, "b");
    EXPECT_EQ(heard, (std::vector<std::string>{"1:a", "2:b"}));
}

TEST(TraceTest, ClearRestartsTheSequence)
{
    System sys({.trace = true});
    sys.trace().record(trace::Kind::Note, 0, "a");
    sys.trace().record(trace::Kind::Note, 0, "b");
    sys.trace().clear();
    EXPECT_TRUE(sys.trace().events().empty());
    sys.trace().record(trace::Kind::Note, 0, "c");
    ASSERT_EQ(sys.trace().events().size(), 1u);
    EXPECT_EQ(sys.trace().events()[0].seq, 1u);
}

TEST(TraceTest, FormatIsSequenceTimeCpuPidTidIrqlText)
{
    trace::Event event;
    event.seq = 12;
    event.pid = 8;
    event.tid = 12;
    event.irql = PASSIVE_LEVEL;
    event.text = "IRP#3 completed";
    EXPECT_EQ(trace::Trace::format(event), "  12   0.0000ms cpu0 p8:t12 PASSIVE  IRP#3 completed");
    event.seq = 1234;
    event.irql = DISPATCH_LEVEL;
    event.cpu = 1;
    event.time = 500001;  // 50.0001 ms in 100 ns units
    EXPECT_EQ(trace::Trace::format(event), "1234  50.0001ms cpu1 p8:t12 DISPATCH IRP#3 completed");
    event.irql = 5;
    EXPECT_EQ(trace::Trace::format(event), "1234  50.0001ms cpu1 p8:t12 DIRQL    IRP#3 completed");
}

TEST(TraceTest, TimeIsSimulatedMillisecondsToTheHundredNanoseconds)
{
    EXPECT_EQ(trace::Trace::format_time(0), "0.0000ms");
    EXPECT_EQ(trace::Trace::format_time(1), "0.0001ms");
    EXPECT_EQ(trace::Trace::format_time(10000), "1.0000ms");
    EXPECT_EQ(trace::Trace::format_time(30000000), "3000.0000ms");
    EXPECT_EQ(trace::Trace::format_time(-15000), "-1.5000ms");
}

TEST(TraceTest, EventsCarryTheSchedulersCpuAndSimulatedTime)
{
    System sys({.trace = true});
    sys.trace().record(trace::Kind::Note, 0, "at boot");
    sys.scheduler().advance(3 * 10000);  // 3 ms of simulated time: nothing waits, nothing is due
    sys.trace().record(trace::Kind::Note, 0, "later");
    auto events = sys.trace().events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].time, 0);
    EXPECT_EQ(events[1].time, 30000);
    EXPECT_EQ(events[1].cpu, sys.scheduler().current_cpu());
    EXPECT_NE(trace::Trace::format(events[1]).find(" 3.0000ms cpu"), std::string::npos)
        << trace::Trace::format(events[1]);
}

std::vector<std::string> irql_events(System& sys)
{
    std::vector<std::string> out;
    for (const auto& e : sys.trace().events())
        if (e.kind == trace::Kind::Irql)
            out.push_back(e.text + " @" + trace::irql_name(e.irql));
    return out;
}

// Each IRQL change is an event, named after the routine the driver called, recorded at the
// new IRQL; a raise to the IRQL the thread already has changes nothing and records nothing.
TEST(TraceTest, IrqlChangesAreEventsNamedAfterTheRoutine)
{
    System sys({.trace = true});
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL old;
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, old);
    KeRaiseIrql(APC_LEVEL, &old);
    KIRQL same;
    KeRaiseIrql(APC_LEVEL, &same);  // no change
    KeLowerIrql(old);
    KLOCK_QUEUE_HANDLE handle;
    KeAcquireInStackQueuedSpinLock(&lock, &handle);
    KeReleaseInStackQueuedSpinLock(&handle);
    EXPECT_EQ(irql_events(sys), (std::vector<std::string>{
                                    "IRQL PASSIVE -> DISPATCH (KeAcquireSpinLock) @DISPATCH",
                                    "IRQL DISPATCH -> PASSIVE (KeReleaseSpinLock) @PASSIVE",
                                    "IRQL PASSIVE -> APC (KeRaiseIrql) @APC",
                                    "IRQL APC -> PASSIVE (KeLowerIrql) @PASSIVE",
                                    "IRQL PASSIVE -> DISPATCH (KeAcquireInStackQueuedSpinLock) @DISPATCH",
                                    "IRQL DISPATCH -> PASSIVE (KeReleaseInStackQueuedSpinLock) @PASSIVE",
                                }));
}

TEST(TraceTest, FastMutexRaisesToApcLevelAsAnEvent)
{
    System sys({.trace = true});
    FAST_MUTEX mutex;
    ExInitializeFastMutex(&mutex);
    ExAcquireFastMutex(&mutex);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    ExReleaseFastMutex(&mutex);
    EXPECT_EQ(irql_events(sys), (std::vector<std::string>{
                                    "IRQL PASSIVE -> APC (ExAcquireFastMutex) @APC",
                                    "IRQL APC -> PASSIVE (ExReleaseFastMutex) @PASSIVE",
                                }));
}

TEST(TraceTest, IrqlNames)
{
    EXPECT_STREQ(trace::irql_name(PASSIVE_LEVEL), "PASSIVE");
    EXPECT_STREQ(trace::irql_name(APC_LEVEL), "APC");
    EXPECT_STREQ(trace::irql_name(DISPATCH_LEVEL), "DISPATCH");
    EXPECT_STREQ(trace::irql_name(HIGH_LEVEL), "HIGH");
    EXPECT_STREQ(trace::irql_name(10), "DIRQL");
}

TEST(TraceTest, SameStepsGiveTheSameTrace)
{
    auto run = [] {
        System sys({.trace = true});
        sys.trace().record(trace::Kind::Note, 0, "one");
        sys.create_process("x.exe");
        sys.trace().record(trace::Kind::Note, 0, "two");
        std::vector<std::string> lines;
        for (const auto& e : sys.trace().events())
            lines.push_back(trace::Trace::format(e));
        return lines;
    };
    EXPECT_EQ(run(), run()) << "traces must be deterministic (no wall-clock time)";
}

}  // namespace
