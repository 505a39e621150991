// seh_test.cpp - __try/__except/__finally/__leave in driver code, compiled as C and as C++.
//
// Every case runs in the three test drivers (seh_c.sys, seh_cpp.sys and seh_cpp_noexc.sys,
// C++ without exceptions: tests/seh/drivers/seh_cases.h). The order of filters, handlers and __finally blocks is read from a log
// the cases write. Where iosim differs from MSVC on purpose (docs/seh.md), the test says so
// in its name.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "seh_test_support.h"

using namespace iosim;
using seh_test::CatchBugCheck;
using seh_test::SehRig;
using seh_test::SehSourceLine;

namespace {

class SehCases : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override { ASSERT_TRUE(rig.loaded()); }

    std::string Log(void (*f)(char*))
    {
        char log[SEH_LOG_SIZE] = {};
        f(log);
        return log;
    }

    SehRig rig{GetParam()};
};

TEST_P(SehCases, ExRaiseStatusIsCaughtAndGetExceptionCodeGivesTheStatus)
{
    auto* catch_raise = rig.Case<NTSTATUS(NTSTATUS)>("SehCatchRaise");
    EXPECT_EQ(catch_raise(STATUS_INSUFFICIENT_RESOURCES), STATUS_INSUFFICIENT_RESOURCES);
    EXPECT_EQ(catch_raise(static_cast<NTSTATUS>(0xE0001234)), static_cast<NTSTATUS>(0xE0001234));
    EXPECT_FALSE(seh::frame_active()) << "every frame is popped after the handler";
}

TEST_P(SehCases, ExRaiseAccessViolationAndDatatypeMisalignmentRaiseTheirStatus)
{
    auto* helpers = rig.Case<NTSTATUS(int)>("SehRaiseHelpers");
    EXPECT_EQ(helpers(0), STATUS_ACCESS_VIOLATION);
    EXPECT_EQ(helpers(1), STATUS_DATATYPE_MISALIGNMENT);
}

TEST_P(SehCases, ContinueSearchFromTheInnerFilterReachesTheOuterHandler)
{
    auto* f = rig.Case<void(NTSTATUS, char*)>("SehContinueSearch");
    char log[SEH_LOG_SIZE] = {};
    f(STATUS_INVALID_PARAMETER, log);
    EXPECT_STREQ(log, "body inner-filter outer-filter outer-handler:same-code after-outer");
}

TEST_P(SehCases, NestedTryTheInnerHandlerHandlesAndTheOuterNeverHears)
{
    EXPECT_EQ(Log(rig.Case<void(char*)>("SehNested")),
              "inner-filter inner-handler after-inner second-body end");
}

TEST_P(SehCases, FinallyRunsOnNormalCompletionWithAbnormalTerminationFalse)
{
    EXPECT_EQ(Log(rig.Case<void(char*)>("SehFinallyNormal")), "body finally:normal after");
}

// MSVC evaluates the outer filter before running the inner __finally (two passes); iosim
// leaves the inner frame first (one pass), so the __finally comes before the filter.
TEST_P(SehCases, FinallyRunsOnExceptionWithAbnormalTerminationTrue_BeforeTheOuterFilterInIosim)
{
    auto* f = rig.Case<void(NTSTATUS, char*)>("SehFinallyOnException");
    char log[SEH_LOG_SIZE] = {};
    f(STATUS_INVALID_PARAMETER, log);
    EXPECT_STREQ(log, "body finally:abnormal outer-filter handler");
}

TEST_P(SehCases, LeaveFromNestedLoopsEndsTheBodyAndTheFinallyRunsNormally)
{
    EXPECT_EQ(Log(rig.Case<void(char*)>("SehLeave")), "body leaving finally:normal after");
}

// MSVC would break out of the for loop (after the __finally); in iosim a break directly
// in a __try body leaves only the __try, so the loop runs on.
TEST_P(SehCases, BreakInsideTryLeavesTheTryNotTheLoop_IosimDifference)
{
    auto* f = rig.Case<int(char*)>("SehBreakInTry");
    char log[SEH_LOG_SIZE] = {};
    EXPECT_EQ(f(log), 3);
    EXPECT_STREQ(log, "finally finally finally");
}

TEST_P(SehCases, ElseAfterTheConstructBelongsToTheCallersIf)
{
    auto* f = rig.Case<int(int)>("SehElseBinding");
    EXPECT_EQ(f(1), 1);
    EXPECT_EQ(f(0), 3);
}

