// symbolize.h - turning code addresses into "file.c:42 (Function)".
//
// Reports name driver source lines: a bug check, a leaked pool block or a completed IRP
// records the return address of the driver's call, and this resolves it lazily, only
// when a report or trace is printed, from the module's DWARF line table (libdw).
#pragma once

#include <string>

namespace iosim::ldr {

struct SourceLocation {
    std::string module;    // "mydriver.sys", or "" if unknown
    std::string function;  // "DispatchRoutine", or ""
    std::string file;      // base name of the source file, or ""
    int line = 0;
    bool known() const { return !file.empty() || !function.empty(); }
};

SourceLocation symbolize(const void* address);

// A call site given by a return address: resolves the call instruction before it.
SourceLocation symbolize_return_address(const void* return_address);

// "file.c:42 in Function (module)" or a hex address when nothing is known.
std::string describe_call_site(const void* return_address);
std::string describe_function(const void* function_address);

}  // namespace iosim::ldr
