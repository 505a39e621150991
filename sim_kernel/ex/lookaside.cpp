// lookaside.cpp - lookaside lists: ExInitialize/ExAllocateFrom/ExFreeTo/ExDelete*LookasideList*.
//
// Rules kept here (the documented behaviour of lookaside lists):
//  - Initialize fills the driver's header: Depth, MaximumDepth, the counters at zero, the
//    pool type, tag and entry size, and the Allocate/Free routines (a NULL routine means
//    the system's default, which is then stored, as Windows stores ExAllocatePoolWithTag
//    and ExFreePool);
//  - allocating takes a held entry if there is one (TotalAllocates counts every call,
//    AllocateMisses the calls that had to allocate); freeing keeps the entry while the
//    list holds fewer than Depth entries, else frees it (TotalFrees, FreeMisses);
//  - Depth is the system's to manage (the Depth argument is reserved): Windows adjusts it
//    once a second from the misses it saw. iosim has no clock that runs by itself, so it
//    adjusts after every 64 allocations from a list: misses in that period raise Depth
//    by their number (up to MaximumDepth), a period without misses lowers it by one (not
//    below the minimum, 4);
//  - the default routines allocate with the driver's call site, so entries are the
//    driver's pool blocks; custom routines are called without any lock held;
//  - Delete frees every entry the list holds and forgets the list; Flush (Ex lists) frees
//    the entries and keeps the list;
//  - an entry freed to a list that already holds it (a double free) is BAD_POOL_CALLER
//    0x07 at once: on Windows the list would hand the block out twice later.
// NT counterparts: ExInitializeNPagedLookasideList, ExAllocateFromNPagedLookasideList
// (inline over InterlockedPopEntrySList), ExFreeToNPagedLookasideList,
// ExInitializeLookasideListEx, ExDeleteLookasideListEx, ExFlushLookasideListEx.
#include "ex/lookaside.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "ex/pool.h"
#include "ke/bugcheck.h"
#include "ke/seh.h"
#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim::ex {

// ---- LookasideRegistry ---------------------------------------------------------------

void LookasideRegistry::add(LookasideRecord record)
{
    std::lock_guard guard(lock_);
    const void* key = record.list;
    lists_[key] = std::move(record);
}

std::optional<LookasideRecord> LookasideRegistry::remove(const void* list)
{
    std::lock_guard guard(lock_);
    auto it = lists_.find(list);
    if (it == lists_.end())
        return std::nullopt;
    LookasideRecord record = std::move(it->second);
    lists_.erase(it);
    return record;
}

std::vector<void*> LookasideRegistry::take_all(const void* list)
{
    std::lock_guard guard(lock_);
    auto it = lists_.find(list);
    if (it == lists_.end())
        return {};
    return std::exchange(it->second.entries, {});
}

void* LookasideRegistry::pop(const void* list, bool* known)
{
    auto it = lists_.find(list);
    *known = it != lists_.end();
    if (!*known || it->second.entries.empty())
        return nullptr;
    void* entry = it->second.entries.back();
    it->second.entries.pop_back();
    return entry;
}

LookasideRegistry::Push LookasideRegistry::push(const void* list, void* entry, size_t depth)
{
    auto it = lists_.find(list);
    if (it == lists_.end())
        return Push::Unknown;
    std::vector<void*>& entries = it->second.entries;
    if (std::find(entries.begin(), entries.end(), entry) != entries.end())
        return Push::AlreadyHeld;
    if (entries.size() >= depth)
        return Push::Full;
    entries.push_back(entry);
    return Push::Held;
}

size_t LookasideRegistry::held(const void* list) const
{
    std::lock_guard guard(lock_);
    return held_locked(list);
}

size_t LookasideRegistry::held_locked(const void* list) const
{
    auto it = lists_.find(list);
    return it == lists_.end() ? 0 : it->second.entries.size();
}

std::vector<LookasideRecord> LookasideRegistry::lists_of(const ldr::Module* owner) const
{
    std::lock_guard guard(lock_);
    std::vector<LookasideRecord> out;
    for (const auto& [list, record] : lists_)
        if (record.owner == owner)
            out.push_back(record);
    return out;
}

std::vector<LookasideRecord> LookasideRegistry::all() const
{
    std::lock_guard guard(lock_);
    std::vector<LookasideRecord> out;
    for (const auto& [list, record] : lists_)
        out.push_back(record);
    return out;
}

