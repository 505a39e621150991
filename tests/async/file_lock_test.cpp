// file_lock_test.cpp - a synchronous file object serialises its requests.
//
// Rule (Windows; "All I/O on a synchronous file handle is serialized", The Old New Thing,
// 2013-08-22): on a file object opened without FILE_FLAG_OVERLAPPED (FO_SYNCHRONOUS_IO) the
// I/O manager takes the file object's lock (IopAcquireFileObjectLock) before it builds the
// IRP of NtReadFile, NtWriteFile, NtDeviceIoControlFile, NtFsControlFile,
// NtQueryInformationFile or NtSetInformationFile, and holds it until the request is done.
// A second thread's request on the same file object waits - its IRP does not even exist -
// until the first one has completed. An overlapped file object has no such lock. Each test
// checks what the driver saw (IOCTL_ASYNC_COUNT says how many IRPs it holds) and the trace.
#include "async_test_support.h"
#include "io_api.h"

using namespace async_test;

class FileLock : public AsyncTest {};

namespace {

// A worker's synchronous read on a handle it is given: the driver holds reads 10 ms.
struct ReadCall {
    HANDLE handle = nullptr;
    BOOL result = FALSE;
    DWORD bytes = 0;
    DWORD error = 0;
};

DWORD WINAPI SynchronousRead(LPVOID param)
{
    auto* call = static_cast<ReadCall*>(param);
    char buffer[8];
    call->result = ReadFile(call->handle, buffer, sizeof(buffer), &call->bytes, nullptr);
    call->error = GetLastError();
    return 0;
}

// A worker's synchronous IOCTL_ASYNC_ORDER (held until released or cancelled, cancelable).
struct HeldCall {
    HANDLE handle = nullptr;
    BOOL result = TRUE;
    DWORD error = 0;
};

DWORD WINAPI HeldRequest(LPVOID param)
{
    auto* call = static_cast<HeldCall*>(param);
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 0, 8, 1);
    char out[8];
    DWORD bytes = 0;
    call->result = DeviceIoControl(call->handle, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &bytes,
                                   nullptr);
    call->error = GetLastError();
    return 0;
}

// A worker's IOCTL_ASYNC_COUNT on a handle it is given: how many IRPs the driver held
// when the request reached it.
struct CountCall {
    HANDLE handle = nullptr;
    BOOL result = FALSE;
    ULONG count = 99;
    DWORD error = 0;
};

DWORD WINAPI CountRequest(LPVOID param)
{
    auto* call = static_cast<CountCall*>(param);
    DWORD bytes = 0;
    call->result = DeviceIoControl(call->handle, IOCTL_ASYNC_COUNT, nullptr, 0, &call->count, sizeof(call->count),
                                   &bytes, nullptr);
    call->error = GetLastError();
    return 0;
}

std::vector<ULONG_PTR> g_apcs;
void NTAPI OnApc(ULONG_PTR data) { g_apcs.push_back(data); }

}  // namespace

// "A synchronous file object serialises requests from two threads: thread A's ReadFile pends
// in the driver; thread B's DeviceIoControl on the same handle reaches the driver only after
// A's read has completed."
TEST_F(FileLock, SynchronousFileObject_SerialisesRequestsFromTwoThreads)
{
    HANDLE h = Open(false);
    ReadCall read{h};
    HANDLE worker = CreateThread(nullptr, 0, SynchronousRead, &read, 0, nullptr);
    ASSERT_NE(worker, nullptr);
    Sleep(1);  // the worker's read is pended in the driver (held 10 ms)
    ULONG count = 99;
    DWORD bytes = 0;
    EXPECT_TRUE(DeviceIoControl(h, IOCTL_ASYNC_COUNT, nullptr, 0, &count, sizeof(count), &bytes, nullptr));
    EXPECT_EQ(count, 0u) << "the IOCTL reached the driver only after the read had completed";
    EXPECT_EQ(GetTickCount64(), 10u) << "the IOCTL waited until the read completed, at 10 ms";
    EXPECT_EQ(WaitForSingleObject(worker, INFINITE), WAIT_OBJECT_0);
    EXPECT_TRUE(read.result);
    EXPECT_EQ(read.bytes, 8u);
    // The read's IRP number, then: no IRP for the IOCTL existed before the read completed.
    std::string allocated = FirstLine("allocated for IRP_MJ_READ");
    size_t at = allocated.find("IRP#");
    ASSERT_NE(at, std::string::npos) << TraceDump();
    std::string read_irp = allocated.substr(at, allocated.find(' ', at) - at);
    EXPECT_TRUE(InOrder({read_irp + " IRP_MJ_READ -> \\Device\\AsyncTest",
                         "NtDeviceIoControlFile waits for the file object lock of \\Device\\AsyncTest",
                         read_irp + " completed: STATUS_SUCCESS", "allocated for IRP_MJ_DEVICE_CONTROL",
                         "IRP_MJ_DEVICE_CONTROL -> \\Device\\AsyncTest"}))
        << TraceDump();
    EXPECT_TRUE(FindingCodes().empty()) << FindingsDump();
    CloseHandle(worker);
    CloseHandle(h);
}

