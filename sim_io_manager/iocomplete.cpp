// iocomplete.cpp - the requester's side of IRP completion: where it runs and what it does.
//
// Where (complete_for_requester, called at the end of IofCompleteRequest):
//   - the IRP was not pended and the service is still inside IoCallDriver: nothing now; the
//     service runs it inline when IoCallDriver returns (IRP_DEFER_IO_COMPLETION);
//   - otherwise it is queued as a special kernel APC to the requesting thread
//     (Irp->Tail.Overlay.Thread) and runs there, in that thread's process, at APC_LEVEL,
//     the next time the thread waits or leaves a system service (ke/apc.h) - whatever
//     thread, DPC, timer or work item completed the IRP;
//   - if no context runs the requesting thread any more, it runs at once in the completing
//     thread, attached to the requester's process (KeStackAttachProcess), so the caller's
//     buffers are reachable at the addresses it gave.
// What (finish_request, Windows' IopCompleteRequest rules):
//   - buffered output is copied back when the status is not an error (success, information
//     or warning such as STATUS_BUFFER_OVERFLOW), never more than the caller's buffer;
//   - the IO_STATUS_BLOCK is written, the caller's event set (or the file object's event and
//     FinalStatus), and a user APC (ReadFileEx) or completion packet (completion ports)
//     queued - when the status is not an error, or it is an error of a pended asynchronous
//     request. An error that was not pended writes nothing and sets nothing: the service
//     already returned that status. An error of a pended synchronous request sets only the
//     file object's event and FinalStatus (a synchronous API also gets its IO_STATUS_BLOCK).
//   - then the SystemBuffer, MDLs, references and the IRP are freed.
// NT counterparts: IopfCompleteRequest (its last part), IopCompleteRequest, IopUserCompletion.
#include <fmt/format.h>

#include <cstring>

#include "completion_port.h"
#include "device.h"
#include "file.h"
#include "irp_build.h"
#include "ke/apc.h"
#include "ke/scheduler.h"
#include "ke/seh.h"
#include "mdl.h"
#include "ps/process.h"
#include "request.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

trace::Trace* active_trace()
{
    System* sys = System::current();
    return sys != nullptr && sys->trace().enabled() ? &sys->trace() : nullptr;
}

// Writes to the requester's memory: under a handler frame for a user-mode requester (it
// may have freed the OVERLAPPED or the buffer since), plainly for a kernel-mode one.
void write_requester(KPROCESSOR_MODE mode, void* to, const void* from, size_t n)
{
    if (to == nullptr || n == 0)
        return;
    if (mode == UserMode)
        (void)seh::copy(to, from, n);
    else
        std::memcpy(to, from, n);
}

void copy_back(IRP* irp, Process* process, bool reachable)
{
    IrpPrivate* priv = private_of(irp);
    NTSTATUS status = irp->IoStatus.Status;
    ULONG_PTR information = irp->IoStatus.Information;
    System* sys = System::current();
    if ((irp->Flags & IRP_INPUT_OPERATION) == 0 || NT_ERROR(status) || irp->UserBuffer == nullptr)
        return;
    ULONG limit = priv->output_length;
    ULONG_PTR count = information;
    if (count > limit) {
        sys->report({"IRP_INFORMATION_TOO_LARGE",
                     fmt::format("IRP#{} was completed with IoStatus.Information = {}, more than the caller's {}-byte "
                                 "buffer. Windows would copy {} bytes and overrun it; iosim copied {}. Information "
                                 "must count the bytes actually returned.",
                                 priv->id, information, limit, information, limit),
                     "", irp_history_lines(irp)});
        count = limit;
    }
    if (!reachable)
        count = 0;
    // Under a handler frame, as IopCompleteRequest does: the buffer was probed for write
    // before the IRP was built, but the app may have freed it since.
    if (count != 0 && irp->AssociatedIrp.SystemBuffer != nullptr)
        write_requester(irp->RequestorMode, irp->UserBuffer, irp->AssociatedIrp.SystemBuffer, count);
    add_history(irp, HistoryKind::CopiedBack, nullptr, status, count, nullptr);
    if (trace::Trace* t = active_trace())
        t->record(trace::Kind::Irp, priv->id,
                  fmt::format("IRP#{} I/O manager copied {} byte(s) from SystemBuffer to the caller's buffer", priv->id,
                              count),
                  {.phase = trace::IrpPhase::CopiedBack, .information = count});
}

}  // namespace

void complete_for_requester(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    if (!priv->io_manager_request) {
        // A driver-built IRP (irp_build.cpp) is finished by the I/O manager too; one from
        // IoAllocateIrp is its driver's business (its completion routine took care of it).
        if (priv->built != IrpPrivate::kNotBuilt)
            finish_driver_built_irp(irp);
        return;
    }
    if (!irp->PendingReturned && priv->request != nullptr && priv->request->dispatching) {
        priv->request->deferred = true;  // IRP_DEFER_IO_COMPLETION: the service finishes it inline
        return;
    }
    auto* thread = reinterpret_cast<Thread*>(irp->Tail.Overlay.Thread);
    const uint64_t id = priv->id;
    bool queued = ke::queue_kernel_apc(thread, [irp, id] {
        if (is_outstanding(irp, id))
            finish_request(irp);
    });
    if (trace::Trace* t = active_trace())
        t->record(trace::Kind::Irp, id,
                  queued ? fmt::format("IRP#{} requester's side queued to thread {} as a kernel APC", id,
                                       thread != nullptr ? thread->tid() : 0)
                         : fmt::format("IRP#{} requester's side runs now: thread {} runs nowhere any more", id,
                                       thread != nullptr ? thread->tid() : 0));
    if (!queued)
        finish_request(irp);
}

