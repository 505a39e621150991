// user_heap.cpp - size-class free lists over a growing reservation; large blocks on their own.
#include "mm/user_heap.h"

#include <cstring>

namespace iosim::mm {

namespace {
constexpr size_t kHeaderSize = 16;
constexpr size_t kCommitChunk = 16;  // pages committed at a time
}  // namespace

UserHeap::UserHeap(AddressSpace& space, size_t reserve_pages) : space_(space)
{
    void* base = space_.reserve(reserve_pages, "heap", PAGE_READWRITE, 0, 16);
    arena_ = addr(base);
    arena_pages_ = base != nullptr ? reserve_pages : 0;
    bump_ = committed_end_ = arena_;
}

UserHeap::~UserHeap() = default;  // the address space releases the memory

// Classes: powers of two from 32 to 64 KiB, header included.
uint32_t UserHeap::class_for(size_t size)
{
    size_t bytes = size + kHeaderSize;
    uint32_t c = 0;
    while (class_bytes(c) < bytes)
        ++c;
    return c < kClasses ? c : kLarge;
}

size_t UserHeap::class_bytes(uint32_t size_class) { return size_t{32} << size_class; }

void* UserHeap::carve(size_t bytes)
{
    if (bump_ + bytes > arena_ + arena_pages_ * kPageSize)
        return nullptr;
    while (bump_ + bytes > committed_end_) {
        size_t pages = kCommitChunk;
        if (committed_end_ + pages * kPageSize > arena_ + arena_pages_ * kPageSize)
            pages = (arena_ + arena_pages_ * kPageSize - committed_end_) / kPageSize;
        if (pages == 0 || !NT_SUCCESS(space_.commit(reinterpret_cast<void*>(committed_end_), pages, PAGE_READWRITE)))
            return nullptr;
        committed_end_ += pages * kPageSize;
    }
    void* block = reinterpret_cast<void*>(bump_);
    bump_ += bytes;
    return block;
}

void* UserHeap::allocate(size_t size, bool zero)
{
    if (size > (size_t{1} << 40))
        return nullptr;
    uint32_t c = class_for(size);
    Header* h = nullptr;
    if (c == kLarge) {
        void* base = space_.allocate(pages_for(size + kHeaderSize), "heap (large block)", PAGE_READWRITE);
        if (base == nullptr)
            return nullptr;
        h = static_cast<Header*>(base);
        zero = false;  // fresh frames are zero
    } else {
        std::lock_guard guard(lock_);
        if (free_[c] != nullptr) {
            h = static_cast<Header*>(free_[c]);
            free_[c] = *reinterpret_cast<void**>(h + 1);
        } else {
            h = static_cast<Header*>(carve(class_bytes(c)));
            if (h == nullptr)
                return nullptr;
        }
    }
    h->size = size;
    h->magic = kMagic;
    h->size_class = c;
    {
        std::lock_guard guard(lock_);
        ++live_;
    }
    void* block = reinterpret_cast<char*>(h) + kHeaderSize;
    if (zero)
        std::memset(block, 0, size);
    return block;
}

UserHeap::Header* UserHeap::header_of(const void* block) const
{
    if (block == nullptr || (addr(block) & 15) != 0 || !space_.contains(block))
        return nullptr;
    auto* h = reinterpret_cast<Header*>(addr(block) - kHeaderSize);
    PageInfo page = space_.lookup(h);
    if (!page.committed || page.vad.purpose.rfind("heap", 0) != 0)
        return nullptr;
    if (h->magic != kMagic)
        return nullptr;
    if (h->size_class == kLarge ? page.vad.base != addr(h) : (addr(h) < arena_ || addr(h) >= bump_))
        return nullptr;
    return h;
}

bool UserHeap::owns(const void* block) const { return header_of(block) != nullptr; }

size_t UserHeap::size_of(const void* block) const
{
    Header* h = header_of(block);
    return h != nullptr ? h->size : SIZE_MAX;
}

bool UserHeap::free(void* block)
{
    Header* h = header_of(block);
    if (h == nullptr)
        return false;
    h->magic = kFreeMagic;
    if (h->size_class == kLarge) {
        space_.release(h);
    } else {
        std::lock_guard guard(lock_);
        *reinterpret_cast<void**>(h + 1) = free_[h->size_class];
        free_[h->size_class] = h;
    }
    std::lock_guard guard(lock_);
    --live_;
    return true;
}

void* UserHeap::reallocate(void* block, size_t size, bool zero, bool in_place_only)
{
    if (block == nullptr)
        return in_place_only ? nullptr : allocate(size, zero);
    Header* h = header_of(block);
    if (h == nullptr)
        return nullptr;
    size_t old = h->size;
    size_t capacity = h->size_class == kLarge ? pages_for(old + kHeaderSize) * kPageSize - kHeaderSize
                                              : class_bytes(h->size_class) - kHeaderSize;
    if (size <= capacity) {
        if (zero && size > old)
            std::memset(static_cast<char*>(block) + old, 0, size - old);
        h->size = size;
        return block;
    }
    if (in_place_only)
        return nullptr;
    void* moved = allocate(size, zero);
    if (moved == nullptr)
        return nullptr;
    std::memcpy(moved, block, old);
    free(block);
    return moved;
}

}  // namespace iosim::mm
