// debug_print.h - the kernel debugger's output channel (what DebugView shows).
//
// DbgPrint/DbgPrintEx/KdPrint format their text with Windows' rules (crt/format.h) and
// hand it here with the caller's address; the line goes to the "dbgprint" spdlog logger
// tagged with the driver the caller belongs to, and into the trace when tracing is on.
// NT counterparts: vDbgPrintExWithPrefixInternal, KdpPrintString.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "nt.h"

namespace iosim::kd {

// Sends one formatted message. `caller` is a code address inside the driver (a return
// address); it names the driver in the output.
void debug_print(const void* caller, ULONG component_id, ULONG level, std::string_view text);

// Where debug output goes. By default: standard error, as "[driver.sys] text".
// A sink receives the driver's module name and the text without a trailing newline.
using Sink = std::function<void(std::string_view module, std::string_view text)>;
void set_sink(Sink sink);
void reset_sink();

}  // namespace iosim::kd
