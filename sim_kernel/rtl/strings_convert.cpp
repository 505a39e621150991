// strings_convert.cpp - the Rtl conversions: ANSI <-> Unicode, numbers <-> text, GUIDs;
// also RtlCompareMemory and the large-integer helpers.
//
// Rules (Windows' behaviour, as documented and as observed on Windows):
//  - "ANSI" strings are UTF-8 (iosim's ANSI code page, like Windows set to code page 65001).
//    Invalid UTF-8 bytes become U+FFFD; unpaired UTF-16 surrogates become U+FFFD in UTF-8.
//  - A conversion result that would need more than 65535 bytes with its NUL is refused with
//    STATUS_INVALID_PARAMETER_2. With AllocateDestinationString the buffer comes from paged
//    pool (tag 'Strg', charged to the calling driver; free it with RtlFree*String).
//    Otherwise a destination too small gives STATUS_BUFFER_OVERFLOW: ANSI -> Unicode leaves
//    it unchanged; Unicode -> ANSI converts the whole characters that fit and NUL-terminates
//    first, as Windows does. Results are always NUL-terminated.
//  - RtlUnicodeStringToInteger / RtlCharToInteger: leading characters 1..32 (blanks and
//    controls) are skipped, then one optional sign. Base must be 0, 2, 8, 10 or 16, else
//    STATUS_INVALID_PARAMETER. With Base 0 a "0x", "0o" or "0b" prefix (lower case) selects
//    16, 8 or 2 and anything else is decimal; with an explicit base no prefix is recognised.
//    Digits are read until the first character that is not a digit of the base; overflow
//    wraps modulo 2^32 (no error); "-" negates the 32-bit result. No digits gives 0.
//    A NULL Value gives STATUS_ACCESS_VIOLATION (Windows faults and reports it).
//  - RtlIntegerToChar / RtlIntegerToUnicodeString print the ULONG unsigned, hex digits in
//    upper case, Base 0 meaning 10. RtlIntegerToChar writes the NUL only when OutputLength
//    leaves room; RtlIntegerToUnicodeString needs room for the NUL, else
//    STATUS_BUFFER_OVERFLOW with the string left unchanged.
//  - GUID strings are "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}": RtlStringFromGUID writes
//    upper case into a pool buffer; RtlGUIDFromString takes either case, exactly 38
//    characters, else STATUS_INVALID_PARAMETER.
// NT counterparts: RtlAnsiStringToUnicodeString, RtlUnicodeStringToAnsiString,
// RtlUnicodeStringToInteger, RtlIntegerToUnicodeString, RtlGUIDFromString, ...
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "wdm_impl.h"

namespace iosim::rtl {

// strings.cpp: paged pool, tag 'Strg', charged to `caller` (the driver's return address).
void* string_alloc(size_t bytes, const void* caller);

namespace {

// ---- UTF-8 <-> UTF-16 ----

// Decodes one code point from s[0..n); returns the bytes used (>= 1). Invalid input
// (stray continuation byte, truncated or overlong sequence, surrogate, > U+10FFFF)
// consumes one byte and gives U+FFFD.
size_t decode_utf8(const unsigned char* s, size_t n, char32_t& out)
{
    unsigned char b0 = s[0];
    if (b0 < 0x80) {
        out = b0;
        return 1;
    }
    size_t need;
    char32_t cp;
    char32_t min;
    if ((b0 & 0xE0) == 0xC0) {
        need = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        need = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        need = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        out = 0xFFFD;
        return 1;
    }
    if (n < need) {
        out = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < need; ++i) {
        if ((s[i] & 0xC0) != 0x80) {
            out = 0xFFFD;
            return 1;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        out = 0xFFFD;
        return 1;
    }
    out = cp;
    return need;
}

// UTF-8 -> UTF-16. Writes to `out` when it is not null; returns the number of UTF-16 units.
size_t utf8_to_utf16(const char* src, size_t bytes, WCHAR* out)
{
    const auto* s = reinterpret_cast<const unsigned char*>(src);
    size_t units = 0;
    for (size_t i = 0; i < bytes;) {
        char32_t cp;
        i += decode_utf8(s + i, bytes - i, cp);
        if (cp >= 0x10000) {
            if (out) {
                out[units] = static_cast<WCHAR>(0xD800 + ((cp - 0x10000) >> 10));
                out[units + 1] = static_cast<WCHAR>(0xDC00 + ((cp - 0x10000) & 0x3FF));
            }
            units += 2;
        } else {
            if (out)
                out[units] = static_cast<WCHAR>(cp);
            units += 1;
        }
    }
    return units;
}

// UTF-16 -> UTF-8. Writes whole characters to `out` (when not null) while they fit in
// `capacity` bytes; returns the bytes produced (all of them when out is null).
size_t utf16_to_utf8(const WCHAR* src, size_t units, char* out, size_t capacity)
{
    size_t bytes = 0;
    for (size_t i = 0; i < units; ++i) {
        char32_t cp = src[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units && src[i + 1] >= 0xDC00 && src[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (src[i + 1] - 0xDC00);
            ++i;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;  // unpaired surrogate
        }
        unsigned char enc[4];
        size_t len;
        if (cp < 0x80) {
            enc[0] = static_cast<unsigned char>(cp), len = 1;
        } else if (cp < 0x800) {
            enc[0] = static_cast<unsigned char>(0xC0 | (cp >> 6));
            enc[1] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
            len = 2;
        } else if (cp < 0x10000) {
            enc[0] = static_cast<unsigned char>(0xE0 | (cp >> 12));
            enc[1] = static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F));
            enc[2] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
            len = 3;
        } else {
            enc[0] = static_cast<unsigned char>(0xF0 | (cp >> 18));
            enc[1] = static_cast<unsigned char>(0x80 | ((cp >> 12) & 0x3F));
            enc[2] = static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F));
            enc[3] = static_cast<unsigned char>(0x80 | (cp & 0x3F));
            len = 4;
        }
        if (out != nullptr) {
            if (bytes + len > capacity)
                break;
            std::memcpy(out + bytes, enc, len);
        }
        bytes += len;
    }
    return bytes;
}

