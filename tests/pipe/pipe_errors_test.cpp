// pipe_errors_test.cpp - the errors Windows gives when the other end of a pipe is absent,
// closed or disconnected, each test named after the rule it pins (docs/pipes.md).
#include "pipe_test_support.h"

using namespace pipe_test;

class PipeErrors : public PipeTest {};

// "CreateFile on a pipe name nobody created: ERROR_FILE_NOT_FOUND."
TEST_F(PipeErrors, OpeningAnAbsentPipeIsFileNotFound)
{
    EXPECT_EQ(Client(u"absent"), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
    // And once the file system is running, for a name it does not have.
    HANDLE server = Server(u"present");
    EXPECT_EQ(Client(u"absent"), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
    EXPECT_NE(FirstLine("no such pipe (STATUS_OBJECT_NAME_NOT_FOUND)"), "") << TraceDump();
    CloseHandle(server);
}

// "CreateFile when every instance has a client: ERROR_PIPE_BUSY."
TEST_F(PipeErrors, OpeningABusyPipeIsErrorPipeBusy)
{
    HANDLE server = Server(u"onlyone");
    HANDLE first = Client(u"onlyone");
    ASSERT_NE(first, INVALID_HANDLE_VALUE);
    EXPECT_EQ(Client(u"onlyone"), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_BUSY));
    EXPECT_NE(FirstLine("STATUS_PIPE_NOT_AVAILABLE"), "") << TraceDump();
    CloseHandle(first);
    CloseHandle(server);
}

// "ReadFile after the other end closed and the data is read: ERROR_BROKEN_PIPE
// (STATUS_PIPE_BROKEN); what was written before the close is still readable."
TEST_F(PipeErrors, ReadAfterTheOtherEndClosedIsBrokenPipeOnceTheDataIsRead)
{
    HANDLE server = Server(u"readbroken");
    HANDLE client = Client(u"readbroken");
    EXPECT_TRUE(Write(client, "last words"));
    CloseHandle(client);
    char buffer[32];
    DWORD n = 0;
    EXPECT_TRUE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "last words");
    EXPECT_FALSE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
    EXPECT_EQ(n, 0u);
    EXPECT_NE(FirstLine("STATUS_PIPE_BROKEN"), "") << TraceDump();
    CloseHandle(server);
}

// "The client's ReadFile after the server closed its handle: ERROR_BROKEN_PIPE."
TEST_F(PipeErrors, ClientReadAfterTheServerClosedIsBrokenPipe)
{
    HANDLE server = Server(u"serverleft");
    HANDLE client = Client(u"serverleft");
    CloseHandle(server);
    char buffer[8];
    DWORD n = 0;
    EXPECT_FALSE(ReadFile(client, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_BROKEN_PIPE));
    CloseHandle(client);
}

// "WriteFile after the other end closed: ERROR_NO_DATA (STATUS_PIPE_CLOSING, the pipe is
// being closed)."
TEST_F(PipeErrors, WriteAfterTheOtherEndClosedIsErrorNoData)
{
    HANDLE server = Server(u"writeclosing");
    HANDLE client = Client(u"writeclosing");
    CloseHandle(client);
    EXPECT_FALSE(Write(server, "anyone?"));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
    EXPECT_NE(FirstLine("STATUS_PIPE_CLOSING"), "") << TraceDump();
    CloseHandle(server);
}

// "ConnectNamedPipe after a client connected and left: ERROR_NO_DATA; DisconnectNamedPipe
// then makes the instance reusable."
TEST_F(PipeErrors, ConnectAfterTheClientCameAndWentIsErrorNoData)
{
    HANDLE server = Server(u"cameandwent");
    HANDLE client = Client(u"cameandwent");
    CloseHandle(client);
    EXPECT_FALSE(ConnectNamedPipe(server, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
    EXPECT_TRUE(DisconnectNamedPipe(server));
    // Disconnected: no client can connect until the server listens again.
    EXPECT_EQ(Client(u"cameandwent"), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_BUSY));
    CloseHandle(server);
}

// "The break is seen at IRP_MJ_CLEANUP (the last handle of the end closed), not before:
// a second handle to the client end keeps the pipe connected."
TEST_F(PipeErrors, TheOtherEndBreaksAtCleanupWhenItsLastHandleCloses)
{
    HANDLE server = Server(u"cleanup");
    HANDLE client = Client(u"cleanup");
    HANDLE copy = nullptr;
    ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), client, GetCurrentProcess(), &copy, 0, FALSE,
                                DUPLICATE_SAME_ACCESS));
    CloseHandle(client);
    EXPECT_TRUE(Write(server, "still there"));  // one handle left: no cleanup yet
    EXPECT_EQ(FirstLine("client end cleaned up"), "");
    CloseHandle(copy);
    EXPECT_TRUE(InOrder({"IRP_MJ_CLEANUP -> \\Device\\NamedPipe", "client end cleaned up"})) << TraceDump();
    EXPECT_FALSE(Write(server, "gone"));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
    CloseHandle(server);
}

// "After DisconnectNamedPipe the client's reads and writes fail with ERROR_PIPE_NOT_CONNECTED
// and the data not yet read is discarded."
TEST_F(PipeErrors, DisconnectedClientGetsErrorPipeNotConnected)
{
    HANDLE server = Server(u"cutoff");
    HANDLE client = Client(u"cutoff");
    EXPECT_TRUE(Write(server, "unread"));
    EXPECT_TRUE(DisconnectNamedPipe(server));
    char buffer[8];
    DWORD n = 0;
    EXPECT_FALSE(ReadFile(client, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_NOT_CONNECTED));
    EXPECT_FALSE(Write(client, "hello?"));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_NOT_CONNECTED));
    CloseHandle(client);
    CloseHandle(server);
}

// "A server end with no client yet: ReadFile fails with ERROR_PIPE_LISTENING."
TEST_F(PipeErrors, ReadBeforeAnyClientIsErrorPipeListening)
{
    HANDLE server = Server(u"lonely");
    char buffer[8];
    DWORD n = 0;
    EXPECT_FALSE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_LISTENING));
    CloseHandle(server);
}

// "PIPE_NOWAIT: a read with nothing to read fails at once with ERROR_NO_DATA, and
// ConnectNamedPipe with no client with ERROR_PIPE_LISTENING."
TEST_F(PipeErrors, NonblockingModeNeverWaits)
{
    HANDLE server = Server(u"nowait", PIPE_TYPE_BYTE | PIPE_NOWAIT);
    EXPECT_FALSE(ConnectNamedPipe(server, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_LISTENING));
    HANDLE client = Client(u"nowait");
    char buffer[8];
    DWORD n = 0;
    EXPECT_FALSE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_DATA));
    CloseHandle(client);
    CloseHandle(server);
}

// "A pipe name may hold backslashes after \\.\pipe\ (Windows' own
// \\.\pipe\Winsock2\CatalogChangeListener-... are such names)."
TEST_F(PipeErrors, PipeNamesMayContainBackslashes)
{
    HANDLE server = CreateNamedPipeW(W(u"\\\\.\\pipe\\a\\b"), PIPE_ACCESS_DUPLEX, 0, 1, 0, 0, 0, nullptr);
    ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
    HANDLE client = Client(u"A\\B");
    EXPECT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
    EXPECT_EQ(Client(u"a"), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
    CloseHandle(client);
    CloseHandle(server);
}
