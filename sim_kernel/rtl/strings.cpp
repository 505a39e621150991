// strings.cpp - the Rtl counted-string routines: init, copy, append, compare, case, free.
//
// Rules (Windows', kept here too):
//  - UNICODE_STRING/STRING lengths count BYTES; Buffer need not be NUL-terminated, and no
//    routine reads past Length. Routines that write add a NUL only when MaximumLength leaves
//    room for it (RtlCopy*, RtlAppend*), as Windows does; RtlInit*String caps Length so that
//    MaximumLength (Length + the NUL) still fits in a USHORT.
//  - Comparisons go character by character (upper-casing both sides when asked to ignore
//    case) and return the difference of the first unequal pair, else the difference of the
//    lengths: <0, 0 or >0, as RtlCompareUnicodeString does.
//  - Case mapping follows Unicode's simple mappings for ASCII, Latin-1, Latin Extended-A,
//    Greek, Cyrillic, Armenian and fullwidth Latin; other characters are unchanged (Windows
//    uses its NLS case table, which agrees on these ranges). RtlUpperChar changes only
//    ASCII letters: iosim's ANSI code page is UTF-8, whose single bytes >= 0x80 are not
//    characters.
//  - Strings the Rtl routines allocate come from paged pool with tag 'Strg' and are charged
//    to the driver that called the Rtl routine (its return address), so a string it never
//    frees shows up in its unload report at the line that created it. RtlFree*String on a
//    Buffer that is not a live pool block stops the machine (BAD_POOL_CALLER).
// ANSI <-> Unicode, number and GUID conversions: strings_convert.cpp.
// NT counterparts: the Rtl*String* family in ntoskrnl (rtl/string.c, rtl/nls.c).
#include <algorithm>
#include <cstring>
#include <string>

#include "ke/bugcheck.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim::rtl {

namespace {

constexpr ULONG kStringPoolTag = 'S' | ('t' << 8) | ('r' << 16) | (static_cast<ULONG>('g') << 24);  // "Strg"

}  // namespace

// Pool for strings the Rtl routines allocate on a driver's behalf; `caller` is the driver's
// return address, so the block is charged to the driver's call site. Also used by
// strings_convert.cpp.
void* string_alloc(size_t bytes, const void* caller)
{
    System* sys = System::current();
    if (sys == nullptr)
        return nullptr;
    return sys->pool().allocate(/*paged=*/true, std::max<size_t>(bytes, sizeof(WCHAR)), kStringPoolTag, caller,
                                /*zero=*/false);
}

