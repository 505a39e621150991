// Tests for the Rtl counted-string routines (sim_kernel/rtl/strings.cpp) and RtlAssert.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ke/bugcheck.h"
#include "system.h"
#include "wdm_impl.h"

namespace {

constexpr ULONG kStrgTag = 'S' | ('t' << 8) | ('r' << 16) | (static_cast<ULONG>('g') << 24);

class RtlStrings : public ::testing::Test {
protected:
    iosim::System sys;

    static UNICODE_STRING us(const char16_t* s)
    {
        UNICODE_STRING u;
        RtlInitUnicodeString(&u, s);
        return u;
    }
    static ANSI_STRING as(const char* s)
    {
        ANSI_STRING a;
        RtlInitAnsiString(&a, s);
        return a;
    }
    static std::u16string text(const UNICODE_STRING& u) { return std::u16string(u.Buffer, u.Length / sizeof(WCHAR)); }
    static std::string text(const ANSI_STRING& a) { return std::string(a.Buffer, a.Length); }

    size_t string_blocks() const
    {
        size_t n = 0;
        for (const auto& block : const_cast<iosim::System&>(sys).pool().outstanding_all())
            if (block.tag == kStrgTag)
                ++n;
        return n;
    }
};

// ---- init ----

TEST_F(RtlStrings, UnicodeStringLengthsAreInBytes)
{
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, (PWSTR)u"Hello");
    EXPECT_EQ(u.Length, 10);        // 5 characters, 2 bytes each
    EXPECT_EQ(u.MaximumLength, 12);  // + the NUL
    EXPECT_EQ(u.Buffer[0], u'H');
}

TEST_F(RtlStrings, InitWithNullGivesEmptyString)
{
    UNICODE_STRING u{7, 7, (PWSTR)u"x"};
    RtlInitUnicodeString(&u, nullptr);
    EXPECT_EQ(u.Length, 0);
    EXPECT_EQ(u.MaximumLength, 0);
    EXPECT_EQ(u.Buffer, nullptr);

    ANSI_STRING a{7, 7, (PCHAR) "x"};
    RtlInitAnsiString(&a, nullptr);
    EXPECT_EQ(a.Length, 0);
    EXPECT_EQ(a.MaximumLength, 0);
    EXPECT_EQ(a.Buffer, nullptr);
}

TEST_F(RtlStrings, InitUnicodeStringExRefusesMoreThan32766Characters)
{
    std::u16string ok(32766, u'a');
    UNICODE_STRING u;
    EXPECT_EQ(RtlInitUnicodeStringEx(&u, ok.c_str()), STATUS_SUCCESS);
    EXPECT_EQ(u.Length, 65532);
    EXPECT_EQ(u.MaximumLength, 65534);

    std::u16string too_long(32767, u'a');
    EXPECT_EQ(RtlInitUnicodeStringEx(&u, too_long.c_str()), STATUS_NAME_TOO_LONG);
    EXPECT_EQ(u.Length, 0);
}

TEST_F(RtlStrings, AnsiLengthsAreBytesPlusNul)
{
    ANSI_STRING a;
    RtlInitAnsiString(&a, "abc");
    EXPECT_EQ(a.Length, 3);
    EXPECT_EQ(a.MaximumLength, 4);
    STRING s;
    RtlInitString(&s, "");
    EXPECT_EQ(s.Length, 0);
    EXPECT_EQ(s.MaximumLength, 1);
}

// ---- copy / append ----

TEST_F(RtlStrings, CopyTruncatesToDestinationMaximumLength)
{
    WCHAR buffer[4] = {u'-', u'-', u'-', u'-'};
    UNICODE_STRING dst{0, sizeof buffer, buffer};
    UNICODE_STRING src = us(u"abcdef");
    RtlCopyUnicodeString(&dst, &src);
    EXPECT_EQ(dst.Length, 8);
    EXPECT_EQ(text(dst), u"abcd");  // no room for a NUL: none written past the buffer
}

