// test_shim.cpp - run-time checks of the safe string functions behind strsafe.h
// (StringCb* / StringCch*, HRESULT) and ntstrsafe.h (RtlStringCb* / RtlStringCch* /
// RtlUnicodeString*, NTSTATUS), as implemented in sim_kernel/crt/strsafe.cpp.
//
// This is iosim's own code (IOSIM_IMPLEMENTATION): WCHAR is char16_t, so wide literals
// are written u"...". The contract checked is Microsoft's: never write past the
// destination, always NUL-terminate (except UNICODE_STRINGs), report truncation as
// STRSAFE_E_INSUFFICIENT_BUFFER / STATUS_BUFFER_OVERFLOW and bad sizes as
// STRSAFE_E_INVALID_PARAMETER / STATUS_INVALID_PARAMETER.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <iterator>
#include <string>

#include "nt.h"
#include "ntstrsafe.h"
#include "strsafe.h"

namespace {

using std::u16string;

constexpr char kSentinel = '#';
constexpr char16_t kWideSentinel = u'#';

HRESULT vprintf_a(char *buf, size_t cch, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    HRESULT hr = StringCchVPrintfA(buf, cch, fmt, ap);
    va_end(ap);
    return hr;
}

NTSTATUS vprintf_unicode(PUNICODE_STRING us, const WCHAR *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    NTSTATUS st = RtlUnicodeStringVPrintf(us, fmt, ap);
    va_end(ap);
    return st;
}

u16string contents(const UNICODE_STRING &us) { return u16string(us.Buffer, us.Length / sizeof(WCHAR)); }

// ---------------------------------------------------------------- strsafe.h (HRESULT)

TEST(StrSafe, ResultCodesAreWindowsValues)
{
    EXPECT_EQ(STRSAFE_E_INSUFFICIENT_BUFFER, static_cast<HRESULT>(0x8007007A));
    EXPECT_EQ(STRSAFE_E_INVALID_PARAMETER, static_cast<HRESULT>(0x80070057));
    EXPECT_TRUE(FAILED(STRSAFE_E_INSUFFICIENT_BUFFER));
    EXPECT_EQ(STRSAFE_MAX_CCH, 2147483647);
}

TEST(StrSafe, CchCopyFitsExactly)
{
    char buf[6];
    std::memset(buf, kSentinel, sizeof(buf));
    EXPECT_EQ(StringCchCopyA(buf, sizeof(buf), "hello"), S_OK);
    EXPECT_STREQ(buf, "hello");
}

TEST(StrSafe, CchCopyTruncatesAndTerminates)
{
    char buf[8];
    std::memset(buf, kSentinel, sizeof(buf));
    EXPECT_EQ(StringCchCopyA(buf, 4, "hello"), STRSAFE_E_INSUFFICIENT_BUFFER);
    EXPECT_STREQ(buf, "hel");
    EXPECT_EQ(buf[4], kSentinel) << "nothing is written past cchDest";
}

TEST(StrSafe, CchCopyRejectsBadSizes)
{
    char buf[4] = { 'x', 'y', 'z', 0 };
    EXPECT_EQ(StringCchCopyA(buf, 0, "a"), STRSAFE_E_INVALID_PARAMETER);
    EXPECT_EQ(buf[0], 'x') << "a zero-size destination is never written";
    EXPECT_EQ(StringCchCopyA(buf, static_cast<size_t>(STRSAFE_MAX_CCH) + 1, "a"), STRSAFE_E_INVALID_PARAMETER);
    EXPECT_EQ(StringCchCopyA(nullptr, 4, "a"), STRSAFE_E_INVALID_PARAMETER);
}

TEST(StrSafe, WideCopyAndByteCounts)
{
    WCHAR buf[8];
    std::fill(std::begin(buf), std::end(buf), kWideSentinel);
    EXPECT_EQ(StringCchCopyW(buf, 8, u"wide"), S_OK);
    EXPECT_EQ(u16string(buf), u"wide");
    // 7 bytes hold 3 whole WCHARs: two characters and the terminator.
    std::fill(std::begin(buf), std::end(buf), kWideSentinel);
    EXPECT_EQ(StringCbCopyW(buf, 7, u"wide"), STRSAFE_E_INSUFFICIENT_BUFFER);
    EXPECT_EQ(u16string(buf), u"wi");
    EXPECT_EQ(buf[3], kWideSentinel);
    EXPECT_EQ(StringCbCopyW(buf, 1, u"w"), STRSAFE_E_INVALID_PARAMETER) << "less than one WCHAR";
}

TEST(StrSafe, CopyNStopsAtCountOrTerminator)
{
    char buf[16];
    EXPECT_EQ(StringCchCopyNA(buf, sizeof(buf), "abcdef", 3), S_OK);
    EXPECT_STREQ(buf, "abc");
    EXPECT_EQ(StringCchCopyNA(buf, sizeof(buf), "ab", 10), S_OK);
    EXPECT_STREQ(buf, "ab");
    EXPECT_EQ(StringCchCopyNA(buf, 3, "abcdef", 5), STRSAFE_E_INSUFFICIENT_BUFFER);
    EXPECT_STREQ(buf, "ab");
    WCHAR wbuf[16];
    EXPECT_EQ(StringCbCopyNW(wbuf, sizeof(wbuf), u"abcdef", 4 * sizeof(WCHAR)), S_OK);
    EXPECT_EQ(u16string(wbuf), u"abcd");
}

TEST(StrSafe, CatAppendsAndTruncates)
{
    char buf[8] = "abc";
    EXPECT_EQ(StringCchCatA(buf, sizeof(buf), "de"), S_OK);
    EXPECT_STREQ(buf, "abcde");
    EXPECT_EQ(StringCchCatA(buf, sizeof(buf), "fghij"), STRSAFE_E_INSUFFICIENT_BUFFER);
    EXPECT_STREQ(buf, "abcdefg");
    EXPECT_EQ(StringCbCatA(buf, sizeof(buf), ""), S_OK) << "appending nothing to a full buffer is fine";
    EXPECT_EQ(StringCbCatA(buf, sizeof(buf), "h"), STRSAFE_E_INSUFFICIENT_BUFFER);

    char nbuf[8] = "ab";
    EXPECT_EQ(StringCchCatNA(nbuf, sizeof(nbuf), "xyz", 1), S_OK);
    EXPECT_STREQ(nbuf, "abx");

    WCHAR wbuf[6] = u"ab";
    EXPECT_EQ(StringCbCatW(wbuf, sizeof(wbuf), u"cdef"), STRSAFE_E_INSUFFICIENT_BUFFER);
    EXPECT_EQ(u16string(wbuf), u"abcde");
}

TEST(StrSafe, CatRejectsUnterminatedDestination)
{
    char buf[4] = { 'a', 'b', 'c', 'd' };
    EXPECT_EQ(StringCchCatA(buf, sizeof(buf), "e"), STRSAFE_E_INVALID_PARAMETER);
    EXPECT_EQ(std::string(buf, 4), "abcd") << "an invalid destination is left alone";
}

TEST(StrSafe, Length)
{
    size_t n = 99;
    EXPECT_EQ(StringCchLengthA("hello", 6, &n), S_OK);
    EXPECT_EQ(n, 5u);
    EXPECT_EQ(StringCchLengthA("hello", 5, &n), STRSAFE_E_INVALID_PARAMETER) << "no NUL within cchMax";
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(StringCchLengthA(nullptr, 5, &n), STRSAFE_E_INVALID_PARAMETER);
    EXPECT_EQ(StringCchLengthA("x", 5, nullptr), S_OK) << "the length pointer is optional";
    EXPECT_EQ(StringCbLengthW(u"abc", 8, &n), S_OK);
    EXPECT_EQ(n, 3 * sizeof(WCHAR)) << "Cb forms report bytes";
    EXPECT_EQ(StringCchLengthW(u"abc", 4, &n), S_OK);
    EXPECT_EQ(n, 3u);
}

TEST(StrSafe, PrintfFormatsAndTruncates)
{
    char buf[16];
    EXPECT_EQ(StringCchPrintfA(buf, sizeof(buf), "%d-%s-%u", 42, "x", 7u), S_OK);
    EXPECT_STREQ(buf, "42-x-7");
    EXPECT_EQ(StringCchPrintfA(buf, 6, "hello world"), STRSAFE_E_INSUFFICIENT_BUFFER);
    EXPECT_STREQ(buf, "hello");
    EXPECT_EQ(StringCbPrintfA(buf, 6, "%s", "exact"), S_OK);
    EXPECT_STREQ(buf, "exact");
    EXPECT_EQ(StringCbPrintfA(buf, 5, "%s", "exact"), STRSAFE_E_INSUFFICIENT_BUFFER);
    EXPECT_STREQ(buf, "exac");
    EXPECT_EQ(vprintf_a(buf, sizeof(buf), "%ld", static_cast<LONG>(-5)), S_OK) << "%ld is 32-bit (Windows rules)";
    EXPECT_STREQ(buf, "-5");
    EXPECT_EQ(StringCchPrintfA(buf, 0, "x"), STRSAFE_E_INVALID_PARAMETER);
}

TEST(StrSafe, WidePrintf)
{
    WCHAR buf[16];
    EXPECT_EQ(StringCchPrintfW(buf, 16, u"%d:%s", 7, u"ab"), S_OK) << "%s in a wide format is a wide string";
    EXPECT_EQ(u16string(buf), u"7:ab");
    EXPECT_EQ(StringCbPrintfW(buf, 4 * sizeof(WCHAR), u"%d", 123456), STRSAFE_E_INSUFFICIENT_BUFFER);
    EXPECT_EQ(u16string(buf), u"123");
}

// ---------------------------------------------------------------- ntstrsafe.h (NTSTATUS)

TEST(NtStrSafe, StatusMapping)
{
    char buf[4];
    EXPECT_EQ(RtlStringCchCopyA(buf, sizeof(buf), "abc"), STATUS_SUCCESS);
    EXPECT_EQ(RtlStringCchCopyA(buf, sizeof(buf), "abcd"), STATUS_BUFFER_OVERFLOW);
    EXPECT_STREQ(buf, "abc");
    EXPECT_FALSE(NT_SUCCESS(STATUS_BUFFER_OVERFLOW)) << "truncation is a warning, not a success";
    EXPECT_EQ(RtlStringCchCopyA(buf, 0, "a"), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(RtlStringCbCopyA(buf, static_cast<size_t>(NTSTRSAFE_MAX_CCH) + 1, "a"), STATUS_INVALID_PARAMETER);
}

TEST(NtStrSafe, WideBufferFunctions)
{
    WCHAR buf[8];
    size_t n = 0;
    EXPECT_EQ(RtlStringCbCopyW(buf, sizeof(buf), u"\\Device"), STATUS_SUCCESS);
    EXPECT_EQ(RtlStringCbCatW(buf, sizeof(buf), u"\\X"), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(u16string(buf), u"\\Device");
    EXPECT_EQ(RtlStringCchLengthW(buf, 8, &n), STATUS_SUCCESS);
    EXPECT_EQ(n, 7u);
    EXPECT_EQ(RtlStringCbLengthW(buf, sizeof(buf), &n), STATUS_SUCCESS);
    EXPECT_EQ(n, 14u);
    EXPECT_EQ(RtlStringCchPrintfW(buf, 8, u"%u", 1234567890u), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(u16string(buf), u"1234567");
    EXPECT_EQ(RtlStringCbPrintfA(reinterpret_cast<char *>(buf), 4, "%d", 12), STATUS_SUCCESS);
    EXPECT_STREQ(reinterpret_cast<char *>(buf), "12");
}

TEST(NtStrSafe, UnicodeStringCopyIsCountedAndUnterminated)
{
    WCHAR storage[8];
    std::fill(std::begin(storage), std::end(storage), kWideSentinel);
    UNICODE_STRING us = { 0, sizeof(storage), storage };
    EXPECT_EQ(RtlUnicodeStringCopyString(&us, u"abc"), STATUS_SUCCESS);
    EXPECT_EQ(us.Length, 3 * sizeof(WCHAR));
    EXPECT_EQ(contents(us), u"abc");
    EXPECT_EQ(storage[3], kWideSentinel) << "no terminator is written";

    EXPECT_EQ(RtlUnicodeStringCopyString(&us, u"0123456789"), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(us.Length, us.MaximumLength);
    EXPECT_EQ(contents(us), u"01234567");

    UNICODE_STRING src = { 4, 4, const_cast<PWSTR>(u"xy") };
    EXPECT_EQ(RtlUnicodeStringCopy(&us, &src), STATUS_SUCCESS);
    EXPECT_EQ(contents(us), u"xy");
}

TEST(NtStrSafe, UnicodeStringCat)
{
    WCHAR storage[6];
    UNICODE_STRING us = { 0, sizeof(storage), storage };
    UNICODE_STRING tail = { 4, 6, const_cast<PWSTR>(u"cd") };
    EXPECT_EQ(RtlUnicodeStringCatString(&us, u"ab"), STATUS_SUCCESS);
    EXPECT_EQ(RtlUnicodeStringCat(&us, &tail), STATUS_SUCCESS);
    EXPECT_EQ(contents(us), u"abcd");
    EXPECT_EQ(RtlUnicodeStringCatString(&us, u"efg"), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(contents(us), u"abcdef");
    EXPECT_EQ(RtlUnicodeStringCatString(&us, u"h"), STATUS_BUFFER_OVERFLOW) << "already full";
    EXPECT_EQ(us.Length, sizeof(storage));
}

TEST(NtStrSafe, UnicodeStringPrintf)
{
    WCHAR storage[10];
    std::fill(std::begin(storage), std::end(storage), kWideSentinel);
    UNICODE_STRING us = { 0, sizeof(storage), storage };
    EXPECT_EQ(RtlUnicodeStringPrintf(&us, u"dev%d", 12), STATUS_SUCCESS);
    EXPECT_EQ(contents(us), u"dev12");
    EXPECT_EQ(storage[5], kWideSentinel) << "no terminator is written";
    EXPECT_EQ(RtlUnicodeStringPrintf(&us, u"%s-%u", u"\\Device\\Long", 1u), STATUS_BUFFER_OVERFLOW);
    EXPECT_EQ(us.Length, us.MaximumLength) << "a truncated result uses the whole buffer";
    EXPECT_EQ(contents(us), u"\\Device\\Lo");
    EXPECT_EQ(vprintf_unicode(&us, u"%u", 5u), STATUS_SUCCESS);
    EXPECT_EQ(contents(us), u"5");
}

TEST(NtStrSafe, InvalidUnicodeStrings)
{
    WCHAR storage[4];
    UNICODE_STRING odd = { 3, sizeof(storage), storage };
    UNICODE_STRING too_long = { 10, 8, storage };
    UNICODE_STRING no_buffer = { 0, 8, nullptr };
    UNICODE_STRING empty = { 0, 0, nullptr };
    EXPECT_EQ(RtlUnicodeStringValidate(&odd), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(RtlUnicodeStringValidate(&too_long), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(RtlUnicodeStringValidate(&no_buffer), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(RtlUnicodeStringValidate(&empty), STATUS_SUCCESS);
    EXPECT_EQ(RtlUnicodeStringCopyString(&too_long, u"a"), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(RtlUnicodeStringCopyString(&empty, u"a"), STATUS_INVALID_PARAMETER) << "no room at all";
    EXPECT_EQ(RtlUnicodeStringCopyString(&empty, u""), STATUS_SUCCESS);
    EXPECT_EQ(RtlUnicodeStringCopyString(nullptr, u"a"), STATUS_INVALID_PARAMETER);
}

TEST(NtStrSafe, UnicodeStringInit)
{
    UNICODE_STRING us;
    EXPECT_EQ(RtlUnicodeStringInit(&us, u"\\Driver\\X"), STATUS_SUCCESS);
    EXPECT_EQ(us.Length, 9 * sizeof(WCHAR));
    EXPECT_EQ(us.MaximumLength, 10 * sizeof(WCHAR));
    EXPECT_EQ(contents(us), u"\\Driver\\X");
    EXPECT_EQ(RtlUnicodeStringInit(&us, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(us.Length, 0);
    EXPECT_EQ(us.Buffer, nullptr);
    u16string huge(NTSTRSAFE_UNICODE_STRING_MAX_CCH, u'a');
    EXPECT_EQ(RtlUnicodeStringInit(&us, huge.c_str()), STATUS_INVALID_PARAMETER);
}

} // namespace
