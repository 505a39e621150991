// overlapped_test.cpp - the overlapped words of the command language run on a Session:
// `open ... overlapped`, named requests (`r = read|write|ioctl`), `wait`, `cancel`. Each
// test is named after the kernel32 / I/O manager rule it pins (docs/async-io.md):
// pending_timer.sys pends every read for 100 ms; toychild.sys holds IOCTL_TOYCHILD_HOLD
// until its device goes away (nothing else completes it).
#include <gtest/gtest.h>

#include "lang/lang_test_support.h"

using namespace iosim::lang;
using langtest::Script;

namespace {

bool Has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

const char* kPending = "load pending_timer.sys\n"
                       "p = open \\\\.\\PendingTimer access read overlapped\n";

// A toy bus with two children; o is an overlapped handle on child 1.
const char* kToyChild = "device declare ROOT\\IOSIM_TOYBUS function toybus\n"
                        "device declare TOYBUS\\CHILD function toychild\n"
                        "plug ROOT\\IOSIM_TOYBUS\n"
                        "o = open \"\\\\\\\\?\\\\TOYBUS#CHILD#01#{a4f3b2c1-7d6e-4f80-9a1b-2c3d4e5f6071}\" overlapped\n";

}  // namespace

// CreateFile with FILE_FLAG_OVERLAPPED: no FILE_SYNCHRONOUS_IO_* option, so the read the
// driver pends returns at once: FALSE, ERROR_IO_PENDING, STATUS_PENDING.
TEST(Overlapped, APendedRequestReturnsErrorIoPendingAtOnce)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "r = read p 16\n"
                    "expect status STATUS_PENDING\n"
                    "expect last-error ERROR_IO_PENDING\n"
                    "cancel r\n"
                    "wait r\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "CreateFile \\\\.\\PendingTimer (FILE_FLAG_OVERLAPPED) -> handle")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | ReadFile(p, 16 bytes, &r) -> FALSE, GetLastError() = 997 (ERROR_IO_PENDING); "
                             "status STATUS_PENDING (0x00000103)"))
        << s.All();
    // Nothing waited: no simulated time passed before the cancel.
    EXPECT_FALSE(Has(s.out(), "timer expired")) << s.All();
}

// GetOverlappedResult(bWait = TRUE): a real wait - the timer fires after 100 ms, its DPC
// completes the IRP, the kernel APC copies the bytes back and writes the OVERLAPPED.
TEST(Overlapped, WaitRunsTheSchedulerUntilTheRequestCompletes)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "r = read p 16\n"
                    "wait r\n"
                    "expect status STATUS_SUCCESS\n"
                    "expect bytes 7\n"
                    "expect data \"tick 1 \"\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "wait   | r waited 1000000 x 100ns of simulated time")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | GetOverlappedResultEx(p, &r, INFINITE) -> TRUE, 7 byte(s); status "
                             "STATUS_SUCCESS"))
        << s.All();
    // The requester's side ran in the script's thread, during the wait.
    EXPECT_TRUE(Has(s.out(), "runs a kernel APC")) << s.All();
}

// GetOverlappedResultEx with a timeout the request outlives: FALSE, WAIT_TIMEOUT; the
// OVERLAPPED still says STATUS_PENDING and a later wait gets the outcome.
TEST(Overlapped, AWaitThatTimesOutLeavesTheRequestOut)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "r = read p 16\n"
                    "wait r timeout 30ms\n"
                    "expect last-error WAIT_TIMEOUT\n"
                    "expect status STATUS_PENDING\n"
                    "wait r timeout 0ms\n"
                    "expect last-error ERROR_IO_INCOMPLETE\n"
                    "advance 70ms\n"
                    "wait r timeout 0ms\n"
                    "expect status STATUS_SUCCESS\n"
                    "expect data \"tick 1 \"\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "wait   | r waited 300000 x 100ns of simulated time")) << s.All();
    EXPECT_TRUE(Has(s.out(), "pending| r is still out")) << s.All();
}

