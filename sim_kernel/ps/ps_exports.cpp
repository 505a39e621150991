// ps_exports.cpp - process/thread queries and IRQL basics drivers call.
// NT counterparts: PsGetCurrentProcessId, PsGetCurrentThreadId, PsGetCurrentProcess,
// IoGetCurrentProcess, KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql.
#include <fmt/format.h>

#include "ke/bugcheck.h"
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

KIRQL KeGetCurrentIrql(void)
{
    Thread* thread = current_thread();
    return thread != nullptr ? thread->irql : PASSIVE_LEVEL;
}

void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    Thread* thread = current_thread();
    *OldIrql = thread->irql;
    if (NewIrql < thread->irql)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, NewIrql, thread->irql, 0, 0, __builtin_return_address(0), nullptr,
                 fmt::format("KeRaiseIrql was asked to go from IRQL {} down to {}: raising must not lower the IRQL.",
                             thread->irql, NewIrql));
    thread->irql = NewIrql;
}

void KeLowerIrql(KIRQL NewIrql)
{
    Thread* thread = current_thread();
    if (NewIrql > thread->irql)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, NewIrql, thread->irql, 0, 0, __builtin_return_address(0), nullptr,
                 fmt::format("KeLowerIrql was asked to go from IRQL {} up to {}: lowering must not raise the IRQL.",
                             thread->irql, NewIrql));
    KIRQL old = thread->irql;
    thread->irql = NewIrql;
    // Dropping below DISPATCH_LEVEL lets queued DPCs run, as the DPC software interrupt does.
    if (old >= DISPATCH_LEVEL && NewIrql < DISPATCH_LEVEL)
        if (System* sys = System::current())
            sys->scheduler().run_dpcs();
}

KIRQL KeRaiseIrqlToDpcLevel(void)
{
    Thread* thread = current_thread();
    KIRQL old = thread->irql;
    if (old < DISPATCH_LEVEL)
        thread->irql = DISPATCH_LEVEL;
    return old;
}

void PagedCodeCheck_iosim(void)
{
    Thread* thread = current_thread();
    if (thread != nullptr && thread->irql > APC_LEVEL)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, 0, thread->irql, 0, 0, __builtin_return_address(0), nullptr,
                 fmt::format("PAGED_CODE() ran at IRQL {}: pageable code may only run at PASSIVE_LEVEL or APC_LEVEL.",
                             thread->irql));
}

}  // extern "C"