// "An overlapped file object does not serialise: a request on it reaches the driver while
// another request on the same handle is still pending."
TEST_F(FileLock, OverlappedFileObject_DoesNotSerialise)
{
    HANDLE h = Open(true);
    OVERLAPPED read_ov{};
    read_ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char buffer[8];
    EXPECT_FALSE(ReadFile(h, buffer, sizeof(buffer), nullptr, &read_ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    CountCall call{h};
    OVERLAPPED count_ov{};
    count_ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    DWORD bytes = 0;
    EXPECT_TRUE(DeviceIoControl(h, IOCTL_ASYNC_COUNT, nullptr, 0, &call.count, sizeof(call.count), &bytes, &count_ov));
    EXPECT_EQ(call.count, 1u) << "the IOCTL reached the driver while the read was held";
    EXPECT_EQ(GetTickCount64(), 0u);
    EXPECT_TRUE(GetOverlappedResult(h, &read_ov, &bytes, TRUE));
    EXPECT_EQ(bytes, 8u);
    EXPECT_EQ(FirstLine("waits for the file object lock"), "") << TraceDump();
    CloseHandle(count_ov.hEvent);
    CloseHandle(read_ov.hEvent);
    CloseHandle(h);
}

// "Two synchronous handles to the same device are two file objects: each has its own lock,
// so a request on one does not wait for a request on the other."
TEST_F(FileLock, SynchronousFileObject_LockIsPerFileObjectNotPerDevice)
{
    HANDLE h = Open(false);
    ReadCall read{h};
    HANDLE worker = CreateThread(nullptr, 0, SynchronousRead, &read, 0, nullptr);
    Sleep(1);
    EXPECT_EQ(HeldCount(), 1u) << "a second handle's request reaches the driver while the read is held";
    EXPECT_EQ(GetTickCount64(), 1u);
    EXPECT_EQ(WaitForSingleObject(worker, INFINITE), WAIT_OBJECT_0);
    EXPECT_TRUE(read.result);
    CloseHandle(worker);
    CloseHandle(h);
}

// "The classic gotcha: a thread blocked in a synchronous request blocks every other request
// on the same handle, even the one meant to end it. Nothing can complete the first request,
// so the run is a deadlock, and the report names the file object lock."
TEST_F(FileLock, SynchronousFileObject_ReleasingOnTheSameHandleIsADeadlockNamingTheFileObjectLock)
{
    HANDLE h = Open(false);
    HeldCall held{h};
    HANDLE worker = CreateThread(nullptr, 0, HeldRequest, &held, 0, nullptr);
    ASSERT_NE(worker, nullptr);
    Sleep(1);  // the worker's request is held, and it holds the file object lock
    std::optional<iosim::BugCheckInfo> stop;
    try {
        DWORD bytes = 0;
        DeviceIoControl(h, IOCTL_ASYNC_RELEASE, nullptr, 0, nullptr, 0, &bytes, nullptr);
    } catch (const iosim::BugCheck& b) {
        stop = b.info();
    }
    ASSERT_TRUE(stop.has_value()) << "the release should wait forever for the file object lock";
    EXPECT_EQ(stop->code, DRIVER_VERIFIER_DETECTED_VIOLATION);
    EXPECT_EQ(stop->parameters[0], 0x1001u);
    EXPECT_NE(stop->reason.find("NtDeviceIoControlFile waits for the file object lock of \\Device\\AsyncTest"),
              std::string::npos)
        << stop->reason;
    EXPECT_NE(stop->reason.find("NtDeviceIoControlFile waits for IRP#"), std::string::npos) << stop->reason;
}

// "CancelSynchronousIo cancels requests, not waits for the file object lock: on a thread
// still waiting for the lock it finds nothing (ERROR_NOT_FOUND); cancelling the holder's
// request frees the lock and the waiter's request goes on."
TEST_F(FileLock, SynchronousFileObject_CancellingTheHoldersRequestLetsTheWaiterThrough)
{
    HANDLE h = Open(false);
    HeldCall held{h};
    HANDLE holder = CreateThread(nullptr, 0, HeldRequest, &held, 0, nullptr);
    Sleep(1);
    CountCall count{h};
    HANDLE waiter = CreateThread(nullptr, 0, CountRequest, &count, 0, nullptr);
    Sleep(1);  // the waiter waits for the file object lock
    EXPECT_NE(FirstLine("NtDeviceIoControlFile waits for the file object lock"), "") << TraceDump();
    EXPECT_FALSE(CancelSynchronousIo(waiter)) << "no request of the waiter exists yet";
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
    EXPECT_TRUE(CancelSynchronousIo(holder));
    HANDLE both[2] = {holder, waiter};
    EXPECT_EQ(WaitForMultipleObjects(2, both, TRUE, INFINITE), WAIT_OBJECT_0);
    EXPECT_FALSE(held.result);
    EXPECT_EQ(held.error, static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    EXPECT_TRUE(count.result);
    EXPECT_EQ(count.count, 0u) << "the waiter's request reached the driver after the cancelled one ended";
    CloseHandle(waiter);
    CloseHandle(holder);
    CloseHandle(h);
}

// "A process that exits while one thread holds a file object lock and another waits for it
// ends cleanly: the held request is cancelled and the waiter unwinds out of its wait."
TEST_F(FileLock, SynchronousFileObject_ProcessExitEndsTheLockWaiter)
{
    HANDLE h = Open(false);
    static HeldCall held;  // the threads may still read these while the process goes
    static CountCall count;
    held = HeldCall{h};
    count = CountCall{h};
    CreateThread(nullptr, 0, HeldRequest, &held, 0, nullptr);
    Sleep(1);
    CreateThread(nullptr, 0, CountRequest, &count, 0, nullptr);
    Sleep(1);
    EXPECT_NE(FirstLine("waits for the file object lock"), "") << TraceDump();
    in_app.reset();
    machine.end_process(app);
    app = nullptr;
    EXPECT_TRUE(InOrder({"cancel requested by process exit", "completed: STATUS_CANCELLED", "IRP_MJ_CLEANUP"}))
        << TraceDump();
    EXPECT_TRUE(FindingCodes().empty()) << FindingsDump();
}

// "CancelIo from the thread waiting for the lock is impossible (it is blocked), but CancelIoEx
// from a third thread cancels the holder's request on the handle, and the waiter goes on."
TEST_F(FileLock, SynchronousFileObject_CancelIoExOfTheHoldersRequestLetsTheWaiterThrough)
{
    HANDLE h = Open(false);
    HeldCall held{h};
    HANDLE holder = CreateThread(nullptr, 0, HeldRequest, &held, 0, nullptr);
    Sleep(1);
    CountCall count{h};
    HANDLE waiter = CreateThread(nullptr, 0, CountRequest, &count, 0, nullptr);
    Sleep(1);
    EXPECT_TRUE(CancelIoEx(h, nullptr));
    HANDLE both[2] = {holder, waiter};
    EXPECT_EQ(WaitForMultipleObjects(2, both, TRUE, INFINITE), WAIT_OBJECT_0);
    EXPECT_EQ(held.error, static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    EXPECT_TRUE(count.result);
    EXPECT_EQ(count.count, 0u);
    CloseHandle(waiter);
    CloseHandle(holder);
    CloseHandle(h);
}

// "On an FO_ALERTABLE_IO file object (FILE_SYNCHRONOUS_IO_ALERT) the wait for the file
// object lock is alertable: a user APC ends it, the APC runs, and the service returns
// STATUS_USER_APC without sending anything to the driver."
TEST_F(FileLock, AlertableSynchronousFileObject_AUserApcEndsTheWaitForTheLock)
{
    g_apcs.clear();
    HANDLE h = nullptr;
    IO_STATUS_BLOCK iosb{};
    ASSERT_EQ(iosim::io::create_file(u"\\Device\\AsyncTest", GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE, 0, FILE_OPEN,
                                     FILE_SYNCHRONOUS_IO_ALERT, UserMode, &h, &iosb),
              STATUS_SUCCESS);
    HeldCall held{h};
    HANDLE holder = CreateThread(nullptr, 0, HeldRequest, &held, 0, nullptr);
    Sleep(1);  // the holder's request is held; it holds the lock
    EXPECT_NE(QueueUserAPC(OnApc, GetCurrentThread(), 11), 0u);
    ULONG count = 99;
    IO_STATUS_BLOCK count_iosb{};
    EXPECT_EQ(iosim::io::device_io_control(h, IOCTL_ASYNC_COUNT, nullptr, 0, &count, sizeof(count), false, UserMode,
                                           &count_iosb),
              STATUS_USER_APC);
    EXPECT_EQ(g_apcs, (std::vector<ULONG_PTR>{11}));
    EXPECT_EQ(count, 99u) << "no request reached the driver";
    EXPECT_NE(FirstLine("NtDeviceIoControlFile waits for the file object lock"), "") << TraceDump();
    Release();  // on a handle of its own: the holder's request completes
    EXPECT_EQ(WaitForSingleObject(holder, INFINITE), WAIT_OBJECT_0);
    EXPECT_TRUE(held.result);
    CloseHandle(holder);
    CloseHandle(h);
}
