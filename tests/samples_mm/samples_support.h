// samples_support.h - helpers for the memory-model sample tests.
//
//  Rig          a Machine that keeps every DbgPrint text and, optionally, calls a hook for
//               each one while the driver is printing it: the hook runs in the driver's
//               context (the requesting process is current and alive), so it can ask the
//               memory manager what an address the driver printed really is.
//  DriverLine   the line number of a marker comment in a sample driver's source, so reports
//               that name source lines are checked without hard-coding numbers.
//  Hex          a hexadecimal number as printed by %p or %016llX.
// Win32Process, OpenDevice, SplitLines and InOrder come from tests/e2e/e2e_support.h.
// The test binary is iosim's own code (IOSIM_IMPLEMENTATION): WCHAR is char16_t.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "e2e/e2e_support.h"
#include "machine.h"
#include "mm/memory_manager.h"

namespace samples {

class Rig {
public:
    Rig() : machine(MakeOptions()) {}

    std::vector<std::string> debug;                  // DbgPrint texts, in order
    std::function<void(const std::string&)> on_debug;  // called inside DbgPrint
    iosim::Machine machine;

    iosim::System& system() { return machine.system(); }
    iosim::mm::MemoryManager& memory() { return machine.system().memory(); }
    std::string Findings()
    {
        std::string out;
        for (const auto& finding : system().findings())
            out += finding.code + ": " + finding.message + "\n";
        return out;
    }

private:
    iosim::Machine::Options MakeOptions()
    {
        iosim::Machine::Options options;
        options.app_output = [](uint32_t, const std::string&, std::string_view) {};
        options.debug_output = [this](std::string_view, std::string_view text) {
            debug.emplace_back(text);
            if (on_debug)
                on_debug(debug.back());
        };
        return options;
    }
};

// 1-based number of the first line of drivers/<relative_path> containing `marker` (0: none).
inline int DriverLine(const std::string& relative_path, std::string_view marker)
{
    std::ifstream in(std::string(IOSIM_SAMPLES_DIR) + "/" + relative_path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number)
        if (line.find(marker) != std::string::npos)
            return number;
    return 0;
}

inline uint64_t Hex(const std::string& text) { return std::stoull(text, nullptr, 16); }

inline const void* Ptr(uint64_t value) { return reinterpret_cast<const void*>(static_cast<uintptr_t>(value)); }

}  // namespace samples
