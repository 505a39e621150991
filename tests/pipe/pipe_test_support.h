// pipe_test_support.h - what the tests of tests/pipe share: a traced Machine and an app
// process whose main thread the test thread runs as (so kernel32 calls are the app's and
// its waits are real scheduler waits), helpers to create pipe ends and read the trace.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "machine.h"
#include "support/trace_support.h"
#include "system.h"
#include "windows.h"

namespace pipe_test {

inline LPCWSTR W(const char16_t* s) { return reinterpret_cast<LPCWSTR>(s); }

class PipeTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        app = machine.create_process("pipe_app.exe");
        in_app = std::make_unique<iosim::ThreadSwitch>(machine.system().main_thread(app));
    }

    void TearDown() override
    {
        in_app.reset();
        if (!machine.system().dead() && app != nullptr)
            machine.end_process(app);
        auto leftovers = machine.shutdown();
        EXPECT_TRUE(leftovers.empty()) << (leftovers.empty() ? "" : leftovers.front());
    }

    // A server end of \\.\pipe\<name>.
    HANDLE Server(const char16_t* name, DWORD pipe_mode = PIPE_TYPE_BYTE | PIPE_READMODE_BYTE, DWORD max = 1,
                  bool overlapped = false, DWORD access = PIPE_ACCESS_DUPLEX, DWORD timeout_ms = 0)
    {
        std::u16string full = std::u16string(u"\\\\.\\pipe\\") + name;
        return CreateNamedPipeW(W(full.c_str()), access | (overlapped ? FILE_FLAG_OVERLAPPED : 0), pipe_mode, max,
                                512, 512, timeout_ms, nullptr);
    }

    // A client end (CreateFile on \\.\pipe\<name>).
    HANDLE Client(const char16_t* name, bool overlapped = false, DWORD access = GENERIC_READ | GENERIC_WRITE)
    {
        std::u16string full = std::u16string(u"\\\\.\\pipe\\") + name;
        return CreateFileW(W(full.c_str()), access, 0, nullptr, OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0,
                           nullptr);
    }

    static bool Write(HANDLE h, const std::string& text)
    {
        DWORD n = 0;
        return WriteFile(h, text.data(), static_cast<DWORD>(text.size()), &n, nullptr) && n == text.size();
    }

    std::vector<std::string> Trace() { return iosim_test::trace_lines(machine.system()); }
    std::string TraceDump() { return iosim_test::trace_dump(machine.system()); }
    // The first line containing `pattern`, or "".
    std::string FirstLine(const std::string& pattern) { return iosim_test::first_line(machine.system(), pattern); }
    // True if lines containing each pattern appear in this order.
    bool InOrder(const std::vector<std::string>& patterns) { return iosim_test::in_order(machine.system(), patterns); }

    iosim::Machine machine{iosim::Machine::Options{.trace = true,
                                                   .debug_output = [](std::string_view, std::string_view) {}}};
    iosim::Process* app = nullptr;
    std::unique_ptr<iosim::ThreadSwitch> in_app;
};

}  // namespace pipe_test
