// pool_range_test.cpp - where pool memory lives: the paged and non-paged ranges of system
// space, real frames behind pool pages, the block placement rules ExAllocatePool2
// documents, per-pool-type accounting, and the I/O manager's SystemBuffers.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "e2e/e2e_support.h"
#include "inspect/inspect.h"
#include "mm/memory_manager.h"
#include "pool/pool_test_support.h"
#include "system.h"
#include "windows.h"

using namespace iosim;
using pool_test::Tag;

namespace {

constexpr ULONG kTag = Tag("Rng1");

class PoolRangeTest : public ::testing::Test {
protected:
    System sys;
};

TEST_F(PoolRangeTest, PoolAddressesAreSystemSpaceInTheirOwnRanges)
{
    void* nonpaged = ExAllocatePoolWithTag(NonPagedPoolNx, 100, kTag);
    void* paged = ExAllocatePoolWithTag(PagedPool, 100, kTag);
    ASSERT_NE(nonpaged, nullptr);
    ASSERT_NE(paged, nullptr);

    mm::AddressInfo a = sys.memory().classify(nonpaged);
    EXPECT_EQ(a.region, mm::Region::System);
    EXPECT_TRUE(a.page.committed);
    EXPECT_EQ(a.page.vad.purpose, "nonpaged pool");
    mm::AddressInfo b = sys.memory().classify(paged);
    EXPECT_EQ(b.region, mm::Region::System);
    EXPECT_EQ(b.page.vad.purpose, "paged pool");
    EXPECT_NE(a.page.vad.base, b.page.vad.base) << "paged and non-paged pool are separate reservations";

    EXPECT_EQ(sys.pool().range_of(nonpaged), "nonpaged pool");
    EXPECT_EQ(sys.pool().range_of(paged), "paged pool");
    auto np = sys.pool().range(false);
    auto pp = sys.pool().range(true);
    EXPECT_GE(mm::addr(nonpaged), np.base);
    EXPECT_LT(mm::addr(nonpaged), np.base + np.bytes);
    EXPECT_GE(mm::addr(paged), pp.base);
    EXPECT_GE(np.committed_pages, 1u);
    EXPECT_GE(pp.committed_pages, 1u);
    ExFreePool(nonpaged);
    ExFreePool(paged);
}

TEST_F(PoolRangeTest, PoolPagesHaveFramesThatMmGetPhysicalAddressReports)
{
    auto* block = static_cast<unsigned char*>(ExAllocatePoolWithTag(NonPagedPoolNx, 64, kTag));
    ASSERT_NE(block, nullptr);
    auto pfn = sys.memory().system_space().pfn_of(block);
    ASSERT_TRUE(pfn.has_value());
    PHYSICAL_ADDRESS physical = MmGetPhysicalAddress(block);
    EXPECT_EQ(static_cast<uint64_t>(physical.QuadPart),
              mm::PhysicalMemory::physical_address(*pfn) + (mm::addr(block) & (mm::kPageSize - 1)));
    EXPECT_TRUE(MmIsAddressValid(block));

    // A second mapping of the same frame is the same memory.
    void* alias = sys.memory().system_space().map(&*pfn, 1, "test alias");
    ASSERT_NE(alias, nullptr);
    auto* seen = static_cast<unsigned char*>(alias) + (mm::addr(block) & (mm::kPageSize - 1));
    block[0] = 0x42;
    EXPECT_EQ(seen[0], 0x42);
    seen[1] = 0x43;
    EXPECT_EQ(block[1], 0x43);
    sys.memory().system_space().release(alias);
    ExFreePool(block);
}

TEST_F(PoolRangeTest, MmBuildMdlForNonPagedPoolDescribesThePoolFrames)
{
    auto* block = static_cast<char*>(ExAllocatePoolWithTag(NonPagedPoolNx, 6000, kTag));
    ASSERT_NE(block, nullptr);
    PMDL mdl = IoAllocateMdl(block, 6000, FALSE, FALSE, nullptr);
    ASSERT_NE(mdl, nullptr);
    MmBuildMdlForNonPagedPool(mdl);
    PPFN_NUMBER pfns = MmGetMdlPfnArray(mdl);
    EXPECT_EQ(pfns[0], *sys.memory().system_space().pfn_of(block));
    EXPECT_EQ(pfns[1], *sys.memory().system_space().pfn_of(block + mm::kPageSize));
    IoFreeMdl(mdl);
    ExFreePool(block);
}

// ExAllocatePool2: "If NumberOfBytes is PAGE_SIZE or greater, a page-aligned buffer is
// allocated. Memory allocations of PAGE_SIZE or less are allocated within a page and do
// not cross page boundaries ... aligned ... to 16-byte boundaries in 64-bit systems."
TEST_F(PoolRangeTest, BlocksOfAPageOrMoreArePageAligned)
{
    for (size_t size : {size_t{4096}, size_t{4097}, size_t{10000}, size_t{65536}}) {
        void* p = ExAllocatePool2(POOL_FLAG_NON_PAGED, size, kTag);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(mm::addr(p) % mm::kPageSize, 0u) << size;
        ExFreePool(p);
    }
}

TEST_F(PoolRangeTest, SmallBlocksAreSixteenByteAlignedAndNeverCrossAPage)
{
    std::vector<void*> blocks;
    for (size_t size = 1; size <= 4096; size += 37) {
        void* p = ExAllocatePool2(POOL_FLAG_PAGED, size, kTag);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(mm::addr(p) % 16, 0u) << size;
        EXPECT_EQ(mm::page_down(mm::addr(p)), mm::page_down(mm::addr(p) + size - 1)) << size << " bytes cross a page";
        blocks.push_back(p);
    }
    std::set<void*> distinct(blocks.begin(), blocks.end());
    EXPECT_EQ(distinct.size(), blocks.size());
    for (void* p : blocks)
        ExFreePool(p);
}

TEST_F(PoolRangeTest, CacheAlignedRequestsAreSixtyFourByteAligned)
{
    for (size_t size : {size_t{1}, size_t{40}, size_t{65}, size_t{200}, size_t{1000}}) {
        void* a = ExAllocatePoolWithTag(NonPagedPoolCacheAligned, size, kTag);
        void* b = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_CACHE_ALIGNED, size, kTag);
        EXPECT_EQ(mm::addr(a) % 64, 0u) << size;
        EXPECT_EQ(mm::addr(b) % 64, 0u) << size;
        EXPECT_TRUE(sys.pool().block_at(b)->paged);
        ExFreePool(a);
        ExFreePool(b);
    }
}

