// ps_exports.cpp - the process and thread queries drivers call (the IRQL routines are in
// ke/irql.cpp).
// NT counterparts: PsGetCurrentProcessId, PsGetCurrentThreadId, PsGetCurrentProcess,
// IoGetCurrentProcess, PsGetThreadId, PsGetThreadProcessId.
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {
POBJECT_TYPE g_process_type_ptr = reinterpret_cast<POBJECT_TYPE>(&process_type());
POBJECT_TYPE g_thread_type_ptr = reinterpret_cast<POBJECT_TYPE>(&thread_type());
}  // namespace

extern "C" {

POBJECT_TYPE* PsProcessType = &g_process_type_ptr;
POBJECT_TYPE* PsThreadType = &g_thread_type_ptr;

HANDLE PsGetCurrentProcessId(void)
{
    Process* process = current_process();
    return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(process != nullptr ? process->pid() : 0));
}

HANDLE PsGetCurrentThreadId(void)
{
    Thread* thread = current_thread();
    return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(thread != nullptr ? thread->tid() : 0));
}

PEPROCESS PsGetCurrentProcess_iosim(void) { return reinterpret_cast<PEPROCESS>(current_process()); }
PEPROCESS IoGetCurrentProcess(void) { return reinterpret_cast<PEPROCESS>(current_process()); }
PETHREAD PsGetCurrentThread(void) { return reinterpret_cast<PETHREAD>(current_thread()); }
PKTHREAD KeGetCurrentThread(void) { return reinterpret_cast<PKTHREAD>(current_thread()); }

HANDLE PsGetProcessId(PEPROCESS Process)
{
    auto* process = reinterpret_cast<iosim::Process*>(Process);
    return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(process->pid()));
}

HANDLE PsGetThreadId(PETHREAD Thread)
{
    return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(reinterpret_cast<iosim::Thread*>(Thread)->tid()));
}

HANDLE PsGetThreadProcessId(PETHREAD Thread)
{
    iosim::Process* process = reinterpret_cast<iosim::Thread*>(Thread)->process();
    return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(process->pid()));
}

}  // extern "C"
