// request.cpp - building and sending I/O manager requests, waiting for the synchronous
// ones, the pending protocol checks, and the list of IRPs still out.
//
// Rules kept (see request.h): a request that was not pended finishes inline after
// IoCallDriver returns; a pended synchronous request waits on the file object's event (or
// its own, for a synchronous API) and returns the status the completion left; an
// asynchronous one returns STATUS_PENDING. Kernel APCs queued to the calling thread while
// it was in the service (a completion of this or an earlier request) run before it returns.
// NT counterparts: IopSynchronousServiceTail, IopCloseFile, IopDeleteFile.
#include "request.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "device.h"
#include "driver.h"
#include "file.h"
#include "irp_build.h"
#include "ke/apc.h"
#include "ke/scheduler.h"
#include "ldr/symbolize.h"
#include "mdl.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

std::mutex g_outstanding_lock;
std::map<uint64_t, OutstandingIrp> g_outstanding;  // by IRP number: reports list them in order

// The stack location the I/O manager filled (the first one a driver sees).
IO_STACK_LOCATION* first_location(IRP* irp)
{
    return reinterpret_cast<IO_STACK_LOCATION*>(irp + 1) + (irp->StackCount - 1);
}

// Did the driver that got the IRP from the I/O manager call IoMarkIrpPending?
bool marked_pending(IRP* irp, const Request& request)
{
    if (request.done)
        return request.pending_returned;
    if (private_of(irp)->completed)
        return irp->PendingReturned != FALSE;
    return (first_location(irp)->Control & SL_PENDING_RETURNED) != 0;
}

std::string describe(IRP* irp)
{
    UCHAR major = first_location(irp)->MajorFunction;
    return fmt::format("IRP#{} ({} to {})", private_of(irp)->id, major_name(major),
                       device_name(first_location(irp)->DeviceObject));
}

// The service no longer waits (it returned STATUS_PENDING, or its thread is unwinding): the
// IRP must not touch what lived on its stack.
void forget_service(IRP* irp, const Request& request, uint64_t id)
{
    if (!is_outstanding(irp, id))
        return;
    IrpPrivate* priv = private_of(irp);
    if (priv->request == &request)
        priv->request = nullptr;
}

}  // namespace

const char* service_name(UCHAR major)
{
    switch (major) {
    case IRP_MJ_CREATE: return "NtCreateFile";
    case IRP_MJ_CREATE_NAMED_PIPE: return "NtCreateNamedPipeFile";
    case IRP_MJ_FILE_SYSTEM_CONTROL: return "NtFsControlFile";
    case IRP_MJ_READ: return "NtReadFile";
    case IRP_MJ_WRITE: return "NtWriteFile";
    case IRP_MJ_DEVICE_CONTROL: return "NtDeviceIoControlFile";
    case IRP_MJ_INTERNAL_DEVICE_CONTROL: return "NtDeviceIoControlFile (internal)";
    case IRP_MJ_QUERY_INFORMATION: return "NtQueryInformationFile";
    case IRP_MJ_SET_INFORMATION: return "NtSetInformationFile";
    case IRP_MJ_CLEANUP: return "NtClose (IRP_MJ_CLEANUP)";
    case IRP_MJ_CLOSE: return "IopDeleteFile (IRP_MJ_CLOSE)";
    default: return major_name(major);
    }
}

// ---- the IRPs still out ----

void track_outstanding(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    priv->outstanding = true;
    // The requesting thread and its process stay alive while the IRP is out: its
    // requester's side runs there (on Windows a thread cannot end before its IRPs do).
    auto* thread = reinterpret_cast<Thread*>(irp->Tail.Overlay.Thread);
    if (thread != nullptr) {
        ob::reference(thread);
        ob::reference(thread->process());
    }
    std::lock_guard guard(g_outstanding_lock);
    g_outstanding[priv->id] = OutstandingIrp{irp, priv->id, thread, irp->Tail.Overlay.OriginalFileObject};
}

namespace {
void release_thread_reference(Thread* thread)
{
    if (thread == nullptr)
        return;
    Process* process = thread->process();
    ob::dereference(thread);
    ob::dereference(process);
}
}  // namespace

void untrack_outstanding(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    if (!priv->outstanding)
        return;
    priv->outstanding = false;
    {
        std::lock_guard guard(g_outstanding_lock);
        g_outstanding.erase(priv->id);
    }
    release_thread_reference(reinterpret_cast<Thread*>(irp->Tail.Overlay.Thread));
}

bool is_outstanding(const IRP* irp, uint64_t id)
{
    std::lock_guard guard(g_outstanding_lock);
    auto it = g_outstanding.find(id);
    return it != g_outstanding.end() && it->second.irp == irp;
}

std::vector<OutstandingIrp> outstanding_irps()
{
    std::lock_guard guard(g_outstanding_lock);
    std::vector<OutstandingIrp> out;
    for (const auto& [id, entry] : g_outstanding)
        out.push_back(entry);
    return out;
}

