// trace_mermaid.cpp - the trace as a Mermaid sequence diagram.
//
// Participants, declared before the first message: the processes that issue requests
// (P<pid>, labelled with their image name), the I/O manager (IO) and one per driver
// (D1, D2, ... labelled "\Driver\name"; drivers that receive IRPs first, in the order
// they first receive one, so the top of a device stack comes before the driver under it).
//
//   P12->>IO: IRP#1 IRP_MJ_CREATE                      Allocated (by the process)
//   IO->>D1: IRP_MJ_CREATE (stack 1/1)                 Dispatched (from IO, or from the upper
//                                                      driver when it passes the IRP down)
//   D1-->>IO: completed STATUS_SUCCESS, 13 bytes       Completed
//   Note over D1: completion routine R -> STATUS_...   CompletionRoutine
//   IO-->>P12: 13 bytes copied back                    CopiedBack
//   IO-->>P12: IRP#1 done, STATUS_SUCCESS              Freed
//   IO-->>P12: IRP#1 returned STATUS_PENDING           outermost Returned of an IRP never freed
//
// Driver load/unload, DbgPrint, Win32 calls, findings and refused requests become notes,
// cut to about 60 characters. Text is cleaned of what Mermaid reads as syntax (';', line
// breaks, '<'); backslashes stay.
#include <fmt/format.h>

#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "rtl/status_names.h"
#include "trace/trace_export.h"

