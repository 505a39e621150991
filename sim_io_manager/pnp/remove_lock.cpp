// remove_lock.cpp - remove locks: keeping a device from being removed while I/O uses it.
//
// A driver acquires its device's remove lock for each IRP it works on and releases it when
// done; its IRP_MN_REMOVE_DEVICE handler calls IoReleaseRemoveLockAndWait, which marks the
// lock removed and waits until every acquisition has been released. Rules kept (Windows'):
//  - IoCount starts at 1 (a bias the final wait drops); each acquire adds one, each release
//    takes one; when it reaches 0 (only possible once removed) RemoveEvent is signalled.
//  - After IoReleaseRemoveLockAndWait, IoAcquireRemoveLock fails with STATUS_DELETE_PENDING:
//    the driver fails the IRP with that status instead of touching a device being deleted.
//  - IoReleaseRemoveLockAndWait is called once, with the lock acquired (for the remove IRP).
//  - Drivers here are built with DBG=1, so the lock has the checked build's debug block, and
//    iosim checks what the checked build checks: a release whose tag was never acquired, more
//    releases than acquisitions, more outstanding acquisitions than the HighWatermark given to
//    IoInitializeRemoveLock; each is reported with the call's source line.
// What iosim cannot do yet: wait. With acquisitions still outstanding when
// IoReleaseRemoveLockAndWait is called, Windows blocks the remove IRP until other threads
// release them; iosim does not wait here yet, so it reports the acquisitions that would be
// waited for (tag, file:line) and returns at once.
// NT counterparts: IoInitializeRemoveLockEx, IoAcquireRemoveLockEx, IoReleaseRemoveLockEx,
// IoReleaseRemoveLockAndWaitEx.
#include <fmt/format.h>

#include <algorithm>

#include "ldr/symbolize.h"
#include "pnp/device_node.h"
#include "system.h"

namespace iosim::io::pnp {

namespace {

constexpr LONG kRemoveLockSignature = 'C' | ('O' << 8) | ('L' << 16) | ('R' << 24);  // IO_REMOVE_LOCK_SIG

// The debug block follows the common block when the driver was built with DBG.
struct CheckedRemoveLock {
    IO_REMOVE_LOCK_COMMON_BLOCK Common;
    IO_REMOVE_LOCK_DBG_BLOCK Dbg;
};

bool has_debug_block(ULONG size) { return size >= sizeof(CheckedRemoveLock); }

RemoveLockTrack& track(const void* lock)
{
    return pnp_state().remove_locks[lock];
}

void report(const char* code, std::string message, const void* caller)
{
    System::current()->report({code, std::move(message), ldr::describe_call_site(caller), {}});
}

std::string describe_holds(const RemoveLockTrack& t)
{
    std::string out;
    for (const auto& h : t.holds)
        out += fmt::format("{}tag {} acquired at {}:{}", out.empty() ? "" : "; ", h.tag, h.file, h.line);
    return out;
}

}  // namespace

}  // namespace iosim::io::pnp

using namespace iosim;
using namespace iosim::io::pnp;

