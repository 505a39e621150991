// free_running_test.cpp - the free-running mode (docs/scheduler.md, "Free-running mode"):
// the host's wake-up order, not the seed, picks the next of several equal ready threads.
//
// Pinned here, with rules that hold whatever the host decides (no test asserts that two
// free runs differ, which could fail by chance):
//  - every free run is a valid interleaving: each thread's own steps stay in order, all of
//    them happen, and still one thread at a time;
//  - the choice really goes through host races (the trace names them);
//  - the preemption points act in free mode (as with a non-zero seed), never above
//    PASSIVE_LEVEL;
//  - seed mode is untouched: the same seed twice gives the same trace, with no host race,
//    and turning free mode off at run time gives the seed's choices back.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "ke/dispatcher.h"
#include "ke/scheduler.h"
#include "system.h"

using namespace iosim;
using namespace iosim::ke;

namespace {

struct StepLog {
    std::vector<std::string> log;    // "a0", "b0", "a1", ... in the order the steps ran
    std::vector<std::string> trace;  // the scheduler's trace lines
    int overlaps = 0;                // a step that began while another was under way
};

// `threads` workers each log `steps` steps, yielding after each one. Between the two halves
// of a step a worker yields nothing, so if two ever ran at once `overlaps` would count it.
StepLog log_steps(Scheduler::Options options, int threads, int steps, bool free_at_run_time = false)
{
    System system;
    StepLog run;
    options.trace = [&run](int64_t, unsigned, const std::string& text) { run.trace.push_back(text); };
    Scheduler s(std::move(options));
    if (free_at_run_time)
        s.set_free_running(true);
    s.adopt("root");
    bool in_step = false;
    std::vector<Context*> workers;
    for (int t = 0; t < threads; ++t) {
        char name = static_cast<char>('a' + t);
        workers.push_back(s.spawn(std::string(1, name), [&s, &run, &in_step, name, steps] {
            for (int i = 0; i < steps; ++i) {
                if (in_step)
                    ++run.overlaps;
                in_step = true;
                run.log.push_back(std::string(1, name) + std::to_string(i));
                in_step = false;
                s.yield("step done");
            }
        }));
    }
    for (Context* w : workers) {
        DISPATCHER_HEADER* done = w->done_object();
        s.wait(&done, 1, false, nullptr, "join");
    }
    s.leave();
    return run;
}

// Empty if `log` is a valid interleaving of `threads` workers of `steps` steps each.
std::string invalid_interleaving(const std::vector<std::string>& log, int threads, int steps)
{
    std::map<char, int> next;
    for (const std::string& step : log) {
        char name = step[0];
        int i = std::stoi(step.substr(1));
        if (name < 'a' || name >= 'a' + threads)
            return "unknown thread in step " + step;
        if (i != next[name])
            return "thread " + std::string(1, name) + " ran step " + std::to_string(i) + " after step " +
                   std::to_string(next[name] - 1);
        next[name] = i + 1;
    }
    for (int t = 0; t < threads; ++t)
        if (next[static_cast<char>('a' + t)] != steps)
            return "thread " + std::string(1, static_cast<char>('a' + t)) + " ran " +
                   std::to_string(next[static_cast<char>('a' + t)]) + " of its " + std::to_string(steps) + " steps";
    return {};
}

size_t host_races(const StepLog& run)
{
    return static_cast<size_t>(std::count_if(run.trace.begin(), run.trace.end(), [](const std::string& line) {
        return line.find("host race among") != std::string::npos;
    }));
}

std::string joined(const std::vector<std::string>& log)
{
    std::string text;
    for (const auto& step : log)
        text += step + " ";
    return text;
}

}  // namespace

// "In free mode every run is a valid interleaving: each thread's own order is kept, every
// step happens, one thread at a time." Across 50 runs the host decides through races.
TEST(FreeRunning, EveryFreeRunIsAValidInterleavingDecidedByHostRaces)
{
    size_t races = 0;
    for (int run = 0; run < 50; ++run) {
        StepLog r = log_steps({.cpus = 2, .free_running = true}, 4, 5);
        ASSERT_EQ(invalid_interleaving(r.log, 4, 5), "") << "run " << run << ": " << joined(r.log);
        EXPECT_EQ(r.overlaps, 0) << "run " << run << ": two threads ran at once";
        races += host_races(r);
    }
    // Each yield with three others parked is a race unless the generator hands the yielding
    // thread its 1-in-4 share; 50 runs without one are not a chance event.
    EXPECT_GT(races, 0u) << "the next thread was never chosen by a host race";
}

