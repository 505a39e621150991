// format.cpp - the printf engine with MSVC rules (see format.h for the rules).
//
// One engine, templated on the character type of the format and of the output (char for
// the narrow family, char16_t for the wide one). A conversion is handled in three steps:
// parse the specification, fetch the argument with the Windows width of its type, then
// either print it with the host snprintf (numbers) or copy/convert it here (strings).
#include "crt/format.h"

#include <climits>
#include <cstdint>
#include <cstdio>
#include <type_traits>

#include "nt.h"

namespace iosim::crt {

namespace {

enum class Length { None, hh, h, l, ll, L, w, I, I32, I64, j, z, t };

struct Spec {
    bool left = false;
    bool plus = false;
    bool space = false;
    bool alt = false;
    bool zero = false;
    size_t width = 0;
    int precision = -1;  // -1: none given
    Length length = Length::None;
    char conv = 0;
};

void append_code_point(std::string& out, char32_t c)
{
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

bool is_high_surrogate(char32_t c) { return c >= 0xD800 && c <= 0xDBFF; }
bool is_low_surrogate(char32_t c) { return c >= 0xDC00 && c <= 0xDFFF; }

// Decodes one UTF-8 sequence at s[i]; returns U+FFFD (consuming one byte) if ill-formed.
char32_t decode_utf8(std::string_view s, size_t& i)
{
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char b0 = byte(i);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    size_t extra;
    char32_t c;
    char32_t min;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        extra = 1, c = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        extra = 2, c = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        extra = 3, c = b0 & 0x07, min = 0x10000;
    } else {
        ++i;
        return 0xFFFD;
    }
    if (i + extra >= s.size()) {  // truncated sequence
        ++i;
        return 0xFFFD;
    }
    for (size_t k = 1; k <= extra; ++k) {
        unsigned char b = byte(i + k);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        c = (c << 6) | (b & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        ++i;
        return 0xFFFD;
    }
    i += extra + 1;
    return c;
}

// Output adapters: ASCII text (numbers) and strings of either width into either output.
void put_ascii(std::string& out, std::string_view text) { out.append(text); }
void put_ascii(std::u16string& out, std::string_view text)
{
    for (unsigned char c : text)
        out.push_back(c);
}
void put_narrow(std::string& out, const char* s, size_t n) { out.append(s, n); }
void put_narrow(std::u16string& out, const char* s, size_t n) { append_utf16(out, std::string_view(s, n)); }
void put_wide(std::string& out, const char16_t* s, size_t n) { append_utf8(out, std::u16string_view(s, n)); }
void put_wide(std::u16string& out, const char16_t* s, size_t n) { out.append(s, n); }

template <typename C>
class Engine {
public:
    using String = std::basic_string<C>;
    static constexpr bool kWideFamily = std::is_same_v<C, char16_t>;

    Engine(Flavor flavor, va_list* ap, String& out) : flavor_(flavor), ap_(ap), out_(out) {}

    bool run(const C* fmt)
    {
        if (fmt == nullptr)
            return false;
        bool ok = true;
        const C* p = fmt;
        while (*p != 0) {
            if (*p != '%') {
                const C* q = p;
                while (*q != 0 && *q != '%')
                    ++q;
                out_.append(p, q);
                p = q;
                continue;
            }
            const C* start = p++;
            Spec spec;
            if (!parse(p, spec) || !convert(spec)) {
                ok = false;
                out_.append(start, p);  // show the bad specification as written
            }
        }
        return ok;
    }

private:
    // Reads flags, width, precision, length and conversion; `p` starts after '%'.
    bool parse(const C*& p, Spec& s)
    {
        for (;; ++p) {
            if (*p == '-') s.left = true;
            else if (*p == '+') s.plus = true;
            else if (*p == ' ') s.space = true;
            else if (*p == '#') s.alt = true;
            else if (*p == '0') s.zero = true;
            else break;
        }
        if (*p == '*') {
            ++p;
            int w = va_arg(*ap_, int);
            if (w < 0) {
                s.left = true;
                s.width = static_cast<size_t>(-static_cast<long long>(w));
            } else {
                s.width = static_cast<size_t>(w);
            }
        } else {
            int w = 0;
            if (!read_number(p, w))
                return false;
            s.width = static_cast<size_t>(w);
        }
        if (*p == '.') {
            ++p;
            if (*p == '*') {
                ++p;
                int prec = va_arg(*ap_, int);
                s.precision = prec < 0 ? -1 : prec;  // negative: as if omitted
            } else {
                int prec = 0;
                if (!read_number(p, prec))
                    return false;
                s.precision = prec;
            }
        }
        switch (*p) {
        case 'h':
            ++p;
            s.length = (*p == 'h') ? (++p, Length::hh) : Length::h;
            break;
        case 'l':
            ++p;
            s.length = (*p == 'l') ? (++p, Length::ll) : Length::l;
            break;
        case 'L': ++p, s.length = Length::L; break;
        case 'w': ++p, s.length = Length::w; break;
        case 'j': ++p, s.length = Length::j; break;
        case 'z': ++p, s.length = Length::z; break;
        case 't': ++p, s.length = Length::t; break;
        case 'I':
            ++p;
            if (p[0] == '6' && p[1] == '4') p += 2, s.length = Length::I64;
            else if (p[0] == '3' && p[1] == '2') p += 2, s.length = Length::I32;
            else s.length = Length::I;
            break;
        default: break;
        }
        C c = *p;
        if (c == 0 || static_cast<char32_t>(c) > 0x7F)
            return false;
        ++p;
        s.conv = static_cast<char>(c);
        return true;
    }

    static bool read_number(const C*& p, int& value)
    {
        long long v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            if (v > INT_MAX)
                return false;
            ++p;
        }
        value = static_cast<int>(v);
        return true;
    }

    // Narrow or wide argument? 'l'/'w' are wide and 'h' narrow everywhere; otherwise
    // lower-case s/c/Z take the family's own width and upper-case S/C the other one.
    bool wants_wide(const Spec& s) const
    {
        if (s.length == Length::l || s.length == Length::w)
            return true;
        if (s.length == Length::h)
            return false;
        bool upper = s.conv == 'S' || s.conv == 'C';
        return kWideFamily != upper;
    }

    bool convert(const Spec& s)
    {
        switch (s.conv) {
        case 'd':
        case 'i': return print_number(s, 'd', "ll", fetch_signed(s.length));
        case 'u':
        case 'o':
        case 'x':
        case 'X': return print_number(s, s.conv, "ll", fetch_unsigned(s.length));
        case 'c':
        case 'C': return print_char(s);
        case 's':
        case 'S': return print_string(s);
        case 'Z':
            if (flavor_ != Flavor::Kernel)
                return false;
            return print_counted_string(s);
        case 'p': {
            auto value = reinterpret_cast<uintptr_t>(va_arg(*ap_, void*));
            Spec ps;
            ps.left = s.left;
            ps.alt = s.alt;
            ps.width = s.width;
            ps.precision = 2 * sizeof(void*);
            return print_number(ps, 'X', "ll", static_cast<unsigned long long>(value));
        }
        case 'n':
            (void)va_arg(*ap_, void*);  // refused: nothing is stored
            return true;
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
        case 'a':
        case 'A': {
            double value = (s.length == Length::L) ? static_cast<double>(va_arg(*ap_, long double))
                                                   : va_arg(*ap_, double);
            Spec fs = s;
            if ((s.conv == 'a' || s.conv == 'A') && fs.precision < 0)
                fs.precision = 13;
            return print_number(fs, s.conv, "", value);
        }
        case '%': out_.push_back('%'); return true;
        default: return false;
        }
    }

    long long fetch_signed(Length length)
    {
        switch (length) {
        case Length::hh: return static_cast<signed char>(va_arg(*ap_, int));
        case Length::h: return static_cast<short>(va_arg(*ap_, int));
        case Length::ll:
        case Length::I64:
        case Length::j: return va_arg(*ap_, long long);
        case Length::I:
        case Length::z:
        case Length::t: return static_cast<long long>(va_arg(*ap_, intptr_t));
        default: return va_arg(*ap_, int);  // none, l (32-bit on Windows), I32
        }
    }

    unsigned long long fetch_unsigned(Length length)
    {
        switch (length) {
        case Length::hh: return static_cast<unsigned char>(va_arg(*ap_, unsigned int));
        case Length::h: return static_cast<unsigned short>(va_arg(*ap_, unsigned int));
        case Length::ll:
        case Length::I64:
        case Length::j: return va_arg(*ap_, unsigned long long);
        case Length::I:
        case Length::z:
        case Length::t: return static_cast<unsigned long long>(va_arg(*ap_, uintptr_t));
        default: return va_arg(*ap_, unsigned int);
        }
    }

    // Prints one number with the host snprintf and a format built from `s`.
    template <typename T>
    bool print_number(const Spec& s, char conv, const char* length, T value)
    {
        if (s.width > INT_MAX)
            return false;
        std::string host = "%";
        if (s.left) host += '-';
        if (s.plus) host += '+';
        if (s.space) host += ' ';
        if (s.alt) host += '#';
        if (s.zero) host += '0';
        if (s.width > 0)
            host += std::to_string(s.width);
        if (s.precision >= 0)
            host += '.' + std::to_string(s.precision);
        host += length;
        host += conv;
        int n = std::snprintf(nullptr, 0, host.c_str(), value);
        if (n < 0)
            return false;
        std::string text(static_cast<size_t>(n) + 1, '\0');
        std::snprintf(text.data(), text.size(), host.c_str(), value);
        text.resize(static_cast<size_t>(n));
        put_ascii(out_, text);
        return true;
    }

    // Pads a field of `units` units around `body` (MSVC pads with '0' under the 0 flag).
    template <typename Body>
    void field(const Spec& s, size_t units, Body body)
    {
        size_t pad = s.width > units ? s.width - units : 0;
        if (!s.left)
            out_.append(pad, static_cast<C>(s.zero ? '0' : ' '));
        body();
        if (s.left)
            out_.append(pad, static_cast<C>(' '));
    }

    bool print_char(const Spec& s)
    {
        int arg = va_arg(*ap_, int);
        if (wants_wide(s)) {
            char16_t c = static_cast<char16_t>(arg);
            field(s, 1, [&] { put_wide(out_, &c, 1); });
        } else {
            char c = static_cast<char>(arg);
            field(s, 1, [&] { put_narrow(out_, &c, 1); });
        }
        return true;
    }

    void print_null(const Spec& s)
    {
        size_t n = 6;
        if (s.precision >= 0 && static_cast<size_t>(s.precision) < n)
            n = static_cast<size_t>(s.precision);
        field(s, n, [&] { put_ascii(out_, std::string_view("(null)", n)); });
    }

    size_t limit(const Spec& s, size_t n) const
    {
        return (s.precision >= 0 && static_cast<size_t>(s.precision) < n) ? static_cast<size_t>(s.precision) : n;
    }

    bool print_string(const Spec& s)
    {
        if (wants_wide(s)) {
            const char16_t* str = va_arg(*ap_, const char16_t*);
            if (str == nullptr)
                return print_null(s), true;
            size_t n = 0;
            while ((s.precision < 0 || n < static_cast<size_t>(s.precision)) && str[n] != 0)
                ++n;
            field(s, n, [&] { put_wide(out_, str, n); });
        } else {
            const char* str = va_arg(*ap_, const char*);
            if (str == nullptr)
                return print_null(s), true;
            size_t n = 0;
            while ((s.precision < 0 || n < static_cast<size_t>(s.precision)) && str[n] != 0)
                ++n;
            field(s, n, [&] { put_narrow(out_, str, n); });
        }
        return true;
    }

    // %Z / %wZ: counted strings; Length is in bytes and no NUL is needed.
    bool print_counted_string(const Spec& s)
    {
        if (wants_wide(s)) {
            const auto* us = va_arg(*ap_, const UNICODE_STRING*);
            if (us == nullptr || us->Buffer == nullptr)
                return print_null(s), true;
            const auto* buffer = reinterpret_cast<const char16_t*>(us->Buffer);
            size_t n = limit(s, us->Length / sizeof(WCHAR));
            field(s, n, [&] { put_wide(out_, buffer, n); });
        } else {
            const auto* as = va_arg(*ap_, const STRING*);
            if (as == nullptr || as->Buffer == nullptr)
                return print_null(s), true;
            size_t n = limit(s, as->Length);
            field(s, n, [&] { put_narrow(out_, as->Buffer, n); });
        }
        return true;
    }

    Flavor flavor_;
    va_list* ap_;
    String& out_;
};

}  // namespace

void append_utf8(std::string& out, std::u16string_view text)
{
    for (size_t i = 0; i < text.size(); ++i) {
        char32_t c = text[i];
        if (is_high_surrogate(c) && i + 1 < text.size() && is_low_surrogate(text[i + 1])) {
            c = 0x10000 + ((c - 0xD800) << 10) + (text[i + 1] - 0xDC00);
            ++i;
        } else if (is_high_surrogate(c) || is_low_surrogate(c)) {
            c = 0xFFFD;  // lone surrogate
        }
        append_code_point(out, c);
    }
}

void append_utf16(std::u16string& out, std::string_view text)
{
    size_t i = 0;
    while (i < text.size()) {
        char32_t c = decode_utf8(text, i);
        if (c >= 0x10000) {
            c -= 0x10000;
            out.push_back(static_cast<char16_t>(0xD800 + (c >> 10)));
            out.push_back(static_cast<char16_t>(0xDC00 + (c & 0x3FF)));
        } else {
            out.push_back(static_cast<char16_t>(c));
        }
    }
}

std::string to_utf8(std::u16string_view text)
{
    std::string out;
    append_utf8(out, text);
    return out;
}

std::u16string to_utf16(std::string_view text)
{
    std::u16string out;
    append_utf16(out, text);
    return out;
}

bool format_to(std::string& out, Flavor flavor, const char* fmt, va_list ap)
{
    va_list args;
    va_copy(args, ap);
    bool ok = Engine<char>(flavor, &args, out).run(fmt);
    va_end(args);
    return ok;
}

bool format_wide_to(std::u16string& out, const char16_t* fmt, va_list ap)
{
    va_list args;
    va_copy(args, ap);
    bool ok = Engine<char16_t>(Flavor::User, &args, out).run(fmt);
    va_end(args);
    return ok;
}

std::string format(Flavor flavor, const char* fmt, va_list ap)
{
    std::string out;
    format_to(out, flavor, fmt, ap);
    return out;
}

std::u16string format_wide(const char16_t* fmt, va_list ap)
{
    std::u16string out;
    format_wide_to(out, fmt, ap);
    return out;
}

}  // namespace iosim::crt
