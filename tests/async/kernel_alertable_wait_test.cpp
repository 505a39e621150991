// kernel_alertable_wait_test.cpp - KeWaitForSingleObject, KeWaitForMultipleObjects and
// KeDelayExecutionThread with Alertable = TRUE, as a driver calls them in an app thread.
//
// Rule (WDK, "Waits and APCs"): Alertable = TRUE with WaitMode = UserMode - the wait is
// interrupted and user APCs are delivered (the routine returns STATUS_USER_APC);
// Alertable = TRUE with WaitMode = KernelMode - user APCs are not delivered (only an alert
// or thread termination interrupts it); Alertable = FALSE - a user APC never ends the wait.
#include <vector>

#include "async_test_support.h"
#include "wdm_impl.h"

using namespace async_test;

namespace {

std::vector<ULONG_PTR> g_apcs;
void NTAPI OnApc(ULONG_PTR data) { g_apcs.push_back(data); }

LARGE_INTEGER Relative(LONGLONG ms)
{
    LARGE_INTEGER t{};
    t.QuadPart = -ms * 10000;
    return t;
}

// A worker that waits in the kernel, alertable in user mode, on an event nobody sets.
struct KernelWait {
    NTSTATUS status = STATUS_PENDING;
    ULONGLONG at = 0;
};

DWORD WINAPI AlertableKernelWait(LPVOID param)
{
    auto* wait = static_cast<KernelWait*>(param);
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    wait->status = KeWaitForSingleObject(&event, Executive, UserMode, TRUE, nullptr);
    wait->at = GetTickCount64();
    return 0;
}

}  // namespace

class KernelAlertableWait : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        g_apcs.clear();
    }
};

// "Alertable = TRUE, WaitMode = UserMode: a queued user APC is delivered and the wait
// returns STATUS_USER_APC."
TEST_F(KernelAlertableWait, UserModeAlertableWait_IsEndedByAUserApcWithStatusUserApc)
{
    EXPECT_NE(QueueUserAPC(OnApc, GetCurrentThread(), 7), 0u);
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    EXPECT_EQ(KeWaitForSingleObject(&event, Executive, UserMode, TRUE, nullptr), STATUS_USER_APC);
    EXPECT_EQ(g_apcs, (std::vector<ULONG_PTR>{7}));
    EXPECT_EQ(GetTickCount64(), 0u);
}

// "The same for KeWaitForMultipleObjects and KeDelayExecutionThread."
TEST_F(KernelAlertableWait, UserModeAlertableWait_KeWaitForMultipleObjectsAndKeDelayExecutionThreadReturnStatusUserApc)
{
    KEVENT a, b;
    KeInitializeEvent(&a, NotificationEvent, FALSE);
    KeInitializeEvent(&b, SynchronizationEvent, FALSE);
    PVOID objects[2] = {&a, &b};
    EXPECT_NE(QueueUserAPC(OnApc, GetCurrentThread(), 1), 0u);
    EXPECT_EQ(KeWaitForMultipleObjects(2, objects, WaitAny, Executive, UserMode, TRUE, nullptr, nullptr),
              STATUS_USER_APC);
    EXPECT_NE(QueueUserAPC(OnApc, GetCurrentThread(), 2), 0u);
    LARGE_INTEGER second = Relative(1000);
    EXPECT_EQ(KeDelayExecutionThread(UserMode, TRUE, &second), STATUS_USER_APC);
    EXPECT_EQ(g_apcs, (std::vector<ULONG_PTR>{1, 2}));
    EXPECT_EQ(GetTickCount64(), 0u) << "neither wait lasted";
    second = Relative(1000);
    EXPECT_EQ(KeDelayExecutionThread(UserMode, TRUE, &second), STATUS_SUCCESS) << "no APC left: the full delay";
    EXPECT_EQ(GetTickCount64(), 1000u);
}

// "A user APC queued by another thread while the thread waits (alertable, user mode) wakes
// it: the wait ends with STATUS_USER_APC."
TEST_F(KernelAlertableWait, UserModeAlertableWait_IsWokenByAUserApcQueuedWhileItWaits)
{
    KernelWait wait;
    HANDLE worker = CreateThread(nullptr, 0, AlertableKernelWait, &wait, 0, nullptr);
    ASSERT_NE(worker, nullptr);
    Sleep(5);  // the worker waits in the kernel
    EXPECT_EQ(wait.status, STATUS_PENDING);
    EXPECT_NE(QueueUserAPC(OnApc, worker, 9), 0u);
    EXPECT_EQ(WaitForSingleObject(worker, INFINITE), WAIT_OBJECT_0);
    EXPECT_EQ(wait.status, STATUS_USER_APC);
    EXPECT_EQ(wait.at, 5u);
    EXPECT_EQ(g_apcs, (std::vector<ULONG_PTR>{9}));
    CloseHandle(worker);
}

// "Alertable = TRUE, WaitMode = KernelMode: user APCs are not delivered; the wait goes on
// (here until its timeout)."
TEST_F(KernelAlertableWait, KernelModeAlertableWait_IsNotEndedByAUserApc)
{
    EXPECT_NE(QueueUserAPC(OnApc, GetCurrentThread(), 3), 0u);
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    LARGE_INTEGER timeout = Relative(10);
    EXPECT_EQ(KeWaitForSingleObject(&event, Executive, KernelMode, TRUE, &timeout), STATUS_TIMEOUT);
    LARGE_INTEGER delay = Relative(10);
    EXPECT_EQ(KeDelayExecutionThread(KernelMode, TRUE, &delay), STATUS_SUCCESS);
    EXPECT_TRUE(g_apcs.empty()) << "a kernel-mode wait delivers no user APC";
    EXPECT_EQ(GetTickCount64(), 20u);
    EXPECT_EQ(SleepEx(0, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION)) << "the APC is still queued";
    EXPECT_EQ(g_apcs, (std::vector<ULONG_PTR>{3}));
}

// "Alertable = FALSE, WaitMode = UserMode: a user APC does not end the wait."
TEST_F(KernelAlertableWait, UserModeNonAlertableWait_IsNotEndedByAUserApc)
{
    EXPECT_NE(QueueUserAPC(OnApc, GetCurrentThread(), 4), 0u);
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    LARGE_INTEGER timeout = Relative(10);
    EXPECT_EQ(KeWaitForSingleObject(&event, Executive, UserMode, FALSE, &timeout), STATUS_TIMEOUT);
    EXPECT_TRUE(g_apcs.empty());
    EXPECT_EQ(SleepEx(0, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
}

// "A signalled object still satisfies an alertable wait when no APC is queued."
TEST_F(KernelAlertableWait, UserModeAlertableWait_WithNoApcIsSatisfiedByTheObject)
{
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, TRUE);
    EXPECT_EQ(KeWaitForSingleObject(&event, Executive, UserMode, TRUE, nullptr), STATUS_SUCCESS);
    EXPECT_TRUE(g_apcs.empty());
}