// "Free mode can be turned on at run time" (Scheduler::set_free_running), with the same rules.
TEST(FreeRunning, FreeModeTurnedOnAtRunTimeGivesValidInterleavings)
{
    size_t races = 0;
    for (int run = 0; run < 20; ++run) {
        StepLog r = log_steps({.cpus = 2, .seed = 0}, 3, 4, true);
        ASSERT_EQ(invalid_interleaving(r.log, 3, 4), "") << "run " << run << ": " << joined(r.log);
        races += host_races(r);
    }
    EXPECT_GT(races, 0u);
}

// "Seed mode is unaffected: the same seed twice gives the same trace, and no host race."
TEST(FreeRunning, SeedModeIsUnaffectedTheSameSeedGivesTheSameTrace)
{
    for (uint64_t seed : {0u, 3u, 41u}) {
        StepLog first = log_steps({.cpus = 2, .seed = seed}, 4, 5);
        StepLog second = log_steps({.cpus = 2, .seed = seed}, 4, 5);
        ASSERT_EQ(invalid_interleaving(first.log, 4, 5), "");
        EXPECT_EQ(first.log, second.log) << "seed " << seed;
        EXPECT_EQ(first.trace, second.trace) << "seed " << seed;
        EXPECT_EQ(host_races(first), 0u) << "seed " << seed;
    }
    // Seed 0 is still first come, first served.
    StepLog fifo = log_steps({.cpus = 2, .seed = 0}, 3, 2);
    EXPECT_EQ(joined(fifo.log), "a0 b0 c0 a1 b1 c1 ");
}

// "Turning free mode off gives the seed's choices back": the run replays the seeded one.
TEST(FreeRunning, TurningFreeModeOffGivesTheSeedsChoicesBack)
{
    StepLog seeded = log_steps({.cpus = 2, .seed = 9}, 3, 4);
    System system;
    std::vector<std::string> log;
    Scheduler s({.cpus = 2, .seed = 9, .free_running = true});
    EXPECT_TRUE(s.free_running());
    s.set_free_running(false);
    EXPECT_FALSE(s.free_running());
    s.adopt("root");
    std::vector<Context*> workers;
    for (char name : std::string("abc"))
        workers.push_back(s.spawn(std::string(1, name), [&s, &log, name] {
            for (int i = 0; i < 4; ++i) {
                log.push_back(std::string(1, name) + std::to_string(i));
                s.yield("step done");
            }
        }));
    for (Context* w : workers) {
        DISPATCHER_HEADER* done = w->done_object();
        s.wait(&done, 1, false, nullptr, "join");
    }
    s.leave();
    EXPECT_EQ(log, seeded.log);
}

// "In free mode the preemption points act at PASSIVE_LEVEL, never above it."
TEST(FreeRunning, PreemptionPointsActInFreeModeOnlyAtPassiveLevel)
{
    System system;
    Scheduler s({.cpus = 2, .free_running = true});
    s.adopt("root");
    bool ran = false;
    Context* worker = s.spawn("worker", [&ran] { ran = true; });
    // Above PASSIVE_LEVEL the caller keeps the processor, whatever the host would decide.
    for (int i = 0; i < 50; ++i)
        s.preemption_point("IoCompleteRequest", DISPATCH_LEVEL);
    EXPECT_FALSE(ran);
    // At PASSIVE_LEVEL each point lets the ready worker run first with an even chance
    // (the caller is not parked, so the generator chooses between the two); 200 points
    // without it are not a chance event.
    for (int i = 0; i < 200 && !ran; ++i)
        s.preemption_point("IoCallDriver", PASSIVE_LEVEL);
    EXPECT_TRUE(ran);
    DISPATCHER_HEADER* done = worker->done_object();
    s.wait(&done, 1, false, nullptr, "join");
    s.leave();
}

// "With seed 0 and free mode off a preemption point does nothing."
TEST(FreeRunning, PreemptionPointsDoNothingWithSeedZero)
{
    System system;
    Scheduler s({.cpus = 2, .seed = 0});
    s.adopt("root");
    bool ran = false;
    Context* worker = s.spawn("worker", [&ran] { ran = true; });
    for (int i = 0; i < 50; ++i)
        s.preemption_point("IoCallDriver", PASSIVE_LEVEL);
    EXPECT_FALSE(ran);
    DISPATCHER_HEADER* done = worker->done_object();
    s.wait(&done, 1, false, nullptr, "join");
    EXPECT_TRUE(ran);
    s.leave();
}
