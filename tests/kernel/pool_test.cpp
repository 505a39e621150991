// pool_test.cpp - the executive pool (sim_kernel/ex/pool.cpp): tags, sizes, pool types,
// ExAllocatePool2's flags and zeroing, BAD_POOL_CALLER on bad frees, usage by tag.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "ex/pool.h"
#include "kernel/kernel_test_util.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;
using kernel_test::catch_bugcheck;

namespace {

constexpr ULONG tag(char a, char b, char c, char d)
{
    return static_cast<ULONG>(static_cast<unsigned char>(a)) | (static_cast<ULONG>(static_cast<unsigned char>(b)) << 8) |
           (static_cast<ULONG>(static_cast<unsigned char>(c)) << 16) |
           (static_cast<ULONG>(static_cast<unsigned char>(d)) << 24);
}
constexpr ULONG kTestTag = tag('T', 'e', 's', 't');
constexpr ULONG kOtherTag = tag('O', 't', 'h', 'r');

class PoolTest : public ::testing::Test {
protected:
    std::optional<ex::PoolBlock> record_of(const void* address)
    {
        for (const auto& block : sys.pool().outstanding_all())
            if (block.address == address)
                return block;
        return std::nullopt;
    }
    static bool all_zero(const void* p, size_t n)
    {
        const auto* bytes = static_cast<const unsigned char*>(p);
        return std::all_of(bytes, bytes + n, [](unsigned char b) { return b == 0; });
    }

    System sys;
};

TEST_F(PoolTest, AllocationRecordsTagSizeAndPoolType)
{
    void* nonpaged = ExAllocatePoolWithTag(NonPagedPool, 100, kTestTag);
    void* paged = ExAllocatePoolWithTag(PagedPool, 40, kOtherTag);
    void* nx = ExAllocatePoolWithTag(NonPagedPoolNx, 8, kTestTag);
    ASSERT_NE(nonpaged, nullptr);
    ASSERT_NE(paged, nullptr);
    ASSERT_NE(nx, nullptr);

    auto a = record_of(nonpaged);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->size, 100u);
    EXPECT_EQ(a->tag, kTestTag);
    EXPECT_FALSE(a->paged);
    EXPECT_NE(a->caller, nullptr) << "the allocation's call site is recorded for leak reports";

    auto b = record_of(paged);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->size, 40u);
    EXPECT_EQ(b->tag, kOtherTag);
    EXPECT_TRUE(b->paged);

    auto c = record_of(nx);
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(c->paged) << "NonPagedPoolNx is non-paged";
    EXPECT_LT(a->serial, b->serial);
    EXPECT_LT(b->serial, c->serial);

    for (void* p : {nonpaged, paged, nx})
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << "pool blocks are 16-byte aligned on x64";

    ExFreePoolWithTag(nonpaged, kTestTag);
    ExFreePoolWithTag(paged, kOtherTag);
    ExFreePool(nx);
    EXPECT_TRUE(sys.pool().outstanding_all().empty());
}

TEST_F(PoolTest, UntaggedAllocationUsesTagNone)
{
    void* p = ExAllocatePool(PagedPool, 12);
    auto block = record_of(p);
    ASSERT_TRUE(block.has_value());
    EXPECT_EQ(ex::tag_to_string(block->tag), "None");
    EXPECT_TRUE(block->paged);
    ExFreePool(p);
}

TEST_F(PoolTest, TagToStringReadsFourLittleEndianCharacters)
{
    EXPECT_EQ(ex::tag_to_string(kTestTag), "Test");
    EXPECT_EQ(ex::tag_to_string('tseT'), "Test");  // the WDK's reversed multi-char literal
    EXPECT_EQ(ex::tag_to_string(tag('A', 'b', '\x01', ' ')), "Ab. ");
}

TEST_F(PoolTest, FreeForgetsTheBlock)
{
    void* p = ExAllocatePoolWithTag(NonPagedPool, 32, kTestTag);
    ASSERT_TRUE(record_of(p).has_value());
    ExFreePoolWithTag(p, kTestTag);
    EXPECT_FALSE(record_of(p).has_value());
}

TEST_F(PoolTest, FreeWithTagZeroSkipsTheTagCheck)
{
    void* p = ExAllocatePoolWithTag(NonPagedPool, 32, kTestTag);
    auto stop = catch_bugcheck([&] { ExFreePoolWithTag(p, 0); });
    EXPECT_FALSE(stop.has_value()) << stop->report;
    EXPECT_FALSE(record_of(p).has_value());
}