namespace iosim::trace {

namespace {

constexpr size_t kNoteChars = 60;
const std::string kIo = "IO";

// One line of the diagram, with participants as keys ("P12", "IO", or a driver name)
// until the drivers are numbered.
struct Line {
    enum Type { Message, Note } type = Message;
    std::string from;  // Message: sender; Note: first participant
    std::string to;    // Message: receiver; Note: second participant ("" for one)
    std::string arrow;
    std::string text;
};

bool is_process_key(const std::string& key) { return key.size() > 1 && key[0] == 'P' && key != kIo && key[1] >= '0' && key[1] <= '9'; }

std::string process_key(uint32_t pid) { return fmt::format("P{}", pid); }

// Valid UTF-8 with Mermaid's syntax characters replaced.
std::string clean(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool valid = len != 0 && i + len <= text.size() && !(len == 2 && c < 0xC2);
        for (size_t k = 1; valid && k < len; ++k)
            valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
        if (!valid) {
            out += '?';
            ++i;
            continue;
        }
        if (len > 1) {
            out.append(text.substr(i, len));
            i += len;
            continue;
        }
        switch (c) {
        case ';': out += ','; break;
        case '\n':
        case '\r':
        case '\t': out += ' '; break;
        case '<': out += "\xE2\x80\xB9"; break;  // U+2039: '<' would open an HTML tag
        default: out += (c < 0x20 || c == 0x7F) ? '?' : static_cast<char>(c); break;
        }
        ++i;
    }
    return out;
}

// Removes " (0xC0000023)" after a status name: the name is enough in a diagram.
std::string drop_status_values(std::string text)
{
    for (size_t at = text.find(" (0x"); at != std::string::npos; at = text.find(" (0x", at)) {
        size_t end = at + 4;
        while (end < text.size() && std::isxdigit(static_cast<unsigned char>(text[end])))
            ++end;
        if (end - (at + 4) == 8 && end < text.size() && text[end] == ')')
            text.erase(at, end + 1 - at);
        else
            at = end;
    }
    return text;
}

std::string note_text(std::string_view text) { return clean(detail::shorten(drop_status_values(std::string(text)), kNoteChars)); }

// The first "\Driver\name" in a line of text.
std::optional<std::string> driver_in(std::string_view text)
{
    size_t at = text.find("\\Driver\\");
    if (at == std::string_view::npos)
        return std::nullopt;
    size_t end = at + 8;
    while (end < text.size() && text[end] != ' ' && text[end] != ':' && text[end] != ',' && text[end] != ')')
        ++end;
    if (end == at + 8)
        return std::nullopt;
    return std::string(text.substr(at, end - at));
}

std::string base_name(std::string_view path)
{
    size_t slash = path.find_last_of("/\\");
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string bytes(ULONG_PTR n) { return fmt::format("{} byte{}", n, n == 1 ? "" : "s"); }

struct IrpState {
    bool allocated = false;        // built by the I/O manager (has an Allocated event)
    std::string origin;            // who gets the answer: the process, or the driver that built it
    std::vector<std::string> holders;  // drivers whose dispatch routine has it, innermost last
    std::optional<NTSTATUS> status;    // from its last Completed event
    UCHAR major = 0;
    bool major_known = false;
};

struct ActiveDispatch {
    uint64_t irp;
    std::string device;
    std::string driver;
};

}  // namespace

std::string to_mermaid(const std::vector<Event>& events)
{
    // Which IRPs get freed, which processes take part, and the processes' names.
    std::set<uint64_t> freed;
    std::vector<uint32_t> process_order;
    std::set<uint32_t> processes;
    auto add_process = [&](uint32_t pid) {
        if (processes.insert(pid).second)
            process_order.push_back(pid);
    };
    for (const Event& event : events) {
        if (event.kind == Kind::Irp && event.info.phase == IrpPhase::Freed)
            freed.insert(event.irp);
        if ((event.kind == Kind::Irp && (event.info.phase == IrpPhase::Allocated || event.info.phase == IrpPhase::None)) ||
            event.kind == Kind::Win32)
            add_process(event.pid);
    }
    auto names = detail::process_names(events);
    std::map<uint32_t, std::string> image(names.begin(), names.end());

    std::vector<Line> lines;
    std::map<std::string, std::string> module_driver;  // "hello.sys" -> "\Driver\hello"
    std::map<std::string, std::string> device_driver;  // "\Device\IosimHello" -> "\Driver\hello"
    std::map<uint64_t, IrpState> irps;
    std::map<std::pair<uint32_t, uint32_t>, std::vector<ActiveDispatch>> active;  // per thread
    std::vector<std::string> dispatched_order;  // drivers, as they first receive an IRP
    std::vector<std::string> seen_order;        // drivers, as they first appear at all
    std::set<std::string> dispatched_set, seen_set;
    auto see = [&](const std::string& driver) {
        if (seen_set.insert(driver).second)
            seen_order.push_back(driver);
    };
    auto message = [&](std::string from, std::string to, const char* arrow, std::string text) {
        if (from == to)
            lines.push_back({Line::Note, std::move(from), "", "", std::move(text)});
        else
            lines.push_back({Line::Message, std::move(from), std::move(to), arrow, std::move(text)});
    };
    auto note = [&](std::string over, std::string text, std::string also = "") {
        lines.push_back({Line::Note, std::move(over), std::move(also), "", std::move(text)});
    };

    for (const Event& event : events) {
        auto thread = std::make_pair(event.pid, event.tid);
        auto innermost = [&]() -> std::string {
            auto it = active.find(thread);
            return it == active.end() || it->second.empty() ? kIo : it->second.back().driver;
        };
        auto driver_of = [&](const IrpInfo& info) -> std::string {
            if (!info.driver.empty())
                return info.driver;
            if (auto it = device_driver.find(info.device); it != device_driver.end())
                return it->second;
            return innermost();
        };

        switch (event.kind) {
        case Kind::Irp: {
            if (event.info.phase == IrpPhase::None || event.irp == 0) {
                note(process_key(event.pid), note_text(event.text), kIo);
                break;
            }
            IrpState& irp = irps[event.irp];
            const IrpInfo& info = event.info;
            if (!irp.major_known && (info.phase == IrpPhase::Allocated || info.phase == IrpPhase::Dispatched)) {
                irp.major = info.major;
                irp.major_known = true;
            }
            switch (info.phase) {
            case IrpPhase::Allocated:
                irp.allocated = true;
                irp.origin = process_key(event.pid);
                message(irp.origin, kIo, "->>", fmt::format("IRP#{} {}", event.irp, detail::major_name(info.major)));
                break;
            case IrpPhase::Dispatched: {
                std::string to = info.driver.empty() ? info.device : info.driver;
                std::string from = !irp.holders.empty() ? irp.holders.back() : irp.allocated ? kIo : innermost();
                if (irp.origin.empty())
                    irp.origin = from;
                if (!info.device.empty())
                    device_driver[info.device] = to;
                see(to);
                if (dispatched_set.insert(to).second)
                    dispatched_order.push_back(to);
                message(from, to, "->>",
                        fmt::format("{}{} (stack {}/{})", irp.allocated ? "" : fmt::format("IRP#{} ", event.irp),
                                    detail::major_name(info.major), info.location, info.stack_count));
                irp.holders.push_back(to);
                active[thread].push_back({event.irp, info.device, to});
                break;
            }
            case IrpPhase::Returned: {
                std::string driver = driver_of(info);
                for (size_t k = irp.holders.size(); k-- > 0;)
                    if (irp.holders[k] == driver) {
                        irp.holders.resize(k);
                        break;
                    }
                auto& stack = active[thread];
                for (size_t k = stack.size(); k-- > 0;)
                    if (stack[k].irp == event.irp && stack[k].device == info.device) {
                        stack.resize(k);
                        break;
                    }
                if (irp.holders.empty() && !freed.contains(event.irp))
                    message(kIo, irp.origin.empty() ? kIo : irp.origin, "-->>",
                            fmt::format("IRP#{} returned {}", event.irp, status_name(info.status)));
                break;
            }
            case IrpPhase::Completed: {
                std::string driver = driver_of(info);
                if (driver != kIo)
                    see(driver);
                irp.status = info.status;
                std::string text = fmt::format("completed {}", status_name(info.status));
                if (info.information != 0)
                    text += ", " + bytes(info.information);
                message(driver, kIo, "-->>", text);
                break;
            }
            case IrpPhase::CompletionRoutine: {
                std::string driver = driver_of(info);
                if (driver != kIo)
                    see(driver);
                note(driver, clean(fmt::format("completion routine {} -> {}", info.routine.empty() ? "?" : info.routine,
                                               status_name(info.status))));
                break;
            }
            case IrpPhase::CopiedBack:
                message(kIo, irp.origin.empty() ? kIo : irp.origin, "-->>",
                        fmt::format("{} copied back", bytes(info.information)));
                break;
            case IrpPhase::Freed:
                message(kIo, irp.origin.empty() ? kIo : irp.origin, "-->>",
                        irp.status ? fmt::format("IRP#{} done, {}", event.irp, status_name(*irp.status))
                                   : fmt::format("IRP#{} done", event.irp));
                irps.erase(event.irp);
                break;
            case IrpPhase::None: break;
            }
            break;
        }
        case Kind::Driver: {
            std::optional<std::string> driver = driver_in(event.text);
            if (!driver) {
                note(kIo, note_text(event.text));
                break;
            }
            // "loading \Driver\hello from hello.sys: calling DriverEntry": the module's DbgPrint
            // lines belong to this driver.
            if (size_t from = event.text.find(" from "), colon = event.text.rfind(": calling DriverEntry");
                from != std::string::npos && colon != std::string::npos && colon > from)
                module_driver[base_name(std::string_view(event.text).substr(from + 6, colon - from - 6))] = *driver;
            see(*driver);
            note(*driver, note_text(event.text));
            break;
        }
        case Kind::DebugPrint: {
            std::string_view text = event.text;
            std::string over = innermost();
            if (text.starts_with('[')) {
                if (size_t close = text.find("] "); close != std::string_view::npos) {
                    if (auto it = module_driver.find(std::string(text.substr(1, close - 1))); it != module_driver.end())
                        over = it->second;
                    text.remove_prefix(close + 2);
                }
            }
            if (over != kIo)
                see(over);
            note(over, note_text("DbgPrint: " + std::string(text)));
            break;
        }
        case Kind::Process: {
            // "process 12 (hello_open.exe) created": a note over the process, if it takes part.
            std::string_view text = event.text;
            size_t open = text.find(" (");
            size_t close = text.rfind(") ");
            if (!text.starts_with("process ") || open == std::string_view::npos || close == std::string_view::npos ||
                close < open)
                break;
            uint32_t pid = 0;
            bool number = open > 8;
            for (size_t i = 8; i < open && number; ++i) {
                number = text[i] >= '0' && text[i] <= '9';
                pid = pid * 10 + static_cast<uint32_t>(text[i] - '0');
            }
            if (number && processes.contains(pid))
                note(process_key(pid), note_text("process " + std::string(text.substr(close + 2))));
            break;
        }
        case Kind::Win32:
            note(process_key(event.pid), note_text(event.text));
            break;
        case Kind::Finding:
        case Kind::Note:
            note(kIo, note_text(event.text));
            break;
        case Kind::Object:
            break;  // devices and links: in the text and JSON forms, too detailed here
        case Kind::Scheduler:
        case Kind::Irql:
            break;  // threads, CPUs and IRQLs: the JSON form draws them (one track per CPU)
        }
    }

    // Number the drivers: receivers of IRPs first (top of a stack first), then the rest.
    std::map<std::string, std::string> alias;
    std::vector<std::string> driver_order = dispatched_order;
    for (const std::string& driver : seen_order)
        if (!dispatched_set.contains(driver))
            driver_order.push_back(driver);
    for (size_t i = 0; i < driver_order.size(); ++i)
        alias[driver_order[i]] = fmt::format("D{}", i + 1);
    auto name = [&](const std::string& key) -> std::string {
        if (key == kIo || is_process_key(key))
            return key;
        auto it = alias.find(key);
        return it != alias.end() ? it->second : kIo;
    };

    std::string out = "sequenceDiagram\n";
    for (uint32_t pid : process_order) {
        auto it = image.find(pid);
        out += fmt::format("    participant {} as {}\n", process_key(pid),
                           clean(it != image.end() ? it->second : fmt::format("process {}", pid)));
    }
    out += "    participant IO as I/O manager\n";
    for (const std::string& driver : driver_order)
        out += fmt::format("    participant {} as {}\n", alias[driver], clean(driver));
    for (const Line& line : lines) {
        if (line.type == Line::Message) {
            out += fmt::format("    {}{}{}: {}\n", name(line.from), line.arrow, name(line.to), line.text);
        } else {
            std::string over = name(line.from);
            if (!line.to.empty() && name(line.to) != over)
                over += "," + name(line.to);
            out += fmt::format("    Note over {}: {}\n", over, line.text);
        }
    }
    return out;
}

}  // namespace iosim::trace
