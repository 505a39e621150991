// strings_test.cpp - narrow string extensions (sim_kernel/crt/narrow.cpp) and the 16-bit
// wcs* functions (sim_kernel/crt/wstring16.cpp), with Microsoft's documented results.
#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "iosim_crt.h"

TEST(CrtNarrow, StricmpComparesLowerCasedBytes)
{
    EXPECT_EQ(iosim_stricmp("Hello", "hELLO"), 0);
    EXPECT_LT(iosim_stricmp("abc", "ABD"), 0);
    // MSVC lower-cases both sides: '_' (0x5F) < 'a' (0x61). Upper-casing would say '_' > 'A'.
    EXPECT_LT(iosim_stricmp("_", "A"), 0);
    EXPECT_GT(iosim_stricmp("abcd", "ABC"), 0);
    EXPECT_EQ(iosim_stricmp(nullptr, "a"), INT_MAX);  // _NLSCMPERROR
}

TEST(CrtNarrow, StrnicmpStopsAfterCount)
{
    EXPECT_EQ(iosim_strnicmp("DRIVER.sys", "driver.SYS.bak", 10), 0);
    EXPECT_NE(iosim_strnicmp("DRIVER.sys", "driver.SYS.bak", 11), 0);
    EXPECT_EQ(iosim_strnicmp("a", "b", 0), 0);
}

TEST(CrtNarrow, StrlwrAndStruprChangeAsciiInPlace)
{
    char s[] = "MiXeD 123 \xC3\x89";
    EXPECT_EQ(iosim_strlwr(s), s);
    EXPECT_STREQ(s, "mixed 123 \xC3\x89");  // bytes above 0x7F untouched ("C" locale)
    iosim_strupr(s);
    EXPECT_STREQ(s, "MIXED 123 \xC3\x89");
}

TEST(CrtNarrow, StrcpySReportsErrorsAsDocumented)
{
    char dst[4] = "old";
    EXPECT_EQ(iosim_strcpy_s(nullptr, 4, "x"), EINVAL);
    EXPECT_EQ(iosim_strcpy_s(dst, 0, "x"), EINVAL);
    EXPECT_STREQ(dst, "old");  // size 0: untouched
    EXPECT_EQ(iosim_strcpy_s(dst, sizeof dst, nullptr), EINVAL);
    EXPECT_EQ(dst[0], '\0');
    std::strcpy(dst, "old");
    errno = 0;
    EXPECT_EQ(iosim_strcpy_s(dst, sizeof dst, "four"), ERANGE);  // 4 chars + NUL > 4
    EXPECT_EQ(dst[0], '\0');
    EXPECT_EQ(errno, ERANGE);
    EXPECT_EQ(iosim_strcpy_s(dst, sizeof dst, "abc"), 0);
    EXPECT_STREQ(dst, "abc");
}

TEST(CrtNarrow, StrncpySTruncateReturnsStruncate)
{
    char dst[4];
    EXPECT_EQ(iosim_strncpy_s(dst, sizeof dst, "hello", _TRUNCATE), STRUNCATE);
    EXPECT_STREQ(dst, "hel");
    EXPECT_EQ(iosim_strncpy_s(dst, sizeof dst, "hello", 2), 0);  // count limits the copy
    EXPECT_STREQ(dst, "he");
    EXPECT_EQ(iosim_strncpy_s(dst, sizeof dst, "hello", 4), ERANGE);
    EXPECT_EQ(dst[0], '\0');
    EXPECT_EQ(iosim_strncpy_s(dst, sizeof dst, "hi", _TRUNCATE), 0);
    EXPECT_STREQ(dst, "hi");
    EXPECT_EQ(iosim_strncpy_s(nullptr, 0, nullptr, 0), 0);  // documented special case
}

TEST(CrtNarrow, StrcatSAppendsOrClears)
{
    char dst[8] = "abc";
    EXPECT_EQ(iosim_strcat_s(dst, sizeof dst, "def"), 0);
    EXPECT_STREQ(dst, "abcdef");
    EXPECT_EQ(iosim_strcat_s(dst, sizeof dst, "gh"), ERANGE);
    EXPECT_EQ(dst[0], '\0');
    char unterminated[3] = {'x', 'y', 'z'};
    EXPECT_EQ(iosim_strcat_s(unterminated, sizeof unterminated, "a"), EINVAL);
    EXPECT_EQ(unterminated[0], '\0');
}

