// mdl.cpp - MDL allocation, partial MDLs, and the side table that tracks every MDL.
//
// Rules kept here:
//  - IoAllocateMdl takes the structure from non-paged pool (tag "Mdl "), sized for the
//    pages the buffer spans, and chains it on the IRP if one is given: SecondaryBuffer
//    FALSE makes it Irp->MdlAddress (whatever was there), TRUE appends it to the chain.
//    Lengths above 4 GB - PAGE_SIZE give NULL, as documented.
//  - IoFreeMdl releases a partial MDL's own system mapping (documented); an MDL still
//    locked is a driver bug (Windows keeps the pages locked for ever): reported, and iosim
//    unlocks it so the run can go on. Freeing something IoAllocateMdl never returned goes
//    to the pool, which bug-checks BAD_POOL_CALLER as Windows would.
//  - IoBuildPartialMdl: the range must lie inside the source's (else INVALID_MDL_RANGE,
//    0x12E) and the target must be big enough for its pages (else TARGET_MDL_TOO_SMALL,
//    0x40). The target shares the source's frames and, if the source is mapped, its
//    system mapping (MDL_PARENT_MAPPED_SYSTEM_VA).
//  - Each record names its owner: the driver module whose call allocated or locked it, or
//    nobody (the I/O manager).
// NT counterparts: IoAllocateMdl, IoFreeMdl, IoBuildPartialMdl, MmSizeOfMdl.
#include <fmt/format.h>

#include <cstdlib>
#include <deque>

#include "ke/bugcheck.h"
#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "mdl.h"
#include "mdl_table.h"
#include "mm/memory_manager.h"
#include "ps/process.h"
#include "system.h"

namespace iosim::io {

namespace mdl {

namespace {

constexpr ULONG kMdlTag = 'M' | ('d' << 8) | ('l' << 16) | (' ' << 24);  // shows as "Mdl "
constexpr ULONG kMaxMdlLength = 0xFFFFFFFFu - PAGE_SIZE + 1;                // 4 GB - PAGE_SIZE
constexpr ULONG kTargetMdlTooSmall = 0x40;   // TARGET_MDL_TOO_SMALL
constexpr ULONG kInvalidMdlRange = 0x12E;    // INVALID_MDL_RANGE

const struct {
    CSHORT bit;
    const char* name;
} kFlagNames[] = {
    {MDL_MAPPED_TO_SYSTEM_VA, "MDL_MAPPED_TO_SYSTEM_VA"},
    {MDL_PAGES_LOCKED, "MDL_PAGES_LOCKED"},
    {MDL_SOURCE_IS_NONPAGED_POOL, "MDL_SOURCE_IS_NONPAGED_POOL"},
    {MDL_ALLOCATED_FIXED_SIZE, "MDL_ALLOCATED_FIXED_SIZE"},
    {MDL_PARTIAL, "MDL_PARTIAL"},
    {MDL_PARTIAL_HAS_BEEN_MAPPED, "MDL_PARTIAL_HAS_BEEN_MAPPED"},
    {MDL_IO_PAGE_READ, "MDL_IO_PAGE_READ"},
    {MDL_WRITE_OPERATION, "MDL_WRITE_OPERATION"},
    {MDL_PARENT_MAPPED_SYSTEM_VA, "MDL_PARENT_MAPPED_SYSTEM_VA"},
    {MDL_FREE_EXTRA_PTES, "MDL_FREE_EXTRA_PTES"},
    {MDL_DESCRIBES_AWE, "MDL_DESCRIBES_AWE"},
    {MDL_IO_SPACE, "MDL_IO_SPACE"},
    {MDL_NETWORK_HEADER, "MDL_NETWORK_HEADER"},
    {MDL_MAPPING_CAN_FAIL, "MDL_MAPPING_CAN_FAIL"},
    {MDL_ALLOCATED_MUST_SUCCEED, "MDL_ALLOCATED_MUST_SUCCEED"},
    {static_cast<CSHORT>(MDL_INTERNAL), "MDL_INTERNAL"},
};

}  // namespace

Table& table()
{
    static Table t;
    return t;
}

ldr::Module* driver_of(const void* caller)
{
    if (caller == nullptr)
        return nullptr;
    ldr::Module* module = ldr::module_for_address(caller);
    return module != nullptr && module->kind == ldr::ModuleKind::Driver ? module : nullptr;
}

Record& record_for(Table& t, const MDL* mdl, const void* caller)
{
    auto [it, inserted] = t.records.try_emplace(mdl);
    if (inserted) {
        it->second.origin = Origin::Caller;
        it->second.owner = driver_of(caller);
        it->second.allocated_at = caller;
        if (it->second.owner != nullptr)
            it->second.owner_text = it->second.owner->name;
    }
    return it->second;
}

std::string where(const void* caller, const std::string& kept)
{
    if (!kept.empty())
        return kept;
    return caller != nullptr ? ldr::describe_call_site(caller) : std::string("the I/O manager");
}

std::string flag_names(CSHORT flags)
{
    std::string out;
    for (const auto& f : kFlagNames) {
        if ((flags & f.bit) != 0) {
            if (!out.empty())
                out += " | ";
            out += f.name;
        }
    }
    return out.empty() ? "none" : out;
}

bool frames_are_real(const MDL* mdl, const Record* record)
{
    if (record != nullptr && (record->locked || record->origin == Origin::PagesForMdl ||
                              (mdl->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL)) != 0))
        return record->real;
    // An MDL iosim never saw filled: real only if every entry is a frame in use.
    mm::MemoryManager* memory = mm::current();
    size_t pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), mdl->ByteCount);
    if (memory == nullptr || pages == 0)
        return false;
    const PFN_NUMBER* pfns = MmGetMdlPfnArray(const_cast<MDL*>(mdl));
    for (size_t i = 0; i < pages; ++i)
        if (!memory->physical().valid(pfns[i]))
            return false;
    return true;
}