namespace {

constexpr size_t kMaxUnicodeInitBytes = 0xFFFC;  // RtlInitUnicodeString caps Length here
constexpr size_t kMaxAnsiInitBytes = 0xFFFE;     // RtlInitAnsiString caps Length here

// RtlFreeUnicodeString / RtlFreeAnsiString. A Buffer that is not a live pool block stops
// the machine (BAD_POOL_CALLER, as the pool would), with a reason that names the usual
// mistake: freeing a string that RtlInit*String merely pointed at the driver's characters.
void string_free(void* block, const char* routine, const char* init_routine, const void* caller)
{
    System* sys = System::current();
    if (sys == nullptr)
        return;
    auto blocks = sys->pool().outstanding_all();
    bool live = std::any_of(blocks.begin(), blocks.end(), [&](const ex::PoolBlock& b) { return b.address == block; });
    if (!live)
        bugcheck(BAD_POOL_CALLER, 0x07, 0, 0, reinterpret_cast<ULONG_PTR>(block), caller, nullptr,
                 std::string(routine) +
                     " was called on a string whose Buffer is not a live pool block. Only a string that an Rtl "
                     "routine allocated (AllocateDestinationString = TRUE, RtlStringFromGUID) may be freed this "
                     "way, and only once; a string set up with " +
                     init_routine + " just points at the caller's own characters and must not be freed.");
    sys->pool().free(block, 0, /*check_tag=*/false, caller);
}

size_t wide_length(PCWSTR s)
{
    size_t n = 0;
    while (s[n] != 0)
        ++n;
    return n;
}

// ---- case mapping ----

// Latin Extended-A pairs: in 0x100-0x137 and 0x14A-0x177 the upper case letter is even;
// in 0x139-0x148 and 0x179-0x17E it is odd. U+0130/U+0131 (Turkish dotted/dotless I) and
// U+0138, U+0149, U+017F have no simple pair here.
bool latin_ext_a_upper_is_even(WCHAR c)
{
    return (c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177);
}
bool latin_ext_a_upper_is_odd(WCHAR c)
{
    return (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
}
// Cyrillic pairs with the upper case letter even: 0x460-0x481, 0x48A-0x4BF, 0x4D0-0x52F;
// with it odd: 0x4C1-0x4CE.
bool cyrillic_pair_upper_is_even(WCHAR c)
{
    return (c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F);
}

WCHAR upcase(WCHAR c)
{
    if (c < 0x80)
        return (c >= u'a' && c <= u'z') ? static_cast<WCHAR>(c - 0x20) : c;
    if (c >= 0xE0 && c <= 0xFE)
        return c == 0xF7 ? c : static_cast<WCHAR>(c - 0x20);
    if (c == 0xFF)
        return 0x178;
    if (c == 0x130 || c == 0x131)
        return c;
    if (latin_ext_a_upper_is_even(c))
        return static_cast<WCHAR>(c & ~1u);
    if (latin_ext_a_upper_is_odd(c))
        return (c & 1) ? c : static_cast<WCHAR>(c - 1);
    if (c >= 0x3B1 && c <= 0x3CB)
        return c == 0x3C2 ? static_cast<WCHAR>(0x3A3) : static_cast<WCHAR>(c - 0x20);
    if (c == 0x3AC)
        return 0x386;
    if (c >= 0x3AD && c <= 0x3AF)
        return static_cast<WCHAR>(c - 0x25);
    if (c == 0x3CC)
        return 0x38C;
    if (c == 0x3CD || c == 0x3CE)
        return static_cast<WCHAR>(c - 0x3F);
    if (c >= 0x430 && c <= 0x44F)
        return static_cast<WCHAR>(c - 0x20);
    if (c >= 0x450 && c <= 0x45F)
        return static_cast<WCHAR>(c - 0x50);
    if (cyrillic_pair_upper_is_even(c))
        return static_cast<WCHAR>(c & ~1u);
    if (c >= 0x4C1 && c <= 0x4CE)
        return (c & 1) ? c : static_cast<WCHAR>(c - 1);
    if (c == 0x4CF)
        return 0x4C0;
    if (c >= 0x561 && c <= 0x586)
        return static_cast<WCHAR>(c - 0x30);
    if (c >= 0xFF41 && c <= 0xFF5A)
        return static_cast<WCHAR>(c - 0x20);
    return c;
}

WCHAR downcase(WCHAR c)
{
    if (c < 0x80)
        return (c >= u'A' && c <= u'Z') ? static_cast<WCHAR>(c + 0x20) : c;
    if (c >= 0xC0 && c <= 0xDE)
        return c == 0xD7 ? c : static_cast<WCHAR>(c + 0x20);
    if (c == 0x178)
        return 0xFF;
    if (c == 0x130 || c == 0x131)
        return c;
    if (latin_ext_a_upper_is_even(c))
        return static_cast<WCHAR>(c | 1u);
    if (latin_ext_a_upper_is_odd(c))
        return (c & 1) ? static_cast<WCHAR>(c + 1) : c;
    if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB))
        return static_cast<WCHAR>(c + 0x20);
    if (c == 0x386)
        return 0x3AC;
    if (c >= 0x388 && c <= 0x38A)
        return static_cast<WCHAR>(c + 0x25);
    if (c == 0x38C)
        return 0x3CC;
    if (c == 0x38E || c == 0x38F)
        return static_cast<WCHAR>(c + 0x3F);
    if (c >= 0x410 && c <= 0x42F)
        return static_cast<WCHAR>(c + 0x20);
    if (c >= 0x400 && c <= 0x40F)
        return static_cast<WCHAR>(c + 0x50);
    if (cyrillic_pair_upper_is_even(c))
        return static_cast<WCHAR>(c | 1u);
    if (c >= 0x4C1 && c <= 0x4CE)
        return (c & 1) ? static_cast<WCHAR>(c + 1) : c;
    if (c == 0x4C0)
        return 0x4CF;
    if (c >= 0x531 && c <= 0x556)
        return static_cast<WCHAR>(c + 0x30);
    if (c >= 0xFF21 && c <= 0xFF3A)
        return static_cast<WCHAR>(c + 0x20);
    return c;
}

