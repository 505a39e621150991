// session_test.cpp - every command run on a Session, scripts, includes, bug checks, run_line
// and completion.
#include <gtest/gtest.h>

#include "lang/lang_test_support.h"

using namespace iosim::lang;
using langtest::Script;

namespace {

bool Has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(Session, LoadOpenCloseUnload)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run("load hello.sys\n"
                    "h = open \\\\.\\IosimHello\n"
                    "close h\n"
                    "unload hello\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "> load hello.sys\n")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | load hello.sys as service hello: STATUS_SUCCESS (0x00000000)")) << s.All();
    EXPECT_TRUE(Has(s.out(), " IRP_MJ_CREATE -> \\Device\\IosimHello [\\Driver\\hello]")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | CreateFile \\\\.\\IosimHello -> handle 0x4 (h, in process script)")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | CloseHandle(h) -> TRUE; status STATUS_SUCCESS")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | unload hello: STATUS_SUCCESS")) << s.All();
    EXPECT_EQ(s.err(), "");
}

TEST(Session, AMissingModuleIsAnInternalError)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load no_such_driver.sys\nprint \"not reached\"\n"), Outcome::InternalError);
        EXPECT_TRUE(Has(s.err(), "t.iosim:1:1: error: no driver module no_such_driver.sys in the module path")) << s.All();
        EXPECT_FALSE(Has(s.out(), "not reached"));
    }
    {
        Script r;
        EXPECT_EQ(r.Run("run no_such_app.exe\n"), Outcome::InternalError);
        EXPECT_TRUE(Has(r.err(), "t.iosim:1:1: error: cannot run no_such_app.exe: no app module no_such_app.exe")) << r.All();
    }
}

