// special_pool_test.cpp - Driver Verifier's special pool: each block ends at the end of its
// page with an inaccessible page after it, freed blocks are decommitted and not reused at
// once, overruns and uses after free fault at the driver's line (0xD6 / 0xD5), and writes
// around a block inside its own page are found when it is freed (0xC1).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "ex/special_pool.h"
#include "ke/fault.h"
#include "mm/memory_manager.h"
#include "pool/pool_test_support.h"
#include "system.h"

using namespace iosim;
using pool_test::catch_bugcheck;
using pool_test::DriverLine;
using pool_test::Tag;

namespace {

constexpr ULONG kTag = Tag("Spc1");

using AllocateFn = PVOID(POOL_TYPE, SIZE_T, ULONG);
using FreeFn = void(PVOID);
using WriteByteFn = void(volatile UCHAR*, SIZE_T);
using ReadAfterFreeFn = UCHAR(SIZE_T, ULONG);

class SpecialPoolTest : public pool_test::PoolDriverTest {
protected:
    void SetUp() override
    {
        PoolDriverTest::SetUp();
        pool().set_special_pool_for("Pool_Test_Driver.SYS", true);  // names are case-insensitive
    }
    unsigned char* allocate(POOL_TYPE type, SIZE_T size)
    {
        return static_cast<unsigned char*>(symbol<AllocateFn>("PoolTestAllocate")(type, size, kTag));
    }
    void free(void* p) { symbol<FreeFn>("PoolTestFree")(p); }
    const void* driver_code() { return reinterpret_cast<const void*>(symbol<WriteByteFn>("PoolTestWriteByte")); }
    bool committed(uintptr_t address) { return sys().memory().system_space().lookup(reinterpret_cast<void*>(address)).committed; }

    static bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
};

TEST_F(SpecialPoolTest, ABlockEndsAtTheEndOfItsPageWithAnInaccessiblePageAfterIt)
{
    unsigned char* p = allocate(NonPagedPoolNx, 32);
    ASSERT_NE(p, nullptr);
    auto record = pool().block_at(p);
    ASSERT_TRUE(record.has_value());
    EXPECT_TRUE(record->special);
    EXPECT_EQ(pool().range_of(p), "special pool");
    EXPECT_EQ(sys().memory().classify(p).page.vad.purpose, "special pool");
    EXPECT_EQ((mm::addr(p) + 32) % mm::kPageSize, 0u) << "the block ends at the end of its page";
    EXPECT_TRUE(committed(mm::addr(p)));
    EXPECT_FALSE(committed(mm::addr(p) + 32)) << "the page after the block is never committed";
    EXPECT_TRUE(pool_test::all_bytes(p, 32, 0)) << "fresh special-pool pages are zero";
    free(p);
}

TEST_F(SpecialPoolTest, TheEndIsAlignedToSixteenBytesOrSixtyFourForCacheAlignedPool)
{
    unsigned char* small = allocate(PagedPool, 13);
    EXPECT_EQ(mm::page_up(mm::addr(small)) - mm::addr(small), 16u) << "13 bytes round up to the 16-byte alignment";
    unsigned char* aligned = allocate(NonPagedPoolCacheAligned, 40);
    EXPECT_EQ(mm::addr(aligned) % 64, 0u);
    EXPECT_EQ(mm::page_up(mm::addr(aligned)) - mm::addr(aligned), 64u);
    unsigned char* big = allocate(NonPagedPoolNx, 5000);
    EXPECT_EQ((mm::addr(big) + 5008) % mm::kPageSize, 0u) << "several pages, still ending at a page end";
    EXPECT_TRUE(committed(mm::addr(big) + 5007));
    EXPECT_FALSE(committed(mm::addr(big) + 5008));
    for (void* p : {static_cast<void*>(small), static_cast<void*>(aligned), static_cast<void*>(big)})
        free(p);
}

TEST_F(SpecialPoolTest, OnlyTheNamedDriverGetsSpecialPool)
{
    void* mine = ExAllocatePoolWithTag(NonPagedPoolNx, 32, kTag);  // iosim's own (test) code
    EXPECT_FALSE(pool().block_at(mine)->special);
    EXPECT_NE(pool().range_of(mine), "special pool");
    ExFreePool(mine);
    pool().set_special_pool_for("pool_test_driver.sys", false);
    unsigned char* p = allocate(NonPagedPoolNx, 32);
    EXPECT_FALSE(pool().block_at(p)->special);
    free(p);
}

TEST_F(SpecialPoolTest, SpecialPoolForAllCoversCodeOutsideDrivers)
{
    pool().set_special_pool_for_all(true);
    void* mine = ExAllocatePoolWithTag(PagedPool, 8, kTag);
    EXPECT_TRUE(pool().block_at(mine)->special);
    EXPECT_TRUE(pool().block_at(mine)->paged) << "the block still counts as paged pool";
    ExFreePool(mine);
}

TEST_F(SpecialPoolTest, AFreedBlockIsDecommittedAndItsAddressNotReusedAtOnce)
{
    unsigned char* p = allocate(NonPagedPoolNx, 100);
    free(p);
    EXPECT_FALSE(committed(mm::addr(p)));
    EXPECT_FALSE(sys().memory().classify(p).accessible_now);
    unsigned char* q = allocate(NonPagedPoolNx, 100);
    EXPECT_NE(mm::page_down(mm::addr(q)), mm::page_down(mm::addr(p)));
    free(q);
}

TEST_F(SpecialPoolTest, AnOverrunIntoTheGuardPageIsDriverPageFaultBeyondEndOfAllocation)
{
    unsigned char* p = allocate(NonPagedPoolNx, 20);
    uintptr_t touched = mm::addr(p) + 32;  // the first byte of the guard page
    const void* pc = driver_code();
    auto report = ex::describe_special_pool_fault(touched, true, pc);
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(report->code, static_cast<ULONG>(DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION));
    EXPECT_EQ(report->name, "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION");
    EXPECT_EQ(report->parameters[0], touched);
    EXPECT_EQ(report->parameters[1], 1u) << "a write";
    EXPECT_EQ(report->parameters[2], reinterpret_cast<ULONG_PTR>(pc));
    EXPECT_TRUE(contains(report->location, "PoolTestWriteByte")) << report->location;
    EXPECT_EQ(report->driver, "pool_test_driver.sys");
    EXPECT_TRUE(contains(report->reason, "offset 32 of a 20-byte block tagged 'Spc1', past its end")) << report->reason;
    EXPECT_TRUE(contains(report->reason, "0xCD")) << report->reason;
    EXPECT_TRUE(contains(report->report, "allocated at " + DriverLine("allocate"))) << report->report;
    free(p);
}

TEST_F(SpecialPoolTest, ATouchOfAFreedBlockIsDriverPageFaultInFreedSpecialPool)
{
    unsigned char* p = allocate(PagedPool, 64);
    free(p);
    auto report = ex::describe_special_pool_fault(mm::addr(p) + 8, false, driver_code());
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(report->code, static_cast<ULONG>(DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL));
    EXPECT_EQ(report->name, "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL");
    EXPECT_EQ(report->parameters[1], 0u) << "a read";
    EXPECT_TRUE(contains(report->reason, "64-byte block tagged 'Spc1' that was already freed")) << report->reason;
    EXPECT_TRUE(contains(report->reason, "PAGE_FAULT_IN_FREED_SPECIAL_POOL, 0xCC")) << report->reason;
    EXPECT_TRUE(contains(report->report, "freed at " + DriverLine("free"))) << report->report;
    EXPECT_TRUE(contains(report->report, "allocated at " + DriverLine("allocate"))) << report->report;
}

TEST_F(SpecialPoolTest, FaultsElsewhereAreNotSpecialPools)
{
    unsigned char* p = allocate(NonPagedPoolNx, 64);
    EXPECT_FALSE(ex::describe_special_pool_fault(mm::addr(p), true, driver_code()).has_value())
        << "a live block's own page does not fault";
    void* ordinary = ExAllocatePoolWithTag(NonPagedPoolNx, 64, kTag);
    EXPECT_FALSE(ex::describe_special_pool_fault(mm::addr(ordinary), true, driver_code()).has_value());
    EXPECT_FALSE(ex::describe_special_pool_fault(0x10, false, driver_code()).has_value());
    ExFreePool(ordinary);
    free(p);
}

TEST_F(SpecialPoolTest, AWriteBeforeTheBlockInItsPageIsFoundAtFreeAsC1Subcode23)
{
    unsigned char* p = allocate(NonPagedPoolNx, 100);
    p[-1] = 0;  // inside the page: no fault, but the fill pattern changes
    auto stop = catch_bugcheck([&] { free(p); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION));
    EXPECT_EQ(stop->name, "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION");
    EXPECT_EQ(stop->parameters[0], reinterpret_cast<ULONG_PTR>(p));
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(p - 1));
    EXPECT_EQ(stop->parameters[3], 0x23u);
    EXPECT_TRUE(contains(stop->location, DriverLine("free"))) << stop->location;
}

