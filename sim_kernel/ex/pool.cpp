// pool.cpp - the pool tracker: block records, frees checked against them, special pool.
//
// Rules kept here:
//  - the pool ranges are reserved in the System's system space on first use (the pool
//    tracker is built before the memory manager, see System);
//  - a block is live from allocate() to free(); its record names its owner driver (the
//    module holding the caller's return address) and the call site;
//  - a bad free is diagnosed from what the address is: a block freed recently (0x07,
//    with the line that freed it), a live block with another tag (0x0A), a user-mode
//    address (0x40), a system address outside every pool range (0x42), the middle of a
//    block or a pool address that never started one (0x46; 0x41286 for paged pool);
//  - a SystemBuffer a driver frees is freed (it is pool), and remembered: when the I/O
//    manager frees it at completion, the double free names the driver's line.
// NT counterparts: ExAllocatePoolWithTag, ExFreePoolWithTag (ExFreeHeapPool's checks).
#include "ex/pool.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "ex/pool_arena.h"
#include "ex/special_pool.h"
#include "ke/bugcheck.h"
#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "mm/memory_manager.h"
#include "system.h"
#include "wdm_impl.h"

namespace iosim::ex {

namespace {

constexpr size_t kRangeBytes = size_t{1} << 30;  // each of paged, non-paged and special pool
constexpr size_t kFreedMemory = 4096;            // freed block starts remembered for reports

// Parameter 1 values of BAD_POOL_CALLER (bug check 0xC2), from its documentation.
constexpr ULONG_PTR kAlreadyFreed = 0x07;        // p3: pool header contents, p4: the block
constexpr ULONG_PTR kWrongTag = 0x0A;            // p2: block, p3: allocator's tag, p4: tag used
constexpr ULONG_PTR kUserAddress = 0x40;         // p2: address, p3: start of system space
constexpr ULONG_PTR kNeverInPool = 0x42;         // p2: address
constexpr ULONG_PTR kInvalidPoolAddress = 0x46;  // p2: address
constexpr ULONG_PTR kInsidePagedBlock = 0x41286; // p4: offset in pages from the start of paged pool

// Parameter 4 values of SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION (0xC1).
constexpr ULONG_PTR kCorruptedBefore = 0x23;     // bytes near the block, in its page
constexpr ULONG_PTR kCorruptedAfter = 0x24;      // bytes after the block's end

bool tags_match(ULONG a, ULONG b) { return ((a ^ b) & ~static_cast<ULONG>(PROTECTED_POOL)) == 0; }

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// A POOL_HEADER-shaped value for parameter 3 of subcode 0x07: iosim keeps no header in
// front of blocks, so it shows what Windows' x64 header of the freed block would hold:
// the tag in the high half, BlockSize (16-byte units, small blocks only) in bits 16-23,
// PoolType 0 (free).
ULONG_PTR header_value(ULONG tag, size_t size)
{
    size_t units = size < 4080 ? (size + 15) / 16 + 1 : 0;
    return (static_cast<ULONG_PTR>(tag) << 32) | ((units & 0xFF) << 16);
}

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

PoolTracker::PoolTracker() = default;
PoolTracker::~PoolTracker() = default;

bool PoolTracker::ensure_ranges()
{
    // Called with lock_ held.
    if (nonpaged_ != nullptr)
        return true;
    memory_ = mm::current();
    if (memory_ == nullptr)
        return false;
    nonpaged_ = std::make_unique<PoolArena>(memory_->system_space(), kRangeBytes, "nonpaged pool");
    paged_ = std::make_unique<PoolArena>(memory_->system_space(), kRangeBytes, "paged pool");
    return true;
}

bool PoolTracker::special_pool_enabled_for(const ldr::Module* owner) const
{
    std::lock_guard guard(lock_);
    return special_all_ ||
           (owner != nullptr && !special_drivers_.empty() && special_drivers_.count(lower(owner->name)) != 0);
}

void PoolTracker::set_special_pool_for_all(bool on)
{
    std::lock_guard guard(lock_);
    special_all_ = on;
}

void PoolTracker::set_special_pool_for(const std::string& driver, bool on)
{
    std::lock_guard guard(lock_);
    if (on)
        special_drivers_.insert(lower(driver));
    else
        special_drivers_.erase(lower(driver));
}

void* PoolTracker::allocate(const PoolRequest& request)
{
    ldr::Module* owner = ldr::module_for_address(request.caller);
    size_t alignment = request.cache_aligned ? 64 : 16;
    bool use_special = false;
    {
        std::lock_guard guard(lock_);
        if (!ensure_ranges())
            return nullptr;
        use_special = special_all_ || (owner != nullptr && !special_drivers_.empty() &&
                                       special_drivers_.count(lower(owner->name)) != 0);
        if (use_special && special_ == nullptr) {
            special_ = std::make_unique<SpecialPool>(memory_->system_space(), kRangeBytes);
            special_published_.store(special_.get(), std::memory_order_release);
        }
    }
    void* block = nullptr;
    bool special = false;
    if (use_special) {
        block = special_->allocate(request.size, alignment, request.tag, request.paged, request.caller);
        special = block != nullptr;  // special pool full: ordinary pool instead, as on Windows
    }
    if (block == nullptr)
        block = arena(request.paged).allocate(request.size, alignment);
    if (block == nullptr)
        return nullptr;
    if (request.zero)
        std::memset(block, 0, request.size);
    PoolBlock record{block, request.size, request.tag, request.paged, owner, request.caller, 0, special};
    std::lock_guard guard(lock_);
    record.serial = next_serial_++;
    live_[block] = record;
    freed_.erase(block);
    return block;
}

void PoolTracker::remember_freed(void* address, const FreedBlock& freed)
{
    // Called with lock_ held.
    freed_[address] = freed;
    freed_order_.emplace_back(address, freed.serial);
    while (freed_order_.size() > kFreedMemory) {
        auto [old, serial] = freed_order_.front();
        freed_order_.pop_front();
        auto it = freed_.find(old);
        if (it != freed_.end() && it->second.serial == serial)
            freed_.erase(it);
    }
}

void PoolTracker::free(void* address, ULONG tag, bool check_tag, const void* caller)
{
    PoolBlock block;
    {
        std::unique_lock guard(lock_);
        auto it = live_.find(address);
        if (it == live_.end()) {
            if (system_buffers_.count(address) != 0) {
                // A driver freeing the I/O manager's buffer: it is pool, so it goes; the
                // I/O manager's own free at completion then reports the double free.
                system_buffers_.erase(address);
                size_t capacity = nonpaged_->block_capacity(address);
                remember_freed(address, FreedBlock{capacity, 0, false, true, nullptr, caller, next_serial_++});
                guard.unlock();
                nonpaged_->free(address, true);
                return;
            }
            guard.unlock();
            bad_free(address, tag, caller);
        }
        if (check_tag && !tags_match(it->second.tag, tag)) {
            ULONG allocated_tag = it->second.tag;
            guard.unlock();
            bugcheck(BAD_POOL_CALLER, kWrongTag, reinterpret_cast<ULONG_PTR>(address), allocated_tag, tag, caller,
                     nullptr,
                     "ExFreePoolWithTag was called with tag '" + tag_to_string(tag) + "' for a block allocated with tag '" +
                         tag_to_string(allocated_tag) + "': the tag must be the one given at allocation.");
        }
        block = it->second;
    }
    if (block.special) {
        if (auto corruption = special_->check(address)) {
            std::string where = corruption->after_end
                                    ? fmt::format("{} byte(s) after its end", corruption->address - (mm::addr(address) + block.size))
                                    : fmt::format("{} byte(s) before its start", mm::addr(address) - corruption->address);
            bugcheck(SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION, reinterpret_cast<ULONG_PTR>(address),
                     static_cast<ULONG_PTR>(corruption->address), 0,
                     corruption->after_end ? kCorruptedAfter : kCorruptedBefore, caller, nullptr,
                     fmt::format("When the {}-byte special-pool block tagged '{}' (allocated at {}) was freed, the "
                                 "pattern special pool keeps around it had been overwritten {}: the driver wrote "
                                 "outside its block, within the block's own page, where no fault could stop it.",
                                 block.size, tag_to_string(block.tag), ldr::describe_call_site(block.caller), where));
        }
    }
    {
        std::lock_guard guard(lock_);
        live_.erase(address);
        remember_freed(address, FreedBlock{block.size, block.tag, block.paged, false, block.caller, caller, block.serial});
    }
    if (block.special)
        special_->free(address, caller);
    else
        arena(block.paged).free(address);
}

void PoolTracker::bad_free(void* address, ULONG tag, const void* caller)
{
    uintptr_t a = mm::addr(address);
    std::optional<FreedBlock> freed;
    std::optional<PoolBlock> containing;
    {
        std::lock_guard guard(lock_);
        ensure_ranges();  // a first pool call that is a bad free still knows the ranges
        auto it = freed_.find(address);
        if (it != freed_.end())
            freed = it->second;
        auto live = live_.upper_bound(address);
        if (live != live_.begin()) {
            const PoolBlock& b = std::prev(live)->second;
            if (a < mm::addr(b.address) + std::max<size_t>(b.size, 1))
                containing = b;
        }
    }
    const char* routine = tag != 0 ? "ExFreePoolWithTag" : "ExFreePool";
    if (freed) {
        if (freed->system_buffer)
            bugcheck(BAD_POOL_CALLER, kAlreadyFreed, 0, header_value(0, freed->size), a, freed->freed_by, nullptr,
                     fmt::format("The I/O manager freed the IRP's SystemBuffer at completion, but the driver had "
                                 "already freed it at {}: the SystemBuffer belongs to the I/O manager, which frees it "
                                 "itself.",
                                 ldr::describe_call_site(freed->freed_by)));
        bugcheck(BAD_POOL_CALLER, kAlreadyFreed, 0, header_value(freed->tag, freed->size), a, caller, nullptr,
                 fmt::format("{} was called on the {}-byte block tagged '{}' at 0x{:X}, which was already freed at {} "
                             "(allocated at {}): a block may be freed only once.",
                             routine, freed->size, tag_to_string(freed->tag), a,
                             ldr::describe_call_site(freed->freed_by), ldr::describe_call_site(freed->allocated_by)));
    }
    mm::AddressInfo info;
    if (memory_ != nullptr)
        info = memory_->classify(address);
    std::string range = range_of(address);
    if (info.region == mm::Region::System || info.region == mm::Region::DriverImage) {
        if (containing) {
            ULONG_PTR offset = a - mm::addr(containing->address);
            std::string why = fmt::format(
                "{} was called on address 0x{:X}, {} byte(s) into the {}-byte block tagged '{}' allocated at {}: only "
                "the address the allocation returned may be freed.",
                routine, a, offset, containing->size, tag_to_string(containing->tag),
                ldr::describe_call_site(containing->caller));
            if (containing->paged && range == "paged pool")
                bugcheck(BAD_POOL_CALLER, kInsidePagedBlock, 0, 0, (a - paged_->base()) >> mm::kPageShift, caller,
                         nullptr, std::move(why));
            bugcheck(BAD_POOL_CALLER, kInvalidPoolAddress, a, 0, 0, caller, nullptr, std::move(why));
        }
        if (!range.empty()) {
            bool slot = range != "special pool" && arena(range == "paged pool").block_capacity(address) != 0;
            if (slot)
                bugcheck(BAD_POOL_CALLER, kAlreadyFreed, 0, header_value(0, 0), a, caller, nullptr,
                         fmt::format("{} was called on 0x{:X}, the start of a {} block that is not allocated: it was "
                                     "freed already (long enough ago that iosim no longer knows where).",
                                     routine, a, range));
            bugcheck(BAD_POOL_CALLER, kInvalidPoolAddress, a, 0, 0, caller, nullptr,
                     fmt::format("{} was called on 0x{:X}, an address in {} where no block starts: it never came "
                                 "from ExAllocatePool.",
                                 routine, a, range));
        }
        bugcheck(BAD_POOL_CALLER, kNeverInPool, a, 0, 0, caller, nullptr,
                 fmt::format("{} was called on 0x{:X}, a kernel address that was never in any pool ({}): only "
                             "memory from ExAllocatePool* may be freed with it.",
                             routine, a,
                             info.region == mm::Region::DriverImage ? "it is inside a driver image, a global or a "
                                                                      "string literal"
                                                                    : "it is system space outside the pool ranges"));
    }
    ULONG_PTR system_start = memory_ != nullptr ? memory_->system_space().base() : 0;
    bugcheck(BAD_POOL_CALLER, kUserAddress, a, system_start, 0, caller, nullptr,
             address == nullptr
                 ? fmt::format("{} was called with a NULL pointer, an address below the kernel's range: check the "
                               "allocation succeeded before freeing it.",
                               routine)
                 : fmt::format("{} was called on 0x{:X}, which is not a kernel address ({}): pool lives in system "
                               "space, so this pointer never came from ExAllocatePool (a stack buffer, a user "
                               "buffer, or a stale pointer?).",
                               routine, a, mm::region_name(info.region)));
}

void* PoolTracker::allocate_system_buffer(size_t size)
{
    {
        std::lock_guard guard(lock_);
        if (!ensure_ranges())
            return nullptr;
    }
    void* buffer = nonpaged_->allocate(size, 16, /*recycle=*/true);
    if (buffer == nullptr)
        return nullptr;
    std::memset(buffer, 0, size);
    std::lock_guard guard(lock_);
    system_buffers_.insert(buffer);
    freed_.erase(buffer);
    return buffer;
}

void PoolTracker::free_system_buffer(void* buffer)
{
    if (buffer == nullptr)
        return;
    {
        std::lock_guard guard(lock_);
        if (system_buffers_.erase(buffer) != 0) {
            nonpaged_->free(buffer, /*recycle=*/true);
            return;
        }
    }
    // Not one of the I/O manager's: a driver's pool block put in the IRP, or a bad pointer.
    free(buffer, 0, false, nullptr);
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

std::optional<PoolBlock> PoolTracker::block_at(const void* address) const
{
    std::lock_guard guard(lock_);
    auto it = live_.find(const_cast<void*>(address));
    if (it == live_.end())
        return std::nullopt;
    return it->second;
}

void PoolTracker::forget(const ldr::Module* owner)
{
    {
        std::lock_guard guard(lock_);
        for (auto& [address, block] : live_) {
            if (block.owner == owner) {
                // The leaked memory stays allocated (as on Windows, until reboot); only the
                // record's links to the module go, since it is being unloaded.
                block.owner = nullptr;
                block.caller = nullptr;
            }
        }
        for (auto& [address, freed] : freed_) {
            if (owner == nullptr)
                break;
            if (ldr::module_for_address(freed.allocated_by) == owner)
                freed.allocated_by = nullptr;
            if (ldr::module_for_address(freed.freed_by) == owner)
                freed.freed_by = nullptr;
        }
    }
    if (special_ != nullptr && owner != nullptr)
        special_->forget_module(owner);
    lookaside_.forget(owner);
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

PoolTracker::RangeInfo PoolTracker::range(bool paged) const
{
    std::lock_guard guard(lock_);
    const PoolArena* a = paged ? paged_.get() : nonpaged_.get();
    if (a == nullptr)
        return {};
    return RangeInfo{a->base(), a->bytes(), a->committed_pages()};
}

std::string PoolTracker::range_of(const void* address) const
{
    std::lock_guard guard(lock_);
    if (nonpaged_ != nullptr && nonpaged_->contains(address))
        return nonpaged_->purpose();
    if (paged_ != nullptr && paged_->contains(address))
        return paged_->purpose();
    if (special_ != nullptr && special_->contains(mm::addr(address)))
        return "special pool";
    return {};
}

void* allocate_system_buffer(size_t size)
{
    System* sys = System::current();
    return sys != nullptr ? sys->pool().allocate_system_buffer(size) : nullptr;
}

void free_system_buffer(void* buffer)
{
    if (System* sys = System::current())
        sys->pool().free_system_buffer(buffer);
}

}  // namespace iosim::ex