TEST_P(SehCases, IntegerDivisionByZeroInsideTryIsStatusIntegerDivideByZero)
{
    auto* divide = rig.Case<int(int, int, NTSTATUS*)>("SehDivide");
    NTSTATUS status = STATUS_PENDING;
    EXPECT_EQ(divide(42, 6, &status), 7);
    EXPECT_EQ(status, STATUS_SUCCESS);
    EXPECT_EQ(divide(42, 0, &status), 0);
    EXPECT_EQ(status, STATUS_INTEGER_DIVIDE_BY_ZERO);
    // The handler ran and the thread goes on: a second fault is handled the same way.
    EXPECT_EQ(divide(1, 0, &status), 0);
    EXPECT_EQ(status, STATUS_INTEGER_DIVIDE_BY_ZERO);
}

TEST_P(SehCases, UnhandledExRaiseStatusIsBugCheck0x1ENamingTheRaise)
{
    auto* raise = rig.Case<void(NTSTATUS)>("SehUnhandledRaise");
    auto info = CatchBugCheck([&] { raise(STATUS_INSUFFICIENT_RESOURCES); });
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->code, 0x1Eu);
    EXPECT_EQ(info->name, "KMODE_EXCEPTION_NOT_HANDLED");
    EXPECT_EQ(info->parameters[0], static_cast<ULONG>(STATUS_INSUFFICIENT_RESOURCES));
    int line = SehSourceLine("seh_cases.h", "unhandled-raise");
    ASSERT_NE(line, 0);
    EXPECT_NE(info->location.find("seh_cases.h:" + std::to_string(line) + " in SehUnhandledRaise"),
              std::string::npos)
        << info->report;
    EXPECT_NE(info->reason.find("no __try/__except was there"), std::string::npos) << info->reason;
    EXPECT_EQ(info->driver, std::string(GetParam()) + ".sys");
    EXPECT_TRUE(rig.rig.system().dead());
}

TEST_P(SehCases, ExceptionEveryFilterDeclinesIsBugCheck0x1ENamingTheRaise)
{
    auto* raise = rig.Case<void(NTSTATUS)>("SehUnhandledAfterSearch");
    auto info = CatchBugCheck([&] { raise(STATUS_INVALID_PARAMETER); });
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->code, 0x1Eu);
    int line = SehSourceLine("seh_cases.h", "declined-raise");
    EXPECT_NE(info->location.find("seh_cases.h:" + std::to_string(line)), std::string::npos) << info->report;
    EXPECT_NE(info->reason.find("EXCEPTION_CONTINUE_SEARCH"), std::string::npos) << info->reason;
    EXPECT_FALSE(seh::frame_active());
}

TEST_P(SehCases, ContinueExecutionCannotBeHonouredAndIsABugCheckNamingTheExceptLine)
{
    auto* f = rig.Case<void()>("SehContinueExecution");
    auto info = CatchBugCheck([&] { f(); });
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->code, 0x1Eu);
    EXPECT_EQ(info->parameters[0], static_cast<ULONG>(STATUS_NONCONTINUABLE_EXCEPTION));
    int line = SehSourceLine("seh_cases.h", "continue-execution");
    EXPECT_NE(info->location.find("seh_cases.h:" + std::to_string(line)), std::string::npos) << info->report;
    EXPECT_NE(info->reason.find("EXCEPTION_CONTINUE_EXECUTION"), std::string::npos) << info->reason;
}

TEST_P(SehCases, ReturnOutOfTryWithFinallySkipsItAndIsReported)
{
    auto* f = rig.Case<int(char*)>("SehReturnSkipsFinally");
    char log[SEH_LOG_SIZE] = {};
    EXPECT_EQ(f(log), 1);
    EXPECT_STREQ(log, "body");
    EXPECT_FALSE(seh::frame_active());
    int line = SehSourceLine("seh_cases.h", "return-skips-finally");
    bool found = false;
    for (const Finding& finding : rig.rig.system().findings())
        if (finding.code == "FINALLY_SKIPPED") {
            found = true;
            EXPECT_EQ(finding.location, "seh_cases.h:" + std::to_string(line));
        }
    EXPECT_TRUE(found) << rig.rig.FindingsDump();
}

