// special_pool.cpp - special-pool blocks against guard pages, and the reports of their faults.
//
// Layout of one allocation of n bytes (n rounded up to the alignment: r):
//   [ fill pattern ... | block (n bytes) | fill up to r ][ guard page: never committed ]
//   ^ run (first data page)                             ^ data_end
// The first page of the range is never handed out, so every run has an inaccessible page
// in front of it as well (a neighbour's guard page, freed space, or that first page).
// A fault on a guard page is blamed on the nearer block: the one whose end it follows (an
// overrun) or, rarely, the one that starts just after it (an underrun past the page start).
#include "ex/special_pool.h"

#include <fmt/format.h>

#include <cstring>

#include "ex/pool.h"
#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "mm/address_space.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim::ex {

SpecialPool::SpecialPool(mm::AddressSpace& space, size_t bytes) : space_(space)
{
    size_t pages = mm::pages_for(bytes);
    void* base = space_.reserve(pages, "special pool", PAGE_READWRITE);
    if (base == nullptr)
        throw std::runtime_error("iosim: system space has no room for special pool");
    base_ = mm::addr(base);
    bytes_ = pages * mm::kPageSize;
    runs_.reset(base_, pages);
    runs_.take(1);  // the permanent inaccessible page in front of the first run
}

SpecialPool::~SpecialPool() { space_.release(reinterpret_cast<void*>(base_)); }

void SpecialPool::forget_overlapping(uintptr_t begin, uintptr_t end)
{
    auto it = blocks_.lower_bound(begin);
    if (it != blocks_.begin() && std::prev(it)->second.guard_end() > begin)
        --it;
    while (it != blocks_.end() && it->first < end)
        it = blocks_.erase(it);
}

void* SpecialPool::allocate(size_t size, size_t alignment, ULONG tag, bool paged, const void* caller)
{
    size_t layout = size == 0 ? 1 : size;
    if (layout > bytes_ / 2)
        return nullptr;
    size_t rounded = (layout + alignment - 1) / alignment * alignment;
    size_t data_pages = mm::pages_for(rounded);
    std::lock_guard guard(lock_);
    uintptr_t run = runs_.take(data_pages + 1);
    if (run == 0)
        return nullptr;
    if (!NT_SUCCESS(space_.commit(reinterpret_cast<void*>(run), data_pages, PAGE_READWRITE))) {
        space_.decommit(reinterpret_cast<void*>(run), data_pages);
        runs_.give_back(run, data_pages + 1);
        return nullptr;
    }
    SpecialBlock record;
    record.run = run;
    record.data_pages = data_pages;
    record.block = record.data_end() - rounded;
    record.size = size;
    record.tag = tag;
    record.paged = paged;
    record.allocated_by = caller;
    forget_overlapping(run, record.guard_end());
    auto* bytes = reinterpret_cast<unsigned char*>(run);
    std::memset(bytes, kFill, record.block - run);
    std::memset(reinterpret_cast<unsigned char*>(record.block + size), kFill, record.data_end() - record.block - size);
    blocks_[run] = record;
    return reinterpret_cast<void*>(record.block);
}

std::optional<SpecialPool::Corruption> SpecialPool::check(const void* block) const
{
    std::lock_guard guard(lock_);
    auto it = blocks_.find(mm::page_down(mm::addr(block)));
    if (it == blocks_.end() || it->second.freed || it->second.block != mm::addr(block))
        return std::nullopt;
    const SpecialBlock& b = it->second;
    for (uintptr_t a = b.run; a < b.block; ++a)
        if (*reinterpret_cast<const unsigned char*>(a) != kFill)
            return Corruption{a, false};
    for (uintptr_t a = b.block + b.size; a < b.data_end(); ++a)
        if (*reinterpret_cast<const unsigned char*>(a) != kFill)
            return Corruption{a, true};
    return std::nullopt;
}

void SpecialPool::free(const void* block, const void* caller)
{
    std::lock_guard guard(lock_);
    auto it = blocks_.find(mm::page_down(mm::addr(block)));
    if (it == blocks_.end() || it->second.freed)
        return;
    SpecialBlock& b = it->second;
    b.freed = true;
    b.freed_by = caller;
    space_.decommit(reinterpret_cast<void*>(b.run), b.data_pages);
    runs_.give_back(b.run, b.data_pages + 1);
}

