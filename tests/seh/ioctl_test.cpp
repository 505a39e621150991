// ioctl_test.cpp - the classic METHOD_NEITHER pattern end to end: the driver probes and
// touches the caller's buffers inside __try/__except, a bad buffer becomes
// STATUS_ACCESS_VIOLATION for the IRP and ERROR_NOACCESS (998) for the app. Run against the
// C and the C++ driver, from a test's own Win32 calls and from an app (seh_app.exe) that
// also uses __try/__except itself.
#include <gtest/gtest.h>

#include <cstring>

#include "seh_test_support.h"

using namespace iosim;
using seh_test::SehRig;

namespace {

class SehIoctl : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override { ASSERT_TRUE(rig.loaded()); }

    const char16_t* Win32Name() const
    {
        return std::string(GetParam()) == "seh_c" ? u"\\\\.\\SehC" : u"\\\\.\\SehCpp";
    }

    SehRig rig{GetParam()};
};

TEST_P(SehIoctl, BadInputBufferIsCaughtByTheDriverAndTheAppSeesErrorNoAccess)
{
    e2e::Win32Process app(rig.rig.machine, "client.exe");
    void* freed = seh_test::BadUserAddress(app.process());
    unsigned char* input = seh_test::UserBuffer(app.process(), 5);
    auto* sum = reinterpret_cast<ULONG*>(seh_test::UserBuffer(app.process(), sizeof(ULONG)));
    app.Run([&] {
        HANDLE h = e2e::OpenDevice(Win32Name(), GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE);
        DWORD bytes = 99;
        SetLastError(0);
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_SEH_SUM_NEITHER, freed, 16, sum, sizeof(ULONG), &bytes, nullptr));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOACCESS));
        EXPECT_EQ(bytes, 0u);

        std::memcpy(input, "\x01\x02\x03\x04\x05", 5);
        EXPECT_TRUE(DeviceIoControl(h, IOCTL_SEH_SUM_NEITHER, input, 5, sum, sizeof(ULONG), &bytes, nullptr));
        EXPECT_EQ(*sum, 15u);
        EXPECT_EQ(bytes, sizeof(ULONG));

        // A bad output buffer: ProbeForWrite raises, the driver fails the request the same way.
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_SEH_SUM_NEITHER, input, 5, freed, sizeof(ULONG), &bytes, nullptr));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOACCESS));
        CloseHandle(h);
    });
    EXPECT_FALSE(rig.rig.system().dead());
    EXPECT_EQ(e2e::CountContaining(rig.rig.debug, "seh: bad user buffer, exception 0xC0000005"), 2u)
        << e2e::Join(rig.rig.debug);
    // The trace says where each exception happened and which __try took it.
    EXPECT_EQ(e2e::CountContaining(rig.rig.Trace(), "exception STATUS_ACCESS_VIOLATION (0xC0000005) reading address"),
              1u)
        << rig.rig.TraceDump();
    EXPECT_EQ(e2e::CountContaining(rig.rig.Trace(), "exception STATUS_ACCESS_VIOLATION (0xC0000005) writing address"),
              1u)
        << rig.rig.TraceDump();
    for (const std::string& line : rig.rig.Trace())
        if (line.find("exception STATUS_ACCESS_VIOLATION") != std::string::npos) {
            EXPECT_NE(line.find(" in SehSum ("), std::string::npos) << line;
            EXPECT_NE(line.find("to the __try at seh_cases.h:"), std::string::npos) << line;
        }
}

TEST_P(SehIoctl, AppWithItsOwnTryAndABadPointerForTheDriver)
{
    auto result = rig.rig.machine.run_app("seh_app.exe",
                                          {std::string(GetParam()) == "seh_c" ? "\\\\.\\SehC" : "\\\\.\\SehCpp"});
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_TRUE(e2e::InOrder(e2e::SplitLines(result.output),
                             {"app caught 0xC0000005", "bad buffer: FALSE, GetLastError() = 998, 0 bytes",
                              "good buffer: TRUE, sum 10, 4 bytes"}))
        << result.output;
    EXPECT_FALSE(rig.rig.system().dead());
}

INSTANTIATE_TEST_SUITE_P(CAndCpp, SehIoctl, ::testing::Values("seh_c", "seh_cpp"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
