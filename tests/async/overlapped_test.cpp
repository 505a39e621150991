// overlapped_test.cpp - kernel32's overlapped I/O, one documented rule per test (named
// after the rule): ERROR_IO_PENDING, the OVERLAPPED as IO_STATUS_BLOCK, its event,
// GetOverlappedResult(Ex), HasOverlappedIoCompleted, the file handle as the event.
#include "async_test_support.h"

using namespace async_test;

class Overlapped : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        h = Open(true);
        ASSERT_NE(h, INVALID_HANDLE_VALUE);
        ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    }
    void TearDown() override
    {
        if (!system().dead()) {
            CloseHandle(ov.hEvent);
            CloseHandle(h);
        }
        AsyncTest::TearDown();
    }
    BOOL Issue(const ASYNC_ORDER& order, LPOVERLAPPED overlapped)
    {
        return DeviceIoControl(h, IOCTL_ASYNC_ORDER, const_cast<ASYNC_ORDER*>(&order), sizeof(order), out, sizeof(out),
                               &bytes, overlapped);
    }
    HANDLE h = nullptr;
    OVERLAPPED ov{};
    char out[16] = {};
    DWORD bytes = 0;
};

// "A pended request on an overlapped handle: FALSE with ERROR_IO_PENDING; Internal stays
// STATUS_PENDING until it completes; GetOverlappedResult(bWait TRUE) waits and gives the
// byte count."
TEST_F(Overlapped, PendedRequestReturnsErrorIoPendingAndGetOverlappedResultWaits)
{
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 25), &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    EXPECT_EQ(static_cast<NTSTATUS>(ov.Internal), STATUS_PENDING);
    EXPECT_FALSE(HasOverlappedIoCompleted(&ov));
    EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0), WAIT_TIMEOUT);
    DWORD n = 0;
    EXPECT_TRUE(GetOverlappedResult(h, &ov, &n, TRUE));
    EXPECT_EQ(n, 8u);
    EXPECT_EQ(GetTickCount64(), 25u);
    EXPECT_TRUE(HasOverlappedIoCompleted(&ov));
    EXPECT_EQ(std::string(out, 8), "ABCDEFGH");
}

// "If the driver completes synchronously with success on an overlapped handle, the call
// returns TRUE, and the OVERLAPPED is filled and its event set all the same."
TEST_F(Overlapped, SynchronousSuccessReturnsTrueAndStillSetsTheEventAndFillsTheOverlapped)
{
    EXPECT_TRUE(Issue(Order(0, STATUS_SUCCESS, STATUS_SUCCESS, 6), &ov));
    EXPECT_EQ(bytes, 6u);
    EXPECT_EQ(static_cast<NTSTATUS>(ov.Internal), STATUS_SUCCESS);
    EXPECT_EQ(ov.InternalHigh, 6u);
    EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);
}

// "An error returned synchronously (not pended): FALSE with the error; the I/O manager
// neither writes the IO_STATUS_BLOCK nor sets the event."
TEST_F(Overlapped, SynchronousErrorSetsNoEventAndWritesNoStatus)
{
    SetEvent(ov.hEvent);  // the I/O manager clears it when the request starts
    ov.InternalHigh = 0x1234;
    EXPECT_FALSE(Issue(Order(0, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER), &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0), WAIT_TIMEOUT);
    EXPECT_EQ(static_cast<NTSTATUS>(ov.Internal), STATUS_PENDING) << "only kernel32's own STATUS_PENDING";
    EXPECT_EQ(ov.InternalHigh, 0x1234u);
    EXPECT_FALSE(HasOverlappedIoCompleted(&ov)) << "so waiting on it would hang: check the return value";
}

