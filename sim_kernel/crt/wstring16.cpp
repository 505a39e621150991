// wstring16.cpp - the wcs* string functions over 16-bit WCHAR.
//
// glibc's wcs* functions walk 32-bit wchar_t, so Windows sources (16-bit WCHAR) must
// never reach them: iosim_crt.h maps every name here instead. Strings are sequences of
// UTF-16 code units; a surrogate pair is two units, as on Windows.
//
// Rules:
//   - Case mapping covers ASCII and Latin-1 (U+00C0..U+00DE <-> U+00E0..U+00FE, except
//     the multiplication/division signs, and U+00FF <-> U+0178); everything else maps to
//     itself. towlower/towupper of WEOF (0xFFFF) return it unchanged.
//   - wcscmp/wcsncmp compare code units as unsigned numbers and return -1, 0 or 1;
//     _wcsicmp/_wcsnicmp return the difference of the lower-cased units and
//     _NLSCMPERROR (INT_MAX, errno EINVAL) for a NULL argument.
//   - iswdigit: '0'..'9'. iswspace: U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680,
//     U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. iswalpha: ASCII and
//     Latin-1 letters only.
//   - wcstol/wcstoul have Windows' 32-bit long range: overflow clamps to LONG_MAX/
//     LONG_MIN (or ULONG_MAX = 0xFFFFFFFF) with errno ERANGE; _wtoi saturates the same
//     way. The _s functions follow the same errno_t rules as narrow.cpp.
//   - _wcsdup allocates with malloc (the caller frees with free).
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "nt.h"
#include "iosim_crt.h"

namespace iosim::crt {

namespace {

constexpr int kNlsCompareError = INT_MAX;
constexpr int kWeof = 0xFFFF;

size_t length(const WCHAR* s)
{
    size_t n = 0;
    while (s[n] != 0)
        ++n;
    return n;
}

size_t bounded_length(const WCHAR* s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != 0)
        ++n;
    return n;
}

int lower(int c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7))
        return c + 0x20;
    if (c == 0x178)
        return 0xFF;
    return c;
}

int upper(int c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7))
        return c - 0x20;
    if (c == 0xFF)
        return 0x178;
    return c;
}

errno_t fail(errno_t error)
{
    errno = error;
    return error;
}

int digit_value(WCHAR c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

// Parses like strtoul: returns the magnitude (saturated at `max_magnitude`), the sign
// and where parsing stopped. `overflow` is set if the magnitude exceeded the maximum.
unsigned long long parse_integer(const WCHAR* s, WCHAR** end, int base, unsigned long long max_magnitude,
                                 bool* negative, bool* overflow)
{
    *negative = false;
    *overflow = false;
    if (end != nullptr)
        *end = const_cast<WCHAR*>(s);
    if (s == nullptr || base < 0 || base == 1 || base > 36) {
        errno = EINVAL;
        return 0;
    }
    const WCHAR* p = s;
    while (iosim_iswspace(*p))
        ++p;
    if (*p == '+' || *p == '-')
        *negative = (*p++ == '-');
    bool hex_prefix = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16;
    if ((base == 0 || base == 16) && hex_prefix) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = (p[0] == '0') ? 8 : 10;
    }
    unsigned long long value = 0;
    const WCHAR* digits = p;
    for (int d; (d = digit_value(*p)) < base; ++p) {
        if (*overflow)
            continue;
        if (value > (max_magnitude - static_cast<unsigned>(d)) / static_cast<unsigned>(base))
            *overflow = true;
        else
            value = value * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    }
    if (p == digits)
        return 0;  // no digits: *end stays at the start
    if (end != nullptr)
        *end = const_cast<WCHAR*>(p);
    return value;
}

}  // namespace

}  // namespace iosim::crt

using namespace iosim::crt;

