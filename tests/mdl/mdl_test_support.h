// mdl_test_support.h - what the MDL tests share.
//
//  MdlRig     a Machine (trace on, DbgPrint kept) with mdl_probe.sys loaded and one app
//             process whose user space holds the tests' buffers; In() runs code in that
//             process's main thread (its address space visible), as an app would.
//  seen()     the driver's MDL_OBSERVATION for the last request (read from the module's
//             exported global).
//  SourceLine the line of a "MARK:" comment in the driver, for reports that name lines.
// The test binary is iosim's own code (IOSIM_IMPLEMENTATION): WCHAR is char16_t.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ke/bugcheck.h"
#include "ldr/module.h"
#include "machine.h"
#include "mm/memory_manager.h"
#include "ps/process.h"
#include "wdm_impl.h"
#include "windows.h"
#include "winioctl.h"
#include "mdl_probe_ioctl.h"

namespace mdl_test {

using namespace iosim;

inline Machine::Options Options(std::vector<std::string>* debug)
{
    Machine::Options options;
    options.trace = true;
    options.app_output = [](uint32_t, const std::string&, std::string_view) {};
    options.debug_output = [debug](std::string_view module, std::string_view text) {
        debug->push_back(std::string(module) + ": " + std::string(text));
    };
    return options;
}

// 1-based line of tests/mdl/drivers/mdl_probe.c containing `marker` (0: none).
inline int SourceLine(std::string_view marker)
{
    std::filesystem::path path = std::filesystem::path(__FILE__).parent_path() / "drivers" / "mdl_probe.c";
    std::ifstream in(path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number)
        if (line.find(marker) != std::string::npos)
            return number;
    return 0;
}

class MdlRig {
public:
    MdlRig() : machine(Options(&debug))
    {
        std::string message;
        loaded = machine.load_driver("mdl_probe", "mdl_probe.sys", &message) == STATUS_SUCCESS;
        EXPECT_TRUE(loaded) << message;
        app = machine.create_process("mdl_app.exe");
    }
    ~MdlRig()
    {
        if (!ended && !machine.system().dead()) {
            try {
                machine.end_process(app);
            } catch (const BugCheck& stop) {
                ADD_FAILURE() << "bug check at process exit:\n" << stop.info().report;
            }
        }
    }
    MdlRig(const MdlRig&) = delete;
    MdlRig& operator=(const MdlRig&) = delete;

    std::vector<std::string> debug;
    Machine machine;
    Process* app = nullptr;
    bool loaded = false;
    bool ended = false;  // set after ending (or abandoning, after a bug check) the process

    System& system() { return machine.system(); }
    mm::MemoryManager& memory() { return machine.system().memory(); }
    Thread* thread() { return machine.system().main_thread(app); }

    // Runs f() in the app's main thread: its user space is the visible one.
    template <class F>
    decltype(auto) In(F&& f)
    {
        ThreadSwitch in_app(thread());
        return f();
    }

    // Fresh committed pages of the app's user space (VirtualAlloc).
    char* Pages(size_t pages, ULONG protect = PAGE_READWRITE)
    {
        return static_cast<char*>(app->memory->space->allocate(pages, "VirtualAlloc", protect));
    }

    // The frame behind an address of the app's user space.
    mm::Pfn FrameOf(const void* address) { return *app->memory->space->pfn_of(address); }

    const MDL_OBSERVATION& seen()
    {
        static const MDL_OBSERVATION none{};
        for (ldr::Module* module : ldr::loaded_modules())
            if (module->name == "mdl_probe.sys")
                return *static_cast<const MDL_OBSERVATION*>(ldr::symbol(module, "MdlObservation"));
        return none;
    }

    // Opens \\.\MdlDirect, \\.\MdlBuffered or \\.\MdlNeither (call inside In()).
    static HANDLE Open(const char16_t* name)
    {
        return CreateFileW(reinterpret_cast<LPCWSTR>(name), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
    }

    std::vector<std::string> FindingCodes()
    {
        std::vector<std::string> codes;
        for (const auto& finding : system().findings())
            codes.push_back(finding.code);
        return codes;
    }
    const Finding* FindingOf(const std::string& code)
    {
        static std::vector<Finding> kept;
        kept = system().findings();
        for (const auto& finding : kept)
            if (finding.code == code)
                return &finding;
        return nullptr;
    }
    std::string FindingsDump()
    {
        std::string out;
        for (const auto& finding : system().findings())
            out += finding.code + ": " + finding.message + " [" + finding.location + "]\n";
        return out;
    }
};

inline const char16_t* const kDirect = u"\\\\.\\MdlDirect";
inline const char16_t* const kBuffered = u"\\\\.\\MdlBuffered";
inline const char16_t* const kNeither = u"\\\\.\\MdlNeither";

inline uintptr_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// 'A'..'Z' repeated, as the driver fills read buffers.
inline bool IsAlphabet(const char* p, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (p[i] != static_cast<char>('A' + i % 26))
            return false;
    return true;
}

}  // namespace mdl_test