TEST_F(PoolRangeTest, AFreedLargeBlockIsDecommitted)
{
    void* p = ExAllocatePoolWithTag(NonPagedPoolNx, 3 * mm::kPageSize, kTag);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(sys.memory().system_space().accessible(p, 3 * mm::kPageSize, true));
    ExFreePool(p);
    EXPECT_FALSE(sys.memory().classify(p).accessible_now) << "touching a freed large block must fault";
}

TEST_F(PoolRangeTest, PagedAndNonPagedAreCountedSeparately)
{
    void* a = ExAllocatePoolWithTag(NonPagedPoolNx, 100, kTag);
    void* b = ExAllocatePoolWithTag(NonPagedPool, 28, kTag);
    void* c = ExAllocatePoolWithTag(PagedPool, 10, kTag);
    auto usage = sys.pool().usage_by_tag();
    ASSERT_EQ(usage.size(), 2u);
    for (const auto& u : usage) {
        if (u.paged) {
            EXPECT_EQ(u.allocations, 1u);
            EXPECT_EQ(u.bytes, 10u);
        } else {
            EXPECT_EQ(u.allocations, 2u);
            EXPECT_EQ(u.bytes, 128u);
        }
    }
    std::string out, error;
    ASSERT_TRUE(inspect::run("!poolused", out, error)) << error;
    EXPECT_NE(out.find("Rng1  NonPaged       2       128  -"), std::string::npos) << out;
    EXPECT_NE(out.find("Rng1  Paged          1        10  -"), std::string::npos) << out;
    EXPECT_NE(out.find("Total: 3 allocation(s), 138 bytes (NonPaged 128, Paged 10)"), std::string::npos) << out;
    for (void* p : {a, b, c})
        ExFreePool(p);
}

TEST_F(PoolRangeTest, ReusedSlotsAreHandedOutLate)
{
    // Freed slots queue behind the others: the next allocation of the size gets another one.
    void* first = ExAllocatePoolWithTag(PagedPool, 48, kTag);
    void* second = ExAllocatePoolWithTag(PagedPool, 48, kTag);
    ExFreePool(first);
    void* third = ExAllocatePoolWithTag(PagedPool, 48, kTag);
    EXPECT_NE(third, first);
    ExFreePool(second);
    ExFreePool(third);
}

TEST_F(PoolRangeTest, AnAllocationTooLargeForThePoolFails)
{
    EXPECT_EQ(ExAllocatePoolWithTag(NonPagedPoolNx, SIZE_T{1} << 40, kTag), nullptr);
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_PAGED, SIZE_T{1} << 40, kTag), nullptr);
    EXPECT_TRUE(sys.pool().outstanding_all().empty());
}

