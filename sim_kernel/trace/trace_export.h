// trace_export.h - a recorded trace written out as text, JSON or a Mermaid diagram.
//
//  text     one line per event, Trace::format: "  12  p12:t16 PASSIVE  IRP#1 freed"
//  json     Chrome Trace Event format (Perfetto, chrome://tracing): one track per thread,
//           an instant per event, an async slice per IRP, a slice per dispatch routine call.
//           ts is the sequence number (in microseconds), so the file is deterministic.
//  mermaid  a sequenceDiagram: app -> I/O manager -> drivers -> back, one arrow per step.
//
// All three are pure functions of the events: the same events give the same bytes.
// docs/tracing.md describes the formats and how to open them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trace/trace.h"

namespace iosim::trace {

enum class Format { Text, Json, Mermaid };

// "text", "json", "mermaid" (any letter case); nullopt for anything else.
std::optional<Format> parse_format(std::string_view name);
// The canonical name of a format ("text", "json", "mermaid").
const char* format_name(Format format);

std::string to_text(const std::vector<Event>& events);     // Trace::format per line, '\n' after each
std::string to_json(const std::vector<Event>& events);     // Chrome Trace Event format
std::string to_mermaid(const std::vector<Event>& events);  // Mermaid sequence diagram
std::string render(Format format, const std::vector<Event>& events);

// Helpers shared by the exporters (and handy in tests).
namespace detail {

// "IRP_MJ_READ"; "IRP_MJ_0x1c" for values past IRP_MJ_MAXIMUM_FUNCTION.
std::string major_name(UCHAR major);
// "Allocated", "Dispatched", ... ("None" for IrpPhase::None).
const char* phase_name(IrpPhase phase);
// "irp", "driver", "object", "process", "win32", "dbgprint", "finding", "note".
const char* kind_name(Kind kind);
// At most `max_chars` code points: longer text is cut (never inside a UTF-8 sequence) and
// ends in "...".
std::string shorten(std::string_view text, size_t max_chars);
// The image names of the processes in the trace, from the "process N (image) created"
// events; pid 4 is "System". Sorted by pid.
std::vector<std::pair<uint32_t, std::string>> process_names(const std::vector<Event>& events);

}  // namespace detail

}  // namespace iosim::trace
