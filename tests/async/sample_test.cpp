// sample_test.cpp - the pending_timer sample (drivers/pending_timer) with its client
// (apps/pending_client) run as a real app: three overlapped reads out at once, completed by
// the driver's timer DPC 100 ms apart, then a ReadFileEx finished by an alertable SleepEx.
#include "async_test_support.h"

TEST(PendingTimerSample, ClientGetsEveryReadFromTheTimerDpc)
{
    iosim::Machine machine{iosim::Machine::Options{.trace = true,
                                                   .app_output = [](uint32_t, const std::string&, std::string_view) {},
                                                   .debug_output = [](std::string_view, std::string_view) {}}};
    std::string message;
    ASSERT_EQ(machine.load_driver("pending_timer", "pending_timer.sys", &message), STATUS_SUCCESS) << message;
    auto result = machine.run_app("pending_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("read 0 completed after 100 ms: 7 byte(s): \"tick 1 \""), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("read 2 completed after 300 ms: 7 byte(s): \"tick 3 \""), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("ReadFileEx completion routine: error 0, 7 byte(s): \"tick 4 \""), std::string::npos)
        << result.output;
    EXPECT_TRUE(machine.system().findings().empty());
    std::string message2;
    EXPECT_EQ(machine.unload_driver("pending_timer", &message2), STATUS_SUCCESS) << message2;
}

// Same seed, same trace: the run is deterministic.
TEST(PendingTimerSample, SameSeedGivesTheSameTrace)
{
    auto run = [] {
        iosim::Machine machine{iosim::Machine::Options{.trace = true,
                                                       .app_output = [](uint32_t, const std::string&, std::string_view) {},
                                                       .debug_output = [](std::string_view, std::string_view) {}}};
        machine.load_driver("pending_timer", "pending_timer.sys");
        machine.run_app("pending_client.exe");
        std::string all;
        for (const auto& event : machine.system().trace().events())
            all += event.text + "\n";
        return all;
    };
    std::string first = run();
    EXPECT_EQ(first, run());
    EXPECT_NE(first.find("requester's side queued to thread"), std::string::npos);
}
