// bugcheck_test.cpp - bug checks as reports (sim_kernel/ke/bugcheck.cpp): names, the
// report text, KeBugCheckEx and KeBugCheck called from code, and the trace entry.
#include <gtest/gtest.h>

#include <string>

#include "ke/bugcheck.h"
#include "kernel/kernel_test_util.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;
using kernel_test::catch_bugcheck;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(BugCheckTest, NamesOfCommonCodes)
{
    EXPECT_STREQ(bugcheck_name(0x0A), "IRQL_NOT_LESS_OR_EQUAL");
    EXPECT_STREQ(bugcheck_name(NO_MORE_IRP_STACK_LOCATIONS), "NO_MORE_IRP_STACK_LOCATIONS");
    EXPECT_STREQ(bugcheck_name(MULTIPLE_IRP_COMPLETE_REQUESTS), "MULTIPLE_IRP_COMPLETE_REQUESTS");
    EXPECT_STREQ(bugcheck_name(BAD_POOL_CALLER), "BAD_POOL_CALLER");
    EXPECT_STREQ(bugcheck_name(DRIVER_VERIFIER_IOMANAGER_VIOLATION), "DRIVER_VERIFIER_IOMANAGER_VIOLATION");
    EXPECT_STREQ(bugcheck_name(0xD1), "DRIVER_IRQL_NOT_LESS_OR_EQUAL");
    EXPECT_STREQ(bugcheck_name(0x133), "DPC_WATCHDOG_VIOLATION");
    EXPECT_STREQ(bugcheck_name(0x12345), "UNKNOWN_BUGCHECK");
}

TEST(BugCheckTest, ReportContainsNameCodeParametersAndReason)
{
    System sys;
    auto stop = catch_bugcheck([] {
        bugcheck(BAD_POOL_CALLER, 0x0A, 0x1234, 0xABCD, 0xEF, nullptr, nullptr,
                 "A test broke the pool rule on purpose.");
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
    EXPECT_EQ(stop->name, "BAD_POOL_CALLER");
    EXPECT_EQ(stop->reason, "A test broke the pool rule on purpose.");
    EXPECT_EQ(stop->parameters[0], 0x0Au);
    EXPECT_EQ(stop->parameters[1], 0x1234u);
    EXPECT_EQ(stop->parameters[2], 0xABCDu);
    EXPECT_EQ(stop->parameters[3], 0xEFu);
    const std::string& report = stop->report;
    EXPECT_TRUE(contains(report, "*** STOP: 0x000000C2 (0x000000000000000A,0x0000000000001234,0x000000000000ABCD,"
                                 "0x00000000000000EF)"))
        << report;
    EXPECT_TRUE(contains(report, "BAD_POOL_CALLER (bug check 0xC2)")) << report;
    EXPECT_TRUE(contains(report, "Why:    A test broke the pool rule on purpose.")) << report;
    EXPECT_TRUE(contains(report, "Thread: t" + std::to_string(sys.system_thread()->tid()) + " of process " +
                                     std::to_string(sys.system_process()->pid()) + " (System)"))
        << report;
}

TEST(BugCheckTest, WhatIsTheReport)
{
    System sys;
    try {
        bugcheck(MANUALLY_INITIATED_CRASH, 0, 0, 0, 0, nullptr, nullptr, "Because.");
        FAIL() << "bugcheck returned";
    } catch (const std::exception& e) {
        EXPECT_TRUE(contains(e.what(), "MANUALLY_INITIATED_CRASH")) << e.what();
    }
}

TEST(BugCheckTest, KeBugCheckExGivesThatCodeAndNamesTheCaller)
{
    System sys;
    auto stop = catch_bugcheck([] { KeBugCheckEx(MANUALLY_INITIATED_CRASH, 0x11, 0x22, 0x33, 0x44); });
    ASSERT_TRUE(stop.has_value()) << "KeBugCheckEx returned";
    EXPECT_EQ(stop->code, static_cast<ULONG>(MANUALLY_INITIATED_CRASH));
    EXPECT_EQ(stop->name, "MANUALLY_INITIATED_CRASH");
    EXPECT_EQ(stop->parameters[0], 0x11u);
    EXPECT_EQ(stop->parameters[1], 0x22u);
    EXPECT_EQ(stop->parameters[2], 0x33u);
    EXPECT_EQ(stop->parameters[3], 0x44u);
    EXPECT_TRUE(contains(stop->reason, "KeBugCheckEx")) << stop->reason;
    EXPECT_TRUE(contains(stop->location, "bugcheck_test.cpp")) << "location: " << stop->location;
    EXPECT_TRUE(contains(stop->report, "Where:  ")) << stop->report;
}

TEST(BugCheckTest, KeBugCheckHasZeroParameters)
{
    System sys;
    auto stop = catch_bugcheck([] { KeBugCheck(0xDEAD); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, 0xDEADu);
    EXPECT_EQ(stop->name, "UNKNOWN_BUGCHECK");
    for (ULONG_PTR p : stop->parameters)
        EXPECT_EQ(p, 0u);
    EXPECT_TRUE(contains(stop->report, "*** STOP: 0x0000DEAD")) << stop->report;
}

TEST(BugCheckTest, BugCheckIsRecordedInTheTrace)
{
    System sys({.trace = true});
    auto stop = catch_bugcheck([] { KeBugCheckEx(MANUALLY_INITIATED_CRASH, 0, 0, 0, 0); });
    ASSERT_TRUE(stop.has_value());
    auto events = sys.trace().events();
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, trace::Kind::Finding);
    EXPECT_EQ(events.back().text, "BUGCHECK 0xE2 MANUALLY_INITIATED_CRASH");
}

TEST(BugCheckTest, ReportListsTheDriverCallsTheThreadIsInside)
{
    System sys;
    auto stop = catch_bugcheck([] {
        DriverCallScope scope("dispatch", reinterpret_cast<const void*>(&KeBugCheckEx), nullptr);
        bugcheck(0xC4, 0, 0, 0, 0, nullptr, nullptr, "inside a routine");
    });
    ASSERT_TRUE(stop.has_value());
    EXPECT_TRUE(contains(stop->report, "in dispatch ")) << stop->report;
    EXPECT_TRUE(contains(stop->report, "KeBugCheckEx")) << stop->report;
    EXPECT_TRUE(sys.system_thread()->driver_calls.empty()) << "the scope must unwind with the bug check";
}

}  // namespace
