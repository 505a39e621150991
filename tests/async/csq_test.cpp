// csq_test.cpp - cancel-safe IRP queues (sim_io_manager/csq.cpp) through the csqread sample
// driver (drivers/csqread): IoCsqInsertIrpEx and its callback's refusal, IoCsqRemoveNextIrp
// from a system thread, IoCsqRemoveIrp by context before and after a cancel, the library's
// cancel routine (CancelIo, CancelIoEx, a process that exits), IRP_MJ_CLEANUP draining by
// file object, and an unload that leaves nothing behind. Plus the csq_client sample app.
#include "async_test_support.h"
#include "csqread_public.h"

using namespace async_test;

namespace {

class Csq : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        std::string message;
        ASSERT_EQ(machine.load_driver("csqread", "csqread.sys", &message), STATUS_SUCCESS) << message;
    }

    HANDLE OpenCsq(bool overlapped)
    {
        return CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\CsqRead"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, nullptr);
    }

    CSQREAD_COUNTS Counts()
    {
        HANDLE h = OpenCsq(false);
        CSQREAD_COUNTS counts{};
        DWORD bytes = 0;
        EXPECT_TRUE(DeviceIoControl(h, IOCTL_CSQREAD_COUNT, nullptr, 0, &counts, sizeof(counts), &bytes, nullptr));
        CloseHandle(h);
        return counts;
    }

    void Write(const char* text)
    {
        HANDLE h = OpenCsq(false);
        DWORD written = 0;
        EXPECT_TRUE(WriteFile(h, text, static_cast<DWORD>(strlen(text)), &written, nullptr));
        CloseHandle(h);
    }

    // Starts an overlapped read that the driver queues.
    void StartRead(HANDLE h, OVERLAPPED* ov, char* buffer, DWORD size)
    {
        *ov = OVERLAPPED{};
        ov->hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
        EXPECT_FALSE(ReadFile(h, buffer, size, nullptr, ov));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    }
};

}  // namespace

// "IoCsqInsertIrp(Ex) marks the IRP pending; the driver returns STATUS_PENDING and its
// system thread completes it later with IoCsqRemoveNextIrp, oldest first."
TEST_F(Csq, QueuedReadsAreCompletedOldestFirstByTheSystemThread)
{
    HANDLE h = OpenCsq(true);
    OVERLAPPED ov[2];
    char buffers[2][32] = {};
    StartRead(h, &ov[0], buffers[0], sizeof(buffers[0]));
    StartRead(h, &ov[1], buffers[1], sizeof(buffers[1]));
    EXPECT_EQ(Counts().QueuedReads, 2u);
    Write("one");
    Write("two");
    DWORD n = 0;
    ASSERT_TRUE(GetOverlappedResult(h, &ov[0], &n, TRUE)) << GetLastError();
    EXPECT_EQ(std::string(buffers[0], n), "one");
    ASSERT_TRUE(GetOverlappedResult(h, &ov[1], &n, TRUE)) << GetLastError();
    EXPECT_EQ(std::string(buffers[1], n), "two");
    EXPECT_NE(FirstLine("queued in a cancel-safe queue (marked pending, cancelable)"), "") << TraceDump();
    EXPECT_NE(FirstLine("removed from its cancel-safe queue (IoCsqRemoveNextIrp)"), "") << TraceDump();
    CSQREAD_COUNTS counts = Counts();
    EXPECT_EQ(counts.QueuedReads, 0u);
    EXPECT_EQ(counts.Completed, 2u);
    CloseHandle(ov[0].hEvent);
    CloseHandle(ov[1].hEvent);
    CloseHandle(h);
}