std::optional<SpecialPool::Fault> SpecialPool::classify_fault(uintptr_t address) const
{
    if (!contains(address))
        return std::nullopt;
    std::unique_lock guard(lock_, std::try_to_lock);
    if (!guard.owns_lock())
        return std::nullopt;
    auto it = blocks_.upper_bound(address);
    if (it == blocks_.begin())
        return std::nullopt;
    const SpecialBlock& b = std::prev(it)->second;
    if (address >= b.guard_end())
        return std::nullopt;
    if (b.freed)
        return Fault{FaultKind::UseAfterFree, b};
    if (address < b.data_end())
        return std::nullopt;  // a committed page of a live block: not a special-pool fault
    // The guard page after b: an overrun of b, unless the block right after it is nearer.
    if (it != blocks_.end() && it->first == b.guard_end() && !it->second.freed) {
        const SpecialBlock& next = it->second;
        uintptr_t past_end = address - (b.block + b.size);
        uintptr_t before_start = next.block - address;
        if (before_start < past_end)
            return Fault{FaultKind::Underrun, next};
    }
    return Fault{FaultKind::Overrun, b};
}

std::optional<SpecialBlock> SpecialPool::freed_block_at(uintptr_t address) const
{
    std::lock_guard guard(lock_);
    auto it = blocks_.find(mm::page_down(address));
    if (it == blocks_.end() || !it->second.freed || it->second.block != address)
        return std::nullopt;
    return it->second;
}

size_t SpecialPool::live_blocks() const
{
    std::lock_guard guard(lock_);
    size_t n = 0;
    for (const auto& [run, block] : blocks_)
        n += block.freed ? 0 : 1;
    return n;
}

void SpecialPool::forget_module(const ldr::Module* module)
{
    std::lock_guard guard(lock_);
    for (auto& [run, block] : blocks_) {
        if (ldr::module_for_address(block.allocated_by) == module)
            block.allocated_by = nullptr;
        if (ldr::module_for_address(block.freed_by) == module)
            block.freed_by = nullptr;
    }
}

std::optional<BugCheckInfo> describe_special_pool_fault(uintptr_t address, bool write, const void* pc)
{
    System* sys = System::current();
    if (sys == nullptr)
        return std::nullopt;
    const SpecialPool* special = sys->pool().special_pool();
    if (special == nullptr || !special->contains(address))
        return std::nullopt;
    auto fault = special->classify_fault(address);
    if (!fault)
        return std::nullopt;
    const SpecialBlock& b = fault->block;
    const char* access = write ? "wrote to" : "read from";
    std::string tag = tag_to_string(b.tag);
    std::string allocated = ldr::describe_call_site(b.allocated_by);
    ULONG code;
    std::string why;
    switch (fault->kind) {
    case SpecialPool::FaultKind::Overrun:
        code = DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION;
        why = fmt::format(
            "The driver {} address 0x{:X}, offset {} of a {}-byte block tagged '{}', past its end: special pool puts "
            "an inaccessible page right after each block, so the access that overruns it faults at once (code outside "
            "a driver would stop with PAGE_FAULT_BEYOND_END_OF_ALLOCATION, 0xCD).",
            access, address, address - b.block, b.size, tag);
        break;
    case SpecialPool::FaultKind::Underrun:
        code = DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION;
        why = fmt::format(
            "The driver {} address 0x{:X}, {} byte(s) before the start of a {}-byte block tagged '{}': special pool "
            "keeps the page in front of each block's page inaccessible, so an underrun that far faults at once.",
            access, address, b.block - address, b.size, tag);
        break;
    case SpecialPool::FaultKind::UseAfterFree:
        code = DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL;
        why = fmt::format(
            "The driver {} address 0x{:X}, in a {}-byte block tagged '{}' that was already freed: special pool "
            "decommits a block's pages when it is freed, so any later use faults at the guilty instruction (code "
            "outside a driver would stop with PAGE_FAULT_IN_FREED_SPECIAL_POOL, 0xCC).",
            access, address, b.size, tag);
        break;
    }
    const ULONG_PTR parameters[4] = {static_cast<ULONG_PTR>(address), write ? 1u : 0u, reinterpret_cast<ULONG_PTR>(pc),
                                     0};
    BugCheckInfo info = make_bugcheck_report(code, parameters, pc, false, nullptr, std::move(why));
    std::string block = fmt::format("  Block:  0x{:X}, {} bytes of {} special pool tagged '{}', allocated at {}\n",
                                    b.block, b.size, b.paged ? "paged" : "non-paged", tag, allocated);
    if (b.freed)
        block += "          freed at " + ldr::describe_call_site(b.freed_by) + "\n";
    // After the "Why"/"Where"/"Driver" lines, before the thread and IRP history.
    size_t at = info.report.find("  Thread:");
    info.report.insert(at == std::string::npos ? info.report.size() : at, block);
    return info;
}

}  // namespace iosim::ex
