// pending_test.cpp - pended IRPs completed later (timer DPC, another thread, another
// process), the requester's side running in the requester's thread, the synchronous
// caller's real wait, and the pending protocol's reports.
#include "async_test_support.h"

using namespace async_test;

namespace {

struct Release {
    HANDLE ready;  // set when the releasing thread starts
};

DWORD WINAPI ReleaseAfterSleep(LPVOID)
{
    Sleep(20);
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\AsyncTest"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, 0, nullptr);
    DWORD bytes = 0;
    BOOL ok = DeviceIoControl(h, IOCTL_ASYNC_RELEASE, nullptr, 0, nullptr, 0, &bytes, nullptr);
    CloseHandle(h);
    return ok ? 0 : 1;
}

}  // namespace

class Pending : public AsyncTest {};

// "A synchronous handle: the Win32 call waits on the file object's event until the IRP
// completes, then returns the final status" - here completed by a KTIMER's DPC 50 ms later.
TEST_F(Pending, SynchronousCallWaitsUntilATimerDpcCompletesTheIrp)
{
    HANDLE h = Open(false);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 50);
    char out[16];
    std::memset(out, '.', sizeof(out));
    DWORD bytes = 0;
    EXPECT_TRUE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &bytes, nullptr));
    EXPECT_EQ(bytes, 8u);
    EXPECT_EQ(std::string(out, 10), "ABCDEFGH..");
    EXPECT_EQ(GetTickCount64(), 50u) << "the caller really waited, in simulated time";
    EXPECT_TRUE(InOrder({"dispatch routine of \\Device\\AsyncTest returned STATUS_PENDING", "timer",
                         "completed: STATUS_SUCCESS",
                         "woken from its wait (NtDeviceIoControlFile waits for IRP#",
                         "requester's side queued to thread " + std::to_string(AppTid()) + " as a kernel APC",
                         "copied 8 byte(s)",
                         "requester's side (IopCompleteRequest) in thread " + std::to_string(AppTid()) + ": ",
                         "freed"}))
        << TraceDump();
    EXPECT_TRUE(FindingCodes().empty()) << FindingsDump();
    CloseHandle(h);
}

// "The requester's side runs in the requester's thread, whichever thread completed the IRP."
TEST_F(Pending, CompletionFromAnotherThreadIsFinishedInTheRequestersThread)
{
    HANDLE h = Open(false);
    DWORD worker_tid = 0;
    HANDLE worker = CreateThread(nullptr, 0, ReleaseAfterSleep, nullptr, 0, &worker_tid);
    ASSERT_NE(worker, nullptr);
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0);  // held until the worker releases it
    char out[8] = {};
    DWORD bytes = 0;
    EXPECT_TRUE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &bytes, nullptr));
    EXPECT_EQ(bytes, 8u);
    EXPECT_EQ(WaitForSingleObject(worker, INFINITE), WAIT_OBJECT_0);
    DWORD code = 99;
    EXPECT_TRUE(GetExitCodeThread(worker, &code));
    EXPECT_EQ(code, 0u);
    std::string finished = FirstLine("requester's side (IopCompleteRequest)");
    EXPECT_NE(finished.find("in thread " + std::to_string(AppTid()) + ":"), std::string::npos) << TraceDump();
    EXPECT_EQ(finished.find("attached"), std::string::npos) << finished;
    std::string queued = FirstLine("requester's side queued to thread");
    EXPECT_NE(queued.find(std::to_string(AppTid())), std::string::npos) << queued;
    EXPECT_NE(worker_tid, AppTid());
    CloseHandle(worker);
    CloseHandle(h);
}

// "Copy-back happens in the requester's process": the output buffer is in the app's user
// space, and the IRP is completed by an I/O work item in a System worker thread, whose
// address space (no user pages) is the visible one while it runs. The requester's side
// still copies into the app's buffer - in the app's thread, as a kernel APC.
TEST_F(Pending, CopyBackReachesTheRequestersBufferWhenASystemThreadCompletesTheIrp)
{
    HANDLE h = Open(false);
    auto* out = static_cast<char*>(VirtualAlloc(nullptr, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE));
    ASSERT_NE(out, nullptr);
    ASYNC_ORDER order = Order(3, STATUS_PENDING, STATUS_SUCCESS, 12);
    DWORD bytes = 0;
    EXPECT_TRUE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, 16, &bytes, nullptr));
    EXPECT_EQ(bytes, 12u);
    EXPECT_EQ(std::string(out, 12), "ABCDEFGHIJKL");
    EXPECT_TRUE(InOrder({"completed: STATUS_SUCCESS", "requester's side queued to thread " + std::to_string(AppTid()),
                         "requester's side (IopCompleteRequest) in thread " + std::to_string(AppTid()) + ": "}))
        << TraceDump();
    EXPECT_EQ(FirstLine("attached to process"), "") << "finished in the app's own thread, not attached";
    VirtualFree(out, 0, MEM_RELEASE);
    CloseHandle(h);
}

