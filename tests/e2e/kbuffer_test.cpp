// kbuffer_test.cpp - the kbuffer driver and the kbuffer_client app end to end.
#include <gtest/gtest.h>

#include "e2e/e2e_support.h"

using namespace iosim;
using e2e::InOrder;

TEST(KbufferSample, ClientWritesReadsAndAsksTheSize)
{
    e2e::Rig rig;
    std::string message;
    ASSERT_EQ(rig.machine.load_driver("kbuffer", "kbuffer.sys", &message), STATUS_SUCCESS) << message;

    // The 512-byte buffer is the driver's only pool block, under its tag.
    auto pool = rig.system().pool().outstanding_all();
    ASSERT_EQ(pool.size(), 1u);
    EXPECT_EQ(pool[0].size, 512u);
    EXPECT_FALSE(pool[0].paged);
    EXPECT_EQ(ex::tag_to_string(pool[0].tag), "Kbuf");

    auto result = rig.machine.run_app("kbuffer_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(e2e::SplitLines(result.output),
              (std::vector<std::string>{
                  "1: WriteFile of 1000 bytes failed, GetLastError() = 1006",
                  "2: wrote 13 bytes at offset 5",
                  "3: read 32 bytes: 00 00 00 00 00 68 65 6C 6C 6F 2C 20 64 72 69 76 65 72 00 00 00 00 00 00 00 00 00 "
                  "00 00 00 00 00",
                  "4: GetFileSize = 18",
              }));

    EXPECT_EQ(rig.debug, (std::vector<std::string>{
                             "kbuffer.sys: kbuffer: DriverEntry",
                             "kbuffer.sys: kbuffer: 512-byte buffer ready",
                             "kbuffer.sys: kbuffer: IRP_MJ_CREATE",
                             "kbuffer.sys: kbuffer: IRP_MJ_WRITE of 1000 byte(s) at offset 0",
                             "kbuffer.sys: kbuffer: does not fit in 512 bytes: STATUS_FILE_INVALID",
                             "kbuffer.sys: kbuffer: IRP_MJ_WRITE of 13 byte(s) at offset 5",
                             "kbuffer.sys: kbuffer: file length now 18",
                             "kbuffer.sys: kbuffer: IRP_MJ_READ of 32 byte(s) at offset 0",
                             "kbuffer.sys: kbuffer: IRP_MJ_QUERY_INFORMATION FileStandardInformation, EndOfFile 18",
                             "kbuffer.sys: kbuffer: IRP_MJ_CLOSE",
                         }));

    EXPECT_TRUE(InOrder(rig.Trace(), {
                                         "IRP_MJ_CREATE -> \\Device\\IosimKbuffer",
                                         "IRP_MJ_WRITE -> \\Device\\IosimKbuffer",
                                         "completed: STATUS_FILE_INVALID (0xC0000098), Information 0",
                                         "IRP_MJ_WRITE -> \\Device\\IosimKbuffer",
                                         "completed: STATUS_SUCCESS (0x00000000), Information 13",
                                         "IRP_MJ_READ -> \\Device\\IosimKbuffer",
                                         "completed: STATUS_SUCCESS (0x00000000), Information 32",
                                         "copied 32 byte(s)",
                                         "IRP_MJ_QUERY_INFORMATION -> \\Device\\IosimKbuffer",
                                         "completed: STATUS_SUCCESS (0x00000000), Information 24",
                                         "copied 24 byte(s)",
                                         "IRP_MJ_CLEANUP -> \\Device\\IosimKbuffer",
                                         "completed: STATUS_INVALID_DEVICE_REQUEST",
                                         "IRP_MJ_CLOSE -> \\Device\\IosimKbuffer",
                                     }))
        << rig.TraceDump();
    // A failed write copies nothing anywhere: only the read and the query copy back.
    EXPECT_EQ(e2e::CountContaining(rig.Trace(), "I/O manager copied"), 2u) << rig.TraceDump();

    ASSERT_EQ(rig.machine.unload_driver("kbuffer"), STATUS_SUCCESS);
    EXPECT_EQ(rig.debug.back(), "kbuffer.sys: kbuffer: DriverUnload, file length was 18");
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
    EXPECT_TRUE(rig.system().pool().outstanding_all().empty());
    EXPECT_FALSE(rig.Exists(u"\\Device\\IosimKbuffer"));
    EXPECT_FALSE(rig.Exists(u"\\GLOBAL??\\IosimKbuffer"));
}

TEST(KbufferSample, ContentSurvivesReopenUntilUnload)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("kbuffer", "kbuffer.sys"), STATUS_SUCCESS);
    auto first = rig.machine.run_app("kbuffer_client.exe");
    ASSERT_EQ(first.exit_code, 0);
    // A second run sees the file length the first one left: the pool block lives in the driver.
    {
        e2e::Win32Process app(rig.machine);
        app.Run([] {
            HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimKbuffer", GENERIC_READ);
            ASSERT_NE(h, INVALID_HANDLE_VALUE) << GetLastError();
            EXPECT_EQ(GetFileSize(h, nullptr), 18u);
            char data[13] = {};
            DWORD bytes = 0;
            OVERLAPPED ol = {};
            ol.Offset = 5;
            EXPECT_TRUE(ReadFile(h, data, sizeof(data), &bytes, &ol));
            EXPECT_EQ(std::string(data, bytes), "hello, driver");
            // Read access only: a write is refused by the I/O manager.
            EXPECT_FALSE(WriteFile(h, "x", 1, &bytes, nullptr));
            EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
            EXPECT_TRUE(CloseHandle(h));
        });
    }
    EXPECT_EQ(e2e::CountContaining(rig.debug, "IRP_MJ_WRITE of 1 byte(s)"), 0u);
    ASSERT_EQ(rig.machine.unload_driver("kbuffer"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
    EXPECT_TRUE(rig.system().pool().outstanding_all().empty());
}
