// pool.h - the executive pool: tracked kernel allocations in system space.
//
// Every ExAllocatePool* block is recorded with its pool type (paged/non-paged), tag, size,
// the driver that asked for it and the source line of the call. Its memory comes from the
// paged or the non-paged pool range of system space (ex/pool_arena.h), or from special
// pool when Driver Verifier's special pool is on for the driver (ex/special_pool.h).
// Freeing checks the block is live and that the tag matches, and explains a bad free with
// BAD_POOL_CALLER (0xC2) and Windows' parameter-1 subcode; what a driver still holds when
// it unloads is listed in the unload report. The I/O manager's SystemBuffers come from
// non-paged pool too, but are not a driver's blocks: they are not listed or counted.
// All methods are thread-safe.
// NT counterparts: ExAllocatePoolWithTag, ExFreePoolWithTag, PoolTrack, the verifier's
// special-pool settings (VerifyDrivers, the Special Pool flag).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "ex/lookaside.h"
#include "nt.h"

namespace iosim::ldr {
struct Module;
}

namespace iosim::mm {
class MemoryManager;
}

namespace iosim::ex {

class PoolArena;
class SpecialPool;

struct PoolBlock {
    void* address = nullptr;
    size_t size = 0;
    ULONG tag = 0;
    bool paged = false;
    ldr::Module* owner = nullptr;   // the driver that allocated it (nullptr: iosim itself)
    const void* caller = nullptr;   // return address of the allocation call
    uint64_t serial = 0;            // allocation order
    bool special = false;           // from special pool (Driver Verifier)
};

// One allocation request.
struct PoolRequest {
    bool paged = false;
    size_t size = 0;
    ULONG tag = 0;
    const void* caller = nullptr;   // the driver's return address: names the line and the owner
    bool zero = false;
    bool cache_aligned = false;     // 64-byte alignment (CacheAligned types, POOL_FLAG_CACHE_ALIGNED)
};

class PoolTracker {
public:
    PoolTracker();
    // The machine is going away: like a reboot, every block still allocated goes with the
    // pool ranges.
    ~PoolTracker();
    PoolTracker(const PoolTracker&) = delete;
    PoolTracker& operator=(const PoolTracker&) = delete;

    // nullptr when the pool range is exhausted (or no memory manager exists).
    void* allocate(const PoolRequest& request);
    void* allocate(bool paged, size_t size, ULONG tag, const void* caller, bool zero)
    {
        return allocate(PoolRequest{paged, size, tag, caller, zero, false});
    }
    // Frees a block; with check_tag, `tag` must match (PROTECTED_POOL ignored). Anything
    // else bug-checks BAD_POOL_CALLER with the documented subcode: 0x07 freed already,
    // 0x0A wrong tag, 0x40 a user-mode address, 0x42 a system address never in any pool,
    // 0x46 a pool address that is not the start of a block (0x41286 inside a paged block).
    // A special-pool block whose fill pattern was overwritten is
    // SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION (0xC1).
    void free(void* address, ULONG tag, bool check_tag, const void* caller);

    // The I/O manager's SystemBuffers: zeroed non-paged pool, not a driver's block (not
    // listed, not counted). free_system_buffer(nullptr) does nothing; a buffer the driver
    // replaced with a pool block of its own is freed as that block.
    void* allocate_system_buffer(size_t size);
    void free_system_buffer(void* buffer);

    std::vector<PoolBlock> outstanding(const ldr::Module* owner) const;
    std::vector<PoolBlock> outstanding_all() const;
    std::optional<PoolBlock> block_at(const void* address) const;
    // Drops the records of a module's blocks and lookaside lists (after they were
    // reported at unload).
    void forget(const ldr::Module* owner);

    struct TagUsage {
        ULONG tag;
        bool paged;
        size_t allocations;
        size_t bytes;
    };
    std::vector<TagUsage> usage_by_tag() const;

    // Where pool memory lives: the reservation of each range, and its committed pages.
    struct RangeInfo {
        uintptr_t base = 0;
        size_t bytes = 0;
        size_t committed_pages = 0;
    };
    RangeInfo range(bool paged) const;
    // Which range an address is in: "paged pool", "nonpaged pool", "special pool", or "".
    std::string range_of(const void* address) const;

    // Driver Verifier's special pool: for every allocation (including iosim's tests
    // calling the Ex routines directly), or for the drivers named ("kbuffer.sys",
    // case-insensitive). Applies to allocations made from then on.
    void set_special_pool_for_all(bool on);
    void set_special_pool_for(const std::string& driver, bool on);
    bool special_pool_enabled_for(const ldr::Module* owner) const;
    // nullptr until the first special-pool allocation. Safe from a signal handler.
    const SpecialPool* special_pool() const { return special_published_.load(std::memory_order_acquire); }

    LookasideRegistry& lookaside() { return lookaside_; }
    const LookasideRegistry& lookaside() const { return lookaside_; }

private:
    struct FreedBlock {
        size_t size = 0;
        ULONG tag = 0;
        bool paged = false;
        bool system_buffer = false;     // an I/O manager buffer a driver freed
        const void* allocated_by = nullptr;
        const void* freed_by = nullptr;
        uint64_t serial = 0;
    };
    bool ensure_ranges();
    PoolArena& arena(bool paged) { return paged ? *paged_ : *nonpaged_; }
    void remember_freed(void* address, const FreedBlock& freed);
    [[noreturn]] void bad_free(void* address, ULONG tag, const void* caller);

    mutable std::mutex lock_;
    mm::MemoryManager* memory_ = nullptr;
    std::unique_ptr<PoolArena> paged_;
    std::unique_ptr<PoolArena> nonpaged_;
    std::unique_ptr<SpecialPool> special_;
    std::atomic<const SpecialPool*> special_published_{nullptr};
    std::map<void*, PoolBlock> live_;
    std::unordered_set<void*> system_buffers_;
    std::map<void*, FreedBlock> freed_;   // recently freed block starts (double-free reports)
    std::deque<std::pair<void*, uint64_t>> freed_order_;
    uint64_t next_serial_ = 1;
    bool special_all_ = false;
    std::set<std::string> special_drivers_;  // lower case
    LookasideRegistry lookaside_;
};

// "Dflt" style rendering of a pool tag (ULONG read as four little-endian chars).
std::string tag_to_string(ULONG tag);

// The I/O manager's SystemBuffers, from the current System's non-paged pool.
void* allocate_system_buffer(size_t size);
void free_system_buffer(void* buffer);

}  // namespace iosim::ex
