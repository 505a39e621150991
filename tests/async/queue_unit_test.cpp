// queue_unit_test.cpp - the IoCsq* library and the Ke*DeviceQueue routines called directly,
// for the rules no sample driver can reach from an app: an IRP already cancelled when it is
// inserted, IoCsqRemoveNextIrp skipping an IRP whose cancel routine is already taken, an
// IO_CSQ never initialised, device-queue key order and the IRQL rule. The test thread is the
// app's main thread (AsyncTest), so IoCancelIrp and the spin locks run as in a driver.
#include "async_test_support.h"
#include "irp.h"
#include "wdm_impl.h"

using namespace async_test;

namespace {

// A cancel-safe queue whose callbacks record what the library asked of them.
struct TestQueue {
    IO_CSQ csq{};
    std::vector<PIRP> irps;
    KSPIN_LOCK lock = 0;
    std::vector<std::string> calls;
    std::vector<PIRP> completed_cancelled;
};

TestQueue* g_queue = nullptr;  // the queue of the running test (callbacks get only the IO_CSQ)

TestQueue* Of(PIO_CSQ csq)
{
    EXPECT_EQ(csq, &g_queue->csq);
    return g_queue;
}

void Insert(PIO_CSQ csq, PIRP irp)
{
    Of(csq)->calls.push_back("insert");
    Of(csq)->irps.push_back(irp);
}
void Remove(PIO_CSQ csq, PIRP irp)
{
    Of(csq)->calls.push_back("remove");
    auto& v = Of(csq)->irps;
    v.erase(std::find(v.begin(), v.end(), irp));
}
PIRP Peek(PIO_CSQ csq, PIRP irp, PVOID)
{
    auto& v = Of(csq)->irps;
    auto at = irp == nullptr ? v.begin() : std::find(v.begin(), v.end(), irp) + 1;
    return at < v.end() ? *at : nullptr;
}
void Lock(PIO_CSQ csq, PKIRQL irql)
{
    Of(csq)->calls.push_back("lock");
    KeAcquireSpinLock(&Of(csq)->lock, irql);
}
void Unlock(PIO_CSQ csq, KIRQL irql)
{
    Of(csq)->calls.push_back("unlock");
    KeReleaseSpinLock(&Of(csq)->lock, irql);
}
void CompleteCanceled(PIO_CSQ csq, PIRP irp)
{
    Of(csq)->calls.push_back("complete-canceled");
    Of(csq)->completed_cancelled.push_back(irp);
}

class Queues : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        g_queue = &queue;
        ASSERT_EQ(IoCsqInitialize(&queue.csq, Insert, Remove, Peek, Lock, Unlock, CompleteCanceled), STATUS_SUCCESS);
    }
    void TearDown() override
    {
        for (PIRP irp : made)
            IoFreeIrp(irp);
        AsyncTest::TearDown();
    }
    // An IRP with one stack location made current (as when a driver has it).
    PIRP MakeIrp()
    {
        PIRP irp = IoAllocateIrp(1, FALSE);
        IoSetNextIrpStackLocation(irp);
        made.push_back(irp);
        return irp;
    }
    TestQueue queue;
    std::vector<PIRP> made;
};

}  // namespace

// "IoCsqInsertIrp: lock, CsqInsertIrp, mark the IRP pending, unlock; the IRP gets the
// library's cancel routine and DriverContext[3] refers to the queue or the context."
TEST_F(Queues, InsertMarksPendingSetsACancelRoutineAndFillsTheContext)
{
    PIRP irp = MakeIrp();
    IO_CSQ_IRP_CONTEXT context{};
    IoCsqInsertIrp(&queue.csq, irp, &context);
    EXPECT_EQ(queue.calls, (std::vector<std::string>{"lock", "insert", "unlock"}));
    EXPECT_NE(IoGetCurrentIrpStackLocation(irp)->Control & SL_PENDING_RETURNED, 0);
    EXPECT_NE(irp->CancelRoutine, nullptr);
    EXPECT_EQ(context.Type, static_cast<ULONG>(IO_TYPE_CSQ_IRP_CONTEXT));
    EXPECT_EQ(context.Irp, irp);
    EXPECT_EQ(context.Csq, &queue.csq);
    EXPECT_EQ(irp->Tail.Overlay.DriverContext[3], &context);
    EXPECT_EQ(IoCsqRemoveIrp(&queue.csq, &context), irp);
    EXPECT_EQ(context.Irp, nullptr);
    EXPECT_EQ(irp->CancelRoutine, nullptr);
    EXPECT_EQ(IoCsqRemoveIrp(&queue.csq, &context), nullptr);  // taken already
}

// "If the IRP to be inserted has already been cancelled, it is not left in the queue: the
// library takes it back out and calls CsqCompleteCanceledIrp."
TEST_F(Queues, AnIrpAlreadyCancelledAtInsertGoesToCsqCompleteCanceledIrp)
{
    PIRP irp = MakeIrp();
    irp->Cancel = TRUE;
    IoCsqInsertIrp(&queue.csq, irp, nullptr);
    // (iosim inserts and takes it back out under the lock; the documented outcome is that it
    // does not stay queued and CsqCompleteCanceledIrp gets it, after the lock is released.)
    ASSERT_FALSE(queue.calls.empty());
    EXPECT_EQ(queue.calls.back(), "complete-canceled");
    EXPECT_TRUE(queue.irps.empty());
    EXPECT_EQ(queue.completed_cancelled, (std::vector<PIRP>{irp}));
    EXPECT_EQ(irp->CancelRoutine, nullptr);
}