// CancelIoEx(handle, &ov): the driver's cancel routine completes the IRP with
// STATUS_CANCELLED (ERROR_OPERATION_ABORTED); once done, CancelIoEx finds nothing.
TEST(Overlapped, CancelIoExCancelsOneRequest)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "r1 = read p 16\n"
                    "r2 = read p 16\n"
                    "cancel r1\n"
                    "expect status STATUS_SUCCESS\n"
                    "wait r1\n"
                    "expect status STATUS_CANCELLED\n"
                    "expect last-error ERROR_OPERATION_ABORTED\n"
                    "expect bytes 0\n"
                    "cancel r1\n"
                    "expect last-error ERROR_NOT_FOUND\n"
                    "expect status STATUS_NOT_FOUND\n"
                    "wait r2\n"
                    "expect status STATUS_SUCCESS\n"
                    "expect data \"tick 1 \"\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "cancel requested by CancelIoEx")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | CancelIoEx(p, &r1) -> TRUE")) << s.All();
}

// CancelIo(handle): every request the calling thread has out on the handle.
TEST(Overlapped, CancelIoCancelsTheThreadsRequestsOnTheHandle)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "r1 = read p 8\n"
                    "r2 = read p 8\n"
                    "cancel p\n"
                    "expect status STATUS_SUCCESS\n"
                    "wait r1\n"
                    "expect status STATUS_CANCELLED\n"
                    "wait r2\n"
                    "expect status STATUS_CANCELLED\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "result | CancelIo(p) -> TRUE")) << s.All();
}

// kernel32 without an OVERLAPPED on an asynchronous handle: NtReadFile needs a byte offset
// (STATUS_INVALID_PARAMETER without one); with one, kernel32 waits on the file handle.
TEST(Overlapped, AnUnnamedRequestOnAnOverlappedHandleWaitsOnTheHandle)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "read p 16\n"
                    "expect status STATUS_INVALID_PARAMETER\n"
                    "read p 16 offset 0\n"
                    "expect status STATUS_SUCCESS\n"
                    "expect data \"tick 1 \"\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "timer expired")) << s.All();
}

// A request that fails without pending never has its OVERLAPPED written: waiting for it
// is refused (it would never end) instead of hanging.
TEST(Overlapped, WaitingForARequestThatFailedAtOnceIsRefused)
{
    Script s;
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "w = write p \"x\"\n"
                    "expect status STATUS_ACCESS_DENIED\n"
                    "wait w\n"),
              Outcome::BadScript)
        << s.All();
    EXPECT_TRUE(Has(s.err(), "t.iosim:5:1: error: request 'w' failed at once (STATUS_ACCESS_DENIED (0xC0000022), at "))
        << s.All();
    EXPECT_TRUE(Has(s.err(), "kernel32 never writes its OVERLAPPED or sets its event, so a wait would never end"))
        << s.All();
}

// IRP_MJ_CLEANUP when the handle closes: the driver completes what the handle still has out.
TEST(Overlapped, ClosingTheHandleCancelsItsRequests)
{
    Script s;
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "r = read p 16\n"
                    "close p\n"
                    "wait r\n"
                    "expect status STATUS_CANCELLED\n"),
              Outcome::Ok)
        << s.All();
}

// A process that exits takes its requests (and their OVERLAPPEDs) with it.
TEST(Overlapped, ARequestOfAnExitedProcessCannotBeWaitedFor)
{
    Script s;
    EXPECT_EQ(s.Run("load pending_timer.sys\n"
                    "process app\n"
                    "p = open \\\\.\\PendingTimer access read overlapped\n"
                    "r = read p 16\n"
                    "exit app\n"
                    "wait r\n"),
              Outcome::BadScript)
        << s.All();
    EXPECT_TRUE(Has(s.err(), "t.iosim:6:1: error: request 'r' belonged to process 'app', which exited at ")) << s.All();
}

