// pool_arena.h - where pool memory lives: runs of pages and size classes in system space.
//
// Each pool (paged, non-paged, special) is one reservation in the memory manager's system
// space, so a pool address classifies as System and every committed page has a frame of
// simulated physical memory (MmGetPhysicalAddress, MmBuildMdlForNonPagedPool and a second
// mapping of a pool buffer all see the same frames).
//
// PageRuns hands out runs of pages inside a reservation, next-fit: a released run is not
// reused until the cursor comes round again, so a stale pointer keeps faulting for a
// while. PoolArena builds the ordinary pool on it: blocks below a page come from size
// classes (16-byte granular, each page cut into equal slots, so a block never crosses a
// page), blocks of a page or more get their own page-aligned run, committed on
// allocation and decommitted when freed. Free slots are kept outside the memory they
// describe (a FIFO per class), so a driver writing into freed pool cannot corrupt the
// allocator, and a freed slot is reused as late as possible. The I/O manager's
// SystemBuffers may ask for their large runs to be recycled committed (a few MiB at most):
// buffered I/O of 64 KiB would otherwise map and unmap 16 frames per request.
// All methods are thread-safe (one lock per arena).
// NT counterparts: the pool descriptors (POOL_DESCRIPTOR, ExpNonPagedPoolDescriptor), the
// big-pool allocator (MiAllocatePoolPages), the paged/non-paged pool ranges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mm/page.h"

namespace iosim::mm {
class AddressSpace;
}

namespace iosim::ex {

// Runs of pages inside one reservation. Not thread-safe: its owner locks.
class PageRuns {
public:
    PageRuns() = default;
    void reset(uintptr_t base, size_t pages);
    // The first page of a free run of `pages` pages at or after the cursor (wrapping
    // round once), or 0 when none is free.
    uintptr_t take(size_t pages);
    void give_back(uintptr_t first, size_t pages);
    uintptr_t base() const { return base_; }
    size_t pages() const { return pages_; }

private:
    uintptr_t base_ = 0;
    size_t pages_ = 0;
    std::map<uintptr_t, size_t> free_;  // first page -> pages
    uintptr_t cursor_ = 0;
};

class PoolArena {
public:
    static constexpr size_t kSmallLimit = 2048;  // larger blocks get whole pages

    // Reserves `bytes` of `space` for this pool; `purpose` names the reservation.
    PoolArena(mm::AddressSpace& space, size_t bytes, std::string purpose);
    ~PoolArena();
    PoolArena(const PoolArena&) = delete;
    PoolArena& operator=(const PoolArena&) = delete;

    // A block of at least `size` bytes aligned to `alignment` (16 or 64; page-sized and
    // larger blocks are page aligned). Its contents are what the slot last held (zero
    // when new). nullptr when the arena is full. `recycle`: a large block may come from,
    // and go back to, the committed-run cache.
    void* allocate(size_t size, size_t alignment, bool recycle = false);
    // Frees a block this arena handed out (the caller checked it is one).
    void free(void* block, bool recycle = false);
    // Bytes the block at `block` occupies (its slot or its pages); 0 if not a block start.
    size_t block_capacity(const void* block) const;

    bool contains(const void* address) const
    {
        auto a = mm::addr(address);
        return a >= base_ && a < base_ + bytes_;
    }
    uintptr_t base() const { return base_; }
    size_t bytes() const { return bytes_; }
    const std::string& purpose() const { return purpose_; }
    size_t committed_pages() const;

private:
    static constexpr uint8_t kFree = 0;
    static constexpr uint8_t kLargeHead = 0xFE;
    static constexpr uint8_t kLargeTail = 0xFF;

    struct SizeClass {
        size_t size;
        std::deque<uintptr_t> free_slots;
    };
    size_t page_index(uintptr_t a) const { return (a - base_) >> mm::kPageShift; }
    std::optional<size_t> class_for(size_t size, size_t alignment) const;
    bool grow_class(size_t index);

    mm::AddressSpace& space_;
    std::string purpose_;
    uintptr_t base_ = 0;
    size_t bytes_ = 0;
    mutable std::mutex lock_;
    PageRuns runs_;
    std::vector<SizeClass> classes_;
    std::vector<uint8_t> page_kind_;          // per page: kFree, class index + 1, kLargeHead/Tail
    std::map<uintptr_t, size_t> large_;       // large block -> pages
    std::multimap<size_t, uintptr_t> recycled_;  // committed free runs by pages (SystemBuffers)
    size_t recycled_pages_ = 0;
    size_t committed_ = 0;
};

}  // namespace iosim::ex
