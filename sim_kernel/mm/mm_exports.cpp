// mm_exports.cpp - the memory manager's kernel exports that are not about MDLs or pool:
// physical addresses, address validity, and attaching a thread to another process.
//
// KeStackAttachProcess makes the current thread run in another process's address space
// (its user pages become the visible ones) until KeUnstackDetachProcess; attaches nest,
// each saving the previous state in the caller's KAPC_STATE. The stack the attaching
// code runs on stays reachable even if it lies in the process being left.
// NT counterparts: KeStackAttachProcess, KeUnstackDetachProcess, KeAttachProcess,
// KeDetachProcess, MmGetPhysicalAddress, MmIsAddressValid.
#include <fmt/format.h>

#include <cstring>

#include "ke/bugcheck.h"
#include "mm/memory_manager.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

Process* as_process(PRKPROCESS process) { return reinterpret_cast<Process*>(process); }

// KAPC_STATE.InProgressFlags marks a state filled by KeStackAttachProcess, so a detach
// with a state that never saw an attach is caught.
constexpr UCHAR kAttachedMark = 0xA7;

void trace_attach(const char* what, Process* process)
{
    System* sys = System::current();
    if (sys != nullptr && sys->trace().enabled() && process != nullptr)
        sys->trace().record(trace::Kind::Process, 0,
                            fmt::format("{}: thread {} now runs in process {} ({})", what,
                                        current_thread() != nullptr ? current_thread()->tid() : 0, process->pid(),
                                        process->image_name()));
}

}  // namespace

extern "C" {

void KeStackAttachProcess(PRKPROCESS Process, PRKAPC_STATE ApcState)
{
    Thread* thread = current_thread();
    if (thread == nullptr || Process == nullptr || ApcState == nullptr)
        bugcheck(INVALID_PROCESS_ATTACH_ATTEMPT, reinterpret_cast<ULONG_PTR>(Process), 0, 0, 0,
                 __builtin_return_address(0), nullptr,
                 "KeStackAttachProcess needs a process and a KAPC_STATE to save the current state in.");
    std::memset(ApcState, 0, sizeof(*ApcState));
    ApcState->Process = reinterpret_cast<PRKPROCESS>(thread->attached_process);
    ApcState->InProgressFlags = kAttachedMark;
    thread->attached_process = as_process(Process) == thread->process() ? nullptr : as_process(Process);
    ps::switch_address_space();
    trace_attach("KeStackAttachProcess", current_process());
}

void KeUnstackDetachProcess(PRKAPC_STATE ApcState)
{
    Thread* thread = current_thread();
    if (thread == nullptr || ApcState == nullptr || ApcState->InProgressFlags != kAttachedMark)
        bugcheck(INVALID_PROCESS_DETACH_ATTEMPT, reinterpret_cast<ULONG_PTR>(ApcState), 0, 0, 0,
                 __builtin_return_address(0), nullptr,
                 "KeUnstackDetachProcess was given a KAPC_STATE that KeStackAttachProcess did not fill.");
    thread->attached_process = as_process(ApcState->Process);
    ApcState->InProgressFlags = 0;
    ps::switch_address_space();
    trace_attach("KeUnstackDetachProcess", current_process());
}

void KeAttachProcess(PRKPROCESS Process)
{
    Thread* thread = current_thread();
    if (thread == nullptr || thread->attached_process != nullptr)
        bugcheck(INVALID_PROCESS_ATTACH_ATTEMPT, reinterpret_cast<ULONG_PTR>(Process), 0, 0, 0,
                 __builtin_return_address(0), nullptr,
                 "KeAttachProcess does not nest: the thread is already attached to a process (use "
                 "KeStackAttachProcess).");
    thread->attached_process = as_process(Process) == thread->process() ? nullptr : as_process(Process);
    ps::switch_address_space();
    trace_attach("KeAttachProcess", current_process());
}

void KeDetachProcess(void)
{
    Thread* thread = current_thread();
    if (thread == nullptr)
        return;
    thread->attached_process = nullptr;
    ps::switch_address_space();
    trace_attach("KeDetachProcess", current_process());
}

PHYSICAL_ADDRESS MmGetPhysicalAddress(PVOID BaseAddress)
{
    PHYSICAL_ADDRESS result{};
    mm::MemoryManager* memory = mm::current();
    if (memory == nullptr)
        return result;
    mm::AddressInfo info = memory->classify(BaseAddress);
    // A user address means something only in its own process: in another context there is
    // no translation, as on Windows (the current page tables do not map it).
    if (info.region == mm::Region::User && info.owner != current_process())
        return result;
    if (auto pfn = memory->pfn_of(BaseAddress))
        result.QuadPart = static_cast<LONGLONG>(mm::PhysicalMemory::physical_address(*pfn) |
                                                (mm::addr(BaseAddress) & (mm::kPageSize - 1)));
    return result;
}

BOOLEAN MmIsAddressValid(PVOID VirtualAddress)
{
    mm::MemoryManager* memory = mm::current();
    if (memory == nullptr)
        return TRUE;
    mm::AddressInfo info = memory->classify(VirtualAddress);
    switch (info.region) {
    case mm::Region::NullPage:
        return FALSE;
    case mm::Region::User:
        return info.owner == current_process() && info.page.committed;
    case mm::Region::System:
        return info.page.committed;
    default:
        return TRUE;  // images and host memory are always mapped
    }
}

}  // extern "C"
