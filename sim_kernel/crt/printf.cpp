// printf.cpp - the sprintf family with Windows formatting rules and Microsoft's
// buffer semantics (Windows sources reach these through iosim_crt.h's macros).
//
// Buffer rules, per function (len = length of the full output, count/size in chars):
//   vsnprintf_win, vsnwprintf_win  C99 snprintf: writes at most size-1 chars and a NUL,
//                                  returns len (iosim's own callers use these).
//   sprintf, vsprintf              no limit; writes everything and a NUL.
//   sprintf_s, swprintf_s          fits (len < size): written, returns len; otherwise
//                                  buf = "", errno ERANGE, returns -1. NULL buf/fmt or
//                                  size 0: errno EINVAL, returns -1.
//   _snprintf, _snwprintf          len < count: written with NUL; len == count: written
//                                  WITHOUT a NUL, returns len; len > count: count chars
//                                  written, no NUL, returns -1. NULL buf with count 0:
//                                  returns len (the size needed).
//   _snprintf_s                    at most `count` chars (or _TRUNCATE: what fits in size)
//                                  and always a NUL; truncation returns -1; output that
//                                  does not fit in size (count not _TRUNCATE): buf = "",
//                                  ERANGE, -1.
//   swprintf, vswprintf (ISO)      len < count: written, returns len; otherwise count-1
//                                  chars and a NUL are written and -1 is returned.
//   (_vsnwprintf is mapped to vswprintf by the shim, so it follows the ISO rule.)
// A format with an invalid conversion returns -1 (MSVC's invalid-parameter path) and,
// where the function would have written text, leaves "" in the buffer.
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "crt/format.h"
#include "nt.h"
#include "iosim_crt.h"

namespace iosim::crt {

namespace {

// Formats into `text`; false when the format is NULL or invalid.
bool render(std::string& text, const char* fmt, va_list ap) { return format_to(text, Flavor::User, fmt, ap); }
bool render(std::u16string& text, const char16_t* fmt, va_list ap) { return format_wide_to(text, fmt, ap); }

template <typename C>
void clear(C* buf, size_t size)
{
    if (buf != nullptr && size > 0)
        buf[0] = 0;
}

template <typename C>
int fail(C* buf, size_t size, int error)
{
    clear(buf, size);
    errno = error;
    return -1;
}

template <typename C>
int length_result(const std::basic_string<C>& text)
{
    if (text.size() > static_cast<size_t>(INT_MAX)) {
        errno = EOVERFLOW;
        return -1;
    }
    return static_cast<int>(text.size());
}

template <typename C>
void copy(C* buf, const std::basic_string<C>& text, size_t n)
{
    if (n > 0)
        std::memcpy(buf, text.data(), n * sizeof(C));
}

// C99 vsnprintf.
template <typename C>
int c99_snprintf(C* buf, size_t size, const C* fmt, va_list ap)
{
    if (fmt == nullptr || (buf == nullptr && size > 0))
        return fail(buf, size, EINVAL);
    std::basic_string<C> text;
    if (!render(text, fmt, ap))
        return fail(buf, size, EINVAL);
    if (size > 0) {
        size_t n = text.size() < size ? text.size() : size - 1;
        copy(buf, text, n);
        buf[n] = 0;
    }
    return length_result(text);
}

// sprintf_s / swprintf_s.
template <typename C>
int secure_sprintf(C* buf, size_t size, const C* fmt, va_list ap)
{
    if (buf == nullptr || size == 0 || fmt == nullptr)
        return fail(buf, size, EINVAL);
    std::basic_string<C> text;
    if (!render(text, fmt, ap))
        return fail(buf, size, EINVAL);
    if (text.size() >= size)
        return fail(buf, size, ERANGE);
    copy(buf, text, text.size());
    buf[text.size()] = 0;
    return length_result(text);
}

// _snprintf / _snwprintf: the legacy rule, no NUL when the output fills the buffer.
template <typename C>
int legacy_snprintf(C* buf, size_t count, const C* fmt, va_list ap)
{
    if (fmt == nullptr || (buf == nullptr && count > 0)) {
        errno = EINVAL;
        return -1;
    }
    std::basic_string<C> text;
    if (!render(text, fmt, ap))
        return fail(buf, count, EINVAL);
    if (buf == nullptr)
        return length_result(text);  // count == 0: the size needed
    if (text.size() < count) {
        copy(buf, text, text.size());
        buf[text.size()] = 0;
        return length_result(text);
    }
    copy(buf, text, count);
    return text.size() == count ? length_result(text) : -1;
}

// swprintf / vswprintf (ISO form): always a NUL, -1 when truncated.
template <typename C>
int iso_snprintf(C* buf, size_t count, const C* fmt, va_list ap)
{
    if (buf == nullptr || count == 0 || fmt == nullptr)
        return fail(buf, count, EINVAL);
    std::basic_string<C> text;
    if (!render(text, fmt, ap))
        return fail(buf, count, EINVAL);
    if (text.size() >= count) {
        copy(buf, text, count - 1);
        buf[count - 1] = 0;
        return -1;
    }
    copy(buf, text, text.size());
    buf[text.size()] = 0;
    return length_result(text);
}

int secure_snprintf(char* buf, size_t size, size_t count, const char* fmt, va_list ap)
{
    if (buf == nullptr || size == 0 || fmt == nullptr)
        return fail(buf, size, EINVAL);
    std::string text;
    if (!render(text, fmt, ap))
        return fail(buf, size, EINVAL);
    if (count == _TRUNCATE) {
        if (text.size() < size) {
            copy(buf, text, text.size());
            buf[text.size()] = 0;
            return length_result(text);
        }
        copy(buf, text, size - 1);
        buf[size - 1] = 0;
        return -1;
    }
    size_t n = text.size() < count ? text.size() : count;
    if (n >= size)
        return fail(buf, size, ERANGE);
    copy(buf, text, n);
    buf[n] = 0;
    return n < text.size() ? -1 : length_result(text);
}

int unbounded_sprintf(char* buf, const char* fmt, va_list ap)
{
    if (buf == nullptr || fmt == nullptr) {
        errno = EINVAL;
        return -1;
    }
    std::string text;
    if (!render(text, fmt, ap))
        return fail(buf, 1, EINVAL);
    copy(buf, text, text.size());
    buf[text.size()] = 0;
    return length_result(text);
}

}  // namespace

}  // namespace iosim::crt

