// cancel.cpp - cancelling IRPs: the cancel spin lock, IoCancelIrp, and what cancels them
// (CancelIo, CancelIoEx, CancelSynchronousIo, a process that exits, a driver that unloads).
//
// Rules kept (Windows' cancel protocol):
//  - IoCancelIrp takes the cancel spin lock, sets Irp->Cancel, and takes the cancel routine
//    (IoSetCancelRoutine(Irp, NULL)). With one, it calls it with the lock still held and
//    Irp->CancelIrql saved: the routine releases it (IoReleaseCancelSpinLock(Irp->CancelIrql))
//    and completes the IRP, usually with STATUS_CANCELLED. Without one, it returns FALSE and
//    the IRP goes on (its driver may look at Irp->Cancel).
//  - Completing an IRP whose cancel routine is still set is bug check 0xC9 parameter 0x07
//    (irp.cpp; Verifier I/O error 0x23C); STATUS_CANCELLED is ERROR_OPERATION_ABORTED in Win32.
//  - CancelIo cancels the calling thread's requests on a handle; CancelIoEx any thread's of
//    the process (optionally only the one with a given OVERLAPPED), ERROR_NOT_FOUND if none;
//    CancelSynchronousIo the synchronous request a thread waits in. None waits for the
//    cancelled requests to complete: their completion arrives as usual.
//  - A process that exits cancels every request of its threads and waits for them, in
//    100 ms steps of simulated time, at most 5 minutes (IoCancelThreadIo); one still out
//    after that is reported (IRP_NOT_CANCELLED_AT_EXIT) and left to shutdown.
//  - A driver whose DriverUnload returns while it still holds IRPs the I/O manager sent is
//    bug check DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS (0xCE): its code would be
//    called later (a cancel routine, a timer DPC) after it is gone.
// NT counterparts: IoAcquireCancelSpinLock, IoReleaseCancelSpinLock, IoCancelIrp,
// NtCancelIoFile, NtCancelIoFileEx, NtCancelSynchronousIoFile, IoCancelThreadIo.
#include <algorithm>
#include "cancel.h"

#include <fmt/format.h>

#include "device.h"
#include "driver.h"
#include "file.h"
#include "irp.h"
#include "ke/bugcheck.h"
#include "ke/irql.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "request.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

KSPIN_LOCK g_cancel_lock = 0;

trace::Trace* active_trace()
{
    System* sys = System::current();
    return sys != nullptr && sys->trace().enabled() ? &sys->trace() : nullptr;
}

// Cancels the IRPs still out that `match` selects; returns how many it found.
template <typename Match>
size_t cancel_matching(Match&& match, const char* who)
{
    size_t found = 0;
    for (const OutstandingIrp& entry : outstanding_irps()) {
        if (!is_outstanding(entry.irp, entry.id) || private_of(entry.irp)->completed || !match(entry))
            continue;
        ++found;
        if (trace::Trace* t = active_trace())
            t->record(trace::Kind::Irp, entry.id, fmt::format("IRP#{} cancel requested by {}", entry.id, who));
        IoCancelIrp(entry.irp);
    }
    return found;
}

bool in_process(const OutstandingIrp& entry, const Process* process)
{
    return entry.thread != nullptr && entry.thread->process() == process;
}

}  // namespace

size_t cancel_file_io(FILE_OBJECT* file, Thread* thread, const void* iosb)
{
    Process* process = current_process();
    return cancel_matching(
        [&](const OutstandingIrp& entry) {
            if (entry.file != file || !in_process(entry, process))
                return false;
            if (thread != nullptr && entry.thread != thread)
                return false;
            return iosb == nullptr || entry.irp->UserIosb == iosb;
        },
        thread != nullptr ? "CancelIo" : "CancelIoEx");
}

size_t cancel_synchronous_io(Thread* thread)
{
    return cancel_matching(
        [&](const OutstandingIrp& entry) {
            return entry.thread == thread && private_of(entry.irp)->request != nullptr;
        },
        "CancelSynchronousIo");
}

void cancel_process_io(Process* process)
{
    System* sys = System::current();
    if (sys == nullptr || sys->dead())
        return;
    size_t cancelled = cancel_matching([&](const OutstandingIrp& entry) { return in_process(entry, process); },
                                       "process exit");
    auto remaining = [&] {
        size_t n = 0;
        for (const OutstandingIrp& entry : outstanding_irps())
            if (in_process(entry, process))
                ++n;
        return n;
    };
    if (cancelled == 0 && remaining() == 0)
        return;
    // IoCancelThreadIo: wait for them in 100 ms steps, at most 5 minutes of simulated time.
    // The waits run the completions queued to this thread (kernel APCs) meanwhile.
    constexpr int kSteps = 3000;
    for (int step = 0; step < kSteps && remaining() != 0; ++step) {
        LARGE_INTEGER interval{};
        interval.QuadPart = -100 * 10000;
        sys->scheduler().wait(nullptr, 0, false, &interval,
                              fmt::format("process {} exit waits for its cancelled I/O", process->pid()));
    }
    for (const OutstandingIrp& entry : outstanding_irps()) {
        if (!in_process(entry, process))
            continue;
        sys->report({"IRP_NOT_CANCELLED_AT_EXIT",
                     fmt::format("IRP#{} of process {} ({}) was still pending 5 minutes after the process began to exit "
                                 "and its I/O was cancelled: its driver neither completed it nor set a cancel routine. "
                                 "Windows logs this and the thread cannot finish exiting; a driver that holds IRPs must "
                                 "make them cancelable (IoSetCancelRoutine) or complete them at IRP_MJ_CLEANUP.",
                                 entry.id, process->pid(), process->image_name()),
                     "", irp_history_lines(entry.irp)});
    }
}

