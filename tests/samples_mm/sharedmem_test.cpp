// sharedmem_test.cpp - seed 002's shared-memory channel: a pool buffer mapped into an app.
//
// The driver maps its non-paged pool buffer into the calling process through an MDL
// (MmMapLockedPagesSpecifyCache, UserMode). The tests check that the app's address and
// the driver's are different addresses of the same physical frames, that data written on
// either side is seen on the other without a copy, that the mapping belongs to the process
// that asked (only it may unmap; another process neither sees nor maps it meanwhile), and
// that closing the handle without unmapping removes the mapping at IRP_MJ_CLEANUP.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstring>
#include <regex>

#include "samples_support.h"
#include "sharedmem/sharedmem_public.h"
#include "winioctl.h"

using namespace iosim;
using samples::Hex;
using samples::Ptr;

namespace {

constexpr char16_t kDevice[] = u"\\\\.\\IosimSharedMem";
const std::regex kMappedLine(R"(kernel buffer ([0-9A-F]+) mapped at user address ([0-9A-F]+) in process)");

BOOL Control(HANDLE h, DWORD code, void* output, DWORD out_length, DWORD* bytes, DWORD* error)
{
    *bytes = 0;
    BOOL ok = DeviceIoControl(h, code, nullptr, 0, output, out_length, bytes, nullptr);
    *error = ok ? 0 : GetLastError();
    return ok;
}

// Checks, page by page, that two addresses of SHAREDMEM_SIZE bytes share their frames.
void ExpectSameFrames(mm::MemoryManager& memory, uint64_t kernel, uint64_t user)
{
    for (uint64_t offset : {uint64_t{0}, uint64_t{4096}, uint64_t{SHAREDMEM_SIZE - 1}}) {
        auto k = memory.pfn_of(Ptr(kernel + offset));
        auto u = memory.pfn_of(Ptr(user + offset));
        ASSERT_TRUE(k.has_value()) << offset;
        ASSERT_TRUE(u.has_value()) << offset;
        EXPECT_EQ(*k, *u) << "byte " << offset << ": one frame behind both addresses";
    }
}

}  // namespace

