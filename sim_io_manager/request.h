// request.h - how a system service drives one IRP: build, send, wait, finish.
//
// The service (create_file, read_file, ...) allocates an IRP sized for the top of the
// device stack, fills the first stack location and the requester's fields (UserIosb,
// UserEvent, the APC routine and context), and sends it with IoCallDriver. Then, as
// NtReadFile & co. do:
//   - the dispatch routine completed it without pending it: the requester's side of
//     completion (iocomplete.cpp, IopCompleteRequest) runs inline, after IoCallDriver
//     returns (IRP_DEFER_IO_COMPLETION), and the service returns the dispatch's status;
//   - it pended (STATUS_PENDING): a synchronous request (FO_SYNCHRONOUS_IO file object, or a
//     synchronous API such as create or close) waits - a real scheduler wait - on the file
//     object's event or its own, and returns the final status; an asynchronous one returns
//     STATUS_PENDING at once and the requester's side runs later, as a kernel APC in the
//     requesting thread, when some thread, DPC or work item completes the IRP.
// Driver Verifier's rules about the pending protocol are reported (request.cpp):
// STATUS_PENDING without IoMarkIrpPending (I/O error 0x23D), IoMarkIrpPending with another
// return value (0x23E), a dispatch that returns without completing or pending (0x226).
// IRPs still out are tracked: a deadlock report names them (IRP_PENDING_NOT_COMPLETED),
// cancellation (cancel.cpp) finds them, and shutdown frees what nothing completed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "irp.h"
#include "wdm_impl.h"

namespace iosim {
class Thread;
class Process;
}

namespace iosim::io {

// What the service fills in before send_request, and (synchronous requests) what it gets
// back. It lives on the service's stack; an asynchronous request forgets it when the
// service returns (the IRP's own fields carry the rest).
struct Request {
    IO_STATUS_BLOCK* user_iosb = nullptr;  // Irp->UserIosb: where the final IoStatus goes
    KEVENT* user_event = nullptr;          // Irp->UserEvent (OVERLAPPED.hEvent's event)
    bool event_referenced = false;         // user_event is an event object the IRP holds a reference on
    PIO_APC_ROUTINE apc_routine = nullptr; // a user APC queued at completion (ReadFileEx)
    PVOID apc_context = nullptr;           // its context, or the completion packet's (the OVERLAPPED)
    ULONG user_buffer_length = 0;          // the caller's output buffer: the copy-back bound
    bool synchronous_api = false;          // IRP_SYNCHRONOUS_API: waits on its own event, whatever the file
    // Filled in as the request goes.
    bool dispatching = false;  // the service is still inside IoCallDriver
    bool deferred = false;     // completed while dispatching, not pended: finish after IoCallDriver
    bool done = false;         // the requester's side of completion ran
    bool pending_returned = false;  // Irp->PendingReturned when it finished
    NTSTATUS status = 0;       // final IoStatus.Status
    ULONG_PTR information = 0; // final IoStatus.Information
};

// An IRP for `file` on `top` (the top of its device stack) with the first stack location
// set to `major`; RequestorMode, Thread and OriginalFileObject filled in. With
// `reference_file`, the IRP holds a reference on the file object until it is finished (the
// transfer services; not CLEANUP/CLOSE, which run while the file object goes away).
IRP* build_request_irp(FILE_OBJECT* file, DEVICE_OBJECT* top, UCHAR major, KPROCESSOR_MODE mode,
                       bool reference_file = false);

// Sends the IRP and returns what the system service returns: the dispatch routine's
// status, the final status of a synchronous request that pended, or STATUS_PENDING for an
// asynchronous one still out.
NTSTATUS send_request(DEVICE_OBJECT* top, IRP* irp, Request& request);

// Runs after the last completion routine (called from IofCompleteRequest): deferred to the
// service when it is still inside IoCallDriver and the IRP was not pended; otherwise queued
// as a kernel APC to the requesting thread (iocomplete.cpp).
void complete_for_requester(IRP* irp);

// The requester's side of completion: copy-back, IO_STATUS_BLOCK, events, APC or completion
// packet, free (iocomplete.cpp). `in_service`: run inline by the service after IoCallDriver
// (the plain synchronous case, traced as before: copy-back and free); otherwise it ran as a
// kernel APC or attached, and a trace line says where and what it did.
// NT counterpart: IopCompleteRequest.
void finish_request(IRP* irp, bool in_service = false);

// ---- IRPs still out (request.cpp) ----
// An I/O manager IRP sent for a service and not finished.
struct OutstandingIrp {
    IRP* irp;
    uint64_t id;
    Thread* thread;      // the requesting thread (Irp->Tail.Overlay.Thread)
    FILE_OBJECT* file;   // Irp->Tail.Overlay.OriginalFileObject
};
void track_outstanding(IRP* irp);
void untrack_outstanding(IRP* irp);
// True while the IRP numbered `id` at `irp` is still out (safe on freed memory: a lookup).
bool is_outstanding(const IRP* irp, uint64_t id);
std::vector<OutstandingIrp> outstanding_irps();
// Lines naming the IRPs still out that nothing completed (deadlock reports); each also
// becomes an IRP_PENDING_NOT_COMPLETED finding.
std::vector<std::string> describe_stuck_irps();

// Frees the IRPs whose system service gave up on them (never completed, or pended with
// nothing to complete them); called at machine shutdown, after the drivers are gone.
void release_abandoned_requests();

// Sends IRP_MJ_CLEANUP or IRP_MJ_CLOSE for a file object and waits for it.
NTSTATUS send_file_notification(FILE_OBJECT* file, UCHAR major);

// "NtReadFile" for IRP_MJ_READ, ...: the service a request came from, for waits and reports.
const char* service_name(UCHAR major);

}  // namespace iosim::io
