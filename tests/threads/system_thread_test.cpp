// system_thread_test.cpp - PsCreateSystemThread and friends, called as a driver would:
// where the thread runs, its handle and object, how it ends, look-ups, priorities.
#include <gtest/gtest.h>

#include <set>

#include "machine.h"
#include "ob/kernel_handle.h"
#include "threads/threads_support.h"

using namespace iosim;
using threads::Stop;

namespace {

struct SystemThreads : ::testing::Test {
    Machine machine{Machine::Options{.trace = true}};
};

struct Seen {
    ULONG pid = 0;
    ULONG tid = 0;
    KIRQL irql = 0xFF;
    BOOLEAN system = FALSE;
};

void Observe(PVOID context)
{
    auto* seen = static_cast<Seen*>(context);
    seen->pid = static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(PsGetCurrentProcessId()));
    seen->tid = static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(PsGetCurrentThreadId()));
    seen->irql = KeGetCurrentIrql();
    seen->system = PsIsSystemThread(PsGetCurrentThread());
    PsTerminateSystemThread(static_cast<NTSTATUS>(0x12345678));
    seen->pid = 0;  // never reached: PsTerminateSystemThread does not return
}

}  // namespace

TEST_F(SystemThreads, RunsInTheSystemProcessAtPassiveLevelAndItsObjectSignalsWhenItEnds)
{
    Seen seen;
    HANDLE handle = nullptr;
    CLIENT_ID cid{};
    ASSERT_EQ(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, nullptr, nullptr, &cid, Observe, &seen), STATUS_SUCCESS);
    EXPECT_TRUE(ob::is_kernel_handle(handle)) << "a system thread's handle is a kernel handle";
    EXPECT_EQ(seen.tid, 0u) << "it has not run yet: the creator holds the processor";
    PVOID object = nullptr;
    ASSERT_EQ(ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, &object, nullptr),
              STATUS_SUCCESS);
    EXPECT_EQ(ZwClose(handle), STATUS_SUCCESS);
    EXPECT_EQ(ZwClose(handle), STATUS_INVALID_HANDLE);
    auto* thread = static_cast<PETHREAD>(object);
    EXPECT_EQ(KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(seen.pid, machine.system().system_process()->pid());
    EXPECT_EQ(seen.pid, 4u);
    EXPECT_EQ(seen.tid, static_cast<ULONG>(reinterpret_cast<ULONG_PTR>(cid.UniqueThread)));
    EXPECT_EQ(cid.UniqueProcess, reinterpret_cast<HANDLE>(ULONG_PTR{4}));
    EXPECT_EQ(seen.irql, PASSIVE_LEVEL);
    EXPECT_TRUE(seen.system);
    EXPECT_EQ(PsGetThreadId(thread), cid.UniqueThread);
    EXPECT_EQ(PsGetThreadProcessId(thread), cid.UniqueProcess);
    EXPECT_EQ(threads::Body(thread)->exit_status, 0x12345678u) << "PsTerminateSystemThread's status";
    EXPECT_EQ(KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, nullptr), STATUS_SUCCESS)
        << "an ended thread stays signalled";
    ObDereferenceObject(thread);
}

TEST_F(SystemThreads, AProcessHandleRunsTheThreadInThatProcess)
{
    Process* app = machine.create_process("app.exe");
    Seen seen;
    {
        ThreadSwitch in_app(machine.system().main_thread(app));
        HANDLE handle = nullptr;
        ASSERT_EQ(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, nullptr, NtCurrentProcess(), nullptr, Observe,
                                       &seen),
                  STATUS_SUCCESS);
        PVOID object = nullptr;
        ASSERT_EQ(ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, &object, nullptr),
                  STATUS_SUCCESS);
        ZwClose(handle);
        EXPECT_EQ(threads::WaitThread(static_cast<PETHREAD>(object)), STATUS_SUCCESS);
    }
    EXPECT_EQ(seen.pid, app->pid());
    EXPECT_FALSE(seen.system) << "a thread of an app process is not a System thread";
    machine.end_process(app);
}

TEST_F(SystemThreads, PsTerminateSystemThreadOutsideASystemThreadIsRefused)
{
    EXPECT_EQ(PsTerminateSystemThread(STATUS_SUCCESS), STATUS_INVALID_PARAMETER);
}

TEST_F(SystemThreads, EndingAtDispatchLevelIsKernelApcPendingDuringExit)
{
    PETHREAD thread = threads::StartThread([](PVOID) { KeRaiseIrqlToDpcLevel(); }, nullptr);
    BugCheckInfo stop = Stop([&] { KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, nullptr); });
    EXPECT_EQ(stop.code, KERNEL_APC_PENDING_DURING_EXIT) << "the waiter hears of the bug check in the other thread";
    EXPECT_EQ(stop.parameters[2], DISPATCH_LEVEL);
    EXPECT_NE(stop.reason.find("at IRQL 2"), std::string::npos) << stop.reason;
    ObDereferenceObject(thread);
}

