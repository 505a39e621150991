// user_heap.h - a heap inside a process's user address space (the process heap, HeapCreate heaps).
//
// An app's malloc, new-less C allocations, HeapAlloc, LocalAlloc and GlobalAlloc come from
// here, so the memory an app hands to DeviceIoControl really belongs to its process: it
// has frames, is hidden when another process is current, and a driver's MDL can map it a
// second time. Blocks carry a 16-byte header (size and owner); small blocks come from
// size-class free lists carved out of one growing "heap" reservation, large ones get a
// reservation of their own. Thread-safe.
// NT counterparts: RtlAllocateHeap, RtlFreeHeap, RtlSizeHeap (the NT heap).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "mm/address_space.h"

namespace iosim::mm {

class UserHeap {
public:
    // Reserves `reserve_pages` for small blocks; commits as it grows.
    UserHeap(AddressSpace& space, size_t reserve_pages = 1 << 16);
    ~UserHeap();
    UserHeap(const UserHeap&) = delete;
    UserHeap& operator=(const UserHeap&) = delete;

    void* allocate(size_t size, bool zero);
    // nullptr on failure; `in_place_only` fails rather than move the block.
    void* reallocate(void* block, size_t size, bool zero, bool in_place_only = false);
    bool free(void* block);
    // Size asked for at allocation; SIZE_MAX if `block` is not a live block of this heap.
    size_t size_of(const void* block) const;
    bool owns(const void* block) const;

    AddressSpace& space() { return space_; }
    size_t live_blocks() const { return live_; }

private:
    struct Header {
        uint64_t size;
        uint32_t magic;
        uint32_t size_class;  // kLarge for a block with its own reservation
    };
    static constexpr uint32_t kMagic = 0x48706165;  // "eapH"
    static constexpr uint32_t kFreeMagic = 0x65657246;
    static constexpr uint32_t kLarge = 0xFFFFFFFF;
    static constexpr size_t kClasses = 12;  // 32 bytes .. 64 KiB

    static uint32_t class_for(size_t size);
    static size_t class_bytes(uint32_t size_class);
    Header* header_of(const void* block) const;
    void* carve(size_t bytes);

    AddressSpace& space_;
    mutable std::mutex lock_;
    uintptr_t arena_ = 0;      // the small-block reservation
    size_t arena_pages_ = 0;
    uintptr_t bump_ = 0;       // next unused byte
    uintptr_t committed_end_ = 0;
    std::array<void*, kClasses> free_{};
    size_t live_ = 0;
};

}  // namespace iosim::mm
