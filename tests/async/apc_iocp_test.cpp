// apc_iocp_test.cpp - completion through user APCs (ReadFileEx, QueueUserAPC, alertable
// waits) and through I/O completion ports: which requests queue a packet, and what
// GetQueuedCompletionStatus(Ex) reports.
#include <vector>

#include "async_test_support.h"

using namespace async_test;

namespace {

struct Completion {
    DWORD error;
    DWORD bytes;
    LPOVERLAPPED overlapped;
};
std::vector<Completion> g_completions;

void WINAPI OnRead(DWORD error, DWORD bytes, LPOVERLAPPED overlapped) { g_completions.push_back({error, bytes, overlapped}); }

std::vector<ULONG_PTR> g_apcs;
void NTAPI OnApc(ULONG_PTR data) { g_apcs.push_back(data); }

}  // namespace

class Apc : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        g_completions.clear();
        g_apcs.clear();
    }
};

// "ReadFileEx's completion routine runs as a user APC, only when the thread waits
// alertably: a plain Sleep does not run it, SleepEx(.., TRUE) does and returns
// WAIT_IO_COMPLETION."
TEST_F(Apc, ReadFileExCompletionRoutineRunsOnlyInAnAlertableWait)
{
    HANDLE h = Open(true);
    OVERLAPPED ov{};
    char buffer[6] = {};
    EXPECT_TRUE(ReadFileEx(h, buffer, sizeof(buffer), &ov, OnRead));
    Sleep(50);  // the read completed at 10 ms; the routine waits for an alertable wait
    EXPECT_TRUE(g_completions.empty());
    EXPECT_TRUE(HasOverlappedIoCompleted(&ov)) << "the OVERLAPPED is written by the kernel APC, before the user APC";
    EXPECT_EQ(SleepEx(1000, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
    EXPECT_EQ(GetTickCount64(), 50u) << "an alertable wait with an APC queued returns at once";
    ASSERT_EQ(g_completions.size(), 1u);
    EXPECT_EQ(g_completions[0].error, 0u);
    EXPECT_EQ(g_completions[0].bytes, 6u);
    EXPECT_EQ(g_completions[0].overlapped, &ov);
    EXPECT_EQ(std::string(buffer, 6), "ABCDEF");
    CloseHandle(h);
}

// "An alertable wait that is waiting when the APC arrives is ended by it."
TEST_F(Apc, AlertableWaitIsEndedByTheCompletionRoutine)
{
    HANDLE h = Open(true);
    OVERLAPPED ov{};
    char buffer[4];
    HANDLE never = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_TRUE(ReadFileEx(h, buffer, sizeof(buffer), &ov, OnRead));
    EXPECT_EQ(WaitForSingleObjectEx(never, INFINITE, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
    EXPECT_EQ(GetTickCount64(), 10u);
    EXPECT_EQ(g_completions.size(), 1u);
    CloseHandle(never);
    CloseHandle(h);
}

// "QueueUserAPC: the routine runs at the thread's next alertable wait, with its argument."
TEST_F(Apc, QueueUserApcRunsAtTheNextAlertableWait)
{
    HANDLE self = nullptr;
    // A real handle to this thread: a thread created only to hand it back would do; here the
    // pseudo-handle is enough (it means the calling thread).
    self = GetCurrentThread();
    EXPECT_NE(QueueUserAPC(OnApc, self, 42), 0u);
    EXPECT_NE(QueueUserAPC(OnApc, self, 43), 0u);
    EXPECT_EQ(WaitForSingleObject(CreateEventW(nullptr, TRUE, TRUE, nullptr), 0), WAIT_OBJECT_0);
    EXPECT_TRUE(g_apcs.empty()) << "not alertable";
    EXPECT_EQ(SleepEx(0, TRUE), static_cast<DWORD>(WAIT_IO_COMPLETION));
    EXPECT_EQ(g_apcs, (std::vector<ULONG_PTR>{42, 43}));
    EXPECT_EQ(SleepEx(0, TRUE), 0u) << "nothing left";
}

class Iocp : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        h = Open(true);
        port = CreateIoCompletionPort(h, nullptr, 0xC0FFEE, 0);
        ASSERT_NE(port, nullptr);
    }
    void TearDown() override
    {
        if (!system().dead()) {
            CloseHandle(h);
            CloseHandle(port);
        }
        AsyncTest::TearDown();
    }
    BOOL Issue(const ASYNC_ORDER& order, LPOVERLAPPED ov)
    {
        ASYNC_ORDER copy = order;
        return DeviceIoControl(h, IOCTL_ASYNC_ORDER, &copy, sizeof(copy), out, sizeof(out), nullptr, ov);
    }
    HANDLE h = nullptr;
    HANDLE port = nullptr;
    char out[16] = {};
};

// "Each pended request queues one packet, with the file's key and the OVERLAPPED, in the
// order the requests complete."
TEST_F(Iocp, PendedRequestsQueuePacketsInCompletionOrder)
{
    OVERLAPPED slow{}, fast{};
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 30, 3), &slow));
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 0, 5), &fast));  // held until released
    Release();  // completes the held one now
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    LPOVERLAPPED which = nullptr;
    EXPECT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &which, INFINITE));
    EXPECT_EQ(key, 0xC0FFEEu);
    EXPECT_EQ(which, &fast);
    EXPECT_EQ(bytes, 5u);
    EXPECT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &which, INFINITE));
    EXPECT_EQ(which, &slow);
    EXPECT_EQ(bytes, 3u);
    EXPECT_EQ(GetTickCount64(), 30u);
}