extern "C" {

size_t iosim_wcslen(const WCHAR* s) { return length(s); }

size_t iosim_wcsnlen(const WCHAR* s, size_t max) { return bounded_length(s, max); }

WCHAR* iosim_wcscpy(WCHAR* dst, const WCHAR* src)
{
    std::memmove(dst, src, (length(src) + 1) * sizeof(WCHAR));
    return dst;
}

WCHAR* iosim_wcsncpy(WCHAR* dst, const WCHAR* src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i] != 0; ++i)
        dst[i] = src[i];
    for (; i < n; ++i)
        dst[i] = 0;  // pads with NULs, and adds none when src is n long or longer
    return dst;
}

WCHAR* iosim_wcscat(WCHAR* dst, const WCHAR* src)
{
    iosim_wcscpy(dst + length(dst), src);
    return dst;
}

WCHAR* iosim_wcsncat(WCHAR* dst, const WCHAR* src, size_t n)
{
    WCHAR* p = dst + length(dst);
    size_t i = 0;
    for (; i < n && src[i] != 0; ++i)
        p[i] = src[i];
    p[i] = 0;
    return dst;
}

int iosim_wcscmp(const WCHAR* a, const WCHAR* b)
{
    for (; *a == *b; ++a, ++b)
        if (*a == 0)
            return 0;
    return *a < *b ? -1 : 1;
}

int iosim_wcsncmp(const WCHAR* a, const WCHAR* b, size_t n)
{
    for (; n > 0; --n, ++a, ++b) {
        if (*a != *b)
            return *a < *b ? -1 : 1;
        if (*a == 0)
            return 0;
    }
    return 0;
}

