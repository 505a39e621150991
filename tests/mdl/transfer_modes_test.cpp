// transfer_modes_test.cpp - what a driver sees for read, write and each METHOD_, with the
// app's buffers in its own user space (docs: "Methods for Accessing Data Buffers",
// "Buffer Descriptions for I/O Control Codes", the IRP's MdlAddress / UserBuffer fields).
#include "mdl_test_support.h"

using namespace mdl_test;

// ---- read and write on a DO_DIRECT_IO device ------------------------------------------

TEST(DirectIo, ReadGetsAnMdlOfTheAppsBufferAndTheDriverWritesThroughASecondMapping)
{
    MdlRig rig;
    char* pages = rig.Pages(3);
    char* buffer = pages + 100;  // 5000 bytes from offset 100: two pages
    DWORD bytes = 0;
    BOOL ok = rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        BOOL r = ReadFile(h, buffer, 5000, &bytes, nullptr);
        CloseHandle(h);
        return r;
    });
    ASSERT_TRUE(ok) << rig.FindingsDump();
    EXPECT_EQ(bytes, 5000u);
    const MDL_OBSERVATION& seen = rig.seen();
    ASSERT_NE(seen.MdlAddress, nullptr);
    EXPECT_EQ(seen.MdlVirtualAddress, buffer) << "MmGetMdlVirtualAddress is the app's own address";
    EXPECT_EQ(seen.MdlByteCount, 5000u);
    EXPECT_EQ(seen.MdlByteOffset, 100u);
    EXPECT_EQ(seen.SystemBuffer, nullptr);
    EXPECT_EQ(seen.MdlProcess, static_cast<void*>(rig.app)) << "a user buffer's MDL names its process";
    EXPECT_EQ(seen.MdlFlags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION), MDL_PAGES_LOCKED | MDL_WRITE_OPERATION)
        << "a read locks the buffer for IoWriteAccess";
    EXPECT_NE(seen.MdlFlagsMapped & MDL_MAPPED_TO_SYSTEM_VA, 0);
    // The system address is a second mapping: another address, in system space, same offset.
    ASSERT_NE(seen.SystemAddress, nullptr);
    EXPECT_NE(seen.SystemAddress, static_cast<void*>(buffer));
    EXPECT_EQ(Addr(seen.SystemAddress) & 0xFFF, 100u);
    EXPECT_EQ(rig.memory().classify(seen.SystemAddress).region, mm::Region::System);
    // Its PFNs are the frames behind the app's pages, as MmGetPhysicalAddress reports them.
    ASSERT_EQ(seen.PfnCount, 2u);
    rig.In([&] {
        for (int i = 0; i < 2; ++i) {
            EXPECT_EQ(seen.Pfns[i], rig.FrameOf(pages + i * 4096)) << i;
            EXPECT_EQ(static_cast<uint64_t>(MmGetPhysicalAddress(pages + i * 4096).QuadPart) >> 12, seen.Pfns[i]) << i;
        }
        // What the driver wrote through its mapping is in the app's buffer: the same frames.
        EXPECT_TRUE(IsAlphabet(buffer, 5000));
    });
    // Completion unlocked the pages and removed the system mapping.
    EXPECT_FALSE(rig.memory().system_space().lookup(seen.SystemAddress).reserved);
    EXPECT_EQ(rig.memory().physical().refs(seen.Pfns[0]), 1u) << "only the app's mapping holds the frame now";
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(DirectIo, WriteLocksTheBufferForReadAccessAndTheDriverReadsTheAppsBytes)
{
    MdlRig rig;
    char* buffer = rig.Pages(2) + 4090;  // 14 bytes across a page boundary
    DWORD bytes = 0;
    BOOL ok = rig.In([&] {
        std::memcpy(buffer, "hello, driver!", 14);
        HANDLE h = MdlRig::Open(kDirect);
        BOOL r = WriteFile(h, buffer, 14, &bytes, nullptr);
        CloseHandle(h);
        return r;
    });
    ASSERT_TRUE(ok);
    EXPECT_EQ(bytes, 14u);
    const MDL_OBSERVATION& seen = rig.seen();
    EXPECT_EQ(seen.MdlVirtualAddress, buffer);
    EXPECT_EQ(seen.PfnCount, 2u) << "14 bytes from offset 4090 span two pages";
    EXPECT_EQ(seen.MdlFlags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION), MDL_PAGES_LOCKED)
        << "a write locks the buffer for IoReadAccess";
    EXPECT_EQ(std::memcmp(seen.Data, "hello, driver!", 14), 0);
}

