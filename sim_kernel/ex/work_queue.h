// work_queue.h - the executive's system worker threads and their queues.
//
// Work (an ExQueueWorkItem WORK_QUEUE_ITEM, or an I/O work item from sim_io_manager) is
// queued to one of the queues (CriticalWorkQueue, DelayedWorkQueue, HyperCriticalWorkQueue)
// and run, first in first out, by that queue's worker threads: scheduler contexts in the
// System process at PASSIVE_LEVEL, created when work arrives and no worker of the queue is
// free (at most kWorkersPerQueue), ending when their queue is empty. Their priorities are
// Windows': 12 (delayed), 13 (critical), 15 (hypercritical).
// After each routine the worker checks what ExpWorkerThread checks:
//  - the IRQL must be PASSIVE_LEVEL again: WORKER_THREAD_RETURNED_AT_BAD_IRQL (0xE1;
//    routine, IRQL, parameter, item);
//  - critical regions must be balanced: APC_INDEX_MISMATCH (0x1; routine, 0, the APC
//    disable count, 1 = a worker routine).
// A worker routine that calls PsTerminateSystemThread is ACTIVE_EX_WORKER_THREAD_TERMINATION
// (0xE9). Work whose routine lies in a driver that unloads while the work is queued or
// running is listed by work_in (the unload reports it, ps/system_thread.h).
// NT counterparts: ExQueueWorkItem, ExpWorkerThread, ExpCreateWorkerThread, ExWorkerQueue.
#pragma once

#include <functional>
#include <vector>

#include "ps/system_thread.h"
#include "wdm_impl.h"

namespace iosim::ex {

constexpr unsigned kWorkersPerQueue = 4;

struct WorkRequest {
    const void* routine = nullptr;   // the driver's routine: reports, unload checks
    PVOID parameter = nullptr;       // its context (bug check parameter 3)
    const void* item = nullptr;      // the work item (bug check parameter 4)
    const char* kind = "work item";  // "work item", "I/O work item"
    std::function<void()> run;       // calls the routine (in the worker, at PASSIVE_LEVEL)
    std::function<void()> done;      // after the routine returned and passed the checks
};

// Queues `request` (callable at IRQL <= DISPATCH_LEVEL); a worker runs it later.
void queue_work(WorkRequest request, WORK_QUEUE_TYPE type);

// Queued or running work whose routine lies in `module`.
std::vector<ps::CodeInModule> work_in(const ldr::Module* module);

// The module is going away anyway (a bug check, or the machine's end): its queued work is
// dropped (each request's `done` still runs), and the workers inside one of its routines
// are returned for the caller to terminate before the image is unmapped.
std::vector<Thread*> cancel_work_in(const ldr::Module* module);

}  // namespace iosim::ex