TEST_F(PoolTest, ExAllocatePool2ZeroesTheBlock)
{
    // Dirty some memory of the same size first, so a missing memset would show.
    std::vector<void*> dirty;
    for (int i = 0; i < 32; ++i) {
        void* p = ExAllocatePoolUninitialized(NonPagedPool, 200, kOtherTag);
        std::memset(p, 0xCD, 200);
        dirty.push_back(p);
    }
    for (void* p : dirty)
        ExFreePoolWithTag(p, kOtherTag);

    std::vector<void*> blocks;
    for (int i = 0; i < 32; ++i) {
        void* p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 200, kTestTag);
        ASSERT_NE(p, nullptr);
        EXPECT_TRUE(all_zero(p, 200)) << "block " << i << " is not zeroed";
        blocks.push_back(p);
    }
    void* paged = ExAllocatePool2(POOL_FLAG_PAGED, 64, kTestTag);
    EXPECT_TRUE(all_zero(paged, 64));
    EXPECT_TRUE(record_of(paged)->paged);
    EXPECT_FALSE(record_of(blocks[0])->paged);
    ExFreePoolWithTag(paged, kTestTag);
    for (void* p : blocks)
        ExFreePoolWithTag(p, kTestTag);
}

TEST_F(PoolTest, ExAllocatePool2UninitializedIsAcceptedAndTracked)
{
    void* p = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_UNINITIALIZED, 48, kTestTag);
    ASSERT_NE(p, nullptr);
    auto block = record_of(p);
    ASSERT_TRUE(block.has_value());
    EXPECT_TRUE(block->paged);
    EXPECT_EQ(block->size, 48u);
    EXPECT_EQ(block->tag, kTestTag);
    void* q = ExAllocatePool2(POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_UNINITIALIZED | POOL_FLAG_CACHE_ALIGNED, 16,
                              kTestTag);
    ASSERT_NE(q, nullptr);
    EXPECT_FALSE(record_of(q)->paged);
    ExFreePoolWithTag(p, kTestTag);
    ExFreePoolWithTag(q, kTestTag);
}

TEST_F(PoolTest, ExAllocatePool2NeedsExactlyOnePoolKind)
{
    EXPECT_EQ(ExAllocatePool2(0, 16, kTestTag), nullptr);
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_UNINITIALIZED, 16, kTestTag), nullptr);
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 16, kTestTag), nullptr);
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE, 16, kTestTag), nullptr);
    EXPECT_TRUE(sys.pool().outstanding_all().empty()) << "a refused allocation must leave no record";
}

TEST_F(PoolTest, ExAllocatePool2IgnoresUnknownOptionalFlags)
{
    // The high 32 bits are optional: unknown ones are ignored.
    void* p = ExAllocatePool2(POOL_FLAG_NON_PAGED | 0x0000000100000000ULL, 16, kTestTag);
    ASSERT_NE(p, nullptr);
    ExFreePoolWithTag(p, kTestTag);
}

TEST_F(PoolTest, ExAllocatePool2WithTagZeroReturnsNull)
{
    void* p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0);
    EXPECT_EQ(p, nullptr);
    if (p != nullptr)
        ExFreePool(p);
}

TEST_F(PoolTest, ExAllocatePool2WithUnknownRequiredFlagReturnsNull)
{
    void* p = ExAllocatePool2(POOL_FLAG_NON_PAGED | 0x00010000ULL, 16, kTestTag);
    EXPECT_EQ(p, nullptr);
    if (p != nullptr)
        ExFreePool(p);
}

TEST_F(PoolTest, DoubleFreeIsBadPoolCaller07)
{
    void* p = ExAllocatePoolWithTag(NonPagedPool, 24, kTestTag);
    ExFreePoolWithTag(p, kTestTag);
    auto stop = catch_bugcheck([&] { ExFreePoolWithTag(p, kTestTag); });
    ASSERT_TRUE(stop.has_value()) << "double free did not bug-check";
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
    EXPECT_EQ(stop->name, "BAD_POOL_CALLER");
    EXPECT_EQ(stop->parameters[0], 0x07u);
    EXPECT_NE(stop->location.find("pool_test.cpp"), std::string::npos) << stop->location;

    auto untagged = catch_bugcheck([&] { ExFreePool(p); });
    ASSERT_TRUE(untagged.has_value());
    EXPECT_EQ(untagged->parameters[0], 0x07u);
}

