// locks_test.cpp - fast mutexes, ERESOURCEs, critical regions and in-stack queued spin
// locks, between real simulated threads: contention through the scheduler, the rules'
// bug checks and findings, and a lock cycle reported as a deadlock.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "machine.h"
#include "threads/threads_support.h"

using namespace iosim;
using threads::Stop;

namespace {

struct Locks : ::testing::Test {
    Machine machine{Machine::Options{.trace = true}};
    std::vector<std::string> FindingCodes()
    {
        std::vector<std::string> codes;
        for (const auto& finding : machine.system().findings())
            codes.push_back(finding.code);
        return codes;
    }
};

FAST_MUTEX g_mutex;
int g_counter;

}  // namespace

TEST_F(Locks, AFastMutexRaisesToApcLevelAndIsNotRecursive)
{
    ExInitializeFastMutex(&g_mutex);
    ExAcquireFastMutex(&g_mutex);
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    EXPECT_FALSE(ExTryToAcquireFastMutex(&g_mutex)) << "owned";
    BugCheckInfo stop = Stop([] { ExAcquireFastMutex(&g_mutex); });
    EXPECT_EQ(stop.code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    EXPECT_EQ(stop.parameters[0], 0x1001u) << "a deadlock: the thread would wait for itself";
}

TEST_F(Locks, AFastMutexReleasedReturnsToTheIrqlOfItsAcquisition)
{
    ExInitializeFastMutex(&g_mutex);
    EXPECT_TRUE(ExTryToAcquireFastMutex(&g_mutex));
    EXPECT_EQ(KeGetCurrentIrql(), APC_LEVEL);
    ExReleaseFastMutex(&g_mutex);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_TRUE(FindingCodes().empty());
}

TEST_F(Locks, AThreadThatCannotHaveAFastMutexWaitsUntilItIsReleased)
{
    ExInitializeFastMutex(&g_mutex);
    g_counter = 0;
    ExAcquireFastMutex(&g_mutex);
    PETHREAD thread = threads::StartThread([](PVOID) {
        ExAcquireFastMutex(&g_mutex);
        ++g_counter;
        ExReleaseFastMutex(&g_mutex);
    }, nullptr);
    threads::LetOthersRun();  // at APC_LEVEL: allowed, and the other thread runs meanwhile
    EXPECT_EQ(g_counter, 0) << "it waits for the mutex";
    EXPECT_EQ(g_mutex.Contention, 1u);
    ExReleaseFastMutex(&g_mutex);
    EXPECT_EQ(threads::WaitThread(thread), STATUS_SUCCESS);
    EXPECT_EQ(g_counter, 1);
}

TEST_F(Locks, AFastMutexAboveApcLevelIsIrqlNotLessOrEqual)
{
    ExInitializeFastMutex(&g_mutex);
    KIRQL old = KeRaiseIrqlToDpcLevel();
    EXPECT_EQ(Stop([] { ExAcquireFastMutex(&g_mutex); }).code, IRQL_NOT_LESS_OR_EQUAL);
    current_thread()->irql = old;
}

namespace {
FAST_MUTEX g_a, g_b;
void TakeAThenB(PVOID)
{
    ExAcquireFastMutex(&g_a);
    threads::LetOthersRun();
    ExAcquireFastMutex(&g_b);
}
void TakeBThenA(PVOID)
{
    ExAcquireFastMutex(&g_b);
    threads::LetOthersRun();
    ExAcquireFastMutex(&g_a);
}
}  // namespace

TEST_F(Locks, TwoThreadsTakingTwoFastMutexesInOppositeOrderAreADeadlockReport)
{
    ExInitializeFastMutex(&g_a);
    ExInitializeFastMutex(&g_b);
    CLIENT_ID one{}, two{};
    PETHREAD first = threads::StartThread(TakeAThenB, nullptr, &one);
    PETHREAD second = threads::StartThread(TakeBThenA, nullptr, &two);
    BugCheckInfo stop = Stop([&] { KeWaitForSingleObject(first, Executive, KernelMode, FALSE, nullptr); });
    EXPECT_EQ(stop.code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    EXPECT_EQ(stop.parameters[0], 0x1001u);
    auto tid = [](const CLIENT_ID& cid) { return reinterpret_cast<ULONG_PTR>(cid.UniqueThread); };
    // Each thread is named with the mutex it waits for and the thread that owns it.
    EXPECT_NE(stop.reason.find(fmt::format("fast mutex {} owned by t{}", static_cast<void*>(&g_b), tid(two))),
              std::string::npos)
        << stop.reason;
    EXPECT_NE(stop.reason.find(fmt::format("fast mutex {} owned by t{}", static_cast<void*>(&g_a), tid(one))),
              std::string::npos)
        << stop.reason;
    ObDereferenceObject(first);
    ObDereferenceObject(second);
}

// ---- ERESOURCE ----

namespace {
ERESOURCE g_resource;
int g_shared_inside;
}  // namespace

TEST_F(Locks, AResourceIsSharedByManyOrOwnedByOne)
{
    ASSERT_EQ(ExInitializeResourceLite(&g_resource), STATUS_SUCCESS);
    KeEnterCriticalRegion();
    EXPECT_TRUE(ExAcquireResourceSharedLite(&g_resource, TRUE));
    EXPECT_TRUE(ExAcquireResourceSharedLite(&g_resource, TRUE)) << "recursive";
    EXPECT_EQ(ExIsResourceAcquiredSharedLite(&g_resource), 2u);
    EXPECT_FALSE(ExIsResourceAcquiredExclusiveLite(&g_resource));
    g_shared_inside = 0;
    // Another thread shares it at once; one asking for exclusive access waits.
    PETHREAD reader = threads::StartThread([](PVOID) {
        KeEnterCriticalRegion();
        if (ExAcquireResourceSharedLite(&g_resource, FALSE))
            ++g_shared_inside;
        ExReleaseResourceLite(&g_resource);
        KeLeaveCriticalRegion();
    }, nullptr);
    EXPECT_EQ(threads::WaitThread(reader), STATUS_SUCCESS);
    EXPECT_EQ(g_shared_inside, 1);
    PETHREAD writer = threads::StartThread([](PVOID) {
        KeEnterCriticalRegion();
        ExAcquireResourceExclusiveLite(&g_resource, TRUE);
        g_shared_inside = 100;
        ExReleaseResourceLite(&g_resource);
        KeLeaveCriticalRegion();
    }, nullptr);
    threads::LetOthersRun();
    EXPECT_EQ(g_shared_inside, 1) << "the writer waits for the readers";
    EXPECT_EQ(ExGetExclusiveWaiterCount(&g_resource), 1u);
    ExReleaseResourceLite(&g_resource);
    threads::LetOthersRun();
    EXPECT_EQ(g_shared_inside, 1) << "one shared acquisition is still held";
    ExReleaseResourceLite(&g_resource);
    EXPECT_EQ(threads::WaitThread(writer), STATUS_SUCCESS);
    EXPECT_EQ(g_shared_inside, 100);
    KeLeaveCriticalRegion();
    EXPECT_TRUE(FindingCodes().empty()) << "every acquisition was inside a critical region";
    ExDeleteResourceLite(&g_resource);
}

TEST_F(Locks, AcquiringAResourceOutsideACriticalRegionIsAFinding)
{
    ExInitializeResourceLite(&g_resource);
    EXPECT_TRUE(ExAcquireResourceExclusiveLite(&g_resource, TRUE));
    EXPECT_TRUE(ExIsResourceAcquiredExclusiveLite(&g_resource));
    ExReleaseResourceLite(&g_resource);
    EXPECT_EQ(FindingCodes(), std::vector<std::string>{"RESOURCE_ACQUIRED_WITH_APCS_ENABLED"});
    ExDeleteResourceLite(&g_resource);
}

TEST_F(Locks, ReleasingAResourceNotOwnedIsResourceNotOwned)
{
    ExInitializeResourceLite(&g_resource);
    BugCheckInfo stop = Stop([] { ExReleaseResourceLite(&g_resource); });
    EXPECT_EQ(stop.code, RESOURCE_NOT_OWNED);
    EXPECT_EQ(stop.parameters[0], reinterpret_cast<ULONG_PTR>(&g_resource));
    ExDeleteResourceLite(&g_resource);
}

TEST_F(Locks, AskingForExclusiveWhileSharingIsAOneThreadDeadlock)
{
    ExInitializeResourceLite(&g_resource);
    KeEnterCriticalRegion();
    ExAcquireResourceSharedLite(&g_resource, TRUE);
    EXPECT_FALSE(ExAcquireResourceExclusiveLite(&g_resource, FALSE)) << "without waiting: simply refused";
    BugCheckInfo stop = Stop([] { ExAcquireResourceExclusiveLite(&g_resource, TRUE); });
    EXPECT_EQ(stop.code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    EXPECT_EQ(stop.parameters[0], 0x1001u);
    ExDeleteResourceLite(&g_resource);
}

// ---- critical regions and in-stack queued spin locks ----

TEST_F(Locks, LeavingACriticalRegionNeverEnteredIsTheCriticalRegionsRule)
{
    KeEnterCriticalRegion();
    EXPECT_TRUE(KeAreApcsDisabled());
    KeLeaveCriticalRegion();
    EXPECT_FALSE(KeAreApcsDisabled());
    BugCheckInfo stop = Stop([] { KeLeaveCriticalRegion(); });
    EXPECT_EQ(stop.code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    EXPECT_EQ(stop.parameters[0], 0x00040003u);
}

TEST_F(Locks, AnInStackQueuedSpinLockAtDispatchLevelKeepsTheIrql)
{
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL old = KeRaiseIrqlToDpcLevel();
    KLOCK_QUEUE_HANDLE handle;
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&lock, &handle);
    EXPECT_NE(lock, 0u);
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&handle);
    EXPECT_EQ(lock, 0u);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL) << "the ...AtDpcLevel pair leaves the IRQL alone";
    KeLowerIrql(old);
}