// ---- numbers ----

bool valid_base(ULONG base) { return base == 2 || base == 8 || base == 10 || base == 16; }

int digit_value(unsigned c)
{
    if (c >= '0' && c <= '9')
        return static_cast<int>(c - '0');
    if (c >= 'a' && c <= 'z')
        return static_cast<int>(c - 'a' + 10);
    if (c >= 'A' && c <= 'Z')
        return static_cast<int>(c - 'A' + 10);
    return 99;
}

// Parses s[0..n) (characters widened to unsigned). Shared by the Unicode and char forms.
template <typename Char>
NTSTATUS parse_integer(const Char* s, size_t n, ULONG base, PULONG value)
{
    if (base != 0 && !valid_base(base))
        return STATUS_INVALID_PARAMETER;
    size_t i = 0;
    auto at = [&](size_t k) { return static_cast<unsigned>(static_cast<std::make_unsigned_t<Char>>(s[k])); };
    while (i < n && at(i) <= ' ')
        ++i;
    bool negative = false;
    if (i < n && (at(i) == '-' || at(i) == '+')) {
        negative = at(i) == '-';
        ++i;
    }
    if (base == 0) {
        base = 10;
        if (i + 1 < n && at(i) == '0') {
            unsigned p = at(i + 1);
            ULONG prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
            if (prefixed != 0) {
                base = prefixed;
                i += 2;
            }
        }
    }
    ULONG result = 0;
    for (; i < n; ++i) {
        int d = digit_value(at(i));
        if (d >= static_cast<int>(base))
            break;
        result = result * base + static_cast<ULONG>(d);
    }
    if (value == nullptr)
        return STATUS_ACCESS_VIOLATION;
    *value = negative ? 0U - result : result;
    return STATUS_SUCCESS;
}

// Digits of `value` in `base` (2..16), upper case; returns the count written to out[0..32].
size_t format_integer(ULONG value, ULONG base, char* out)
{
    char reversed[33];
    size_t n = 0;
    do {
        reversed[n++] = "0123456789ABCDEF"[value % base];
        value /= base;
    } while (value != 0);
    for (size_t i = 0; i < n; ++i)
        out[i] = reversed[n - 1 - i];
    return n;
}

// ---- GUIDs ----

int hex_value(WCHAR c)
{
    if (c >= u'0' && c <= u'9')
        return c - u'0';
    if (c >= u'a' && c <= u'f')
        return c - u'a' + 10;
    if (c >= u'A' && c <= u'F')
        return c - u'A' + 10;
    return -1;
}

// Reads `digits` hex digits at s[pos]; false if any is not a hex digit.
bool read_hex(const WCHAR* s, size_t pos, int digits, ULONG& value)
{
    value = 0;
    for (int i = 0; i < digits; ++i) {
        int v = hex_value(s[pos + i]);
        if (v < 0)
            return false;
        value = (value << 4) | static_cast<ULONG>(v);
    }
    return true;
}

}  // namespace

}  // namespace iosim::rtl

