// strsafe.cpp - the safe string functions of strsafe.h (apps: StringCb* / StringCch*,
// HRESULT) and ntstrsafe.h (drivers: RtlStringCb* / RtlStringCch* / RtlUnicodeString*,
// NTSTATUS).
//
// On Windows both families are inline functions in their headers; iosim exports them
// from libiosim_kernel instead, so a module's reference resolves when it loads. Both
// families share one set of templates over the character type (char, or WCHAR, which
// is char16_t here) that work in characters and report ok / truncated / invalid. The
// extern "C" functions are stamped out by one macro, STRSAFE_FUNCTIONS, once per family
// (HRESULT or NTSTATUS), size unit (Cch or Cb) and character type (A or W): each turns
// its sizes into characters and maps the outcome to the HRESULT or NTSTATUS its header
// documents. Formatting goes through iosim_vsnprintf_win / iosim_vsnwprintf_win
// (Windows printf rules, picked by CharTraits); whether those return C99-style lengths
// or Microsoft-style -1 on overflow, the result is checked the same way here: the last
// character of the buffer is forced to NUL and a result that did not fit is reported as
// truncation.

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

// The formatting call for each character type.
template <class C> struct CharTraits;
template <> struct CharTraits<char> {
    static int vformat(char *buf, size_t cch, const char *fmt, va_list ap) { return iosim_vsnprintf_win(buf, cch, fmt, ap); }
};
template <> struct CharTraits<WCHAR> {
    static int vformat(WCHAR *buf, size_t cch, const WCHAR *fmt, va_list ap) { return iosim_vsnwprintf_win(buf, cch, fmt, ap); }
};

template <class C> Outcome vprintf_into(C *dest, size_t cch, const C *fmt, va_list ap)
{
    if (!valid_dest(dest, cch) || fmt == nullptr) {
        if (dest != nullptr && cch > 0 && cch <= kMaxCch)
            dest[0] = C(0);
        return Outcome::invalid;
    }
    int written = CharTraits<C>::vformat(dest, cch, fmt, ap);
    dest[cch - 1] = C(0);
    if (written < 0 || static_cast<size_t>(written) >= cch)
        return Outcome::truncated;
    return Outcome::ok;
}

// Length of s in units of Unit bytes (1: characters; sizeof(C): bytes), looking at no more
// than max_units of them.
template <size_t Unit, class C> Outcome length_of(const C *s, size_t max_units, size_t *out)
{
    size_t cch_max = max_units / Unit;
    size_t n = (s == nullptr || cch_max > kMaxCch) ? cch_max : bounded_length(s, cch_max);
    if (s == nullptr || cch_max > kMaxCch || n == cch_max) {
        if (out != nullptr)
            *out = 0;
        return Outcome::invalid;
    }
    if (out != nullptr)
        *out = n * Unit;
    return Outcome::ok;
}

template <class R> R pick(Outcome o, R ok, R truncated, R invalid)
{
    return o == Outcome::ok ? ok : o == Outcome::truncated ? truncated : invalid;
}
HRESULT to_hresult(Outcome o) { return pick<HRESULT>(o, S_OK, STRSAFE_E_INSUFFICIENT_BUFFER, STRSAFE_E_INVALID_PARAMETER); }
NTSTATUS to_ntstatus(Outcome o) { return pick<NTSTATUS>(o, STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW, STATUS_INVALID_PARAMETER); }

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
    int written = CharTraits<WCHAR>::vformat(tmp.data(), tmp.size(), fmt, ap);
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

// STRSAFE_FUNCTIONS defines PFX{Copy,CopyN,Cat,CatN,VPrintf,Printf,Length}SFX for one
// family (API / APIV: its calling conventions and result type; MAP: Outcome to that
// result), one size unit (PFX ends in Cch or Cb; U is the bytes a size counts: 1, or
// sizeof(WCHAR) for the Cb forms of the W functions) and one character type C (SFX A or
// W). Sizes and the N functions' limits are divided by U into characters; the Copy and
// Cat functions without N stop at the source's NUL or at STRSAFE_MAX_CCH characters.
#define STRSAFE_FUNCTIONS(API, APIV, MAP, PFX, SFX, C, U)                                                                \
    API PFX##Copy##SFX(C *d, size_t size, const C *s) { return MAP(copy_n(d, size / (U), s, kMaxCch)); }                 \
    API PFX##CopyN##SFX(C *d, size_t size, const C *s, size_t n) { return MAP(copy_n(d, size / (U), s, n / (U))); }      \
    API PFX##Cat##SFX(C *d, size_t size, const C *s) { return MAP(cat_n(d, size / (U), s, kMaxCch)); }                   \
    API PFX##CatN##SFX(C *d, size_t size, const C *s, size_t n) { return MAP(cat_n(d, size / (U), s, n / (U))); }        \
    API PFX##VPrintf##SFX(C *d, size_t size, const C *f, va_list ap) { return MAP(vprintf_into(d, size / (U), f, ap)); } \
    API PFX##Length##SFX(const C *s, size_t size_max, size_t *out) { return MAP(length_of<(U)>(s, size_max, out)); }     \
    APIV PFX##Printf##SFX(C *d, size_t size, const C *f, ...)                                                            \
    {                                                                                                                    \
        va_list ap;                                                                                                      \
        va_start(ap, f);                                                                                                 \
        auto result = MAP(vprintf_into(d, size / (U), f, ap));                                                           \
        va_end(ap);                                                                                                      \
        return result;                                                                                                   \
    }

// One family: the Cch and Cb forms of its A and W functions.
#define STRSAFE_FAMILY(API, APIV, MAP, PFX)                           \
    STRSAFE_FUNCTIONS(API, APIV, MAP, PFX##Cch, A, char, 1)           \
    STRSAFE_FUNCTIONS(API, APIV, MAP, PFX##Cch, W, WCHAR, 1)          \
    STRSAFE_FUNCTIONS(API, APIV, MAP, PFX##Cb, A, char, sizeof(char)) \
    STRSAFE_FUNCTIONS(API, APIV, MAP, PFX##Cb, W, WCHAR, sizeof(WCHAR))

// strsafe.h: StringCch* / StringCb*, HRESULT.
STRSAFE_FAMILY(STRSAFEAPI, STRSAFEAPIV, to_hresult, String)

// ntstrsafe.h: RtlStringCch* / RtlStringCb*, NTSTATUS.
STRSAFE_FAMILY(NTSTRSAFEDDI, NTSTRSAFEVAPI, to_ntstatus, RtlString)

#undef STRSAFE_FAMILY
#undef STRSAFE_FUNCTIONS

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
