// probe_test.cpp - ProbeForRead / ProbeForWrite, one documented rule per test, called by a
// driver inside __try/__except (seh_c.sys's SehProbeForRead/Write return the exception
// code), plus iosim's own seh::capture and seh::copy.
#include <gtest/gtest.h>

#include <cstring>

#include "ke/seh.h"
#include "seh_test_support.h"

using namespace iosim;
using seh_test::CatchBugCheck;
using seh_test::SehRig;
using seh_test::SehSourceLine;

namespace {

using ProbeRead = NTSTATUS(const volatile void*, SIZE_T, ULONG);
using ProbeWrite = NTSTATUS(volatile void*, SIZE_T, ULONG);

class Probe : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(rig.loaded());
        read = rig.Case<ProbeRead>("SehProbeForRead");
        write = rig.Case<ProbeWrite>("SehProbeForWrite");
        buffer = seh_test::UserBuffer(app.process(), 64);
        ASSERT_EQ(reinterpret_cast<uintptr_t>(buffer) % 16, 0u);
    }

    // An uncommitted system-space page (kernel memory).
    void* SystemAddress()
    {
        void* page = rig.rig.system().memory().system_space().reserve(1, "test (system)");
        EXPECT_NE(page, nullptr);
        return page;
    }

    template <typename F>
    NTSTATUS InApp(F&& f)
    {
        return app.Run(std::forward<F>(f));
    }

    SehRig rig{"seh_c"};
    e2e::Win32Process app{rig.rig.machine};
    ProbeRead* read = nullptr;
    ProbeWrite* write = nullptr;
    unsigned char* buffer = nullptr;
};

TEST_F(Probe, LengthZeroChecksNothing)
{
    void* system = SystemAddress();
    InApp([&] {
        EXPECT_EQ(read(buffer + 1, 0, 4), STATUS_SUCCESS);
        EXPECT_EQ(read(system, 0, 1), STATUS_SUCCESS);
        EXPECT_EQ(write(buffer + 1, 0, 4), STATUS_SUCCESS);
        EXPECT_EQ(write(system, 0, 1), STATUS_SUCCESS);
        EXPECT_EQ(write(seh_test::BadUserAddress(app.process()), 0, 1), STATUS_SUCCESS);
        return STATUS_SUCCESS;
    });
}

TEST_F(Probe, AddressNotAMultipleOfAlignmentRaisesDatatypeMisalignment)
{
    InApp([&] {
        for (ULONG alignment : {1u, 2u, 4u, 8u, 16u}) {
            EXPECT_EQ(read(buffer, 4, alignment), STATUS_SUCCESS) << alignment;
            EXPECT_EQ(write(buffer, 4, alignment), STATUS_SUCCESS) << alignment;
        }
        EXPECT_EQ(read(buffer + 2, 4, 2), STATUS_SUCCESS);
        EXPECT_EQ(read(buffer + 2, 4, 4), STATUS_DATATYPE_MISALIGNMENT);
        EXPECT_EQ(read(buffer + 8, 4, 16), STATUS_DATATYPE_MISALIGNMENT);
        EXPECT_EQ(write(buffer + 1, 4, 2), STATUS_DATATYPE_MISALIGNMENT);
        return STATUS_SUCCESS;
    });
}

TEST_F(Probe, AlignmentIsCheckedBeforeTheRange)
{
    char* system = static_cast<char*>(SystemAddress());
    EXPECT_EQ(read(system + 1, 4, 4), STATUS_DATATYPE_MISALIGNMENT);
    EXPECT_EQ(read(system, 4, 4), STATUS_ACCESS_VIOLATION);
}

TEST_F(Probe, SystemSpaceAddressRaisesAccessViolation)
{
    void* system = SystemAddress();
    EXPECT_EQ(read(system, 1, 1), STATUS_ACCESS_VIOLATION);
    EXPECT_EQ(write(system, 1, 1), STATUS_ACCESS_VIOLATION);
}

