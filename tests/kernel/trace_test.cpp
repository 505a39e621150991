// trace_test.cpp - the event trace (sim_kernel/trace/trace.cpp): sequence numbers, the
// stamp of the current thread, recording only when enabled, and the one-line format.
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

TEST(TraceTest, FormatIsSequencePidTidIrqlText)
{
    trace::Event event;
    event.seq = 12;
    event.pid = 8;
    event.tid = 12;
    event.irql = PASSIVE_LEVEL;
    event.text = "IRP#3 completed";
    EXPECT_EQ(trace::Trace::format(event), "  12  p8:t12 PASSIVE  IRP#3 completed");
    event.seq = 1234;
    event.irql = DISPATCH_LEVEL;
    EXPECT_EQ(trace::Trace::format(event), "1234  p8:t12 DISPATCH IRP#3 completed");
    event.irql = 5;
    EXPECT_EQ(trace::Trace::format(event), "1234  p8:t12 DIRQL    IRP#3 completed");
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