TEST(SharedMemSample, TheAppReadsAndWritesTheDriversBufferThroughItsOwnMapping)
{
    samples::Rig rig;
    uint64_t kernel = 0, user = 0;
    rig.on_debug = [&](const std::string& text) {
        std::smatch m;
        if (!std::regex_search(text, m, kMappedLine))
            return;
        kernel = Hex(m[1]);
        user = Hex(m[2]);
        // Now, while the app is current: what each address is.
        mm::AddressInfo u = rig.memory().classify(Ptr(user));
        EXPECT_EQ(u.region, mm::Region::User);
        ASSERT_NE(u.owner, nullptr);
        EXPECT_EQ(u.owner->image_name(), "sharedmem_client.exe");
        EXPECT_EQ(u.page.vad.purpose, "MDL user mapping");
        EXPECT_EQ(rig.memory().classify(Ptr(kernel)).region, mm::Region::System);
        ExpectSameFrames(rig.memory(), kernel, user);
    };
    ASSERT_EQ(rig.machine.load_driver("sharedmem", "sharedmem.sys"), STATUS_SUCCESS);
    auto result = rig.machine.run_app("sharedmem_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    ASSERT_NE(user, 0u) << e2e::Join(rig.debug);
    EXPECT_NE(user, kernel) << "two virtual addresses";
    auto lines = e2e::SplitLines(result.output);
    EXPECT_TRUE(e2e::InOrder(
        lines, {fmt::format("1: the driver's buffer is mapped at {:016X} in this process (8192 bytes)", user),
                "2: read through the mapping: \"message #1 from the sharedmem driver\"",
                "3: the driver sees 36 bytes at its own address: \"reply from the app, written in place\"",
                "4: the same address now reads: \"message #2 from the sharedmem driver\"",
                fmt::format("5: unmapped; {:016X} is no longer this process's memory", user)}));
    EXPECT_EQ(e2e::CountContaining(rig.debug, "unmapping user address"), 1u) << e2e::Join(rig.debug);
    EXPECT_EQ(rig.machine.unload_driver("sharedmem"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.Findings();
}

TEST(SharedMemSample, BothDirectionsGoThroughTheSameFramesAndTheMappingBelongsToOneProcess)
{
    samples::Rig rig;
    uint64_t kernel = 0;
    rig.on_debug = [&](const std::string& text) {
        std::smatch m;
        if (std::regex_search(text, m, kMappedLine))
            kernel = Hex(m[1]);
    };
    ASSERT_EQ(rig.machine.load_driver("sharedmem", "sharedmem.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine, "app.exe");
    e2e::Win32Process other(rig.machine, "other.exe");
    HANDLE h = app.Run([] { return e2e::OpenDevice(kDevice, GENERIC_READ | GENERIC_WRITE); });
    HANDLE other_h = other.Run([] { return e2e::OpenDevice(kDevice, GENERIC_READ | GENERIC_WRITE); });
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    ASSERT_NE(other_h, INVALID_HANDLE_VALUE);
    DWORD bytes = 0, error = 0;

    SHAREDMEM_MAPPING mapping{};
    ASSERT_TRUE(app.Run([&] { return Control(h, IOCTL_SHAREDMEM_MAP, &mapping, sizeof(mapping), &bytes, &error); }))
        << error;
    auto* user = reinterpret_cast<char*>(static_cast<uintptr_t>(mapping.UserAddress));
    auto* kern = reinterpret_cast<char*>(static_cast<uintptr_t>(kernel));
    ASSERT_NE(kern, nullptr);
    EXPECT_EQ(mapping.Size, static_cast<ULONG>(SHAREDMEM_SIZE));
    EXPECT_NE(user, kern);
    ExpectSameFrames(rig.memory(), kernel, mapping.UserAddress);

    // Driver -> app: the driver writes at its kernel address, the app reads at its own.
    app.Run([&] { Control(h, IOCTL_SHAREDMEM_POST_MESSAGE, nullptr, 0, &bytes, &error); });
    EXPECT_STREQ(app.Run([&] { return std::string(user + SHAREDMEM_MESSAGE_OFFSET); }).c_str(),
                 "message #1 from the sharedmem driver");
    // App -> driver: the app writes at its address, the kernel address shows the same bytes.
    app.Run([&] { std::strcpy(user + SHAREDMEM_REPLY_OFFSET, "written by the app"); });
    EXPECT_STREQ(kern + SHAREDMEM_REPLY_OFFSET, "written by the app");
    char reply[SHAREDMEM_TEXT_MAX] = {};
    EXPECT_TRUE(app.Run([&] { return Control(h, IOCTL_SHAREDMEM_READ_REPLY, reply, sizeof(reply) - 1, &bytes, &error); }));
    EXPECT_EQ(std::string(reply, bytes), "written by the app");

    // Another process: the mapping is not its memory, it may neither unmap nor map again.
    other.Run([&] {
        mm::AddressInfo info = rig.memory().classify(user);
        EXPECT_EQ(info.owner, app.process());
        EXPECT_FALSE(info.accessible_now) << "the app's mapping is hidden while another process runs";
        EXPECT_FALSE(Control(other_h, IOCTL_SHAREDMEM_UNMAP, nullptr, 0, &bytes, &error));
        EXPECT_EQ(error, static_cast<DWORD>(ERROR_ACCESS_DENIED));
        SHAREDMEM_MAPPING second{};
        EXPECT_FALSE(Control(other_h, IOCTL_SHAREDMEM_MAP, &second, sizeof(second), &bytes, &error));
        EXPECT_EQ(error, static_cast<DWORD>(ERROR_BUSY)) << "STATUS_DEVICE_BUSY: one mapping at a time";
    });

    // The app unmaps: its address is no longer reserved; the kernel buffer is untouched.
    EXPECT_TRUE(app.Run([&] { return Control(h, IOCTL_SHAREDMEM_UNMAP, nullptr, 0, &bytes, &error); })) << error;
    EXPECT_FALSE(app.process()->memory->space->lookup(user).reserved);
    EXPECT_STREQ(kern + SHAREDMEM_MESSAGE_OFFSET, "message #1 from the sharedmem driver");
    EXPECT_FALSE(app.Run([&] { return Control(h, IOCTL_SHAREDMEM_UNMAP, nullptr, 0, &bytes, &error); }));
    EXPECT_EQ(error, static_cast<DWORD>(ERROR_BAD_COMMAND)) << "STATUS_INVALID_DEVICE_STATE: nothing mapped";

    // Mapped again and the handle closed without asking: IRP_MJ_CLEANUP, in the app's
    // context, removes the mapping.
    ASSERT_TRUE(app.Run([&] { return Control(h, IOCTL_SHAREDMEM_MAP, &mapping, sizeof(mapping), &bytes, &error); }));
    auto* again = reinterpret_cast<char*>(static_cast<uintptr_t>(mapping.UserAddress));
    EXPECT_TRUE(app.process()->memory->space->lookup(again).reserved);
    app.Run([&] { CloseHandle(h); });
    EXPECT_FALSE(app.process()->memory->space->lookup(again).reserved);
    EXPECT_EQ(e2e::CountContaining(rig.debug, "(its handle is being closed)"), 1u) << e2e::Join(rig.debug);

    other.Run([&] { CloseHandle(other_h); });
    app.End();
    other.End();
    EXPECT_EQ(rig.machine.unload_driver("sharedmem"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.Findings();
}
