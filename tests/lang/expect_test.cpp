// expect_test.cpp - every expectation, met and failed; a failure shows expected vs actual
// and, for a request, the IRP's lines from the trace.
#include <gtest/gtest.h>

#include "lang/lang_test_support.h"

using namespace iosim::lang;
using langtest::Script;

namespace {

bool Has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

const char* kKbuffer = "load kbuffer.sys\nk = open \\\\.\\IosimKbuffer\nwrite k \"hello, driver\" offset 500\n";

}  // namespace

TEST(Expect, StatusMet)
{
    Script s;
    EXPECT_EQ(s.Run(std::string(kKbuffer) + "expect status STATUS_FILE_INVALID\nexpect status 0xC0000098\n"), Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "expect | ok: status STATUS_FILE_INVALID (0xC0000098)")) << s.All();
}

TEST(Expect, StatusFailedShowsTheIrp)
{
    Script s;
    EXPECT_EQ(s.Run(std::string(kKbuffer) + "expect status STATUS_SUCCESS\n"), Outcome::ExpectationFailed);
    EXPECT_TRUE(Has(s.err(), "t.iosim:4:1: expectation failed: expect status STATUS_SUCCESS\n"
                             "  expected: STATUS_SUCCESS (0x00000000)\n"
                             "  actual:   STATUS_FILE_INVALID (0xC0000098)\n"
                             "  the last request: WriteFile on k at "))
        << s.All();
    EXPECT_TRUE(Has(s.err(), " IRP_MJ_WRITE -> \\Device\\IosimKbuffer")) << s.All();
    EXPECT_TRUE(Has(s.err(), " completed: STATUS_FILE_INVALID (0xC0000098), Information 0")) << s.All();
    EXPECT_FALSE(Has(s.err(), "IRP_MJ_CREATE")) << s.All();  // only the last request's IRP
}

TEST(Expect, ARequestWithoutAnIrpSaysSo)
{
    Script s;
    EXPECT_EQ(s.Run("h = open \\\\.\\Nothing\nexpect status STATUS_SUCCESS\n"), Outcome::ExpectationFailed);
    EXPECT_TRUE(Has(s.err(), "actual:   STATUS_OBJECT_NAME_NOT_FOUND (0xC0000034)")) << s.All();
    EXPECT_TRUE(Has(s.err(), "(it made no IRP: it failed before reaching a driver)")) << s.All();
}

TEST(Expect, ScriptsGoOnAfterAFailedExpectation)
{
    Script s;
    EXPECT_EQ(s.Run(std::string(kKbuffer) + "expect bytes 5\nprint \"after\"\n"), Outcome::ExpectationFailed);
    EXPECT_TRUE(Has(s.err(), "  expected: 5 byte(s)\n  actual:   0 byte(s)\n")) << s.All();
    EXPECT_TRUE(Has(s.out(), "after\n")) << s.All();
}

TEST(Expect, BytesAndData)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load pattern.sys\np = open \\\\.\\IosimPattern\nread p 4 offset 1\nexpect bytes 4\n"
                        "expect data \"BCDE\"\nexpect data hex 42434445\n"),
                  Outcome::Ok)
            << s.All();
    }
    {
        Script f;
        EXPECT_EQ(f.Run("load pattern.sys\np = open \\\\.\\IosimPattern\nread p 4\nexpect data \"ABCX\"\n"),
                  Outcome::ExpectationFailed);
        EXPECT_TRUE(Has(f.err(), "  expected: 4 byte(s) \"ABCX\": hex 41 42 43 58\n"
                                 "  actual:   4 byte(s) \"ABCD\": hex 41 42 43 44\n"))
            << f.All();
    }
}

TEST(Expect, BytesNeedATransfer)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load hello.sys\nexpect bytes 0\n"), Outcome::BadScript);
        EXPECT_TRUE(Has(s.err(), "t.iosim:2:1: error: 'expect bytes' needs a read, write or ioctl; the last request was "
                                 "load hello.sys as hello"))
            << s.All();
    }
    {
        Script none;
        EXPECT_EQ(none.Run("expect status 0\n"), Outcome::BadScript);
        EXPECT_TRUE(Has(none.err(), "'expect status' needs a request before it")) << none.All();
    }
}

TEST(Expect, LastError)
{
    {
        Script s;
        EXPECT_EQ(s.Run(std::string(kKbuffer) + "expect last-error ERROR_FILE_INVALID\nexpect last-error 1006\n"),
                  Outcome::Ok)
            << s.All();
    }
    {
        Script f;
        EXPECT_EQ(f.Run(std::string(kKbuffer) + "expect last-error NO_ERROR\n"), Outcome::ExpectationFailed);
        EXPECT_TRUE(Has(f.err(), "  expected: GetLastError() = 0 (ERROR_SUCCESS)\n"
                                 "  actual:   GetLastError() = 1006 (ERROR_FILE_INVALID)\n"))
            << f.All();
    }
}