TEST_P(SehCases, FaultOnAFreedUserPageInsideTryIsAnAccessViolationWithItsAddress)
{
    e2e::Win32Process app(rig.rig.machine);
    void* bad = seh_test::BadUserAddress(app.process());
    unsigned char* good = seh_test::UserBuffer(app.process(), 16);
    auto* read = rig.Case<NTSTATUS(const volatile UCHAR*, UCHAR*)>("SehReadByte");
    auto* write = rig.Case<NTSTATUS(volatile UCHAR*, UCHAR)>("SehWriteByte");
    auto* info_of = rig.Case<void(volatile UCHAR*, BOOLEAN, ULONG_PTR*)>("SehExceptionInformation");
    app.Run([&] {
        good[3] = 0x5A;
        UCHAR value = 0;
        EXPECT_EQ(read(good + 3, &value), STATUS_SUCCESS);
        EXPECT_EQ(value, 0x5A);
        EXPECT_EQ(read(static_cast<UCHAR*>(bad) + 5, &value), STATUS_ACCESS_VIOLATION);
        EXPECT_EQ(write(good, 7), STATUS_SUCCESS);
        EXPECT_EQ(write(static_cast<UCHAR*>(bad), 7), STATUS_ACCESS_VIOLATION);

        ULONG_PTR info[6] = {};
        info_of(static_cast<UCHAR*>(bad) + 9, TRUE, info);
        EXPECT_EQ(info[0], static_cast<ULONG>(STATUS_ACCESS_VIOLATION));
        EXPECT_EQ(info[1], 2u);  // NumberParameters
        EXPECT_EQ(info[2], 1u);  // a write
        EXPECT_EQ(info[3], reinterpret_cast<ULONG_PTR>(bad) + 9);
        EXPECT_NE(info[4], 0u);  // ExceptionAddress: the faulting instruction ...
        EXPECT_EQ(info[4], info[5]);  // ... which is the context's Rip
        std::memset(info, 0, sizeof info);
        info_of(static_cast<UCHAR*>(bad), FALSE, info);
        EXPECT_EQ(info[2], 0u);  // a read
        EXPECT_EQ(info[3], reinterpret_cast<ULONG_PTR>(bad));
        EXPECT_EQ(good[0], 7);
    });
    EXPECT_FALSE(rig.rig.system().dead());
}

TEST_P(SehCases, AnotherProcesssUserPageFaultsInTheWrongContextAndIsCaught)
{
    e2e::Win32Process owner(rig.rig.machine, "owner.exe");
    e2e::Win32Process other(rig.rig.machine, "other.exe");
    unsigned char* buffer = seh_test::UserBuffer(owner.process(), 8);
    auto* read = rig.Case<NTSTATUS(const volatile UCHAR*, UCHAR*)>("SehReadByte");
    UCHAR value = 0;
    owner.Run([&] {
        buffer[0] = 0x11;
        EXPECT_EQ(read(buffer, &value), STATUS_SUCCESS);
    });
    EXPECT_EQ(value, 0x11);
    other.Run([&] { EXPECT_EQ(read(buffer, &value), STATUS_ACCESS_VIOLATION); });
}

TEST_P(SehCases, NullPageInsideTryIsAnAccessViolation)
{
    auto* read = rig.Case<NTSTATUS(const volatile UCHAR*, UCHAR*)>("SehReadByte");
    UCHAR value = 0;
    EXPECT_EQ(read(reinterpret_cast<const volatile UCHAR*>(0x18), &value), STATUS_ACCESS_VIOLATION);
}

INSTANTIATE_TEST_SUITE_P(CAndCpp, SehCases, ::testing::Values("seh_c", "seh_cpp", "seh_cpp_noexc"),
                         [](const auto& info) { return std::string(info.param); });

// ---- C++ only ----

TEST(SehCpp, LeaveRunsTheDestructorsOfTheBody)
{
    SehRig rig("seh_cpp");
    ASSERT_TRUE(rig.loaded());
    auto* f = rig.Case<void(int*, char*)>("SehCppLeaveRunsDestructors");
    int destroyed = 0;
    char log[SEH_LOG_SIZE] = {};
    f(&destroyed, log);
    EXPECT_EQ(destroyed, 2);
    EXPECT_STREQ(log, "finally:normal");
}

TEST(SehCpp, StandardContainersIncludedAfterWdmWorkInsideTryAndARaiseFromACallbackIsCaught)
{
    SehRig rig("seh_cpp");
    ASSERT_TRUE(rig.loaded());
    auto* f = rig.Case<NTSTATUS(NTSTATUS, char*)>("SehCppContainers");
    char log[SEH_LOG_SIZE] = {};
    EXPECT_EQ(f(STATUS_INVALID_DEVICE_STATE, log), STATUS_INVALID_DEVICE_STATE);
    EXPECT_STREQ(log, "apple,fig,pear,135");
    EXPECT_FALSE(seh::frame_active());
}

TEST(SehCpp, WithoutExceptionsLateStandardHeadersStillWorkInsideTry)
{
    SehRig rig("seh_cpp_noexc");
    ASSERT_TRUE(rig.loaded());
    EXPECT_EQ(rig.Case<int(int)>("SehNoExcList")(7), 7);
    EXPECT_FALSE(seh::frame_active());
}

TEST(SehCpp, CppExceptionsPassExceptByAndPopItsFrame)
{
    SehRig rig("seh_cpp");
    ASSERT_TRUE(rig.loaded());
    auto* f = rig.Case<int(char*)>("SehCppThrowPassesExcept");
    char log[SEH_LOG_SIZE] = {};
    EXPECT_EQ(f(log), 42);
    EXPECT_STREQ(log, "body catch");
    EXPECT_FALSE(seh::frame_active());
}

}  // namespace