// When no context runs the requesting thread any more, the requester's side runs at once in
// the completing thread, attached to the requester's process (KeStackAttachProcess).
TEST_F(Pending, RequesterThreadRunningNowhereIsFinishedAttachedToItsProcess)
{
    HANDLE h = Open(true);
    auto* out = static_cast<char*>(VirtualAlloc(nullptr, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE));
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0, 5);
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, 16, nullptr, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    iosim::Process* other = machine.create_process("releaser.exe");
    {
        in_app.reset();  // the app's thread runs nowhere now
        iosim::ThreadSwitch as_other(system().main_thread(other));
        Release();
    }
    in_app = std::make_unique<iosim::ThreadSwitch>(system().main_thread(app));
    EXPECT_NE(FirstLine("attached to process " + std::to_string(app->pid()) + ": STATUS_SUCCESS"), "") << TraceDump();
    EXPECT_EQ(std::string(out, 5), "ABCDE");
    EXPECT_EQ(ov.Internal, static_cast<ULONG_PTR>(STATUS_SUCCESS));
    EXPECT_EQ(ov.InternalHigh, 5u);
    EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);
    machine.end_process(other);
    CloseHandle(ov.hEvent);
    CloseHandle(h);
}

// Driver Verifier I/O error 0x23D: STATUS_PENDING returned without IoMarkIrpPending.
TEST_F(Pending, ReturningPendingWithoutIoMarkIrpPendingIsReported)
{
    HANDLE h = Open(false);
    ASYNC_ORDER order = Order(2, STATUS_PENDING, STATUS_SUCCESS, 8, 10);
    char out[8];
    DWORD bytes = 0;
    EXPECT_TRUE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &bytes, nullptr));
    EXPECT_TRUE(HasFinding("PENDING_NOT_MARKED")) << FindingsDump();
    auto findings = system().findings();
    EXPECT_NE(findings.front().message.find("0x23D"), std::string::npos);
    CloseHandle(h);
}

// Driver Verifier I/O error 0x23E: IoMarkIrpPending, then a return value other than STATUS_PENDING.
TEST_F(Pending, MarkingPendingThenReturningSuccessIsReported)
{
    HANDLE h = Open(false);
    ASYNC_ORDER order = Order(1, STATUS_SUCCESS, STATUS_SUCCESS, 8, 10);
    char out[8];
    DWORD bytes = 0;
    DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &bytes, nullptr);
    EXPECT_TRUE(HasFinding("PENDING_NOT_RETURNED")) << FindingsDump();
    EXPECT_NE(system().findings().front().message.find("0x23E"), std::string::npos);
    CloseHandle(h);
}

// An IRP nothing ever completes: the synchronous caller waits forever, which the scheduler
// reports as a deadlock naming the waiting app thread and the pended IRP.
TEST_F(Pending, PendedIrpNothingCompletesIsADeadlockNamingTheThreadAndTheIrp)
{
    HANDLE h = Open(false);
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0);
    char out[8];
    DWORD bytes = 0;
    std::optional<iosim::BugCheckInfo> stop;
    try {
        DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &bytes, nullptr);
    } catch (const iosim::BugCheck& b) {
        stop = b.info();
    }
    ASSERT_TRUE(stop.has_value()) << "the caller should have waited forever";
    EXPECT_EQ(stop->code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    EXPECT_EQ(stop->parameters[0], 0x1001u);
    EXPECT_NE(stop->reason.find("NtDeviceIoControlFile waits for IRP#"), std::string::npos) << stop->reason;
    EXPECT_NE(stop->reason.find("IRP_MJ_DEVICE_CONTROL to \\Device\\AsyncTest) for thread " + std::to_string(AppTid())),
              std::string::npos)
        << stop->reason;
    EXPECT_TRUE(HasFinding("IRP_PENDING_NOT_COMPLETED")) << FindingsDump();
}

// Two pended requests complete in the order their timers fire, each finished in the caller.
TEST_F(Pending, ACompletionRoutineOfTheRequesterSideRunsOncePerIrp)
{
    HANDLE h = Open(true);
    OVERLAPPED a{}, b{};
    a.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    b.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ASYNC_ORDER first = Pended(STATUS_SUCCESS, 30, 3), second = Pended(STATUS_SUCCESS, 30, 4);
    char out_a[8] = {}, out_b[8] = {};
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &first, sizeof(first), out_a, 8, nullptr, &a));
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &second, sizeof(second), out_b, 8, nullptr, &b));
    HANDLE both[2] = {a.hEvent, b.hEvent};
    EXPECT_EQ(WaitForMultipleObjects(2, both, TRUE, INFINITE), WAIT_OBJECT_0);
    EXPECT_EQ(a.InternalHigh, 3u);
    EXPECT_EQ(b.InternalHigh, 4u);
    EXPECT_EQ(std::string(out_a, 3), "ABC");
    EXPECT_EQ(std::string(out_b, 4), "ABCD");
    EXPECT_EQ(GetTickCount64(), 60u) << "one timer, re-armed for the second";
    CloseHandle(a.hEvent);
    CloseHandle(b.hEvent);
    CloseHandle(h);
}