// "An error of a pended request on an asynchronous handle is written back and signalled:
// GetOverlappedResult gives FALSE with the error."
TEST_F(Overlapped, PendedErrorWritesTheStatusAndSetsTheEvent)
{
    EXPECT_FALSE(Issue(Pended(STATUS_INVALID_PARAMETER, 10, 3), &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(h, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    EXPECT_EQ(static_cast<NTSTATUS>(ov.Internal), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(std::string(out, 3), std::string(3, '\0')) << "no copy-back for an error";
}

// "A warning (STATUS_BUFFER_OVERFLOW) completes the request with data: GetOverlappedResult
// returns FALSE with ERROR_MORE_DATA and the byte count."
TEST_F(Overlapped, PendedWarningGivesErrorMoreDataWithTheBytes)
{
    EXPECT_FALSE(Issue(Pended(STATUS_BUFFER_OVERFLOW, 10, 16), &ov));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(h, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
    EXPECT_EQ(n, 16u);
    EXPECT_EQ(std::string(out, 16), "ABCDEFGHIJKLMNOP");
}

// "GetOverlappedResult with bWait FALSE on a request still pending: FALSE, ERROR_IO_INCOMPLETE."
TEST_F(Overlapped, GetOverlappedResultWithoutWaitingGivesErrorIoIncomplete)
{
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 10), &ov));
    DWORD n = 77;
    EXPECT_FALSE(GetOverlappedResult(h, &ov, &n, FALSE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_INCOMPLETE));
    EXPECT_TRUE(GetOverlappedResult(h, &ov, &n, TRUE));
}

// "GetOverlappedResultEx with a timeout that passes: FALSE with WAIT_TIMEOUT."
TEST_F(Overlapped, GetOverlappedResultExTimesOutWithWaitTimeout)
{
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 100), &ov));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResultEx(h, &ov, &n, 30, FALSE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
    EXPECT_EQ(GetTickCount64(), 30u);
    EXPECT_TRUE(GetOverlappedResultEx(h, &ov, &n, 100, FALSE));
    EXPECT_EQ(GetTickCount64(), 100u);
}

// "With no hEvent, the file object's event is signalled at completion, and
// GetOverlappedResult waits on the file handle."
TEST_F(Overlapped, WithoutAnEventTheFileHandleIsWhatGetsSignalled)
{
    OVERLAPPED plain{};
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 10, 4), &plain));
    EXPECT_EQ(WaitForSingleObject(h, 0), WAIT_TIMEOUT);
    DWORD n = 0;
    EXPECT_TRUE(GetOverlappedResult(h, &plain, &n, TRUE));
    EXPECT_EQ(n, 4u);
    EXPECT_EQ(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
}

// "An invalid hEvent fails the call before any IRP exists (ERROR_INVALID_HANDLE)."
TEST_F(Overlapped, BadEventHandleFailsBeforeAnyIrp)
{
    OVERLAPPED bad{};
    bad.hEvent = reinterpret_cast<HANDLE>(0x7770);
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 10), &bad));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    EXPECT_EQ(FirstLine("allocated for IRP_MJ_DEVICE_CONTROL"), "");
}

// "An asynchronous handle used without an OVERLAPPED: kernel32 waits on the handle itself
// when the request pends, and returns the final result."
TEST_F(Overlapped, AsynchronousHandleWithoutOverlappedWaitsOnTheHandle)
{
    EXPECT_TRUE(Issue(Pended(STATUS_SUCCESS, 15, 5), nullptr));
    EXPECT_EQ(bytes, 5u);
    EXPECT_EQ(GetTickCount64(), 15u);
}

// "An OVERLAPPED on a synchronous handle: the call still waits; Internal/InternalHigh are
// the IO_STATUS_BLOCK and its event is set too."
TEST_F(Overlapped, OverlappedOnASynchronousHandleStillWaits)
{
    HANDLE s = Open(false);
    OVERLAPPED o{};
    o.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    DWORD n = 0;
    ASYNC_ORDER order = Pended(STATUS_SUCCESS, 10, 2);
    EXPECT_TRUE(DeviceIoControl(s, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &n, &o));
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(static_cast<NTSTATUS>(o.Internal), STATUS_SUCCESS);
    EXPECT_EQ(WaitForSingleObject(o.hEvent, 0), WAIT_OBJECT_0);
    CloseHandle(o.hEvent);
    CloseHandle(s);
}
