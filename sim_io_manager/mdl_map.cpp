// mdl_map.cpp - mapping an MDL's frames a second time, and unmapping them.
//
// KernelMode maps the frames into system space ("MDL system mapping" reservation); the
// address returned keeps the MDL's byte offset, and MappedSystemVa / MDL_MAPPED_TO_SYSTEM_VA
// record it (MDL_PARTIAL_HAS_BEEN_MAPPED too for a partial MDL). UserMode maps them into
// the current process's user space ("MDL user mapping"), at RequestedAddress if given:
// the shared-memory channel of seed 002, where a driver shows a kernel buffer to an app.
// Rules:
//  - the MDL must describe locked pages, non-paged pool, or pages from
//    MmAllocatePagesForMdl (else reported; the PFNs are used as they are);
//  - a second system mapping of one MDL is not allowed (documented): reported, and the
//    existing address is returned; non-paged pool is already mapped, so its own address
//    is returned;
//  - MdlMappingNoWrite in Priority gives a read-only mapping; user mappings are never
//    executable;
//  - a KernelMode mapping that fails returns NULL, or bug-checks NO_MORE_SYSTEM_PTES
//    (0x3F) when BugCheckOnFailure is set (MmMapLockedPages sets it); a UserMode mapping
//    that fails raises an exception, so callers wrap it in __try;
//  - unattributed host memory has no frames to map: its address is returned as is.
// MmUnmapLockedPages takes a system or a user address this MDL's mapping returned; a user
// mapping is removed only in the context of its process (else reported, nothing done).
// NT counterparts: MmMapLockedPagesSpecifyCache, MmMapLockedPages, MmUnmapLockedPages.
#include <fmt/format.h>

#include "ke/bugcheck.h"
#include "ke/seh.h"
#include "ldr/symbolize.h"
#include "mdl.h"
#include "mdl_table.h"
#include "mm/memory_manager.h"
#include "ps/process.h"
#include "system.h"

namespace iosim::io::mdl {

namespace {

constexpr ULONG kNoMoreSystemPtes = 0x3F;  // NO_MORE_SYSTEM_PTES

void report(const char* code, std::string message, const void* caller)
{
    if (System* sys = System::current())
        sys->report({code, std::move(message), caller != nullptr ? ldr::describe_call_site(caller) : "", {}});
}

std::vector<mm::Pfn> frames_of(PMDL mdl, size_t pages)
{
    const PFN_NUMBER* array = MmGetMdlPfnArray(mdl);
    return std::vector<mm::Pfn>(array, array + pages);
}

// KernelMode. Returns the address, or nullptr on failure.
void* map_system(PMDL mdl, ULONG priority, const void* caller)
{
    Table& t = table();
    void* va = MmGetMdlVirtualAddress(mdl);
    if ((mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL)) != 0) {
        report("MDL_MAPPED_TWICE",
               (mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) != 0
                   ? "MmMapLockedPagesSpecifyCache(KernelMode) was called for an MDL built by "
                     "MmBuildMdlForNonPagedPool: that memory is mapped in system space already. Use "
                     "MmGetSystemAddressForMdlSafe, which returns the existing address."
                   : "MmMapLockedPagesSpecifyCache(KernelMode) was called for an MDL already mapped in system space: "
                     "a driver must not create a second system mapping of one MDL. Use MmGetSystemAddressForMdlSafe, "
                     "which returns the existing mapping.",
               caller);
        return mdl->MappedSystemVa;
    }
    size_t pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, mdl->ByteCount);
    bool real;
    bool unlocked;
    {
        std::lock_guard guard(t.lock);
        auto it = t.records.find(mdl);
        Record* record = it != t.records.end() ? &it->second : nullptr;
        real = frames_are_real(mdl, record);
        unlocked = (mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL)) == 0 &&
                   (record == nullptr || record->origin != Origin::PagesForMdl);
    }
    if (unlocked)  // (reported outside the table lock: a report may run inspection commands)
        report("MDL_NOT_LOCKED",
               "MmMapLockedPagesSpecifyCache was called for an MDL whose pages are not locked: lock them "
               "(MmProbeAndLockPages) or build the MDL with MmBuildMdlForNonPagedPool / MmAllocatePagesForMdl first, "
               "or the PFN array describes nothing.",
               caller);
    void* address = va;
    void* base = nullptr;
    mm::MemoryManager* memory = mm::current();
    if (real && memory != nullptr && pages != 0) {
        std::vector<mm::Pfn> pfns = frames_of(mdl, pages);
        ULONG protect = (priority & MdlMappingNoWrite) != 0 ? PAGE_READONLY : PAGE_READWRITE;
        base = memory->system_space().map(pfns.data(), pages, "MDL system mapping", protect);
        if (base == nullptr)
            return nullptr;
        address = static_cast<char*>(base) + mdl->ByteOffset;
    }
    mdl->MappedSystemVa = address;
    mdl->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
    if ((mdl->MdlFlags & MDL_PARTIAL) != 0)
        mdl->MdlFlags |= MDL_PARTIAL_HAS_BEEN_MAPPED;
    std::lock_guard guard(t.lock);
    Record& record = record_for(t, mdl, caller);
    record.real = real;
    record.system_base = base;
    record.system_pages = base != nullptr ? pages : 0;
    record.mapped_at = caller;
    record.mapper = driver_of(caller);
    return address;
}

