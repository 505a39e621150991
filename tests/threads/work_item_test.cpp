// work_item_test.cpp - ExQueueWorkItem on the system worker threads: where routines run,
// in what order, and the bug checks ExpWorkerThread stops with.
#include <gtest/gtest.h>

#include "machine.h"
#include "threads/threads_support.h"

using namespace iosim;
using threads::Stop;

namespace {

struct WorkItems : ::testing::Test {
    Machine machine{Machine::Options{.trace = true}};
};

struct Ran {
    KEVENT done;
    ULONG pid = 0;
    ULONG tid = 0;
    KIRQL irql = 0xFF;
    KPRIORITY priority = 0;
    std::string order;
};

void Record(PVOID context)
{
    auto* ran = static_cast<Ran*>(context);
    ran->pid = static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(PsGetCurrentProcessId()));
    ran->tid = static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(PsGetCurrentThreadId()));
    ran->irql = KeGetCurrentIrql();
    ran->priority = KeQueryPriorityThread(KeGetCurrentThread());
    KeSetEvent(&ran->done, IO_NO_INCREMENT, FALSE);
}

}  // namespace

TEST_F(WorkItems, ARoutineRunsLaterInASystemWorkerThreadAtPassiveLevel)
{
    Ran ran;
    KeInitializeEvent(&ran.done, NotificationEvent, FALSE);
    WORK_QUEUE_ITEM item;
    ExInitializeWorkItem(&item, Record, &ran);
    ExQueueWorkItem(&item, DelayedWorkQueue);
    EXPECT_EQ(ran.tid, 0u) << "not yet: the queuing thread holds the processor";
    EXPECT_NE(item.List.Flink, nullptr) << "queued";
    EXPECT_EQ(KeWaitForSingleObject(&ran.done, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(ran.pid, 4u) << "the System process";
    EXPECT_NE(ran.tid, static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(PsGetCurrentThreadId())));
    EXPECT_EQ(ran.irql, PASSIVE_LEVEL);
    EXPECT_EQ(ran.priority, 12) << "a delayed worker's priority";
    EXPECT_EQ(item.List.Flink, nullptr) << "dequeued before the routine ran: it may be queued again";
}

TEST_F(WorkItems, ItemsOfOneQueueRunFirstInFirstOut)
{
    static std::string order;
    order.clear();
    static KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    static const char names[] = "xyz";
    WORK_QUEUE_ITEM items[3];
    for (int i = 0; i < 3; ++i) {
        ExInitializeWorkItem(&items[i], [](PVOID name) {
            order += *static_cast<const char*>(name);
            if (order.size() == 3)
                KeSetEvent(&done, IO_NO_INCREMENT, FALSE);
        }, const_cast<char*>(&names[i]));
        ExQueueWorkItem(&items[i], CriticalWorkQueue);
    }
    KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, nullptr);
    EXPECT_EQ(order, "xyz");
}

TEST_F(WorkItems, QueueingAnItemAlreadyQueuedIsWorkerInvalid)
{
    WORK_QUEUE_ITEM item;
    ExInitializeWorkItem(&item, [](PVOID) {}, nullptr);
    ExQueueWorkItem(&item, DelayedWorkQueue);
    BugCheckInfo stop = Stop([&] { ExQueueWorkItem(&item, DelayedWorkQueue); });
    EXPECT_EQ(stop.code, WORKER_INVALID);
    EXPECT_EQ(stop.parameters[0], 1u) << "an active worker item was queued";
    EXPECT_EQ(stop.parameters[1], reinterpret_cast<ULONG_PTR>(&item));
}

TEST_F(WorkItems, ARoutineReturningAtDispatchLevelIsWorkerThreadReturnedAtBadIrql)
{
    static KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    WORK_QUEUE_ITEM item;
    auto routine = [](PVOID) {
        KIRQL old;
        KeAcquireSpinLock(&lock, &old);  // and never released
    };
    ExInitializeWorkItem(&item, routine, &lock);
    ExQueueWorkItem(&item, DelayedWorkQueue);
    BugCheckInfo stop = Stop([] { threads::LetOthersRun(); });
    EXPECT_EQ(stop.code, WORKER_THREAD_RETURNED_AT_BAD_IRQL);
    EXPECT_EQ(stop.parameters[0], reinterpret_cast<ULONG_PTR>(static_cast<PWORKER_THREAD_ROUTINE>(routine)));
    EXPECT_EQ(stop.parameters[1], DISPATCH_LEVEL);
    EXPECT_EQ(stop.parameters[2], reinterpret_cast<ULONG_PTR>(&lock));
    EXPECT_EQ(stop.parameters[3], reinterpret_cast<ULONG_PTR>(&item));
}

TEST_F(WorkItems, ARoutineLeavingACriticalRegionOpenIsApcIndexMismatch)
{
    WORK_QUEUE_ITEM item;
    ExInitializeWorkItem(&item, [](PVOID) { KeEnterCriticalRegion(); }, nullptr);
    ExQueueWorkItem(&item, DelayedWorkQueue);
    BugCheckInfo stop = Stop([] { threads::LetOthersRun(); });
    EXPECT_EQ(stop.code, APC_INDEX_MISMATCH);
    EXPECT_EQ(stop.parameters[2], 0xFFFFu) << "KernelApcDisable -1";
    EXPECT_EQ(stop.parameters[3], 1u) << "call type: a worker routine";
}

TEST_F(WorkItems, AWorkerRoutineMustNotEndItsThread)
{
    WORK_QUEUE_ITEM item;
    ExInitializeWorkItem(&item, [](PVOID) { PsTerminateSystemThread(STATUS_SUCCESS); }, nullptr);
    ExQueueWorkItem(&item, DelayedWorkQueue);
    BugCheckInfo stop = Stop([] { threads::LetOthersRun(); });
    EXPECT_EQ(stop.code, ACTIVE_EX_WORKER_THREAD_TERMINATION);
}
