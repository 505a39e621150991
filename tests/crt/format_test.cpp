// format_test.cpp - the printf engine's Windows rules (sim_kernel/crt/format.h), checked
// through iosim_sprintf and friends as Windows sources call them. Built without
// -fshort-wchar: wide strings are char16_t (u"...") here, the same 16-bit WCHAR.
#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <string>

#include "crt/format.h"
#include "iosim_crt.h"

namespace {

// sprintf into a large buffer; the return value must be the length written.
std::string fmt(const char* format, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, format);
    int n = iosim_vsprintf(buf, format, ap);
    va_end(ap);
    EXPECT_GE(n, 0) << "format: " << format;
    if (n < 0)
        return "<error>";
    EXPECT_EQ(static_cast<size_t>(n), std::string(buf).size());
    return buf;
}

std::string user(const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    std::string text = iosim::crt::format(iosim::crt::Flavor::User, format, ap);
    va_end(ap);
    return text;
}

}  // namespace

TEST(CrtFormat, LongIs32BitOnWindows)
{
    EXPECT_EQ(fmt("%ld", -5), "-5");
    EXPECT_EQ(fmt("%lx", -1), "ffffffff");  // glibc would print 16 f's for a long
    EXPECT_EQ(fmt("%lu", 0xFFFFFFFFu), "4294967295");
    EXPECT_EQ(fmt("%li", INT32_MIN), "-2147483648");
}

TEST(CrtFormat, LongReadsOnlyTheLow32BitsOfA64BitArgument)
{
    // A 64-bit value passed for %ld: Windows x64 reads 32 bits from the 8-byte slot, and
    // the next argument is still found in its own slot.
    EXPECT_EQ(fmt("%ld|%d", 0x1FFFFFFFFLL, 7), "-1|7");
    EXPECT_EQ(fmt("%lu|%lx", 0x100000002ULL, 0xABCDEF0012345678ULL), "2|12345678");
}

TEST(CrtFormat, LongLongAndI64Are64Bit)
{
    EXPECT_EQ(fmt("%lld", LLONG_MIN), "-9223372036854775808");
    EXPECT_EQ(fmt("%I64x", 0x123456789ABCDEF0ULL), "123456789abcdef0");
    EXPECT_EQ(fmt("%I64X", 0xFEDCBA9876543210ULL), "FEDCBA9876543210");
    EXPECT_EQ(fmt("%I64d", -1LL), "-1");
    EXPECT_EQ(fmt("%I64u", ULLONG_MAX), "18446744073709551615");
    EXPECT_EQ(fmt("%jd", static_cast<long long>(INT64_MAX)), "9223372036854775807");
}

TEST(CrtFormat, I32Is32Bit)
{
    EXPECT_EQ(fmt("%I32d", -7), "-7");
    EXPECT_EQ(fmt("%I32u|%d", 0x100000005ULL, 9), "5|9");
    EXPECT_EQ(fmt("%I32x", 0xDEADBEEFu), "deadbeef");
}

TEST(CrtFormat, IAndZAndTArePointerSized)
{
    EXPECT_EQ(fmt("%Iu", static_cast<size_t>(1) << 40), "1099511627776");
    EXPECT_EQ(fmt("%Ix", static_cast<uintptr_t>(0xFFFF000011112222ULL)), "ffff000011112222");
    EXPECT_EQ(fmt("%zu", static_cast<size_t>(1) << 33), "8589934592");
    EXPECT_EQ(fmt("%td", static_cast<ptrdiff_t>(-(1LL << 35))), "-34359738368");
    EXPECT_EQ(fmt("%Id", static_cast<intptr_t>(-2)), "-2");
}

TEST(CrtFormat, ShortAndCharModifiersTruncate)
{
    EXPECT_EQ(fmt("%hd", 65535), "-1");
    EXPECT_EQ(fmt("%hu", 65537), "1");
    EXPECT_EQ(fmt("%hx", 0x12345678), "5678");
    EXPECT_EQ(fmt("%hhd", 255), "-1");
    EXPECT_EQ(fmt("%hhx", 0x1234), "34");
    EXPECT_EQ(fmt("%hhu", 0x1FF), "255");
}

