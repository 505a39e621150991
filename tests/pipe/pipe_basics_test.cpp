// pipe_basics_test.cpp - named pipes from an app: the IRPs, byte and message modes,
// instances, PeekNamedPipe, WaitNamedPipe, and the names behind \\.\pipe\.
#include <cstring>

#include "ob/namespace.h"
#include "ob/object.h"
#include "pipe_test_support.h"

using namespace pipe_test;

class PipeBasics : public PipeTest {};

// "CreateNamedPipe is IRP_MJ_CREATE_NAMED_PIPE to \Device\NamedPipe (reached through
// \??\pipe), a client's CreateFile an IRP_MJ_CREATE, and ReadFile/WriteFile IRP_MJ_READ/WRITE."
TEST_F(PipeBasics, EachCallIsAnIrpToTheNamedPipeFileSystem)
{
    HANDLE server = Server(u"irps");
    ASSERT_NE(server, INVALID_HANDLE_VALUE) << GetLastError();
    HANDLE client = Client(u"irps");
    ASSERT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
    EXPECT_TRUE(Write(client, "ping"));
    char buffer[8] = {};
    DWORD n = 0;
    EXPECT_TRUE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(n, 4u);
    EXPECT_EQ(std::string(buffer, n), "ping");
    EXPECT_TRUE(InOrder({"IRP_MJ_CREATE_NAMED_PIPE -> \\Device\\NamedPipe [\\FileSystem\\Npfs]",
                         "IRP_MJ_CREATE -> \\Device\\NamedPipe", "IRP_MJ_WRITE -> \\Device\\NamedPipe",
                         "IRP_MJ_READ -> \\Device\\NamedPipe"}))
        << TraceDump();
    CloseHandle(client);
    CloseHandle(server);
}

// "The pipe's name reaches the file system as the file object's remaining name: \x."
TEST_F(PipeBasics, PipeLinkNamesTheNamedPipeDevice)
{
    HANDLE server = Server(u"LinkName");
    ASSERT_NE(server, INVALID_HANDLE_VALUE);
    auto found = machine.system().ns().lookup(u"\\??\\pipe\\LinkName");
    EXPECT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.remaining, u"\\LinkName");
    if (found.object != nullptr)
        iosim::ob::dereference(found.object);
    EXPECT_NE(FirstLine("\\Device\\NamedPipe\\LinkName instance 1 created"), "") << TraceDump();
    CloseHandle(server);
}

// "Pipe names are not case sensitive."
TEST_F(PipeBasics, PipeNamesAreNotCaseSensitive)
{
    HANDLE server = Server(u"MixedCase");
    ASSERT_NE(server, INVALID_HANDLE_VALUE);
    HANDLE client = Client(u"mixedcase");
    EXPECT_NE(client, INVALID_HANDLE_VALUE) << GetLastError();
    CloseHandle(client);
    CloseHandle(server);
}

// "Byte mode: data is a stream; a read takes what is there, up to its buffer, across writes."
TEST_F(PipeBasics, ByteModeReadsAcrossWriteBoundaries)
{
    HANDLE server = Server(u"bytes");
    HANDLE client = Client(u"bytes");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    EXPECT_TRUE(Write(server, "abc"));
    EXPECT_TRUE(Write(server, "defg"));
    char buffer[5] = {};
    DWORD n = 0;
    EXPECT_TRUE(ReadFile(client, buffer, 5, &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "abcde");
    EXPECT_TRUE(ReadFile(client, buffer, 5, &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "fg");
    CloseHandle(client);
    CloseHandle(server);
}

// "Message mode: a read takes one message at most, whatever the buffer's size."
TEST_F(PipeBasics, MessageModeReadTakesOneMessage)
{
    HANDLE server = Server(u"messages", PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE);
    HANDLE client = Client(u"messages");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    EXPECT_TRUE(Write(client, "first"));
    EXPECT_TRUE(Write(client, "second"));
    char buffer[64] = {};
    DWORD n = 0;
    EXPECT_TRUE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "first");
    EXPECT_TRUE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "second");
    CloseHandle(client);
    CloseHandle(server);
}