void LookasideRegistry::forget(const ldr::Module* owner)
{
    std::lock_guard guard(lock_);
    for (auto it = lists_.begin(); it != lists_.end();)
        it = it->second.owner == owner ? lists_.erase(it) : std::next(it);
}

}  // namespace iosim::ex

using iosim::System;
using iosim::ex::LookasideRecord;
using iosim::ex::LookasideRegistry;

namespace {

constexpr USHORT kMinimumDepth = 4;
constexpr ULONG kAdjustPeriod = 64;

PVOID default_allocate_ex(POOL_TYPE type, SIZE_T bytes, ULONG tag, PLOOKASIDE_LIST_EX);
void default_free_ex(PVOID buffer, PLOOKASIDE_LIST_EX);

LookasideRegistry* registry()
{
    System* sys = System::current();
    return sys != nullptr ? &sys->pool().lookaside() : nullptr;
}

// GENERAL_LOOKASIDE and GENERAL_LOOKASIDE_POOL have the same fields; the code below
// serves both.
template <class L>
void initialize(L& l, POOL_TYPE type, SIZE_T size, ULONG tag)
{
    std::memset(static_cast<void*>(&l), 0, sizeof(l));
    l.Depth = kMinimumDepth;
    l.MaximumDepth = EX_MAXIMUM_LOOKASIDE_DEPTH_BASE;
    l.Type = type;
    l.Tag = tag;
    l.Size = static_cast<ULONG>(size);
    l.ListEntry.Flink = &l.ListEntry;
    l.ListEntry.Blink = &l.ListEntry;
}

template <class L>
void register_list(L& l, bool ex, const void* caller)
{
    LookasideRegistry* reg = registry();
    if (reg == nullptr)
        return;
    LookasideRecord record;
    record.list = &l;
    record.ex = ex;
    record.paged = (static_cast<ULONG>(l.Type) & 1) != 0;
    record.tag = l.Tag;
    record.size = l.Size;
    record.owner = iosim::ldr::module_for_address(caller);
    record.initialized_by = caller;
    reg->add(std::move(record));
}

template <class L>
void adjust_depth(L& l)
{
    if (l.TotalAllocates - l.LastTotalAllocates < kAdjustPeriod)
        return;
    ULONG misses = l.AllocateMisses - l.LastAllocateMisses;
    if (misses == 0)
        l.Depth = std::max<USHORT>(kMinimumDepth, static_cast<USHORT>(l.Depth - 1));
    else
        l.Depth = static_cast<USHORT>(std::min<ULONG>(l.MaximumDepth, l.Depth + misses));
    l.LastTotalAllocates = l.TotalAllocates;
    l.LastAllocateMisses = l.AllocateMisses;
}

// The number of held entries, where ExQueryDepthSList(&L.ListHead) reads it.
template <class L>
void show_held(L& l, size_t held)
{
    l.ListHead.HeaderX64.Depth = static_cast<USHORT>(held);
}

[[noreturn]] void uninitialized(const void* list, const char* routine, const void* caller)
{
    iosim::bugcheck(KMODE_EXCEPTION_NOT_HANDLED, static_cast<ULONG>(STATUS_ACCESS_VIOLATION), 0,
                    reinterpret_cast<ULONG_PTR>(list), 0, caller, nullptr,
                    fmt::format("{} was called on the lookaside list at 0x{:X}, which was never initialized: its "
                                "Allocate and Free routines are NULL, so the call jumps to address 0.",
                                routine, reinterpret_cast<uintptr_t>(list)));
}

// One allocation from a list. `ex_list` is the LOOKASIDE_LIST_EX for Ex lists.
template <class L>
void* allocate_from(L& l, PLOOKASIDE_LIST_EX ex_list, const char* routine, const void* caller)
{
    LookasideRegistry* reg = registry();
    if (reg == nullptr)
        return nullptr;
    {
        std::lock_guard guard(reg->lock());
        bool known = false;
        void* entry = reg->pop(&l, &known);
        if (known) {
            l.TotalAllocates++;
            if (entry != nullptr) {
                show_held(l, reg->held_locked(&l));
                adjust_depth(l);
                return entry;
            }
            l.AllocateMisses++;
            adjust_depth(l);
        }
    }
    bool raise = (static_cast<ULONG>(l.Type) & POOL_RAISE_IF_ALLOCATION_FAILURE) != 0;
    if (ex_list != nullptr ? l.AllocateEx == &default_allocate_ex
                           : l.Allocate == &ExAllocatePoolWithTag) {
        ULONG type = static_cast<ULONG>(l.Type);
        void* block = System::current()->pool().allocate(
            {(type & 1) != 0, l.Size, l.Tag, caller, false, (type & 4) != 0});
        if (block == nullptr && raise)
            iosim::seh::raise(STATUS_INSUFFICIENT_RESOURCES, caller);
        return block;
    }
    if (ex_list != nullptr ? l.AllocateEx == nullptr : l.Allocate == nullptr)
        uninitialized(&l, routine, caller);
    if (ex_list != nullptr)
        return l.AllocateEx(l.Type, l.Size, l.Tag, ex_list);
    return l.Allocate(l.Type, l.Size, l.Tag);
}

template <class L>
void release(L& l, PLOOKASIDE_LIST_EX ex_list, void* entry, const void* caller)
{
    if (ex_list != nullptr ? l.FreeEx == &default_free_ex
                           : l.Free == &ExFreePool) {
        System::current()->pool().free(entry, 0, false, caller);
        return;
    }
    if (ex_list != nullptr ? l.FreeEx == nullptr : l.Free == nullptr)
        uninitialized(&l, "Freeing an entry to it", caller);
    if (ex_list != nullptr)
        l.FreeEx(entry, ex_list);
    else
        l.Free(entry);
}

template <class L>
void free_to(L& l, PLOOKASIDE_LIST_EX ex_list, void* entry, const char* routine, const void* caller)
{
    LookasideRegistry* reg = registry();
    if (reg == nullptr)
        return;
    {
        std::lock_guard guard(reg->lock());
        LookasideRegistry::Push pushed = reg->push(&l, entry, l.Depth);
        if (pushed != LookasideRegistry::Push::Unknown)
            l.TotalFrees++;
        if (pushed == LookasideRegistry::Push::Held) {
            show_held(l, reg->held_locked(&l));
            return;
        }
        if (pushed == LookasideRegistry::Push::AlreadyHeld)
            iosim::bugcheck(BAD_POOL_CALLER, 0x07, 0, 0, reinterpret_cast<ULONG_PTR>(entry), caller, nullptr,
                            fmt::format("{} was given the entry at 0x{:X}, which the list already holds: it was freed "
                                        "twice, and the list would hand the same block out to two users.",
                                        routine, reinterpret_cast<uintptr_t>(entry)));
        if (pushed == LookasideRegistry::Push::Full)
            l.FreeMisses++;
    }
    release(l, ex_list, entry, caller);
}

template <class L>
void delete_list(L& l, PLOOKASIDE_LIST_EX ex_list, const char* routine, const void* caller)
{
    LookasideRegistry* reg = registry();
    if (reg == nullptr)
        return;
    auto record = reg->remove(&l);
    if (!record) {
        System::current()->report({"LOOKASIDE_LIST_NOT_INITIALIZED",
                                   fmt::format("{} was called on a lookaside list that is not initialized (never, or "
                                               "it was deleted already): a list is deleted once, after "
                                               "ExInitialize*.",
                                               routine),
                                   iosim::ldr::describe_call_site(caller),
                                   {}});
        return;
    }
    show_held(l, 0);
    for (void* entry : record->entries)
        release(l, ex_list, entry, caller);
}

PVOID default_allocate_ex(POOL_TYPE type, SIZE_T bytes, ULONG tag, PLOOKASIDE_LIST_EX)
{
    return ExAllocatePoolWithTag(type, bytes, tag);
}

void default_free_ex(PVOID buffer, PLOOKASIDE_LIST_EX) { ExFreePool(buffer); }

bool valid_list_pool_type(POOL_TYPE type)
{
    ULONG bits = static_cast<ULONG>(type) & ~static_cast<ULONG>(POOL_NX_ALLOCATION | NonPagedPoolSession);
    return bits == NonPagedPool || bits == PagedPool || bits == NonPagedPoolCacheAligned ||
           bits == PagedPoolCacheAligned;
}

}  // namespace