// The held request of pnp.iosim: toychild fails it with STATUS_NO_SUCH_DEVICE when the bus
// is surprise-removed; the OVERLAPPED says so.
TEST(Overlapped, ARequestHeldByTheDriverEndsWithTheSurpriseRemoval)
{
    Script s;
    EXPECT_EQ(s.Run(std::string(kToyChild) +
                    "held = ioctl o ctl 0x22 0x801 buffered any\n"
                    "expect status STATUS_PENDING\n"
                    "unplug ROOT\\IOSIM_TOYBUS surprise\n"
                    "wait held\n"
                    "expect status STATUS_NO_SUCH_DEVICE\n"
                    "close o\n"),
              Outcome::Ok)
        << s.All();
}

// A wait nothing can ever end is the scheduler's deadlock report (bug check 0xC4 with
// 0x1001), never a hang; with a timeout it is WAIT_TIMEOUT after that much simulated time.
TEST(Overlapped, AWaitNothingCanEndIsADeadlockReport)
{
    Script s;
    EXPECT_EQ(s.Run(std::string(kToyChild) +
                    "held = ioctl o ctl 0x22 0x801 buffered any\n"
                    "wait held timeout 5s\n"
                    "expect last-error WAIT_TIMEOUT\n"
                    "wait held\n"
                    "expect bugcheck DRIVER_VERIFIER_DETECTED_VIOLATION\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "held waited 50000000 x 100ns of simulated time")) << s.All();
    EXPECT_TRUE(Has(s.out(), "Deadlock: every thread is waiting")) << s.All();
}

// Completion knows the new words: request variables after wait, requests and handles after
// cancel, only overlapped handles after "REQ = read", and the open option.
TEST(Overlapped, CompletionOffersRequestsAndOverlappedHandles)
{
    Script s;
    ASSERT_EQ(s.Run(std::string(kPending) + "sync = open \\\\.\\PendingTimer access read\nreq1 = read p 8\n"),
              Outcome::Ok)
        << s.All();
    auto& session = s.session();
    EXPECT_EQ(session.complete("wait "), (std::vector<std::string>{"req1"}));
    EXPECT_EQ(session.complete("wait req1 "), (std::vector<std::string>{"timeout"}));
    EXPECT_EQ(session.complete("cancel "), (std::vector<std::string>{"p", "req1", "sync"}));
    EXPECT_EQ(session.complete("r2 = read "), (std::vector<std::string>{"p"}));
    EXPECT_EQ(session.complete("x = open \\\\.\\PendingTimer ov"), (std::vector<std::string>{"overlapped"}));
    EXPECT_EQ(session.complete("re"), (std::vector<std::string>{"read", "req1"}));
}

// A request still out has no bytes or data yet: the expectation says to wait first.
TEST(Overlapped, ExpectBytesOfARequestStillOutSaysToWaitFirst)
{
    Script s;
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "r = read p 16\n"
                    "expect bytes 7\n"),
              Outcome::BadScript)
        << s.All();
    EXPECT_TRUE(Has(s.err(), "t.iosim:4:1: error: 'expect bytes': request 'r' is still out (STATUS_PENDING, no bytes "
                             "yet); 'wait r' first"))
        << s.All();
}

// `advance`: the timers that come due run their DPCs at once (the DPC interrupt fires as
// soon as the processor is below DISPATCH_LEVEL), so the driver's DPC completes the read
// during the advance, not at the next wait.
TEST(Overlapped, AdvanceRunsTheDpcsOfTimersThatCameDue)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run(std::string(kPending) +
                    "r = read p 16\n"
                    "advance 100ms\n"
                    "expect trace contains \"completed: STATUS_SUCCESS (0x00000000), Information 7\"\n"
                    "wait r\n"
                    "expect data \"tick 1 \"\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "wait   | r waited 0 x 100ns of simulated time")) << s.All();
}