int iosim_wcsicmp(const WCHAR* a, const WCHAR* b)
{
    if (a == nullptr || b == nullptr) {
        errno = EINVAL;
        return kNlsCompareError;
    }
    for (;; ++a, ++b) {
        int ca = lower(*a);
        int cb = lower(*b);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

int iosim_wcsnicmp(const WCHAR* a, const WCHAR* b, size_t n)
{
    if (n == 0)
        return 0;
    if (a == nullptr || b == nullptr) {
        errno = EINVAL;
        return kNlsCompareError;
    }
    for (; n > 0; --n, ++a, ++b) {
        int ca = lower(*a);
        int cb = lower(*b);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
    return 0;
}

WCHAR* iosim_wcschr(const WCHAR* s, WCHAR c)
{
    for (;; ++s) {
        if (*s == c)
            return const_cast<WCHAR*>(s);
        if (*s == 0)
            return nullptr;
    }
}

WCHAR* iosim_wcsrchr(const WCHAR* s, WCHAR c)
{
    const WCHAR* found = nullptr;
    for (;; ++s) {
        if (*s == c)
            found = s;
        if (*s == 0)
            return const_cast<WCHAR*>(found);
    }
}

WCHAR* iosim_wcsstr(const WCHAR* s, const WCHAR* sub)
{
    size_t n = length(sub);
    if (n == 0)
        return const_cast<WCHAR*>(s);
    for (; *s != 0; ++s)
        if (*s == *sub && iosim_wcsncmp(s, sub, n) == 0)
            return const_cast<WCHAR*>(s);
    return nullptr;
}

WCHAR* iosim_wcslwr(WCHAR* s)
{
    if (s == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    for (WCHAR* p = s; *p != 0; ++p)
        *p = static_cast<WCHAR>(lower(*p));
    return s;
}

WCHAR* iosim_wcsupr(WCHAR* s)
{
    if (s == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    for (WCHAR* p = s; *p != 0; ++p)
        *p = static_cast<WCHAR>(upper(*p));
    return s;
}

WCHAR* iosim_wcsdup(const WCHAR* s)
{
    if (s == nullptr)
        return nullptr;
    size_t bytes = (length(s) + 1) * sizeof(WCHAR);
    auto* copy = static_cast<WCHAR*>(std::malloc(bytes));
    if (copy == nullptr) {
        errno = ENOMEM;
        return nullptr;
    }
    std::memcpy(copy, s, bytes);
    return copy;
}

errno_t iosim_wcscpy_s(WCHAR* dst, rsize_t size, const WCHAR* src)
{
    if (dst == nullptr || size == 0)
        return fail(EINVAL);
    if (src == nullptr) {
        dst[0] = 0;
        return fail(EINVAL);
    }
    size_t n = bounded_length(src, size);
    if (n >= size) {
        dst[0] = 0;
        return fail(ERANGE);
    }
    std::memcpy(dst, src, (n + 1) * sizeof(WCHAR));
    return 0;
}

errno_t iosim_wcsncpy_s(WCHAR* dst, rsize_t size, const WCHAR* src, rsize_t count)
{
    if (count == 0 && dst == nullptr && size == 0)
        return 0;
    if (dst == nullptr || size == 0)
        return fail(EINVAL);
    if (count == 0) {
        dst[0] = 0;
        return 0;
    }
    if (src == nullptr) {
        dst[0] = 0;
        return fail(EINVAL);
    }
    size_t n = bounded_length(src, count == _TRUNCATE ? size : count);
    if (n < size) {
        std::memcpy(dst, src, n * sizeof(WCHAR));
        dst[n] = 0;
        return 0;
    }
    if (count == _TRUNCATE) {
        std::memcpy(dst, src, (size - 1) * sizeof(WCHAR));
        dst[size - 1] = 0;
        return STRUNCATE;
    }
    dst[0] = 0;
    return fail(ERANGE);
}

errno_t iosim_wcscat_s(WCHAR* dst, rsize_t size, const WCHAR* src)
{
    if (dst == nullptr || size == 0)
        return fail(EINVAL);
    if (src == nullptr) {
        dst[0] = 0;
        return fail(EINVAL);
    }
    size_t used = bounded_length(dst, size);
    if (used == size) {
        dst[0] = 0;
        return fail(EINVAL);
    }
    size_t n = length(src);
    if (used + n >= size) {
        dst[0] = 0;
        return fail(ERANGE);
    }
    std::memcpy(dst + used, src, (n + 1) * sizeof(WCHAR));
    return 0;
}

long iosim_wcstol(const WCHAR* s, WCHAR** end, int base)
{
    bool negative;
    bool overflow;
    // LONG_MIN's magnitude is one more than LONG_MAX's (32-bit Windows long).
    unsigned long long limit = 0x80000000ULL;
    unsigned long long v = parse_integer(s, end, base, limit, &negative, &overflow);
    if (overflow || (!negative && v > 0x7FFFFFFFULL)) {
        errno = ERANGE;
        return negative ? INT32_MIN : INT32_MAX;
    }
    return negative ? -static_cast<long>(v) : static_cast<long>(v);
}

unsigned long iosim_wcstoul(const WCHAR* s, WCHAR** end, int base)
{
    bool negative;
    bool overflow;
    unsigned long long v = parse_integer(s, end, base, 0xFFFFFFFFULL, &negative, &overflow);
    if (overflow) {
        errno = ERANGE;
        return 0xFFFFFFFFUL;
    }
    uint32_t result = static_cast<uint32_t>(v);
    return negative ? static_cast<uint32_t>(0U - result) : result;  // "-1" -> 4294967295
}

int iosim_wtoi(const WCHAR* s)
{
    if (s == nullptr) {
        errno = EINVAL;
        return 0;
    }
    return static_cast<int>(iosim_wcstol(s, nullptr, 10));
}

WCHAR* iosim_itow(int value, WCHAR* buf, int radix)
{
    char text[66];
    iosim_itoa(value, text, radix);
    if (buf == nullptr)
        return nullptr;
    size_t i = 0;
    for (; text[i] != 0; ++i)
        buf[i] = static_cast<WCHAR>(text[i]);
    buf[i] = 0;
    return buf;
}

int iosim_towlower(int c) { return c == kWeof ? c : lower(c); }

int iosim_towupper(int c) { return c == kWeof ? c : upper(c); }

int iosim_iswdigit(int c) { return c >= '0' && c <= '9'; }

int iosim_iswspace(int c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

int iosim_iswalpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == 0xAA || c == 0xB5 || c == 0xBA ||
           (c >= 0xC0 && c <= 0xFF && c != 0xD7 && c != 0xF7);
}

}  // extern "C"
