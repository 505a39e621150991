// util.cpp - last-error handling, DOS-to-NT path conversion, string conversions.
// NT counterparts: BaseSetLastNTError, RtlDosPathNameToNtPathName_U.
#include "crt/format.h"
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

TransferResult transfer_result(NTSTATUS status, ULONG_PTR information, bool eof_is_success)
{
    if (eof_is_success && status == STATUS_END_OF_FILE)
        return {true, 0};
    bool completed = status != STATUS_PENDING;
    TransferResult result{NT_SUCCESS(status) && completed, !NT_ERROR(status) && completed ? information : 0};
    if (!result.ok)
        set_last_nt_error(status);  // a warning (STATUS_BUFFER_OVERFLOW) fails with its bytes reported
    return result;
}

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

std::u16string widen(const char* text) { return text != nullptr ? crt::to_utf16(text) : std::u16string(); }

std::u16string widen(const char16_t* text) { return text != nullptr ? std::u16string(text) : std::u16string(); }

std::string narrow(std::u16string_view text) { return crt::to_utf8(text); }

}  // namespace iosim::win32