using namespace iosim::rtl;

extern "C" {

// ---- ANSI (UTF-8) <-> Unicode ----

ULONG RtlxAnsiStringToUnicodeSize(PCANSI_STRING AnsiString)
{
    size_t units = utf8_to_utf16(AnsiString->Buffer, AnsiString->Length, nullptr);
    return static_cast<ULONG>((units + 1) * sizeof(WCHAR));
}

ULONG RtlxUnicodeStringToAnsiSize(PCUNICODE_STRING UnicodeString)
{
    size_t bytes = utf16_to_utf8(UnicodeString->Buffer, UnicodeString->Length / sizeof(WCHAR), nullptr, 0);
    return static_cast<ULONG>(bytes + 1);
}

NTSTATUS RtlAnsiStringToUnicodeString(PUNICODE_STRING DestinationString, PCANSI_STRING SourceString,
                                      BOOLEAN AllocateDestinationString)
{
    size_t units = utf8_to_utf16(SourceString->Buffer, SourceString->Length, nullptr);
    size_t size = (units + 1) * sizeof(WCHAR);  // with the NUL
    if (size > MAXUSHORT)
        return STATUS_INVALID_PARAMETER_2;
    if (AllocateDestinationString) {
        auto* buffer = static_cast<PWSTR>(string_alloc(size, __builtin_return_address(0)));
        if (buffer == nullptr)
            return STATUS_NO_MEMORY;
        DestinationString->Buffer = buffer;
        DestinationString->MaximumLength = static_cast<USHORT>(size);
    } else if (size > DestinationString->MaximumLength) {
        return STATUS_BUFFER_OVERFLOW;  // nothing converted, destination unchanged
    }
    utf8_to_utf16(SourceString->Buffer, SourceString->Length, DestinationString->Buffer);
    DestinationString->Buffer[units] = 0;
    DestinationString->Length = static_cast<USHORT>(units * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

NTSTATUS RtlUnicodeStringToAnsiString(PANSI_STRING DestinationString, PCUNICODE_STRING SourceString,
                                      BOOLEAN AllocateDestinationString)
{
    const size_t units = SourceString->Length / sizeof(WCHAR);
    size_t bytes = utf16_to_utf8(SourceString->Buffer, units, nullptr, 0);
    if (bytes + 1 > MAXUSHORT)
        return STATUS_INVALID_PARAMETER_2;
    NTSTATUS status = STATUS_SUCCESS;
    if (AllocateDestinationString) {
        auto* buffer = static_cast<PCHAR>(string_alloc(bytes + 1, __builtin_return_address(0)));
        if (buffer == nullptr)
            return STATUS_NO_MEMORY;
        DestinationString->Buffer = buffer;
        DestinationString->MaximumLength = static_cast<USHORT>(bytes + 1);
    } else if (bytes + 1 > DestinationString->MaximumLength) {
        // As Windows: convert as much as fits (whole characters), NUL-terminate, and report
        // the truncation.
        if (DestinationString->MaximumLength == 0)
            return STATUS_BUFFER_OVERFLOW;
        status = STATUS_BUFFER_OVERFLOW;
    }
    bytes = utf16_to_utf8(SourceString->Buffer, units, DestinationString->Buffer,
                          static_cast<size_t>(DestinationString->MaximumLength) - 1);
    DestinationString->Buffer[bytes] = 0;
    DestinationString->Length = static_cast<USHORT>(bytes);
    return status;
}

// ---- GUIDs: "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" ----

NTSTATUS RtlGUIDFromString(PCUNICODE_STRING GuidString, GUID* Guid)
{
    constexpr size_t kChars = 38;
    if (GuidString == nullptr || GuidString->Length != kChars * sizeof(WCHAR) || GuidString->Buffer == nullptr)
        return STATUS_INVALID_PARAMETER;
    const WCHAR* s = GuidString->Buffer;
    if (s[0] != u'{' || s[9] != u'-' || s[14] != u'-' || s[19] != u'-' || s[24] != u'-' || s[37] != u'}')
        return STATUS_INVALID_PARAMETER;
    GUID g{};
    ULONG v;
    if (!read_hex(s, 1, 8, v))
        return STATUS_INVALID_PARAMETER;
    g.Data1 = v;
    if (!read_hex(s, 10, 4, v))
        return STATUS_INVALID_PARAMETER;
    g.Data2 = static_cast<USHORT>(v);
    if (!read_hex(s, 15, 4, v))
        return STATUS_INVALID_PARAMETER;
    g.Data3 = static_cast<USHORT>(v);
    static constexpr size_t kByteAt[8] = {20, 22, 25, 27, 29, 31, 33, 35};
    for (int i = 0; i < 8; ++i) {
        if (!read_hex(s, kByteAt[i], 2, v))
            return STATUS_INVALID_PARAMETER;
        g.Data4[i] = static_cast<UCHAR>(v);
    }
    *Guid = g;
    return STATUS_SUCCESS;
}

NTSTATUS RtlStringFromGUID(const GUID* Guid, PUNICODE_STRING GuidString)
{
    char text[40];
    int n = std::snprintf(text, sizeof text, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
                          static_cast<unsigned>(Guid->Data1), Guid->Data2, Guid->Data3, Guid->Data4[0],
                          Guid->Data4[1], Guid->Data4[2], Guid->Data4[3], Guid->Data4[4], Guid->Data4[5],
                          Guid->Data4[6], Guid->Data4[7]);
    auto* buffer = static_cast<PWSTR>(string_alloc((n + 1) * sizeof(WCHAR), __builtin_return_address(0)));
    if (buffer == nullptr)
        return STATUS_NO_MEMORY;
    for (int i = 0; i <= n; ++i)
        buffer[i] = static_cast<WCHAR>(text[i]);
    GuidString->Buffer = buffer;
    GuidString->Length = static_cast<USHORT>(n * sizeof(WCHAR));
    GuidString->MaximumLength = static_cast<USHORT>((n + 1) * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

// ---- numbers ----

NTSTATUS RtlUnicodeStringToInteger(PCUNICODE_STRING String, ULONG Base, PULONG Value)
{
    // An odd Length ignores the last half character.
    return parse_integer(String->Buffer, String->Length / sizeof(WCHAR), Base, Value);
}

NTSTATUS RtlCharToInteger(PCSZ String, ULONG Base, PULONG Value)
{
    if (String == nullptr)
        return STATUS_ACCESS_VIOLATION;
    return parse_integer(String, std::strlen(String), Base, Value);
}

NTSTATUS RtlIntegerToChar(ULONG Value, ULONG Base, LONG OutputLength, PCHAR String)
{
    if (Base == 0)
        Base = 10;
    if (!valid_base(Base))
        return STATUS_INVALID_PARAMETER;
    char digits[33];
    size_t n = format_integer(Value, Base, digits);
    if (static_cast<LONG>(n) > OutputLength)
        return STATUS_BUFFER_OVERFLOW;
    if (String == nullptr)
        return STATUS_ACCESS_VIOLATION;
    std::memcpy(String, digits, n);
    if (static_cast<LONG>(n) < OutputLength)
        String[n] = '\0';
    return STATUS_SUCCESS;
}

NTSTATUS RtlIntegerToUnicodeString(ULONG Value, ULONG Base, PUNICODE_STRING String)
{
    if (Base == 0)
        Base = 10;
    if (!valid_base(Base))
        return STATUS_INVALID_PARAMETER;
    char digits[33];
    size_t n = format_integer(Value, Base, digits);
    if ((n + 1) * sizeof(WCHAR) > String->MaximumLength)
        return STATUS_BUFFER_OVERFLOW;
    for (size_t i = 0; i < n; ++i)
        String->Buffer[i] = static_cast<WCHAR>(digits[i]);
    String->Buffer[n] = 0;
    String->Length = static_cast<USHORT>(n * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

SIZE_T RtlCompareMemory(const void* Source1, const void* Source2, SIZE_T Length)
{
    const auto* a = static_cast<const unsigned char*>(Source1);
    const auto* b = static_cast<const unsigned char*>(Source2);
    SIZE_T i = 0;
    while (i < Length && a[i] == b[i])
        ++i;
    return i;
}

LARGE_INTEGER RtlConvertLongToLargeInteger(LONG SignedInteger)
{
    LARGE_INTEGER result;
    result.QuadPart = SignedInteger;
    return result;
}

LARGE_INTEGER RtlConvertUlongToLargeInteger(ULONG UnsignedInteger)
{
    LARGE_INTEGER result;
    result.QuadPart = static_cast<LONGLONG>(UnsignedInteger);
    return result;
}

LARGE_INTEGER RtlLargeIntegerAdd_iosim(LARGE_INTEGER Addend1, LARGE_INTEGER Addend2)
{
    LARGE_INTEGER result;
    // Two's complement wrap-around, without signed-overflow UB.
    result.QuadPart = static_cast<LONGLONG>(static_cast<ULONGLONG>(Addend1.QuadPart) +
                                            static_cast<ULONGLONG>(Addend2.QuadPart));
    return result;
}

}  // extern "C"