TEST(Session, ReadWriteWithOffsets)
{
    Script s;
    EXPECT_EQ(s.Run("load kbuffer.sys\n"
                    "k = open \\\\.\\IosimKbuffer\n"
                    "write k hex 41 42 43 offset 2\n"
                    "read k 6\n"
                    "expect data \"\\x00\\x00ABC\\x00\"\n"
                    "read k 2 offset 3\n"
                    "expect data \"BC\"\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "result | WriteFile(k, 3 bytes at offset 2) -> TRUE, 3 byte(s); status STATUS_SUCCESS"))
        << s.All();
    EXPECT_TRUE(Has(s.out(), "data   | 0000  00 00 41 42 43 00 ")) << s.All();
}

TEST(Session, IoctlShowsTheCodeAndTheWin32View)
{
    Script s;
    EXPECT_EQ(s.Run("load ioctl_buffered.sys\n"
                    "io = open \\\\.\\IosimIoctl\n"
                    "ioctl io ctl 0x8000 0x803 buffered any out 20\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "ioctl  | code 0x8000200c = CTL_CODE(0x8000, 0x803, METHOD_BUFFERED, FILE_ANY_ACCESS), "
                             "input 0 byte(s), output 20 byte(s)"))
        << s.All();
    EXPECT_TRUE(Has(s.out(), "-> FALSE, 16 byte(s), GetLastError() = 234 (ERROR_MORE_DATA); status "
                             "STATUS_BUFFER_OVERFLOW (0x80000005)"))
        << s.All();
    EXPECT_TRUE(Has(s.out(), "text   | \"IosimSmallHeader\"")) << s.All();
}

TEST(Session, ProcessesInAndExit)
{
    Script s(true);
    EXPECT_EQ(s.Run("load hello.sys\n"
                    "process alice\n"
                    "a = open \\\\.\\IosimHello\n"
                    "process bob\n"
                    "b = open \\\\.\\IosimHello\n"
                    "in alice\n"
                    "a2 = open \\\\.\\IosimHello\n"
                    "exit alice\n"
                    "in bob\n"
                    "exit\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "(a2, in process alice)")) << s.All();
    EXPECT_TRUE(Has(s.out(), "(b, in process bob)")) << s.All();
    EXPECT_TRUE(Has(s.out(), "process alice ended; its handles were closed")) << s.All();
    EXPECT_TRUE(Has(s.out(), "process bob ended")) << s.All();  // 'exit' alone: the current process
}

TEST(Session, HandlesOfAnEndedProcessAreClosed)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load hello.sys\nprocess p\nh = open \\\\.\\IosimHello\nexit p\nclose h\n"), Outcome::BadScript);
        EXPECT_TRUE(Has(s.err(), "t.iosim:5:1: error: handle 'h' is closed (at ")) << s.All();
    }
    {
        Script again;
        EXPECT_EQ(again.Run("process p\nexit p\nin p\n"), Outcome::BadScript);
        EXPECT_TRUE(Has(again.err(), "t.iosim:3:1: error: process 'p' exited at ")) << again.All();
    }
    {
        Script twice;
        EXPECT_EQ(twice.Run("process p\nprocess p\n"), Outcome::BadScript);
        EXPECT_TRUE(Has(twice.err(), "t.iosim:2:1: error: process 'p' already exists")) << twice.All();
    }
}

TEST(Session, AFailedOpenLeavesNoHandle)
{
    Script s;
    EXPECT_EQ(s.Run("h = open \\\\.\\Nothing\nclose h\n"), Outcome::BadScript);
    EXPECT_TRUE(Has(s.err(), "t.iosim:2:1: error: handle 'h' was not opened: its open at ")) << s.All();
}

TEST(Session, RunAnApp)
{
    Script s(true);
    EXPECT_EQ(s.Run("load pattern.sys\nrun pattern_reader.exe\nexpect exit 0\n"), Outcome::Ok) << s.All();
    EXPECT_TRUE(Has(s.out(), "app    | read 10 of 10 byte(s): ABCDEFGHIJ\n")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | pattern_reader.exe exited with code 0")) << s.All();
}

TEST(Session, AdvanceSeedAndPrint)
{
    Script s;
    EXPECT_EQ(s.Run("advance 100ms\nadvance 5us\nseed 42\nprint \"a\\tb\"\n"), Outcome::Ok) << s.All();
    EXPECT_EQ(s.session().machine().system().interrupt_time(), 1000050);
    EXPECT_EQ(s.session().seed(), 42u);
    EXPECT_TRUE(Has(s.out(), "\na\tb\n")) << s.All();
}

TEST(Session, BreakpointRunsInspectionWhileTheIrpIsInTheDriver)
{
    Script s;
    EXPECT_EQ(s.Run("load kbuffer.sys\n"
                    "k = open \\\\.\\IosimKbuffer\n"
                    "break IRP_MJ_WRITE at \\Device\\IosimKbuffer do !irp\n"
                    "break IRP_MJ_READ\n"
                    "read k 1\n"
                    "write k \"x\" offset 7\n"
                    "delete 1\n"
                    "write k \"y\"\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), " IRP_MJ_READ -> \\Device\\IosimKbuffer")) << s.All();
    EXPECT_TRUE(Has(s.out(), " IRP_MJ_WRITE -> \\Device\\IosimKbuffer")) << s.All();
    EXPECT_TRUE(Has(s.out(), "> !irp\n")) << s.All();
    EXPECT_TRUE(Has(s.out(), "Write: Length 1, Key 0x0, ByteOffset 7")) << s.All();
    EXPECT_TRUE(Has(s.out(), "breakpoint 2 hit: IRP#")) << s.All();
    EXPECT_TRUE(Has(s.out(), "breakpoint 1 hit: IRP#")) << s.All();
    size_t hits = 0;
    for (size_t at = s.out().find(" hit: "); at != std::string::npos; at = s.out().find(" hit: ", at + 1))
        ++hits;
    EXPECT_EQ(hits, 2u) << s.All();  // breakpoint 1 was deleted before the second write
}

TEST(Session, DeleteAnUnknownBreakpoint)
{
    Script s;
    EXPECT_EQ(s.Run("break IRP_MJ_READ\ndelete 7\n"), Outcome::BadScript);
    EXPECT_TRUE(Has(s.err(), "t.iosim:2:1: error: no breakpoint 7 (breakpoints: 1)")) << s.All();
}

TEST(Session, Inspection)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load hello.sys\n!drvobj hello\n"), Outcome::Ok) << s.All();
        EXPECT_TRUE(Has(s.out(), "is for: \\Driver\\hello")) << s.All();
    }
    {
        Script bad;
        EXPECT_EQ(bad.Run("!devobj \\Device\\NoSuchDevice\n"), Outcome::BadScript);
        EXPECT_TRUE(Has(bad.err(), "t.iosim:1:1: error: !devobj")) << bad.All();
    }
}

TEST(Session, IncludeIsRelativeToTheIncludingFile)
{
    auto dir = langtest::ScratchDir();
    std::filesystem::create_directories(dir / "lib");
    langtest::WriteFile(dir / "lib" / "setup.iosim", "load hello.sys\nh = open \\\\.\\IosimHello\n");
    langtest::WriteFile(dir / "main.iosim", "include \"lib/setup.iosim\"\nclose h\nexpect status STATUS_SUCCESS\n");
    Script s;
    EXPECT_EQ(s.session().run_file((dir / "main.iosim").string()), Outcome::Ok) << s.All();
}

TEST(Session, IncludeNotFound)
{
    auto dir = langtest::ScratchDir();
    langtest::WriteFile(dir / "main.iosim", "print \"x\"\ninclude   \"missing.iosim\"\n");
    Script s;
    std::string path = (dir / "main.iosim").string();
    EXPECT_EQ(s.session().run_file(path), Outcome::BadScript);
    EXPECT_EQ(s.err(), path + ":2:11: error: cannot open include file \"" + (dir / "missing.iosim").string() +
                           "\" (looked for " + (dir / "missing.iosim").string() + ")\n");
    EXPECT_EQ(s.out(), "");  // nothing ran: the whole file is checked first
}

TEST(Session, IncludeCycle)
{
    auto dir = langtest::ScratchDir();
    std::string a = (dir / "a.iosim").string();
    std::string b = (dir / "b.iosim").string();
    langtest::WriteFile(a, "include \"b.iosim\"\n");
    langtest::WriteFile(b, "# b\ninclude \"a.iosim\"\n");
    Script s;
    EXPECT_EQ(s.session().run_file(a), Outcome::BadScript);
    EXPECT_EQ(s.err(), b + ":2:9: error: include cycle: " + a + " -> " + b + " -> " + a + "\n");
}

TEST(Session, ABadLineStopsTheFileBeforeAnythingRuns)
{
    Script s;
    EXPECT_EQ(s.Run("load hello.sys\nprint \"fine\"\nclose 42\n", "lab1.iosim"), Outcome::BadScript);
    EXPECT_EQ(s.err(), s.path() + ":3:7: error: expected a handle variable after 'close', got \"42\"\n");
    EXPECT_EQ(s.out(), "");
}

TEST(Session, AnUnexpectedBugCheck)
{
    Script s;
    EXPECT_EQ(s.Run("load buggy.sys\n"
                    "b = open \\\\.\\IosimBuggy\n"
                    "ioctl b ctl 0x8001 0x900 buffered any\n"
                    "print \"still here\"\n"
                    "close b\n"
                    "print \"not here\"\n"),
              Outcome::BugCheck);
    EXPECT_TRUE(Has(s.out(), "BUGCHECK| MULTIPLE_IRP_COMPLETE_REQUESTS (bug check 0x44)")) << s.All();
    EXPECT_TRUE(Has(s.out(), "still here")) << s.All();
    EXPECT_FALSE(Has(s.out(), "not here")) << s.All();
    EXPECT_TRUE(Has(s.err(), ":5: stopped before 'close': the machine is dead after the bug check at ")) << s.All();
    EXPECT_EQ(s.session().outcome(), Outcome::BugCheck);
}

TEST(Session, AnExpectedBugCheck)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load buggy.sys\n"
                        "b = open \\\\.\\IosimBuggy\n"
                        "ioctl b ctl 0x8001 0x900 buffered any\n"
                        "expect bugcheck MULTIPLE_IRP_COMPLETE_REQUESTS\n"
                        "expect trace contains \"now again\"\n"),
                  Outcome::Ok)
            << s.All();
        EXPECT_EQ(s.session().outcome(), Outcome::Ok);
    }
    {
        Script after;
        EXPECT_EQ(after.Run("load buggy.sys\n"
                            "b = open \\\\.\\IosimBuggy\n"
                            "ioctl b ctl 0x8001 0x900 buffered any\n"
                            "expect bugcheck 0x44\n"
                            "close b\n"),
                  Outcome::BadScript);
        EXPECT_TRUE(Has(after.err(), ":5:1: error: 'close' cannot run: the machine bug-checked at ")) << after.All();
    }
}