std::vector<uint64_t> irps_held_by(DRIVER_OBJECT* driver)
{
    std::vector<uint64_t> held;
    for (const OutstandingIrp& entry : outstanding_irps()) {
        IRP* irp = entry.irp;
        if (private_of(irp)->completed || irp->CurrentLocation > irp->StackCount)
            continue;
        DEVICE_OBJECT* device = IoGetCurrentIrpStackLocation(irp)->DeviceObject;
        if (device != nullptr && device->DriverObject == driver)
            held.push_back(entry.id);
    }
    return held;
}

void check_irps_at_unload(DRIVER_OBJECT* driver, const std::vector<uint64_t>& held, bool at_shutdown)
{
    if (at_shutdown || held.empty())
        return;
    // Only the IRPs it held before DriverUnload and still holds: its devices are gone now,
    // so nothing of the IRP's current stack location is read.
    for (const OutstandingIrp& entry : outstanding_irps()) {
        IRP* irp = entry.irp;
        if (std::find(held.begin(), held.end(), entry.id) == held.end() || private_of(irp)->completed)
            continue;
        const void* routine = irp->CancelRoutine != nullptr ? reinterpret_cast<const void*>(irp->CancelRoutine)
                                                            : reinterpret_cast<const void*>(driver->DriverUnload);
        // No IRP history in the report: it names the IRP's devices, which DriverUnload deleted.
        bugcheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, reinterpret_cast<ULONG_PTR>(routine), 0,
                 reinterpret_cast<ULONG_PTR>(irp), 0, nullptr, nullptr,
                 fmt::format("{} was unloaded while IRP#{} ({}) it had pended was still out: nothing can complete it "
                             "now, and its cancel routine or timer would run code that is gone. DriverUnload runs "
                             "only when no handle is open; complete or cancel every held IRP at IRP_MJ_CLEANUP "
                             "(and cancel timers and DPCs) before then.",
                             driver_name(driver), entry.id, major_name(IoGetCurrentIrpStackLocation(irp)->MajorFunction)));
    }
}

}  // namespace iosim::io

using namespace iosim;
using namespace iosim::io;

extern "C" {

void IoAcquireCancelSpinLock(PKIRQL Irql)
{
    *Irql = iosim::ke::raise_irql_to_dpc_level("IoAcquireCancelSpinLock");
    KeAcquireSpinLockAtDpcLevel(&g_cancel_lock);
}

void IoReleaseCancelSpinLock(KIRQL Irql)
{
    KeReleaseSpinLockFromDpcLevel(&g_cancel_lock);
    iosim::ke::lower_irql(Irql, "IoReleaseCancelSpinLock", __builtin_return_address(0));
}

BOOLEAN IoCancelIrp(PIRP Irp)
{
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Irp->Cancel = TRUE;
    IrpPrivate* priv = private_of(Irp);
    priv->cancel_requested = true;
    PDRIVER_CANCEL routine = IoSetCancelRoutine(Irp, nullptr);
    if (routine == nullptr) {
        IoReleaseCancelSpinLock(irql);
        if (trace::Trace* t = active_trace())
            t->record(trace::Kind::Irp, priv->id,
                      fmt::format("IRP#{} IoCancelIrp: no cancel routine set, Irp->Cancel = TRUE (its driver decides)",
                                  priv->id));
        return FALSE;
    }
    Irp->CancelIrql = irql;
    DEVICE_OBJECT* device = Irp->CurrentLocation <= Irp->StackCount ? IoGetCurrentIrpStackLocation(Irp)->DeviceObject
                                                                    : nullptr;
    if (trace::Trace* t = active_trace())
        t->record(trace::Kind::Irp, priv->id,
                  fmt::format("IRP#{} IoCancelIrp: calling cancel routine {}", priv->id,
                              ldr::describe_function(reinterpret_cast<const void*>(routine))));
    {
        DriverCallScope scope("cancel routine", reinterpret_cast<const void*>(routine), Irp);
        routine(device, Irp);  // releases the cancel spin lock
    }
    return TRUE;
}

}  // extern "C"