// "A synchronous success still queues a packet (the call returned TRUE as well)."
TEST_F(Iocp, SynchronousSuccessQueuesAPacket)
{
    OVERLAPPED ov{};
    EXPECT_TRUE(Issue(Order(0, STATUS_SUCCESS, STATUS_SUCCESS, 2), &ov));
    LPOVERLAPPED which = nullptr;
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    EXPECT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &which, 0));
    EXPECT_EQ(which, &ov);
}

// "An error returned synchronously queues no packet."
TEST_F(Iocp, SynchronousFailureQueuesNoPacket)
{
    OVERLAPPED ov{};
    EXPECT_FALSE(Issue(Order(0, STATUS_INVALID_PARAMETER, STATUS_INVALID_PARAMETER), &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    LPOVERLAPPED which = &ov;
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &which, 0));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
    EXPECT_EQ(which, nullptr);
}

// "A pended request that fails queues a packet: GetQueuedCompletionStatus returns FALSE with
// the error and the OVERLAPPED."
TEST_F(Iocp, PendedFailureQueuesAPacketReportedAsFalseWithTheOverlapped)
{
    OVERLAPPED ov{};
    EXPECT_FALSE(Issue(Pended(STATUS_INVALID_PARAMETER, 10, 0), &ov));
    LPOVERLAPPED which = nullptr;
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &which, INFINITE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    EXPECT_EQ(which, &ov);
}

// "An OVERLAPPED whose hEvent has its low bit set queues no packet (its event is still set)."
TEST_F(Iocp, EventWithLowBitSetQueuesNoPacket)
{
    OVERLAPPED ov{};
    HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ov.hEvent = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(event) | 1);
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 10), &ov));
    EXPECT_EQ(WaitForSingleObject(event, INFINITE), WAIT_OBJECT_0);
    LPOVERLAPPED which = nullptr;
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &which, 0));
    CloseHandle(event);
}

// "FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: a request that succeeds at once queues no packet;
// one that pends still does."
TEST_F(Iocp, SkipCompletionPortOnSuccessSkipsOnlySynchronousSuccess)
{
    ASSERT_TRUE(SetFileCompletionNotificationModes(h, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS));
    OVERLAPPED now{}, later{};
    EXPECT_TRUE(Issue(Order(0, STATUS_SUCCESS, STATUS_SUCCESS, 1), &now));
    EXPECT_FALSE(Issue(Pended(STATUS_SUCCESS, 10, 2), &later));
    LPOVERLAPPED which = nullptr;
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    EXPECT_TRUE(GetQueuedCompletionStatus(port, &bytes, &key, &which, INFINITE));
    EXPECT_EQ(which, &later);
    EXPECT_FALSE(GetQueuedCompletionStatus(port, &bytes, &key, &which, 0));
}

// "PostQueuedCompletionStatus queues a packet of its own; GetQueuedCompletionStatusEx takes
// several at once."
TEST_F(Iocp, PostedPacketsComeOutThroughGetQueuedCompletionStatusEx)
{
    OVERLAPPED a{}, b{};
    EXPECT_TRUE(PostQueuedCompletionStatus(port, 11, 1, &a));
    EXPECT_TRUE(PostQueuedCompletionStatus(port, 22, 2, &b));
    OVERLAPPED_ENTRY entries[4]{};
    ULONG removed = 0;
    EXPECT_TRUE(GetQueuedCompletionStatusEx(port, entries, 4, &removed, 0, FALSE));
    ASSERT_EQ(removed, 2u);
    EXPECT_EQ(entries[0].lpOverlapped, &a);
    EXPECT_EQ(entries[0].dwNumberOfBytesTransferred, 11u);
    EXPECT_EQ(entries[1].lpCompletionKey, 2u);
    EXPECT_FALSE(GetQueuedCompletionStatusEx(port, entries, 4, &removed, 0, FALSE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(WAIT_TIMEOUT));
}

// "A file already associated with a port cannot be associated again."
TEST_F(Iocp, SecondAssociationFailsWithErrorInvalidParameter)
{
    EXPECT_EQ(CreateIoCompletionPort(h, port, 1, 0), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}
