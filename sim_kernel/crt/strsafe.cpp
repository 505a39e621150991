// strsafe.cpp - the safe string functions of strsafe.h (apps: StringCb* / StringCch*,
// HRESULT) and ntstrsafe.h (drivers: RtlStringCb* / RtlStringCch* / RtlUnicodeString*,
// NTSTATUS).
//
// On Windows both families are inline functions in their headers; iosim exports them
// from libiosim_kernel instead, so a module's reference resolves when it loads. Both
// families share one set of templates over the character type (char, or WCHAR, which
// is char16_t here) that report ok / truncated / invalid; thin extern "C" wrappers map
// that to the HRESULT or NTSTATUS each header documents. Formatting goes through
// iosim_vsnprintf_win / iosim_vsnwprintf_win (Windows printf rules); whether those
// return C99-style lengths or Microsoft-style -1 on overflow, the result is checked the
// same way here: the last character of the buffer is forced to NUL and a result that
// did not fit is reported as truncation.

#include "nt.h"

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <vector>

#include "iosim_crt.h"
#include "ntstrsafe.h"
#include "../../shim/um/strsafe.h" // user-mode header; shim/um is not on the kernel's include path

namespace {

enum class Outcome { ok, truncated, invalid };

constexpr size_t kMaxCch = STRSAFE_MAX_CCH;
static_assert(STRSAFE_MAX_CCH == NTSTRSAFE_MAX_CCH, "the two families share their limits");
constexpr size_t kMaxUnicodeStringCch = NTSTRSAFE_UNICODE_STRING_MAX_CCH;

bool valid_dest(const void *dest, size_t cch) { return dest != nullptr && cch > 0 && cch <= kMaxCch; }

// Characters before the first NUL, looking at no more than 'max'; returns max if none.
template <class C> size_t bounded_length(const C *s, size_t max)
{
    size_t n = 0;
    if (s == nullptr)
        return 0;
    while (n < max && s[n] != C(0))
        ++n;
    return n;
}

// Copies at most max_src characters of src (stopping at its NUL) into dest[0..cch), always
// NUL-terminating. dest/cch are already validated.
template <class C> Outcome copy_into(C *dest, size_t cch, const C *src, size_t max_src)
{
    size_t i = 0;
    if (src != nullptr) {
        while (i < max_src && src[i] != C(0)) {
            if (i == cch - 1) {
                dest[i] = C(0);
                return Outcome::truncated;
            }
            dest[i] = src[i];
            ++i;
        }
    }
    dest[i] = C(0);
    return Outcome::ok;
}

template <class C> Outcome copy_n(C *dest, size_t cch, const C *src, size_t max_src)
{
    if (!valid_dest(dest, cch) || max_src > kMaxCch) {
        if (dest != nullptr && cch > 0 && cch <= kMaxCch)
            dest[0] = C(0);
        return Outcome::invalid;
    }
    return copy_into(dest, cch, src, max_src);
}

template <class C> Outcome cat_n(C *dest, size_t cch, const C *src, size_t max_src)
{
    if (!valid_dest(dest, cch) || max_src > kMaxCch)
        return Outcome::invalid;
    size_t used = bounded_length(dest, cch);
    if (used == cch) // no terminator inside the buffer: not a string
        return Outcome::invalid;
    return copy_into(dest + used, cch - used, src, max_src);
}

int format(char *buf, size_t cch, const char *fmt, va_list ap) { return iosim_vsnprintf_win(buf, cch, fmt, ap); }
int format(WCHAR *buf, size_t cch, const WCHAR *fmt, va_list ap) { return iosim_vsnwprintf_win(buf, cch, fmt, ap); }

template <class C> Outcome vprintf_into(C *dest, size_t cch, const C *fmt, va_list ap)
{
    if (!valid_dest(dest, cch) || fmt == nullptr) {
        if (dest != nullptr && cch > 0 && cch <= kMaxCch)
            dest[0] = C(0);
        return Outcome::invalid;
    }
    int written = format(dest, cch, fmt, ap);
    dest[cch - 1] = C(0);
    if (written < 0 || static_cast<size_t>(written) >= cch)
        return Outcome::truncated;
    return Outcome::ok;
}

template <class C> Outcome length_of(const C *s, size_t cch_max, size_t *out)
{
    size_t n = (s == nullptr || cch_max > kMaxCch) ? cch_max : bounded_length(s, cch_max);
    if (s == nullptr || cch_max > kMaxCch || n == cch_max) {
        if (out != nullptr)
            *out = 0;
        return Outcome::invalid;
    }
    if (out != nullptr)
        *out = n;
    return Outcome::ok;
}

HRESULT to_hresult(Outcome o)
{
    switch (o) {
    case Outcome::ok:
        return S_OK;
    case Outcome::truncated:
        return STRSAFE_E_INSUFFICIENT_BUFFER;
    default:
        return STRSAFE_E_INVALID_PARAMETER;
    }
}

NTSTATUS to_ntstatus(Outcome o)
{
    switch (o) {
    case Outcome::ok:
        return STATUS_SUCCESS;
    case Outcome::truncated:
        return STATUS_BUFFER_OVERFLOW;
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

// Byte counts to character counts; the Cb forms of the W functions use whole WCHARs.
constexpr size_t wcch(size_t cb) { return cb / sizeof(WCHAR); }

// ---- UNICODE_STRING helpers ----
bool valid_unicode_string(PCUNICODE_STRING s)
{
    if (s == nullptr)
        return false;
    if ((s->Length % sizeof(WCHAR)) != 0 || (s->MaximumLength % sizeof(WCHAR)) != 0)
        return false;
    if (s->Length > s->MaximumLength || s->MaximumLength > kMaxUnicodeStringCch * sizeof(WCHAR))
        return false;
    if (s->Buffer == nullptr && s->MaximumLength != 0)
        return false;
    return true;
}

// Writes src[0..src_cch) at character offset 'at' of dest, as much as fits.
NTSTATUS unicode_store(PUNICODE_STRING dest, size_t at, const WCHAR *src, size_t src_cch)
{
    size_t capacity = dest->MaximumLength / sizeof(WCHAR);
    if (capacity == 0 && src_cch > 0)
        return STATUS_INVALID_PARAMETER;
    size_t room = capacity - at;
    size_t n = std::min(src_cch, room);
    if (n > 0)
        std::memmove(dest->Buffer + at, src, n * sizeof(WCHAR));
    dest->Length = static_cast<USHORT>((at + n) * sizeof(WCHAR));
    return n < src_cch ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS unicode_vprintf(PUNICODE_STRING dest, const WCHAR *fmt, va_list ap)
{
    if (!valid_unicode_string(dest) || fmt == nullptr)
        return STATUS_INVALID_PARAMETER;
    size_t capacity = dest->MaximumLength / sizeof(WCHAR);
    std::vector<WCHAR> tmp(capacity + 1);
    int written = format(tmp.data(), tmp.size(), fmt, ap);
    tmp[capacity] = WCHAR(0);
    size_t n = bounded_length(tmp.data(), capacity);
    bool truncated = written < 0 || static_cast<size_t>(written) > capacity;
    if (capacity == 0 && written != 0)
        return STATUS_INVALID_PARAMETER;
    if (n > 0)
        std::memcpy(dest->Buffer, tmp.data(), n * sizeof(WCHAR));
    dest->Length = static_cast<USHORT>(n * sizeof(WCHAR));
    return truncated ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

} // namespace

extern "C" {

// ===================== strsafe.h (HRESULT) =====================

HRESULT WINAPI StringCchCopyA(STRSAFE_LPSTR d, size_t cch, STRSAFE_LPCSTR s) { return to_hresult(copy_n(d, cch, s, kMaxCch)); }
HRESULT WINAPI StringCchCopyW(STRSAFE_LPWSTR d, size_t cch, STRSAFE_LPCWSTR s) { return to_hresult(copy_n(d, cch, s, kMaxCch)); }
HRESULT WINAPI StringCchCopyNA(STRSAFE_LPSTR d, size_t cch, STRSAFE_PCNZCH s, size_t n) { return to_hresult(copy_n(d, cch, s, n)); }
HRESULT WINAPI StringCchCopyNW(STRSAFE_LPWSTR d, size_t cch, STRSAFE_PCNZWCH s, size_t n) { return to_hresult(copy_n(d, cch, s, n)); }
HRESULT WINAPI StringCchCatA(STRSAFE_LPSTR d, size_t cch, STRSAFE_LPCSTR s) { return to_hresult(cat_n(d, cch, s, kMaxCch)); }
HRESULT WINAPI StringCchCatW(STRSAFE_LPWSTR d, size_t cch, STRSAFE_LPCWSTR s) { return to_hresult(cat_n(d, cch, s, kMaxCch)); }
HRESULT WINAPI StringCchCatNA(STRSAFE_LPSTR d, size_t cch, STRSAFE_PCNZCH s, size_t n) { return to_hresult(cat_n(d, cch, s, n)); }
HRESULT WINAPI StringCchCatNW(STRSAFE_LPWSTR d, size_t cch, STRSAFE_PCNZWCH s, size_t n) { return to_hresult(cat_n(d, cch, s, n)); }
HRESULT WINAPI StringCchVPrintfA(STRSAFE_LPSTR d, size_t cch, STRSAFE_LPCSTR f, va_list ap) { return to_hresult(vprintf_into(d, cch, f, ap)); }
HRESULT WINAPI StringCchVPrintfW(STRSAFE_LPWSTR d, size_t cch, STRSAFE_LPCWSTR f, va_list ap) { return to_hresult(vprintf_into(d, cch, f, ap)); }
HRESULT WINAPI StringCchLengthA(STRSAFE_PCNZCH s, size_t max, size_t *out) { return to_hresult(length_of(s, max, out)); }
HRESULT WINAPI StringCchLengthW(STRSAFE_PCNZWCH s, size_t max, size_t *out) { return to_hresult(length_of(s, max, out)); }

HRESULT WINAPIV StringCchPrintfA(STRSAFE_LPSTR d, size_t cch, STRSAFE_LPCSTR f, ...)
{
    va_list ap;
    va_start(ap, f);
    HRESULT hr = to_hresult(vprintf_into(d, cch, f, ap));
    va_end(ap);
    return hr;
}
HRESULT WINAPIV StringCchPrintfW(STRSAFE_LPWSTR d, size_t cch, STRSAFE_LPCWSTR f, ...)
{
    va_list ap;
    va_start(ap, f);
    HRESULT hr = to_hresult(vprintf_into(d, cch, f, ap));
    va_end(ap);
    return hr;
}

HRESULT WINAPI StringCbCopyA(STRSAFE_LPSTR d, size_t cb, STRSAFE_LPCSTR s) { return to_hresult(copy_n(d, cb, s, kMaxCch)); }
HRESULT WINAPI StringCbCopyW(STRSAFE_LPWSTR d, size_t cb, STRSAFE_LPCWSTR s) { return to_hresult(copy_n(d, wcch(cb), s, kMaxCch)); }
HRESULT WINAPI StringCbCopyNA(STRSAFE_LPSTR d, size_t cb, STRSAFE_PCNZCH s, size_t n) { return to_hresult(copy_n(d, cb, s, n)); }
HRESULT WINAPI StringCbCopyNW(STRSAFE_LPWSTR d, size_t cb, STRSAFE_PCNZWCH s, size_t n) { return to_hresult(copy_n(d, wcch(cb), s, wcch(n))); }
HRESULT WINAPI StringCbCatA(STRSAFE_LPSTR d, size_t cb, STRSAFE_LPCSTR s) { return to_hresult(cat_n(d, cb, s, kMaxCch)); }
HRESULT WINAPI StringCbCatW(STRSAFE_LPWSTR d, size_t cb, STRSAFE_LPCWSTR s) { return to_hresult(cat_n(d, wcch(cb), s, kMaxCch)); }
HRESULT WINAPI StringCbCatNA(STRSAFE_LPSTR d, size_t cb, STRSAFE_PCNZCH s, size_t n) { return to_hresult(cat_n(d, cb, s, n)); }
HRESULT WINAPI StringCbCatNW(STRSAFE_LPWSTR d, size_t cb, STRSAFE_PCNZWCH s, size_t n) { return to_hresult(cat_n(d, wcch(cb), s, wcch(n))); }
HRESULT WINAPI StringCbVPrintfA(STRSAFE_LPSTR d, size_t cb, STRSAFE_LPCSTR f, va_list ap) { return to_hresult(vprintf_into(d, cb, f, ap)); }
HRESULT WINAPI StringCbVPrintfW(STRSAFE_LPWSTR d, size_t cb, STRSAFE_LPCWSTR f, va_list ap) { return to_hresult(vprintf_into(d, wcch(cb), f, ap)); }
HRESULT WINAPI StringCbLengthA(STRSAFE_PCNZCH s, size_t cb_max, size_t *out) { return to_hresult(length_of(s, cb_max, out)); }
HRESULT WINAPI StringCbLengthW(STRSAFE_PCNZWCH s, size_t cb_max, size_t *out)
{
    HRESULT hr = to_hresult(length_of(s, wcch(cb_max), out));
    if (out != nullptr)
        *out *= sizeof(WCHAR);
    return hr;
}

HRESULT WINAPIV StringCbPrintfA(STRSAFE_LPSTR d, size_t cb, STRSAFE_LPCSTR f, ...)
{
    va_list ap;
    va_start(ap, f);
    HRESULT hr = to_hresult(vprintf_into(d, cb, f, ap));
    va_end(ap);
    return hr;
}
HRESULT WINAPIV StringCbPrintfW(STRSAFE_LPWSTR d, size_t cb, STRSAFE_LPCWSTR f, ...)
{
    va_list ap;
    va_start(ap, f);
    HRESULT hr = to_hresult(vprintf_into(d, wcch(cb), f, ap));
    va_end(ap);
    return hr;
}

// ===================== ntstrsafe.h (NTSTATUS) =====================

NTSTATUS NTAPI RtlStringCchCopyA(NTSTRSAFE_PSTR d, size_t cch, NTSTRSAFE_PCSTR s) { return to_ntstatus(copy_n(d, cch, s, kMaxCch)); }
NTSTATUS NTAPI RtlStringCchCopyW(NTSTRSAFE_PWSTR d, size_t cch, NTSTRSAFE_PCWSTR s) { return to_ntstatus(copy_n(d, cch, s, kMaxCch)); }
NTSTATUS NTAPI RtlStringCchCopyNA(NTSTRSAFE_PSTR d, size_t cch, NTSTRSAFE_PCSTR s, size_t n) { return to_ntstatus(copy_n(d, cch, s, n)); }
NTSTATUS NTAPI RtlStringCchCopyNW(NTSTRSAFE_PWSTR d, size_t cch, NTSTRSAFE_PCWSTR s, size_t n) { return to_ntstatus(copy_n(d, cch, s, n)); }
NTSTATUS NTAPI RtlStringCchCatA(NTSTRSAFE_PSTR d, size_t cch, NTSTRSAFE_PCSTR s) { return to_ntstatus(cat_n(d, cch, s, kMaxCch)); }
NTSTATUS NTAPI RtlStringCchCatW(NTSTRSAFE_PWSTR d, size_t cch, NTSTRSAFE_PCWSTR s) { return to_ntstatus(cat_n(d, cch, s, kMaxCch)); }
NTSTATUS NTAPI RtlStringCchCatNA(NTSTRSAFE_PSTR d, size_t cch, NTSTRSAFE_PCSTR s, size_t n) { return to_ntstatus(cat_n(d, cch, s, n)); }
NTSTATUS NTAPI RtlStringCchCatNW(NTSTRSAFE_PWSTR d, size_t cch, NTSTRSAFE_PCWSTR s, size_t n) { return to_ntstatus(cat_n(d, cch, s, n)); }
NTSTATUS NTAPI RtlStringCchVPrintfA(NTSTRSAFE_PSTR d, size_t cch, NTSTRSAFE_PCSTR f, va_list ap) { return to_ntstatus(vprintf_into(d, cch, f, ap)); }
NTSTATUS NTAPI RtlStringCchVPrintfW(NTSTRSAFE_PWSTR d, size_t cch, NTSTRSAFE_PCWSTR f, va_list ap) { return to_ntstatus(vprintf_into(d, cch, f, ap)); }
NTSTATUS NTAPI RtlStringCchLengthA(NTSTRSAFE_PCSTR s, size_t max, size_t *out) { return to_ntstatus(length_of(s, max, out)); }
NTSTATUS NTAPI RtlStringCchLengthW(NTSTRSAFE_PCWSTR s, size_t max, size_t *out) { return to_ntstatus(length_of(s, max, out)); }

NTSTATUS __cdecl RtlStringCchPrintfA(NTSTRSAFE_PSTR d, size_t cch, NTSTRSAFE_PCSTR f, ...)
{
    va_list ap;
    va_start(ap, f);
    NTSTATUS st = to_ntstatus(vprintf_into(d, cch, f, ap));
    va_end(ap);
    return st;
}
NTSTATUS __cdecl RtlStringCchPrintfW(NTSTRSAFE_PWSTR d, size_t cch, NTSTRSAFE_PCWSTR f, ...)
{
    va_list ap;
    va_start(ap, f);
    NTSTATUS st = to_ntstatus(vprintf_into(d, cch, f, ap));
    va_end(ap);
    return st;
}

NTSTATUS NTAPI RtlStringCbCopyA(NTSTRSAFE_PSTR d, size_t cb, NTSTRSAFE_PCSTR s) { return to_ntstatus(copy_n(d, cb, s, kMaxCch)); }
NTSTATUS NTAPI RtlStringCbCopyW(NTSTRSAFE_PWSTR d, size_t cb, NTSTRSAFE_PCWSTR s) { return to_ntstatus(copy_n(d, wcch(cb), s, kMaxCch)); }
NTSTATUS NTAPI RtlStringCbCopyNA(NTSTRSAFE_PSTR d, size_t cb, NTSTRSAFE_PCSTR s, size_t n) { return to_ntstatus(copy_n(d, cb, s, n)); }
NTSTATUS NTAPI RtlStringCbCopyNW(NTSTRSAFE_PWSTR d, size_t cb, NTSTRSAFE_PCWSTR s, size_t n) { return to_ntstatus(copy_n(d, wcch(cb), s, wcch(n))); }
NTSTATUS NTAPI RtlStringCbCatA(NTSTRSAFE_PSTR d, size_t cb, NTSTRSAFE_PCSTR s) { return to_ntstatus(cat_n(d, cb, s, kMaxCch)); }
NTSTATUS NTAPI RtlStringCbCatW(NTSTRSAFE_PWSTR d, size_t cb, NTSTRSAFE_PCWSTR s) { return to_ntstatus(cat_n(d, wcch(cb), s, kMaxCch)); }
NTSTATUS NTAPI RtlStringCbCatNA(NTSTRSAFE_PSTR d, size_t cb, NTSTRSAFE_PCSTR s, size_t n) { return to_ntstatus(cat_n(d, cb, s, n)); }
NTSTATUS NTAPI RtlStringCbCatNW(NTSTRSAFE_PWSTR d, size_t cb, NTSTRSAFE_PCWSTR s, size_t n) { return to_ntstatus(cat_n(d, wcch(cb), s, wcch(n))); }
NTSTATUS NTAPI RtlStringCbVPrintfA(NTSTRSAFE_PSTR d, size_t cb, NTSTRSAFE_PCSTR f, va_list ap) { return to_ntstatus(vprintf_into(d, cb, f, ap)); }
NTSTATUS NTAPI RtlStringCbVPrintfW(NTSTRSAFE_PWSTR d, size_t cb, NTSTRSAFE_PCWSTR f, va_list ap) { return to_ntstatus(vprintf_into(d, wcch(cb), f, ap)); }
NTSTATUS NTAPI RtlStringCbLengthA(NTSTRSAFE_PCSTR s, size_t cb_max, size_t *out) { return to_ntstatus(length_of(s, cb_max, out)); }
NTSTATUS NTAPI RtlStringCbLengthW(NTSTRSAFE_PCWSTR s, size_t cb_max, size_t *out)
{
    NTSTATUS st = to_ntstatus(length_of(s, wcch(cb_max), out));
    if (out != nullptr)
        *out *= sizeof(WCHAR);
    return st;
}

NTSTATUS __cdecl RtlStringCbPrintfA(NTSTRSAFE_PSTR d, size_t cb, NTSTRSAFE_PCSTR f, ...)
{
    va_list ap;
    va_start(ap, f);
    NTSTATUS st = to_ntstatus(vprintf_into(d, cb, f, ap));
    va_end(ap);
    return st;
}
NTSTATUS __cdecl RtlStringCbPrintfW(NTSTRSAFE_PWSTR d, size_t cb, NTSTRSAFE_PCWSTR f, ...)
{
    va_list ap;
    va_start(ap, f);
    NTSTATUS st = to_ntstatus(vprintf_into(d, wcch(cb), f, ap));
    va_end(ap);
    return st;
}

// ---- counted UNICODE_STRINGs ----

NTSTATUS NTAPI RtlUnicodeStringInit(PUNICODE_STRING dest, NTSTRSAFE_PCWSTR src)
{
    if (dest == nullptr)
        return STATUS_INVALID_PARAMETER;
    dest->Length = 0;
    dest->MaximumLength = 0;
    dest->Buffer = nullptr;
    if (src == nullptr)
        return STATUS_SUCCESS;
    size_t n = bounded_length(src, kMaxUnicodeStringCch); // room is left for the NUL
    if (n == kMaxUnicodeStringCch)
        return STATUS_INVALID_PARAMETER;
    dest->Buffer = const_cast<PWSTR>(src);
    dest->Length = static_cast<USHORT>(n * sizeof(WCHAR));
    dest->MaximumLength = static_cast<USHORT>((n + 1) * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlUnicodeStringValidate(PCUNICODE_STRING s)
{
    return valid_unicode_string(s) ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

NTSTATUS NTAPI RtlUnicodeStringCopyString(PUNICODE_STRING dest, NTSTRSAFE_PCWSTR src)
{
    if (!valid_unicode_string(dest))
        return STATUS_INVALID_PARAMETER;
    size_t capacity = dest->MaximumLength / sizeof(WCHAR);
    return unicode_store(dest, 0, src, bounded_length(src, capacity + 1));
}

NTSTATUS NTAPI RtlUnicodeStringCopy(PUNICODE_STRING dest, PCUNICODE_STRING src)
{
    if (!valid_unicode_string(dest) || !valid_unicode_string(src))
        return STATUS_INVALID_PARAMETER;
    return unicode_store(dest, 0, src->Buffer, src->Length / sizeof(WCHAR));
}

NTSTATUS NTAPI RtlUnicodeStringCatString(PUNICODE_STRING dest, NTSTRSAFE_PCWSTR src)
{
    if (!valid_unicode_string(dest))
        return STATUS_INVALID_PARAMETER;
    size_t at = dest->Length / sizeof(WCHAR);
    size_t room = dest->MaximumLength / sizeof(WCHAR) - at;
    return unicode_store(dest, at, src, bounded_length(src, room + 1));
}

NTSTATUS NTAPI RtlUnicodeStringCat(PUNICODE_STRING dest, PCUNICODE_STRING src)
{
    if (!valid_unicode_string(dest) || !valid_unicode_string(src))
        return STATUS_INVALID_PARAMETER;
    return unicode_store(dest, dest->Length / sizeof(WCHAR), src->Buffer, src->Length / sizeof(WCHAR));
}

NTSTATUS NTAPI RtlUnicodeStringVPrintf(PUNICODE_STRING dest, NTSTRSAFE_PCWSTR fmt, va_list ap)
{
    return unicode_vprintf(dest, fmt, ap);
}

NTSTATUS __cdecl RtlUnicodeStringPrintf(PUNICODE_STRING dest, NTSTRSAFE_PCWSTR fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    NTSTATUS st = unicode_vprintf(dest, fmt, ap);
    va_end(ap);
    return st;
}

} // extern "C"