TEST(DirectIo, AZeroLengthTransferHasNoMdl)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    DWORD bytes = 1;
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        EXPECT_TRUE(ReadFile(h, buffer, 0, &bytes, nullptr));
        EXPECT_EQ(rig.seen().Major, static_cast<ULONG>(IRP_MJ_READ)) << "the driver is still called";
        EXPECT_EQ(rig.seen().MdlAddress, nullptr);
        EXPECT_TRUE(WriteFile(h, buffer, 0, &bytes, nullptr));
        EXPECT_EQ(rig.seen().Major, static_cast<ULONG>(IRP_MJ_WRITE));
        EXPECT_EQ(rig.seen().MdlAddress, nullptr);
        CloseHandle(h);
    });
    EXPECT_EQ(bytes, 0u);
}

// ---- read and write on a device with neither flag -------------------------------------

TEST(NeitherIo, ReadAndWriteHandTheDriverTheRawUserAddress)
{
    MdlRig rig;
    char* buffer = rig.Pages(1) + 8;
    rig.In([&] {
        HANDLE h = MdlRig::Open(kNeither);
        DWORD bytes = 0;
        ASSERT_TRUE(ReadFile(h, buffer, 40, &bytes, nullptr));
        EXPECT_EQ(bytes, 40u);
        EXPECT_EQ(rig.seen().UserBuffer, buffer) << "Irp->UserBuffer is the app's address";
        EXPECT_EQ(rig.seen().MdlAddress, nullptr);
        EXPECT_EQ(rig.seen().SystemBuffer, nullptr);
        EXPECT_TRUE(IsAlphabet(buffer, 40)) << "written by the driver straight into the app's buffer";
        std::memcpy(buffer, "neither!", 8);
        ASSERT_TRUE(WriteFile(h, buffer, 8, &bytes, nullptr));
        EXPECT_EQ(rig.seen().UserBuffer, buffer);
        EXPECT_EQ(std::memcmp(rig.seen().Data, "neither!", 8), 0);
        CloseHandle(h);
    });
}

// ---- read and write on a DO_BUFFERED_IO device (for contrast) --------------------------

TEST(BufferedIo, ReadAndWriteGoThroughASystemBufferCopy)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kBuffered);
        DWORD bytes = 0;
        ASSERT_TRUE(ReadFile(h, buffer, 30, &bytes, nullptr));
        EXPECT_NE(rig.seen().SystemBuffer, nullptr);
        EXPECT_NE(rig.seen().SystemBuffer, static_cast<void*>(buffer));
        EXPECT_EQ(rig.memory().classify(rig.seen().SystemBuffer).region, mm::Region::System);
        EXPECT_EQ(rig.seen().MdlAddress, nullptr);
        EXPECT_TRUE(IsAlphabet(buffer, 30)) << "copied back at completion";
        std::memcpy(buffer, "copy me", 7);
        ASSERT_TRUE(WriteFile(h, buffer, 7, &bytes, nullptr));
        EXPECT_EQ(std::memcmp(rig.seen().Data, "copy me", 7), 0);
        CloseHandle(h);
    });
}

// ---- device control: each METHOD_ -------------------------------------------------------

TEST(MethodBuffered, OneSystemBufferOfTheLargerLengthCarriesInputAndOutput)
{
    MdlRig rig;
    char* input = rig.Pages(1);
    char* output = rig.Pages(1);
    rig.In([&] {
        std::memcpy(input, "0123456789", 10);
        HANDLE h = MdlRig::Open(kDirect);  // the device's flags do not matter for IOCTLs
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_BUFFERED, input, 10, output, 40, &bytes, nullptr));
        const MDL_OBSERVATION& seen = rig.seen();
        EXPECT_NE(seen.SystemBuffer, nullptr);
        EXPECT_NE(seen.SystemBuffer, static_cast<void*>(input));
        EXPECT_EQ(seen.UserBuffer, output) << "where the I/O manager copies the output back";
        EXPECT_EQ(seen.MdlAddress, nullptr);
        EXPECT_EQ(seen.InputLength, 10u);
        EXPECT_EQ(seen.OutputLength, 40u);
        EXPECT_EQ(std::memcmp(seen.Data, "0123456789", 10), 0);
        EXPECT_EQ(bytes, 10u);
        EXPECT_EQ(std::memcmp(output, "0123456789", 10), 0);
        CloseHandle(h);
    });
}

TEST(MethodBuffered, ZeroLengthsGiveNoSystemBuffer)
{
    MdlRig rig;
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_BUFFERED, nullptr, 0, nullptr, 0, &bytes, nullptr));
        EXPECT_EQ(rig.seen().SystemBuffer, nullptr);
        CloseHandle(h);
    });
}

