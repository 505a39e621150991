// request.cpp - building, sending and finishing I/O manager requests.
// NT counterparts: IopSynchronousServiceTail, IopCompleteRequest, IopCloseFile, IopDeleteFile.
#include "request.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "device.h"
#include "driver.h"
#include "file.h"
#include "mdl.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {
std::mutex g_abandoned_lock;
std::vector<IRP*> g_abandoned;  // live I/O manager IRPs nobody waits for any more

void abandon(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    priv->request = nullptr;  // the Request lived on the service's stack, which is gone
    priv->abandoned = true;
    std::lock_guard guard(g_abandoned_lock);
    g_abandoned.push_back(irp);
}

void forget_abandoned(IRP* irp)
{
    std::lock_guard guard(g_abandoned_lock);
    g_abandoned.erase(std::remove(g_abandoned.begin(), g_abandoned.end(), irp), g_abandoned.end());
}
}  // namespace

IRP* build_request_irp(FILE_OBJECT* file, DEVICE_OBJECT* top, UCHAR major, KPROCESSOR_MODE mode)
{
    IRP* irp = allocate_irp(top->StackSize, true);
    irp->RequestorMode = mode;
    irp->Tail.Overlay.Thread = reinterpret_cast<PETHREAD>(current_thread());
    irp->Tail.Overlay.OriginalFileObject = file;
    irp->Flags = IRP_SYNCHRONOUS_API;
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = major;
    sp->FileObject = file;
    if (System* sys = System::current(); sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Irp, private_of(irp)->id,
                            fmt::format("IRP#{} allocated for {} ({} stack location{})", private_of(irp)->id,
                                        major_name(major), static_cast<int>(irp->StackCount),
                                        irp->StackCount == 1 ? "" : "s"),
                            {.phase = trace::IrpPhase::Allocated, .major = major, .stack_count = irp->StackCount});
    return irp;
}

namespace {

void finish_request(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    Request* request = priv->request;
    NTSTATUS status = irp->IoStatus.Status;
    ULONG_PTR information = irp->IoStatus.Information;
    System* sys = System::current();

    if ((irp->Flags & IRP_BUFFERED_IO) != 0) {
        if ((irp->Flags & IRP_INPUT_OPERATION) != 0 && !NT_ERROR(status) && irp->UserBuffer != nullptr) {
            ULONG limit = request != nullptr ? request->user_buffer_length : 0;
            ULONG_PTR count = information;
            if (count > limit) {
                sys->report({"IRP_INFORMATION_TOO_LARGE",
                             fmt::format("IRP#{} was completed with IoStatus.Information = {}, more than the caller's "
                                         "{}-byte buffer. Windows would copy {} bytes and overrun it; iosim copied {}. "
                                         "Information must count the bytes actually returned.",
                                         priv->id, information, limit, information, limit),
                             "", irp_history_lines(irp)});
                count = limit;
            }
            if (count != 0 && irp->AssociatedIrp.SystemBuffer != nullptr)
                std::memcpy(irp->UserBuffer, irp->AssociatedIrp.SystemBuffer, count);
            add_history(irp, HistoryKind::CopiedBack, nullptr, status, count, nullptr);
            if (sys->trace().enabled())
                sys->trace().record(trace::Kind::Irp, priv->id,
                                    fmt::format("IRP#{} I/O manager copied {} byte(s) from SystemBuffer to the caller's "
                                                "buffer",
                                                priv->id, count),
                                    {.phase = trace::IrpPhase::CopiedBack, .information = count});
        }
        if ((irp->Flags & IRP_DEALLOCATE_BUFFER) != 0)
            std::free(irp->AssociatedIrp.SystemBuffer);
        irp->AssociatedIrp.SystemBuffer = nullptr;
    }
    if (irp->MdlAddress != nullptr)
        release_irp_mdls(irp);
    if (priv->abandoned)
        forget_abandoned(irp);
    if (request != nullptr) {
        request->done = true;
        request->status = status;
        request->information = information;
        if (request->user_iosb != nullptr && !NT_ERROR(status)) {
            request->user_iosb->Status = status;
            request->user_iosb->Information = information;
        }
    }
    free_irp(irp);
}

}  // namespace

NTSTATUS send_request(DEVICE_OBJECT* top, IRP* irp, Request& request)
{
    IrpPrivate* priv = private_of(irp);
    priv->request = &request;
    uint64_t id = priv->id;
    request.dispatching = true;
    NTSTATUS status;
    try {
        status = call_driver(top, irp, nullptr);
    } catch (...) {
        // A bug check unwinding through the request: the IRP is nobody's now.
        if (is_live_irp(irp) && private_of(irp)->id == id)
            abandon(irp);
        throw;
    }
    request.dispatching = false;
    if (request.deferred)
        finish_request(irp);
    if (request.done)
        return status == STATUS_PENDING ? request.status : status;
    System* sys = System::current();
    if (status == STATUS_PENDING) {
        // Waiting for a pended IRP needs the scheduler (threads and DPCs); until then the
        // request cannot finish.
        sys->report({"IRP_PENDING_NOT_COMPLETED",
                     fmt::format("IRP#{} was pended (STATUS_PENDING) and not completed before the dispatch routine "
                                 "returned; a synchronous caller waits until some other code completes it.",
                                 id),
                     "", irp_history_lines(irp)});
        abandon(irp);
        return STATUS_PENDING;
    }
    abandon(irp);
    sys->report({"IRP_NOT_COMPLETED",
                 fmt::format("IRP#{}: the dispatch routine of {} returned {} without completing the IRP (no "
                             "IoCompleteRequest and no STATUS_PENDING). Nothing reaches the caller, and on Windows the "
                             "thread would hang when it exits.",
                             id, device_name(top), status_text(status)),
                 "", irp_history_lines(irp)});
    return status;
}

void complete_for_requester(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    if (!priv->io_manager_request)
        return;  // a driver's own IRP: its completion routine took care of it
    if (priv->request != nullptr && priv->request->dispatching) {
        priv->request->deferred = true;
        return;
    }
    finish_request(irp);
}

void release_abandoned_requests()
{
    std::vector<IRP*> irps;
    {
        std::lock_guard guard(g_abandoned_lock);
        irps.swap(g_abandoned);
    }
    for (IRP* irp : irps) {
        if ((irp->Flags & IRP_DEALLOCATE_BUFFER) != 0)
            std::free(irp->AssociatedIrp.SystemBuffer);
        if (irp->MdlAddress != nullptr)
            release_irp_mdls(irp);
        private_of(irp)->abandoned = false;
        free_irp(irp);
    }
}

NTSTATUS send_file_notification(FILE_OBJECT* file, UCHAR major)
{
    if (System* sys = System::current(); sys != nullptr && sys->dead())
        return STATUS_UNSUCCESSFUL;  // the machine bug-checked: no driver code runs any more
    DEVICE_OBJECT* target = attached_top(file->DeviceObject);
    if (driver_body(target->DriverObject)->priv.module == nullptr)
        return STATUS_UNSUCCESSFUL;  // its driver has been unloaded (a device it deleted outlived it)
    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    IRP* irp = build_request_irp(file, top, major, KernelMode);
    if (major == IRP_MJ_CLOSE)
        irp->Flags |= IRP_CLOSE_OPERATION;
    Request request;
    return send_request(top, irp, request);
}

}  // namespace iosim::io