// The I/O manager's buffers are non-paged pool, but not a driver's blocks.
TEST_F(PoolRangeTest, SystemBuffersAreZeroedNonPagedPoolAndNotCounted)
{
    auto* buffer = static_cast<unsigned char*>(ex::allocate_system_buffer(300));
    ASSERT_NE(buffer, nullptr);
    EXPECT_TRUE(pool_test::all_bytes(buffer, 300, 0));
    EXPECT_EQ(sys.pool().range_of(buffer), "nonpaged pool");
    EXPECT_EQ(sys.memory().classify(buffer).region, mm::Region::System);
    EXPECT_TRUE(sys.pool().outstanding_all().empty());
    EXPECT_TRUE(sys.pool().usage_by_tag().empty());
    std::memset(buffer, 0xEE, 300);
    ex::free_system_buffer(buffer);
    ex::free_system_buffer(nullptr);  // nothing to do, like free(NULL)

    // A large one, recycled: it comes back zeroed.
    auto* big = static_cast<unsigned char*>(ex::allocate_system_buffer(65537));
    std::memset(big, 0xEE, 65537);
    ex::free_system_buffer(big);
    auto* again = static_cast<unsigned char*>(ex::allocate_system_buffer(65537));
    EXPECT_TRUE(pool_test::all_bytes(again, 65537, 0));
    ex::free_system_buffer(again);
}

// The scheduler to come runs kernel code on several host threads: the pool must hold.
TEST_F(PoolRangeTest, SeveralHostThreadsAllocateAndFreeAtOnce)
{
    sys.pool().set_special_pool_for_all(false);
    auto work = [](int seed, bool special, std::vector<void*>* kept) {
        std::vector<unsigned char*> mine;
        for (int i = 0; i < 600; ++i) {
            size_t size = 1 + static_cast<size_t>((seed * 7919 + i * 104729) % (special ? 300 : 9000));
            auto* p = static_cast<unsigned char*>(ExAllocatePoolWithTag(i % 2 ? PagedPool : NonPagedPoolNx, size, kTag));
            ASSERT_NE(p, nullptr);
            p[0] = static_cast<unsigned char>(seed);
            p[size - 1] = static_cast<unsigned char>(seed);
            mine.push_back(p);
            if (i % 3 == 2) {
                ASSERT_EQ(mine.front()[0], static_cast<unsigned char>(seed)) << "another thread wrote into my block";
                ExFreePool(mine.front());
                mine.erase(mine.begin());
            }
        }
        kept->assign(mine.begin(), mine.end());
    };
    for (bool special : {false, true}) {
        sys.pool().set_special_pool_for_all(special);
        std::vector<std::vector<void*>> kept(4);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back(work, t + 1, special, &kept[t]);
        for (auto& thread : threads)
            thread.join();
        std::set<void*> all;
        size_t count = 0;
        for (const auto& blocks : kept) {
            all.insert(blocks.begin(), blocks.end());
            count += blocks.size();
        }
        EXPECT_EQ(all.size(), count) << "two threads were given the same block";
        EXPECT_EQ(sys.pool().outstanding_all().size(), count);
        for (const auto& blocks : kept)
            for (void* p : blocks)
                ExFreePool(p);
        EXPECT_TRUE(sys.pool().outstanding_all().empty());
    }
}

}  // namespace

// The SystemBuffer of a real request, seen from the driver.
namespace {

constexpr DWORD kIoctlKeep = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS);

class SystemBufferTest : public pool_test::PoolDriverTest {};

TEST_F(SystemBufferTest, ABufferedRequestsSystemBufferIsNonPagedPoolFreedAtCompletion)
{
    e2e::Win32Process app(machine);
    app.Run([&] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\PoolTest", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE);
        char in[10] = "abc";
        char out[32] = {};
        DWORD n = 0;
        ASSERT_TRUE(DeviceIoControl(h, kIoctlKeep, in, sizeof(in), out, sizeof(out), &n, nullptr));
        EXPECT_EQ(n, 32u);
        EXPECT_EQ(out[0], 'k');
        CloseHandle(h);
    });
    void* buffer = *symbol<void*>("PoolTestLastSystemBuffer");
    ASSERT_NE(buffer, nullptr);
    EXPECT_EQ(pool().range_of(buffer), "nonpaged pool");
    EXPECT_TRUE(pool().outstanding(module).empty()) << "a SystemBuffer is not the driver's block";
    // Freed at completion: the slot is free again, so ExFreePool on it is a double free.
    auto stop = pool_test::catch_bugcheck([&] { ExFreePool(buffer); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x07u);
}

}  // namespace