TEST_F(SystemThreads, EndingInsideACriticalRegionIsKernelApcPendingDuringExit)
{
    PETHREAD thread = threads::StartThread([](PVOID) { KeEnterCriticalRegion(); }, nullptr);
    BugCheckInfo stop = Stop([&] { KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, nullptr); });
    EXPECT_EQ(stop.code, KERNEL_APC_PENDING_DURING_EXIT);
    EXPECT_EQ(static_cast<LONG_PTR>(stop.parameters[1]), -1) << "the APC disable count";
    ObDereferenceObject(thread);
}

TEST_F(SystemThreads, LookupsTakeAReferenceAndRefuseUnknownIds)
{
    PEPROCESS process = nullptr;
    ASSERT_EQ(PsLookupProcessByProcessId(reinterpret_cast<HANDLE>(ULONG_PTR{4}), &process), STATUS_SUCCESS);
    EXPECT_EQ(reinterpret_cast<Process*>(process), machine.system().system_process());
    EXPECT_EQ(PsGetProcessId(process), reinterpret_cast<HANDLE>(ULONG_PTR{4}));
    ObDereferenceObject(process);
    EXPECT_EQ(PsLookupProcessByProcessId(reinterpret_cast<HANDLE>(ULONG_PTR{4000}), &process),
              STATUS_INVALID_PARAMETER);

    PETHREAD me = nullptr;
    ASSERT_EQ(PsLookupThreadByThreadId(PsGetCurrentThreadId(), &me), STATUS_SUCCESS);
    EXPECT_EQ(me, PsGetCurrentThread());
    EXPECT_EQ(reinterpret_cast<PKTHREAD>(me), KeGetCurrentThread());
    ObDereferenceObject(me);
    EXPECT_EQ(PsLookupThreadByThreadId(reinterpret_cast<HANDLE>(ULONG_PTR{4001}), &me), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(IoGetCurrentProcess(), PsGetCurrentProcess());
}

// ---- priorities ----

namespace {

std::string g_order;

void Append(PVOID name) { g_order += *static_cast<const char*>(name); }

// Three system threads made ready together with priorities 9, 15 and 12; the order they ran in.
std::string RunByPriority(uint64_t seed)
{
    System system(System::Options{.seed = seed});
    g_order.clear();
    static const char names[] = "abc";
    const KPRIORITY priorities[] = {9, 15, 12};
    PETHREAD threads[3];
    for (int i = 0; i < 3; ++i) {
        threads[i] = threads::StartThread(Append, const_cast<char*>(&names[i]));
        EXPECT_EQ(KeSetPriorityThread(reinterpret_cast<PKTHREAD>(threads[i]), priorities[i]), 8) << "the default";
        EXPECT_EQ(KeQueryPriorityThread(reinterpret_cast<PKTHREAD>(threads[i])), priorities[i]);
    }
    PVOID objects[3] = {threads[0], threads[1], threads[2]};
    EXPECT_EQ(KeWaitForMultipleObjects(3, objects, WaitAll, Executive, KernelMode, FALSE, nullptr, nullptr),
              STATUS_WAIT_0);
    for (PETHREAD thread : threads)
        ObDereferenceObject(thread);
    return g_order;
}

// The same with equal priorities: the seed decides.
std::string RunEqual(uint64_t seed)
{
    System system(System::Options{.seed = seed});
    g_order.clear();
    static const char names[] = "abcd";
    PVOID objects[3];
    PETHREAD threads[3];
    for (int i = 0; i < 3; ++i)
        objects[i] = threads[i] = threads::StartThread(Append, const_cast<char*>(&names[i]));
    KeWaitForMultipleObjects(3, objects, WaitAll, Executive, KernelMode, FALSE, nullptr, nullptr);
    for (PETHREAD thread : threads)
        ObDereferenceObject(thread);
    return g_order;
}

}  // namespace

TEST(SystemThreadPriority, TheHighestPriorityReadyThreadRunsFirstWhateverTheSeed)
{
    EXPECT_EQ(RunByPriority(0), "bca");
    for (uint64_t seed = 1; seed <= 8; ++seed)
        EXPECT_EQ(RunByPriority(seed), "bca") << "seed " << seed;
}

TEST(SystemThreadPriority, AmongEqualsSeedZeroIsFirstComeFirstServedAndSeedsPickDeterministically)
{
    EXPECT_EQ(RunEqual(0), "abc");
    std::set<std::string> seen;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        std::string order = RunEqual(seed);
        EXPECT_EQ(order, RunEqual(seed)) << "seed " << seed;
        seen.insert(order);
    }
    EXPECT_GE(seen.size(), 2u);
}

TEST_F(SystemThreads, APriorityOutOfRangeIsReportedAndIgnored)
{
    PKTHREAD me = KeGetCurrentThread();
    EXPECT_EQ(KeSetPriorityThread(me, 40), 8);
    EXPECT_EQ(KeQueryPriorityThread(me), 8);
    ASSERT_EQ(machine.system().findings().size(), 1u);
    EXPECT_EQ(machine.system().findings()[0].code, "PRIORITY_OUT_OF_RANGE");
}
