// buffers_test.cpp - the sprintf family's Microsoft buffer rules (sim_kernel/crt/printf.cpp):
// sprintf_s, _snprintf (no NUL when full), _snprintf_s/_TRUNCATE, swprintf (ISO form),
// swprintf_s, _snwprintf, and the wide family's inverted %s/%S rule.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <string>

#include "iosim_crt.h"

namespace {

int c99(char* buf, size_t size, const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = iosim_vsnprintf_win(buf, size, format, ap);
    va_end(ap);
    return n;
}

int wide_c99(char16_t* buf, size_t count, const char16_t* format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = iosim_vsnwprintf_win(buf, count, format, ap);
    va_end(ap);
    return n;
}

}  // namespace

TEST(CrtBuffers, SprintfSOverflowEmptiesBufferAndReturnsMinusOne)
{
    char buf[5] = "xxxx";
    errno = 0;
    EXPECT_EQ(iosim_sprintf_s(buf, sizeof buf, "%s", "hello"), -1);
    EXPECT_EQ(buf[0], '\0');
    EXPECT_EQ(errno, ERANGE);
    EXPECT_EQ(iosim_sprintf_s(buf, sizeof buf, "%s", "abcd"), 4);  // fits exactly with its NUL
    EXPECT_STREQ(buf, "abcd");
}

