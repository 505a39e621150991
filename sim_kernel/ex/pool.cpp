// pool.cpp - tracked pool allocations and the Ex* pool routines drivers call.
//
// Blocks come from the host heap, 16-byte aligned; the tracker remembers each live block
// so a double free, a free of an address that was never allocated and a free with the
// wrong tag are caught (BAD_POOL_CALLER, 0xC2) and leaks are listed at unload.
// NT counterparts: ExAllocatePoolWithTag, ExFreePoolWithTag, ExAllocatePool2.
#include "ex/pool.h"

#include <cstdlib>
#include <algorithm>
#include <cstring>

#include "ke/bugcheck.h"
#include "ldr/module.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim::ex {

namespace {
// Parameter 1 values of BAD_POOL_CALLER.
constexpr ULONG_PTR kBadPoolWrongTag = 0x0A;
constexpr ULONG_PTR kBadPoolAlreadyFreed = 0x07;
constexpr ULONG_PTR kBadPoolInvalidAddress = 0x46;
constexpr ULONG kTagNone = 0x656E6F4E;  // 'None': ExAllocatePool's implicit tag
}  // namespace

std::string tag_to_string(ULONG tag)
{
    std::string out;
    for (int i = 0; i < 4; ++i) {
        char c = static_cast<char>((tag >> (8 * i)) & 0xFF);
        out.push_back(c >= 0x20 && c < 0x7F ? c : '.');
    }
    return out;
}

PoolTracker::~PoolTracker()
{
    for (auto& [address, block] : live_)
        std::free(address);
}

void* PoolTracker::allocate(bool paged, size_t size, ULONG tag, const void* caller, bool zero)
{
    size_t rounded = ((size == 0 ? 1 : size) + 15) & ~size_t{15};
    void* block = std::aligned_alloc(16, rounded);
    if (block == nullptr)
        return nullptr;
    if (zero)
        std::memset(block, 0, rounded);
    PoolBlock record{block, size, tag, paged, ldr::module_for_address(caller), caller, 0};
    std::lock_guard guard(lock_);
    record.serial = next_serial_++;
    live_.emplace(block, record);
    return block;
}

void PoolTracker::free(void* address, ULONG tag, bool check_tag, const void* caller)
{
    bool live = false;
    ULONG allocated_tag = 0;
    {
        std::lock_guard guard(lock_);
        auto it = live_.find(address);
        if (it != live_.end()) {
            live = true;
            allocated_tag = it->second.tag;
            if (!check_tag || allocated_tag == tag) {
                live_.erase(it);
                std::free(address);
                return;
            }
        }
    }
    if (live)
        bugcheck(BAD_POOL_CALLER, kBadPoolWrongTag, reinterpret_cast<ULONG_PTR>(address), allocated_tag, tag, caller,
                 nullptr,
                 "ExFreePoolWithTag was called with tag '" + tag_to_string(tag) + "' for a block allocated with tag '" +
                     tag_to_string(allocated_tag) + "': the tag must be the one given at allocation.");
    // Not live: either freed already or never a pool block. iosim does not remember
    // addresses after they are freed, so both read as "not a live block" here.
    // 0x07 (already freed): parameter 4 is the block's address; 0x46 (invalid address):
    // parameter 2 is.
    bool invalid = address == nullptr;
    bugcheck(BAD_POOL_CALLER, invalid ? kBadPoolInvalidAddress : kBadPoolAlreadyFreed,
             invalid ? reinterpret_cast<ULONG_PTR>(address) : 0, 0, invalid ? 0 : reinterpret_cast<ULONG_PTR>(address),
             caller, nullptr,
             address == nullptr ? "ExFreePool was called with a NULL pointer."
                                : "ExFreePool was called on an address that is not a live pool block: it was freed "
                                  "already, or never came from ExAllocatePool.");
}

std::vector<PoolBlock> PoolTracker::outstanding(const ldr::Module* owner) const
{
    std::lock_guard guard(lock_);
    std::vector<PoolBlock> out;
    for (auto& [address, block] : live_)
        if (block.owner == owner)
            out.push_back(block);
    std::sort(out.begin(), out.end(), [](const PoolBlock& a, const PoolBlock& b) { return a.serial < b.serial; });
    return out;
}

