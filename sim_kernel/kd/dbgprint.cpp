// dbgprint.cpp - DbgPrint, DbgPrintEx, vDbgPrintEx, vDbgPrintExWithPrefix.
//
// The text is formatted with the kernel flavour of iosim's printf (crt/format.h: MSVC
// rules plus %Z for ANSI_STRING and %wZ for UNICODE_STRING) and handed to the debugger
// channel (kd/debug_print.h) with the address the routine returns to, which names the
// calling driver in the output.
//
// Rules, as on Windows:
//   - One call transmits at most 512 bytes: the prefix (vDbgPrintExWithPrefix) and the
//     formatted text together are cut at 512 bytes. iosim cuts back further to the start
//     of a UTF-8 sequence rather than emit half a character.
//   - DbgPrint uses component DPFLTR_DEFAULT_ID and level DPFLTR_INFO_LEVEL. A Level of
//     32 or more is a bit mask rather than a level number (DbgPrintEx docs); iosim shows
//     every message whatever its filter and passes ComponentId and Level through as given.
//   - Every routine returns STATUS_SUCCESS, also for a NULL or invalid format (the text
//     then shows the bad specification as written).
// NT counterparts: DbgPrint, vDbgPrintExWithPrefixInternal.
#include <cstdarg>
#include <string>

#include "crt/format.h"
#include "kd/debug_print.h"
#include "wdm_impl.h"

namespace iosim::kd {

namespace {

constexpr size_t kMaxMessageBytes = 512;

void emit(const void* caller, const char* prefix, ULONG component_id, ULONG level, const char* format, va_list ap)
{
    std::string text = prefix != nullptr ? prefix : "";
    if (format != nullptr)
        crt::format_to(text, crt::Flavor::Kernel, format, ap);
    if (text.size() > kMaxMessageBytes) {
        size_t cut = kMaxMessageBytes;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;  // text[cut] would start the dropped part: keep whole characters
        text.resize(cut);
    }
    debug_print(caller, component_id, level, text);
}

}  // namespace

}  // namespace iosim::kd

extern "C" {

__attribute__((noinline)) ULONG DbgPrint(PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    iosim::kd::emit(__builtin_return_address(0), nullptr, DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, Format, ap);
    va_end(ap);
    return STATUS_SUCCESS;
}

__attribute__((noinline)) ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    iosim::kd::emit(__builtin_return_address(0), nullptr, ComponentId, Level, Format, ap);
    va_end(ap);
    return STATUS_SUCCESS;
}

__attribute__((noinline)) ULONG vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, va_list arglist)
{
    iosim::kd::emit(__builtin_return_address(0), nullptr, ComponentId, Level, Format, arglist);
    return STATUS_SUCCESS;
}

__attribute__((noinline)) ULONG vDbgPrintExWithPrefix(PCSTR Prefix, ULONG ComponentId, ULONG Level, PCSTR Format,
                                                      va_list arglist)
{
    iosim::kd::emit(__builtin_return_address(0), Prefix, ComponentId, Level, Format, arglist);
    return STATUS_SUCCESS;
}

}  // extern "C"
