// fault_test.cpp - faults nothing catches: the bug check, thrown from the faulting driver
// line; faults on other host threads; and a system-space fault inside __try, which Windows
// does not catch.
//
// The fault handler throws iosim::BugCheck from a trampoline whose unwind information
// starts at the faulting instruction (ke/fault.cpp), so these are ordinary tests: the
// bug check reaches the test like any other, with the machine stopped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "ke/fault.h"
#include "ke/seh.h"
#include "seh_test_support.h"

using namespace iosim;
using seh_test::CatchBugCheck;
using seh_test::SehRig;
using seh_test::SehSourceLine;
using ::testing::ContainsRegex;

namespace {

class Fault : public ::testing::Test {
protected:
    static std::string Line(const char* marker) { return std::to_string(SehSourceLine("seh_cases.h", marker)); }
};

TEST_F(Fault, NullPointerOutsideTryIsBugCheck0x50NamingTheLine)
{
    std::optional<BugCheckInfo> stop = CatchBugCheck([&] {
        SehRig rig("seh_c");
        rig.Case<UCHAR(const volatile UCHAR*)>("SehTouch")(reinterpret_cast<const volatile UCHAR*>(0x18));
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ContainsRegex("PAGE_FAULT_IN_NONPAGED_AREA \\(bug check 0x50\\).*read from address 0x18, which is not valid memory \\(it is "
        "near NULL.*seh_cases.h:" +
            Line("touch-outside-try") + " in SehTouch \\(seh_c.sys\\)"));
}

TEST_F(Fault, FreedUserPageOutsideTryNamesTheProcessAndSaysWhyNothingCaughtIt)
{
    std::optional<BugCheckInfo> stop = CatchBugCheck([&] {
        SehRig rig("seh_cpp");
        e2e::Win32Process app(rig.rig.machine, "app.exe");
        void* bad = seh_test::BadUserAddress(app.process());
        auto* touch = rig.Case<UCHAR(const volatile UCHAR*)>("SehTouch");
        app.Run([&] { touch(static_cast<const volatile UCHAR*>(bad)); });
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ContainsRegex("PAGE_FAULT_IN_NONPAGED_AREA.*a user address of process [0-9]+ \\(app.exe\\) that is not allocated.*Outside "
        "__try/__except nothing catches.*seh_cases.h:" +
            Line("touch-outside-try") + " in SehTouch \\(seh_cpp.sys\\)"));
}

TEST_F(Fault, UserAddressOfAnotherProcessOutsideTryNamesTheOwnerAndTheCurrentProcess)
{
    std::optional<BugCheckInfo> stop = CatchBugCheck([&] {
        SehRig rig("seh_c");
        e2e::Win32Process owner(rig.rig.machine, "owner.exe");
        e2e::Win32Process other(rig.rig.machine, "other.exe");
        unsigned char* buffer = seh_test::UserBuffer(owner.process(), 8);
        auto* touch = rig.Case<UCHAR(const volatile UCHAR*)>("SehTouch");
        other.Run([&] { touch(buffer); });
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ContainsRegex("PAGE_FAULT_IN_NONPAGED_AREA.*belongs to process [0-9]+ \\(owner.exe\\), while running in the context of "
        "process [0-9]+ \\(other.exe\\)\\. A user address means something only in its own process"));
}

TEST_F(Fault, UserAddressTouchedFromTheSystemProcessNamesIt)
{
    std::optional<BugCheckInfo> stop = CatchBugCheck([&] {
        SehRig rig("seh_c");
        e2e::Win32Process owner(rig.rig.machine, "owner.exe");
        unsigned char* buffer = seh_test::UserBuffer(owner.process(), 8);
        rig.Case<UCHAR(const volatile UCHAR*)>("SehTouch")(buffer);  // on the System thread
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ContainsRegex("belongs to process [0-9]+ \\(owner.exe\\), while running in the context of the "
                                      "System process"));
}

TEST_F(Fault, SystemSpaceFaultInsideTryIsNotCaught)
{
    std::optional<BugCheckInfo> stop = CatchBugCheck([&] {
        SehRig rig("seh_c");
        void* page = rig.rig.system().memory().system_space().reserve(1, "test (system)");
        auto* touch = rig.Case<UCHAR(const volatile UCHAR*)>("SehTouchInTry");
        UCHAR value = touch(static_cast<const volatile UCHAR*>(page));
        ADD_FAILURE() << "the fault was caught: SehTouchInTry returned " << int(value);
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ContainsRegex("PAGE_FAULT_IN_NONPAGED_AREA.*a system-space address inside a \"test \\(system\\)\" reservation whose page is "
        "not committed.*never an exception a driver can catch \\(a __try/__except was active.*seh_cases.h:" +
            Line("touch-in-try") + " in SehTouchInTry"));
}

TEST_F(Fault, DivisionByZeroOutsideTryIsBugCheck0x1E)
{
    std::optional<BugCheckInfo> stop = CatchBugCheck([&] {
        SehRig rig("seh_c");
        rig.Case<int(int, int)>("SehDivideUnprotected")(1, 0);
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ContainsRegex("KMODE_EXCEPTION_NOT_HANDLED \\(bug check 0x1E\\).*divided an integer by zero.*seh_cases.h:" +
            Line("divide-outside-try") + " in SehDivideUnprotected"));
}

TEST_F(Fault, MethodNeitherBadBufferTouchedOutsideTryIsTheReportWithTheIrp)
{
    std::optional<BugCheckInfo> stop = CatchBugCheck([&] {
        SehRig rig("seh_c");
        e2e::Win32Process app(rig.rig.machine, "app.exe");
        void* bad = seh_test::BadUserAddress(app.process());
        app.Run([&] {
            HANDLE h = e2e::OpenDevice(u"\\\\.\\SehC", GENERIC_READ | GENERIC_WRITE);
            DWORD bytes = 0;
            DeviceIoControl(h, IOCTL_SEH_TOUCH_NEITHER, bad, 4, nullptr, 0, &bytes, nullptr);
        });
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ContainsRegex("PAGE_FAULT_IN_NONPAGED_AREA.*seh_cases.h:" + Line("touch-outside-try") +
            " in SehTouch.*IRP_MJ_DEVICE_CONTROL sent to .Device.SehC"));
}

// The handlers are process-wide and every host thread that runs simulated code has its own
// signal stack: a fault inside __try on another thread is caught there.
TEST(FaultThreads, FaultInsideTryOnAnotherHostThreadIsCaughtThere)
{
    SehRig rig("seh_c");
    ASSERT_TRUE(rig.loaded());
    auto* read = rig.Case<NTSTATUS(const volatile UCHAR*, UCHAR*)>("SehReadByte");
    auto* divide = rig.Case<int(int, int, NTSTATUS*)>("SehDivide");
    NTSTATUS read_status[2] = {STATUS_PENDING, STATUS_PENDING};
    NTSTATUS divide_status[2] = {STATUS_PENDING, STATUS_PENDING};
    auto body = [&](int i) {
        install_fault_stack();
        UCHAR value = 0;
        read_status[i] = read(reinterpret_cast<const volatile UCHAR*>(0x30 + i), &value);
        divide(i, 0, &divide_status[i]);
    };
    std::thread first(body, 0);
    std::thread second(body, 1);
    first.join();
    second.join();
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(read_status[i], STATUS_ACCESS_VIOLATION) << i;
        EXPECT_EQ(divide_status[i], STATUS_INTEGER_DIVIDE_BY_ZERO) << i;
    }
    EXPECT_FALSE(seh::frame_active());
}

}  // namespace