TEST(CrtNarrow, MemcpySZeroesDestinationOnError)
{
    char dst[4] = {'1', '2', '3', '4'};
    EXPECT_EQ(iosim_memcpy_s(dst, sizeof dst, "abcdef", 6), ERANGE);
    EXPECT_EQ(std::memcmp(dst, "\0\0\0\0", 4), 0);
    EXPECT_EQ(iosim_memcpy_s(dst, sizeof dst, nullptr, 2), EINVAL);
    EXPECT_EQ(iosim_memcpy_s(nullptr, 0, nullptr, 0), 0);  // zero count always succeeds
    EXPECT_EQ(iosim_memcpy_s(dst, sizeof dst, "wxyz", 4), 0);
    EXPECT_EQ(std::memcmp(dst, "wxyz", 4), 0);
}

TEST(CrtNarrow, MemmoveSLeavesDestinationOnErrorAndHandlesOverlap)
{
    char dst[6] = "abcde";
    EXPECT_EQ(iosim_memmove_s(dst, 2, "xyz", 3), ERANGE);
    EXPECT_STREQ(dst, "abcde");
    EXPECT_EQ(iosim_memmove_s(dst + 1, 4, dst, 4), 0);
    EXPECT_STREQ(dst, "aabcd");
}

TEST(CrtNarrow, ItoaSignsOnlyInRadixTen)
{
    char buf[70];
    EXPECT_STREQ(iosim_itoa(255, buf, 16), "ff");
    EXPECT_STREQ(iosim_itoa(5, buf, 2), "101");
    EXPECT_STREQ(iosim_itoa(8, buf, 8), "10");
    EXPECT_STREQ(iosim_itoa(35, buf, 36), "z");
    EXPECT_STREQ(iosim_itoa(-255, buf, 10), "-255");
    EXPECT_STREQ(iosim_itoa(-1, buf, 16), "ffffffff");  // two's complement, 32 bits
    EXPECT_STREQ(iosim_itoa(-1, buf, 2), "11111111111111111111111111111111");
    EXPECT_STREQ(iosim_itoa(INT_MIN, buf, 10), "-2147483648");
    EXPECT_STREQ(iosim_itoa(0, buf, 10), "0");
    errno = 0;
    EXPECT_STREQ(iosim_itoa(10, buf, 1), "");
    EXPECT_EQ(errno, EINVAL);
}

TEST(CrtNarrow, UltoaTakesA32BitWindowsUnsignedLong)
{
    char buf[70];
    EXPECT_STREQ(iosim_ultoa(0xFFFFFFFFFFFFFFFFUL, buf, 10), "4294967295");
    EXPECT_STREQ(iosim_ultoa(0xABCUL, buf, 16), "abc");
}

TEST(CrtNarrow, I64toaUses64Bits)
{
    char buf[70];
    EXPECT_STREQ(iosim_i64toa(-1, buf, 16), "ffffffffffffffff");
    EXPECT_STREQ(iosim_i64toa(LLONG_MIN, buf, 10), "-9223372036854775808");
    EXPECT_STREQ(iosim_ui64toa(ULLONG_MAX, buf, 10), "18446744073709551615");
    EXPECT_STREQ(iosim_ui64toa(ULLONG_MAX, buf, 2), std::string(64, '1').c_str());
}

TEST(CrtWide, LengthsCountUtf16Units)
{
    EXPECT_EQ(iosim_wcslen(u"日本"), 2u);
    EXPECT_EQ(iosim_wcslen(u"\U0001F600"), 2u);  // a surrogate pair is two WCHARs
    EXPECT_EQ(iosim_wcsnlen(u"abcdef", 3), 3u);
    EXPECT_EQ(iosim_wcsnlen(u"ab", 10), 2u);
}

