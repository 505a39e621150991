// irp.h - I/O request packets: allocation, history, sending and completing.
//
// An IRP is allocated with its stack locations right after it, as on Windows; iosim
// keeps its own bookkeeping (IrpPrivate) just before the IRP: a number for traces, the
// completed flag that catches double completion, the requester's buffers for copy-back,
// and a short history of what happened to the IRP, which every report prints.
//
// Rules: allocation and free are lock-free (a per-host-thread cache of small IRPs);
// nothing here allocates on the hot path except the trace text, built only when tracing.
// NT counterparts: IoAllocateIrp, IoFreeIrp, IofCallDriver, IofCompleteRequest,
// IopCompleteRequest (the requester's side lives in request.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wdm_impl.h"

namespace iosim::io {

struct Request;

enum class HistoryKind : uint8_t {
    Allocated,
    Dispatched,     // sent to a device's dispatch routine (IoCallDriver)
    Returned,       // the dispatch routine returned
    Completed,      // IoCompleteRequest called
    CompletionRoutine,  // a completion routine ran
    MoreProcessing,     // a completion routine returned STATUS_MORE_PROCESSING_REQUIRED
    CopiedBack,     // buffered output copied to the caller
    Freed,
    Initialized,    // IoInitializeIrp on the driver's own memory, or IoReuseIrp
};

struct HistoryEntry {
    HistoryKind kind;
    UCHAR major;
    CHAR location;
    NTSTATUS status;
    ULONG_PTR information;
    DEVICE_OBJECT* device;
    const void* where;  // return address of the driver's call, or the routine
};

struct IrpPrivate {
    static constexpr uint32_t kLive = 0x4c707249;   // "IrpL"
    static constexpr uint32_t kFreed = 0x46707249;  // "IrpF"
    static constexpr int kHistorySize = 24;

    uint32_t magic;
    UCHAR capacity;        // stack locations allocated
    bool completed;        // IoCompleteRequest has run to the end
    bool io_manager_request;  // built by the I/O manager for a system service
    bool from_cache;
    bool abandoned;        // its system service returned without it being completed
    // Driver-built IRPs (irp_build.cpp): how the I/O manager finishes them.
    enum Built : uint8_t {
        kNotBuilt = 0,     // IoAllocateIrp (the driver frees it) or the I/O manager's own
        kThreaded = 1,     // IoBuildSynchronousFsdRequest / IoBuildDeviceIoControlRequest
        kAsynchronous = 2, // IoBuildAsynchronousFsdRequest
    };
    uint8_t built;
    bool foreign;          // IoInitializeIrp on the driver's own memory: iosim did not allocate it
    ULONG output_length;   // the caller's output buffer length (copy-back bound): builders and services
    // I/O manager requests (request.cpp, iocomplete.cpp):
    bool outstanding;      // sent for a system service and not finished yet (the requester's side)
    bool file_referenced;  // the IRP holds a reference on OriginalFileObject
    bool event_referenced; // Irp->UserEvent is an event object the IRP holds a reference on
    bool cancel_requested; // IoCancelIrp ran for it (cancel.cpp)
    uint64_t id;
    struct Request* request;  // the system service waiting on its stack (synchronous requests)
    uint32_t history_count;
    HistoryEntry history[kHistorySize];
};

// iosim's bookkeeping of an IRP: just before it for the IRPs iosim allocates (their
// AllocationFlags say IRP_ALLOCATED_FIXED_SIZE), in a side table for IRPs a driver built
// in its own memory with IoInitializeIrp.
IrpPrivate* private_of(const IRP* irp);
// The side-table record for an IRP in a driver's own memory, created (and reset) by
// IoInitializeIrp.
IrpPrivate* adopt_foreign_irp(IRP* irp, CCHAR stack_size);
// True if `irp` points at an IRP iosim allocated and has not freed.
bool is_live_irp(const IRP* irp);

IRP* allocate_irp(CCHAR stack_size, bool io_manager_request);
void free_irp(IRP* irp);

void add_history(IRP* irp, HistoryKind kind, DEVICE_OBJECT* device, NTSTATUS status, ULONG_PTR information,
                 const void* where);

// Sends `irp` to `device` like IoCallDriver; `caller` names who sent it in the history.
NTSTATUS call_driver(DEVICE_OBJECT* device, IRP* irp, const void* caller);

// Human-readable names.
const char* major_name(UCHAR major);
std::string device_name(DEVICE_OBJECT* device);
std::string driver_name(DRIVER_OBJECT* driver);

// One line per history event, for reports.
std::vector<std::string> irp_history_lines(IRP* irp);

// IRP numbers start at 1 again (each machine numbers its own IRPs).
void reset_irp_numbers();

// Installs the IRP-history formatter for bug check reports.
void install_irp_reporting();

}  // namespace iosim::io