// "With IoCsqInitializeEx, IoCsqInsertIrpEx returns what CsqInsertIrpEx returned; a failure
// leaves the IRP unqueued and not pending, so the call fails at once."
TEST_F(Csq, InsertIrpExReturnsTheCallbacksFailureAndTheIrpIsNotQueued)
{
    HANDLE h = OpenCsq(true);
    OVERLAPPED ov[CSQREAD_MAX_READS];
    char buffers[CSQREAD_MAX_READS][32];
    for (int i = 0; i < CSQREAD_MAX_READS; ++i)
        StartRead(h, &ov[i], buffers[i], sizeof(buffers[i]));
    OVERLAPPED extra{};
    extra.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    char buffer[32];
    EXPECT_FALSE(ReadFile(h, buffer, sizeof(buffer), nullptr, &extra));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_SYSTEM_RESOURCES));
    EXPECT_EQ(WaitForSingleObject(extra.hEvent, 0), static_cast<DWORD>(WAIT_TIMEOUT));  // a synchronous failure
    EXPECT_EQ(Counts().QueuedReads, static_cast<ULONG>(CSQREAD_MAX_READS));
    EXPECT_NE(FirstLine("not queued: CsqInsertIrpEx returned 0xC000009A"), "") << TraceDump();
    EXPECT_TRUE(CancelIoEx(h, nullptr));
    for (auto& o : ov) {
        DWORD n = 1;
        EXPECT_FALSE(GetOverlappedResult(h, &o, &n, TRUE));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
        CloseHandle(o.hEvent);
    }
    CloseHandle(extra.hEvent);
    CloseHandle(h);
    EXPECT_TRUE(system().findings().empty()) << FindingsDump();
}

// "The library's cancel routine removes the IRP under the queue's lock and calls
// CsqCompleteCanceledIrp; CancelIo ends the read with ERROR_OPERATION_ABORTED."
TEST_F(Csq, CancelIoRunsTheLibrarysCancelRoutineWhichCallsCsqCompleteCanceledIrp)
{
    HANDLE h = OpenCsq(true);
    OVERLAPPED ov;
    char buffer[32];
    StartRead(h, &ov, buffer, sizeof(buffer));
    EXPECT_TRUE(CancelIo(h));
    DWORD n = 1;
    EXPECT_FALSE(GetOverlappedResult(h, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(InOrder({"cancel requested by CancelIo", "IoCancelIrp: calling cancel routine",
                         "cancelled in its cancel-safe queue: removed, CsqCompleteCanceledIrp called",
                         "completed: STATUS_CANCELLED"}))
        << TraceDump();
    CSQREAD_COUNTS counts = Counts();
    EXPECT_EQ(counts.QueuedReads, 0u);
    EXPECT_EQ(counts.Cancelled, 1u);
    // The message written afterwards waits: no read is queued any more.
    Write("late");
    EXPECT_EQ(Counts().Messages, 1u);
    CloseHandle(ov.hEvent);
    CloseHandle(h);
}

// "IoCsqRemoveIrp with the IRP's IO_CSQ_IRP_CONTEXT takes that IRP out of the queue."
TEST_F(Csq, RemoveIrpByContextTakesTheParkedIrp)
{
    HANDLE h = OpenCsq(true);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_CSQREAD_PARK, nullptr, 0, nullptr, 0, nullptr, &ov));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    HANDLE other = OpenCsq(false);
    DWORD bytes = 0;
    EXPECT_TRUE(DeviceIoControl(other, IOCTL_CSQREAD_UNPARK, nullptr, 0, nullptr, 0, &bytes, nullptr));
    DWORD n = 0;
    EXPECT_TRUE(GetOverlappedResult(h, &ov, &n, TRUE)) << GetLastError();
    EXPECT_NE(FirstLine("removed from its cancel-safe queue (IoCsqRemoveIrp)"), "") << TraceDump();
    CloseHandle(other);
    CloseHandle(ov.hEvent);
    CloseHandle(h);
}

