// matrix_test.cpp - the requester-side matrix: what a Win32 caller sees for every
// combination of
//   what the dispatch routine returns  {success, error, STATUS_PENDING}
//   the final IoStatus.Status          {success, warning (STATUS_BUFFER_OVERFLOW), error}
//   whether the IRP was pended         {IoMarkIrpPending + completed later by a timer DPC, completed in dispatch}
//   the handle                         {synchronous, FILE_FLAG_OVERLAPPED with an OVERLAPPED + event}
// asserting the Win32 return value and GetLastError, whether the IO_STATUS_BLOCK (the
// OVERLAPPED's Internal/InternalHigh) was written, whether the event was set (the
// OVERLAPPED's event; the file object's for a synchronous handle), and whether buffered
// output was copied back.
//
// The expectations are Windows' rules, written out in Expect() (IopCompleteRequest and
// kernel32):
//   copy-back:  the final status is not an error (success or warning);
//   write-back (IO_STATUS_BLOCK, caller's event, or the file object's event):
//               the final status is not an error, or it is an error of a pended request on
//               an asynchronous handle; a pended error on a synchronous handle sets only the
//               file object's event (FinalStatus); an error not pended writes and sets nothing;
//   the service returns the dispatch routine's status, except that a synchronous handle
//               waits for a pended request and returns its final status;
//   kernel32:   TRUE only for a success status that is not STATUS_PENDING; the error is
//               RtlNtStatusToDosError(status) (ERROR_IO_PENDING, ERROR_MORE_DATA, ...);
//               bytes: a synchronous call reports Information unless the status is an
//               error; an overlapped call reports InternalHigh only when it returns TRUE.
// The rows where the driver breaks the pending protocol (STATUS_PENDING without
// IoMarkIrpPending, or IoMarkIrpPending with another return value) also expect the report
// (PENDING_NOT_MARKED / PENDING_NOT_RETURNED); iosim then finishes the request anyway (on
// Windows such a request can hang its caller). A dispatch that completes with one status
// and returns another expects DISPATCH_STATUS_MISMATCH (Verifier I/O error 0x224).
#include <tuple>

#include "async_test_support.h"

using namespace async_test;

namespace {

enum class Ret { Success, Error, Pending };
enum class Final { Success, Warning, Error };
enum class Handle { Synchronous, Overlapped };

constexpr NTSTATUS kError = STATUS_INVALID_PARAMETER;  // ERROR_INVALID_PARAMETER
constexpr NTSTATUS kWarning = STATUS_BUFFER_OVERFLOW;  // ERROR_MORE_DATA
constexpr ULONG kInformation = 8;
constexpr ULONG_PTR kUntouchedHigh = 0x2222;

NTSTATUS status_of(Ret r) { return r == Ret::Success ? STATUS_SUCCESS : r == Ret::Error ? kError : STATUS_PENDING; }
NTSTATUS status_of(Final f) { return f == Final::Success ? STATUS_SUCCESS : f == Final::Warning ? kWarning : kError; }

using Row = std::tuple<Ret, Final, bool, Handle>;

struct Expected {
    NTSTATUS service;       // what the system service returns
    BOOL win32;             // DeviceIoControl's return value
    DWORD error;            // GetLastError when it returns FALSE
    DWORD bytes;            // *lpBytesReturned
    bool iosb_written;      // the IO_STATUS_BLOCK (OVERLAPPED) got the final status
    bool event_set;         // the OVERLAPPED's event / the file object's event
    bool copied;            // output copied back
    const char* finding;    // the report expected, or nullptr
};

Expected Expect(const Row& row)
{
    auto [ret, fin, pended, handle] = row;
    NTSTATUS r = status_of(ret), f = status_of(fin);
    bool sync = handle == Handle::Synchronous;
    Expected e{};
    bool write_back = !NT_ERROR(f) || (pended && !sync);
    e.copied = !NT_ERROR(f);
    e.iosb_written = write_back;
    e.event_set = sync ? (write_back || pended) : write_back;
    if (!pended)
        e.service = r == STATUS_PENDING ? (sync ? f : STATUS_PENDING) : r;
    else
        e.service = sync ? f : r;
    e.win32 = NT_SUCCESS(e.service) && e.service != STATUS_PENDING;
    e.error = e.win32 ? 0 : RtlNtStatusToDosError(e.service);
    if (sync) {
        e.bytes = !NT_ERROR(e.service) && e.service != STATUS_PENDING && write_back ? kInformation : 0;
    } else {
        // InternalHigh as it stands when DeviceIoControl returns: written already for a
        // request finished inline, not yet for one still pending.
        bool written_by_return = write_back && !pended;
        e.bytes = e.win32 ? (written_by_return ? kInformation : static_cast<DWORD>(kUntouchedHigh)) : 0;
    }
    if (r == STATUS_PENDING && !pended)
        e.finding = "PENDING_NOT_MARKED";
    else if (r != STATUS_PENDING && pended)
        e.finding = "PENDING_NOT_RETURNED";
    else if (!pended && r != f)
        e.finding = "DISPATCH_STATUS_MISMATCH";
    return e;
}

std::string RowName(const ::testing::TestParamInfo<Row>& info)
{
    auto [ret, fin, pended, handle] = info.param;
    const char* r[] = {"ReturnsSuccess", "ReturnsError", "ReturnsPending"};
    const char* f[] = {"FinalSuccess", "FinalWarning", "FinalError"};
    return std::string(r[static_cast<int>(ret)]) + "_" + f[static_cast<int>(fin)] + "_" +
           (pended ? "Pended" : "CompletedInDispatch") + "_" +
           (handle == Handle::Synchronous ? "SynchronousHandle" : "OverlappedHandle");
}

}  // namespace