#define IOSIM_CALLER __builtin_return_address(0)

extern "C" {

void ExInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                                     ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    // Flags may carry POOL_NX_ALLOCATION and POOL_RAISE_IF_ALLOCATION_FAILURE.
    auto type = static_cast<POOL_TYPE>(NonPagedPool |
                                       (Flags & (POOL_NX_ALLOCATION | POOL_RAISE_IF_ALLOCATION_FAILURE)));
    initialize(Lookaside->L, type, Size, Tag);
    Lookaside->L.Allocate = Allocate != nullptr ? Allocate : &ExAllocatePoolWithTag;
    Lookaside->L.Free = Free != nullptr ? Free : &ExFreePool;
    register_list(Lookaside->L, false, IOSIM_CALLER);
}

void ExInitializePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                                    ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    auto type = static_cast<POOL_TYPE>(PagedPool | (Flags & POOL_RAISE_IF_ALLOCATION_FAILURE));
    initialize(Lookaside->L, type, Size, Tag);
    Lookaside->L.Allocate = Allocate != nullptr ? Allocate : &ExAllocatePoolWithTag;
    Lookaside->L.Free = Free != nullptr ? Free : &ExFreePool;
    register_list(Lookaside->L, false, IOSIM_CALLER);
}

PVOID ExAllocateFromNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    return allocate_from(Lookaside->L, nullptr, "ExAllocateFromNPagedLookasideList", IOSIM_CALLER);
}