CHAR upper_char(CHAR c)
{
    // Single bytes of a UTF-8 sequence (>= 0x80) are not characters: left alone.
    return (c >= 'a' && c <= 'z') ? static_cast<CHAR>(c - 0x20) : c;
}

LONG compare_wide(const WCHAR* a, size_t na, const WCHAR* b, size_t nb, bool case_insensitive)
{
    size_t n = std::min(na, nb);
    for (size_t i = 0; i < n; ++i) {
        WCHAR c1 = a[i];
        WCHAR c2 = b[i];
        if (c1 != c2 && case_insensitive) {
            c1 = upcase(c1);
            c2 = upcase(c2);
        }
        if (c1 != c2)
            return static_cast<LONG>(c1) - static_cast<LONG>(c2);
    }
    return 0;
}

LONG compare_narrow(const CHAR* a, size_t na, const CHAR* b, size_t nb, bool case_insensitive)
{
    size_t n = std::min(na, nb);
    for (size_t i = 0; i < n; ++i) {
        auto c1 = static_cast<UCHAR>(a[i]);
        auto c2 = static_cast<UCHAR>(b[i]);
        if (c1 != c2 && case_insensitive) {
            c1 = static_cast<UCHAR>(upper_char(static_cast<CHAR>(c1)));
            c2 = static_cast<UCHAR>(upper_char(static_cast<CHAR>(c2)));
        }
        if (c1 != c2)
            return static_cast<LONG>(c1) - static_cast<LONG>(c2);
    }
    return 0;
}

// Writes a NUL after `length` bytes when the buffer has room for one.
void terminate_wide(PUNICODE_STRING s)
{
    if (static_cast<size_t>(s->Length) + sizeof(WCHAR) <= s->MaximumLength)
        s->Buffer[s->Length / sizeof(WCHAR)] = 0;
}

void terminate_narrow(PSTRING s)
{
    if (s->Length < s->MaximumLength)
        s->Buffer[s->Length] = 0;
}

// RtlUpcaseUnicodeString / RtlDowncaseUnicodeString.
NTSTATUS map_case(PUNICODE_STRING dst, PCUNICODE_STRING src, BOOLEAN allocate, WCHAR (*map)(WCHAR),
                  const void* caller)
{
    size_t units = src->Length / sizeof(WCHAR);
    auto bytes = static_cast<USHORT>(units * sizeof(WCHAR));
    const WCHAR* in = src->Buffer;  // read before dst may be rewritten (dst may equal src)
    if (allocate) {
        auto* buffer = static_cast<PWSTR>(string_alloc(bytes, caller));
        if (buffer == nullptr)
            return STATUS_NO_MEMORY;
        dst->Buffer = buffer;
        dst->MaximumLength = bytes;  // Windows allocates exactly Length: no room for a NUL
    } else if (bytes > dst->MaximumLength) {
        return STATUS_BUFFER_OVERFLOW;
    }
    for (size_t i = 0; i < units; ++i)
        dst->Buffer[i] = map(in[i]);
    dst->Length = bytes;
    return STATUS_SUCCESS;
}

}  // namespace

}  // namespace iosim::rtl

using namespace iosim::rtl;