std::vector<std::string> describe_stuck_irps()
{
    std::vector<std::string> lines;
    System* sys = System::current();
    for (const OutstandingIrp& entry : outstanding_irps()) {
        IRP* irp = entry.irp;
        if (private_of(irp)->completed)
            continue;  // completed; its requester's side is queued
        Thread* thread = entry.thread;
        std::string who = thread != nullptr ? fmt::format("thread {} ({})", thread->tid(), thread->process()->image_name())
                                            : std::string("no thread");
        std::string line = fmt::format("{} for {} is still pending: no thread, DPC, timer or work item is left that "
                                       "could complete it",
                                       describe(irp), who);
        lines.push_back(line);
        if (sys != nullptr)
            sys->report({"IRP_PENDING_NOT_COMPLETED",
                         fmt::format("{} was pended and never completed; {} waits for it forever (on Windows the thread "
                                     "hangs, and cannot even exit).",
                                     describe(irp), who),
                         "", irp_history_lines(irp)});
    }
    return lines;
}

IRP* build_request_irp(FILE_OBJECT* file, DEVICE_OBJECT* top, UCHAR major, KPROCESSOR_MODE mode, bool reference_file)
{
    IRP* irp = allocate_irp(top->StackSize, true);
    irp->RequestorMode = mode;
    irp->Tail.Overlay.Thread = reinterpret_cast<PETHREAD>(current_thread());
    irp->Tail.Overlay.OriginalFileObject = file;
    if (reference_file && file != nullptr) {
        ob::reference(file);
        private_of(irp)->file_referenced = true;
    }
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

NTSTATUS send_request(DEVICE_OBJECT* top, IRP* irp, Request& request)
{
    IrpPrivate* priv = private_of(irp);
    const uint64_t id = priv->id;
    const UCHAR major = IoGetNextIrpStackLocation(irp)->MajorFunction;
    FILE_OBJECT* file = irp->Tail.Overlay.OriginalFileObject;
    System* sys = System::current();

    // The requester's fields, as NtReadFile sets them.
    KEVENT own_event;  // a synchronous API's event (IopSynchronousApiServiceTail)
    IO_STATUS_BLOCK own_iosb{};
    if (request.synchronous_api) {
        irp->Flags |= IRP_SYNCHRONOUS_API;
        if (request.user_event == nullptr) {
            KeInitializeEvent(&own_event, NotificationEvent, FALSE);
            request.user_event = &own_event;
        }
        if (request.user_iosb == nullptr)
            request.user_iosb = &own_iosb;
    }
    irp->UserIosb = request.user_iosb;
    irp->UserEvent = request.user_event;
    priv->event_referenced = request.event_referenced;
    irp->Overlay.AsynchronousParameters.UserApcRoutine = request.apc_routine;
    irp->Overlay.AsynchronousParameters.UserApcContext = request.apc_context;
    if (priv->output_length == 0)
        priv->output_length = request.user_buffer_length;
    const bool synchronous = request.synchronous_api || (file != nullptr && (file->Flags & FO_SYNCHRONOUS_IO) != 0);
    // Both events start clear: the caller's (NtReadFile: KeClearEvent(Event)) and the file
    // object's, which a synchronous request waits on.
    if (irp->UserEvent != nullptr)
        KeClearEvent(irp->UserEvent);
    if (file != nullptr && !request.synchronous_api && major != IRP_MJ_CREATE)
        KeClearEvent(&file->Event);
    KEVENT* completion_event = request.synchronous_api ? request.user_event : file != nullptr ? &file->Event : nullptr;

    priv->request = &request;
    track_outstanding(irp);
    request.dispatching = true;
    NTSTATUS status;
    try {
        status = call_driver(top, irp, nullptr);
    } catch (...) {
        // A bug check unwinding through the request: the IRP is nobody's now (freed at shutdown).
        forget_service(irp, request, id);
        throw;
    }
    request.dispatching = false;

    const bool out = !request.done && !request.deferred && is_outstanding(irp, id) && !priv->completed;
    const bool marked = marked_pending(irp, request);
    // Driver Verifier's pending protocol (I/O errors 0x23D and 0x23E, non-fatal).
    if (status == STATUS_PENDING && !marked)
        sys->report({"PENDING_NOT_MARKED",
                     fmt::format("IRP#{}: the dispatch routine of {} returned STATUS_PENDING without calling "
                                 "IoMarkIrpPending (Driver Verifier I/O error 0x23D). Windows would not know to finish "
                                 "the request in the requester's thread and the caller could wait forever; mark the "
                                 "IRP pending before returning STATUS_PENDING.",
                                 id, device_name(top)),
                     "", request.done ? std::vector<std::string>{} : irp_history_lines(irp)});
    else if (status != STATUS_PENDING && marked)
        sys->report({"PENDING_NOT_RETURNED",
                     fmt::format("IRP#{}: the dispatch routine of {} called IoMarkIrpPending but returned {} instead "
                                 "of STATUS_PENDING (Driver Verifier I/O error 0x23E). The I/O manager finishes a "
                                 "pended IRP in the requester's thread and a synchronous one inline; doing both "
                                 "corrupts the caller's state.",
                                 id, device_name(top), status_text(status)),
                     "", request.done ? std::vector<std::string>{} : irp_history_lines(irp)});

    if (request.deferred && !request.done && status != STATUS_PENDING && status != irp->IoStatus.Status)
        sys->report({"DISPATCH_STATUS_MISMATCH",
                     fmt::format("IRP#{}: the dispatch routine of {} completed the IRP with {} but returned {} (Driver "
                                 "Verifier I/O error 0x224). The caller gets the return value, the I/O manager acts on "
                                 "IoStatus.Status: return exactly the status you completed with.",
                                 id, device_name(top), status_text(irp->IoStatus.Status), status_text(status)),
                     "", irp_history_lines(irp)});
    if (request.deferred && !request.done)
        finish_request(irp, true);  // IopCompleteRequest inline: completed synchronously, not pended
    const bool pended = status == STATUS_PENDING || (out && marked);
    if (!pended && out) {
        // Neither completed nor pended: nothing will ever reach the caller.
        forget_service(irp, request, id);
        sys->report({"IRP_NOT_COMPLETED",
                     fmt::format("IRP#{}: the dispatch routine of {} returned {} without completing the IRP (no "
                                 "IoCompleteRequest and no STATUS_PENDING). Nothing reaches the caller, and on Windows "
                                 "the thread would hang when it exits (Driver Verifier I/O error 0x226).",
                                 id, device_name(top), status_text(status)),
                     "", irp_history_lines(irp)});
        return status;
    }
    if (!pended || !synchronous) {
        if (pended)
            forget_service(irp, request, id);
        ke::deliver_kernel_apcs();  // a completion queued to this thread meanwhile runs before it returns
        return status;
    }

    // A synchronous request that pended: wait until its requester's side has run (it sets
    // the event this thread waits on, as a kernel APC delivered in this very wait).
    if (!request.done) {
        std::string why = fmt::format("{} waits for {}", service_name(major), describe(irp));
        try {
            while (!request.done) {
                DISPATCHER_HEADER* header = &completion_event->Header;
                sys->scheduler().wait(&header, 1, false, nullptr, why);
                if (!request.done)
                    KeClearEvent(completion_event);  // set for another request on the same file object
            }
        } catch (...) {
            // The thread is being terminated (or the run torn down): the IRP stays out, but
            // must not write to this stack any more.
            if (is_outstanding(irp, id)) {
                forget_service(irp, request, id);
                if (irp->UserIosb == &own_iosb || request.synchronous_api)
                    irp->UserIosb = nullptr;
                if (irp->UserEvent == &own_event)
                    irp->UserEvent = nullptr;
            }
            throw;
        }
    }
    ke::deliver_kernel_apcs();
    return request.status;  // FileObject->FinalStatus (or the synchronous API's IO_STATUS_BLOCK)
}

void release_abandoned_requests()
{
    release_driver_built_irps();  // threaded IRPs never completed (irp_build.cpp)
    std::vector<OutstandingIrp> irps;
    {
        std::lock_guard guard(g_outstanding_lock);
        for (const auto& [id, entry] : g_outstanding)
            irps.push_back(entry);
        g_outstanding.clear();
    }
    for (const OutstandingIrp& entry : irps) {
        IRP* irp = entry.irp;
        IrpPrivate* priv = private_of(irp);
        priv->outstanding = false;
        if ((irp->Flags & IRP_DEALLOCATE_BUFFER) != 0)
            ex::free_system_buffer(irp->AssociatedIrp.SystemBuffer);
        if (irp->MdlAddress != nullptr)
            release_irp_mdls(irp);
        if (priv->event_referenced && irp->UserEvent != nullptr)
            ob::dereference(irp->UserEvent);
        if (priv->file_referenced && irp->Tail.Overlay.OriginalFileObject != nullptr)
            ob::dereference(irp->Tail.Overlay.OriginalFileObject);
        release_thread_reference(entry.thread);
        free_irp(irp);
    }
}

NTSTATUS send_file_notification(FILE_OBJECT* file, UCHAR major)
{
    if (System* sys = System::current(); sys != nullptr && sys->dead())
        return STATUS_UNSUCCESSFUL;  // the machine bug-checked: no driver code runs any more
    DEVICE_OBJECT* target = attached_top(file->DeviceObject);
    if (driver_body(target->DriverObject)->priv.module == nullptr &&
        (target->DriverObject->Flags & DRVO_BUILTIN_DRIVER) == 0)
        return STATUS_UNSUCCESSFUL;  // its driver has been unloaded (a device it deleted outlived it)
    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    IRP* irp = build_request_irp(file, top, major, KernelMode);
    if (major == IRP_MJ_CLOSE)
        irp->Flags |= IRP_CLOSE_OPERATION;
    Request request;
    request.synchronous_api = true;
    return send_request(top, irp, request);
}

}  // namespace iosim::io
