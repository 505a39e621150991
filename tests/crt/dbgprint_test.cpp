// dbgprint_test.cpp - DbgPrint and the kernel flavour of the formatter: %wZ/%Z counted
// strings, the 512-byte message limit, and what reaches the debugger channel.
#include <gtest/gtest.h>

#include <cstdarg>
#include <string>
#include <vector>

#include "crt/format.h"
#include "kd/debug_print.h"
#include "wdm_impl.h"

namespace {

std::string kernel(const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    std::string text = iosim::crt::format(iosim::crt::Flavor::Kernel, format, ap);
    va_end(ap);
    return text;
}

ULONG with_prefix(PCSTR prefix, PCSTR format, ...)
{
    va_list ap;
    va_start(ap, format);
    ULONG status = vDbgPrintExWithPrefix(prefix, DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, format, ap);
    va_end(ap);
    return status;
}

// Collects what DbgPrint hands to the debugger channel.
class DbgPrintTest : public ::testing::Test {
protected:
    DbgPrintTest()
    {
        iosim::kd::set_sink([this](std::string_view, std::string_view text) { messages.emplace_back(text); });
    }
    ~DbgPrintTest() override { iosim::kd::reset_sink(); }

    std::vector<std::string> messages;
};

}  // namespace

TEST(CrtKernelFormat, WZPrintsLengthBytesOfANonTerminatedBuffer)
{
    WCHAR buffer[8] = {u'H', u'e', u'l', u'l', u'o', u'X', u'X', u'X'};  // no NUL anywhere
    UNICODE_STRING name{10, sizeof buffer, buffer};                       // Length: 5 WCHARs
    EXPECT_EQ(kernel("[%wZ]", &name), "[Hello]");
    EXPECT_EQ(kernel("[%-7wZ]", &name), "[Hello  ]");
    EXPECT_EQ(kernel("[%.2wZ]", &name), "[He]");
}

TEST(CrtKernelFormat, WZConvertsUtf16ToUtf8)
{
    WCHAR buffer[] = {0x8BBE, 0x5907};  // 设备
    UNICODE_STRING name{sizeof buffer, sizeof buffer, buffer};
    EXPECT_EQ(kernel("%wZ", &name), "设备");
}

TEST(CrtKernelFormat, ZPrintsAnAnsiStringByLength)
{
    char buffer[] = {'a', 'b', 'c', 'd'};
    ANSI_STRING s{3, sizeof buffer, buffer};
    EXPECT_EQ(kernel("<%Z>", &s), "<abc>");
    EXPECT_EQ(kernel("<%hZ>", &s), "<abc>");
}

TEST(CrtKernelFormat, NullCountedStringsPrintNull)
{
    UNICODE_STRING empty{0, 0, nullptr};
    EXPECT_EQ(kernel("%wZ|%wZ|%Z", static_cast<PUNICODE_STRING>(nullptr), &empty, static_cast<PANSI_STRING>(nullptr)),
              "(null)|(null)|(null)");
}

TEST(CrtKernelFormat, KernelFlavourKeepsTheOtherWindowsRules)
{
    EXPECT_EQ(kernel("%ld %ws %I64x %p", -1, u"x", 0x1ULL << 40, reinterpret_cast<void*>(0xFFFFF80012345678ULL)),
              "-1 x 10000000000 FFFFF80012345678");
}

TEST_F(DbgPrintTest, DbgPrintFormatsWithWindowsRules)
{
    WCHAR buffer[] = {u'\\', u'D', u'e', u'v'};
    UNICODE_STRING name{sizeof buffer, sizeof buffer, buffer};
    EXPECT_EQ(DbgPrint("dev=%wZ status=%08lx", &name, 0xC0000001u), 0u);  // STATUS_SUCCESS
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0], "dev=\\Dev status=c0000001");
}

TEST_F(DbgPrintTest, DbgPrintExPassesLevelMasksThrough)
{
    EXPECT_EQ(DbgPrintEx(DPFLTR_IHVDRIVER_ID, 0x80000001, "masked %d", 1), 0u);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0], "masked 1");
}

TEST_F(DbgPrintTest, PrefixIsPrependedToTheMessage)
{
    EXPECT_EQ(with_prefix("drv: ", "n=%u", 3u), 0u);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0], "drv: n=3");
}

TEST_F(DbgPrintTest, OneMessageIsCutAt512Bytes)
{
    std::string long_text(600, 'a');
    DbgPrint("%s", long_text.c_str());
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0], std::string(512, 'a'));
}

TEST_F(DbgPrintTest, TheCutNeverSplitsAUtf8Character)
{
    std::string text(511, 'a');
    text += "é";  // bytes 511 and 512: the second one would be cut
    DbgPrint("%s", text.c_str());
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0], std::string(511, 'a'));
}
