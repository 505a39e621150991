// mdl_lock.cpp - locking an MDL's pages, unlocking them, and MDLs for non-paged pool.
//
// MmProbeAndLockPages looks every page of the buffer up in the address space the
// address belongs to and fills the PFN array with the frames behind them, each frame
// gaining a reference (the lock), so it survives the user mapping going away. Rules:
//  - UserMode: a range reaching kernel space (system space, a driver image) or wrapping
//    raises STATUS_ACCESS_VIOLATION, like ProbeForRead;
//  - a user address must be the current process's: another process's page is not there
//    in this context (access violation);
//  - every page must be committed and readable, and writable for IoWriteAccess /
//    IoModifyAccess (which are the same); else STATUS_ACCESS_VIOLATION is raised with
//    the first bad address, for the caller's __try to catch;
//  - unattributed host memory (tests' buffers, driver globals, app images) is locked by
//    name only: its "frames" are virtual page numbers (mdl.h); a page the host has not
//    mapped at all (a wild pointer) fails like an uncommitted one;
//  - locking a locked MDL, or one MmBuildMdlForNonPagedPool / IoBuildPartialMdl built, is
//    not allowed: reported, and nothing is done;
//  - MmUnlockPages on an MDL that is not locked is bug check PROCESS_HAS_LOCKED_PAGES
//    (0x76) with parameter 1 (documented); unlocking releases the system mapping too.
// MmBuildMdlForNonPagedPool fills the PFNs of a system-space buffer and marks the MDL
// MDL_SOURCE_IS_NONPAGED_POOL with MappedSystemVa = the buffer itself (already mapped).
// NT counterparts: MmProbeAndLockPages, MmUnlockPages, MmBuildMdlForNonPagedPool.
#include <fmt/format.h>
#include <sys/mman.h>

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

constexpr ULONG kProcessHasLockedPages = 0x76;  // PROCESS_HAS_LOCKED_PAGES

bool readable(ULONG protect) { return mm::host_protection(protect) != PROT_NONE && (protect & PAGE_GUARD) == 0; }
bool writable(ULONG protect) { return (mm::host_protection(protect) & PROT_WRITE) != 0; }

struct ProbeFailure {
    uintptr_t address = 0;
    bool write = false;
};

bool is_kernel(mm::Region region) { return region == mm::Region::System || region == mm::Region::DriverImage; }

// Host memory iosim did not hand out: is every page of it mapped at all? (A wild pointer
// fails here as an uncommitted page would, instead of faulting later in the driver.)
bool host_pages_mapped(uintptr_t start, size_t pages, uintptr_t va, bool write, ProbeFailure& failure)
{
    for (size_t i = 0; i < pages; ++i) {
        uintptr_t page = start + i * mm::kPageSize;
        unsigned char resident = 0;
        if (mincore(reinterpret_cast<void*>(page), mm::kPageSize, &resident) != 0) {
            failure = {std::max(page, va), write};
            return false;
        }
    }
    return true;
}

// Fills `pfns` for the `pages` pages from `start` in `space`, checking each page. Returns
// false with the first bad address.
bool frames_of(const mm::AddressSpace& space, uintptr_t start, size_t pages, uintptr_t va, bool write,
               std::vector<mm::Pfn>& pfns, ProbeFailure& failure)
{
    for (size_t i = 0; i < pages; ++i) {
        uintptr_t page = start + i * mm::kPageSize;
        mm::PageInfo info = space.contains(reinterpret_cast<void*>(page)) ? space.lookup(reinterpret_cast<void*>(page))
                                                                          : mm::PageInfo{};
        if (!info.committed || !readable(info.protect) || (write && !writable(info.protect))) {
            failure = {std::max(page, va), write};
            return false;
        }
        pfns.push_back(info.pfn);
    }
    return true;
}