TEST(CrtWide, CopyAndConcatenate)
{
    char16_t buf[16];
    EXPECT_EQ(iosim_wcscpy(buf, u"abc"), buf);
    EXPECT_EQ(std::u16string(buf), u"abc");
    iosim_wcscat(buf, u"def");
    EXPECT_EQ(std::u16string(buf), u"abcdef");
    iosim_wcsncat(buf, u"ghij", 2);
    EXPECT_EQ(std::u16string(buf), u"abcdefgh");

    char16_t padded[5] = {u'x', u'x', u'x', u'x', u'x'};
    iosim_wcsncpy(padded, u"ab", 4);  // pads with NULs up to n
    EXPECT_EQ(std::u16string(padded, 5), std::u16string(u"ab\0\0x", 5));
    iosim_wcsncpy(padded, u"abcdef", 3);  // no NUL when the source is longer
    EXPECT_EQ(std::u16string(padded, 5), std::u16string(u"abc\0x", 5));
}

TEST(CrtWide, CompareAsUnsignedUnits)
{
    EXPECT_EQ(iosim_wcscmp(u"abc", u"abc"), 0);
    EXPECT_LT(iosim_wcscmp(u"abc", u"abd"), 0);
    EXPECT_GT(iosim_wcscmp(u"\xFFFF", u"a"), 0);  // 0xFFFF is not negative
    EXPECT_EQ(iosim_wcsncmp(u"abcX", u"abcY", 3), 0);
    EXPECT_LT(iosim_wcsncmp(u"ab", u"abc", 3), 0);
}

TEST(CrtWide, IcmpFoldsAsciiAndLatin1)
{
    EXPECT_EQ(iosim_wcsicmp(u"\\Device\\MyDev", u"\\DEVICE\\mydev"), 0);
    EXPECT_EQ(iosim_wcsicmp(u"ÉCOLE", u"école"), 0);
    EXPECT_LT(iosim_wcsicmp(u"_", u"A"), 0);
    EXPECT_EQ(iosim_wcsnicmp(u"ABCx", u"abcy", 3), 0);
    EXPECT_NE(iosim_wcsnicmp(u"ABCx", u"abcy", 4), 0);
    EXPECT_EQ(iosim_wcsicmp(nullptr, u"a"), INT_MAX);
}

TEST(CrtWide, SearchFunctions)
{
    const char16_t* s = u"a\\b\\c.sys";
    EXPECT_EQ(iosim_wcschr(s, u'\\'), s + 1);
    EXPECT_EQ(iosim_wcsrchr(s, u'\\'), s + 3);
    EXPECT_EQ(iosim_wcschr(s, u'z'), nullptr);
    EXPECT_EQ(iosim_wcschr(s, 0), s + 9);  // the terminator is part of the string
    EXPECT_EQ(iosim_wcsstr(s, u".sys"), s + 5);
    EXPECT_EQ(iosim_wcsstr(s, u""), s);
    EXPECT_EQ(iosim_wcsstr(s, u".exe"), nullptr);
}

TEST(CrtWide, CaseConversion)
{
    char16_t s[] = u"MiXeD ÀÉ ÿ 日";
    iosim_wcslwr(s);
    EXPECT_EQ(std::u16string(s), u"mixed àé ÿ 日");
    iosim_wcsupr(s);
    EXPECT_EQ(std::u16string(s), u"MIXED ÀÉ Ÿ 日");
    EXPECT_EQ(iosim_towlower(u'Q'), u'q');
    EXPECT_EQ(iosim_towupper(u'ß'), u'ß');  // no single upper case letter
    EXPECT_EQ(iosim_towupper(0xF7), 0xF7);   // the division sign is not a letter
    EXPECT_EQ(iosim_towlower(0xFFFF), 0xFFFF);  // WEOF
}

TEST(CrtWide, DupAllocatesWithMalloc)
{
    char16_t* copy = iosim_wcsdup(u"dup me");
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(std::u16string(copy), u"dup me");
    std::free(copy);
    EXPECT_EQ(iosim_wcsdup(nullptr), nullptr);
}