class RequesterMatrix : public AsyncTest, public ::testing::WithParamInterface<Row> {};

TEST_P(RequesterMatrix, WindowsRequesterSideRules)
{
    auto [ret, fin, pended, handle] = GetParam();
    Expected e = Expect(GetParam());
    bool sync = handle == Handle::Synchronous;
    HANDLE h = Open(!sync);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    // Pend 1: IoMarkIrpPending and complete later; Pend 0: complete in dispatch.
    ASYNC_ORDER order = Order(pended ? 1 : 0, status_of(ret), status_of(fin), kInformation, 10);
    char out[16];
    std::memset(out, '.', sizeof(out));
    DWORD bytes = 0xDEAD;
    OVERLAPPED ov{};
    ov.InternalHigh = kUntouchedHigh;
    ov.hEvent = sync ? nullptr : CreateEventW(nullptr, TRUE, TRUE, nullptr);  // set: the I/O manager must clear it
    SetLastError(0xBEEF);
    BOOL ok = DeviceIoControl(h, IOCTL_ASYNC_ORDER, &order, sizeof(order), out, sizeof(out), &bytes,
                              sync ? nullptr : &ov);
    DWORD error = GetLastError();

    EXPECT_EQ(ok, e.win32);
    if (!e.win32)
        EXPECT_EQ(error, e.error);
    EXPECT_EQ(bytes, e.bytes);

    // Let a pended request complete (its timer fires in 10 ms), then look at what it left.
    if (!sync && pended && e.event_set)
        EXPECT_EQ(WaitForSingleObject(ov.hEvent, 1000), WAIT_OBJECT_0);
    if (pended)
        Sleep(20);
    EXPECT_EQ(HeldCount(), 0u);
    if (!sync) {
        EXPECT_EQ(WaitForSingleObject(ov.hEvent, 0) == WAIT_OBJECT_0, e.event_set);
        if (e.iosb_written) {
            EXPECT_EQ(static_cast<NTSTATUS>(ov.Internal), status_of(fin));
            EXPECT_EQ(ov.InternalHigh, kInformation);
        } else {
            EXPECT_EQ(static_cast<NTSTATUS>(ov.Internal), STATUS_PENDING) << "kernel32's STATUS_PENDING, untouched";
            EXPECT_EQ(ov.InternalHigh, kUntouchedHigh);
        }
    } else {
        EXPECT_EQ(WaitForSingleObject(h, 0) == WAIT_OBJECT_0, e.event_set) << "the file object's event";
    }
    if (e.copied)
        EXPECT_EQ(std::string(out, 10), "ABCDEFGH..");
    else
        EXPECT_EQ(std::string(out, 10), "..........");

    if (e.finding != nullptr)
        EXPECT_TRUE(HasFinding(e.finding)) << FindingsDump();
    else
        EXPECT_TRUE(FindingCodes().empty()) << FindingsDump();
    if (ov.hEvent != nullptr)
        CloseHandle(ov.hEvent);
    CloseHandle(h);
}

INSTANTIATE_TEST_SUITE_P(AllRows, RequesterMatrix,
                         ::testing::Combine(::testing::Values(Ret::Success, Ret::Error, Ret::Pending),
                                            ::testing::Values(Final::Success, Final::Warning, Final::Error),
                                            ::testing::Bool(),
                                            ::testing::Values(Handle::Synchronous, Handle::Overlapped)),
                         RowName);