// The work of MmProbeAndLockPages; never raises (the caller does, with nothing left to
// destroy on its frame).
bool probe_and_lock(PMDL mdl, KPROCESSOR_MODE mode, LOCK_OPERATION operation, const void* caller,
                    ProbeFailure& failure)
{
    System* sys = System::current();
    if ((mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL)) != 0) {
        const char* what = (mdl->MdlFlags & MDL_PAGES_LOCKED) != 0 ? "is locked already: call MmUnlockPages first"
                           : (mdl->MdlFlags & MDL_PARTIAL) != 0
                               ? "was built by IoBuildPartialMdl: its pages are the source MDL's, locked with it"
                               : "was built by MmBuildMdlForNonPagedPool: non-paged pool needs no lock";
        if (sys != nullptr)
            sys->report({"MDL_LOCK_NOT_ALLOWED",
                         fmt::format("MmProbeAndLockPages was called for an MDL that {}. iosim left it as it was.", what),
                         ldr::describe_call_site(caller), {}});
        return true;
    }
    const bool write = operation != IoReadAccess;
    auto va = reinterpret_cast<uintptr_t>(MmGetMdlVirtualAddress(mdl));
    size_t length = mdl->ByteCount;
    size_t pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length);
    uintptr_t start = mm::page_down(va);
    mm::MemoryManager* memory = mm::current();

    std::vector<mm::Pfn> pfns;
    bool real = false;
    Process* process = nullptr;
    if (pages != 0 && memory != nullptr) {
        uintptr_t last = va + length - 1;
        if (last < va) {
            failure = {va, write};
            return false;
        }
        mm::AddressInfo first = memory->classify(reinterpret_cast<void*>(va));
        mm::AddressInfo end = memory->classify(reinterpret_cast<void*>(last));
        if (mode == UserMode && (is_kernel(first.region) || is_kernel(end.region))) {
            failure = {is_kernel(first.region) ? va : last, write};
            return false;
        }
        switch (first.region) {
        case mm::Region::NullPage:
            failure = {va, write};
            return false;
        case mm::Region::User: {
            // Only the current process's user space is there to be locked.
            Process* current = current_process();
            if (first.owner != current || current == nullptr || current->memory == nullptr) {
                failure = {va, write};
                return false;
            }
            if (!frames_of(*current->memory->space, start, pages, va, write, pfns, failure))
                return false;
            real = true;
            process = current;
            break;
        }
        case mm::Region::System:
            if (!frames_of(memory->system_space(), start, pages, va, write, pfns, failure))
                return false;
            real = true;
            break;
        case mm::Region::AppImage:
            if (first.owner != nullptr && first.owner != current_process()) {
                failure = {va, write};
                return false;
            }
            if (!host_pages_mapped(start, pages, va, write, failure))
                return false;
            break;
        case mm::Region::Unknown:
        case mm::Region::DriverImage:
            if (!host_pages_mapped(start, pages, va, write, failure))
                return false;
            break;
        }
    }
    PPFN_NUMBER array = MmGetMdlPfnArray(mdl);
    for (size_t i = 0; i < pages; ++i)
        array[i] = real ? pfns[i] : (start >> PAGE_SHIFT) + i;
    if (real)
        for (mm::Pfn pfn : pfns)
            memory->physical().add_ref(pfn);  // the lock: the frame outlives the mapping
    mdl->Process = reinterpret_cast<PEPROCESS>(process);
    mdl->MdlFlags |= MDL_PAGES_LOCKED;
    if (write)
        mdl->MdlFlags |= MDL_WRITE_OPERATION;

    Table& t = table();
    std::lock_guard guard(t.lock);
    Record& record = record_for(t, mdl, caller);
    record.locked = true;
    record.real = real;
    record.va = va;
    record.bytes = mdl->ByteCount;
    record.process = process;
    record.locked_at = caller;
    record.locked_by_driver = driver_of(caller) != nullptr;
    record.locker = driver_of(caller);
    record.locked_where.clear();
    record.locked_frames = real ? std::move(pfns) : std::vector<mm::Pfn>{};
    return true;
}

}  // namespace

void unlock(PMDL mdl)
{
    Table& t = table();
    std::vector<mm::Pfn> frames;
    void* system_base = nullptr;
    {
        std::lock_guard guard(t.lock);
        auto it = t.records.find(mdl);
        if (it != t.records.end()) {
            Record& record = it->second;
            frames = std::move(record.locked_frames);
            record.locked_frames.clear();
            record.locked = false;
            record.process = nullptr;
            // MmUnlockPages releases the system mapping MmGetSystemAddressForMdlSafe made
            // (not a partial MDL's, which IoFreeMdl / MmPrepareMdlForReuse release).
            if ((mdl->MdlFlags & MDL_PARTIAL) == 0) {
                system_base = record.system_base;
                record.system_base = nullptr;
                record.system_pages = 0;
            }
        }
    }
    if (mm::MemoryManager* memory = mm::current()) {
        if (system_base != nullptr)
            memory->system_space().release(system_base);
        for (mm::Pfn pfn : frames)
            memory->physical().release(pfn);
    }
    if ((mdl->MdlFlags & MDL_PARTIAL) == 0) {
        mdl->MdlFlags &= ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
        mdl->MappedSystemVa = nullptr;
    }
    mdl->MdlFlags &= ~(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    mdl->Process = nullptr;
}

// Pages of `process` locked through MDLs now (for bug check 0x76's parameter).
size_t locked_pages_of(Process* process)
{
    Table& t = table();
    std::lock_guard guard(t.lock);
    size_t pages = 0;
    for (const auto& [mdl, record] : t.records)
        if (record.locked && record.process == process)
            pages += record.locked_frames.size();
    return pages;
}

}  // namespace iosim::io::mdl

