// async_test_support.h - what the tests of tests/async share: a Machine (traced) with the
// async_test driver loaded and an app process whose main thread the test thread runs as
// (so its waits are the app thread's waits, and the I/O manager's completions are queued
// to it), plus helpers to order the driver around and read the trace.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ke/bugcheck.h"
#include "machine.h"
#include "support/trace_support.h"
#include "system.h"
#include "windows.h"
// after windows.h: it uses ULONG and CTL_CODE
#include "async_test_public.h"

namespace async_test {

inline ASYNC_ORDER Order(ULONG pend, NTSTATUS ret, NTSTATUS final_status, ULONG information = 8, ULONG delay_ms = 10,
                         ULONG cancelable = 0)
{
    ASYNC_ORDER order{};
    order.Pend = pend;
    order.Return = ret;
    order.Final = final_status;
    order.Information = information;
    order.DelayMs = delay_ms;
    order.Cancelable = cancelable;
    return order;
}

// Holds the order for a pended request: a correct driver (IoMarkIrpPending, STATUS_PENDING)
// that completes with `final_status` after `delay_ms` (0: when released).
inline ASYNC_ORDER Pended(NTSTATUS final_status, ULONG delay_ms = 10, ULONG information = 8, ULONG cancelable = 0)
{
    return Order(1, STATUS_PENDING, final_status, information, delay_ms, cancelable);
}

class AsyncTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string message;
        ASSERT_EQ(machine.load_driver("async_test", "async_test.sys", &message), STATUS_SUCCESS) << message;
        app = machine.create_process("async_app.exe");
        in_app = std::make_unique<iosim::ThreadSwitch>(machine.system().main_thread(app));
    }

    void TearDown() override
    {
        in_app.reset();
        if (!machine.system().dead() && app != nullptr)
            machine.end_process(app);
    }

    HANDLE Open(bool overlapped)
    {
        return CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\AsyncTest"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, nullptr);
    }

    // Completes every held request, from a request of its own (on a handle of its own).
    void Release()
    {
        HANDLE h = Open(false);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_ASYNC_RELEASE, nullptr, 0, nullptr, 0, &bytes, nullptr));
        CloseHandle(h);
    }

    ULONG HeldCount()
    {
        HANDLE h = Open(false);
        ULONG count = 0;
        DWORD bytes = 0;
        EXPECT_TRUE(DeviceIoControl(h, IOCTL_ASYNC_COUNT, nullptr, 0, &count, sizeof(count), &bytes, nullptr));
        CloseHandle(h);
        return count;
    }

    iosim::System& system() { return machine.system(); }
    DWORD AppTid() { return system().main_thread(app)->tid(); }

    std::vector<std::string> Trace() { return iosim_test::trace_lines(system()); }
    std::string TraceDump() { return iosim_test::trace_dump(system()); }
    // The first line containing `pattern`, or "".
    std::string FirstLine(const std::string& pattern) { return iosim_test::first_line(system(), pattern); }
    // True if lines containing each pattern appear in this order.
    bool InOrder(const std::vector<std::string>& patterns) { return iosim_test::in_order(system(), patterns); }
    std::vector<std::string> FindingCodes()
    {
        std::vector<std::string> codes;
        for (const auto& f : system().findings())
            codes.push_back(f.code);
        return codes;
    }
    bool HasFinding(const std::string& code)
    {
        auto codes = FindingCodes();
        return std::find(codes.begin(), codes.end(), code) != codes.end();
    }
    std::string FindingsDump()
    {
        std::string out;
        for (const auto& f : system().findings())
            out += "    " + f.code + ": " + f.message + "\n";
        return out;
    }

    iosim::Machine machine{iosim::Machine::Options{.trace = true,
                                                   .debug_output = [](std::string_view, std::string_view) {}}};
    iosim::Process* app = nullptr;
    std::unique_ptr<iosim::ThreadSwitch> in_app;
};

}  // namespace async_test
