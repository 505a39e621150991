// trace_export.cpp - format names, the text form and the helpers the JSON and Mermaid
// writers share (trace_json.cpp, trace_mermaid.cpp).
#include "trace/trace_export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace iosim::trace {

std::optional<Format> parse_format(std::string_view name)
{
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "text")
        return Format::Text;
    if (lower == "json")
        return Format::Json;
    if (lower == "mermaid")
        return Format::Mermaid;
    return std::nullopt;
}

const char* format_name(Format format)
{
    switch (format) {
    case Format::Text: return "text";
    case Format::Json: return "json";
    case Format::Mermaid: return "mermaid";
    }
    return "text";
}

std::string to_text(const std::vector<Event>& events)
{
    std::string out;
    for (const Event& event : events) {
        out += Trace::format(event);
        out += '\n';
    }
    return out;
}

std::string render(Format format, const std::vector<Event>& events)
{
    switch (format) {
    case Format::Text: return to_text(events);
    case Format::Json: return to_json(events);
    case Format::Mermaid: return to_mermaid(events);
    }
    return to_text(events);
}

namespace detail {

namespace {

const char* const kMajorNames[] = {
    "IRP_MJ_CREATE", "IRP_MJ_CREATE_NAMED_PIPE", "IRP_MJ_CLOSE", "IRP_MJ_READ", "IRP_MJ_WRITE",
    "IRP_MJ_QUERY_INFORMATION", "IRP_MJ_SET_INFORMATION", "IRP_MJ_QUERY_EA", "IRP_MJ_SET_EA",
    "IRP_MJ_FLUSH_BUFFERS", "IRP_MJ_QUERY_VOLUME_INFORMATION", "IRP_MJ_SET_VOLUME_INFORMATION",
    "IRP_MJ_DIRECTORY_CONTROL", "IRP_MJ_FILE_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CONTROL",
    "IRP_MJ_INTERNAL_DEVICE_CONTROL", "IRP_MJ_SHUTDOWN", "IRP_MJ_LOCK_CONTROL", "IRP_MJ_CLEANUP",
    "IRP_MJ_CREATE_MAILSLOT", "IRP_MJ_QUERY_SECURITY", "IRP_MJ_SET_SECURITY", "IRP_MJ_POWER",
    "IRP_MJ_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CHANGE", "IRP_MJ_QUERY_QUOTA", "IRP_MJ_SET_QUOTA", "IRP_MJ_PNP",
};

// "process 12 (hello_open.exe) created" / "... exited with code 0" -> {12, "hello_open.exe"}
std::optional<std::pair<uint32_t, std::string>> parse_process_event(std::string_view text)
{
    constexpr std::string_view prefix = "process ";
    if (text.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    size_t at = prefix.size();
    uint64_t pid = 0;
    size_t digits = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9' && digits < 10) {
        pid = pid * 10 + static_cast<uint64_t>(text[at] - '0');
        ++at;
        ++digits;
    }
    if (digits == 0 || pid > UINT32_MAX || text.substr(at, 2) != " (")
        return std::nullopt;
    at += 2;
    size_t end = text.rfind(") created");
    if (end == std::string_view::npos || end + 9 != text.size())
        end = text.rfind(") exited with code ");
    if (end == std::string_view::npos || end < at)
        return std::nullopt;
    return std::pair<uint32_t, std::string>{static_cast<uint32_t>(pid), std::string(text.substr(at, end - at))};
}

}  // namespace

std::string major_name(UCHAR major)
{
    if (major < std::size(kMajorNames))
        return kMajorNames[major];
    return fmt::format("IRP_MJ_0x{:02x}", major);
}

const char* phase_name(IrpPhase phase)
{
    switch (phase) {
    case IrpPhase::None: return "None";
    case IrpPhase::Allocated: return "Allocated";
    case IrpPhase::Dispatched: return "Dispatched";
    case IrpPhase::Returned: return "Returned";
    case IrpPhase::Completed: return "Completed";
    case IrpPhase::CompletionRoutine: return "CompletionRoutine";
    case IrpPhase::CopiedBack: return "CopiedBack";
    case IrpPhase::Freed: return "Freed";
    }
    return "None";
}

const char* kind_name(Kind kind)
{
    switch (kind) {
    case Kind::Irp: return "irp";
    case Kind::Driver: return "driver";
    case Kind::Object: return "object";
    case Kind::Process: return "process";
    case Kind::Win32: return "win32";
    case Kind::DebugPrint: return "dbgprint";
    case Kind::Finding: return "finding";
    case Kind::Scheduler: return "scheduler";
    case Kind::Note: return "note";
    case Kind::Irql: return "irql";
    }
    return "note";
}

std::string shorten(std::string_view text, size_t max_chars)
{
    // Byte offsets where each code point starts (continuation bytes are 10xxxxxx).
    size_t count = 0;
    size_t cut = std::string_view::npos;  // where the kept part ends, once known
    size_t keep = max_chars > 3 ? max_chars - 3 : 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80)
            continue;
        if (count == keep)
            cut = i;
        ++count;
        if (count > max_chars)
            return std::string(text.substr(0, cut)) + "...";
    }
    return std::string(text);
}

std::vector<std::pair<uint32_t, std::string>> process_names(const std::vector<Event>& events)
{
    std::map<uint32_t, std::string> names;
    for (const Event& event : events) {
        if (event.kind != Kind::Process)
            continue;
        if (auto parsed = parse_process_event(event.text))
            names.try_emplace(parsed->first, std::move(parsed->second));
    }
    names.try_emplace(4, "System");
    return {names.begin(), names.end()};
}

}  // namespace detail

}  // namespace iosim::trace
