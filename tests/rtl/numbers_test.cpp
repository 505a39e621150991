// Tests for the Rtl number/text conversions, RtlCompareMemory and the large-integer helpers
// (sim_kernel/rtl/strings_numbers.cpp). Expected values are Windows' observed results.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "wdm_impl.h"

namespace {

struct ParseCase {
    ULONG base;
    const char* text;
    ULONG value;
};

// Windows' results for RtlUnicodeStringToInteger / RtlCharToInteger.
const ParseCase kParseCases[] = {
    {0, "1234567", 1234567},
    {0, "-214", static_cast<ULONG>(-214)},
    {0, "+214", 214},
    {0, "--214", 0},                   // one sign only
    {0, "\x01\x02\t\n\r 18", 18},      // characters 1..32 are skipped
    {0, " \t-214", static_cast<ULONG>(-214)},
    {0, "+214 0", 214},                // stops at the first non-digit
    {0, " 214.01", 214},
    {0, "f81", 0},
    {0, "0x12345", 0x12345},
    {0, "0X12345", 0},                 // prefixes are lower case only
    {0, "00x12345", 0},
    {0, "1x34", 1},
    {0, "0b1011101100", 748},
    {0, "-0b1011101100", static_cast<ULONG>(-748)},
    {0, "0b10123456789", 5},
    {0, "0o1234567", 01234567},
    {0, "0o56789", 0567},
    {0, "0xabcdefgh", 0xabcdef},
    {0, "0xFEDCBA00", 0xFEDCBA00},
    {0, "-0xFEDCBA00", 19088896},
    {0, "056789", 56789},              // a leading zero is still decimal
    {0, "0x", 0},
    {0, "", 0},
    {0, "4294967295", 0xFFFFFFFF},
    {0, "4294967296", 0},              // wraps modulo 2^32
    {0, "9999999999", 1410065407},
    {0, "-2147483649", 2147483647},
    {2, "1011101100", 748},
    {2, "0b1011101100", 0},            // no prefix with an explicit base
    {8, "1011101100", 136610368},
    {10, "0x1011101100", 0},
    {16, "1011101100", 286265600},
    {16, "0b1011101100", 286265600},   // "0b..." is all hex digits
    {16, "0x1011101100", 0},
    {16, "g", 0},
};

TEST(RtlNumbers, UnicodeStringToIntegerFollowsWindowsRules)
{
    for (const ParseCase& c : kParseCases) {
        std::u16string wide(c.text, c.text + std::strlen(c.text));
        UNICODE_STRING s;
        RtlInitUnicodeString(&s, wide.c_str());
        ULONG value = 0xDEADBEEF;
        EXPECT_EQ(RtlUnicodeStringToInteger(&s, c.base, &value), STATUS_SUCCESS) << c.text;
        EXPECT_EQ(value, c.value) << "\"" << c.text << "\" base " << c.base;
    }
}

TEST(RtlNumbers, CharToIntegerFollowsTheSameRules)
{
    for (const ParseCase& c : kParseCases) {
        if (c.text[0] == '\0')
            continue;
        ULONG value = 0xDEADBEEF;
        EXPECT_EQ(RtlCharToInteger(c.text, c.base, &value), STATUS_SUCCESS) << c.text;
        EXPECT_EQ(value, c.value) << "\"" << c.text << "\" base " << c.base;
    }
}

TEST(RtlNumbers, UnicodeStringToIntegerReadsOnlyLength)
{
    UNICODE_STRING s;
    RtlInitUnicodeString(&s, u"1234567");
    s.Length = 10;  // "12345"
    ULONG value = 0;
    EXPECT_EQ(RtlUnicodeStringToInteger(&s, 10, &value), STATUS_SUCCESS);
    EXPECT_EQ(value, 12345u);
}

TEST(RtlNumbers, BadBaseIsInvalidParameter)
{
    UNICODE_STRING s;
    RtlInitUnicodeString(&s, u"10");
    ULONG value = 77;
    EXPECT_EQ(RtlUnicodeStringToInteger(&s, 20, &value), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(RtlUnicodeStringToInteger(&s, 3, &value), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(value, 77u);
    EXPECT_EQ(RtlCharToInteger("10", 7, &value), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(RtlUnicodeStringToInteger(&s, 10, nullptr), STATUS_ACCESS_VIOLATION);
}

TEST(RtlNumbers, IntegerToUnicodeStringNeedsRoomForNul)
{
    WCHAR buffer[9];
    std::fill(std::begin(buffer), std::end(buffer), u'-');
    UNICODE_STRING s{0, 9 * sizeof(WCHAR), buffer};
    EXPECT_EQ(RtlIntegerToUnicodeString(0xFFFFFFFF, 16, &s), STATUS_SUCCESS);
    EXPECT_EQ(std::u16string(s.Buffer, s.Length / 2), u"FFFFFFFF");
    EXPECT_EQ(buffer[8], 0);

    std::fill(std::begin(buffer), std::end(buffer), u'-');
    UNICODE_STRING exact{0, 8 * sizeof(WCHAR), buffer};
    EXPECT_EQ(RtlIntegerToUnicodeString(0xFFFFFFFF, 16, &exact), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(exact.Length, 0);
    EXPECT_EQ(buffer[0], u'-');

    UNICODE_STRING dec{0, 9 * sizeof(WCHAR), buffer};
    EXPECT_EQ(RtlIntegerToUnicodeString(123, 0, &dec), STATUS_SUCCESS);  // base 0 is decimal
    EXPECT_EQ(std::u16string(dec.Buffer, dec.Length / 2), u"123");
    EXPECT_EQ(RtlIntegerToUnicodeString(123, 5, &dec), STATUS_INVALID_PARAMETER);
}

TEST(RtlNumbers, IntegerToCharOmitsNulOnExactFit)
{
    char buffer[40];
    std::memset(buffer, '-', sizeof buffer);
    EXPECT_EQ(RtlIntegerToChar(0xA, 16, 1, buffer), STATUS_SUCCESS);
    EXPECT_EQ(std::string(buffer, 2), "A-");
    std::memset(buffer, '-', sizeof buffer);
    EXPECT_EQ(RtlIntegerToChar(65536, 2, 17, buffer), STATUS_SUCCESS);
    EXPECT_EQ(std::string(buffer, 18), "10000000000000000-");
    EXPECT_EQ(RtlIntegerToChar(2147483648U, 10, 11, buffer), STATUS_SUCCESS);
    EXPECT_STREQ(buffer, "2147483648");
    EXPECT_EQ(RtlIntegerToChar(0xFFFFFFFF, 16, 7, buffer), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(RtlIntegerToChar(0, 16, 0, buffer), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(RtlIntegerToChar(1, 20, 9, buffer), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(RtlIntegerToChar(123, 10, 11, nullptr), STATUS_ACCESS_VIOLATION);
}

TEST(RtlNumbers, CompareMemoryCountsEqualLeadingBytes)
{
    const char a[] = "abcdef";
    const char b[] = "abcxef";
    EXPECT_EQ(RtlCompareMemory(a, b, 6), 3u);
    EXPECT_EQ(RtlCompareMemory(a, a, 6), 6u);
    EXPECT_EQ(RtlCompareMemory(a, b, 0), 0u);
}

TEST(RtlNumbers, LargeIntegerHelpers)
{
    EXPECT_EQ(RtlConvertLongToLargeInteger(-5).QuadPart, -5);
    EXPECT_EQ(RtlConvertUlongToLargeInteger(0xFFFFFFFF).QuadPart, 0xFFFFFFFFLL);
    LARGE_INTEGER a = RtlConvertUlongToLargeInteger(0xFFFFFFFF);
    LARGE_INTEGER b = RtlConvertLongToLargeInteger(1);
    LARGE_INTEGER sum = RtlLargeIntegerAdd(a, b);
    EXPECT_EQ(sum.QuadPart, 0x100000000LL);
    EXPECT_EQ(sum.HighPart, 1);
    EXPECT_EQ(sum.LowPart, 0u);
}

}  // namespace
