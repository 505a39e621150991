// cancel_test.cpp - cancellation: IoCancelIrp and cancel routines, CancelIo, CancelIoEx,
// CancelSynchronousIo, a process that exits with requests out, and the bug checks for
// completing an IRP with its cancel routine set and unloading with IRPs held.
#include "async_test_support.h"
#include "driver.h"
#include "io_api.h"

using namespace async_test;

class Cancel : public AsyncTest {};

namespace {

struct SyncCall {
    BOOL result = TRUE;
    DWORD error = 0;
};

// A worker thread's synchronous request the driver holds (cancelably) until cancelled.
DWORD WINAPI HeldSynchronousCall(LPVOID param)
{
    auto* call = static_cast<SyncCall*>(param);
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\AsyncTest"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, 0, nullptr);
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0, 8, 1);
    char out[8];
    DWORD bytes = 0;
    call->result = DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &bytes, nullptr);
    call->error = GetLastError();
    CloseHandle(h);
    return 0;
}

}  // namespace

// "CancelIoEx on a cancelable pended request: its cancel routine completes it with
// STATUS_CANCELLED, which GetOverlappedResult reports as ERROR_OPERATION_ABORTED."
TEST_F(Cancel, CancelIoExRunsTheCancelRoutineAndTheRequestEndsWithErrorOperationAborted)
{
    HANDLE h = Open(true);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0, 8, 1);
    char out[8];
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), nullptr, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    EXPECT_TRUE(CancelIoEx(h, &ov));
    DWORD n = 5;
    EXPECT_FALSE(GetOverlappedResult(h, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(InOrder({"cancel requested by CancelIoEx", "IoCancelIrp: calling cancel routine",
                         "completed: STATUS_CANCELLED"}))
        << TraceDump();
    EXPECT_EQ(HeldCount(), 0u);
    CloseHandle(ov.hEvent);
    CloseHandle(h);
}

// "CancelIoEx with nothing to cancel: FALSE, ERROR_NOT_FOUND."
TEST_F(Cancel, CancelIoExWithNothingOutFailsWithErrorNotFound)
{
    HANDLE h = Open(true);
    OVERLAPPED ov{};
    EXPECT_FALSE(CancelIoEx(h, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
    CloseHandle(h);
}

// "IoCancelIrp on an IRP without a cancel routine only sets Irp->Cancel: the request goes on."
// CancelIo only requests cancellation and returns; it does not wait for the requests
// ("The thread can use the GetOverlappedResult function to determine when the I/O
// operations themselves have been completed"). A request without a cancel routine goes on
// and completes normally.
TEST_F(Cancel, RequestWithoutCancelRoutineIsNotStoppedByCancelIo)
{
    HANDLE h = Open(true);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 20, 8, 0);
    char out[8];
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), nullptr, &ov));
    EXPECT_TRUE(CancelIo(h));
    EXPECT_NE(FirstLine("no cancel routine set"), "") << TraceDump();
    DWORD n = 0;
    EXPECT_TRUE(GetOverlappedResult(h, &ov, &n, TRUE));
    EXPECT_EQ(n, 8u);
    CloseHandle(ov.hEvent);
    CloseHandle(h);
}

// "CancelSynchronousIo cancels the synchronous request another thread waits in; that
// thread's call fails with ERROR_OPERATION_ABORTED."
TEST_F(Cancel, CancelSynchronousIoEndsAnotherThreadsWait)
{
    SyncCall call;
    HANDLE worker = CreateThread(nullptr, 0, HeldSynchronousCall, &call, 0, nullptr);
    Sleep(5);  // the worker runs and waits in its DeviceIoControl
    EXPECT_EQ(HeldCount(), 1u);
    EXPECT_TRUE(CancelSynchronousIo(worker));
    EXPECT_EQ(WaitForSingleObject(worker, INFINITE), WAIT_OBJECT_0);
    EXPECT_FALSE(call.result);
    EXPECT_EQ(call.error, static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    EXPECT_FALSE(CancelSynchronousIo(worker)) << "nothing left to cancel";
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
    CloseHandle(worker);
}

// "A process that exits cancels its requests still out and waits for them."
TEST_F(Cancel, ProcessExitCancelsItsRequestsAndWaitsForThem)
{
    HANDLE h = Open(true);
    static OVERLAPPED ov{};  // outlives the process's view of it; nothing reads it afterwards
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0, 8, 1);
    static char out[8];
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), nullptr, &ov));
    in_app.reset();
    machine.end_process(app);
    app = nullptr;
    EXPECT_TRUE(InOrder({"cancel requested by process exit", "completed: STATUS_CANCELLED",
                         "requester's side (IopCompleteRequest)", "IRP_MJ_CLEANUP"}))
        << TraceDump();
    EXPECT_TRUE(FindingCodes().empty()) << FindingsDump();
}