TEST_F(RtlStrings, CopyNulTerminatesWhenThereIsRoom)
{
    WCHAR buffer[8];
    std::fill(std::begin(buffer), std::end(buffer), u'-');
    UNICODE_STRING dst{0, sizeof buffer, buffer};
    UNICODE_STRING src = us(u"abc");
    RtlCopyUnicodeString(&dst, &src);
    EXPECT_EQ(dst.Length, 6);
    EXPECT_EQ(buffer[3], 0);
    EXPECT_EQ(buffer[4], u'-');
}

TEST_F(RtlStrings, CopyFromNullSetsLengthToZero)
{
    WCHAR buffer[4] = {u'a', u'b', 0, 0};
    UNICODE_STRING dst{4, sizeof buffer, buffer};
    RtlCopyUnicodeString(&dst, nullptr);
    EXPECT_EQ(dst.Length, 0);
}

TEST_F(RtlStrings, CopyStringTruncatesToDestinationMaximumLength)
{
    char buffer[3] = {'-', '-', '-'};
    STRING dst{0, sizeof buffer, buffer};
    ANSI_STRING src = as("hello");
    RtlCopyString(&dst, &src);
    EXPECT_EQ(text(dst), "hel");
}

TEST_F(RtlStrings, AppendFailsWithBufferTooSmallAndLeavesDestinationAlone)
{
    WCHAR buffer[6] = {u'a', u'b', 0, 0, 0, 0};
    UNICODE_STRING dst{4, sizeof buffer, buffer};
    UNICODE_STRING big = us(u"cdefg");
    EXPECT_EQ(RtlAppendUnicodeStringToString(&dst, &big), STATUS_BUFFER_TOO_SMALL);
    EXPECT_EQ(dst.Length, 4);
    EXPECT_EQ(RtlAppendUnicodeToString(&dst, u"cdefg"), STATUS_BUFFER_TOO_SMALL);
    EXPECT_EQ(dst.Length, 4);

    UNICODE_STRING small = us(u"cd");
    EXPECT_EQ(RtlAppendUnicodeStringToString(&dst, &small), STATUS_SUCCESS);
    EXPECT_EQ(text(dst), u"abcd");
    EXPECT_EQ(buffer[4], 0);  // terminated: room was left
}