// "IoCancelIrp on a queued IRP: the library's cancel routine removes it under the queue's
// lock, then calls CsqCompleteCanceledIrp with the lock released."
TEST_F(Queues, CancellingAQueuedIrpRemovesItThenCallsCsqCompleteCanceledIrp)
{
    PIRP irp = MakeIrp();
    IoCsqInsertIrp(&queue.csq, irp, nullptr);
    queue.calls.clear();
    EXPECT_TRUE(IoCancelIrp(irp));
    EXPECT_EQ(queue.calls, (std::vector<std::string>{"lock", "remove", "unlock", "complete-canceled"}));
    EXPECT_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);  // the cancel spin lock was released
    EXPECT_EQ(irp->Tail.Overlay.DriverContext[3], nullptr);
}

// "IoCsqRemoveNextIrp skips an IRP whose cancel routine is already gone (being cancelled)."
TEST_F(Queues, RemoveNextSkipsAnIrpBeingCancelled)
{
    PIRP first = MakeIrp();
    PIRP second = MakeIrp();
    IoCsqInsertIrp(&queue.csq, first, nullptr);
    IoCsqInsertIrp(&queue.csq, second, nullptr);
    IoSetCancelRoutine(first, nullptr);  // as IoCancelIrp does just before calling it
    EXPECT_EQ(IoCsqRemoveNextIrp(&queue.csq, nullptr), second);
    EXPECT_EQ(queue.irps, (std::vector<PIRP>{first}));
    EXPECT_EQ(IoCsqRemoveNextIrp(&queue.csq, nullptr), nullptr);
}

// "IoCsqInsertIrpEx returns STATUS_SUCCESS for a queue from IoCsqInitialize."
TEST_F(Queues, InsertIrpExOnAPlainQueueReturnsSuccess)
{
    PIRP irp = MakeIrp();
    EXPECT_EQ(IoCsqInsertIrpEx(&queue.csq, irp, nullptr, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(IoCsqRemoveNextIrp(&queue.csq, nullptr), irp);
}

// An IO_CSQ no IoCsqInitialize(Ex) set up is reported, and nothing is called.
TEST_F(Queues, AnUninitialisedQueueIsReported)
{
    IO_CSQ zero{};
    EXPECT_EQ(IoCsqRemoveNextIrp(&zero, nullptr), nullptr);
    EXPECT_TRUE(HasFinding("CSQ_NOT_INITIALIZED")) << FindingsDump();
}

// "KeInsertByKeyDeviceQueue: ascending keys, equal keys in arrival order;
// KeRemoveByKeyDeviceQueue: the first entry with a key >= the given one, else the head; an
// empty queue becomes not busy."
TEST_F(Queues, DeviceQueueByKeyOrder)
{
    KDEVICE_QUEUE q;
    KeInitializeDeviceQueue(&q);
    KDEVICE_QUEUE_ENTRY e[5]{};
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    EXPECT_FALSE(KeInsertByKeyDeviceQueue(&q, &e[0], 50));  // idle: now busy, not inserted
    EXPECT_TRUE(q.Busy);
    EXPECT_FALSE(e[0].Inserted);
    EXPECT_TRUE(KeInsertByKeyDeviceQueue(&q, &e[1], 30));
    EXPECT_TRUE(KeInsertByKeyDeviceQueue(&q, &e[2], 10));
    EXPECT_TRUE(KeInsertByKeyDeviceQueue(&q, &e[3], 30));
    EXPECT_TRUE(KeInsertByKeyDeviceQueue(&q, &e[4], 20));
    EXPECT_EQ(KeRemoveByKeyDeviceQueue(&q, 25), &e[1]);  // first >= 25: the older 30
    EXPECT_EQ(KeRemoveByKeyDeviceQueue(&q, 99), &e[2]);  // none >= 99: the head (10)
    EXPECT_TRUE(KeRemoveEntryDeviceQueue(&q, &e[3]));
    EXPECT_FALSE(KeRemoveEntryDeviceQueue(&q, &e[3]));   // not queued any more
    EXPECT_EQ(KeRemoveDeviceQueue(&q), &e[4]);
    EXPECT_TRUE(q.Busy);
    EXPECT_EQ(KeRemoveDeviceQueue(&q), nullptr);
    EXPECT_FALSE(q.Busy);
    KeLowerIrql(old);
    EXPECT_TRUE(system().findings().empty()) << FindingsDump();
}

// "KeInsertDeviceQueue must be called at DISPATCH_LEVEL": below it is reported.
TEST_F(Queues, DeviceQueueBelowDispatchLevelIsReported)
{
    KDEVICE_QUEUE q;
    KeInitializeDeviceQueue(&q);
    KDEVICE_QUEUE_ENTRY e{};
    EXPECT_FALSE(KeInsertDeviceQueue(&q, &e));
    EXPECT_TRUE(HasFinding("DEVICE_QUEUE_IRQL")) << FindingsDump();
}