TEST(Expect, BugCheckThatDidNotHappen)
{
    Script s;
    EXPECT_EQ(s.Run("expect bugcheck MULTIPLE_IRP_COMPLETE_REQUESTS\n"), Outcome::ExpectationFailed);
    EXPECT_TRUE(Has(s.err(), "  expected: bug check MULTIPLE_IRP_COMPLETE_REQUESTS (0x44)\n"
                             "  actual:   no bug check: the machine is running\n"))
        << s.All();
}

TEST(Expect, ADifferentBugCheck)
{
    Script s;
    EXPECT_EQ(s.Run("load buggy.sys\nb = open \\\\.\\IosimBuggy\nioctl b ctl 0x8001 0x900 buffered any\n"
                    "expect bugcheck NO_MORE_IRP_STACK_LOCATIONS\n"),
              Outcome::BugCheck);  // the real one stays unexpected
    EXPECT_TRUE(Has(s.err(), "  expected: bug check NO_MORE_IRP_STACK_LOCATIONS (0x35)\n"
                             "  actual:   bug check MULTIPLE_IRP_COMPLETE_REQUESTS (0x44)\n"))
        << s.All();
}

TEST(Expect, CleanAndFinding)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load buggy.sys\nexpect clean\nunload buggy\nexpect finding SYMLINK_LEFT_BEHIND\n"), Outcome::Ok)
            << s.All();
    }
    {
        Script f;
        EXPECT_EQ(f.Run("load buggy.sys\nunload buggy\nexpect clean\nexpect finding POOL_LEAK\n"),
                  Outcome::ExpectationFailed);
        EXPECT_TRUE(Has(f.err(), "t.iosim:3:1: expectation failed: expect clean\n  expected: no findings\n"
                                 "  actual:   2 finding(s)\n    SYMLINK_DELETE_FAILED: "))
            << f.All();
        EXPECT_TRUE(Has(f.err(), "t.iosim:4:1: expectation failed: expect finding POOL_LEAK\n"
                                 "  expected: a finding POOL_LEAK\n  actual:   2 other finding(s):\n"))
            << f.All();
    }
}

TEST(Expect, TraceContains)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load hello.sys\nexpect trace contains \"DriverEntry of \\\\Driver\\\\hello\"\n"), Outcome::Ok)
            << s.All();
    }
    {
        Script f;
        EXPECT_EQ(f.Run("load hello.sys\nexpect trace contains \"IRP_MJ_READ\"\n"), Outcome::ExpectationFailed);
        EXPECT_TRUE(Has(f.err(), "  expected: an event containing \"IRP_MJ_READ\"\n  actual:   none of the ")) << f.All();
    }
}

TEST(Expect, ObjectExistsOrAbsent)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load hello.sys\nexpect object \\Device\\IosimHello exists\n"
                        "expect object \\GLOBAL??\\IosimHello exists\nexpect object \\Device\\Other absent\n"),
                  Outcome::Ok)
            << s.All();
    }
    {
        Script f;
        EXPECT_EQ(f.Run("expect object \\Device\\IosimHello exists\n"), Outcome::ExpectationFailed);
        EXPECT_TRUE(Has(f.err(), "  expected: \\Device\\IosimHello exists\n  actual:   \\Device\\IosimHello is absent\n"))
            << f.All();
    }
}

TEST(Expect, OutputAndExit)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load pattern.sys\nrun pattern_reader.exe\nexpect output contains \"ABCDEFGHIJ\"\nexpect exit 0\n"),
                  Outcome::Ok)
            << s.All();
    }
    {
        Script f;
        EXPECT_EQ(f.Run("run hello_open.exe\nexpect exit 0\nexpect output contains \"opened\"\n"),
                  Outcome::ExpectationFailed);
        EXPECT_TRUE(Has(f.err(), "  expected: hello_open.exe exits with code 0\n  actual:   exit code 1\n")) << f.All();
        EXPECT_TRUE(Has(f.err(), "  actual:   its output was:\n    | CreateFile failed, GetLastError() = 2\n")) << f.All();
    }
    {
        Script none;
        EXPECT_EQ(none.Run("expect exit 0\n"), Outcome::BadScript);
        EXPECT_TRUE(Has(none.err(), "t.iosim:1:1: error: 'expect output' and 'expect exit' need a 'run' before them"))
            << none.All();
    }
}
