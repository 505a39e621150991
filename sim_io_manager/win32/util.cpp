// util.cpp - last-error handling, DOS-to-NT path conversion, string conversions.
// NT counterparts: BaseSetLastNTError, RtlDosPathNameToNtPathName_U.
#include "ps/process.h"
#include "win32/win32.h"
#include "wdm_impl.h"

namespace iosim::win32 {

void set_last_error(ULONG error)
{
    if (Thread* thread = current_thread())
        thread->last_error = error;
}

void set_last_nt_error(NTSTATUS status) { set_last_error(RtlNtStatusToDosError(status)); }

std::u16string dos_path_to_nt(std::u16string_view path)
{
    std::u16string p(path);
    for (auto& c : p)
        if (c == u'/')
            c = u'\\';
    auto starts = [&](std::u16string_view prefix) { return p.size() >= prefix.size() && p.compare(0, prefix.size(), prefix) == 0; };
    if (starts(u"\\\\.\\") || starts(u"\\\\?\\"))
        return u"\\??\\" + p.substr(4);
    if (starts(u"\\??\\"))
        return p;
    if (starts(u"\\\\"))
        return u"\\??\\UNC\\" + p.substr(2);
    if (p.size() >= 2 && p[1] == u':')
        return u"\\??\\" + p;
    if (starts(u"\\"))
        return u"\\??\\C:" + p;
    // A relative name: iosim's current directory is C:\ (there is no file system behind it).
    return u"\\??\\C:\\" + p;
}

std::u16string widen(const char* text)
{
    std::u16string out;
    if (text == nullptr)
        return out;
    const auto* s = reinterpret_cast<const unsigned char*>(text);
    while (*s != 0) {
        uint32_t cp = *s++;
        int extra = 0;
        if (cp >= 0xF0) {
            cp &= 0x07;
            extra = 3;
        } else if (cp >= 0xE0) {
            cp &= 0x0F;
            extra = 2;
        } else if (cp >= 0xC0) {
            cp &= 0x1F;
            extra = 1;
        } else if (cp >= 0x80) {
            cp = 0xFFFD;
        }
        for (int i = 0; i < extra; ++i) {
            if ((*s & 0xC0) != 0x80) {
                cp = 0xFFFD;
                break;
            }
            cp = (cp << 6) | (*s++ & 0x3F);
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
    }
    return out;
}

std::u16string widen(const char16_t* text)
{
    std::u16string out;
    if (text != nullptr)
        while (*text != 0)
            out.push_back(*text++);
    return out;
}

std::string narrow(std::u16string_view text)
{
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        uint32_t cp = text[i];
        if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < text.size() && text[i + 1] >= 0xDC00 && text[i + 1] < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (text[i + 1] - 0xDC00);
            ++i;
        } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
        }
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }
    return out;
}

}  // namespace iosim::win32
