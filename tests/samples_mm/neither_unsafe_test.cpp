// neither_unsafe_test.cpp - a kept METHOD_NEITHER pointer: right context works, wrong context is 0x50.
//
// The unsafe driver keeps the raw user address of an IOCTL_UNSAFE_REMEMBER and reads
// through it, without probe or __try, whenever IOCTL_UNSAFE_USE_REMEMBERED arrives (and at
// DriverUnload if asked). From the remembering process that works; from another process,
// or from the System process at unload, the page fault is the bug check
// PAGE_FAULT_IN_NONPAGED_AREA (0x50), whose report names the driver line, the address, the
// process that owns it and the current one.
//
// The fault handler throws that bug check from the faulting driver line (ke/fault.cpp), so
// the wrong-context tests catch it like any other bug check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include "ke/bugcheck.h"

#include <cstdio>
#include <cstring>
#include <regex>

#include "neither_unsafe/neither_unsafe_public.h"
#include "samples_support.h"
#include "winioctl.h"

using namespace iosim;
using samples::Hex;

namespace {

constexpr char16_t kDevice[] = u"\\\\.\\IosimNeitherUnsafe";

// DeviceIoControl on a fresh handle, in the current process.
BOOL Control(DWORD code, void* input, DWORD in_length, void* output, DWORD out_length, DWORD* bytes)
{
    HANDLE h = e2e::OpenDevice(kDevice, GENERIC_READ | GENERIC_WRITE);
    EXPECT_NE(h, INVALID_HANDLE_VALUE);
    *bytes = 0;
    BOOL ok = DeviceIoControl(h, code, input, in_length, output, out_length, bytes, nullptr);
    CloseHandle(h);
    return ok;
}

// Alice hands the driver a buffer of her heap holding "alice's secret"; returns it.
char* AliceRemembers(e2e::Win32Process& alice)
{
    return alice.Run([] {
        auto* buffer = static_cast<char*>(current_process()->memory->heap->allocate(32, true));
        std::strcpy(buffer, "alice's secret");
        DWORD bytes = 0;
        EXPECT_TRUE(Control(IOCTL_UNSAFE_REMEMBER, buffer, 32, nullptr, 0, &bytes)) << GetLastError();
        return buffer;
    });
}

std::string UseRemembered(DWORD* error)
{
    char out[33] = {};
    DWORD bytes = 0;
    BOOL ok = Control(IOCTL_UNSAFE_USE_REMEMBERED, nullptr, 0, out, 32, &bytes);
    *error = ok ? 0 : GetLastError();
    return std::string(out, bytes);
}

// The wrong-context runs. Each returns alice's buffer address line followed by the bug
// check report (or a note that nothing stopped the machine).
std::string BobUsesAlicesPointer()
{
    samples::Rig rig;
    EXPECT_EQ(rig.machine.load_driver("neither_unsafe", "neither_unsafe.sys"), STATUS_SUCCESS);
    e2e::Win32Process alice(rig.machine, "alice.exe");
    e2e::Win32Process bob(rig.machine, "bob.exe");
    char* buffer = AliceRemembers(alice);
    std::string output = fmt::format("alice's buffer is at 0x{:X}\n", mm::addr(buffer));
    DWORD error = 0;
    try {
        bob.Run([&] { UseRemembered(&error); });
    } catch (const BugCheck& stop) {
        return output + stop.info().report;
    }
    return output + "no bug check";
}

std::string UnloadTouchesAlicesPointer()
{
    samples::Rig rig;
    EXPECT_EQ(rig.machine.load_driver("neither_unsafe", "neither_unsafe.sys"), STATUS_SUCCESS);
    e2e::Win32Process alice(rig.machine, "alice.exe");
    char* buffer = AliceRemembers(alice);
    std::string output = fmt::format("alice's buffer is at 0x{:X}\n", mm::addr(buffer));
    DWORD bytes = 0;
    alice.Run([&] { Control(IOCTL_UNSAFE_TOUCH_AT_UNLOAD, nullptr, 0, nullptr, 0, &bytes); });
    try {
        rig.machine.unload_driver("neither_unsafe");  // DriverUnload runs in a system thread
    } catch (const BugCheck& stop) {
        return output + stop.info().report;
    }
    return output + "no bug check";
}

// The report of a read through alice's kept pointer while `current` (a regex) was the
// context, at the driver line `line` in `routine`. The address must be the one the run
// printed for alice's buffer.
bool IsWrongContextReport(const std::string& output, const std::string& current, const char* routine, int line)
{
    std::smatch m;
    if (!std::regex_search(output, m, std::regex("alice's buffer is at 0x([0-9A-F]+)")))
        return false;
    std::string address = "0x" + m[1].str();
    std::string why = "The driver read from address " + address +
                      ", which belongs to process [0-9]+ \\(alice\\.exe\\), while running in the context of " + current +
                      "\\. A user address means something only in its own process";
    return output.find(fmt::format("*** STOP: 0x00000050 (0x{:016X},", Hex(m[1].str()))) != std::string::npos &&
           output.find("PAGE_FAULT_IN_NONPAGED_AREA (bug check 0x50)") != std::string::npos &&
           std::regex_search(output, std::regex(why)) &&
           output.find(fmt::format("Where:  neither_unsafe.c:{} in {} (neither_unsafe.sys)", line, routine)) !=
               std::string::npos;
}

}  // namespace

