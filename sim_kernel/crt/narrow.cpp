// narrow.cpp - the Microsoft narrow-string extensions glibc lacks: case-insensitive
// compares, in-place case changes, the "secure" _s copies and the integer-to-text
// conversions (_itoa and friends).
//
// Rules, as documented by Microsoft for the "C" locale:
//   - Case mapping is ASCII only. _stricmp/_strnicmp compare the lower-cased bytes as
//     unsigned and return their difference; a NULL argument returns _NLSCMPERROR
//     (INT_MAX) with errno EINVAL.
//   - The _s functions return an errno_t and also set errno: EINVAL for a NULL
//     destination or a zero size (destination untouched), for a NULL source (dst[0]
//     set to 0; memcpy_s zeroes the whole destination); ERANGE when the result does not
//     fit (dst[0] = 0; memcpy_s zeroes the destination). strncpy_s with count _TRUNCATE
//     copies what fits and returns STRUNCATE. memmove_s never modifies the destination
//     on error. A zero count is always success for memcpy_s/memmove_s.
//   - _itoa/_i64toa print a '-' only in radix 10; in other radixes a negative value
//     is shown as its two's complement (32 bits for _itoa, 64 for _i64toa). Digits
//     above 9 are lower case. _ultoa takes a Windows unsigned long: 32 bits. An invalid
//     radix (outside 2..36) leaves "" and sets errno EINVAL.
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "nt.h"
#include "iosim_crt.h"

namespace iosim::crt {

namespace {

constexpr int kNlsCompareError = INT_MAX;  // _NLSCMPERROR

int ascii_lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }
int ascii_upper(unsigned char c) { return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c; }

errno_t fail(errno_t error)
{
    errno = error;
    return error;
}

// Writes `magnitude` in `radix` after an optional '-' sign; buf must hold 66 chars.
char* write_number(char* buf, unsigned long long magnitude, bool negative, int radix)
{
    if (buf == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    if (radix < 2 || radix > 36) {
        buf[0] = 0;
        errno = EINVAL;
        return buf;
    }
    char digits[65];
    size_t n = 0;
    do {
        unsigned d = static_cast<unsigned>(magnitude % static_cast<unsigned>(radix));
        digits[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
        magnitude /= static_cast<unsigned>(radix);
    } while (magnitude != 0);
    char* p = buf;
    if (negative)
        *p++ = '-';
    while (n > 0)
        *p++ = digits[--n];
    *p = 0;
    return buf;
}

}  // namespace

}  // namespace iosim::crt

using namespace iosim::crt;

extern "C" {

int iosim_stricmp(const char* a, const char* b)
{
    if (a == nullptr || b == nullptr) {
        errno = EINVAL;
        return kNlsCompareError;
    }
    for (;; ++a, ++b) {
        int ca = ascii_lower(static_cast<unsigned char>(*a));
        int cb = ascii_lower(static_cast<unsigned char>(*b));
        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

int iosim_strnicmp(const char* a, const char* b, size_t n)
{
    if (n == 0)
        return 0;
    if (a == nullptr || b == nullptr) {
        errno = EINVAL;
        return kNlsCompareError;
    }
    for (; n > 0; --n, ++a, ++b) {
        int ca = ascii_lower(static_cast<unsigned char>(*a));
        int cb = ascii_lower(static_cast<unsigned char>(*b));
        if (ca != cb || ca == 0)
            return ca - cb;
    }
    return 0;
}

char* iosim_strlwr(char* s)
{
    if (s == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    for (char* p = s; *p != 0; ++p)
        *p = static_cast<char>(ascii_lower(static_cast<unsigned char>(*p)));
    return s;
}

char* iosim_strupr(char* s)
{
    if (s == nullptr) {
        errno = EINVAL;
        return nullptr;
    }
    for (char* p = s; *p != 0; ++p)
        *p = static_cast<char>(ascii_upper(static_cast<unsigned char>(*p)));
    return s;
}

errno_t iosim_strcpy_s(char* dst, rsize_t size, const char* src)
{
    if (dst == nullptr || size == 0)
        return fail(EINVAL);
    if (src == nullptr) {
        dst[0] = 0;
        return fail(EINVAL);
    }
    size_t n = strnlen(src, size);
    if (n >= size) {
        dst[0] = 0;
        return fail(ERANGE);
    }
    std::memcpy(dst, src, n + 1);
    return 0;
}

errno_t iosim_strncpy_s(char* dst, rsize_t size, const char* src, rsize_t count)
{
    if (count == 0 && dst == nullptr && size == 0)
        return 0;  // documented special case: nothing to do
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
    size_t limit = (count == _TRUNCATE) ? size : count;
    size_t n = strnlen(src, limit);  // chars to copy, bounded by count
    if (n < size) {
        std::memcpy(dst, src, n);
        dst[n] = 0;
        return 0;
    }
    if (count == _TRUNCATE) {
        std::memcpy(dst, src, size - 1);
        dst[size - 1] = 0;
        return STRUNCATE;
    }
    dst[0] = 0;
    return fail(ERANGE);
}

errno_t iosim_strcat_s(char* dst, rsize_t size, const char* src)
{
    if (dst == nullptr || size == 0)
        return fail(EINVAL);
    if (src == nullptr) {
        dst[0] = 0;
        return fail(EINVAL);
    }
    size_t used = strnlen(dst, size);
    if (used == size) {  // destination not terminated within its size
        dst[0] = 0;
        return fail(EINVAL);
    }
    size_t n = std::strlen(src);
    if (used + n >= size) {
        dst[0] = 0;
        return fail(ERANGE);
    }
    std::memcpy(dst + used, src, n + 1);
    return 0;
}

errno_t iosim_memcpy_s(void* dst, rsize_t size, const void* src, rsize_t count)
{
    if (count == 0)
        return 0;
    if (dst == nullptr)
        return fail(EINVAL);
    if (src == nullptr) {
        std::memset(dst, 0, size);
        return fail(EINVAL);
    }
    if (size < count) {
        std::memset(dst, 0, size);
        return fail(ERANGE);
    }
    std::memcpy(dst, src, count);
    return 0;
}

errno_t iosim_memmove_s(void* dst, rsize_t size, const void* src, rsize_t count)
{
    if (count == 0)
        return 0;
    if (dst == nullptr || src == nullptr)
        return fail(EINVAL);
    if (size < count)
        return fail(ERANGE);
    std::memmove(dst, src, count);
    return 0;
}

char* iosim_itoa(int value, char* buf, int radix)
{
    if (radix == 10 && value < 0)
        return write_number(buf, 0ULL - static_cast<unsigned long long>(static_cast<long long>(value)), true, radix);
    return write_number(buf, static_cast<uint32_t>(value), false, radix);
}

char* iosim_ultoa(unsigned long value, char* buf, int radix)
{
    return write_number(buf, static_cast<uint32_t>(value), false, radix);  // ULONG is 32 bits
}

char* iosim_i64toa(long long value, char* buf, int radix)
{
    if (radix == 10 && value < 0)
        return write_number(buf, 0ULL - static_cast<unsigned long long>(value), true, radix);
    return write_number(buf, static_cast<unsigned long long>(value), false, radix);
}

char* iosim_ui64toa(unsigned long long value, char* buf, int radix) { return write_number(buf, value, false, radix); }

}  // extern "C"