TEST_F(Probe, RangeReachingIntoSystemSpaceRaisesAccessViolation)
{
    mm::AddressSpace& system = rig.rig.system().memory().system_space();
    auto* below = reinterpret_cast<char*>(system.base()) - 16;
    mm::Region region = rig.rig.system().memory().classify(below).region;
    ASSERT_TRUE(region != mm::Region::System && region != mm::Region::DriverImage) << mm::region_name(region);
    EXPECT_EQ(read(below, 16, 1), STATUS_SUCCESS);  // ends right before system space
    EXPECT_EQ(read(below, 17, 1), STATUS_ACCESS_VIOLATION);
}

TEST_F(Probe, DriverImageAddressRaisesAccessViolation)
{
    auto* code = reinterpret_cast<const volatile void*>(read);
    ASSERT_EQ(rig.rig.system().memory().classify(const_cast<const void*>(code)).region, mm::Region::DriverImage);
    EXPECT_EQ(read(code, 8, 1), STATUS_ACCESS_VIOLATION);
}

TEST_F(Probe, RangeThatWrapsAroundRaisesAccessViolation)
{
    auto* top = reinterpret_cast<const volatile void*>(~uintptr_t{0} - 0xFFF);
    EXPECT_EQ(read(top, 0x2000, 1), STATUS_ACCESS_VIOLATION);
}

TEST_F(Probe, ProbeForReadDoesNotTouchTheBuffer)
{
    void* freed = seh_test::BadUserAddress(app.process());
    InApp([&] {
        EXPECT_EQ(read(freed, 16, 4), STATUS_SUCCESS);
        EXPECT_EQ(read(reinterpret_cast<const volatile void*>(0x20), 4, 4), STATUS_SUCCESS);  // the NULL page too
        return STATUS_SUCCESS;
    });
}

TEST_F(Probe, ProbeForWriteTouchesEveryPageForWriteAndKeepsTheContents)
{
    mm::AddressSpace& space = *app.process()->memory->space;
    auto* pages = static_cast<unsigned char*>(space.allocate(3, "test (3 pages)"));
    ASSERT_NE(pages, nullptr);
    InApp([&] {
        for (size_t i = 0; i < 3 * mm::kPageSize; ++i)
            pages[i] = static_cast<unsigned char>(i * 7);
        return STATUS_SUCCESS;
    });
    ASSERT_EQ(space.decommit(pages + 2 * mm::kPageSize, 1), STATUS_SUCCESS);
    InApp([&] {
        EXPECT_EQ(write(pages + 100, 2 * mm::kPageSize - 100, 4), STATUS_SUCCESS);
        EXPECT_EQ(write(pages + 100, 2 * mm::kPageSize - 99, 4), STATUS_ACCESS_VIOLATION);  // one byte on page 3
        EXPECT_EQ(read(pages + 100, 3 * mm::kPageSize - 100, 4), STATUS_SUCCESS);
        for (size_t i = 0; i < 2 * mm::kPageSize; ++i)
            if (pages[i] != static_cast<unsigned char>(i * 7)) {
                ADD_FAILURE() << "byte " << i << " changed";
                break;
            }
        return STATUS_SUCCESS;
    });
}

TEST_F(Probe, ProbeForWriteOnAReadOnlyPageRaisesAccessViolation)
{
    mm::AddressSpace& space = *app.process()->memory->space;
    void* page = space.allocate(1, "test (read-only)", PAGE_READONLY);
    ASSERT_NE(page, nullptr);
    InApp([&] {
        EXPECT_EQ(read(page, 16, 4), STATUS_SUCCESS);
        EXPECT_EQ(write(page, 16, 4), STATUS_ACCESS_VIOLATION);
        return STATUS_SUCCESS;
    });
}

TEST_F(Probe, ProbeForWriteOnAFreedPageRaisesAccessViolation)
{
    void* freed = seh_test::BadUserAddress(app.process());
    InApp([&] {
        EXPECT_EQ(write(freed, 16, 4), STATUS_ACCESS_VIOLATION);
        return STATUS_SUCCESS;
    });
}