TEST_F(PoolTest, DoubleFreeParametersFollowTheDocumentedLayout)
{
    void* p = ExAllocatePoolWithTag(NonPagedPool, 24, kTestTag);
    ExFreePoolWithTag(p, kTestTag);
    auto stop = catch_bugcheck([&] { ExFreePoolWithTag(p, kTestTag); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[3], reinterpret_cast<ULONG_PTR>(p));
}

TEST_F(PoolTest, WrongTagIsBadPoolCaller0A)
{
    void* p = ExAllocatePoolWithTag(PagedPool, 24, kTestTag);
    auto stop = catch_bugcheck([&] { ExFreePoolWithTag(p, kOtherTag); });
    ASSERT_TRUE(stop.has_value()) << "free with the wrong tag did not bug-check";
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
    EXPECT_EQ(stop->parameters[0], 0x0Au);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(p));
    EXPECT_EQ(stop->parameters[2], kTestTag);   // the allocator's tag
    EXPECT_EQ(stop->parameters[3], kOtherTag);  // the tag used to free
    EXPECT_NE(stop->reason.find("'Othr'"), std::string::npos) << stop->reason;
    EXPECT_NE(stop->reason.find("'Test'"), std::string::npos) << stop->reason;
    // The block was not freed: it is still live and can be freed properly.
    EXPECT_TRUE(record_of(p).has_value());
    ExFreePoolWithTag(p, kTestTag);
}

TEST_F(PoolTest, FreeOfAnAddressNeverAllocatedIsBadPoolCaller)
{
    alignas(16) static char not_pool[32];
    auto stop = catch_bugcheck([&] { ExFreePool(not_pool); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
}

TEST_F(PoolTest, UsageByTagSumsAllocationsAndBytesPerPoolType)
{
    std::vector<std::pair<void*, ULONG>> blocks = {
        {ExAllocatePoolWithTag(NonPagedPool, 10, kTestTag), kTestTag},
        {ExAllocatePoolWithTag(NonPagedPool, 20, kTestTag), kTestTag},
        {ExAllocatePoolWithTag(PagedPool, 5, kTestTag), kTestTag},
        {ExAllocatePoolWithTag(NonPagedPool, 7, kOtherTag), kOtherTag},
    };
    auto usage = sys.pool().usage_by_tag();
    auto find = [&](ULONG t, bool paged) -> const ex::PoolTracker::TagUsage* {
        for (const auto& u : usage)
            if (u.tag == t && u.paged == paged)
                return &u;
        return nullptr;
    };
    ASSERT_EQ(usage.size(), 3u);
    ASSERT_NE(find(kTestTag, false), nullptr);
    EXPECT_EQ(find(kTestTag, false)->allocations, 2u);
    EXPECT_EQ(find(kTestTag, false)->bytes, 30u);
    ASSERT_NE(find(kTestTag, true), nullptr);
    EXPECT_EQ(find(kTestTag, true)->allocations, 1u);
    EXPECT_EQ(find(kTestTag, true)->bytes, 5u);
    ASSERT_NE(find(kOtherTag, false), nullptr);
    EXPECT_EQ(find(kOtherTag, false)->bytes, 7u);

    ExFreePoolWithTag(blocks[1].first, kTestTag);
    usage = sys.pool().usage_by_tag();
    ASSERT_NE(find(kTestTag, false), nullptr);
    EXPECT_EQ(find(kTestTag, false)->allocations, 1u);
    EXPECT_EQ(find(kTestTag, false)->bytes, 10u);
    for (size_t i = 0; i < blocks.size(); ++i)
        if (i != 1)
            ExFreePoolWithTag(blocks[i].first, blocks[i].second);
    EXPECT_TRUE(sys.pool().usage_by_tag().empty());
}

TEST_F(PoolTest, BlocksAllocatedOutsideAModuleHaveNoOwner)
{
    void* p = ExAllocatePoolWithTag(NonPagedPool, 8, kTestTag);
    EXPECT_EQ(record_of(p)->owner, nullptr) << "the test binary is not a loaded driver module";
    EXPECT_EQ(sys.pool().outstanding(nullptr).size(), 1u);
    ExFreePoolWithTag(p, kTestTag);
}

}  // namespace
