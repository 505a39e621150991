// ke_exports_test.cpp - the kernel exports over the scheduler, called as a driver would:
// waits, timers, DPCs, semaphores, mutexes, spin locks, time.
#include <gtest/gtest.h>

#include "ke/bugcheck.h"
#include "machine.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

struct KeExports : ::testing::Test {
    Machine machine;
};

ULONG expect_bugcheck(const std::function<void()>& f)
{
    try {
        f();
    } catch (const BugCheck& stop) {
        return stop.info().code;
    }
    return 0;
}

}  // namespace

TEST_F(KeExports, KeDelayExecutionThreadMovesSimulatedTimeAndReturnsSuccess)
{
    LARGE_INTEGER before{};
    KeQuerySystemTime(&before);
    LARGE_INTEGER interval{};
    interval.QuadPart = -20'000'000;  // 2 s
    EXPECT_EQ(KeDelayExecutionThread(KernelMode, FALSE, &interval), STATUS_SUCCESS);
    LARGE_INTEGER after{};
    KeQuerySystemTime(&after);
    EXPECT_EQ(after.QuadPart - before.QuadPart, 20'000'000);
    EXPECT_EQ(KeQueryInterruptTime(), 20'000'000u);
}

TEST_F(KeExports, AnAbsoluteTimeoutIsASystemTime)
{
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    LARGE_INTEGER now{};
    KeQuerySystemTime(&now);
    LARGE_INTEGER deadline{};
    deadline.QuadPart = now.QuadPart + 5'000'000;
    EXPECT_EQ(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &deadline), STATUS_TIMEOUT);
    EXPECT_EQ(KeQueryInterruptTime(), 5'000'000u);
}

TEST_F(KeExports, ATimerDpcSetsTheEventTheThreadWaitsFor)
{
    static KEVENT event;
    KeInitializeEvent(&event, SynchronizationEvent, FALSE);
    KDPC dpc;
    KeInitializeDpc(&dpc, [](PKDPC, PVOID, PVOID, PVOID) { KeSetEvent(&event, IO_NO_INCREMENT, FALSE); }, nullptr);
    KTIMER timer;
    KeInitializeTimer(&timer);
    LARGE_INTEGER due{};
    due.QuadPart = -1'000'000;
    EXPECT_FALSE(KeSetTimer(&timer, due, &dpc)) << "the timer was not set before";
    EXPECT_TRUE(KeSetTimer(&timer, due, &dpc)) << "setting a set timer re-arms it and says so";
    EXPECT_EQ(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_TRUE(KeReadStateTimer(&timer));
    EXPECT_EQ(KeReadStateEvent(&event), 0) << "the synchronization event was consumed by the wait";
    EXPECT_FALSE(KeCancelTimer(&timer)) << "an expired one-shot timer is no longer set";
}

// A timer's DPC runs at the timer's due time, before the clock moves on: advancing the
// clock past two timers runs each DPC at its own time, in due order.
TEST_F(KeExports, AdvancingTheClockRunsEachTimersDpcAtItsDueTime)
{
    static std::vector<ULONGLONG> seen;
    seen.clear();
    auto record = [](PKDPC, PVOID, PVOID, PVOID) { seen.push_back(KeQueryInterruptTime()); };
    KDPC first_dpc, second_dpc;
    KeInitializeDpc(&first_dpc, record, nullptr);
    KeInitializeDpc(&second_dpc, record, nullptr);
    KTIMER first, second;
    KeInitializeTimer(&first);
    KeInitializeTimer(&second);
    LARGE_INTEGER due{};
    due.QuadPart = -2'000'000;  // 200 ms
    KeSetTimer(&second, due, &second_dpc);
    due.QuadPart = -1'000'000;  // 100 ms
    KeSetTimer(&first, due, &first_dpc);
    machine.system().advance_time(2'100'000);  // to 210 ms
    EXPECT_EQ(seen, (std::vector<ULONGLONG>{1'000'000, 2'000'000}));
    EXPECT_EQ(KeQueryInterruptTime(), 2'100'000u);
}

TEST_F(KeExports, ADpcIsQueuedOnceAndRunsAtDispatchLevel)
{
    static int runs;
    static KIRQL irql;
    runs = 0;
    KDPC dpc;
    KeInitializeDpc(&dpc, [](PKDPC, PVOID, PVOID, PVOID) {
        ++runs;
        irql = KeGetCurrentIrql();
    }, nullptr);
    KIRQL old = KeRaiseIrqlToDpcLevel();
    EXPECT_TRUE(KeInsertQueueDpc(&dpc, nullptr, nullptr));
    EXPECT_FALSE(KeInsertQueueDpc(&dpc, nullptr, nullptr)) << "already queued";
    EXPECT_EQ(runs, 0) << "not below DISPATCH_LEVEL yet";
    KeLowerIrql(old);
    EXPECT_EQ(runs, 1) << "runs when the IRQL drops";
    EXPECT_EQ(irql, DISPATCH_LEVEL);
    old = KeRaiseIrqlToDpcLevel();
    KeInsertQueueDpc(&dpc, nullptr, nullptr);
    EXPECT_TRUE(KeRemoveQueueDpc(&dpc));
    KeLowerIrql(old);
    EXPECT_EQ(runs, 1) << "a removed DPC does not run";
}

TEST_F(KeExports, WaitingAtDispatchLevelIsIrqlNotLessOrEqualButPollingIsAllowed)
{
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    KIRQL old = KeRaiseIrqlToDpcLevel();
    LARGE_INTEGER zero{};
    EXPECT_EQ(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
    EXPECT_EQ(expect_bugcheck([&] { KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, nullptr); }),
              IRQL_NOT_LESS_OR_EQUAL);
    current_thread()->irql = old;
}

TEST_F(KeExports, MoreThanThreeObjectsNeedAWaitBlockArray)
{
    KEVENT events[4];
    PVOID objects[4];
    for (int i = 0; i < 4; ++i) {
        KeInitializeEvent(&events[i], NotificationEvent, TRUE);
        objects[i] = &events[i];
    }
    EXPECT_EQ(expect_bugcheck([&] {
                  KeWaitForMultipleObjects(4, objects, WaitAll, Executive, KernelMode, FALSE, nullptr, nullptr);
              }),
              MAXIMUM_WAIT_OBJECTS_EXCEEDED);
    EXPECT_EQ(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE, nullptr, nullptr),
              STATUS_WAIT_0);
}

