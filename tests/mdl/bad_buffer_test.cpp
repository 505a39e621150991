// bad_buffer_test.cpp - the I/O manager validates user buffers before building an IRP, as
// NtReadFile / NtWriteFile / NtDeviceIoControlFile do: a bad pointer fails the call with
// STATUS_ACCESS_VIOLATION, which the app sees as ERROR_NOACCESS (998), and the driver is
// never called. METHOD_NEITHER is the exception: nobody checks, so the driver's own probe
// (inside __try) catches it. Nothing here may crash the host.
#include "support/sanitizer.h"
#include "mdl_test_support.h"

using namespace mdl_test;

namespace {

// Runs `call` in the app; expects it to fail with ERROR_NOACCESS without reaching the driver.
template <class F>
void ExpectRefused(MdlRig& rig, F&& call)
{
    ULONG before = rig.seen().Requests;
    rig.In([&] {
        SetLastError(0);
        EXPECT_FALSE(call());
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOACCESS));
    });
    EXPECT_EQ(rig.seen().Requests, before) << "no IRP reached the driver";
}

// A page of system space: a kernel address an app must not pass.
char* KernelPage(MdlRig& rig) { return static_cast<char*>(rig.memory().system_space().allocate(1, "test page")); }

// Reserved but never committed user memory.
char* UncommittedPage(MdlRig& rig) { return static_cast<char*>(rig.app->memory->space->reserve(1, "reserved")); }

HANDLE Opened(MdlRig& rig, const char16_t* name)
{
    return rig.In([&] { return MdlRig::Open(name); });
}

}  // namespace

