// pipe_channel_test.cpp - the pipe channel between a driver and an app (seed 002): the
// pipechan sample driver opens the app's pipe with ZwCreateFile and both sides talk
// through it, in both directions.
#include "pipe_test_support.h"
// after windows.h: it uses CTL_CODE
#include "pipechan_public.h"

using namespace pipe_test;

class PipeChannel : public ::testing::Test {
protected:
    iosim::Machine machine{iosim::Machine::Options{.trace = true,
                                                   .debug_output = [](std::string_view, std::string_view) {}}};
    std::string TraceDump()
    {
        std::string out;
        for (const auto& event : machine.system().trace().events())
            out += "    " + event.text + "\n";
        return out;
    }
    bool InOrder(const std::vector<std::string>& patterns)
    {
        size_t at = 0;
        const auto& events = machine.system().trace().events();
        for (const auto& pattern : patterns) {
            while (at < events.size() && events[at].text.find(pattern) == std::string::npos)
                ++at;
            if (at == events.size())
                return false;
            ++at;
        }
        return true;
    }
};

// "A driver reaches an app's pipe with ZwCreateFile(\??\pipe\name): driver -> app by
// ZwWriteFile and ReadFile, app -> driver by WriteFile and ZwReadFile (KernelMode requests),
// and the driver's ZwClose breaks the pipe for the app."
TEST_F(PipeChannel, DriverAndAppTalkThroughThePipeInBothDirections)
{
    std::string message;
    ASSERT_EQ(machine.load_driver("pipechan", "pipechan.sys", &message), STATUS_SUCCESS) << message;
    auto result = machine.run_app("pipechan_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output << TraceDump();
    EXPECT_NE(result.output.find("from the driver: \"log: pipechan.sys connected, please reply\""), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("the driver read \"reply: hello driver, from the app\""), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("ERROR_BROKEN_PIPE"), std::string::npos) << result.output;
    EXPECT_TRUE(InOrder({"IRP_MJ_CREATE_NAMED_PIPE -> \\Device\\NamedPipe",
                         "ZwCreateFile(\\??\\pipe\\iosim_pipechan, OBJ_KERNEL_HANDLE) by a driver: STATUS_SUCCESS",
                         "IRP_MJ_WRITE -> \\Device\\NamedPipe", "IRP_MJ_READ -> \\Device\\NamedPipe",
                         "client end cleaned up"}))
        << TraceDump();
    std::string unload;
    EXPECT_EQ(machine.unload_driver("pipechan", &unload), STATUS_SUCCESS) << unload;
    auto leftovers = machine.shutdown();
    EXPECT_TRUE(leftovers.empty()) << (leftovers.empty() ? "" : leftovers.front());
}

// "Whatever order the scheduler picks among ready threads, the channel works the same."
TEST(PipeChannelSeeds, TheChannelWorksUnderEverySchedulerSeed)
{
    for (uint64_t seed : {1u, 2u, 3u, 7u, 42u}) {
        iosim::Machine machine{iosim::Machine::Options{
            .trace = false,
            .seed = seed,
            .app_output = [](uint32_t, const std::string&, std::string_view) {},
            .debug_output = [](std::string_view, std::string_view) {}}};
        std::string message;
        ASSERT_EQ(machine.load_driver("pipechan", "pipechan.sys", &message), STATUS_SUCCESS) << message;
        auto result = machine.run_app("pipechan_client.exe");
        ASSERT_TRUE(result.started) << result.error;
        EXPECT_EQ(result.exit_code, 0) << "seed " << seed << "\n" << result.output;
    }
}

// "A driver's ZwCreateFile on a pipe nobody created: STATUS_OBJECT_NAME_NOT_FOUND, reported
// back to the app, which never created its pipe here."
TEST_F(PipeChannel, DriverOpeningAnAbsentPipeGetsObjectNameNotFound)
{
    std::string message;
    ASSERT_EQ(machine.load_driver("pipechan", "pipechan.sys", &message), STATUS_SUCCESS) << message;
    iosim::Process* app = machine.create_process("nopipe.exe");
    {
        iosim::ThreadSwitch in_app(machine.system().main_thread(app));
        HANDLE device = CreateFileW(W(u"\\\\.\\IosimPipeChan"), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                                    0, nullptr);
        ASSERT_NE(device, INVALID_HANDLE_VALUE);
        DWORD n = 0;
        EXPECT_TRUE(DeviceIoControl(device, IOCTL_PIPECHAN_START, nullptr, 0, nullptr, 0, &n, nullptr));
        PIPECHAN_RESULT r{};
        EXPECT_TRUE(DeviceIoControl(device, IOCTL_PIPECHAN_RESULT, nullptr, 0, &r, sizeof(r), &n, nullptr));
        EXPECT_EQ(static_cast<NTSTATUS>(r.OpenStatus), STATUS_OBJECT_NAME_NOT_FOUND);
        CloseHandle(device);
    }
    machine.end_process(app);
}