TEST_F(SpecialPoolTest, AWriteIntoTheAlignmentSlackIsFoundAtFreeAsC1Subcode24)
{
    unsigned char* p = allocate(NonPagedPoolNx, 13);
    symbol<WriteByteFn>("PoolTestWriteByte")(p, 13);  // 3 bytes of slack before the guard page
    auto stop = catch_bugcheck([&] { free(p); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION));
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(p + 13));
    EXPECT_EQ(stop->parameters[3], 0x24u);
}

TEST_F(SpecialPoolTest, FreeingASpecialBlockTwiceIsBadPoolCaller07)
{
    unsigned char* p = allocate(NonPagedPoolNx, 24);
    free(p);
    auto stop = catch_bugcheck([&] { free(p); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
    EXPECT_EQ(stop->parameters[0], 0x07u);
}

// The real thing: the access faults in the driver, and the fault handler (which the
// iosim command installs) prints the report and ends the process with exit code 3.
std::string escaped(const std::string& text) { return std::regex_replace(text, std::regex(R"([.()])"), R"(\$&)"); }

TEST_F(SpecialPoolTest, AnOverrunFaultsAtTheGuiltyLine)
{
    // The fault is thrown as the bug check from the faulting line (ke/fault.cpp).
    install_fault_reports();
    unsigned char* p = allocate(NonPagedPoolNx, 48);
    std::optional<BugCheckInfo> stop = catch_bugcheck([&] { symbol<WriteByteFn>("PoolTestWriteByte")(p, 48); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ::testing::ContainsRegex(
                                  "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION \\(bug check 0xD6\\)(.|\n)*Where: +" +
                                  escaped(DriverLine("write-byte")) + "(.|\n)*allocated at " +
                                  escaped(DriverLine("allocate"))));
}

TEST_F(SpecialPoolTest, AUseAfterFreeFaultsAtTheGuiltyLine)
{
    install_fault_reports();
    std::optional<BugCheckInfo> stop =
        catch_bugcheck([&] { symbol<ReadAfterFreeFn>("PoolTestReadAfterFree")(24, kTag); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, ::testing::ContainsRegex(
                                  "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL \\(bug check 0xD5\\)(.|\n)*Where: +" +
                                  escaped(DriverLine("uaf-read")) + "(.|\n)*freed at " + escaped(DriverLine("uaf-free"))));
}

}  // namespace
