// format.h - printf-style formatting with the Microsoft C runtime's rules.
//
// Windows sources are compiled by GCC but were written for MSVC's printf, which differs
// from glibc's in ways that matter (Windows is LLP64, WCHAR is UTF-16):
//   - %ld/%lu/%lx read 32 bits; %lld, %I64d, %jd read 64; %I32d 32; %Id/%zd/%td 64.
//   - In the narrow family %s is char*, %S/%ls/%ws a UTF-16 string (written as UTF-8);
//     %c a char, %C/%lc/%wc a WCHAR. In the wide family (swprintf, wprintf) %s and %c
//     are wide and %S/%hs/%C/%hc narrow (MSVC's legacy rule). %hs/%hc are always narrow.
//   - %p prints 16 uppercase hex digits, zero-padded, without 0x (00007FF6A1B2C3D0).
//   - A NULL string prints "(null)", and the precision applies to that text too.
//   - The '0' flag pads strings and characters with zeros, as MSVC does.
//   - long double is double on Windows: %Lf reads the caller's long double and prints
//     it as a double. %a/%A without precision print 13 hex digits, as MSVC does.
//   - %n is refused: its pointer is consumed and nothing is stored (MSVC disables %n).
//   - Kernel flavour only (DbgPrint): %Z prints a PANSI_STRING (Length bytes) and %wZ a
//     PUNICODE_STRING (Length/2 WCHARs); neither needs a terminating NUL. NULL -> (null).
// Width and precision count the units of the argument's own type: bytes for narrow
// strings, UTF-16 code units for wide ones (as MSVC). Lone surrogates become U+FFFD in
// UTF-8 output; invalid UTF-8 bytes become U+FFFD in UTF-16 output.
//
// Numbers are fetched with the Windows type widths and then printed by the host
// snprintf with a format built here, so rounding and flags are glibc's. An unknown or
// malformed conversion is copied to the output verbatim and makes the result "invalid"
// (the printf family then returns -1, as MSVC's invalid-parameter path does).
// Rules: never hand 16-bit strings to glibc's wide functions; each call reads a copy of
// the va_list it is given (va_copy), so the caller's list is left untouched.
#pragma once

#include <cstdarg>
#include <string>
#include <string_view>

namespace iosim::crt {

enum class Flavor {
    User,    // the C runtime's printf family
    Kernel,  // DbgPrint: adds %Z and %wZ
};

// Appends the formatted text to `out`. Returns false if `fmt` is NULL or holds an
// invalid conversion; `out` then still holds everything that could be formatted.
bool format_to(std::string& out, Flavor flavor, const char* fmt, va_list ap);

// Wide family (swprintf, wprintf): UTF-16 format, UTF-16 output. User flavour.
bool format_wide_to(std::u16string& out, const char16_t* fmt, va_list ap);

// Conveniences that ignore validity and return what was formatted.
std::string format(Flavor flavor, const char* fmt, va_list ap);
std::u16string format_wide(const char16_t* fmt, va_list ap);

// Encoding helpers (UTF-16 <-> UTF-8) with U+FFFD for anything ill-formed.
void append_utf8(std::string& out, std::u16string_view text);
void append_utf16(std::u16string& out, std::string_view text);
std::string to_utf8(std::u16string_view text);
std::u16string to_utf16(std::string_view text);

}  // namespace iosim::crt