extern "C" {

void IoInitializeRemoveLockEx(PIO_REMOVE_LOCK Lock, ULONG AllocateTag, ULONG MaxLockedMinutes, ULONG HighWatermark,
                              ULONG RemlockSize)
{
    std::lock_guard guard(pnp_state().lock);
    Lock->Common.Removed = FALSE;
    Lock->Common.IoCount = 1;
    KeInitializeEvent(&Lock->Common.RemoveEvent, SynchronizationEvent, FALSE);
    RemoveLockTrack& t = track(Lock);
    t = RemoveLockTrack{};
    if (has_debug_block(RemlockSize)) {
        auto* checked = reinterpret_cast<CheckedRemoveLock*>(Lock);
        std::memset(&checked->Dbg, 0, sizeof checked->Dbg);
        checked->Dbg.Signature = kRemoveLockSignature;
        checked->Dbg.HighWatermark = HighWatermark;
        checked->Dbg.MaxLockedTicks = static_cast<LONGLONG>(MaxLockedMinutes) * 60 * 10000000LL;
        checked->Dbg.AllocateTag = static_cast<LONG>(AllocateTag);
        InitializeListHead(&checked->Dbg.LockList);
        t.checked = true;
    }
}

NTSTATUS IoAcquireRemoveLockEx(PIO_REMOVE_LOCK RemoveLock, PVOID Tag, PCSTR File, ULONG Line, ULONG RemlockSize)
{
    const void* caller = __builtin_return_address(0);
    std::lock_guard guard(pnp_state().lock);
    LONG count = InterlockedIncrement(&RemoveLock->Common.IoCount);
    if (RemoveLock->Common.Removed) {
        // Too late: the device is being removed. Undo, and let the last holder wake the remover.
        if (InterlockedDecrement(&RemoveLock->Common.IoCount) == 0)
            KeSetEvent(&RemoveLock->Common.RemoveEvent, IO_NO_INCREMENT, FALSE);
        return STATUS_DELETE_PENDING;
    }
    RemoveLockTrack& t = track(RemoveLock);
    t.holds.push_back({Tag, File != nullptr ? File : "?", Line});
    if (has_debug_block(RemlockSize)) {
        auto* checked = reinterpret_cast<CheckedRemoveLock*>(RemoveLock);
        if (checked->Dbg.HighWatermark != 0 && static_cast<ULONG>(count - 1) > checked->Dbg.HighWatermark)
            report("REMOVE_LOCK_HIGH_WATERMARK",
                   fmt::format("IoAcquireRemoveLock: {} acquisitions are outstanding, more than the HighWatermark of {} "
                               "given to IoInitializeRemoveLock (the checked build asserts here): a release is "
                               "probably missing.",
                               count - 1, checked->Dbg.HighWatermark),
                   caller);
    }
    return STATUS_SUCCESS;
}

void IoReleaseRemoveLockEx(PIO_REMOVE_LOCK RemoveLock, PVOID Tag, ULONG RemlockSize)
{
    const void* caller = __builtin_return_address(0);
    std::lock_guard guard(pnp_state().lock);
    RemoveLockTrack& t = track(RemoveLock);
    auto hold = std::find_if(t.holds.begin(), t.holds.end(), [&](const RemoveLockHold& h) { return h.tag == Tag; });
    if (hold != t.holds.end())
        t.holds.erase(hold);
    else if (t.checked)
        report("REMOVE_LOCK_TAG_NOT_ACQUIRED",
               fmt::format("IoReleaseRemoveLock with tag {}, which holds no acquisition of this lock (the checked build "
                           "stops here): release with the tag you acquired with (usually the IRP).",
                           Tag),
               caller);
    LONG count = InterlockedDecrement(&RemoveLock->Common.IoCount);
    if (count < 0 || (count == 0 && !RemoveLock->Common.Removed)) {
        report("REMOVE_LOCK_RELEASED_TOO_OFTEN",
               "IoReleaseRemoveLock was called more often than IoAcquireRemoveLock succeeded: each release must "
               "match one successful acquire.",
               caller);
        InterlockedIncrement(&RemoveLock->Common.IoCount);
        return;
    }
    if (count == 0) {
        KeSetEvent(&RemoveLock->Common.RemoveEvent, IO_NO_INCREMENT, FALSE);
        pnp_state().remove_locks.erase(RemoveLock);
    }
}

void IoReleaseRemoveLockAndWaitEx(PIO_REMOVE_LOCK RemoveLock, PVOID Tag, ULONG RemlockSize)
{
    const void* caller = __builtin_return_address(0);
    std::lock_guard guard(pnp_state().lock);
    RemoveLockTrack& t = track(RemoveLock);
    if (RemoveLock->Common.Removed) {
        report("REMOVE_LOCK_WAITED_TWICE",
               "IoReleaseRemoveLockAndWait was called a second time for the same lock: call it once, when "
               "IRP_MN_REMOVE_DEVICE arrives.",
               caller);
        return;
    }
    RemoveLock->Common.Removed = TRUE;
    t.waited = true;
    auto hold = std::find_if(t.holds.begin(), t.holds.end(), [&](const RemoveLockHold& h) { return h.tag == Tag; });
    if (hold != t.holds.end())
        t.holds.erase(hold);
    else if (t.checked)
        report("REMOVE_LOCK_TAG_NOT_ACQUIRED",
               fmt::format("IoReleaseRemoveLockAndWait with tag {}, which holds no acquisition of this lock: acquire "
                           "the lock for the remove IRP first, then release-and-wait with the same tag.",
                           Tag),
               caller);
    // Drop the caller's acquisition and the initial bias; what is left is I/O in progress.
    InterlockedDecrement(&RemoveLock->Common.IoCount);
    LONG outstanding = InterlockedDecrement(&RemoveLock->Common.IoCount);
    if (outstanding > 0) {
        report("REMOVE_LOCK_WAIT_WOULD_BLOCK",
               fmt::format("IoReleaseRemoveLockAndWait: {} acquisition(s) of the lock are still outstanding ({}). "
                           "Windows blocks the remove IRP here until they are released by the threads doing that "
                           "I/O; iosim does not wait here yet, so it returned at once and the device "
                           "may be deleted while they still use it.",
                           outstanding, describe_holds(t)),
               caller);
        return;
    }
    KeSetEvent(&RemoveLock->Common.RemoveEvent, IO_NO_INCREMENT, FALSE);
    pnp_state().remove_locks.erase(RemoveLock);
}

}  // extern "C"
