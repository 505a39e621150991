// console_test.cpp - console I/O of a simulated process (sim_kernel/crt/console.cpp):
// stdout/stderr are captured by the process's console, stdin is fed from console.input,
// other FILE*s are real host files, and with no current process reads give EOF.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "ps/process.h"
#include "iosim_crt.h"

namespace {

// A process with a console whose output is collected in `captured`, current on this thread.
class ConsoleTest : public ::testing::Test {
protected:
    ConsoleTest() : process_(42, "app.exe"), thread_(1, &process_), current_(&thread_)
    {
        process_.console().output = [this](std::string_view text) { captured.append(text); };
    }

    void feed(std::string input)
    {
        process_.console().input = std::move(input);
        process_.console().input_pos = 0;
    }

    std::string captured;
    iosim::Process process_;
    iosim::Thread thread_;
    iosim::ThreadSwitch current_;
};

}  // namespace

TEST_F(ConsoleTest, GetcharReadsConsoleInputThenEof)
{
    feed("ab\xFF");
    EXPECT_EQ(iosim_kbhit(), 1);
    EXPECT_EQ(iosim_getchar(), 'a');
    EXPECT_EQ(iosim_getchar(), 'b');
    EXPECT_EQ(iosim_getch(), 0xFF);  // bytes are returned as unsigned char values
    EXPECT_EQ(iosim_kbhit(), 0);
    EXPECT_EQ(iosim_getchar(), EOF);  // exhausted: EOF, never the host's stdin
    EXPECT_EQ(captured, "");          // input is not echoed
}

TEST_F(ConsoleTest, FgetsReadsOneLineAtATime)
{
    feed("first line\nsecond\nlast");
    char buf[64];
    ASSERT_EQ(iosim_fgets(buf, sizeof buf, stdin), buf);
    EXPECT_STREQ(buf, "first line\n");
    char small[4];
    ASSERT_EQ(iosim_fgets(small, sizeof small, stdin), small);  // n-1 bytes at most
    EXPECT_STREQ(small, "sec");
    ASSERT_EQ(iosim_fgets(buf, sizeof buf, stdin), buf);
    EXPECT_STREQ(buf, "ond\n");
    ASSERT_EQ(iosim_fgets(buf, sizeof buf, stdin), buf);
    EXPECT_STREQ(buf, "last");  // end of input ends the last line
    EXPECT_EQ(iosim_fgets(buf, sizeof buf, stdin), nullptr);
}

TEST_F(ConsoleTest, PrintfGoesToTheProcessConsoleWithWindowsRules)
{
    EXPECT_EQ(iosim_printf("%ld %ws\n", 0x1FFFFFFFFLL, u"ü"), 6);  // bytes written
    EXPECT_EQ(captured, "-1 ü\n");
}

TEST_F(ConsoleTest, WprintfWritesUtf8AndReturnsWideCount)
{
    EXPECT_EQ(iosim_wprintf(u"%s=%d", u"日本", 5), 4);
    EXPECT_EQ(captured, "日本=5");
}

TEST_F(ConsoleTest, PutsAddsANewlineAndPutcharWritesOneByte)
{
    EXPECT_GE(iosim_puts("line"), 0);
    EXPECT_EQ(iosim_putchar('x'), 'x');
    EXPECT_EQ(captured, "line\nx");
}

TEST_F(ConsoleTest, StderrGoesToTheConsoleToo)
{
    EXPECT_EQ(iosim_fprintf(stderr, "err %d", 1), 5);
    EXPECT_GE(iosim_fputs("!", stderr), 0);
    EXPECT_EQ(iosim_fwprintf(stdout, u"%S", "n"), 1);
    EXPECT_EQ(iosim_fflush(stdout), 0);
    EXPECT_EQ(captured, "err 1!n");
}

TEST_F(ConsoleTest, OtherFilesAreRealHostFiles)
{
    FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(iosim_fprintf(file, "%I64d|%lu", -5LL, 0x100000001ULL), 4);
    EXPECT_GE(iosim_fputs("+more\n", file), 0);
    EXPECT_EQ(iosim_fflush(file), 0);
    std::rewind(file);
    char buf[32];
    ASSERT_EQ(iosim_fgets(buf, sizeof buf, file), buf);  // a real fgets on a real file
    EXPECT_STREQ(buf, "-5|1+more\n");
    std::fclose(file);
    EXPECT_EQ(captured, "");
}

TEST(ConsoleNoProcess, ReadsGiveEofWithoutACurrentProcess)
{
    iosim::ThreadSwitch none(nullptr);
    ASSERT_EQ(iosim::current_process(), nullptr);
    EXPECT_EQ(iosim_getchar(), EOF);
    EXPECT_EQ(iosim_kbhit(), 0);
    char buf[8];
    EXPECT_EQ(iosim_fgets(buf, sizeof buf, stdin), nullptr);
}

TEST(ConsoleNoProcess, OutputGoesToTheHostStdout)
{
    iosim::ThreadSwitch none(nullptr);
    testing::internal::CaptureStdout();
    EXPECT_EQ(iosim_printf("host %lx", -1), 13);
    iosim_fflush(stdout);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "host ffffffff");
}

TEST(ConsoleNoProcess, ConsoleWithoutOutputFallsBackToHostStdout)
{
    iosim::Process process(7, "quiet.exe");
    iosim::Thread thread(1, &process);
    iosim::ThreadSwitch current(&thread);
    process.console().input = "q";
    testing::internal::CaptureStdout();
    EXPECT_EQ(iosim_puts("to host"), 0);
    iosim_fflush(stdout);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "to host\n");
    EXPECT_EQ(iosim_getchar(), 'q');  // input still belongs to the process
}