TEST(CrtFormat, FlagsWidthAndPrecision)
{
    EXPECT_EQ(fmt("[%-5d]", 42), "[42   ]");
    EXPECT_EQ(fmt("[%5d]", 42), "[   42]");
    EXPECT_EQ(fmt("%+d %+d", 5, -5), "+5 -5");
    EXPECT_EQ(fmt("% d", 5), " 5");
    EXPECT_EQ(fmt("%#x %#X %#o", 255, 255, 8), "0xff 0XFF 010");
    EXPECT_EQ(fmt("%05d", -42), "-0042");
    EXPECT_EQ(fmt("%.3d", 7), "007");
    EXPECT_EQ(fmt("%08.3d", 7), "     007");  // precision turns the 0 flag off
    EXPECT_EQ(fmt("[%*d]", 4, 1), "[   1]");
    EXPECT_EQ(fmt("[%*d]", -4, 1), "[1   ]");  // negative * width: left-justify
    EXPECT_EQ(fmt("[%.*d]", -1, 5), "[5]");    // negative * precision: as if omitted
    EXPECT_EQ(fmt("[%.*s]", 2, "abcdef"), "[ab]");
    EXPECT_EQ(fmt("[%-6s]", "ab"), "[ab    ]");
    EXPECT_EQ(fmt("%o %u %X", 8u, 3000000000u, 0xABCu), "10 3000000000 ABC");
    EXPECT_EQ(fmt("100%%"), "100%");
}

TEST(CrtFormat, FloatingPointUsesDoubleRules)
{
    EXPECT_EQ(fmt("%f", 3.14159), "3.141590");
    EXPECT_EQ(fmt("%.2f", 2.675), "2.67");  // binary rounding, as on Windows
    EXPECT_EQ(fmt("%e", 12345.678), "1.234568e+04");
    EXPECT_EQ(fmt("%E", 0.00015), "1.500000E-04");
    EXPECT_EQ(fmt("%g %G", 0.0001, 1e20), "0.0001 1E+20");
    EXPECT_EQ(fmt("[%10.3f]", -1.5), "[    -1.500]");
    EXPECT_EQ(fmt("%+08.2f", 3.14159), "+0003.14");
    EXPECT_EQ(fmt("%F", 1.5), "1.500000");
    EXPECT_EQ(fmt("%lf", 0.5), "0.500000");  // l is ignored for floating point
}

TEST(CrtFormat, LongDoubleIsPrintedAsDouble)
{
    long double value = 2.5L;
    EXPECT_EQ(fmt("%Lf|%d", value, 3), "2.500000|3");
}

TEST(CrtFormat, HexFloatDefaultsToThirteenDigits)
{
    EXPECT_EQ(fmt("%a", 1.0), "0x1.0000000000000p+0");
    EXPECT_EQ(fmt("%A", -2.0), "-0X1.0000000000000P+1");
    EXPECT_EQ(fmt("%.1a", 1.5), "0x1.8p+0");
}

TEST(CrtFormat, PointerIs16UppercaseHexDigitsWithoutPrefix)
{
    void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(0x7FF6A1B2C3D0ULL));
    EXPECT_EQ(fmt("%p", p), "00007FF6A1B2C3D0");
    EXPECT_EQ(fmt("%p", nullptr), "0000000000000000");
    EXPECT_EQ(fmt("[%20p]", p), "[    00007FF6A1B2C3D0]");
    EXPECT_EQ(fmt("[%-18p]", p), "[00007FF6A1B2C3D0  ]");
}

TEST(CrtFormat, NullStringPrintsNull)
{
    EXPECT_EQ(fmt("%s", static_cast<const char*>(nullptr)), "(null)");
    EXPECT_EQ(fmt("%ws", static_cast<const char16_t*>(nullptr)), "(null)");
    EXPECT_EQ(fmt("%S", static_cast<const char16_t*>(nullptr)), "(null)");
    EXPECT_EQ(fmt("[%8s]", static_cast<const char*>(nullptr)), "[  (null)]");
    EXPECT_EQ(fmt("%.3s", static_cast<const char*>(nullptr)), "(nu");  // precision applies, unlike glibc
}

