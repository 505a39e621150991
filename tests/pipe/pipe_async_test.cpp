// pipe_async_test.cpp - named pipes and pending IRPs: overlapped ConnectNamedPipe and
// ReadFile, a pended read completed by a write or broken by the other end's cleanup,
// CancelIo, and a synchronous ConnectNamedPipe that waits for another thread's client.
#include "pipe_test_support.h"

using namespace pipe_test;

class PipeAsync : public PipeTest {};

// "ConnectNamedPipe on an overlapped handle with no client: FALSE, ERROR_IO_PENDING; the
// client's CreateFile completes it (the OVERLAPPED's event is set, GetOverlappedResult TRUE)."
TEST_F(PipeAsync, OverlappedConnectPendsUntilAClientConnects)
{
    HANDLE server = Server(u"ovconnect", PIPE_TYPE_BYTE, 1, true);
    ASSERT_NE(server, INVALID_HANDLE_VALUE);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_FALSE(ConnectNamedPipe(server, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0), static_cast<DWORD>(WAIT_TIMEOUT));
    HANDLE client = Client(u"ovconnect");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    EXPECT_EQ(WaitForSingleObject(ov.hEvent, INFINITE), WAIT_OBJECT_0);
    DWORD n = 7;
    EXPECT_TRUE(GetOverlappedResult(server, &ov, &n, FALSE));
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(InOrder({"IRP_MJ_FILE_SYSTEM_CONTROL -> \\Device\\NamedPipe", "returned STATUS_PENDING",
                         "client connected"}))
        << TraceDump();
    CloseHandle(client);
    CloseHandle(ov.hEvent);
    CloseHandle(server);
}