TEST(CrtWide, SecureCopiesReportErrorsAsDocumented)
{
    char16_t dst[4];
    EXPECT_EQ(iosim_wcscpy_s(dst, 4, u"abc"), 0);
    EXPECT_EQ(std::u16string(dst), u"abc");
    EXPECT_EQ(iosim_wcscpy_s(dst, 4, u"abcd"), ERANGE);
    EXPECT_EQ(dst[0], 0);
    EXPECT_EQ(iosim_wcscpy_s(dst, 4, nullptr), EINVAL);
    EXPECT_EQ(iosim_wcsncpy_s(dst, 4, u"abcdef", _TRUNCATE), STRUNCATE);
    EXPECT_EQ(std::u16string(dst), u"abc");
    EXPECT_EQ(iosim_wcsncpy_s(dst, 4, u"abcdef", 1), 0);
    EXPECT_EQ(std::u16string(dst), u"a");
    EXPECT_EQ(iosim_wcscat_s(dst, 4, u"bc"), 0);
    EXPECT_EQ(std::u16string(dst), u"abc");
    EXPECT_EQ(iosim_wcscat_s(dst, 4, u"d"), ERANGE);
    EXPECT_EQ(dst[0], 0);
}

TEST(CrtWide, WcstolHasThe32BitWindowsRange)
{
    char16_t* end = nullptr;
    const char16_t* s = u"  -42xyz";
    EXPECT_EQ(iosim_wcstol(s, &end, 10), -42);
    EXPECT_EQ(end, s + 5);
    EXPECT_EQ(iosim_wcstol(u"0x1F", nullptr, 0), 31);
    EXPECT_EQ(iosim_wcstol(u"0x1F", nullptr, 16), 31);
    EXPECT_EQ(iosim_wcstol(u"017", nullptr, 0), 15);
    errno = 0;
    EXPECT_EQ(iosim_wcstol(u"2147483648", nullptr, 10), 2147483647L);  // LONG_MAX is 32-bit
    EXPECT_EQ(errno, ERANGE);
    EXPECT_EQ(iosim_wcstol(u"-2147483648", nullptr, 10), -2147483647L - 1);
    EXPECT_EQ(iosim_wcstol(u"-2147483649", nullptr, 10), -2147483647L - 1);
    const char16_t* none = u"zz";
    EXPECT_EQ(iosim_wcstol(none, &end, 10), 0);
    EXPECT_EQ(end, none);  // no digits: end is the start
    const char16_t* hex_only = u"0xg";
    EXPECT_EQ(iosim_wcstol(hex_only, &end, 16), 0);
    EXPECT_EQ(end, hex_only + 1);  // "0" parsed, the x is not a prefix
}

TEST(CrtWide, WcstoulWrapsNegativeAndSaturatesAt32Bits)
{
    EXPECT_EQ(iosim_wcstoul(u"-1", nullptr, 10), 4294967295UL);
    EXPECT_EQ(iosim_wcstoul(u"ffffffff", nullptr, 16), 4294967295UL);
    errno = 0;
    EXPECT_EQ(iosim_wcstoul(u"4294967296", nullptr, 10), 4294967295UL);
    EXPECT_EQ(errno, ERANGE);
}

TEST(CrtWide, WtoiAndItow)
{
    EXPECT_EQ(iosim_wtoi(u" 123abc"), 123);
    EXPECT_EQ(iosim_wtoi(u"-7"), -7);
    EXPECT_EQ(iosim_wtoi(u"99999999999"), INT_MAX);
    char16_t buf[40];
    EXPECT_EQ(std::u16string(iosim_itow(-12, buf, 10)), u"-12");
    EXPECT_EQ(std::u16string(iosim_itow(-1, buf, 16)), u"ffffffff");
}

TEST(CrtWide, Classification)
{
    EXPECT_TRUE(iosim_iswdigit(u'7'));
    EXPECT_FALSE(iosim_iswdigit(u'a'));
    EXPECT_TRUE(iosim_iswspace(u' '));
    EXPECT_TRUE(iosim_iswspace(u'\t'));
    EXPECT_TRUE(iosim_iswspace(0x3000));  // ideographic space
    EXPECT_FALSE(iosim_iswspace(u'x'));
    EXPECT_TRUE(iosim_iswalpha(u'Z'));
    EXPECT_TRUE(iosim_iswalpha(u'é'));
    EXPECT_FALSE(iosim_iswalpha(u'1'));
    EXPECT_FALSE(iosim_iswalpha(0xD7));  // multiplication sign
}
