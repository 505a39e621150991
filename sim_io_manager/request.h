// request.h - how a system service drives one IRP: build, send, wait, finish.
//
// The service (create_file, read_file, ...) allocates an IRP sized for the top of the
// device stack, fills the first stack location, sends it with IoCallDriver and, for a
// synchronous file object, waits until it is completed. Completion on the requester's
// side (complete_for_requester, IopCompleteRequest's counterpart) copies buffered output
// back when the status is not an error, writes the caller's IO_STATUS_BLOCK under the
// same rule, and frees the IRP.
#pragma once

#include "irp.h"
#include "wdm_impl.h"

namespace iosim::io {

// What the waiting service keeps on its stack while its IRP is out.
struct Request {
    bool dispatching = false;   // the service is still inside IoCallDriver
    bool deferred = false;      // completed while dispatching: finish after IoCallDriver returns
    bool done = false;          // the requester's side of completion ran
    NTSTATUS status = 0;        // final IoStatus.Status
    ULONG_PTR information = 0;  // final IoStatus.Information
    IO_STATUS_BLOCK* user_iosb = nullptr;
    ULONG user_buffer_length = 0;  // for buffered copy-back bounds
};

// An IRP for `file` on `top` (the top of its device stack) with the first stack location
// set to `major`; RequestorMode, Thread and OriginalFileObject filled in.
IRP* build_request_irp(FILE_OBJECT* file, DEVICE_OBJECT* top, UCHAR major, KPROCESSOR_MODE mode);

// Sends the IRP and returns what the system service returns: the dispatch routine's
// status, or the final status for a request that pended and then completed.
NTSTATUS send_request(DEVICE_OBJECT* top, IRP* irp, Request& request);

// Runs after the last completion routine (called from IofCompleteRequest). While the
// service is still inside IoCallDriver the work is deferred until the call returns, as
// Windows does for synchronous requests (IRP_DEFER_IO_COMPLETION), so a trace reads
// dispatched -> completed -> returned -> copied back -> freed.
void complete_for_requester(IRP* irp);

// Frees the IRPs whose system service gave up on them (never completed, or pended with
// nothing to complete them); called at machine shutdown, after the drivers are gone.
void release_abandoned_requests();

// Sends IRP_MJ_CLEANUP or IRP_MJ_CLOSE for a file object and waits for it.
NTSTATUS send_file_notification(FILE_OBJECT* file, UCHAR major);

}  // namespace iosim::io