TEST(BadBuffer, BufferedReadIntoAKernelAddressFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kBuffered);
    char* kernel = KernelPage(rig);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return ReadFile(h, kernel, 16, &bytes, nullptr); });
    EXPECT_EQ(kernel[0], 0) << "nothing was written there";
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, BufferedWriteFromAnUncommittedPageFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kBuffered);
    char* reserved = UncommittedPage(rig);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return WriteFile(h, reserved, 16, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, BufferedReadIntoAReadOnlyPageFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kBuffered);
    char* page = rig.Pages(1, PAGE_READONLY);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return ReadFile(h, page, 16, &bytes, nullptr); });  // NtReadFile's ProbeForWrite
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, ReadWithANullBufferAndANonZeroLengthFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kBuffered);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return ReadFile(h, nullptr, 10, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, ZeroLengthIsNeverProbed)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kBuffered);
    DWORD bytes = 1;
    rig.In([&] { EXPECT_TRUE(ReadFile(h, KernelPage(rig), 0, &bytes, nullptr)); });
    EXPECT_EQ(bytes, 0u);
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, DirectReadIntoFreedMemoryFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kDirect);
    char* freed = rig.Pages(1);
    ASSERT_EQ(rig.app->memory->space->release(freed), STATUS_SUCCESS);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return ReadFile(h, freed, 100, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, DirectReadRunningIntoAnUncommittedPageFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kDirect);
    auto* base = static_cast<char*>(rig.app->memory->space->reserve(2, "VirtualAlloc"));
    ASSERT_EQ(rig.app->memory->space->commit(base, 1, PAGE_READWRITE), STATUS_SUCCESS);  // the second page is not
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return ReadFile(h, base + 4000, 200, &bytes, nullptr); });
    EXPECT_EQ(rig.memory().physical().refs(rig.FrameOf(base)), 1u) << "the first page's lock was not kept";
    rig.In([&] { CloseHandle(h); });
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(BadBuffer, DirectWriteFromAKernelAddressFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kDirect);
    char* kernel = KernelPage(rig);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return WriteFile(h, kernel, 32, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, AnotherProcesssBufferIsNotThereInThisContext)
{
    MdlRig rig;
    Process* other = rig.machine.create_process("other.exe");
    auto* theirs = static_cast<char*>(other->memory->space->allocate(1, "VirtualAlloc"));
    HANDLE h = Opened(rig, kDirect);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return ReadFile(h, theirs, 64, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
    rig.machine.end_process(other);
}

TEST(BadBuffer, NeitherDeviceReadIntoAKernelAddressIsRefusedByTheIoManagersProbe)
{
    // NtReadFile probes the buffer for write whatever the device's transfer method.
    MdlRig rig;
    HANDLE h = Opened(rig, kNeither);
    char* kernel = KernelPage(rig);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return ReadFile(h, kernel, 16, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, MethodBufferedWithABadInputPointerFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kDirect);
    char* reserved = UncommittedPage(rig);
    char* output = rig.Pages(1);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return DeviceIoControl(h, IOCTL_MDL_BUFFERED, reserved, 8, output, 8, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, MethodBufferedWithAKernelOutputPointerFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kDirect);
    char* input = rig.Pages(1);
    char* kernel = KernelPage(rig);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return DeviceIoControl(h, IOCTL_MDL_BUFFERED, input, 8, kernel, 8, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, MethodInDirectWithABadInputPointerFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kDirect);
    char* reserved = UncommittedPage(rig);
    char* output = rig.Pages(1);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return DeviceIoControl(h, IOCTL_MDL_IN_DIRECT, reserved, 8, output, 8, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, MethodOutDirectWithAKernelOutputPointerFailsWithErrorNoAccess)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kDirect);
    char* kernel = KernelPage(rig);
    DWORD bytes = 0;
    ExpectRefused(rig, [&] { return DeviceIoControl(h, IOCTL_MDL_OUT_DIRECT, nullptr, 0, kernel, 64, &bytes, nullptr); });
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, MethodNeitherBadPointerReachesTheDriverWhoseOwnProbeCatchesIt)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kDirect);
    char* input = rig.Pages(1);
    char* kernel = KernelPage(rig);
    char* reserved = UncommittedPage(rig);
    ULONG before = rig.seen().Requests;
    rig.In([&] {
        DWORD bytes = 0;
        SetLastError(0);
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_MDL_NEITHER, input, 8, kernel, 8, &bytes, nullptr));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOACCESS));
        EXPECT_EQ(rig.seen().Status, STATUS_ACCESS_VIOLATION) << "ProbeForWrite raised inside the driver's __try";
        SetLastError(0);
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_MDL_NEITHER, reserved, 8, input, 8, &bytes, nullptr));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOACCESS));
        EXPECT_EQ(rig.seen().Status, STATUS_ACCESS_VIOLATION) << "the copy from an uncommitted page faulted in __try";
        CloseHandle(h);
    });
    EXPECT_EQ(rig.seen().Requests, before + 2) << "METHOD_NEITHER buffers are not validated: the driver was called";
}

TEST(BadBuffer, TheTraceSaysWhyNoIrpWasSent)
{
    MdlRig rig;
    HANDLE h = Opened(rig, kBuffered);
    char* kernel = KernelPage(rig);
    DWORD bytes = 0;
    rig.In([&] { ReadFile(h, kernel, 16, &bytes, nullptr); });
    bool found = false;
    for (const auto& event : rig.system().trace().events())
        found = found || event.text.find("ReadFile refused: the caller's data buffer") != std::string::npos;
    EXPECT_TRUE(found);
    rig.In([&] { CloseHandle(h); });
}

TEST(BadBuffer, AWildPointerFailsWithErrorNoAccessWhateverTheTransferMethod)
{
    IOSIM_SKIP_UNDER_TSAN_LAYOUT();
    // An address nothing is mapped at: not iosim's memory, not the host's either.
    MdlRig rig;
    auto* wild = reinterpret_cast<char*>(uintptr_t{0x0000'5A5A'0000'0000});
    for (const char16_t* device : {kBuffered, kDirect}) {
        HANDLE h = Opened(rig, device);
        DWORD bytes = 0;
        ExpectRefused(rig, [&] { return WriteFile(h, wild, 16, &bytes, nullptr); });
        ExpectRefused(rig, [&] { return ReadFile(h, wild, 16, &bytes, nullptr); });
        rig.In([&] { CloseHandle(h); });
    }
}
