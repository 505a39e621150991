// special_pool.h - Driver Verifier's special pool: each allocation against a guard page.
//
// With special pool on for a driver (or for all), each of its pool blocks gets pages of
// its own in the "special pool" range of system space: the block ends at the end of its
// last page (its size rounded up to the pool alignment, 16 bytes, or 64 for cache-aligned
// requests) and the page after it is never committed. An overrun therefore faults at the
// instruction that makes it; the unused bytes in front of the block (and the few between
// its end and the alignment boundary) are filled with a pattern checked when the block
// is freed. Freeing decommits the pages and the range is not handed out again until the
// allocator has gone round the whole special range, so a use after free faults too.
// Every page of the range is either committed for one block or inaccessible, so the fault
// handler can tell an overrun from a use after free by the address alone.
// If the range is full an allocation falls back to ordinary pool, as on Windows.
// NT counterparts: MmAllocateSpecialPool, MmFreeSpecialPool, MiSpecialPoolFirstPte.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

#include "ex/pool_arena.h"
#include "ke/bugcheck.h"
#include "nt.h"

namespace iosim::mm {
class AddressSpace;
}

namespace iosim::ldr {
struct Module;
}

namespace iosim::ex {

// One special-pool allocation (live, or freed and not yet overwritten by a new one).
struct SpecialBlock {
    uintptr_t run = 0;         // first data page
    size_t data_pages = 0;     // the guard page follows them
    uintptr_t block = 0;       // the address handed out
    size_t size = 0;           // bytes asked for
    ULONG tag = 0;
    bool paged = false;
    const void* allocated_by = nullptr;  // return address of the allocation call
    const void* freed_by = nullptr;      // return address of the free call
    bool freed = false;
    uintptr_t data_end() const { return run + data_pages * mm::kPageSize; }
    uintptr_t guard_end() const { return data_end() + mm::kPageSize; }
};

class SpecialPool {
public:
    static constexpr uint8_t kFill = 0xD6;  // the pattern around each block

    SpecialPool(mm::AddressSpace& space, size_t bytes);
    ~SpecialPool();
    SpecialPool(const SpecialPool&) = delete;
    SpecialPool& operator=(const SpecialPool&) = delete;

    // nullptr when the special range is full.
    void* allocate(size_t size, size_t alignment, ULONG tag, bool paged, const void* caller);
    // Bytes around `block` that no longer hold the fill pattern: the first one found, and
    // whether it lies after the block's end (else before its start).
    struct Corruption {
        uintptr_t address;
        bool after_end;
    };
    std::optional<Corruption> check(const void* block) const;
    void free(const void* block, const void* caller);

    bool contains(uintptr_t address) const { return address >= base_ && address < base_ + bytes_; }
    // What a fault at `address` hit; never blocks (nullopt if busy or not special pool).
    enum class FaultKind { Overrun, Underrun, UseAfterFree };
    struct Fault {
        FaultKind kind;
        SpecialBlock block;
    };
    std::optional<Fault> classify_fault(uintptr_t address) const;
    std::optional<SpecialBlock> freed_block_at(uintptr_t address) const;
    size_t live_blocks() const;
    // A module is unloading: its code addresses in the records would name another module
    // loaded there later, so they are dropped.
    void forget_module(const ldr::Module* module);

private:
    void forget_overlapping(uintptr_t begin, uintptr_t end);

    mm::AddressSpace& space_;
    uintptr_t base_ = 0;
    size_t bytes_ = 0;
    mutable std::mutex lock_;
    PageRuns runs_;
    std::map<uintptr_t, SpecialBlock> blocks_;  // by run
};

// The fault handler asks: is `address` a special-pool guard page or a freed special-pool
// block? If so, the bug check report to give: DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION
// (0xD6) for an overrun, DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5) for a use after
// free, naming the faulting line (`pc`) and the block. Never blocks.
std::optional<BugCheckInfo> describe_special_pool_fault(uintptr_t address, bool write, const void* pc);

}  // namespace iosim::ex