TEST(MethodInDirect, InputIsInTheSystemBufferAndTheOutputBufferIsAnMdlProbedForRead)
{
    MdlRig rig;
    char* input = rig.Pages(1);
    char* output = rig.Pages(1) + 16;
    rig.In([&] {
        std::memcpy(input, "in", 2);
        std::memcpy(output, "data for the driver", 19);
        HANDLE h = MdlRig::Open(kNeither);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_IN_DIRECT, input, 2, output, 19, &bytes, nullptr));
        const MDL_OBSERVATION& seen = rig.seen();
        EXPECT_NE(seen.SystemBuffer, nullptr);
        EXPECT_NE(seen.SystemBuffer, static_cast<void*>(input));
        ASSERT_NE(seen.MdlAddress, nullptr);
        EXPECT_EQ(seen.MdlVirtualAddress, output);
        EXPECT_EQ(seen.MdlByteCount, 19u) << "OutputBufferLength is the MDL's size";
        EXPECT_EQ(seen.MdlFlags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION), MDL_PAGES_LOCKED)
            << "METHOD_IN_DIRECT probes the buffer for read access";
        EXPECT_EQ(std::memcmp(seen.Data, "data for the driver", 16), 0);
        CloseHandle(h);
    });
}

TEST(MethodOutDirect, TheOutputBufferIsAnMdlProbedForWriteThatTheDriverFills)
{
    MdlRig rig;
    char* input = rig.Pages(1);
    char* output = rig.Pages(1);
    rig.In([&] {
        std::memcpy(input, "args", 4);
        HANDLE h = MdlRig::Open(kBuffered);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_OUT_DIRECT, input, 4, output, 64, &bytes, nullptr));
        const MDL_OBSERVATION& seen = rig.seen();
        EXPECT_EQ(std::memcmp(seen.Data, "args", 4), 0) << "the input arrived in the SystemBuffer";
        EXPECT_EQ(seen.MdlVirtualAddress, output);
        EXPECT_EQ(seen.MdlFlags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION), MDL_PAGES_LOCKED | MDL_WRITE_OPERATION)
            << "METHOD_OUT_DIRECT probes the buffer for write access";
        EXPECT_EQ(bytes, 64u);
        EXPECT_EQ(std::memcmp(output, "OUT_DIRECT", 10), 0) << "written through the MDL's system address";
        CloseHandle(h);
    });
}

TEST(MethodOutDirect, AZeroLengthOutputBufferGivesTheDriverNoMdl)
{
    MdlRig rig;
    char* input = rig.Pages(1);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kBuffered);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_OUT_DIRECT, input, 4, input, 0, &bytes, nullptr));
        EXPECT_EQ(rig.seen().IoControlCode, static_cast<ULONG>(IOCTL_MDL_OUT_DIRECT)) << "the driver is called";
        EXPECT_EQ(rig.seen().OutputLength, 0u);
        EXPECT_EQ(rig.seen().MdlAddress, nullptr);
        EXPECT_NE(rig.seen().SystemBuffer, nullptr) << "the input still comes buffered";
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_OUT_DIRECT, nullptr, 0, nullptr, 0, &bytes, nullptr));
        EXPECT_EQ(rig.seen().MdlAddress, nullptr);
        EXPECT_EQ(rig.seen().SystemBuffer, nullptr) << "no input, no SystemBuffer";
        CloseHandle(h);
    });
}

TEST(MethodInDirect, AcceptsAReadOnlyBufferThatMethodOutDirectRefuses)
{
    MdlRig rig;
    char* output = rig.Pages(1);
    rig.In([&] {
        std::memcpy(output, "read-only", 9);
        ULONG old = 0;
        ASSERT_EQ(rig.app->memory->space->protect(output, 1, PAGE_READONLY, &old), STATUS_SUCCESS);
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        EXPECT_TRUE(DeviceIoControl(h, IOCTL_MDL_IN_DIRECT, nullptr, 0, output, 9, &bytes, nullptr));
        EXPECT_EQ(std::memcmp(rig.seen().Data, "read-only", 9), 0);
        ULONG requests = rig.seen().Requests;
        SetLastError(0);
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_MDL_OUT_DIRECT, nullptr, 0, output, 9, &bytes, nullptr));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOACCESS));
        EXPECT_EQ(rig.seen().Requests, requests) << "refused before any IRP reached the driver";
        CloseHandle(h);
    });
}

TEST(MethodNeither, TheDriverGetsTheRawAddressesUnvalidated)
{
    MdlRig rig;
    char* input = rig.Pages(1);
    char* output = rig.Pages(1);
    rig.In([&] {
        std::memcpy(input, "type 3", 6);
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_NEITHER, input, 6, output, 32, &bytes, nullptr));
        const MDL_OBSERVATION& seen = rig.seen();
        EXPECT_EQ(seen.Type3InputBuffer, input) << "Parameters.DeviceIoControl.Type3InputBuffer";
        EXPECT_EQ(seen.UserBuffer, output) << "Irp->UserBuffer";
        EXPECT_EQ(seen.SystemBuffer, nullptr);
        EXPECT_EQ(seen.MdlAddress, nullptr);
        EXPECT_EQ(bytes, 6u);
        EXPECT_EQ(std::memcmp(output, "type 3", 6), 0);
        CloseHandle(h);
    });
}
