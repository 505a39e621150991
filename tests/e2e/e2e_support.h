// e2e_support.h - helpers for the end-to-end tests.
//
//  Rig          a Machine with tracing on that keeps every DbgPrint line ("module: text")
//               and swallows app console output (run_app returns it anyway).
//  InOrder      "these patterns appear in these lines, in this order".
//  Win32Process a simulated process whose thread a test can borrow to call the Win32 API
//               (CreateFileW, DeviceIoControl, ...) directly.
//  SourceLine   the line number of a marker comment in a test driver's source, so reports
//               that name source lines can be checked without hard-coding numbers.
// The test binary is iosim's own code (IOSIM_IMPLEMENTATION): WCHAR is char16_t, so wide
// names are written u"..." and cast to LPCWSTR.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "machine.h"
#include "ob/object.h"
#include "ps/process.h"
#include "windows.h"

namespace e2e {

inline std::string Join(const std::vector<std::string>& lines)
{
    std::string out;
    for (const auto& line : lines)
        out += "    " + line + "\n";
    return out;
}

inline std::vector<std::string> SplitLines(std::string_view text)
{
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string line(text.substr(start, end - start));
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(std::move(line));
        start = end + 1;
    }
    return lines;
}

// Each pattern must be a substring of a line after the line that matched the previous one.
inline testing::AssertionResult InOrder(const std::vector<std::string>& lines, std::initializer_list<std::string> patterns)
{
    size_t at = 0;
    for (const auto& pattern : patterns) {
        size_t i = at;
        while (i < lines.size() && lines[i].find(pattern) == std::string::npos)
            ++i;
        if (i == lines.size())
            return testing::AssertionFailure() << "\"" << pattern << "\" not found at or after line " << at
                                               << " of:\n" << Join(lines);
        at = i + 1;
    }
    return testing::AssertionSuccess();
}

inline size_t CountContaining(const std::vector<std::string>& lines, std::string_view pattern)
{
    size_t n = 0;
    for (const auto& line : lines)
        n += line.find(pattern) != std::string::npos ? 1 : 0;
    return n;
}

class Rig {
public:
    Rig() : machine(MakeOptions()) {}

    std::vector<std::string> debug;  // "module.sys: text", in order
    iosim::Machine machine;

    iosim::System& system() { return machine.system(); }

    // The trace as text, one entry per event.
    std::vector<std::string> Trace()
    {
        std::vector<std::string> lines;
        for (const auto& event : system().trace().events())
            lines.push_back(event.text);
        return lines;
    }
    // Texts of the events about IRP number `irp`.
    std::vector<std::string> TraceOfIrp(uint64_t irp)
    {
        std::vector<std::string> lines;
        for (const auto& event : system().trace().events())
            if (event.irp == irp)
                lines.push_back(event.text);
        return lines;
    }
    // The IRP number of the first event whose text contains `pattern` (0: none).
    uint64_t IrpOf(std::string_view pattern)
    {
        for (const auto& event : system().trace().events())
            if (event.irp != 0 && event.text.find(pattern) != std::string::npos)
                return event.irp;
        return 0;
    }
    std::string TraceDump()
    {
        std::string out;
        for (const auto& event : system().trace().events())
            out += iosim::trace::Trace::format(event) + "\n";
        return out;
    }
    std::vector<std::string> FindingCodes()
    {
        std::vector<std::string> codes;
        for (const auto& finding : system().findings())
            codes.push_back(finding.code);
        return codes;
    }
    std::string FindingsDump()
    {
        std::string out;
        for (const auto& finding : system().findings()) {
            out += finding.code + ": " + finding.message + " [" + finding.location + "]\n";
            for (const auto& detail : finding.details)
                out += "    " + detail + "\n";
        }
        return out;
    }
    // True if `path` names an object in the namespace now.
    bool Exists(std::u16string_view path)
    {
        auto found = system().ns().lookup(path, /*open_link=*/true);
        if (found.object != nullptr)
            iosim::ob::dereference(found.object);
        return NT_SUCCESS(found.status) && found.remaining.empty();
    }

private:
    iosim::Machine::Options MakeOptions()
    {
        iosim::Machine::Options options;
        options.trace = true;
        options.app_output = [](uint32_t, const std::string&, std::string_view) {};
        options.debug_output = [this](std::string_view module, std::string_view text) {
            debug.push_back(std::string(module) + ": " + std::string(text));
        };
        return options;
    }
};

// A process for direct Win32 calls. run() executes code in its main thread. Ended (its
// handles closed) when the object goes, unless abandon() was called after a bug check.
class Win32Process {
public:
    explicit Win32Process(iosim::Machine& machine, const std::string& image = "e2e_test.exe")
        : machine_(machine), process_(machine.create_process(image))
    {
    }
    ~Win32Process()
    {
        if (!ended_)
            End();
    }
    Win32Process(const Win32Process&) = delete;
    Win32Process& operator=(const Win32Process&) = delete;

    template <class F>
    decltype(auto) Run(F&& f)
    {
        iosim::ThreadSwitch in_process(machine_.system().main_thread(process_));
        return f();
    }
    void End()
    {
        ended_ = true;
        machine_.end_process(process_);
    }
    void Abandon() { ended_ = true; }  // after a bug check: the dead Machine keeps it
    iosim::Process* process() const { return process_; }

private:
    iosim::Machine& machine_;
    iosim::Process* process_;
    bool ended_ = false;
};

inline HANDLE OpenDevice(const char16_t* win32_name, DWORD access)
{
    return CreateFileW(reinterpret_cast<LPCWSTR>(win32_name), access, 0, nullptr, OPEN_EXISTING,
                       FILE_ATTRIBUTE_NORMAL, nullptr);
}

// 1-based number of the first line of tests/e2e/<relative_path> containing `marker` (0: none).
inline int SourceLine(const std::string& relative_path, std::string_view marker)
{
    std::filesystem::path path = std::filesystem::path(__FILE__).parent_path() / relative_path;
    std::ifstream in(path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number)
        if (line.find(marker) != std::string::npos)
            return number;
    return 0;
}

}  // namespace e2e