extern "C" {

// ---- init ----

void RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    if (SourceString != nullptr) {
        size_t bytes = std::min(wide_length(SourceString) * sizeof(WCHAR), kMaxUnicodeInitBytes);
        DestinationString->Length = static_cast<USHORT>(bytes);
        DestinationString->MaximumLength = static_cast<USHORT>(bytes + sizeof(WCHAR));
    } else {
        DestinationString->Length = 0;
        DestinationString->MaximumLength = 0;
    }
    DestinationString->Buffer = const_cast<PWSTR>(SourceString);
}

NTSTATUS RtlInitUnicodeStringEx(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    DestinationString->Length = 0;
    DestinationString->MaximumLength = 0;
    DestinationString->Buffer = const_cast<PWSTR>(SourceString);
    if (SourceString != nullptr) {
        size_t chars = wide_length(SourceString);
        if (chars > UNICODE_STRING_MAX_CHARS - 1)  // more than 32766 characters (65532 bytes)
            return STATUS_NAME_TOO_LONG;
        DestinationString->Length = static_cast<USHORT>(chars * sizeof(WCHAR));
        DestinationString->MaximumLength = static_cast<USHORT>((chars + 1) * sizeof(WCHAR));
    }
    return STATUS_SUCCESS;
}

void RtlInitAnsiString(PANSI_STRING DestinationString, PCSZ SourceString)
{
    if (SourceString != nullptr) {
        size_t bytes = std::min(std::strlen(SourceString), kMaxAnsiInitBytes);
        DestinationString->Length = static_cast<USHORT>(bytes);
        DestinationString->MaximumLength = static_cast<USHORT>(bytes + 1);
    } else {
        DestinationString->Length = 0;
        DestinationString->MaximumLength = 0;
    }
    DestinationString->Buffer = const_cast<PCHAR>(SourceString);
}

void RtlInitString(PSTRING DestinationString, PCSZ SourceString) { RtlInitAnsiString(DestinationString, SourceString); }

// ---- copy and append ----

void RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    if (SourceString == nullptr) {
        DestinationString->Length = 0;
        return;
    }
    // Whole characters only: an odd MaximumLength does not get half a WCHAR.
    size_t bytes = std::min<size_t>(SourceString->Length, DestinationString->MaximumLength) & ~size_t{1};
    if (bytes != 0)
        std::memmove(DestinationString->Buffer, SourceString->Buffer, bytes);
    DestinationString->Length = static_cast<USHORT>(bytes);
    terminate_wide(DestinationString);
}

void RtlCopyString(PSTRING DestinationString, const STRING* SourceString)
{
    if (SourceString == nullptr) {
        DestinationString->Length = 0;
        return;
    }
    size_t bytes = std::min<size_t>(SourceString->Length, DestinationString->MaximumLength);
    if (bytes != 0)
        std::memmove(DestinationString->Buffer, SourceString->Buffer, bytes);
    DestinationString->Length = static_cast<USHORT>(bytes);
    terminate_narrow(DestinationString);
}

NTSTATUS RtlAppendUnicodeStringToString(PUNICODE_STRING Destination, PCUNICODE_STRING Source)
{
    size_t bytes = Source->Length;
    if (bytes == 0)
        return STATUS_SUCCESS;
    if (Destination->Length + bytes > Destination->MaximumLength)
        return STATUS_BUFFER_TOO_SMALL;
    std::memmove(reinterpret_cast<char*>(Destination->Buffer) + Destination->Length, Source->Buffer, bytes);
    Destination->Length = static_cast<USHORT>(Destination->Length + bytes);
    terminate_wide(Destination);
    return STATUS_SUCCESS;
}

NTSTATUS RtlAppendUnicodeToString(PUNICODE_STRING Destination, PCWSTR Source)
{
    if (Source == nullptr)
        return STATUS_SUCCESS;
    size_t bytes = wide_length(Source) * sizeof(WCHAR);
    if (Destination->Length + bytes > Destination->MaximumLength)
        return STATUS_BUFFER_TOO_SMALL;
    std::memmove(reinterpret_cast<char*>(Destination->Buffer) + Destination->Length, Source, bytes);
    Destination->Length = static_cast<USHORT>(Destination->Length + bytes);
    terminate_wide(Destination);
    return STATUS_SUCCESS;
}