void finish_request(IRP* irp, bool in_service)
{
    IrpPrivate* priv = private_of(irp);
    Request* request = priv->request;
    const uint64_t id = priv->id;
    const NTSTATUS status = irp->IoStatus.Status;
    const ULONG_PTR information = irp->IoStatus.Information;
    FILE_OBJECT* file = irp->Tail.Overlay.OriginalFileObject;
    auto* thread = reinterpret_cast<Thread*>(irp->Tail.Overlay.Thread);
    Process* process = thread != nullptr ? thread->process() : nullptr;
    const bool pended = irp->PendingReturned != FALSE;

    // Run in the requester's process: attach if this is another thread's context.
    Thread* self = current_thread();
    bool attach = self != nullptr && process != nullptr && effective_process(self) != process;
    // A user-mode requester's memory is gone with its process (its IRPs outlived it).
    bool reachable = irp->RequestorMode == KernelMode || (process != nullptr && process->memory != nullptr);
    KAPC_STATE apc_state;
    if (attach && process->memory != nullptr)
        KeStackAttachProcess(reinterpret_cast<PRKPROCESS>(process), &apc_state);
    else
        attach = false;

    if ((irp->Flags & IRP_BUFFERED_IO) != 0) {
        copy_back(irp, process, reachable);
        // Taken out of the IRP first: if the free bug-checks (a driver freed it already), the
        // IRP released at shutdown must not free it again.
        void* buffer = irp->AssociatedIrp.SystemBuffer;
        irp->AssociatedIrp.SystemBuffer = nullptr;
        if ((irp->Flags & IRP_DEALLOCATE_BUFFER) != 0)
            ex::free_system_buffer(buffer);
    }
    if (irp->MdlAddress != nullptr)
        release_irp_mdls(irp);

    const bool synchronous_api = (irp->Flags & IRP_SYNCHRONOUS_API) != 0;
    const bool synchronous_io = synchronous_api || (file != nullptr && (file->Flags & FO_SYNCHRONOUS_IO) != 0);
    std::string what;
    auto set_file_event = [&] {
        if (file == nullptr)
            return;
        file->FinalStatus = status;
        if ((file->Flags & kFoSkipSetEvent) != 0 && !synchronous_io)
            return;  // FILE_SKIP_SET_EVENT_ON_HANDLE
        KeSetEvent(&file->Event, 0, FALSE);
        what += ", file object's event set";
    };
    if (!NT_ERROR(status) || (pended && !synchronous_io)) {
        if (reachable && irp->UserIosb != nullptr) {
            write_requester(irp->RequestorMode, irp->UserIosb, &irp->IoStatus, sizeof(IO_STATUS_BLOCK));
            what += ", IO_STATUS_BLOCK written";
        }
        if (irp->UserEvent != nullptr) {
            KeSetEvent(irp->UserEvent, 0, FALSE);
            what += ", caller's event set";
            if (file != nullptr && (file->Flags & FO_SYNCHRONOUS_IO) != 0)
                set_file_event();
        } else {
            set_file_event();
        }
        PIO_APC_ROUTINE apc = irp->Overlay.AsynchronousParameters.UserApcRoutine;
        PVOID context = irp->Overlay.AsynchronousParameters.UserApcContext;
        if (apc != nullptr) {
            // IopUserCompletion: the caller's routine, as a user APC in the requesting thread.
            IO_STATUS_BLOCK* iosb = irp->UserIosb;
            if (ke::queue_user_apc(thread, [apc, context, iosb] { apc(context, iosb, 0); }))
                what += ", user APC queued";
        } else if (file != nullptr && file->CompletionContext != nullptr && context != nullptr) {
            if (queue_completion_packet(file, context, irp->IoStatus, pended))
                what += ", completion packet queued";
        }
    } else if (pended && file != nullptr) {
        if (synchronous_api) {
            if (reachable && irp->UserIosb != nullptr) {
                write_requester(irp->RequestorMode, irp->UserIosb, &irp->IoStatus, sizeof(IO_STATUS_BLOCK));
                what += ", IO_STATUS_BLOCK written";
            }
            if (irp->UserEvent != nullptr) {
                KeSetEvent(irp->UserEvent, 0, FALSE);
                what += ", caller's event set";
            } else {
                KeSetEvent(&file->Event, 0, FALSE);
                what += ", file object's event set";
            }
        } else {
            set_file_event();
        }
    }
    if (attach)
        KeUnstackDetachProcess(&apc_state);
    if (trace::Trace* t = in_service ? nullptr : active_trace())
        t->record(trace::Kind::Irp, id,
                  fmt::format("IRP#{} requester's side (IopCompleteRequest) in thread {}{}: {}{}", id,
                              self != nullptr ? self->tid() : 0,
                              attach ? fmt::format(" attached to process {}", process->pid()) : std::string(),
                              status_text(status), what.empty() ? ", nothing written (error, not pended)" : what));

    if (request != nullptr) {
        request->done = true;
        request->pending_returned = pended;
        request->status = status;
        request->information = information;
    }
    untrack_outstanding(irp);
    if (priv->event_referenced && irp->UserEvent != nullptr)
        ob::dereference(irp->UserEvent);
    FILE_OBJECT* referenced_file = priv->file_referenced ? file : nullptr;
    free_irp(irp);
    if (referenced_file != nullptr)
        ob::dereference(referenced_file);  // may be its last reference: IRP_MJ_CLOSE goes now
}

}  // namespace iosim::io