// "An overlapped ReadFile with no data pends (ERROR_IO_PENDING); the other end's write
// completes it with the bytes written."
TEST_F(PipeAsync, PendedReadIsCompletedByAWrite)
{
    HANDLE server = Server(u"ovread", PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE, 1, true);
    HANDLE client = Client(u"ovread");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char buffer[16] = {};
    EXPECT_FALSE(ReadFile(server, buffer, sizeof(buffer), nullptr, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(server, &ov, &n, FALSE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_INCOMPLETE));
    EXPECT_TRUE(Write(client, "arrived"));
    EXPECT_TRUE(GetOverlappedResult(server, &ov, &n, TRUE));
    EXPECT_EQ(n, 7u);
    EXPECT_EQ(std::string(buffer, n), "arrived");
    CloseHandle(ov.hEvent);
    CloseHandle(client);
    CloseHandle(server);
}

// "A pended read of a message longer than its buffer completes with ERROR_MORE_DATA."
TEST_F(PipeAsync, PendedShortMessageReadEndsWithErrorMoreData)
{
    HANDLE server = Server(u"ovmore", PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE, 1, true);
    HANDLE client = Client(u"ovmore");
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char buffer[3] = {};
    EXPECT_FALSE(ReadFile(server, buffer, sizeof(buffer), nullptr, &ov));
    EXPECT_TRUE(Write(client, "longer"));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(server, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(std::string(buffer, 3), "lon");
    CloseHandle(ov.hEvent);
    CloseHandle(client);
    CloseHandle(server);
}

// "A pended read is completed with ERROR_BROKEN_PIPE when the other end is cleaned up."
TEST_F(PipeAsync, PendedReadBreaksWhenTheOtherEndCloses)
{
    HANDLE server = Server(u"ovbroken", PIPE_TYPE_BYTE, 1, true);
    HANDLE client = Client(u"ovbroken");
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char buffer[8];
    EXPECT_FALSE(ReadFile(server, buffer, sizeof(buffer), nullptr, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    CloseHandle(client);
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(server, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
    CloseHandle(ov.hEvent);
    CloseHandle(server);
}

// "CancelIo cancels a pended pipe read: it completes with ERROR_OPERATION_ABORTED and the
// pipe still works afterwards."
TEST_F(PipeAsync, CancelIoCancelsAPendedRead)
{
    HANDLE server = Server(u"ovcancel", PIPE_TYPE_BYTE, 1, true);
    HANDLE client = Client(u"ovcancel");
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char buffer[8];
    EXPECT_FALSE(ReadFile(server, buffer, sizeof(buffer), nullptr, &ov));
    EXPECT_TRUE(CancelIo(server));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(server, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    EXPECT_TRUE(InOrder({"IoCancelIrp: calling cancel routine", "completed: STATUS_CANCELLED"})) << TraceDump();
    // The cancelled read took nothing: the next write is read whole.
    EXPECT_TRUE(Write(client, "after"));
    OVERLAPPED ov2{};
    ov2.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_TRUE(ReadFile(server, buffer, sizeof(buffer), &n, &ov2));
    EXPECT_EQ(std::string(buffer, n), "after");
    CloseHandle(ov2.hEvent);
    CloseHandle(ov.hEvent);
    CloseHandle(client);
    CloseHandle(server);
}

// "CancelIoEx cancels a pended ConnectNamedPipe."
TEST_F(PipeAsync, CancelIoExCancelsAPendedConnect)
{
    HANDLE server = Server(u"ovcancelconnect", PIPE_TYPE_BYTE, 1, true);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_FALSE(ConnectNamedPipe(server, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    EXPECT_TRUE(CancelIoEx(server, &ov));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(server, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    // Still listening: a client can connect.
    HANDLE client = Client(u"ovcancelconnect");
    EXPECT_NE(client, INVALID_HANDLE_VALUE);
    CloseHandle(client);
    CloseHandle(ov.hEvent);
    CloseHandle(server);
}

// "A pipe has no file position: on an overlapped handle ReadFile/WriteFile without an
// OVERLAPPED are accepted (no byte offset needed) and kernel32 waits on the handle."
TEST_F(PipeAsync, OverlappedPipeHandleWithoutOverlappedNeedsNoOffset)
{
    HANDLE server = Server(u"nooffset", PIPE_TYPE_BYTE, 1, true);
    HANDLE client = Client(u"nooffset", true);
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    DWORD n = 0;
    EXPECT_TRUE(WriteFile(client, "abc", 3, &n, nullptr)) << GetLastError();
    EXPECT_EQ(n, 3u);
    char buffer[8];
    EXPECT_TRUE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr)) << GetLastError();
    EXPECT_EQ(std::string(buffer, n), "abc");
    CloseHandle(client);
    CloseHandle(server);
}

namespace {

struct ClientCall {
    bool opened = false;
    bool wrote = false;
};

DWORD WINAPI ClientThread(LPVOID param)
{
    auto* call = static_cast<ClientCall*>(param);
    HANDLE h = CreateFileW(W(u"\\\\.\\pipe\\syncconnect"), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    call->opened = h != INVALID_HANDLE_VALUE;
    if (call->opened) {
        DWORD n = 0;
        call->wrote = WriteFile(h, "from-thread", 11, &n, nullptr) && n == 11;
        CloseHandle(h);
    }
    return 0;
}

}  // namespace

// "A synchronous ConnectNamedPipe waits until a client connects (here another thread's);
// a synchronous ReadFile then gets its data, and the next ERROR_BROKEN_PIPE."
TEST_F(PipeAsync, SynchronousConnectWaitsForAnotherThreadsClient)
{
    HANDLE server = Server(u"syncconnect");
    ASSERT_NE(server, INVALID_HANDLE_VALUE);
    ClientCall call;
    HANDLE thread = CreateThread(nullptr, 0, ClientThread, &call, 0, nullptr);
    EXPECT_TRUE(ConnectNamedPipe(server, nullptr)) << GetLastError();
    char buffer[16];
    DWORD n = 0;
    EXPECT_TRUE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "from-thread");
    EXPECT_EQ(WaitForSingleObject(thread, INFINITE), WAIT_OBJECT_0);
    EXPECT_TRUE(call.opened);
    EXPECT_TRUE(call.wrote);
    EXPECT_FALSE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
    CloseHandle(thread);
    CloseHandle(server);
}

// "DisconnectNamedPipe completes the client's pended read with ERROR_PIPE_NOT_CONNECTED, and
// after ConnectNamedPipe the instance takes a new client."
TEST_F(PipeAsync, DisconnectEndsTheClientsPendedReadAndTheInstanceIsReused)
{
    HANDLE server = Server(u"reuse", PIPE_TYPE_BYTE, 1, true);
    HANDLE client = Client(u"reuse", true);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char buffer[8];
    EXPECT_FALSE(ReadFile(client, buffer, sizeof(buffer), nullptr, &ov));
    EXPECT_TRUE(DisconnectNamedPipe(server));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(client, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_NOT_CONNECTED));
    CloseHandle(client);
    OVERLAPPED listen{};
    listen.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_FALSE(ConnectNamedPipe(server, &listen));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    HANDLE second = Client(u"reuse");
    ASSERT_NE(second, INVALID_HANDLE_VALUE);
    EXPECT_TRUE(GetOverlappedResult(server, &listen, &n, TRUE));
    CloseHandle(second);
    CloseHandle(listen.hEvent);
    CloseHandle(ov.hEvent);
    CloseHandle(server);
}

// "A client the server disconnected closing its handle later does not touch the instance's
// next client: that client's pended read goes on."
TEST_F(PipeAsync, AnOldDisconnectedClientsCloseDoesNotBreakTheNextClient)
{
    HANDLE server = Server(u"nextclient", PIPE_TYPE_BYTE, 1, true);
    HANDLE old_client = Client(u"nextclient");
    EXPECT_TRUE(DisconnectNamedPipe(server));
    OVERLAPPED listen{};
    listen.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_FALSE(ConnectNamedPipe(server, &listen));
    HANDLE new_client = Client(u"nextclient", true);
    ASSERT_NE(new_client, INVALID_HANDLE_VALUE);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char buffer[8];
    EXPECT_FALSE(ReadFile(new_client, buffer, sizeof(buffer), nullptr, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    CloseHandle(old_client);
    EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0), static_cast<DWORD>(WAIT_TIMEOUT));
    EXPECT_TRUE(Write(server, "new"));
    DWORD n = 0;
    EXPECT_TRUE(GetOverlappedResult(new_client, &ov, &n, TRUE));
    EXPECT_EQ(std::string(buffer, n), "new");
    for (HANDLE h : {ov.hEvent, listen.hEvent, new_client, server})
        CloseHandle(h);
}
