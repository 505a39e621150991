// lookaside_test.cpp - lookaside lists: the WDK shapes, reuse of freed entries, the depth
// that bounds what a list holds, custom Allocate/Free routines, LOOKASIDE_LIST_EX with its
// context, flush and delete, and a list left initialized at unload.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "ldr/symbolize.h"
#include "pool/pool_test_support.h"
#include "system.h"

using namespace iosim;
using pool_test::catch_bugcheck;
using pool_test::DriverLine;
using pool_test::Tag;

namespace {

constexpr ULONG kTag = Tag("Lkas");

// x64 layouts, as in the WDK's wdm.h.
static_assert(sizeof(SLIST_HEADER) == 16 && alignof(SLIST_HEADER) == 16);
static_assert(offsetof(GENERAL_LOOKASIDE, Depth) == 0x10);
static_assert(offsetof(GENERAL_LOOKASIDE, TotalAllocates) == 0x14);
static_assert(offsetof(GENERAL_LOOKASIDE, AllocateMisses) == 0x18);
static_assert(offsetof(GENERAL_LOOKASIDE, TotalFrees) == 0x1C);
static_assert(offsetof(GENERAL_LOOKASIDE, FreeMisses) == 0x20);
static_assert(offsetof(GENERAL_LOOKASIDE, Type) == 0x24);
static_assert(offsetof(GENERAL_LOOKASIDE, Tag) == 0x28);
static_assert(offsetof(GENERAL_LOOKASIDE, Size) == 0x2C);
static_assert(offsetof(GENERAL_LOOKASIDE, Allocate) == 0x30);
static_assert(offsetof(GENERAL_LOOKASIDE, Free) == 0x38);
static_assert(offsetof(GENERAL_LOOKASIDE, ListEntry) == 0x40);
static_assert(offsetof(GENERAL_LOOKASIDE, LastTotalAllocates) == 0x50);
static_assert(offsetof(GENERAL_LOOKASIDE, Future) == 0x58);
static_assert(sizeof(GENERAL_LOOKASIDE) == 0x80, "GENERAL_LOOKASIDE is cache aligned");
static_assert(sizeof(NPAGED_LOOKASIDE_LIST) == 0x80 && sizeof(PAGED_LOOKASIDE_LIST) == 0x80);
static_assert(sizeof(LOOKASIDE_LIST_EX) == 0x60 && alignof(LOOKASIDE_LIST_EX) == 16);
static_assert(offsetof(GENERAL_LOOKASIDE_POOL, AllocateEx) == 0x30);
static_assert(LOOKASIDE_MINIMUM_BLOCK_SIZE == 8);

class LookasideTest : public pool_test::PoolDriverTest {
protected:
    template <class F, class... A>
    auto call(const char* name, A... args)
    {
        return symbol<F>(name)(args...);
    }
    GENERAL_LOOKASIDE& npaged() { return symbol<NPAGED_LOOKASIDE_LIST>("PoolTestNPagedList")->L; }
    GENERAL_LOOKASIDE& paged() { return symbol<PAGED_LOOKASIDE_LIST>("PoolTestPagedList")->L; }
    void init_npaged(bool custom, SIZE_T size = 64) { call<void(BOOLEAN, SIZE_T, ULONG)>("PoolTestInitNPaged", custom, size, kTag); }
    void* allocate_npaged() { return call<PVOID()>("PoolTestAllocateNPaged"); }
    void free_npaged(void* p) { call<void(PVOID)>("PoolTestFreeNPaged", p); }
    LONG custom_allocations() { return *symbol<LONG>("PoolTestCustomAllocations"); }
    LONG custom_frees() { return *symbol<LONG>("PoolTestCustomFrees"); }
    size_t held(const GENERAL_LOOKASIDE& l) { return l.ListHead.HeaderX64.Depth; }
};

TEST_F(LookasideTest, InitializeFillsTheHeaderWithTheSystemsDefaults)
{
    init_npaged(false, 100);
    GENERAL_LOOKASIDE& l = npaged();
    EXPECT_EQ(l.Depth, 4) << "the depth the system starts a list with";
    EXPECT_EQ(l.MaximumDepth, EX_MAXIMUM_LOOKASIDE_DEPTH_BASE);
    EXPECT_EQ(l.Type, NonPagedPool);
    EXPECT_EQ(l.Tag, kTag);
    EXPECT_EQ(l.Size, 100u);
    EXPECT_EQ(l.Allocate, &ExAllocatePoolWithTag) << "a NULL Allocate means the default routine";
    EXPECT_EQ(l.Free, &ExFreePool);
    EXPECT_EQ(l.TotalAllocates + l.AllocateMisses + l.TotalFrees + l.FreeMisses, 0u);
    EXPECT_EQ(l.ListEntry.Flink, &l.ListEntry);
    call<void()>("PoolTestDeleteNPaged");
}

TEST_F(LookasideTest, AFreedEntryIsHandedOutAgain)
{
    init_npaged(false);
    void* first = allocate_npaged();
    ASSERT_NE(first, nullptr);
    free_npaged(first);
    EXPECT_EQ(held(npaged()), 1u);
    auto record = pool().block_at(first);
    ASSERT_TRUE(record.has_value()) << "an entry held by a list is still the driver's pool block";
    EXPECT_EQ(record->owner, module);
    EXPECT_EQ(record->size, 64u);
    EXPECT_EQ(record->tag, kTag);
    EXPECT_FALSE(record->paged);
    void* second = allocate_npaged();
    EXPECT_EQ(second, first);
    EXPECT_EQ(held(npaged()), 0u);
    GENERAL_LOOKASIDE& l = npaged();
    EXPECT_EQ(l.TotalAllocates, 2u);
    EXPECT_EQ(l.AllocateMisses, 1u);
    EXPECT_EQ(l.TotalFrees, 1u);
    EXPECT_EQ(l.FreeMisses, 0u);
    free_npaged(second);
    call<void()>("PoolTestDeleteNPaged");
    EXPECT_TRUE(pool().outstanding(module).empty()) << "deleting the list frees what it held";
}

TEST_F(LookasideTest, AListHoldsAtMostDepthEntries)
{
    init_npaged(false);
    std::vector<void*> entries;
    for (int i = 0; i < 10; ++i)
        entries.push_back(allocate_npaged());
    for (void* p : entries)
        free_npaged(p);
    GENERAL_LOOKASIDE& l = npaged();
    EXPECT_EQ(held(l), 4u);
    EXPECT_EQ(l.TotalFrees, 10u);
    EXPECT_EQ(l.FreeMisses, 6u) << "the frees beyond the depth went back to the pool";
    EXPECT_EQ(pool().outstanding(module).size(), 4u);
    call<void()>("PoolTestDeleteNPaged");
    EXPECT_TRUE(pool().outstanding(module).empty());
}

// iosim's stand-in for the system's periodic adjustment: after each 64 allocations, the
// misses of that period raise Depth by their number; a period without misses lowers it by one.
TEST_F(LookasideTest, DepthFollowsTheMissesOfEachSixtyFourAllocations)
{
    init_npaged(false, 32);
    std::vector<void*> entries;
    for (int i = 0; i < 64; ++i)
        entries.push_back(allocate_npaged());
    EXPECT_EQ(npaged().AllocateMisses, 64u);
    EXPECT_EQ(npaged().Depth, 4 + 64);
    for (void* p : entries)
        free_npaged(p);
    EXPECT_EQ(held(npaged()), 64u);
    EXPECT_EQ(npaged().FreeMisses, 0u);
    for (int i = 0; i < 64; ++i)
        free_npaged(allocate_npaged());
    EXPECT_EQ(npaged().AllocateMisses, 64u) << "every allocation of the second period was a hit";
    EXPECT_EQ(npaged().Depth, 4 + 64 - 1);
    call<void()>("PoolTestDeleteNPaged");
}

TEST_F(LookasideTest, CustomRoutinesAllocateOnMissesAndFreeBeyondTheDepth)
{
    init_npaged(true);
    std::vector<void*> entries;
    for (int i = 0; i < 6; ++i)
        entries.push_back(allocate_npaged());
    EXPECT_EQ(custom_allocations(), 6);
    auto record = pool().block_at(entries[0]);
    ASSERT_TRUE(record.has_value());
    EXPECT_NE(ldr::describe_call_site(record->caller).find(DriverLine("custom-allocate")), std::string::npos);
    for (void* p : entries)
        free_npaged(p);
    EXPECT_EQ(custom_frees(), 2);
    call<void()>("PoolTestDeleteNPaged");
    EXPECT_EQ(custom_frees(), 6) << "delete hands the held entries to the Free routine";
    EXPECT_TRUE(pool().outstanding(module).empty());
}

TEST_F(LookasideTest, APagedListAllocatesPagedPool)
{
    call<void(SIZE_T, ULONG)>("PoolTestInitPaged", 200, kTag);
    EXPECT_EQ(paged().Type, PagedPool);
    void* p = call<PVOID()>("PoolTestAllocatePaged");
    EXPECT_TRUE(pool().block_at(p)->paged);
    EXPECT_EQ(pool().range_of(p), "paged pool");
    call<void(PVOID)>("PoolTestFreePaged", p);
    EXPECT_EQ(held(paged()), 1u);
    call<void()>("PoolTestDeletePaged");
    EXPECT_TRUE(pool().outstanding(module).empty());
}

TEST_F(LookasideTest, AnExListReachesItsContextAndFlushFreesWhatItHolds)
{
    using InitEx = NTSTATUS(BOOLEAN, POOL_TYPE, ULONG, SIZE_T, ULONG);
    ASSERT_EQ(call<InitEx>("PoolTestInitEx", TRUE, NonPagedPoolNx, 0, 48, kTag), STATUS_SUCCESS);
    struct Context {
        ULONG Allocations;
        ULONG Frees;
        LOOKASIDE_LIST_EX List;
    };
    auto* context = symbol<Context>("PoolTestContext");
    void* a = call<PVOID()>("PoolTestAllocateFromEx");
    void* b = call<PVOID()>("PoolTestAllocateFromEx");
    EXPECT_EQ(context->Allocations, 2u) << "the AllocateEx routine found its context with CONTAINING_RECORD";
    call<void(PVOID)>("PoolTestFreeToEx", a);
    call<void(PVOID)>("PoolTestFreeToEx", b);
    EXPECT_EQ(context->List.L.ListHead.HeaderX64.Depth, 2u);
    EXPECT_EQ(context->Frees, 0u);
    call<void()>("PoolTestFlushEx");
    EXPECT_EQ(context->Frees, 2u);
    EXPECT_EQ(context->List.L.ListHead.HeaderX64.Depth, 0u);
    void* c = call<PVOID()>("PoolTestAllocateFromEx");  // still usable after a flush
    EXPECT_EQ(context->Allocations, 3u);
    call<void(PVOID)>("PoolTestFreeToEx", c);
    call<void()>("PoolTestDeleteEx");
    EXPECT_EQ(context->Frees, 3u);
    EXPECT_TRUE(pool().outstanding(module).empty());
}

TEST_F(LookasideTest, InitializeLookasideListExChecksTypeAndFlags)
{
    using InitEx = NTSTATUS(BOOLEAN, POOL_TYPE, ULONG, SIZE_T, ULONG);
    auto init = symbol<InitEx>("PoolTestInitEx");
    EXPECT_EQ(init(FALSE, NonPagedPoolMustSucceed, 0, 32, kTag), STATUS_INVALID_PARAMETER_4);
    EXPECT_EQ(init(FALSE, NonPagedPool, EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL | EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE,
                   32, kTag),
              STATUS_INVALID_PARAMETER_5)
        << "the two flags are mutually exclusive";
    EXPECT_EQ(init(FALSE, NonPagedPool, 4, 32, kTag), STATUS_INVALID_PARAMETER_5);
    ASSERT_EQ(init(FALSE, PagedPool, EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL, 32, kTag), STATUS_SUCCESS);
    struct Context {
        ULONG Allocations;
        ULONG Frees;
        LOOKASIDE_LIST_EX List;
    };
    auto* context = symbol<Context>("PoolTestContext");
    EXPECT_EQ(static_cast<ULONG>(context->List.L.Type), PagedPool | POOL_RAISE_IF_ALLOCATION_FAILURE);
    call<void()>("PoolTestDeleteEx");
    ASSERT_EQ(init(FALSE, PagedPool, EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE, 32, kTag), STATUS_SUCCESS);
    EXPECT_EQ(static_cast<ULONG>(context->List.L.Type), PagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE);
    call<void()>("PoolTestDeleteEx");
}

TEST_F(LookasideTest, AnEntryFreedTwiceToItsListIsBadPoolCaller07)
{
    init_npaged(false);
    void* p = allocate_npaged();
    free_npaged(p);
    auto stop = catch_bugcheck([&] { free_npaged(p); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
    EXPECT_EQ(stop->parameters[0], 0x07u);
    EXPECT_NE(stop->location.find(DriverLine("free-npaged")), std::string::npos) << stop->location;
}

TEST_F(LookasideTest, AListNeverInitializedStopsWithTheReasonNotACrash)
{
    NPAGED_LOOKASIDE_LIST never{};  // zeroed, as a driver's global before ExInitialize...
    auto stop = catch_bugcheck([&] { ExAllocateFromNPagedLookasideList(&never); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(KMODE_EXCEPTION_NOT_HANDLED));
    EXPECT_EQ(stop->parameters[0], static_cast<ULONG_PTR>(static_cast<ULONG>(STATUS_ACCESS_VIOLATION)));
    EXPECT_NE(stop->reason.find("never initialized"), std::string::npos) << stop->reason;
}

TEST_F(LookasideTest, DeletingAListTwiceIsReported)
{
    init_npaged(false);
    call<void()>("PoolTestDeleteNPaged");
    EXPECT_TRUE(finding_codes().empty());
    call<void()>("PoolTestDeleteNPaged");
    EXPECT_EQ(finding_codes(), std::vector<std::string>{"LOOKASIDE_LIST_NOT_INITIALIZED"});
}

TEST_F(LookasideTest, AListLeftInitializedAtUnloadIsReportedWithWhatItHolds)
{
    init_npaged(false, 80);
    free_npaged(allocate_npaged());
    ASSERT_EQ(machine.unload_driver("pool_test"), STATUS_SUCCESS);
    std::vector<Finding> findings = sys().findings();
    ASSERT_EQ(findings.size(), 2u);
    EXPECT_EQ(findings[0].code, "LOOKASIDE_LIST_LEFT_BEHIND");
    EXPECT_NE(findings[0].message.find("non-paged lookaside list of 80-byte entries tagged 'Lkas' (holding 1 entries)"),
              std::string::npos)
        << findings[0].message;
    EXPECT_NE(findings[0].message.find("ExDeleteNPagedLookasideList"), std::string::npos);
    EXPECT_NE(findings[0].location.find(DriverLine("init-npaged")), std::string::npos) << findings[0].location;
    EXPECT_EQ(findings[1].code, "POOL_LEAK") << "the entry it held is still the driver's pool";
    EXPECT_NE(findings[1].location.find(DriverLine("allocate-npaged")), std::string::npos) << findings[1].location;
    EXPECT_TRUE(pool().lookaside().all().empty());
}

}  // namespace
