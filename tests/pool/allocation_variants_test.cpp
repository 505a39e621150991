// allocation_variants_test.cpp - the allocation routines the WDK declares: which zero the
// block, which raise on failure (and with what), ExAllocatePool3's extended parameters,
// ExFreePool2.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "ke/seh.h"
#include "pool/pool_test_support.h"
#include "system.h"

using namespace iosim;
using pool_test::catch_bugcheck;
using pool_test::Tag;

namespace {

constexpr ULONG kTag = Tag("Var1");
constexpr SIZE_T kHuge = SIZE_T{1} << 40;  // more than a pool range holds
constexpr size_t kSize = 200;
constexpr int kBlocks = 300;  // more than the free slots of the size left on fresh pages

class AllocationVariantsTest : public ::testing::Test {
protected:
    // Leaves many freed blocks of kSize full of 0xCD, so that the next allocations of the
    // size reuse dirty memory.
    void dirty(POOL_TYPE type)
    {
        std::vector<void*> blocks;
        for (int i = 0; i < kBlocks; ++i) {
            void* p = ExAllocatePoolUninitialized(type, kSize, kTag);
            std::memset(p, 0xCD, kSize);
            blocks.push_back(p);
        }
        for (void* p : blocks)
            ExFreePool(p);
    }
    // Allocates kBlocks with `allocate` after dirtying; counts blocks that are all zero.
    int zeroed_blocks(POOL_TYPE type, const std::function<void*()>& allocate)
    {
        dirty(type);
        std::vector<void*> blocks;
        int zeroed = 0;
        for (int i = 0; i < kBlocks; ++i) {
            void* p = allocate();
            EXPECT_NE(p, nullptr);
            if (p == nullptr)
                break;
            zeroed += pool_test::all_bytes(p, kSize, 0) ? 1 : 0;
            blocks.push_back(p);
        }
        for (void* p : blocks)
            ExFreePool(p);
        return zeroed;
    }
    // The bug check a raise with no handler gives: KMODE_EXCEPTION_NOT_HANDLED, parameter
    // 1 the exception code.
    static void expect_raised(const std::optional<BugCheckInfo>& stop, NTSTATUS status = STATUS_INSUFFICIENT_RESOURCES)
    {
        ASSERT_TRUE(stop.has_value()) << "nothing was raised";
        EXPECT_EQ(stop->code, static_cast<ULONG>(KMODE_EXCEPTION_NOT_HANDLED));
        EXPECT_EQ(stop->parameters[0], static_cast<ULONG_PTR>(static_cast<ULONG>(status)));
        EXPECT_NE(stop->location.find("allocation_variants_test.cpp"), std::string::npos) << stop->location;
    }