TEST(CrtBuffers, SprintfSRejectsInvalidArguments)
{
    char buf[8] = "keep";
    errno = 0;
    EXPECT_EQ(iosim_sprintf_s(nullptr, 8, "x"), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(iosim_sprintf_s(buf, 0, "x"), -1);
    EXPECT_STREQ(buf, "keep");  // size 0: nothing may be written
    EXPECT_EQ(iosim_sprintf_s(buf, sizeof buf, nullptr), -1);
    EXPECT_EQ(buf[0], '\0');
}

TEST(CrtBuffers, SnprintfMsDoesNotTerminateWhenOutputFillsBuffer)
{
    char buf[8];
    std::memset(buf, '#', sizeof buf);
    EXPECT_EQ(iosim_snprintf_ms(buf, 4, "%s", "abcd"), 4);  // exactly count: no NUL
    EXPECT_EQ(std::string(buf, 5), "abcd#");

    std::memset(buf, '#', sizeof buf);
    EXPECT_EQ(iosim_snprintf_ms(buf, 4, "%s", "abcdef"), -1);  // too long: count chars, no NUL
    EXPECT_EQ(std::string(buf, 5), "abcd#");

    std::memset(buf, '#', sizeof buf);
    EXPECT_EQ(iosim_snprintf_ms(buf, 4, "%d", 12), 2);  // shorter: terminated
    EXPECT_STREQ(buf, "12");
}

TEST(CrtBuffers, SnprintfMsWithNullBufferAndZeroCountReturnsNeededLength)
{
    EXPECT_EQ(iosim_snprintf_ms(nullptr, 0, "%05d", 1), 5);
    errno = 0;
    EXPECT_EQ(iosim_snprintf_ms(nullptr, 3, "x"), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(CrtBuffers, SnprintfSTruncateFillsWhatFitsAndReturnsMinusOne)
{
    char buf[5];
    EXPECT_EQ(iosim_snprintf_s(buf, sizeof buf, _TRUNCATE, "%s", "hello world"), -1);
    EXPECT_STREQ(buf, "hell");
    EXPECT_EQ(iosim_snprintf_s(buf, sizeof buf, _TRUNCATE, "%d", 42), 2);
    EXPECT_STREQ(buf, "42");
}

TEST(CrtBuffers, SnprintfSCountLimitsCharactersAndAlwaysTerminates)
{
    char buf[10];
    EXPECT_EQ(iosim_snprintf_s(buf, sizeof buf, 3, "%s", "abcdef"), -1);
    EXPECT_STREQ(buf, "abc");
    EXPECT_EQ(iosim_snprintf_s(buf, sizeof buf, 6, "%s", "abcdef"), 6);
    EXPECT_STREQ(buf, "abcdef");
    errno = 0;
    EXPECT_EQ(iosim_snprintf_s(buf, 4, 10, "%s", "abcdef"), -1);  // does not fit the buffer
    EXPECT_STREQ(buf, "");
    EXPECT_EQ(errno, ERANGE);
}

TEST(CrtBuffers, VsnprintfWinIsC99Snprintf)
{
    char buf[4];
    EXPECT_EQ(c99(buf, sizeof buf, "%s", "abcdef"), 6);
    EXPECT_STREQ(buf, "abc");
    EXPECT_EQ(c99(nullptr, 0, "%ld", -1), 2);
}

TEST(CrtBuffers, SwprintfIsTheIsoFormWithACount)
{
    char16_t buf[16];
    EXPECT_EQ(iosim_swprintf(buf, 16, u"%d-%s", 5, u"wide"), 6);
    EXPECT_EQ(std::u16string(buf), u"5-wide");
    EXPECT_EQ(iosim_swprintf(buf, 4, u"%s", u"toolong"), -1);  // truncated, still terminated
    EXPECT_EQ(std::u16string(buf), u"too");
}

TEST(CrtBuffers, WideFamilySIsWideAndCapitalSIsNarrow)
{
    char16_t buf[64];
    EXPECT_GT(iosim_swprintf(buf, 64, u"%s|%S|%hs|%ls|%ws", u"w1", "n1", "n2", u"w2", u"w3"), 0);
    EXPECT_EQ(std::u16string(buf), u"w1|n1|n2|w2|w3");
    EXPECT_GT(iosim_swprintf(buf, 64, u"%c%C%hc%wc", static_cast<int>(u'中'), 'a', 'b', static_cast<int>(u'é')), 0);
    EXPECT_EQ(std::u16string(buf), u"中abé");
}

TEST(CrtBuffers, NarrowStringsInWideOutputAreDecodedAsUtf8)
{
    char16_t buf[16];
    EXPECT_EQ(iosim_swprintf(buf, 16, u"%S", "日本"), 2);
    EXPECT_EQ(std::u16string(buf), u"日本");
}

TEST(CrtBuffers, WideOutputKeepsLoneSurrogates)
{
    const char16_t lone[] = {0xD800, u'x', 0};
    char16_t buf[8];
    EXPECT_EQ(iosim_swprintf(buf, 8, u"%s", lone), 2);
    EXPECT_EQ(buf[0], 0xD800);
    EXPECT_EQ(buf[1], u'x');
}

TEST(CrtBuffers, WideNumbersUseWindowsWidths)
{
    char16_t buf[64];
    EXPECT_GT(iosim_swprintf(buf, 64, u"%ld %I64x %p", 0x1FFFFFFFFLL, 0x123456789ULL, reinterpret_cast<void*>(0x10)), 0);
    EXPECT_EQ(std::u16string(buf), u"-1 123456789 0000000000000010");
}

TEST(CrtBuffers, SwprintfSOverflowEmptiesBuffer)
{
    char16_t buf[4] = u"xyz";
    errno = 0;
    EXPECT_EQ(iosim_swprintf_s(buf, 4, u"%s", u"abcd"), -1);
    EXPECT_EQ(buf[0], 0);
    EXPECT_EQ(errno, ERANGE);
    EXPECT_EQ(iosim_swprintf_s(buf, 4, u"%d", 123), 3);
    EXPECT_EQ(std::u16string(buf), u"123");
}

TEST(CrtBuffers, SnwprintfDoesNotTerminateWhenOutputFillsBuffer)
{
    char16_t buf[8];
    for (auto& c : buf)
        c = u'#';
    EXPECT_EQ(iosim_snwprintf(buf, 3, u"%s", u"abc"), 3);
    EXPECT_EQ(std::u16string(buf, 4), u"abc#");
    EXPECT_EQ(iosim_snwprintf(buf, 3, u"%s", u"abcdef"), -1);
    EXPECT_EQ(std::u16string(buf, 4), u"abc#");
}

TEST(CrtBuffers, VsnwprintfWinIsC99Snprintf)
{
    char16_t buf[3];
    EXPECT_EQ(wide_c99(buf, 3, u"%d", 12345), 5);
    EXPECT_EQ(std::u16string(buf), u"12");
}

TEST(CrtBuffers, SprintfWritesEverythingAndReturnsLength)
{
    char buf[32];
    EXPECT_EQ(iosim_sprintf(buf, "%s=%u", "n", 7u), 3);
    EXPECT_STREQ(buf, "n=7");
    EXPECT_EQ(iosim_sprintf(buf, "%c", 0), 1);  // a NUL character counts
}