std::vector<PoolBlock> PoolTracker::outstanding_all() const
{
    std::lock_guard guard(lock_);
    std::vector<PoolBlock> out;
    for (auto& [address, block] : live_)
        out.push_back(block);
    std::sort(out.begin(), out.end(), [](const PoolBlock& a, const PoolBlock& b) { return a.serial < b.serial; });
    return out;
}

void PoolTracker::forget(const ldr::Module* owner)
{
    std::lock_guard guard(lock_);
    for (auto it = live_.begin(); it != live_.end();) {
        if (it->second.owner == owner) {
            // The leaked memory stays allocated (as on Windows, until reboot); only the
            // record goes, since the module it points at is being unloaded.
            it->second.owner = nullptr;
            it->second.caller = nullptr;
        }
        ++it;
    }
}

std::vector<PoolTracker::TagUsage> PoolTracker::usage_by_tag() const
{
    std::lock_guard guard(lock_);
    std::map<std::pair<ULONG, bool>, TagUsage> by_tag;
    for (auto& [address, block] : live_) {
        auto& usage = by_tag[{block.tag, block.paged}];
        usage.tag = block.tag;
        usage.paged = block.paged;
        usage.allocations++;
        usage.bytes += block.size;
    }
    std::vector<TagUsage> out;
    for (auto& [key, usage] : by_tag)
        out.push_back(usage);
    return out;
}

}  // namespace iosim::ex

using iosim::System;

namespace {

bool is_paged(POOL_TYPE type) { return (static_cast<int>(type) & 1) != 0; }

void* pool_alloc(bool paged, SIZE_T size, ULONG tag, const void* caller, bool zero)
{
    System* sys = System::current();
    if (sys == nullptr)
        return nullptr;
    return sys->pool().allocate(paged, size, tag, caller, zero);
}

void pool_free(void* p, ULONG tag, bool check_tag, const void* caller)
{
    if (System* sys = System::current())
        sys->pool().free(p, tag, check_tag, caller);
}

}  // namespace

extern "C" {

PVOID ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return pool_alloc(is_paged(PoolType), NumberOfBytes, iosim::ex::kTagNone, __builtin_return_address(0), false);
}

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_alloc(is_paged(PoolType), NumberOfBytes, Tag, __builtin_return_address(0), false);
}

PVOID ExAllocatePoolWithQuota(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return pool_alloc(is_paged(PoolType), NumberOfBytes, iosim::ex::kTagNone, __builtin_return_address(0), false);
}

PVOID ExAllocatePoolWithQuotaTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_alloc(is_paged(PoolType), NumberOfBytes, Tag, __builtin_return_address(0), false);
}

PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_alloc(is_paged(PoolType), NumberOfBytes, Tag, __builtin_return_address(0), true);
}

PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_alloc(is_paged(PoolType), NumberOfBytes, Tag, __builtin_return_address(0), false);
}

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    // The low 32 bits are required flags: one iosim does not know cannot be honoured, so
    // the allocation fails, as documented. A zero tag is refused too.
    constexpr POOL_FLAGS kKnownRequired = POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | POOL_FLAG_SESSION |
                                          POOL_FLAG_CACHE_ALIGNED | POOL_FLAG_RESERVED1 | POOL_FLAG_RAISE_ON_FAILURE |
                                          POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    if ((Flags & 0xFFFFFFFFULL & ~kKnownRequired) != 0 || Tag == 0)
        return nullptr;
    const POOL_FLAGS kind = Flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
    if (kind == 0 || (kind & (kind - 1)) != 0)
        return nullptr;  // exactly one pool kind is required
    bool zero = (Flags & POOL_FLAG_UNINITIALIZED) == 0;
    return pool_alloc(kind == POOL_FLAG_PAGED, NumberOfBytes, Tag, __builtin_return_address(0), zero);
}

void ExFreePool(PVOID P) { pool_free(P, 0, false, __builtin_return_address(0)); }

void ExFreePoolWithTag(PVOID P, ULONG Tag) { pool_free(P, Tag, Tag != 0, __builtin_return_address(0)); }

}  // extern "C"
