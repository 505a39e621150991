// pattern_test.cpp - the pattern driver and the pattern_reader app end to end.
#include <gtest/gtest.h>

#include "e2e/e2e_support.h"

using namespace iosim;
using e2e::InOrder;

TEST(PatternSample, ReaderGetsThePatternTwiceFromOffsetZero)
{
    e2e::Rig rig;
    std::string message;
    ASSERT_EQ(rig.machine.load_driver("pattern", "pattern.sys", &message), STATUS_SUCCESS) << message;

    auto result = rig.machine.run_app("pattern_reader.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(e2e::SplitLines(result.output), (std::vector<std::string>{
                                                  "read 10 of 10 byte(s): ABCDEFGHIJ",
                                                  "read 40 of 40 byte(s): ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN",
                                              }));
    EXPECT_EQ(rig.debug, (std::vector<std::string>{
                             "pattern.sys: pattern: DriverEntry",
                             "pattern.sys: pattern: IRP_MJ_READ of 10 byte(s) at offset 0",
                             "pattern.sys: pattern: IRP_MJ_READ of 40 byte(s) at offset 0",
                         }));
    EXPECT_TRUE(InOrder(rig.Trace(), {
                                         "IRP_MJ_CREATE -> \\Device\\IosimPattern",
                                         "IRP_MJ_READ -> \\Device\\IosimPattern",
                                         "completed: STATUS_SUCCESS (0x00000000), Information 10 (pattern.c:",
                                         "copied 10 byte(s)",
                                         "IRP_MJ_READ -> \\Device\\IosimPattern",
                                         "completed: STATUS_SUCCESS (0x00000000), Information 40 (pattern.c:",
                                         "copied 40 byte(s)",
                                         "IRP_MJ_CLEANUP -> \\Device\\IosimPattern",
                                         "IRP_MJ_CLOSE -> \\Device\\IosimPattern",
                                     }))
        << rig.TraceDump();

    ASSERT_EQ(rig.machine.unload_driver("pattern"), STATUS_SUCCESS);
    EXPECT_EQ(rig.debug.back(), "pattern.sys: pattern: DriverUnload");
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
    EXPECT_TRUE(rig.system().pool().outstanding_all().empty());
    EXPECT_FALSE(rig.Exists(u"\\GLOBAL??\\IosimPattern"));
}

TEST(PatternSample, PatternFollowsTheByteOffsetAndWritesAreRefused)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("pattern", "pattern.sys"), STATUS_SUCCESS);
    {
        e2e::Win32Process app(rig.machine);
        app.Run([] {
            HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimPattern", GENERIC_READ | GENERIC_WRITE);
            ASSERT_NE(h, INVALID_HANDLE_VALUE) << GetLastError();
            char data[8] = {};
            DWORD bytes = 0;
            OVERLAPPED ol = {};
            ol.Offset = 24;
            EXPECT_TRUE(ReadFile(h, data, sizeof(data), &bytes, &ol));
            EXPECT_EQ(std::string(data, bytes), "YZABCDEF");
            // IRP_MJ_WRITE was never registered: the default routine fails it.
            EXPECT_FALSE(WriteFile(h, "abc", 3, &bytes, nullptr));
            EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
            EXPECT_EQ(bytes, 0u);
            EXPECT_TRUE(CloseHandle(h));
        });
    }
    EXPECT_TRUE(InOrder(rig.debug, {"IRP_MJ_READ of 8 byte(s) at offset 24"}));
    EXPECT_TRUE(InOrder(rig.Trace(), {"IRP_MJ_WRITE -> \\Device\\IosimPattern [\\Driver\\pattern] stack location 1 of 1: "
                                      "libiosim_io!IopInvalidDeviceRequest",
                                      "completed: STATUS_INVALID_DEVICE_REQUEST (0xC0000010), Information 0"}))
        << rig.TraceDump();
    ASSERT_EQ(rig.machine.unload_driver("pattern"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}