using namespace iosim::crt;

extern "C" {

int iosim_vsnprintf_win(char* buf, size_t size, const char* fmt, va_list ap) { return c99_snprintf(buf, size, fmt, ap); }

int iosim_vsprintf(char* buf, const char* fmt, va_list ap) { return unbounded_sprintf(buf, fmt, ap); }

int iosim_sprintf(char* buf, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = unbounded_sprintf(buf, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_vsprintf_s(char* buf, size_t size, const char* fmt, va_list ap) { return secure_sprintf(buf, size, fmt, ap); }

int iosim_sprintf_s(char* buf, size_t size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = secure_sprintf(buf, size, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_vsnprintf_ms(char* buf, size_t size, const char* fmt, va_list ap) { return legacy_snprintf(buf, size, fmt, ap); }

int iosim_snprintf_ms(char* buf, size_t size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = legacy_snprintf(buf, size, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_snprintf_s(char* buf, size_t size, size_t count, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = secure_snprintf(buf, size, count, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_vsnwprintf_win(WCHAR* buf, size_t count, const WCHAR* fmt, va_list ap)
{
    return c99_snprintf<char16_t>(buf, count, fmt, ap);
}

int iosim_vswprintf(WCHAR* buf, size_t count, const WCHAR* fmt, va_list ap)
{
    return iso_snprintf<char16_t>(buf, count, fmt, ap);
}

int iosim_swprintf(WCHAR* buf, size_t count, const WCHAR* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = iso_snprintf<char16_t>(buf, count, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_swprintf_s(WCHAR* buf, size_t count, const WCHAR* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = secure_sprintf<char16_t>(buf, count, fmt, ap);
    va_end(ap);
    return r;
}

int iosim_snwprintf(WCHAR* buf, size_t count, const WCHAR* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = legacy_snprintf<char16_t>(buf, count, fmt, ap);
    va_end(ap);
    return r;
}

}  // extern "C"