TEST(Session, RunLineIsTheShell)
{
    Script s;
    EXPECT_EQ(s.Line("load hello.sys"), Outcome::Ok) << s.All();
    EXPECT_EQ(s.Line("h = open \\\\.\\IosimHello   # typed"), Outcome::Ok) << s.All();
    EXPECT_EQ(s.Line("close hh"), Outcome::BadScript);
    EXPECT_TRUE(Has(s.err(), "<shell>:3:7: error: unknown variable 'hh' (handle variables: h)")) << s.All();
    EXPECT_EQ(s.Line("close h"), Outcome::Ok) << s.All();
    EXPECT_EQ(s.Line(""), Outcome::Ok);
    EXPECT_EQ(s.session().outcome(), Outcome::BadScript);  // the worst so far
}

TEST(Session, Completion)
{
    Script s;
    ASSERT_EQ(s.Run("load hello.sys\nhandle1 = open \\\\.\\IosimHello\nprocess worker\n"), Outcome::Ok) << s.All();
    auto& session = s.session();
    EXPECT_EQ(session.complete("lo"), (std::vector<std::string>{"load"}));
    EXPECT_EQ(session.complete("ha"), (std::vector<std::string>{"handle1"}));
    EXPECT_EQ(session.complete("close "), (std::vector<std::string>{"handle1"}));
    EXPECT_EQ(session.complete("in w"), (std::vector<std::string>{"worker"}));
    EXPECT_EQ(session.complete("expect bu"), (std::vector<std::string>{"bugcheck"}));
    EXPECT_EQ(session.complete("break IRP_MJ_WR"), (std::vector<std::string>{"IRP_MJ_WRITE"}));
    EXPECT_EQ(session.complete("expect status STATUS_ACCESS_D"), (std::vector<std::string>{"STATUS_ACCESS_DENIED"}));
    EXPECT_EQ(session.complete("expect object \\Device\\Iosim"), (std::vector<std::string>{"\\Device\\IosimHello"}));
    EXPECT_EQ(session.complete("x = open \\\\.\\Iosim"), (std::vector<std::string>{"\\\\.\\IosimHello"}));
    EXPECT_EQ(session.complete("x = "), (std::vector<std::string>{"ioctl", "open", "read", "write"}));
    EXPECT_EQ(session.complete("x = o"), (std::vector<std::string>{"open"}));
    EXPECT_EQ(session.complete("!drv"), (std::vector<std::string>{"!drvobj"}));
}