TEST_F(Probe, AlignmentOtherThan1_2_4_8_Or16IsReported)
{
    InApp([&] {
        EXPECT_EQ(read(buffer, 4, 3), STATUS_SUCCESS);
        return STATUS_SUCCESS;
    });
    bool found = false;
    for (const Finding& finding : rig.rig.system().findings())
        if (finding.code == "PROBE_BAD_ALIGNMENT") {
            found = true;
            EXPECT_NE(finding.message.find("Alignment 3"), std::string::npos) << finding.message;
            EXPECT_NE(finding.location.find("SehProbeForRead"), std::string::npos) << finding.location;
        }
    EXPECT_TRUE(found) << rig.rig.FindingsDump();
}

TEST_F(Probe, ProbeWithoutTryIsBugCheck0x1EAtTheDriversCall)
{
    auto* probe = rig.Case<void(const volatile void*, SIZE_T, ULONG)>("SehProbeUnprotected");
    auto info = CatchBugCheck([&] { app.Run([&] { probe(buffer + 1, 4, 4); }); });
    app.Abandon();
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->code, 0x1Eu);
    EXPECT_EQ(info->parameters[0], static_cast<ULONG>(STATUS_DATATYPE_MISALIGNMENT));
    int line = SehSourceLine("seh_cases.h", "unprotected-probe");
    EXPECT_NE(info->location.find("seh_cases.h:" + std::to_string(line) + " in SehProbeUnprotected"),
              std::string::npos)
        << info->report;
}

// ---- iosim's own side: seh::capture and seh::copy ----

TEST_F(Probe, SehCopyFromAFreedUserPageIsAccessViolationAndFromAGoodOneCopies)
{
    void* freed = seh_test::BadUserAddress(app.process());
    InApp([&] {
        char out[16] = {};
        std::memcpy(buffer, "user data", 10);
        EXPECT_EQ(seh::copy(out, buffer, 10), STATUS_SUCCESS);
        EXPECT_STREQ(out, "user data");
        EXPECT_EQ(seh::copy(out, freed, 10), STATUS_ACCESS_VIOLATION);
        EXPECT_EQ(seh::copy(freed, out, 10), STATUS_ACCESS_VIOLATION);
        EXPECT_FALSE(seh::frame_active());
        return STATUS_SUCCESS;
    });
}

TEST_F(Probe, SehCaptureReturnsTheFaultsRecordAndCatchesRaises)
{
    auto* freed = static_cast<volatile char*>(seh_test::BadUserAddress(app.process()));
    InApp([&] {
        seh::ExceptionRecord record;
        NTSTATUS status = seh::capture([&] { freed[33] = 1; }, &record);
        EXPECT_EQ(status, STATUS_ACCESS_VIOLATION);
        EXPECT_EQ(record.code, STATUS_ACCESS_VIOLATION);
        EXPECT_EQ(record.fault_address, reinterpret_cast<ULONG_PTR>(freed) + 33);
        EXPECT_TRUE(record.write);
        EXPECT_NE(record.pc, nullptr);
        EXPECT_EQ(seh::capture([] { seh::raise(STATUS_INVALID_PARAMETER_2); }), STATUS_INVALID_PARAMETER_2);
        bool inside = false;
        EXPECT_EQ(seh::capture([&] { inside = seh::frame_active(); }), STATUS_SUCCESS);
        EXPECT_TRUE(inside);
        EXPECT_FALSE(seh::frame_active());
        return STATUS_SUCCESS;
    });
}

TEST_F(Probe, ADriverRaiseInsideACaptureGoesToTheDriversOwnFrame)
{
    // A capture frame is a handler like a driver's __except: the driver's raise inside it
    // goes to the innermost frame, the driver's own.
    auto* catch_raise = rig.Case<NTSTATUS(NTSTATUS)>("SehCatchRaise");
    NTSTATUS inner = STATUS_PENDING;
    EXPECT_EQ(seh::capture([&] { inner = catch_raise(STATUS_TIMEOUT); }), STATUS_SUCCESS);
    EXPECT_EQ(inner, STATUS_TIMEOUT);
}

}  // namespace