// ---- compare ----

LONG RtlCompareUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    LONG diff = compare_wide(String1->Buffer, String1->Length / sizeof(WCHAR), String2->Buffer,
                             String2->Length / sizeof(WCHAR), CaseInSensitive != FALSE);
    if (diff != 0)
        return diff;
    return static_cast<LONG>(String1->Length) - static_cast<LONG>(String2->Length);
}

LONG RtlCompareString(const STRING* String1, const STRING* String2, BOOLEAN CaseInSensitive)
{
    LONG diff = compare_narrow(String1->Buffer, String1->Length, String2->Buffer, String2->Length,
                               CaseInSensitive != FALSE);
    if (diff != 0)
        return diff;
    return static_cast<LONG>(String1->Length) - static_cast<LONG>(String2->Length);
}

BOOLEAN RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    if (String1->Length != String2->Length)
        return FALSE;
    size_t units = String1->Length / sizeof(WCHAR);
    return compare_wide(String1->Buffer, units, String2->Buffer, units, CaseInSensitive != FALSE) == 0;
}

BOOLEAN RtlEqualString(const STRING* String1, const STRING* String2, BOOLEAN CaseInSensitive)
{
    if (String1->Length != String2->Length)
        return FALSE;
    return compare_narrow(String1->Buffer, String1->Length, String2->Buffer, String2->Length,
                          CaseInSensitive != FALSE) == 0;
}

BOOLEAN RtlPrefixUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    if (String1->Length > String2->Length)
        return FALSE;
    size_t units = String1->Length / sizeof(WCHAR);
    return compare_wide(String1->Buffer, units, String2->Buffer, units, CaseInSensitive != FALSE) == 0;
}

// ---- case ----

NTSTATUS RtlUpcaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                BOOLEAN AllocateDestinationString)
{
    return map_case(DestinationString, SourceString, AllocateDestinationString, upcase, __builtin_return_address(0));
}

NTSTATUS RtlDowncaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                  BOOLEAN AllocateDestinationString)
{
    return map_case(DestinationString, SourceString, AllocateDestinationString, downcase,
                    __builtin_return_address(0));
}

void RtlUpperString(PSTRING DestinationString, const STRING* SourceString)
{
    size_t bytes = std::min<size_t>(SourceString->Length, DestinationString->MaximumLength);
    for (size_t i = 0; i < bytes; ++i)
        DestinationString->Buffer[i] = upper_char(SourceString->Buffer[i]);
    DestinationString->Length = static_cast<USHORT>(bytes);
}

CHAR RtlUpperChar(CHAR Character) { return upper_char(Character); }

WCHAR RtlUpcaseUnicodeChar(WCHAR SourceCharacter) { return upcase(SourceCharacter); }

WCHAR RtlDowncaseUnicodeChar(WCHAR SourceCharacter) { return downcase(SourceCharacter); }

// ---- free ----

void RtlFreeUnicodeString(PUNICODE_STRING UnicodeString)
{
    if (UnicodeString == nullptr)
        return;
    if (UnicodeString->Buffer != nullptr)
        string_free(UnicodeString->Buffer, "RtlFreeUnicodeString", "RtlInitUnicodeString",
                    __builtin_return_address(0));
    std::memset(UnicodeString, 0, sizeof *UnicodeString);
}

void RtlFreeAnsiString(PANSI_STRING AnsiString)
{
    if (AnsiString == nullptr)
        return;
    if (AnsiString->Buffer != nullptr)
        string_free(AnsiString->Buffer, "RtlFreeAnsiString", "RtlInitAnsiString", __builtin_return_address(0));
    std::memset(AnsiString, 0, sizeof *AnsiString);
}

}  // extern "C"
