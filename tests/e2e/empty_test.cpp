// empty_test.cpp - the empty sample driver end to end: load, open, read, write, close, unload.
#include <gtest/gtest.h>

#include "e2e/e2e_support.h"

using namespace iosim;
using e2e::InOrder;

TEST(EmptySample, AnswersCreateReadWriteCloseAndUnloadsClean)
{
    e2e::Rig rig;
    std::string message;
    ASSERT_EQ(rig.machine.load_driver("empty", "empty.sys", &message), STATUS_SUCCESS) << message;
    EXPECT_TRUE(rig.Exists(u"\\Device\\IosimEmpty"));
    EXPECT_TRUE(rig.Exists(u"\\GLOBAL??\\IosimEmpty"));

    {
        e2e::Win32Process app(rig.machine);
        app.Run([] {
            HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimEmpty", GENERIC_READ | GENERIC_WRITE);
            ASSERT_NE(h, INVALID_HANDLE_VALUE) << GetLastError();
            char buffer[16];
            DWORD bytes = 123;
            EXPECT_TRUE(ReadFile(h, buffer, sizeof(buffer), &bytes, nullptr));
            EXPECT_EQ(bytes, 0u);
            bytes = 123;
            EXPECT_TRUE(WriteFile(h, "12345", 5, &bytes, nullptr));
            EXPECT_EQ(bytes, 0u);
            EXPECT_TRUE(CloseHandle(h));
        });
    }
    ASSERT_EQ(rig.machine.unload_driver("empty"), STATUS_SUCCESS);

    EXPECT_EQ(rig.debug, (std::vector<std::string>{
                             "empty.sys: empty: DriverEntry (\\Registry\\Machine\\System\\CurrentControlSet\\Services\\empty)",
                             "empty.sys: empty: IRP_MJ_CREATE",
                             "empty.sys: empty: IRP_MJ_READ of 16 byte(s): nothing to give",
                             "empty.sys: empty: IRP_MJ_WRITE of 5 byte(s): dropped",
                             "empty.sys: empty: IRP_MJ_CLOSE",
                             "empty.sys: empty: DriverUnload",
                         }));
    EXPECT_TRUE(InOrder(rig.Trace(), {
                                         "IRP_MJ_CREATE -> \\Device\\IosimEmpty [\\Driver\\empty]",
                                         "completed: STATUS_SUCCESS (0x00000000), Information 0 (empty.c:",
                                         "IRP_MJ_READ -> \\Device\\IosimEmpty",
                                         "completed: STATUS_SUCCESS (0x00000000), Information 0 (empty.c:",
                                         "copied 0 byte(s)",
                                         "IRP_MJ_WRITE -> \\Device\\IosimEmpty",
                                         "completed: STATUS_SUCCESS (0x00000000), Information 0 (empty.c:",
                                         "IRP_MJ_CLEANUP -> \\Device\\IosimEmpty",
                                         "completed: STATUS_INVALID_DEVICE_REQUEST",
                                         "IRP_MJ_CLOSE -> \\Device\\IosimEmpty",
                                         "\\Driver\\empty: calling DriverUnload",
                                         "symbolic link \\??\\IosimEmpty deleted",
                                         "\\Driver\\empty deleted \\Device\\IosimEmpty",
                                         "\\Driver\\empty unloaded",
                                     }))
        << rig.TraceDump();
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
    EXPECT_TRUE(rig.system().pool().outstanding_all().empty());
    EXPECT_FALSE(rig.Exists(u"\\Device\\IosimEmpty"));
    EXPECT_FALSE(rig.Exists(u"\\GLOBAL??\\IosimEmpty"));
    EXPECT_FALSE(rig.Exists(u"\\Driver\\empty"));
}