// UserMode: maps into the current process. Returns STATUS_SUCCESS and the address.
NTSTATUS map_user(PMDL mdl, PVOID requested, ULONG priority, const void* caller, void** out)
{
    Process* process = current_process();
    if (process == nullptr || process->memory == nullptr)
        return STATUS_INVALID_PARAMETER;  // a system thread has no user space to map into
    void* va = MmGetMdlVirtualAddress(mdl);
    size_t pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, mdl->ByteCount);
    bool real;
    {
        Table& t = table();
        std::lock_guard guard(t.lock);
        auto it = t.records.find(mdl);
        real = frames_are_real(mdl, it != t.records.end() ? &it->second : nullptr);
    }
    if (!real || pages == 0) {
        *out = va;  // unattributed host memory: visible everywhere already
        return STATUS_SUCCESS;
    }
    std::vector<mm::Pfn> pfns = frames_of(mdl, pages);
    ULONG protect = (priority & MdlMappingNoWrite) != 0 ? PAGE_READONLY : PAGE_READWRITE;
    mm::AddressSpace& space = *process->memory->space;
    uintptr_t at = requested != nullptr ? mm::page_down(mm::addr(requested)) : 0;
    void* base = space.reserve(pages, "MDL user mapping", protect, at);
    if (base == nullptr)
        return requested != nullptr ? STATUS_CONFLICTING_ADDRESSES : STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS status = space.map_frames(base, pfns.data(), pages, protect);
    if (!NT_SUCCESS(status)) {
        space.release(base);
        return status;
    }
    Table& t = table();
    std::lock_guard guard(t.lock);
    record_for(t, mdl, caller).user_mappings.push_back({process, base, pages, caller});
    *out = static_cast<char*>(base) + mdl->ByteOffset;
    return STATUS_SUCCESS;
}

// Keeps a KernelMode failure's bug check out of the mapping's own frame.
[[noreturn]] void no_more_ptes(PMDL mdl, const void* caller)
{
    bugcheck(kNoMoreSystemPtes, 0, reinterpret_cast<ULONG_PTR>(mdl), mdl->ByteCount, 0, caller, nullptr,
             "MmMapLockedPages(KernelMode) could not map the MDL into system space, and it bug-checks on failure: "
             "use MmGetSystemAddressForMdlSafe or MmMapLockedPagesSpecifyCache with BugCheckOnFailure FALSE and "
             "handle NULL.");
}

void* map(PMDL mdl, KPROCESSOR_MODE mode, PVOID requested, ULONG bugcheck_on_failure, ULONG priority,
          const void* caller, NTSTATUS* raise)
{
    *raise = STATUS_SUCCESS;
    if (mode == KernelMode) {
        void* address = map_system(mdl, priority, caller);
        if (address == nullptr && bugcheck_on_failure)
            no_more_ptes(mdl, caller);
        return address;
    }
    void* address = nullptr;
    NTSTATUS status = map_user(mdl, requested, priority, caller, &address);
    if (!NT_SUCCESS(status))
        *raise = status;
    return address;
}

}  // namespace