using namespace iosim;
using namespace iosim::io;

extern "C" {

void MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode, LOCK_OPERATION Operation)
{
    const void* caller = __builtin_return_address(0);
    mdl::ProbeFailure failure;
    if (!mdl::probe_and_lock(MemoryDescriptorList, AccessMode, Operation, caller, failure))
        seh::raise_access_violation(reinterpret_cast<const void*>(failure.address), failure.write, caller);
}

void MmUnlockPages(PMDL MemoryDescriptorList)
{
    const void* caller = __builtin_return_address(0);
    PMDL mdl = MemoryDescriptorList;
    if ((mdl->MdlFlags & MDL_PAGES_LOCKED) == 0) {
        Process* process = current_process();
        bugcheck(mdl::kProcessHasLockedPages, 1, reinterpret_cast<ULONG_PTR>(mdl), mdl::locked_pages_of(process), 0,
                 caller, nullptr,
                 (mdl->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL)) != 0
                     ? "MmUnlockPages was called for an MDL built by MmBuildMdlForNonPagedPool or IoBuildPartialMdl: "
                       "its pages were never locked through it, so there is nothing to unlock."
                     : "MmUnlockPages was called for an MDL whose pages are not locked (never locked, or unlocked "
                       "already): every MmProbeAndLockPages is matched by exactly one MmUnlockPages.");
    }
    mdl::unlock(mdl);
}

void MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
    const void* caller = __builtin_return_address(0);
    PMDL mdl = MemoryDescriptorList;
    void* va = MmGetMdlVirtualAddress(mdl);
    size_t pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, mdl->ByteCount);
    uintptr_t start = mm::page_down(mm::addr(va));
    mm::MemoryManager* memory = mm::current();
    System* sys = System::current();
    mm::AddressInfo info = memory != nullptr ? memory->classify(va) : mm::AddressInfo{};
    bool real = info.region == mm::Region::System || info.region == mm::Region::User;
    PPFN_NUMBER array = MmGetMdlPfnArray(mdl);
    for (size_t i = 0; i < pages; ++i) {
        void* page = reinterpret_cast<void*>(start + i * mm::kPageSize);
        if (!real) {
            array[i] = (start >> PAGE_SHIFT) + i;
            continue;
        }
        std::optional<mm::Pfn> pfn = memory->pfn_of(page);
        if (!pfn)
            bugcheck(PAGE_FAULT_IN_NONPAGED_AREA, reinterpret_cast<ULONG_PTR>(page), 0,
                     reinterpret_cast<ULONG_PTR>(caller), 0, caller, nullptr,
                     fmt::format("MmBuildMdlForNonPagedPool was given a buffer whose page {} has no memory behind it "
                                 "(freed pool, or an address that was never allocated).",
                                 page));
        array[i] = *pfn;
    }
    if (sys != nullptr && info.region == mm::Region::User)
        sys->report({"MDL_NOT_NONPAGED_POOL",
                     fmt::format("MmBuildMdlForNonPagedPool was given the user address {}: it describes non-paged "
                                 "system memory only. Lock user buffers with MmProbeAndLockPages.",
                                 va),
                     ldr::describe_call_site(caller), {}});
    else if (sys != nullptr && sys->pool().range_of(va) == "paged pool")
        sys->report({"MDL_PAGED_POOL",
                     fmt::format("MmBuildMdlForNonPagedPool was given {}, which is paged pool: those pages can be "
                                 "paged out under the MDL. Allocate the buffer from non-paged pool.",
                                 va),
                     ldr::describe_call_site(caller), {}});
    mdl->Process = nullptr;
    mdl->MappedSystemVa = va;  // already mapped in system space: the buffer itself
    mdl->MdlFlags = static_cast<CSHORT>((mdl->MdlFlags & ~MDL_PAGES_LOCKED) | MDL_SOURCE_IS_NONPAGED_POOL);
    mdl::Table& t = mdl::table();
    std::lock_guard guard(t.lock);
    mdl::Record& record = mdl::record_for(t, mdl, caller);
    record.real = real;
    record.va = mm::addr(va);
    record.bytes = mdl->ByteCount;
}

}  // extern "C"