    System sys;
};

TEST_F(AllocationVariantsTest, TheZeroVariantsZeroReusedMemory)
{
    EXPECT_EQ(zeroed_blocks(NonPagedPoolNx, [] { return ExAllocatePoolZero(NonPagedPoolNx, kSize, kTag); }), kBlocks);
    EXPECT_EQ(zeroed_blocks(PagedPool, [] { return ExAllocatePoolQuotaZero(PagedPool, kSize, kTag); }), kBlocks);
    EXPECT_EQ(zeroed_blocks(NonPagedPoolNx,
                            [] { return ExAllocatePoolPriorityZero(NonPagedPoolNx, kSize, kTag, NormalPoolPriority); }),
              kBlocks);
    EXPECT_EQ(zeroed_blocks(PagedPool, [] { return ExAllocatePool2(POOL_FLAG_PAGED, kSize, kTag); }), kBlocks);
    EXPECT_EQ(zeroed_blocks(PagedPool, [] { return ExAllocatePool3(POOL_FLAG_PAGED, kSize, kTag, nullptr, 0); }),
              kBlocks);
    EXPECT_EQ(zeroed_blocks(NonPagedPoolNx,
                            [] {
                                return ExAllocatePoolWithTag(
                                    static_cast<POOL_TYPE>(NonPagedPoolNx | POOL_ZERO_ALLOCATION), kSize, kTag);
                            }),
              kBlocks);
}

TEST_F(AllocationVariantsTest, TheUninitializedVariantsLeaveReusedMemoryAsItWas)
{
    std::vector<std::pair<const char*, std::function<void*()>>> variants = {
        {"ExAllocatePoolWithTag", [] { return ExAllocatePoolWithTag(PagedPool, kSize, kTag); }},
        {"ExAllocatePoolUninitialized", [] { return ExAllocatePoolUninitialized(PagedPool, kSize, kTag); }},
        {"ExAllocatePoolQuotaUninitialized", [] { return ExAllocatePoolQuotaUninitialized(PagedPool, kSize, kTag); }},
        {"ExAllocatePoolWithQuotaTag", [] { return ExAllocatePoolWithQuotaTag(PagedPool, kSize, kTag); }},
        {"ExAllocatePoolPriorityUninitialized",
         [] { return ExAllocatePoolPriorityUninitialized(PagedPool, kSize, kTag, HighPoolPriority); }},
        {"ExAllocatePoolWithTagPriority",
         [] { return ExAllocatePoolWithTagPriority(PagedPool, kSize, kTag, LowPoolPrioritySpecialPoolOverrun); }},
        {"ExAllocatePool2 uninitialized",
         [] { return ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_UNINITIALIZED, kSize, kTag); }},
    };
    for (const auto& [name, allocate] : variants)
        EXPECT_LT(zeroed_blocks(PagedPool, allocate), kBlocks) << name << " zeroed every block";
}

TEST_F(AllocationVariantsTest, VariantsRecordTagSizeAndPoolType)
{
    void* q = ExAllocatePoolQuotaZero(NonPagedPoolNx, 24, kTag);
    void* p = ExAllocatePoolWithTagPriority(PagedPool, 40, kTag, NormalPoolPriority);
    EXPECT_FALSE(sys.pool().block_at(q)->paged);
    EXPECT_EQ(sys.pool().block_at(q)->size, 24u);
    EXPECT_TRUE(sys.pool().block_at(p)->paged);
    EXPECT_EQ(sys.pool().block_at(p)->tag, kTag);
    ExFreePoolWithTag(q, kTag);
    ExFreePoolWithTag(p, kTag);
}

TEST_F(AllocationVariantsTest, FailureReturnsNullUnlessTheCallerAskedForARaise)
{
    EXPECT_EQ(ExAllocatePoolWithTag(NonPagedPoolNx, kHuge, kTag), nullptr);
    EXPECT_EQ(ExAllocatePoolZero(PagedPool, kHuge, kTag), nullptr);
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_NON_PAGED, kHuge, kTag), nullptr);
    EXPECT_EQ(ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_USE_QUOTA, kHuge, kTag), nullptr)
        << "ExAllocatePool2 with quota still returns NULL";
    EXPECT_EQ(ExAllocatePoolWithQuotaTag(static_cast<POOL_TYPE>(PagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE), kHuge,
                                         kTag),
              nullptr);
    EXPECT_FALSE(sys.dead());
}

TEST_F(AllocationVariantsTest, PoolFlagRaiseOnFailureRaisesInsufficientResources)
{
    expect_raised(catch_bugcheck([] { ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, kHuge, kTag); }));
}

TEST_F(AllocationVariantsTest, AnInvalidRequestRaisesTooWithRaiseOnFailure)
{
    expect_raised(catch_bugcheck([] { ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 16, 0); }));
}

TEST_F(AllocationVariantsTest, TheQuotaRoutinesRaiseByDefault)
{
    expect_raised(catch_bugcheck([] { ExAllocatePoolWithQuotaTag(NonPagedPoolNx, kHuge, kTag); }));
}