TEST(NeitherUnsafeSample, TheAppsRightContextTwinReadsItsLiveBuffer)
{
    samples::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("neither_unsafe", "neither_unsafe.sys"), STATUS_SUCCESS);
    auto result = rig.machine.run_app("neither_unsafe_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    auto lines = e2e::SplitLines(result.output);
    EXPECT_TRUE(e2e::InOrder(lines, {"the driver remembers 32 bytes at", "the app changed its buffer to",
                                     "the driver read 32 bytes through the remembered pointer: \"changed afterwards\""}));
    EXPECT_EQ(rig.machine.unload_driver("neither_unsafe"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.Findings();
}

TEST(NeitherUnsafeSample, FromTheRememberingProcessTheKeptPointerWorks)
{
    samples::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("neither_unsafe", "neither_unsafe.sys"), STATUS_SUCCESS);
    e2e::Win32Process alice(rig.machine, "alice.exe");
    char* buffer = AliceRemembers(alice);
    DWORD error = 0;
    EXPECT_EQ(alice.Run([&] { return UseRemembered(&error); }).c_str(), std::string("alice's secret"));
    EXPECT_EQ(error, 0u);
    // The driver kept the address, not the bytes.
    alice.Run([&] { std::strcpy(buffer, "rewritten"); });
    EXPECT_EQ(alice.Run([&] { return UseRemembered(&error); }).c_str(), std::string("rewritten"));
    alice.End();
    EXPECT_EQ(rig.machine.unload_driver("neither_unsafe"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.Findings();
}

TEST(NeitherUnsafeSample, FromAnotherProcessTheKeptPointerIsPageFaultInNonpagedArea)
{
    int line = samples::DriverLine("neither_unsafe/neither_unsafe.c", "the hazard: a kept user pointer");
    ASSERT_GT(line, 0);
    std::string output = BobUsesAlicesPointer();
    EXPECT_TRUE(IsWrongContextReport(output, "process [0-9]+ \\(bob\\.exe\\)", "UnsafeControl", line)) << output;
}

TEST(NeitherUnsafeSample, AtUnloadTheKeptPointerIsPageFaultInNonpagedAreaInTheSystemProcess)
{
    int line = samples::DriverLine("neither_unsafe/neither_unsafe.c", "the hazard at unload");
    ASSERT_GT(line, 0);
    std::string output = UnloadTouchesAlicesPointer();
    EXPECT_TRUE(IsWrongContextReport(output, "the System process", "UnsafeUnload", line)) << output;
}