PVOID ExAllocateFromPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    return allocate_from(Lookaside->L, nullptr, "ExAllocateFromPagedLookasideList", IOSIM_CALLER);
}

void ExFreeToNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    free_to(Lookaside->L, nullptr, Entry, "ExFreeToNPagedLookasideList", IOSIM_CALLER);
}

void ExFreeToPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    free_to(Lookaside->L, nullptr, Entry, "ExFreeToPagedLookasideList", IOSIM_CALLER);
}

void ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    delete_list(Lookaside->L, nullptr, "ExDeleteNPagedLookasideList", IOSIM_CALLER);
}

void ExDeletePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    delete_list(Lookaside->L, nullptr, "ExDeletePagedLookasideList", IOSIM_CALLER);
}

NTSTATUS ExInitializeLookasideListEx(PLOOKASIDE_LIST_EX Lookaside, PALLOCATE_FUNCTION_EX Allocate,
                                     PFREE_FUNCTION_EX Free, POOL_TYPE PoolType, ULONG Flags, SIZE_T Size, ULONG Tag,
                                     USHORT Depth)
{
    if (!valid_list_pool_type(PoolType))
        return STATUS_INVALID_PARAMETER_4;
    constexpr ULONG kKnown = EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL | EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE;
    if ((Flags & ~kKnown) != 0 || Flags == kKnown)
        return STATUS_INVALID_PARAMETER_5;  // unknown bits, or both (they are mutually exclusive)
    ULONG type = static_cast<ULONG>(PoolType);
    if ((Flags & EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL) != 0)
        type |= POOL_RAISE_IF_ALLOCATION_FAILURE;
    if ((Flags & EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE) != 0)
        type |= POOL_QUOTA_FAIL_INSTEAD_OF_RAISE;
    initialize(Lookaside->L, static_cast<POOL_TYPE>(type), Size, Tag);
    Lookaside->L.AllocateEx = Allocate != nullptr ? Allocate : &default_allocate_ex;
    Lookaside->L.FreeEx = Free != nullptr ? Free : &default_free_ex;
    register_list(Lookaside->L, true, IOSIM_CALLER);
    return STATUS_SUCCESS;
}

PVOID ExAllocateFromLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    return allocate_from(Lookaside->L, Lookaside, "ExAllocateFromLookasideListEx", IOSIM_CALLER);
}

void ExFreeToLookasideListEx(PLOOKASIDE_LIST_EX Lookaside, PVOID Entry)
{
    free_to(Lookaside->L, Lookaside, Entry, "ExFreeToLookasideListEx", IOSIM_CALLER);
}

void ExDeleteLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    delete_list(Lookaside->L, Lookaside, "ExDeleteLookasideListEx", IOSIM_CALLER);
}

void ExFlushLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    LookasideRegistry* reg = registry();
    if (reg == nullptr)
        return;
    const void* caller = IOSIM_CALLER;
    std::vector<void*> entries = reg->take_all(&Lookaside->L);
    {
        std::lock_guard guard(reg->lock());
        show_held(Lookaside->L, 0);
    }
    for (void* entry : entries)
        release(Lookaside->L, Lookaside, entry, caller);
}

}  // extern "C"