TEST_F(AllocationVariantsTest, TheQuotaZeroRoutineRaisesByDefault)
{
    expect_raised(catch_bugcheck([] { ExAllocatePoolQuotaZero(PagedPool, kHuge, kTag); }));
}

TEST_F(AllocationVariantsTest, PoolRaiseIfAllocationFailureRaises)
{
    expect_raised(catch_bugcheck([] {
        ExAllocatePoolWithTag(static_cast<POOL_TYPE>(PagedPool | POOL_RAISE_IF_ALLOCATION_FAILURE), kHuge, kTag);
    }));
}

TEST_F(AllocationVariantsTest, ARaiseReachesAnEnclosingHandler)
{
    seh::ExceptionRecord record;
    NTSTATUS status = seh::capture(
        [] { ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_RAISE_ON_FAILURE, kHuge, kTag); }, &record);
    EXPECT_EQ(status, STATUS_INSUFFICIENT_RESOURCES);
    EXPECT_EQ(record.code, STATUS_INSUFFICIENT_RESOURCES);
    EXPECT_FALSE(sys.dead());
}

TEST_F(AllocationVariantsTest, ExAllocatePool3TakesAPriorityAndANodeAndRefusesWhatItDoesNotKnow)
{
    POOL_EXTENDED_PARAMETER priority{};
    priority.Type = PoolExtendedParameterPriority;
    priority.Priority = HighPoolPriority;
    void* p = ExAllocatePool3(POOL_FLAG_NON_PAGED, 32, kTag, &priority, 1);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(pool_test::all_bytes(p, 32, 0));
    ExFreePool(p);

    POOL_EXTENDED_PARAMETER node{};
    node.Type = PoolExtendedParameterNumaNode;
    node.PreferredNode = 0;
    p = ExAllocatePool3(POOL_FLAG_PAGED, 32, kTag, &node, 1);
    EXPECT_NE(p, nullptr);
    ExFreePool(p);

    POOL_EXTENDED_PARAMETER secure{};
    secure.Type = PoolExtendedParameterSecurePool;
    EXPECT_EQ(ExAllocatePool3(POOL_FLAG_PAGED, 32, kTag, &secure, 1), nullptr) << "a required parameter iosim lacks";
    secure.Optional = 1;
    p = ExAllocatePool3(POOL_FLAG_PAGED, 32, kTag, &secure, 1);
    EXPECT_NE(p, nullptr) << "an optional one is ignored";
    ExFreePool(p);

    POOL_EXTENDED_PARAMETER bad_priority{};
    bad_priority.Type = PoolExtendedParameterPriority;
    bad_priority.Priority = static_cast<EX_POOL_PRIORITY>(7);
    EXPECT_EQ(ExAllocatePool3(POOL_FLAG_PAGED, 32, kTag, &bad_priority, 1), nullptr);
    POOL_EXTENDED_PARAMETER invalid{};
    EXPECT_EQ(ExAllocatePool3(POOL_FLAG_PAGED, 32, kTag, &invalid, 1), nullptr);
    EXPECT_EQ(ExAllocatePool3(POOL_FLAG_PAGED, 32, kTag, nullptr, 1), nullptr);
    EXPECT_TRUE(sys.pool().outstanding_all().empty());
    expect_raised(catch_bugcheck(
        [&] { ExAllocatePool3(POOL_FLAG_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 32, kTag, &invalid, 1); }));
}

TEST_F(AllocationVariantsTest, ExFreePool2FreesAndChecksTheTag)
{
    void* p = ExAllocatePool2(POOL_FLAG_PAGED, 16, kTag);
    ExFreePool2(p, kTag, nullptr, 0);
    EXPECT_FALSE(sys.pool().block_at(p).has_value());
    void* q = ExAllocatePool2(POOL_FLAG_PAGED, 16, kTag);
    auto stop = catch_bugcheck([&] { ExFreePool2(q, Tag("Othr"), nullptr, 0); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x0Au);
}

}  // namespace
