// system_thread.h - system threads: kernel-mode threads a driver creates with
// PsCreateSystemThread / IoCreateSystemThread, and the question "does a driver's code still
// run in one?" asked when the driver unloads.
//
// A system thread is a scheduler context (ke/scheduler.h) running its start routine at
// PASSIVE_LEVEL, in the System process or in the process whose handle the driver passed.
// Its handle is a kernel handle to its Thread object, which is a dispatcher object:
// KeWaitForSingleObject on it returns when the thread has ended. Rules kept:
//  - PsTerminateSystemThread ends only the calling system thread (from any other thread it
//    returns STATUS_INVALID_PARAMETER); returning from the start routine ends it too.
//  - A system thread that ends at an IRQL above PASSIVE_LEVEL, or inside a critical region,
//    is bug check KERNEL_APC_PENDING_DURING_EXIT (0x20; parameter 2 the APC disable count,
//    parameter 3 the IRQL).
//  - IoCreateSystemThread references its IoObject (a device or driver object) until the
//    thread ends, so the driver cannot unload under it.
//  - A thread still running a driver's code when that driver's image is unloaded would, on
//    Windows, fault in freed image memory: DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS
//    (0xCE). iosim says so at the unload (io/driver.cpp asks code_running_in).
// NT counterparts: PspCreateThread, PspSystemThreadStartup, PsTerminateSystemThread,
// IoCreateSystemThread, PsLookupThreadByThreadId, PsLookupProcessByProcessId.
#pragma once

#include <vector>

#include "nt.h"

namespace iosim {
class Thread;
namespace ldr {
struct Module;
}
}  // namespace iosim

namespace iosim::ps {

// A thread that has not ended and whose code lies in a module: a system thread whose
// start routine does, or a worker thread inside a routine that does.
struct CodeInModule {
    Thread* thread;
    const void* routine;
    const char* what;  // "system thread", "work item"
};

// System threads started by code of `module` (their start routine is in it) that have not ended.
std::vector<CodeInModule> system_threads_running_in(const ldr::Module* module);

}  // namespace iosim::ps