void release_holdings(Record& record)
{
    mm::MemoryManager* memory = mm::current();
    if (memory != nullptr) {
        for (mm::Pfn pfn : record.locked_frames)
            memory->physical().release(pfn);
        if (record.system_base != nullptr)
            memory->system_space().release(record.system_base);
        for (const UserMapping& m : record.user_mappings)
            if (m.process != nullptr && m.process->memory != nullptr)
                m.process->memory->space->release(m.base);
        for (mm::Pfn pfn : record.owned_frames)
            memory->physical().release(pfn);
    }
    record.locked_frames.clear();
    record.locked = false;
    record.system_base = nullptr;
    record.system_pages = 0;
    record.user_mappings.clear();
    record.owned_frames.clear();
}

namespace {

// Recently freed MDL addresses: an IRP chain that still points at one is not read.
std::deque<const MDL*> g_freed;
constexpr size_t kFreedRemembered = 256;

}  // namespace

void remember_freed(const MDL* mdl)
{
    g_freed.push_back(mdl);
    if (g_freed.size() > kFreedRemembered)
        g_freed.pop_front();
}

bool recently_freed(const MDL* mdl)
{
    for (const MDL* m : g_freed)
        if (m == mdl)
            return true;
    return false;
}

void forget_freed(const MDL* mdl)
{
    for (auto& m : g_freed)
        if (m == mdl)
            m = nullptr;
}

PMDL allocate_mdl(PVOID address, ULONG length, BOOLEAN secondary, PIRP irp, const void* caller)
{
    if (length > kMaxMdlLength)
        return nullptr;
    size_t size = MmSizeOfMdl(address, length);
    void* block = nullptr;
    if (System* sys = System::current()) {
        // iosim's block, not a driver's pool leak: named by IoAllocateMdl's first byte (a
        // return address into the routine), never by the driver's line.
        const void* allocator = reinterpret_cast<const char*>(&IoAllocateMdl) + 1;
        block = sys->pool().allocate(false, size, kMdlTag, allocator, true);
    }
    if (block == nullptr)
        return nullptr;
    auto* mdl = static_cast<PMDL>(block);
    MmInitializeMdl(mdl, address, length);
    mdl->MdlFlags |= MDL_ALLOCATED_FIXED_SIZE;
    if (irp != nullptr) {
        if (!secondary || irp->MdlAddress == nullptr) {
            irp->MdlAddress = mdl;
        } else {
            PMDL tail = irp->MdlAddress;
            while (tail->Next != nullptr)
                tail = tail->Next;
            tail->Next = mdl;
        }
    }
    Table& t = table();
    std::lock_guard guard(t.lock);
    forget_freed(mdl);
    Record record;
    record.origin = Origin::IoAllocateMdl;
    record.owner = driver_of(caller);
    record.allocated_at = caller;
    record.irp = irp;
    record.va = reinterpret_cast<uintptr_t>(address);
    record.bytes = length;
    if (record.owner != nullptr)
        record.owner_text = record.owner->name;
    t.records[mdl] = std::move(record);
    return mdl;
}

