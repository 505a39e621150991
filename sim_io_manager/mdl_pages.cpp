// mdl_pages.cpp - physical pages allocated straight into an MDL, and freed from it.
//
// MmAllocatePagesForMdl(Ex) takes frames of simulated physical memory (zeroed: frames
// always start zeroed, so MM_DONT_ZERO_ALLOCATION changes nothing) that no virtual
// address maps yet; the MDL has StartVa NULL and MDL_PAGES_LOCKED, and the driver maps it
// with MmGetSystemAddressForMdlSafe or MmMapLockedPagesSpecifyCache. Rules:
//  - only frames whose physical address lies in [LowAddress, HighAddress] are used; the
//    MDL may describe fewer bytes than asked (the caller checks MmGetMdlByteCount), or
//    none (NULL); MM_ALLOCATE_FULLY_REQUIRED turns a short allocation into NULL;
//  - MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS gives NULL: iosim's frames are deliberately
//    scattered (documented as allowed: "either succeeds ... or fails");
//  - the MDL structure is the driver's non-paged pool block: after MmFreePagesFromMdl
//    the driver frees it with ExFreePool (not IoFreeMdl), as documented;
//  - MmFreePagesFromMdl releases the system mapping too (Windows 7 and later).
// NT counterparts: MmAllocatePagesForMdl, MmAllocatePagesForMdlEx, MmFreePagesFromMdl.
#include <fmt/format.h>

#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "mdl.h"
#include "mdl_table.h"
#include "mm/memory_manager.h"
#include "system.h"

namespace iosim::io::mdl {

namespace {

constexpr ULONG kPagesTag = 'M' | ('d' << 8) | ('l' << 16) | ('p' << 24);  // shows as "Mdlp"

PMDL allocate_pages(PHYSICAL_ADDRESS low, PHYSICAL_ADDRESS high, SIZE_T total, ULONG flags, const void* caller)
{
    System* sys = System::current();
    mm::MemoryManager* memory = mm::current();
    size_t wanted = mm::pages_for(total);
    if (sys == nullptr || memory == nullptr || wanted == 0 || total > 0xFFFFFFFFull - PAGE_SIZE + 1)
        return nullptr;
    if ((flags & MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS) != 0)
        return nullptr;
    auto lowest = static_cast<uint64_t>(low.QuadPart);
    auto highest = static_cast<uint64_t>(high.QuadPart);
    std::vector<mm::Pfn> frames;
    std::vector<mm::Pfn> outside;  // held until the end, so they are not handed out again
    for (size_t tries = 0; frames.size() < wanted && tries < wanted * 4 + 64; ++tries) {
        mm::Pfn pfn = memory->physical().allocate();
        uint64_t pa = mm::PhysicalMemory::physical_address(pfn);
        if (pa >= lowest && pa + PAGE_SIZE - 1 <= highest)
            frames.push_back(pfn);
        else
            outside.push_back(pfn);
    }
    for (mm::Pfn pfn : outside)
        memory->physical().release(pfn);
    if (frames.empty() || (frames.size() < wanted && (flags & MM_ALLOCATE_FULLY_REQUIRED) != 0)) {
        for (mm::Pfn pfn : frames)
            memory->physical().release(pfn);
        return nullptr;
    }
    size_t bytes = std::min<size_t>(total, frames.size() * PAGE_SIZE);
    size_t size = sizeof(MDL) + frames.size() * sizeof(PFN_NUMBER);
    auto* mdl = static_cast<PMDL>(sys->pool().allocate(false, size, kPagesTag, caller, true));
    if (mdl == nullptr) {
        for (mm::Pfn pfn : frames)
            memory->physical().release(pfn);
        return nullptr;
    }
    MmInitializeMdl(mdl, static_cast<PVOID>(nullptr), bytes);
    PPFN_NUMBER array = MmGetMdlPfnArray(mdl);
    for (size_t i = 0; i < frames.size(); ++i)
        array[i] = frames[i];
    mdl->MdlFlags |= MDL_PAGES_LOCKED;
    Table& t = table();
    std::lock_guard guard(t.lock);
    Record record;
    record.origin = Origin::PagesForMdl;
    record.owner = driver_of(caller);
    record.allocated_at = caller;
    if (record.owner != nullptr)
        record.owner_text = record.owner->name;
    record.real = true;
    record.bytes = static_cast<ULONG>(bytes);
    record.owned_frames = std::move(frames);
    t.records[mdl] = std::move(record);
    return mdl;
}

}  // namespace

}  // namespace iosim::io::mdl

using namespace iosim;
using namespace iosim::io;

extern "C" {

PMDL MmAllocatePagesForMdl(PHYSICAL_ADDRESS LowAddress, PHYSICAL_ADDRESS HighAddress, PHYSICAL_ADDRESS SkipBytes,
                           SIZE_T TotalBytes)
{
    return mdl::allocate_pages(LowAddress, HighAddress, TotalBytes, 0, __builtin_return_address(0));
}

PMDL MmAllocatePagesForMdlEx(PHYSICAL_ADDRESS LowAddress, PHYSICAL_ADDRESS HighAddress, PHYSICAL_ADDRESS SkipBytes,
                             SIZE_T TotalBytes, MEMORY_CACHING_TYPE CacheType, ULONG Flags)
{
    return mdl::allocate_pages(LowAddress, HighAddress, TotalBytes, Flags, __builtin_return_address(0));
}

void MmFreePagesFromMdl(PMDL MemoryDescriptorList)
{
    const void* caller = __builtin_return_address(0);
    PMDL mdl = MemoryDescriptorList;
    mdl::Table& t = mdl::table();
    std::optional<mdl::Record> record;
    {
        std::lock_guard guard(t.lock);
        auto it = t.records.find(mdl);
        if (it != t.records.end() && it->second.origin == mdl::Origin::PagesForMdl) {
            record = std::move(it->second);
            t.records.erase(it);
        }
    }
    System* sys = System::current();
    if (!record) {
        if (sys != nullptr)
            sys->report({"MDL_PAGES_NOT_ALLOCATED",
                         "MmFreePagesFromMdl was called for an MDL that MmAllocatePagesForMdl(Ex) did not return (or "
                         "whose pages were freed already): it frees only pages that routine allocated. Nothing was "
                         "freed.",
                         ldr::describe_call_site(caller), {}});
        return;
    }
    if (!record->user_mappings.empty() && sys != nullptr)
        sys->report({"MDL_PAGES_FREED_WHILE_MAPPED",
                     fmt::format("MmFreePagesFromMdl freed pages still mapped into process {} at {}: unmap them "
                                 "(MmUnmapLockedPages) first, or the app keeps reading memory the system reuses. iosim "
                                 "removed the mapping.",
                                 record->user_mappings.front().process->pid(), record->user_mappings.front().base),
                     ldr::describe_call_site(caller), {}});
    mdl::release_holdings(*record);  // the frames, and any mapping (Windows 7+ releases it here)
    mdl->MdlFlags &= ~(MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA);
    mdl->MappedSystemVa = nullptr;
    mdl->ByteCount = 0;
}

}  // extern "C"
