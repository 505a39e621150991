// ex_timer_test.cpp - executive timers on the simulated clock, ExInterlocked* lists and
// SLISTs.
#include <gtest/gtest.h>

#include "machine.h"
#include "threads/threads_support.h"

using namespace iosim;

namespace {

struct ExTimers : ::testing::Test {
    Machine machine{Machine::Options{.trace = true}};
};

struct Fired {
    KEVENT event;
    int count = 0;
    int wanted = 1;
    KIRQL irql = 0;
    PEX_TIMER timer = nullptr;
};

void OnTimer(PEX_TIMER timer, PVOID context)
{
    auto* fired = static_cast<Fired*>(context);
    fired->timer = timer;
    fired->irql = KeGetCurrentIrql();
    if (++fired->count == fired->wanted)
        KeSetEvent(&fired->event, IO_NO_INCREMENT, FALSE);
}

}  // namespace

TEST_F(ExTimers, AOneShotTimerCallsBackAtDispatchLevelWhenSimulatedTimeReachesIt)
{
    Fired fired;
    KeInitializeEvent(&fired.event, NotificationEvent, FALSE);
    PEX_TIMER timer = ExAllocateTimer(OnTimer, &fired, EX_TIMER_HIGH_RESOLUTION);
    ASSERT_NE(timer, nullptr);
    EXT_SET_PARAMETERS parameters;
    ExInitializeSetTimerParameters(&parameters);
    EXPECT_FALSE(ExSetTimer(timer, -100'000, 0, &parameters)) << "10 ms; it was not set before";
    EXPECT_EQ(KeWaitForSingleObject(&fired.event, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeQueryInterruptTime(), 100'000u);
    EXPECT_EQ(fired.timer, timer);
    EXPECT_EQ(fired.irql, DISPATCH_LEVEL);
    EXPECT_FALSE(ExCancelTimer(timer, nullptr)) << "expired: nothing to cancel";
    EXPECT_FALSE(ExDeleteTimer(timer, TRUE, TRUE, nullptr));
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(ExTimers, APeriodicTimerRepeatsUntilCancelledAndDeletionCallsTheDeleteCallback)
{
    Fired fired;
    fired.wanted = 3;
    KeInitializeEvent(&fired.event, NotificationEvent, FALSE);
    PEX_TIMER timer = ExAllocateTimer(OnTimer, &fired, 0);
    EXPECT_FALSE(ExSetTimer(timer, -10'000, 50'000, nullptr)) << "1 ms, then every 5 ms";
    KeWaitForSingleObject(&fired.event, Executive, KernelMode, FALSE, nullptr);
    EXPECT_EQ(fired.count, 3);
    EXPECT_EQ(KeQueryInterruptTime(), 110'000u) << "1 + 5 + 5 ms";
    EXPECT_TRUE(ExCancelTimer(timer, nullptr)) << "a periodic timer stays set";
    static bool deleted;
    deleted = false;
    EXT_DELETE_PARAMETERS parameters;
    ExInitializeDeleteTimerParameters(&parameters);
    parameters.DeleteCallback = [](PVOID) { deleted = true; };
    EXPECT_FALSE(ExDeleteTimer(timer, TRUE, TRUE, &parameters));
    EXPECT_TRUE(deleted);
}

TEST_F(ExTimers, DeletingASetTimerWithoutCancelIsAFinding)
{
    Fired fired;
    KeInitializeEvent(&fired.event, NotificationEvent, FALSE);
    PEX_TIMER timer = ExAllocateTimer(OnTimer, &fired, 0);
    ExSetTimer(timer, -10'000'000, 0, nullptr);
    EXPECT_TRUE(ExDeleteTimer(timer, FALSE, FALSE, nullptr));
    ASSERT_EQ(machine.system().findings().size(), 1u);
    EXPECT_EQ(machine.system().findings()[0].code, "EX_TIMER_DELETED_WHILE_SET");
    ULONG maximum = 0, minimum = 0, current = 0;
    ExQueryTimerResolution(&maximum, &minimum, &current);
    EXPECT_EQ(maximum, 156250u);
    EXPECT_EQ(minimum, 5000u);
    EXPECT_EQ(current, 156250u);
}

TEST_F(ExTimers, InterlockedListsKeepOrderAndDepth)
{
    LIST_ENTRY head;
    InitializeListHead(&head);
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    LIST_ENTRY a, b;
    EXPECT_EQ(ExInterlockedInsertTailList(&head, &a, &lock), nullptr) << "the list was empty";
    EXPECT_EQ(ExInterlockedInsertTailList(&head, &b, &lock), &a) << "returns the previous last entry";
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    EXPECT_EQ(ExInterlockedRemoveHeadList(&head, &lock), &a);
    EXPECT_EQ(ExInterlockedRemoveHeadList(&head, &lock), &b);
    EXPECT_EQ(ExInterlockedRemoveHeadList(&head, &lock), nullptr);

    SLIST_HEADER slist;
    InitializeSListHead(&slist);
    SLIST_ENTRY x, y;
    EXPECT_EQ(InterlockedPushEntrySList(&slist, &x), nullptr);
    EXPECT_EQ(InterlockedPushEntrySList(&slist, &y), &x);
    EXPECT_EQ(QueryDepthSList(&slist), 2);
    EXPECT_EQ(InterlockedPopEntrySList(&slist), &y) << "last in, first out";
    EXPECT_EQ(QueryDepthSList(&slist), 1);
    EXPECT_EQ(InterlockedFlushSList(&slist), &x);
    EXPECT_EQ(QueryDepthSList(&slist), 0);
    EXPECT_EQ(InterlockedPopEntrySList(&slist), nullptr);
    LONG64 bits = 0x0F;
    EXPECT_EQ(InterlockedAnd64(&bits, 0x3), 0x0F);
    EXPECT_EQ(bits, 0x3);
    LONG flags = 0;
    EXPECT_FALSE(InterlockedBitTestAndSet(&flags, 4));
    EXPECT_TRUE(InterlockedBitTestAndSet(&flags, 4));
    EXPECT_EQ(flags, 0x10);
}
