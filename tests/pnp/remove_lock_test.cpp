// remove_lock_test.cpp - IoAcquireRemoveLock and friends, called directly on a lock in the
// test's memory, both as a free build lays the lock out (no debug block) and as drivers
// here are built (DBG=1: the checked build's debug block, whose tag checks iosim reports).
#include <algorithm>

#include "pnp/pnp_test_support.h"
#include "windows.h"

using namespace pnptest;

namespace {

// IO_REMOVE_LOCK as a driver built with DBG=1 sees it (this test binary is built without DBG).
struct CheckedLock {
    IO_REMOVE_LOCK_COMMON_BLOCK Common;
    IO_REMOVE_LOCK_DBG_BLOCK Dbg;
};
constexpr ULONG kCheckedSize = sizeof(CheckedLock);
PIO_REMOVE_LOCK AsLock(CheckedLock& lock) { return reinterpret_cast<PIO_REMOVE_LOCK>(&lock); }

bool Reported(PnpRig& rig, const char* code)
{
    auto codes = rig.FindingCodes();
    return std::find(codes.begin(), codes.end(), code) != codes.end();
}

int tag_a, tag_b, tag_remove;
constexpr ULONG kTag = 0x74736554;  // "Test"

}  // namespace

TEST(RemoveLock, AcquireAfterReleaseAndWaitFailsWithDeletePending)
{
    PnpRig rig;
    IO_REMOVE_LOCK lock;
    IoInitializeRemoveLock(&lock, kTag, 0, 0);
    EXPECT_EQ(lock.Common.IoCount, 1);  // the bias ReleaseAndWait drops
    ASSERT_EQ(IoAcquireRemoveLock(&lock, &tag_a), STATUS_SUCCESS);
    EXPECT_EQ(lock.Common.IoCount, 2);
    IoReleaseRemoveLock(&lock, &tag_a);
    ASSERT_EQ(IoAcquireRemoveLock(&lock, &tag_remove), STATUS_SUCCESS);
    IoReleaseRemoveLockAndWait(&lock, &tag_remove);
    EXPECT_TRUE(lock.Common.Removed);
    EXPECT_EQ(lock.Common.IoCount, 0);
    EXPECT_EQ(KeReadStateEvent(&lock.Common.RemoveEvent), 1);  // nothing left to wait for
    EXPECT_EQ(IoAcquireRemoveLock(&lock, &tag_b), STATUS_DELETE_PENDING);
    EXPECT_EQ(lock.Common.IoCount, 0);  // the failed acquire took nothing
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(RemoveLock, ReleaseAndWaitWithAcquisitionsOutstandingIsReportedInsteadOfWaitingForever)
{
    PnpRig rig;
    CheckedLock lock{};
    IoInitializeRemoveLockEx(AsLock(lock), kTag, 0, 0, kCheckedSize);
    ASSERT_EQ(IoAcquireRemoveLockEx(AsLock(lock), &tag_a, "held.c", 42, kCheckedSize), STATUS_SUCCESS);
    ASSERT_EQ(IoAcquireRemoveLockEx(AsLock(lock), &tag_remove, "remove.c", 7, kCheckedSize), STATUS_SUCCESS);
    IoReleaseRemoveLockAndWaitEx(AsLock(lock), &tag_remove, kCheckedSize);
    ASSERT_TRUE(Reported(rig, "REMOVE_LOCK_WAIT_WOULD_BLOCK")) << rig.FindingsDump();
    EXPECT_NE(rig.FindingsDump().find("1 acquisition(s) of the lock are still outstanding"), std::string::npos);
    EXPECT_NE(rig.FindingsDump().find("acquired at held.c:42"), std::string::npos) << rig.FindingsDump();
    EXPECT_EQ(lock.Common.IoCount, 1);
    EXPECT_EQ(KeReadStateEvent(&lock.Common.RemoveEvent), 0);
    // The last holder's release is what signals the remover.
    IoReleaseRemoveLockEx(AsLock(lock), &tag_a, kCheckedSize);
    EXPECT_EQ(lock.Common.IoCount, 0);
    EXPECT_EQ(KeReadStateEvent(&lock.Common.RemoveEvent), 1);
}

TEST(RemoveLock, TheCheckedBuildReportsAReleaseWithATagNeverAcquired)
{
    PnpRig rig;
    CheckedLock lock{};
    IoInitializeRemoveLockEx(AsLock(lock), kTag, 0, 0, kCheckedSize);
    EXPECT_EQ(lock.Dbg.Signature, static_cast<LONG>('C' | ('O' << 8) | ('L' << 16) | ('R' << 24)));
    ASSERT_EQ(IoAcquireRemoveLockEx(AsLock(lock), &tag_a, "a.c", 1, kCheckedSize), STATUS_SUCCESS);
    IoReleaseRemoveLockEx(AsLock(lock), &tag_b, kCheckedSize);
    EXPECT_TRUE(Reported(rig, "REMOVE_LOCK_TAG_NOT_ACQUIRED")) << rig.FindingsDump();
}

TEST(RemoveLock, MoreReleasesThanAcquisitionsAreReported)
{
    PnpRig rig;
    IO_REMOVE_LOCK lock;
    IoInitializeRemoveLock(&lock, kTag, 0, 0);
    IoReleaseRemoveLock(&lock, &tag_a);
    EXPECT_TRUE(Reported(rig, "REMOVE_LOCK_RELEASED_TOO_OFTEN")) << rig.FindingsDump();
    EXPECT_EQ(lock.Common.IoCount, 1);
    EXPECT_FALSE(lock.Common.Removed);
}

TEST(RemoveLock, MoreAcquisitionsThanTheHighWatermarkAreReported)
{
    PnpRig rig;
    CheckedLock lock{};
    IoInitializeRemoveLockEx(AsLock(lock), kTag, 0, 2, kCheckedSize);
    int tags[3];
    for (int& t : tags)
        ASSERT_EQ(IoAcquireRemoveLockEx(AsLock(lock), &t, "x.c", 1, kCheckedSize), STATUS_SUCCESS);
    EXPECT_TRUE(Reported(rig, "REMOVE_LOCK_HIGH_WATERMARK")) << rig.FindingsDump();
}

TEST(RemoveLock, ADriverThatFailsItsHeldRequestsBeforeWaitingHasNothingToWaitFor)
{
    // pnpt_func holds a request (and the remove lock with it). At IRP_MN_REMOVE_DEVICE it
    // fails that request with STATUS_DELETE_PENDING first, so IoReleaseRemoveLockAndWait
    // finds no acquisition outstanding.
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    auto interfaces = pnp::list_interfaces(&kPnptInterface, "", true);
    ASSERT_EQ(interfaces.size(), 1u);
    e2e::Win32Process app(rig.machine);
    // An overlapped handle: the held request leaves the app's thread free (on a synchronous
    // handle the thread would wait in DeviceIoControl until the driver completes it).
    HANDLE h = app.Run([&] {
        return CreateFileW(reinterpret_cast<LPCWSTR>(interfaces[0].path.c_str()), GENERIC_READ, 0, nullptr,
                           OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
    });
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    DWORD bytes = 0;
    OVERLAPPED overlapped{};
    overlapped.hEvent = app.Run([] { return CreateEventW(nullptr, TRUE, FALSE, nullptr); });
    BOOL sent = app.Run([&] {
        return DeviceIoControl(h, CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS), nullptr, 0,
                               nullptr, 0, &bytes, &overlapped);
    });
    EXPECT_FALSE(sent);
    EXPECT_EQ(app.Run([] { return GetLastError(); }), static_cast<DWORD>(ERROR_IO_PENDING));
    uint64_t held = rig.IrpOf("IRP_MJ_DEVICE_CONTROL");
    std::string message;
    ASSERT_EQ(pnp::unplug(instance, pnp::Removal::Orderly, &message), STATUS_SUCCESS) << message;
    EXPECT_TRUE(InOrder(rig.TraceOfIrp(held), {"completed: STATUS_DELETE_PENDING"}));
    EXPECT_FALSE(Reported(rig, "REMOVE_LOCK_WAIT_WOULD_BLOCK")) << rig.FindingsDump();
    // The app learns it through its OVERLAPPED: STATUS_DELETE_PENDING is ERROR_ACCESS_DENIED.
    EXPECT_FALSE(app.Run([&] { return GetOverlappedResult(h, &overlapped, &bytes, TRUE); }));
    EXPECT_EQ(app.Run([] { return GetLastError(); }), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    EXPECT_EQ(static_cast<NTSTATUS>(overlapped.Internal), STATUS_DELETE_PENDING);
    app.Run([&] { return CloseHandle(overlapped.hEvent); });
    app.Run([&] { return CloseHandle(h); });
}