// "A request its driver neither completes nor makes cancelable keeps the exiting process
// waiting 5 minutes (IoCancelThreadIo); then it is reported."
TEST_F(Cancel, ProcessExitWithAnUncancelableRequestWaitsFiveMinutesThenReports)
{
    HANDLE h = Open(true);
    static OVERLAPPED ov{};
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0, 8, 0);
    static char out[8];
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), nullptr, &ov));
    in_app.reset();
    machine.end_process(app);
    app = nullptr;
    EXPECT_TRUE(HasFinding("IRP_NOT_CANCELLED_AT_EXIT")) << FindingsDump();
    EXPECT_EQ(system().interrupt_time(), 5LL * 60 * 1000 * 10000);
}

namespace {

NTSTATUS CompleteWithCancelRoutineSet(PDEVICE_OBJECT, PIRP Irp);
void IgnoreCancel(PDEVICE_OBJECT, PIRP Irp) { IoReleaseCancelSpinLock(Irp->CancelIrql); }

NTSTATUS CompleteWithCancelRoutineSet(PDEVICE_OBJECT, PIRP Irp)
{
    IoSetCancelRoutine(Irp, IgnoreCancel);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

}  // namespace

// "Completing an IRP whose cancel routine is still set: bug check 0xC9, parameter 0x07
// (Driver Verifier; I/O error 0x23C)."
TEST_F(Cancel, CompletingWithTheCancelRoutineStillSetIsBugCheckC9Parameter7)
{
    DRIVER_OBJECT* driver = iosim::io::find_driver(u"async_test");
    ASSERT_NE(driver, nullptr);
    HANDLE h = Open(false);
    driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = CompleteWithCancelRoutineSet;
    std::optional<iosim::BugCheckInfo> stop;
    try {
        DWORD bytes = 0;
        DeviceIoControl(h, IOCTL_ASYNC_COUNT, nullptr, 0, nullptr, 0, &bytes, nullptr);
    } catch (const iosim::BugCheck& b) {
        stop = b.info();
    }
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, DRIVER_VERIFIER_IOMANAGER_VIOLATION);
    EXPECT_EQ(stop->parameters[0], 0x07u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(&IgnoreCancel));
}

namespace {

PDEVICE_OBJECT g_async_device = nullptr;

NTSTATUS ForwardCreateClose(PDEVICE_OBJECT, PIRP Irp)
{
    Irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

// A filter-like device of another driver that passes its requests down to \Device\AsyncTest.
NTSTATUS ForwardControl(PDEVICE_OBJECT, PIRP Irp)
{
    IoSkipCurrentIrpStackLocation(Irp);
    return IoCallDriver(g_async_device, Irp);
}

}  // namespace

// "Unloading a driver that still holds IRPs: DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS
// (0xCE)." The requests come through another driver's device, so no handle keeps the
// holding driver loaded.
TEST_F(Cancel, UnloadingWhileHoldingIrpsIsBugCheckCE)
{
    std::string message;
    ASSERT_EQ(machine.load_driver("io_unit", "io_unit_driver.sys", &message), STATUS_SUCCESS) << message;
    DRIVER_OBJECT* forwarder = iosim::io::find_driver(u"io_unit");
    g_async_device = iosim::io::find_driver(u"async_test")->DeviceObject;
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, reinterpret_cast<PCWSTR>(u"\\Device\\AsyncForward"));
    PDEVICE_OBJECT forward = nullptr;
    ASSERT_EQ(IoCreateDevice(forwarder, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &forward), STATUS_SUCCESS);
    forward->StackSize = static_cast<CCHAR>(g_async_device->StackSize + 1);
    forward->Flags |= DO_BUFFERED_IO;
    forward->Flags &= ~DO_DEVICE_INITIALIZING;
    forwarder->MajorFunction[IRP_MJ_CREATE] = ForwardCreateClose;
    forwarder->MajorFunction[IRP_MJ_CLEANUP] = ForwardCreateClose;
    forwarder->MajorFunction[IRP_MJ_CLOSE] = ForwardCreateClose;
    forwarder->MajorFunction[IRP_MJ_DEVICE_CONTROL] = ForwardControl;

    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\GLOBALROOT\\Device\\AsyncForward"), GENERIC_READ, 0,
                           nullptr, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        IO_STATUS_BLOCK iosb{};
        ASSERT_EQ(iosim::io::create_file(u"\\Device\\AsyncForward", GENERIC_READ, 0, FILE_OPEN, 0, UserMode, &h, &iosb),
                  STATUS_SUCCESS);
    }
    static OVERLAPPED ov{};
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0, 0, 0);
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), nullptr, 0, nullptr, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    std::optional<iosim::BugCheckInfo> stop;
    try {
        machine.unload_driver("async_test", &message);
    } catch (const iosim::BugCheck& b) {
        stop = b.info();
    }
    ASSERT_TRUE(stop.has_value()) << message << TraceDump();
    EXPECT_EQ(stop->code, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS);
    EXPECT_NE(stop->reason.find("IRP_MJ_DEVICE_CONTROL"), std::string::npos) << stop->reason;
}