// "Once the IRP is cancelled, IoCsqRemoveIrp with its context returns NULL: the cancel
// routine cleared the context."
TEST_F(Csq, RemoveIrpByContextReturnsNullOnceTheIrpWasCancelled)
{
    HANDLE h = OpenCsq(true);
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_FALSE(DeviceIoControl(h, IOCTL_CSQREAD_PARK, nullptr, 0, nullptr, 0, nullptr, &ov));
    EXPECT_TRUE(CancelIoEx(h, &ov));
    DWORD n = 0;
    EXPECT_FALSE(GetOverlappedResult(h, &ov, &n, TRUE));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    HANDLE other = OpenCsq(false);
    DWORD bytes = 0;
    EXPECT_FALSE(DeviceIoControl(other, IOCTL_CSQREAD_UNPARK, nullptr, 0, nullptr, 0, &bytes, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
    CloseHandle(other);
    CloseHandle(ov.hEvent);
    CloseHandle(h);
}

// "IoCsqRemoveNextIrp's PeekContext selects: IRP_MJ_CLEANUP drains only the closing file's
// requests."
TEST_F(Csq, CleanupDrainsOnlyTheClosingFilesReads)
{
    HANDLE a = OpenCsq(true);
    HANDLE b = OpenCsq(true);
    OVERLAPPED ova, ovb;
    char bufa[32], bufb[32] = {};
    StartRead(a, &ova, bufa, sizeof(bufa));
    StartRead(b, &ovb, bufb, sizeof(bufb));
    CloseHandle(a);
    EXPECT_EQ(WaitForSingleObject(ova.hEvent, INFINITE), static_cast<DWORD>(WAIT_OBJECT_0));
    EXPECT_EQ(static_cast<NTSTATUS>(ova.Internal), STATUS_CANCELLED);
    EXPECT_EQ(Counts().QueuedReads, 1u);
    Write("for b");
    DWORD n = 0;
    ASSERT_TRUE(GetOverlappedResult(b, &ovb, &n, TRUE)) << GetLastError();
    EXPECT_EQ(std::string(bufb, n), "for b");
    CloseHandle(ova.hEvent);
    CloseHandle(ovb.hEvent);
    CloseHandle(b);
}

// "A process that exits cancels its queued reads through the library's cancel routine; the
// driver then unloads cleanly: its thread stopped, nothing outstanding (no bug check 0xCE)."
TEST_F(Csq, ProcessExitCancelsQueuedReadsAndTheUnloadLeavesNothingOutstanding)
{
    HANDLE h = OpenCsq(true);
    OVERLAPPED ov[3];
    char buffers[3][32];
    for (int i = 0; i < 3; ++i)
        StartRead(h, &ov[i], buffers[i], sizeof(buffers[i]));
    in_app.reset();
    machine.end_process(app);
    app = nullptr;
    EXPECT_FALSE(system().dead());
    std::string message;
    EXPECT_EQ(machine.unload_driver("csqread", &message), STATUS_SUCCESS) << message;
    EXPECT_FALSE(system().dead());
    EXPECT_TRUE(InOrder({"cancel requested by process exit", "cancelled in its cancel-safe queue"})) << TraceDump();
    EXPECT_TRUE(system().findings().empty()) << FindingsDump();
}

TEST(CsqSample, TwoThreadsReadFileExCompletionsAndACancelIo)
{
    iosim::Machine machine{iosim::Machine::Options{.trace = true,
                                                   .app_output = [](uint32_t, const std::string&, std::string_view) {},
                                                   .debug_output = [](std::string_view, std::string_view) {}}};
    std::string message;
    ASSERT_EQ(machine.load_driver("csqread", "csqread.sys", &message), STATUS_SUCCESS) << message;
    auto result = machine.run_app("csq_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("[100 ms] read 0 completed: 13 byte(s): \"first message\""), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("[200 ms] read 1 completed: 14 byte(s): \"second message\""), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("read 2 ended with error 995 (ERROR_OPERATION_ABORTED)"), std::string::npos)
        << result.output;
    EXPECT_TRUE(machine.system().findings().empty());
    std::string message2;
    EXPECT_EQ(machine.unload_driver("csqread", &message2), STATUS_SUCCESS) << message2;
    EXPECT_TRUE(machine.system().findings().empty());
}