void reset_tracking()
{
    Table& t = table();
    std::lock_guard guard(t.lock);
    // The previous machine's memory is gone: drop the records without touching it.
    t.records.clear();
    t.io_manager_mdls.clear();
    g_freed.clear();
}

void free_mdl(PMDL mdl, const void* caller)
{
    System* sys = System::current();
    Table& t = table();
    std::optional<Record> record;
    {
        std::lock_guard guard(t.lock);
        auto it = t.records.find(mdl);
        if (it != t.records.end()) {
            record = std::move(it->second);
            t.records.erase(it);
        }
        for (auto io = t.io_manager_mdls.begin(); io != t.io_manager_mdls.end(); ++io)
            if (io->second == mdl) {
                t.io_manager_mdls.erase(io);
                break;
            }
    }
    if (!record || record->origin != Origin::IoAllocateMdl) {
        // Not from IoAllocateMdl (or freed already): IoFreeMdl hands it to the pool, which
        // frees a driver's pool block or bug-checks BAD_POOL_CALLER.
        if (record)
            release_holdings(*record);
        if (sys != nullptr)
            sys->pool().free(mdl, 0, false, caller);
        return;
    }
    if (record->locked && sys != nullptr) {
        sys->report({"MDL_FREED_WHILE_LOCKED",
                     fmt::format("IoFreeMdl freed an MDL whose pages are still locked ({} bytes at {}): call "
                                 "MmUnlockPages first. Windows would keep the pages locked for ever and stop with "
                                 "PROCESS_HAS_LOCKED_PAGES (0x76) when the process exits; iosim unlocked them.",
                                 mdl->ByteCount, MmGetMdlVirtualAddress(mdl)),
                     caller != nullptr ? ldr::describe_call_site(caller) : "", {}});
    }
    if (!record->user_mappings.empty() && sys != nullptr) {
        sys->report({"MDL_FREED_WHILE_MAPPED",
                     fmt::format("IoFreeMdl freed an MDL still mapped into process {} at {}: call "
                                 "MmUnmapLockedPages first. iosim removed the mapping.",
                                 record->user_mappings.front().process->pid(), record->user_mappings.front().base),
                     caller != nullptr ? ldr::describe_call_site(caller) : "", {}});
    }
    release_holdings(*record);
    {
        std::lock_guard guard(t.lock);
        remember_freed(mdl);
    }
    if (sys != nullptr)
        sys->pool().free(mdl, kMdlTag, true, caller);
}

}  // namespace mdl

}  // namespace iosim::io

using namespace iosim;
using namespace iosim::io;

extern "C" {

SIZE_T MmSizeOfMdl(PVOID Base, SIZE_T Length)
{
    return sizeof(MDL) + sizeof(PFN_NUMBER) * ADDRESS_AND_SIZE_TO_SPAN_PAGES(Base, Length);
}

PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota, PIRP Irp)
{
    return mdl::allocate_mdl(VirtualAddress, Length, SecondaryBuffer, Irp, __builtin_return_address(0));
}

void IoFreeMdl(PMDL Mdl) { mdl::free_mdl(Mdl, __builtin_return_address(0)); }

void IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress, ULONG Length)
{
    const void* caller = __builtin_return_address(0);
    auto source_va = reinterpret_cast<uintptr_t>(MmGetMdlVirtualAddress(SourceMdl));
    uintptr_t source_end = source_va + SourceMdl->ByteCount;
    auto va = reinterpret_cast<uintptr_t>(VirtualAddress);
    if (Length == 0 && va >= source_va && va <= source_end)
        Length = static_cast<ULONG>(source_end - va);  // the rest of the source's buffer
    if (va < source_va || va + Length > source_end || va + Length < va)
        bugcheck(mdl::kInvalidMdlRange, reinterpret_cast<ULONG_PTR>(SourceMdl), reinterpret_cast<ULONG_PTR>(TargetMdl),
                 va, Length, caller, nullptr,
                 fmt::format("IoBuildPartialMdl was asked for {} bytes at {:#x}, which is not inside the source MDL's "
                             "buffer ({} bytes at {:#x}). Pass an address computed from MmGetMdlVirtualAddress of the "
                             "source, not from its system address.",
                             Length, va, SourceMdl->ByteCount, source_va));
    size_t pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, Length);
    if (static_cast<size_t>(TargetMdl->Size) < sizeof(MDL) + pages * sizeof(PFN_NUMBER))
        bugcheck(mdl::kTargetMdlTooSmall, 0, 0, 0, 0, caller, nullptr,
                 fmt::format("IoBuildPartialMdl: the target MDL has room for {} page(s) (Size {}) but {} bytes at "
                             "{:#x} span {}. Size it with IoAllocateMdl(VirtualAddress, Length, ...) or MmSizeOfMdl.",
                             (TargetMdl->Size - static_cast<CSHORT>(sizeof(MDL))) / static_cast<CSHORT>(sizeof(PFN_NUMBER)),
                             TargetMdl->Size, Length, va, pages));

    mdl::Table& t = mdl::table();
    bool leaked_mapping = false;
    void* old_mapping = nullptr;
    {
        std::lock_guard guard(t.lock);
        auto source = t.records.find(SourceMdl);
        bool real = mdl::frames_are_real(SourceMdl, source != t.records.end() ? &source->second : nullptr);
        mdl::Record& target = mdl::record_for(t, TargetMdl, caller);
        if (target.system_base != nullptr) {
            // A partial MDL mapped before and not prepared for reuse: that mapping is lost.
            leaked_mapping = true;
            old_mapping = target.system_base;
            if (mm::MemoryManager* memory = mm::current())
                memory->system_space().release(target.system_base);
            target.system_base = nullptr;
            target.system_pages = 0;
        }
        target.real = real;
        target.va = va;
        target.bytes = Length;
    }
    if (leaked_mapping)
        System::current()->report(
            {"PARTIAL_MDL_MAPPING_LEAKED",
             fmt::format("IoBuildPartialMdl reused a partial MDL whose system mapping at {} was never released: call "
                         "MmPrepareMdlForReuse (or IoFreeMdl) before building it again, or Windows leaks the mapping. "
                         "iosim released it.",
                         old_mapping),
             ldr::describe_call_site(caller), {}});

    const CSHORT kept = TargetMdl->MdlFlags & (MDL_ALLOCATED_FIXED_SIZE | MDL_ALLOCATED_MUST_SUCCEED);
    const CSHORT inherited = SourceMdl->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_WRITE_OPERATION | MDL_IO_SPACE);
    TargetMdl->Next = nullptr;
    TargetMdl->StartVa = PAGE_ALIGN(VirtualAddress);
    TargetMdl->ByteOffset = BYTE_OFFSET(VirtualAddress);
    TargetMdl->ByteCount = Length;
    TargetMdl->Process = SourceMdl->Process;
    TargetMdl->MdlFlags = static_cast<CSHORT>(kept | inherited | MDL_PARTIAL);
    TargetMdl->MappedSystemVa = nullptr;
    size_t first = (iosim::mm::page_down(va) - iosim::mm::page_down(source_va)) >> PAGE_SHIFT;
    const PFN_NUMBER* from = MmGetMdlPfnArray(SourceMdl) + first;
    PFN_NUMBER* to = MmGetMdlPfnArray(TargetMdl);
    for (size_t i = 0; i < pages; ++i)
        to[i] = from[i];
    if ((SourceMdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL)) != 0) {
        // The parent's mapping covers these pages: the target uses it, at the same offset.
        TargetMdl->MappedSystemVa = static_cast<char*>(SourceMdl->MappedSystemVa) + (va - source_va);
        if ((SourceMdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) != 0)
            TargetMdl->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA | MDL_PARENT_MAPPED_SYSTEM_VA;
    }
}

}  // extern "C"