void unmap(PVOID base, PMDL mdl, const void* caller)
{
    mm::MemoryManager* memory = mm::current();
    Table& t = table();
    std::unique_lock guard(t.lock);
    auto it = t.records.find(mdl);
    Record* record = it != t.records.end() ? &it->second : nullptr;
    uintptr_t page = mm::page_down(mm::addr(base));
    // The system mapping this MDL made.
    if (record != nullptr && record->system_base != nullptr && mm::addr(record->system_base) == page) {
        void* system_base = record->system_base;
        record->system_base = nullptr;
        record->system_pages = 0;
        guard.unlock();
        if (memory != nullptr)
            memory->system_space().release(system_base);
        mdl->MdlFlags &= ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
        mdl->MappedSystemVa = nullptr;
        return;
    }
    // A user mapping.
    if (record != nullptr) {
        for (auto m = record->user_mappings.begin(); m != record->user_mappings.end(); ++m) {
            if (mm::addr(m->base) != page)
                continue;
            UserMapping mapping = *m;
            if (mapping.process != current_process()) {
                // A user mapping is removed in its own process's context: here that address
                // means something else (on Windows, whatever the current process has there).
                guard.unlock();
                report("MDL_UNMAP_WRONG_PROCESS",
                       fmt::format("MmUnmapLockedPages was called for the user address {} in process {}, but that "
                                   "mapping belongs to process {}: unmap a user-mode mapping in the context of the "
                                   "process it was made in (its own request, or IRP_MJ_CLEANUP). Nothing was unmapped.",
                                   base, current_process() != nullptr ? current_process()->pid() : 0,
                                   mapping.process->pid()),
                       caller);
                return;
            }
            record->user_mappings.erase(m);
            guard.unlock();
            if (mapping.process->memory != nullptr)
                mapping.process->memory->space->release(mapping.base);
            return;
        }
    }
    // Unattributed memory "mapped" at its own address.
    if ((mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) != 0 && base == mdl->MappedSystemVa &&
        (record == nullptr || record->system_base == nullptr) && (mdl->MdlFlags & MDL_PARENT_MAPPED_SYSTEM_VA) == 0) {
        mdl->MdlFlags &= ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
        mdl->MappedSystemVa = nullptr;
        return;
    }
    guard.unlock();
    report("MDL_UNMAP_NOT_MAPPED",
           fmt::format("MmUnmapLockedPages was given {}, which is not an address this MDL's mapping returned (never "
                       "mapped, unmapped already, its process has exited, or the address of non-paged pool an MDL "
                       "merely describes). Nothing was unmapped.",
                       base),
           caller);
}

}  // namespace iosim::io::mdl

using namespace iosim;
using namespace iosim::io;

extern "C" {

PVOID MmMapLockedPagesSpecifyCache(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode, MEMORY_CACHING_TYPE CacheType,
                                   PVOID RequestedAddress, ULONG BugCheckOnFailure, ULONG Priority)
{
    const void* caller = __builtin_return_address(0);
    NTSTATUS raise = STATUS_SUCCESS;
    void* address =
        mdl::map(MemoryDescriptorList, AccessMode, RequestedAddress, BugCheckOnFailure, Priority, caller, &raise);
    if (!NT_SUCCESS(raise))
        seh::raise(raise, caller);  // UserMode: the documented exception (callers use __try)
    return address;
}

PVOID MmMapLockedPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode)
{
    const void* caller = __builtin_return_address(0);
    NTSTATUS raise = STATUS_SUCCESS;
    void* address = mdl::map(MemoryDescriptorList, AccessMode, nullptr, TRUE, HighPagePriority, caller, &raise);
    if (!NT_SUCCESS(raise))
        seh::raise(raise, caller);
    return address;
}

void MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList)
{
    mdl::unmap(BaseAddress, MemoryDescriptorList, __builtin_return_address(0));
}

}  // extern "C"