// "Message mode, buffer too small: FALSE with ERROR_MORE_DATA and the bytes that fit; the
// rest of the message is read next."
TEST_F(PipeBasics, ShortReadOfAMessageGivesErrorMoreDataAndTheRestStaysReadable)
{
    HANDLE server = Server(u"moredata", PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE);
    HANDLE client = Client(u"moredata");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    EXPECT_TRUE(Write(client, "0123456789"));
    char buffer[4] = {};
    DWORD n = 0;
    EXPECT_FALSE(ReadFile(server, buffer, 4, &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
    EXPECT_EQ(n, 4u);
    EXPECT_EQ(std::string(buffer, n), "0123");
    char rest[16] = {};
    EXPECT_TRUE(ReadFile(server, rest, sizeof(rest), &n, nullptr));
    EXPECT_EQ(std::string(rest, n), "456789");
    EXPECT_NE(FirstLine("STATUS_BUFFER_OVERFLOW"), "") << TraceDump();
    CloseHandle(client);
    CloseHandle(server);
}

// "A message-type pipe read in byte mode ignores message boundaries."
TEST_F(PipeBasics, MessagePipeInByteReadModeReadsAsAStream)
{
    HANDLE server = Server(u"msgbytes", PIPE_TYPE_MESSAGE | PIPE_READMODE_BYTE);
    HANDLE client = Client(u"msgbytes");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    EXPECT_TRUE(Write(client, "ab"));
    EXPECT_TRUE(Write(client, "cd"));
    char buffer[8] = {};
    DWORD n = 0;
    EXPECT_TRUE(ReadFile(server, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "abcd");
    CloseHandle(client);
    CloseHandle(server);
}

// "A byte-type pipe cannot be read in message mode: ERROR_INVALID_PARAMETER."
TEST_F(PipeBasics, BytePipeInMessageReadModeIsInvalidParameter)
{
    EXPECT_EQ(Server(u"badmode", PIPE_TYPE_BYTE | PIPE_READMODE_MESSAGE), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

// "nMaxInstances bounds the instances: one more CreateNamedPipe fails with ERROR_PIPE_BUSY."
TEST_F(PipeBasics, CreatingMoreInstancesThanTheMaximumFailsWithErrorPipeBusy)
{
    HANDLE a = Server(u"two", PIPE_TYPE_BYTE, 2);
    HANDLE b = Server(u"two", PIPE_TYPE_BYTE, 2);
    EXPECT_NE(a, INVALID_HANDLE_VALUE);
    EXPECT_NE(b, INVALID_HANDLE_VALUE);
    EXPECT_EQ(Server(u"two", PIPE_TYPE_BYTE, 2), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_BUSY));
    CloseHandle(b);  // an instance goes: there is room for one again
    HANDLE c = Server(u"two", PIPE_TYPE_BYTE, 2);
    EXPECT_NE(c, INVALID_HANDLE_VALUE);
    CloseHandle(c);
    CloseHandle(a);
}

// "PIPE_UNLIMITED_INSTANCES: no limit."
TEST_F(PipeBasics, UnlimitedInstances)
{
    std::vector<HANDLE> servers;
    for (int i = 0; i < 20; ++i) {
        servers.push_back(Server(u"many", PIPE_TYPE_BYTE, PIPE_UNLIMITED_INSTANCES));
        EXPECT_NE(servers.back(), INVALID_HANDLE_VALUE) << i;
    }
    for (HANDLE h : servers)
        CloseHandle(h);
}

// "nMaxInstances 0 or above PIPE_UNLIMITED_INSTANCES: ERROR_INVALID_PARAMETER."
TEST_F(PipeBasics, MaxInstancesOutOfRangeIsInvalidParameter)
{
    EXPECT_EQ(Server(u"zero", PIPE_TYPE_BYTE, 0), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    EXPECT_EQ(Server(u"big", PIPE_TYPE_BYTE, 256), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

// "FILE_FLAG_FIRST_PIPE_INSTANCE when the pipe exists: ERROR_ACCESS_DENIED."
TEST_F(PipeBasics, FirstPipeInstanceFlagOnAnExistingPipeIsAccessDenied)
{
    HANDLE a = Server(u"first", PIPE_TYPE_BYTE, 2);
    ASSERT_NE(a, INVALID_HANDLE_VALUE);
    EXPECT_EQ(Server(u"first", PIPE_TYPE_BYTE, 2, false, PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE),
              INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    CloseHandle(a);
}

// "Each client connects to a different listening instance; with all connected: ERROR_PIPE_BUSY."
TEST_F(PipeBasics, ClientsTakeListeningInstancesThenGetErrorPipeBusy)
{
    HANDLE a = Server(u"busy", PIPE_TYPE_BYTE, 2);
    HANDLE b = Server(u"busy", PIPE_TYPE_BYTE, 2);
    HANDLE c1 = Client(u"busy");
    HANDLE c2 = Client(u"busy");
    EXPECT_NE(c1, INVALID_HANDLE_VALUE);
    EXPECT_NE(c2, INVALID_HANDLE_VALUE);
    EXPECT_EQ(Client(u"busy"), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_BUSY));
    // Each instance has its own data.
    EXPECT_TRUE(Write(a, "to-1"));
    EXPECT_TRUE(Write(b, "to-2"));
    char buffer[8];
    DWORD n = 0;
    EXPECT_TRUE(ReadFile(c2, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "to-2");
    EXPECT_TRUE(ReadFile(c1, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "to-1");
    for (HANDLE h : {c1, c2, a, b})
        CloseHandle(h);
}

// "ConnectNamedPipe after the client connected: FALSE with ERROR_PIPE_CONNECTED (a good connection)."
TEST_F(PipeBasics, ConnectAfterTheClientConnectedGivesErrorPipeConnected)
{
    HANDLE server = Server(u"early");
    HANDLE client = Client(u"early");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    EXPECT_FALSE(ConnectNamedPipe(server, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_PIPE_CONNECTED));
    EXPECT_NE(FirstLine("IRP_MJ_FILE_SYSTEM_CONTROL -> \\Device\\NamedPipe"), "") << TraceDump();
    EXPECT_TRUE(Write(client, "x"));
    CloseHandle(client);
    CloseHandle(server);
}

// "PeekNamedPipe copies without taking, and reports bytes available and bytes left in the message."
TEST_F(PipeBasics, PeekReportsCountsWithoutTakingTheData)
{
    HANDLE server = Server(u"peek", PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE);
    HANDLE client = Client(u"peek");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    DWORD read = 9, avail = 9, left = 9;
    EXPECT_TRUE(PeekNamedPipe(server, nullptr, 0, &read, &avail, &left));
    EXPECT_EQ(avail, 0u);  // nothing yet, and PeekNamedPipe never waits
    EXPECT_TRUE(Write(client, "hello"));
    EXPECT_TRUE(Write(client, "world!"));
    char buffer[3] = {};
    EXPECT_TRUE(PeekNamedPipe(server, buffer, sizeof(buffer), &read, &avail, &left));
    EXPECT_EQ(read, 3u);
    EXPECT_EQ(std::string(buffer, 3), "hel");
    EXPECT_EQ(avail, 11u);
    EXPECT_EQ(left, 2u);  // of "hello"
    char all[16] = {};
    DWORD n = 0;
    EXPECT_TRUE(ReadFile(server, all, sizeof(all), &n, nullptr));
    EXPECT_EQ(std::string(all, n), "hello");
    EXPECT_NE(FirstLine("IRP_MJ_FILE_SYSTEM_CONTROL"), "");
    CloseHandle(client);
    CloseHandle(server);
}

// "PeekNamedPipe on a byte pipe: bytes left in the message is zero."
TEST_F(PipeBasics, PeekOnABytePipeReportsNoMessage)
{
    HANDLE server = Server(u"peekbytes");
    HANDLE client = Client(u"peekbytes");
    EXPECT_TRUE(Write(server, "abc"));
    EXPECT_TRUE(Write(server, "de"));
    char buffer[8] = {};
    DWORD read = 0, avail = 0, left = 7;
    EXPECT_TRUE(PeekNamedPipe(client, buffer, sizeof(buffer), &read, &avail, &left));
    EXPECT_EQ(read, 5u);
    EXPECT_EQ(avail, 5u);
    EXPECT_EQ(left, 0u);
    CloseHandle(client);
    CloseHandle(server);
}

// "WaitNamedPipe with an instance listening: TRUE at once."
TEST_F(PipeBasics, WaitNamedPipeSucceedsWhenAnInstanceListens)
{
    HANDLE server = Server(u"waitok");
    EXPECT_TRUE(WaitNamedPipeW(W(u"\\\\.\\pipe\\waitok"), 1000));
    EXPECT_TRUE(InOrder({"IRP_MJ_CREATE -> \\Device\\NamedPipe", "IRP_MJ_FILE_SYSTEM_CONTROL -> \\Device\\NamedPipe"}))
        << TraceDump();
    CloseHandle(server);
}

// "WaitNamedPipe when every instance is busy: FALSE with ERROR_SEM_TIMEOUT after the timeout."
TEST_F(PipeBasics, WaitNamedPipeTimesOutWithErrorSemTimeout)
{
    HANDLE server = Server(u"waitbusy");
    HANDLE client = Client(u"waitbusy");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    ULONGLONG before = GetTickCount64();
    EXPECT_FALSE(WaitNamedPipeW(W(u"\\\\.\\pipe\\waitbusy"), 200));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SEM_TIMEOUT));
    EXPECT_GE(GetTickCount64() - before, 200u);  // simulated time
    EXPECT_NE(FirstLine("timed out (STATUS_IO_TIMEOUT)"), "") << TraceDump();
    CloseHandle(client);
    CloseHandle(server);
}

// "WaitNamedPipe on a pipe that does not exist: ERROR_FILE_NOT_FOUND."
TEST_F(PipeBasics, WaitNamedPipeOnAnAbsentPipeIsFileNotFound)
{
    HANDLE other = Server(u"someother");  // the file system runs; the name does not exist
    EXPECT_FALSE(WaitNamedPipeW(W(u"\\\\.\\pipe\\nosuchpipe"), 100));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
    CloseHandle(other);
}

namespace {

struct WaitCall {
    BOOL result = FALSE;
    DWORD error = 0;
};

DWORD WINAPI WaitForever(LPVOID param)
{
    auto* call = static_cast<WaitCall*>(param);
    call->result = WaitNamedPipeW(W(u"\\\\.\\pipe\\waitlater"), NMPWAIT_WAIT_FOREVER);
    call->error = GetLastError();
    return 0;
}

}  // namespace

// "A pended WaitNamedPipe returns when an instance starts listening (a new one here)."
TEST_F(PipeBasics, PendedWaitNamedPipeEndsWhenAnInstanceListens)
{
    HANDLE first = Server(u"waitlater", PIPE_TYPE_BYTE, 2);
    HANDLE client = Client(u"waitlater");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    WaitCall call;
    HANDLE thread = CreateThread(nullptr, 0, WaitForever, &call, 0, nullptr);
    Sleep(50);  // simulated: the other thread runs and pends its wait
    EXPECT_NE(FirstLine("every instance is busy; waiting"), "") << TraceDump();
    HANDLE second = Server(u"waitlater", PIPE_TYPE_BYTE, 2);
    EXPECT_EQ(WaitForSingleObject(thread, INFINITE), WAIT_OBJECT_0);
    EXPECT_TRUE(call.result) << call.error;
    CloseHandle(thread);
    for (HANDLE h : {client, first, second})
        CloseHandle(h);
}

// "The ANSI forms take the same names."
TEST_F(PipeBasics, AnsiFormsWork)
{
    HANDLE server = CreateNamedPipeA("\\\\.\\pipe\\ansi", PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 0, 0, 0, nullptr);
    ASSERT_NE(server, INVALID_HANDLE_VALUE);
    EXPECT_TRUE(WaitNamedPipeA("\\\\.\\pipe\\ansi", NMPWAIT_USE_DEFAULT_WAIT));
    HANDLE client = CreateFileA("\\\\.\\pipe\\ansi", GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    EXPECT_NE(client, INVALID_HANDLE_VALUE);
    CloseHandle(client);
    CloseHandle(server);
}

// "An inbound pipe: the server only reads, the client only writes; a client asking to read
// is refused (ERROR_ACCESS_DENIED)."
TEST_F(PipeBasics, InboundPipeRefusesAReadingClient)
{
    HANDLE server = Server(u"inbound", PIPE_TYPE_BYTE, 2, false, PIPE_ACCESS_INBOUND);
    ASSERT_NE(server, INVALID_HANDLE_VALUE);
    EXPECT_EQ(Client(u"inbound"), INVALID_HANDLE_VALUE);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    HANDLE writer = Client(u"inbound", false, GENERIC_WRITE);
    ASSERT_NE(writer, INVALID_HANDLE_VALUE) << GetLastError();
    EXPECT_TRUE(Write(writer, "in"));
    EXPECT_FALSE(Write(server, "out"));  // the server end has no write access
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    CloseHandle(writer);
    CloseHandle(server);
}

// "SetNamedPipeHandleState(PIPE_READMODE_MESSAGE) on a client of a message-type pipe makes its
// reads message reads (ERROR_MORE_DATA for a short one); it is IRP_MJ_SET_INFORMATION."
TEST_F(PipeBasics, SetNamedPipeHandleStateSwitchesAClientToMessageReads)
{
    HANDLE server = Server(u"setmode", PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE);
    HANDLE client = Client(u"setmode");
    ASSERT_NE(client, INVALID_HANDLE_VALUE);
    DWORD mode = PIPE_READMODE_MESSAGE;
    EXPECT_TRUE(SetNamedPipeHandleState(client, &mode, nullptr, nullptr)) << GetLastError();
    EXPECT_NE(FirstLine("IRP_MJ_SET_INFORMATION -> \\Device\\NamedPipe"), "") << TraceDump();
    EXPECT_TRUE(Write(server, "one message"));
    EXPECT_TRUE(Write(server, "two"));
    char buffer[3];
    DWORD n = 0;
    EXPECT_FALSE(ReadFile(client, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MORE_DATA));
    char rest[32];
    EXPECT_TRUE(ReadFile(client, rest, sizeof(rest), &n, nullptr));
    EXPECT_EQ(std::string(rest, n), " message");  // the rest of the first message only, not "two"
    CloseHandle(client);
    CloseHandle(server);
}

// "Message read mode on a byte-type pipe: ERROR_INVALID_PARAMETER."
TEST_F(PipeBasics, SetNamedPipeHandleStateRefusesMessageModeOnABytePipe)
{
    HANDLE server = Server(u"setbytes");
    HANDLE client = Client(u"setbytes");
    DWORD mode = PIPE_READMODE_MESSAGE;
    EXPECT_FALSE(SetNamedPipeHandleState(client, &mode, nullptr, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    CloseHandle(client);
    CloseHandle(server);
}
