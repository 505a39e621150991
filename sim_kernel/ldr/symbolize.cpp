// symbolize.cpp - code address -> function, source file and line, via elfutils' libdwfl.
//
// The process's modules are reported to libdwfl from /proc/self/maps; the report is
// rebuilt when an address falls outside every module it knows (a driver loaded since).
// Resolution happens only when a report or trace line is printed, never on the I/O path.
#include "ldr/symbolize.h"

#include "ldr/module.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace iosim::ldr {

namespace {

std::mutex g_lock;
Dwfl* g_dwfl = nullptr;
uint64_t g_reported_generation = 0;  // ldr::generation() when g_dwfl was built
char* g_debuginfo_path = nullptr;
const Dwfl_Callbacks g_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = nullptr,
    .debuginfo_path = &g_debuginfo_path,
};

void report_modules()
{
    if (g_dwfl != nullptr)
        dwfl_end(g_dwfl);
    g_dwfl = dwfl_begin(&g_callbacks);
    if (g_dwfl == nullptr)
        return;
    dwfl_report_begin(g_dwfl);
    dwfl_linux_proc_report(g_dwfl, getpid());
    dwfl_report_end(g_dwfl, nullptr, nullptr);
}

std::string demangle(const char* name)
{
    if (name == nullptr)
        return "";
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status != 0 || out == nullptr)
        return name;
    std::string result(out);
    std::free(out);
    // "DispatchRoutine(_DEVICE_OBJECT*, _IRP*)" -> "DispatchRoutine": drop the trailing
    // parameter list (and qualifiers after it), matching parentheses from the end so that
    // "(anonymous namespace)::f(int)" keeps its namespace.
    size_t end = result.size();
    while (end > 0 && result[end - 1] != ')')
        --end;
    if (end == 0)
        return result;
    int depth = 0;
    for (size_t i = end; i-- > 0;) {
        if (result[i] == ')')
            ++depth;
        else if (result[i] == '(' && --depth == 0) {
            if (i > 0)
                result.resize(i);
            break;
        }
    }
    return result;
}

std::string base_name(const char* path)
{
    if (path == nullptr)
        return "";
    std::string s(path);
    auto slash = s.find_last_of('/');
    return slash == std::string::npos ? s : s.substr(slash + 1);
}

}  // namespace

SourceLocation symbolize(const void* address)
{
    SourceLocation where;
    if (address == nullptr)
        return where;
    auto addr = reinterpret_cast<Dwarf_Addr>(address);
    Dl_info info{};
    if (dladdr(address, &info) != 0)
        where.module = base_name(info.dli_fname);
    std::lock_guard guard(g_lock);
    if (g_reported_generation != generation()) {
        report_modules();
        g_reported_generation = generation();
    }
    Dwfl_Module* module = g_dwfl != nullptr ? dwfl_addrmodule(g_dwfl, addr) : nullptr;
    if (module == nullptr) {
        report_modules();
        module = g_dwfl != nullptr ? dwfl_addrmodule(g_dwfl, addr) : nullptr;
    }
    if (module == nullptr)
        return where;
    where.function = demangle(dwfl_module_addrname(module, addr));
    if (Dwfl_Line* line = dwfl_module_getsrc(module, addr)) {
        int lineno = 0;
        const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
        where.file = base_name(file);
        where.line = lineno;
    }
    return where;
}

SourceLocation symbolize_return_address(const void* return_address)
{
    // The call instruction ends right before the return address. (No arithmetic on a null
    // pointer: that is undefined behaviour, and UBSan says so.)
    if (return_address == nullptr)
        return {};
    return symbolize(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(return_address) - 1));
}

static std::string describe(const SourceLocation& where, const void* address)
{
    if (!where.known())
        return where.module.empty() ? fmt::format("0x{:x}", reinterpret_cast<uintptr_t>(address))
                                    : fmt::format("{}+0x{:x}", where.module, reinterpret_cast<uintptr_t>(address));
    std::string out;
    if (!where.file.empty())
        out = fmt::format("{}:{}", where.file, where.line);
    if (!where.function.empty())
        out += (out.empty() ? "" : " in ") + where.function;
    if (!where.module.empty())
        out += " (" + where.module + ")";
    return out;
}

std::string describe_call_site(const void* return_address)
{
    return describe(symbolize_return_address(return_address), return_address);
}

std::string describe_function(const void* function_address)
{
    SourceLocation where = symbolize(function_address);
    if (!where.function.empty())
        return where.module.empty() ? where.function : where.module.substr(0, where.module.find('.')) + "!" + where.function;
    return describe(where, function_address);
}

}  // namespace iosim::ldr