TEST(CrtFormat, WideStringsAreUtf16AndPrintedAsUtf8)
{
    EXPECT_EQ(fmt("%ws", u"日本語"), "日本語");
    EXPECT_EQ(fmt("%S", u"中文 text"), "中文 text");
    EXPECT_EQ(fmt("%ls!", u"한국어"), "한국어!");
    EXPECT_EQ(fmt("%s/%S", "narrow", u"wide"), "narrow/wide");
    EXPECT_EQ(fmt("%hs", "narrow"), "narrow");
}

TEST(CrtFormat, WideCharactersAreUtf16)
{
    EXPECT_EQ(fmt("%wc", static_cast<int>(u'é')), "é");
    EXPECT_EQ(fmt("%C", static_cast<int>(u'中')), "中");
    EXPECT_EQ(fmt("%lc", static_cast<int>(u'Ω')), "Ω");
    EXPECT_EQ(fmt("%c%c", 'o', 'k'), "ok");
    EXPECT_EQ(fmt("[%3c]", 'x'), "[  x]");
}

TEST(CrtFormat, SurrogatePairsBecomeOneCharacterAndLoneSurrogatesReplacement)
{
    EXPECT_EQ(fmt("%ws", u"\U0001F600"), "\xF0\x9F\x98\x80");
    const char16_t lone[] = {u'a', 0xD800, u'b', 0};
    EXPECT_EQ(fmt("%ws", lone), "a\xEF\xBF\xBD" "b");
    const char16_t low_first[] = {0xDC00, 0xD83D, 0};
    EXPECT_EQ(fmt("%ws", low_first), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(CrtFormat, WidthAndPrecisionCountUtf16UnitsForWideStrings)
{
    EXPECT_EQ(fmt("%.2ws", u"日本語"), "日本");
    EXPECT_EQ(fmt("[%4ws]", u"日本"), "[  日本]");
}

TEST(CrtFormat, ZeroFlagPadsStringsWithZeros)
{
    EXPECT_EQ(fmt("%05s", "ab"), "000ab");
    EXPECT_EQ(fmt("%-05s|", "ab"), "ab   |");
}

TEST(CrtFormat, PercentNIsRefusedAndStoresNothing)
{
    int count = 42;
    EXPECT_EQ(fmt("ab%ncd", &count), "abcd");
    EXPECT_EQ(count, 42);
}

TEST(CrtFormat, InvalidConversionFailsAndIsShownVerbatim)
{
    char buf[32] = "unchanged";
    EXPECT_EQ(iosim_sprintf(buf, "a%kb", 1), -1);
    EXPECT_STREQ(buf, "");
    EXPECT_EQ(user("a%kb"), "a%kb");
    EXPECT_EQ(user("tail%"), "tail%");
}

TEST(CrtFormat, CountedStringsAreKernelOnly)
{
    char buf[32];
    EXPECT_EQ(iosim_sprintf(buf, "%wZ", nullptr), -1);
    EXPECT_EQ(iosim_sprintf(buf, "%Z", nullptr), -1);
}

TEST(CrtFormat, NullFormatFails)
{
    char buf[8];
    errno = 0;
    EXPECT_EQ(iosim_sprintf(buf, nullptr), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(CrtFormat, CallerVaListIsNotConsumed)
{
    auto twice = [](const char* format, ...) {
        va_list ap;
        va_start(ap, format);
        std::string a = iosim::crt::format(iosim::crt::Flavor::User, format, ap);
        std::string b = iosim::crt::format(iosim::crt::Flavor::User, format, ap);
        va_end(ap);
        return a + "|" + b;
    };
    EXPECT_EQ(twice("%d %s", 1, "x"), "1 x|1 x");
}

TEST(CrtFormat, Utf8AndUtf16ConversionsReplaceIllFormedInput)
{
    EXPECT_EQ(iosim::crt::to_utf16("a\xC3\xA9\xF0\x9F\x98\x80"), std::u16string(u"aé\U0001F600"));
    EXPECT_EQ(iosim::crt::to_utf16("\xFFok\xC3"), std::u16string(u"\uFFFDok\uFFFD"));
    EXPECT_EQ(iosim::crt::to_utf16("\xED\xA0\x80"), std::u16string(u"\uFFFD\uFFFD\uFFFD"));  // encoded surrogate
    EXPECT_EQ(iosim::crt::to_utf8(u"ü€"), "ü€");
}