TEST_F(RtlStrings, AppendUnicodeToStringFillsExactly)
{
    WCHAR buffer[4] = {};
    UNICODE_STRING dst{0, sizeof buffer, buffer};
    EXPECT_EQ(RtlAppendUnicodeToString(&dst, u"ab"), STATUS_SUCCESS);
    EXPECT_EQ(RtlAppendUnicodeToString(&dst, u"cd"), STATUS_SUCCESS);
    EXPECT_EQ(text(dst), u"abcd");
    EXPECT_EQ(RtlAppendUnicodeToString(&dst, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(RtlAppendUnicodeToString(&dst, u"e"), STATUS_BUFFER_TOO_SMALL);
}

// ---- compare ----

TEST_F(RtlStrings, CompareIsCaseInsensitiveOnRequest)
{
    UNICODE_STRING a = us(u"\\Device\\MyDev");
    UNICODE_STRING b = us(u"\\DEVICE\\mydev");
    EXPECT_NE(RtlCompareUnicodeString(&a, &b, FALSE), 0);
    EXPECT_EQ(RtlCompareUnicodeString(&a, &b, TRUE), 0);
    EXPECT_FALSE(RtlEqualUnicodeString(&a, &b, FALSE));
    EXPECT_TRUE(RtlEqualUnicodeString(&a, &b, TRUE));

    ANSI_STRING x = as("Hello");
    ANSI_STRING y = as("hELLO");
    EXPECT_NE(RtlCompareString(&x, &y, FALSE), 0);
    EXPECT_EQ(RtlCompareString(&x, &y, TRUE), 0);
    EXPECT_TRUE(RtlEqualString(&x, &y, TRUE));
    EXPECT_FALSE(RtlEqualString(&x, &y, FALSE));
}

TEST_F(RtlStrings, CompareUsesFirstDifferenceThenLength)
{
    UNICODE_STRING abc = us(u"abc");
    UNICODE_STRING abd = us(u"abd");
    UNICODE_STRING ab = us(u"ab");
    EXPECT_EQ(RtlCompareUnicodeString(&abc, &abd, FALSE), u'c' - u'd');  // the character difference
    EXPECT_GT(RtlCompareUnicodeString(&abd, &abc, FALSE), 0);
    EXPECT_LT(RtlCompareUnicodeString(&ab, &abc, FALSE), 0);              // a prefix sorts first
    EXPECT_GT(RtlCompareUnicodeString(&abc, &ab, FALSE), 0);
    EXPECT_EQ(RtlCompareUnicodeString(&abc, &abc, FALSE), 0);
    // Case-insensitive compares upper-cased characters: '_' (0x5F) sorts after 'A'..'Z'.
    UNICODE_STRING under = us(u"_");
    UNICODE_STRING lower_a = us(u"a");
    EXPECT_EQ(RtlCompareUnicodeString(&under, &lower_a, TRUE), u'_' - u'A');
}

TEST_F(RtlStrings, EqualNeedsTheSameLength)
{
    UNICODE_STRING ab = us(u"ab");
    UNICODE_STRING abc = us(u"abc");
    EXPECT_FALSE(RtlEqualUnicodeString(&ab, &abc, TRUE));
}

TEST_F(RtlStrings, PrefixMatchesLeadingCharacters)
{
    UNICODE_STRING prefix = us(u"\\??\\");
    UNICODE_STRING name = us(u"\\??\\MyDevice");
    UNICODE_STRING other = us(u"\\Device\\X");
    UNICODE_STRING upper = us(u"\\DEVICE\\");
    EXPECT_TRUE(RtlPrefixUnicodeString(&prefix, &name, FALSE));
    EXPECT_FALSE(RtlPrefixUnicodeString(&prefix, &other, FALSE));
    EXPECT_FALSE(RtlPrefixUnicodeString(&name, &prefix, FALSE));  // longer than the string
    EXPECT_FALSE(RtlPrefixUnicodeString(&upper, &other, FALSE));
    EXPECT_TRUE(RtlPrefixUnicodeString(&upper, &other, TRUE));
}

// ---- ANSI <-> Unicode ----

TEST_F(RtlStrings, AnsiToUnicodeAllocatesPagedPoolThatFreeReleases)
{
    ANSI_STRING a = as("MyDevice");
    UNICODE_STRING u{};
    ASSERT_EQ(RtlAnsiStringToUnicodeString(&u, &a, TRUE), STATUS_SUCCESS);
    EXPECT_EQ(text(u), u"MyDevice");
    EXPECT_EQ(u.Length, 16);
    EXPECT_EQ(u.MaximumLength, 18);
    EXPECT_EQ(u.Buffer[8], 0);

    auto blocks = sys.pool().outstanding_all();
    auto it = std::find_if(blocks.begin(), blocks.end(), [&](const auto& b) { return b.address == u.Buffer; });
    ASSERT_NE(it, blocks.end());
    EXPECT_TRUE(it->paged);
    EXPECT_EQ(it->tag, kStrgTag);
    EXPECT_NE(it->caller, nullptr);  // charged to the caller of the Rtl routine

    RtlFreeUnicodeString(&u);
    EXPECT_EQ(u.Buffer, nullptr);
    EXPECT_EQ(u.Length, 0);
    EXPECT_EQ(u.MaximumLength, 0);
    EXPECT_EQ(string_blocks(), 0u);
}

TEST_F(RtlStrings, AnsiIsUtf8)
{
    ANSI_STRING a = as("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");  // "café € 😀"
    UNICODE_STRING u{};
    ASSERT_EQ(RtlAnsiStringToUnicodeString(&u, &a, TRUE), STATUS_SUCCESS);
    EXPECT_EQ(text(u), u"caf\u00E9 \u20AC \U0001F600");
    EXPECT_EQ(RtlxAnsiStringToUnicodeSize(&a), (9u + 1u) * 2u);

    ANSI_STRING back{};
    ASSERT_EQ(RtlUnicodeStringToAnsiString(&back, &u, TRUE), STATUS_SUCCESS);
    EXPECT_EQ(text(back), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    EXPECT_EQ(RtlxUnicodeStringToAnsiSize(&u), static_cast<ULONG>(a.Length + 1));
    RtlFreeAnsiString(&back);
    RtlFreeUnicodeString(&u);

    ANSI_STRING bad = as("a\xFFz");  // not UTF-8: the stray byte becomes U+FFFD
    UNICODE_STRING r{};
    ASSERT_EQ(RtlAnsiStringToUnicodeString(&r, &bad, TRUE), STATUS_SUCCESS);
    EXPECT_EQ(text(r), u"a\uFFFDz");
    RtlFreeUnicodeString(&r);
}

TEST_F(RtlStrings, AnsiToUnicodeOverflowLeavesDestinationUnchanged)
{
    WCHAR buffer[4] = {u'-', u'-', u'-', u'-'};
    UNICODE_STRING dst{0, sizeof buffer, buffer};
    ANSI_STRING four = as("abcd");  // needs 10 bytes with the NUL
    EXPECT_EQ(RtlAnsiStringToUnicodeString(&dst, &four, FALSE), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(dst.Length, 0);
    EXPECT_EQ(buffer[0], u'-');

    ANSI_STRING three = as("abc");  // exactly fits with its NUL
    EXPECT_EQ(RtlAnsiStringToUnicodeString(&dst, &three, FALSE), STATUS_SUCCESS);
    EXPECT_EQ(text(dst), u"abc");
    EXPECT_EQ(buffer[3], 0);
}

TEST_F(RtlStrings, UnicodeToAnsiConvertsWhatFitsAndReportsOverflow)
{
    char buffer[4];
    std::memset(buffer, '-', sizeof buffer);
    ANSI_STRING dst{0, sizeof buffer, buffer};
    UNICODE_STRING src = us(u"abcdef");
    EXPECT_EQ(RtlUnicodeStringToAnsiString(&dst, &src, FALSE), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(text(dst), "abc");
    EXPECT_EQ(buffer[3], '\0');
}

TEST_F(RtlStrings, ResultOver65534BytesIsInvalidParameter2)
{
    std::string fits(32766, 'x');  // 32766 characters + NUL = 65534 bytes
    ANSI_STRING a;
    RtlInitAnsiString(&a, fits.c_str());
    UNICODE_STRING u{};
    ASSERT_EQ(RtlAnsiStringToUnicodeString(&u, &a, TRUE), STATUS_SUCCESS);
    EXPECT_EQ(u.Length, 65532);
    RtlFreeUnicodeString(&u);

    std::string too_big(32767, 'x');  // would need 65536 bytes
    RtlInitAnsiString(&a, too_big.c_str());
    EXPECT_EQ(RtlAnsiStringToUnicodeString(&u, &a, TRUE), STATUS_INVALID_PARAMETER_2);
    EXPECT_EQ(u.Buffer, nullptr);
    EXPECT_EQ(string_blocks(), 0u);
}

// ---- case ----

TEST_F(RtlStrings, CaseMappingCoversLatinGreekAndCyrillic)
{
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'a'), u'A');
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'1'), u'1');
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u00E9'), u'\u00C9');  // é
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u00F7'), u'\u00F7');  // ÷ has no case
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u00FF'), u'\u0178');  // ÿ
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u0101'), u'\u0100');  // ā
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u017E'), u'\u017D');  // ž
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u03B1'), u'\u0391');  // α
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u03C2'), u'\u03A3');  // final ς
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u0436'), u'\u0416');  // ж
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u0451'), u'\u0401');  // ё
    EXPECT_EQ(RtlUpcaseUnicodeChar(u'\u4E2D'), u'\u4E2D');  // 中 has no case
    EXPECT_EQ(RtlDowncaseUnicodeChar(u'Z'), u'z');
    EXPECT_EQ(RtlDowncaseUnicodeChar(u'\u00C9'), u'\u00E9');
    EXPECT_EQ(RtlDowncaseUnicodeChar(u'\u0178'), u'\u00FF');
    EXPECT_EQ(RtlDowncaseUnicodeChar(u'\u0100'), u'\u0101');
    EXPECT_EQ(RtlDowncaseUnicodeChar(u'\u017D'), u'\u017E');
    EXPECT_EQ(RtlDowncaseUnicodeChar(u'\u0416'), u'\u0436');
    EXPECT_EQ(RtlDowncaseUnicodeChar(u'\u0401'), u'\u0451');
    for (WCHAR c = 0; c < 0x600; ++c)  // where both directions are defined they agree
        if (RtlUpcaseUnicodeChar(c) != c)
            EXPECT_EQ(RtlDowncaseUnicodeChar(RtlUpcaseUnicodeChar(c)), c == 0x3C2 ? 0x3C3 : c) << std::hex << static_cast<int>(c);
}

TEST_F(RtlStrings, UpcaseStringWorksInPlaceAndAllocated)
{
    WCHAR buffer[] = u"MixedCase";
    UNICODE_STRING s{18, sizeof buffer, buffer};
    EXPECT_EQ(RtlUpcaseUnicodeString(&s, &s, FALSE), STATUS_SUCCESS);
    EXPECT_EQ(text(s), u"MIXEDCASE");

    UNICODE_STRING lower{};
    ASSERT_EQ(RtlDowncaseUnicodeString(&lower, &s, TRUE), STATUS_SUCCESS);
    EXPECT_EQ(text(lower), u"mixedcase");
    EXPECT_EQ(lower.MaximumLength, 18);  // exactly Length, as Windows allocates
    RtlFreeUnicodeString(&lower);
}

TEST_F(RtlStrings, UpcaseFailsWhenDestinationTooSmall)
{
    WCHAR buffer[2];
    UNICODE_STRING dst{0, sizeof buffer, buffer};
    UNICODE_STRING src = us(u"abc");
    EXPECT_EQ(RtlUpcaseUnicodeString(&dst, &src, FALSE), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(dst.Length, 0);
}

TEST_F(RtlStrings, UpperCharChangesOnlyAsciiLetters)
{
    EXPECT_EQ(RtlUpperChar('q'), 'Q');
    EXPECT_EQ(RtlUpperChar('Q'), 'Q');
    EXPECT_EQ(RtlUpperChar('{'), '{');
    EXPECT_EQ(RtlUpperChar(static_cast<CHAR>(0xE9)), static_cast<CHAR>(0xE9));

    char buffer[4];
    STRING dst{0, sizeof buffer, buffer};
    ANSI_STRING src = as("abc-def");
    RtlUpperString(&dst, &src);
    EXPECT_EQ(text(dst), "ABC-");
}

// ---- GUIDs ----

TEST_F(RtlStrings, GuidStringIsUpperCaseAndRoundTrips)
{
    const GUID guid = {0x01020304, 0x0506, 0x0708, {0x09, 0x0a, 0xbb, 0x0c, 0x0d, 0x0e, 0x0f, 0xfa}};
    UNICODE_STRING s{};
    ASSERT_EQ(RtlStringFromGUID(&guid, &s), STATUS_SUCCESS);
    EXPECT_EQ(text(s), u"{01020304-0506-0708-090A-BB0C0D0E0FFA}");
    EXPECT_EQ(s.Length, 76);
    EXPECT_EQ(s.MaximumLength, 78);

    GUID parsed{};
    ASSERT_EQ(RtlGUIDFromString(&s, &parsed), STATUS_SUCCESS);
    EXPECT_EQ(std::memcmp(&parsed, &guid, sizeof guid), 0);
    RtlFreeUnicodeString(&s);

    UNICODE_STRING lower = us(u"{01020304-0506-0708-090a-bb0c0d0e0ffa}");
    ASSERT_EQ(RtlGUIDFromString(&lower, &parsed), STATUS_SUCCESS);
    EXPECT_EQ(std::memcmp(&parsed, &guid, sizeof guid), 0);
}

TEST_F(RtlStrings, GuidFromStringRejectsMalformedText)
{
    GUID g{};
    for (const char16_t* bad : {u"{01020304-0506-0708-090A-0B0C0D0E0F0A]", u"01020304-0506-0708-090A-0B0C0D0E0F0A",
                                u"{01020304-0506-0708-090A-0B0C0D0E0F0G}", u"{0102030405060708090A0B0C0D0E0F0A0000}",
                                u""}) {
        UNICODE_STRING s = us(bad);
        EXPECT_EQ(RtlGUIDFromString(&s, &g), STATUS_INVALID_PARAMETER);
    }
}

// ---- pool misuse and assertions ----

TEST_F(RtlStrings, FreeingAStringNotFromPoolBugChecks)
{
    WCHAR stack_buffer[4] = {u'a', 0, 0, 0};
    UNICODE_STRING s{2, sizeof stack_buffer, stack_buffer};
    try {
        RtlFreeUnicodeString(&s);
        FAIL() << "expected BAD_POOL_CALLER";
    } catch (const iosim::BugCheck& stop) {
        EXPECT_EQ(stop.info().code, static_cast<ULONG>(BAD_POOL_CALLER));
        EXPECT_NE(stop.info().reason.find("RtlFreeUnicodeString"), std::string::npos) << stop.info().reason;
        EXPECT_NE(stop.info().reason.find("RtlInitUnicodeString"), std::string::npos) << stop.info().reason;
    }
}

TEST_F(RtlStrings, FreeingAStringTwiceBugChecks)
{
    ANSI_STRING a = as("twice");
    UNICODE_STRING u{};
    ASSERT_EQ(RtlAnsiStringToUnicodeString(&u, &a, TRUE), STATUS_SUCCESS);
    UNICODE_STRING copy = u;
    RtlFreeUnicodeString(&u);
    EXPECT_THROW(RtlFreeUnicodeString(&copy), iosim::BugCheck);
}

TEST_F(RtlStrings, FailedAssertStopsTheMachine)
{
    try {
        RtlAssert((PVOID) "Irp != NULL", (PVOID) "C:\\src\\mydriver\\driver.c", 42, nullptr);
        FAIL() << "expected a bug check";
    } catch (const iosim::BugCheck& stop) {
        EXPECT_EQ(stop.info().code, static_cast<ULONG>(KMODE_EXCEPTION_NOT_HANDLED));
        EXPECT_EQ(stop.info().parameters[0], 0x80000003u);  // STATUS_BREAKPOINT
        EXPECT_NE(stop.info().reason.find("ASSERT(Irp != NULL) failed at driver.c:42"), std::string::npos)
            << stop.info().reason;
    }
}

TEST_F(RtlStrings, AssertMessageAppearsInTheReport)
{
    char message[] = "device extension must be initialised";
    try {
        RtlAssert((PVOID) "ext->Ready", (PVOID) "drv/ext.c", 7, message);
        FAIL() << "expected a bug check";
    } catch (const iosim::BugCheck& stop) {
        EXPECT_NE(stop.info().reason.find("ASSERT(ext->Ready) failed at ext.c:7"), std::string::npos);
        EXPECT_NE(stop.info().reason.find(message), std::string::npos);
    }
}

}  // namespace