TEST_F(KeExports, ASemaphoreReleasedPastItsLimitIsRefused)
{
    KSEMAPHORE sem;
    KeInitializeSemaphore(&sem, 1, 2);
    EXPECT_EQ(KeReleaseSemaphore(&sem, 0, 1, FALSE), 1);
    EXPECT_EQ(KeReadStateSemaphore(&sem), 2);
    EXPECT_NE(expect_bugcheck([&] { KeReleaseSemaphore(&sem, 0, 1, FALSE); }), 0u)
        << "STATUS_SEMAPHORE_LIMIT_EXCEEDED is raised (unhandled here)";
    EXPECT_EQ(KeWaitForSingleObject(&sem, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateSemaphore(&sem), 1);
}

TEST_F(KeExports, AMutexIsOwnedRecursivelyAndOnlyItsOwnerMayReleaseIt)
{
    KMUTEX mutex;
    KeInitializeMutex(&mutex, 0);
    EXPECT_EQ(expect_bugcheck([&] { KeReleaseMutex(&mutex, FALSE); }), THREAD_NOT_MUTEX_OWNER);
    EXPECT_EQ(KeWaitForSingleObject(&mutex, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeWaitForSingleObject(&mutex, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateMutex(&mutex), -1);
    KeReleaseMutex(&mutex, FALSE);
    KeReleaseMutex(&mutex, FALSE);
    EXPECT_EQ(KeReadStateMutex(&mutex), 1);
}

TEST_F(KeExports, SpinLocksRaiseToDispatchAndCatchRecursionAndForeignRelease)
{
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KIRQL old;
    KeAcquireSpinLock(&lock, &old);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    EXPECT_EQ(expect_bugcheck([&] { KeAcquireSpinLockAtDpcLevel(&lock); }), SPIN_LOCK_ALREADY_OWNED);
    KeReleaseSpinLock(&lock, old);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(expect_bugcheck([&] { KeReleaseSpinLockFromDpcLevel(&lock); }), SPIN_LOCK_NOT_OWNED);
    KLOCK_QUEUE_HANDLE handle;
    KeAcquireInStackQueuedSpinLock(&lock, &handle);
    EXPECT_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseInStackQueuedSpinLock(&handle);
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

TEST_F(KeExports, ProcessorsAndClockTick)
{
    KAFFINITY affinity = 0;
    EXPECT_EQ(KeQueryActiveProcessorCount(&affinity), 2u);
    EXPECT_EQ(affinity, 3u);
    EXPECT_EQ(KeQueryTimeIncrement(), 156250u);
    LARGE_INTEGER frequency{};
    KeQueryPerformanceCounter(&frequency);
    EXPECT_EQ(frequency.QuadPart, 10'000'000);
}
