// neither_test.cpp - METHOD_NEITHER done safely: probes and __try/__except in a C driver.
//
// The I/O manager passes METHOD_NEITHER buffers unchecked (Type3InputBuffer,
// Irp->UserBuffer). The careful driver probes them and touches them inside __try; every
// bad buffer then fails the request with the exception's code, which kernel32 turns into
// ERROR_NOACCESS (998), and the machine goes on.
#include <gtest/gtest.h>

#include <cstring>

#include "neither/neither_public.h"
#include "samples_support.h"
#include "wdm_impl.h"
#include "winioctl.h"

using namespace iosim;

namespace {

constexpr char16_t kDevice[] = u"\\\\.\\IosimNeither";
constexpr ULONG kTestTag = 0x74736554;  // 'tseT'

// One IOCTL_NEITHER_UPPER in the current process: (ok, GetLastError(), bytes).
struct Answer {
    BOOL ok = FALSE;
    DWORD error = 0;
    DWORD bytes = 0;
};
Answer Upper(const void* input, DWORD in_length, void* output, DWORD out_length)
{
    HANDLE h = e2e::OpenDevice(kDevice, GENERIC_READ | GENERIC_WRITE);
    EXPECT_NE(h, INVALID_HANDLE_VALUE);
    Answer answer;
    answer.ok = DeviceIoControl(h, IOCTL_NEITHER_UPPER, const_cast<void*>(input), in_length, output, out_length,
                                &answer.bytes, nullptr);
    answer.error = answer.ok ? 0 : GetLastError();
    CloseHandle(h);
    return answer;
}

}  // namespace

TEST(NeitherSample, GoodBuffersWorkAndEveryBadOneFailsWithErrorNoaccess)
{
    samples::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("neither", "neither.sys"), STATUS_SUCCESS);
    auto result = rig.machine.run_app("neither_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    auto lines = e2e::SplitLines(result.output);
    EXPECT_TRUE(e2e::InOrder(lines, {
                                        "1: upper-case, good buffers: ok, 14 bytes: \"HELLO, NEITHER\"",
                                        "2: upper-case, input freed with VirtualFree: failed, GetLastError() = 998",
                                        "3: upper-case, output at 0x10: failed, GetLastError() = 998",
                                        "4: upper-case, read-only output page: failed, GetLastError() = 998",
                                        "5: sum, aligned array: ok, 4 bytes: 10",
                                        "6: sum, array one byte off: failed, GetLastError() = 998",
                                        "7: upper-case, good buffers again: ok, 10 bytes: \"STILL HERE\"",
                                    }));
    // The driver's __except saw the access violations, and the misalignment from the probe.
    EXPECT_EQ(e2e::CountContaining(rig.debug, "raised 0xC0000005"), 3u) << e2e::Join(rig.debug);
    EXPECT_EQ(e2e::CountContaining(rig.debug, "raised 0x80000002"), 1u) << e2e::Join(rig.debug);
    EXPECT_EQ(rig.machine.unload_driver("neither"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.Findings();
}

// The point of ProbeForRead: a caller may pass a kernel address as its "input" to make the
// driver read kernel memory for it. The probe refuses the range before any byte is read.
TEST(NeitherSample, AKernelAddressPassedAsInputIsRefusedByTheProbe)
{
    samples::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("neither", "neither.sys"), STATUS_SUCCESS);
    auto* secret = static_cast<char*>(ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, kTestTag));
    ASSERT_NE(secret, nullptr);
    std::strcpy(secret, "kernel secret");
    ASSERT_EQ(rig.memory().classify(secret).region, mm::Region::System);
    e2e::Win32Process app(rig.machine, "snoop.exe");
    char output[64] = {};
    Answer answer = app.Run([&] { return Upper(secret, 13, output, sizeof(output)); });
    EXPECT_FALSE(answer.ok);
    EXPECT_EQ(answer.error, static_cast<DWORD>(ERROR_NOACCESS));
    EXPECT_EQ(answer.bytes, 0u);
    EXPECT_EQ(std::string(output), "") << "nothing of the kernel buffer reached the caller";
    // A fault on a system address is never an exception, so the driver's __except could
    // only have received this from the probe.
    EXPECT_EQ(e2e::CountContaining(rig.debug, "raised 0xC0000005"), 1u) << e2e::Join(rig.debug);
    ExFreePoolWithTag(secret, kTestTag);
    app.End();
    EXPECT_EQ(rig.machine.unload_driver("neither"), STATUS_SUCCESS);
}

// ProbeForRead cannot tell whose user address it is: another process's buffer passes the
// probe. The read then faults (that page is not mapped in this context), inside __try.
TEST(NeitherSample, AnotherProcesssBufferFaultsInsideTryAndFailsTheRequestOnly)
{
    samples::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("neither", "neither.sys"), STATUS_SUCCESS);
    e2e::Win32Process owner(rig.machine, "owner.exe");
    e2e::Win32Process thief(rig.machine, "thief.exe");
    char* theirs = owner.Run([] {
        auto* p = static_cast<char*>(HeapAlloc(GetProcessHeap(), 0, 32));
        std::strcpy(p, "owner's text");
        return p;
    });
    ASSERT_EQ(rig.memory().classify(theirs).owner, owner.process());
    char output[64] = {};
    Answer stolen = thief.Run([&] { return Upper(theirs, 12, output, sizeof(output)); });
    EXPECT_FALSE(stolen.ok);
    EXPECT_EQ(stolen.error, static_cast<DWORD>(ERROR_NOACCESS));
    EXPECT_EQ(std::string(output), "");
    // The owner itself gets its answer: same driver, same buffer, the right context.
    Answer own = owner.Run([&] { return Upper(theirs, 12, output, sizeof(output)); });
    EXPECT_TRUE(own.ok) << own.error;
    EXPECT_EQ(std::string(output, own.bytes), "OWNER'S TEXT");
    owner.End();
    thief.End();
    EXPECT_EQ(rig.machine.unload_driver("neither"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.Findings();
}
