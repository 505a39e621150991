// pool_arena.cpp - page runs and size classes over one system-space reservation.
//
// Rules kept here:
//  - a block below kSmallLimit lives in a slot of a page given to its size class; slots
//    are multiples of 16 bytes, so every block is 16-byte aligned, and a page holds whole
//    slots only, so a block never crosses a page (ExAllocatePool2's documented rule);
//  - 64-byte alignment (the CacheAligned pool types, POOL_FLAG_CACHE_ALIGNED) uses only
//    the classes whose size is a multiple of 64;
//  - a block of more than kSmallLimit bytes gets its own run of pages (page aligned);
//    freeing it decommits the pages, so touching it afterwards faults;
//  - class pages stay committed once given to a class (as pool pages do on Windows).
#include "ex/pool_arena.h"

#include <stdexcept>

#include "mm/address_space.h"

namespace iosim::ex {

namespace {

constexpr size_t kClassSizes[] = {16,  32,  48,  64,  80,  96,  112, 128,  160,  192,  224,  256,
                                  320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048};
constexpr size_t kRecycleLimitPages = 1024;  // 4 MiB of committed SystemBuffer runs at most

}  // namespace

// ---- PageRuns ------------------------------------------------------------------------

void PageRuns::reset(uintptr_t base, size_t pages)
{
    base_ = base;
    pages_ = pages;
    free_.clear();
    if (pages != 0)
        free_[base] = pages;
    cursor_ = base;
}

uintptr_t PageRuns::take(size_t pages)
{
    if (pages == 0 || pages > pages_)
        return 0;
    const size_t bytes = pages * mm::kPageSize;
    for (int pass = 0; pass < 2; ++pass) {
        uintptr_t from = pass == 0 ? cursor_ : base_;
        // Start with the run that contains `from`, if any.
        auto it = free_.upper_bound(from);
        if (it != free_.begin()) {
            auto before = std::prev(it);
            if (before->first + before->second * mm::kPageSize > from)
                it = before;
        }
        for (; it != free_.end(); ++it) {
            uintptr_t start = std::max(it->first, from);
            uintptr_t end = it->first + it->second * mm::kPageSize;
            if (end - start < bytes || start >= end)
                continue;
            uintptr_t run_start = it->first;
            free_.erase(it);
            if (start > run_start)
                free_[run_start] = (start - run_start) / mm::kPageSize;
            if (start + bytes < end)
                free_[start + bytes] = (end - start - bytes) / mm::kPageSize;
            cursor_ = start + bytes;
            return start;
        }
    }
    return 0;
}

void PageRuns::give_back(uintptr_t first, size_t pages)
{
    if (pages == 0)
        return;
    uintptr_t start = first;
    size_t count = pages;
    auto next = free_.find(first + pages * mm::kPageSize);
    if (next != free_.end()) {
        count += next->second;
        free_.erase(next);
    }
    auto it = free_.lower_bound(first);
    if (it != free_.begin()) {
        auto before = std::prev(it);
        if (before->first + before->second * mm::kPageSize == first) {
            start = before->first;
            count += before->second;
            free_.erase(before);
        }
    }
    free_[start] = count;
}

// ---- PoolArena -----------------------------------------------------------------------

PoolArena::PoolArena(mm::AddressSpace& space, size_t bytes, std::string purpose)
    : space_(space), purpose_(std::move(purpose))
{
    size_t pages = mm::pages_for(bytes);
    void* base = space_.reserve(pages, purpose_, PAGE_READWRITE);
    if (base == nullptr)
        throw std::runtime_error("iosim: system space has no room for the " + purpose_);
    base_ = mm::addr(base);
    bytes_ = pages * mm::kPageSize;
    runs_.reset(base_, pages);
    page_kind_.assign(pages, kFree);
    for (size_t size : kClassSizes)
        classes_.push_back(SizeClass{size, {}});
}

PoolArena::~PoolArena() { space_.release(reinterpret_cast<void*>(base_)); }

std::optional<size_t> PoolArena::class_for(size_t size, size_t alignment) const
{
    for (size_t i = 0; i < classes_.size(); ++i)
        if (classes_[i].size >= size && classes_[i].size % alignment == 0)
            return i;
    return std::nullopt;
}

bool PoolArena::grow_class(size_t index)
{
    uintptr_t page = runs_.take(1);
    if (page == 0)
        return false;
    if (!NT_SUCCESS(space_.commit(reinterpret_cast<void*>(page), 1, PAGE_READWRITE))) {
        runs_.give_back(page, 1);
        return false;
    }
    ++committed_;
    page_kind_[page_index(page)] = static_cast<uint8_t>(index + 1);
    SizeClass& cls = classes_[index];
    for (size_t offset = 0; offset + cls.size <= mm::kPageSize; offset += cls.size)
        cls.free_slots.push_back(page + offset);
    return true;
}

void* PoolArena::allocate(size_t size, size_t alignment, bool recycle)
{
    if (size == 0)
        size = 1;
    if (size > bytes_)
        return nullptr;
    std::lock_guard guard(lock_);
    if (size <= kSmallLimit) {
        if (auto index = class_for(size, alignment)) {
            SizeClass& cls = classes_[*index];
            if (cls.free_slots.empty() && !grow_class(*index))
                return nullptr;
            uintptr_t slot = cls.free_slots.front();
            cls.free_slots.pop_front();
            return reinterpret_cast<void*>(slot);
        }
    }
    size_t pages = mm::pages_for(size);
    uintptr_t run = 0;
    if (recycle) {
        auto cached = recycled_.find(pages);
        if (cached != recycled_.end()) {
            run = cached->second;
            recycled_.erase(cached);
            recycled_pages_ -= pages;
        }
    }
    if (run == 0) {
        run = runs_.take(pages);
        if (run == 0)
            return nullptr;
        if (!NT_SUCCESS(space_.commit(reinterpret_cast<void*>(run), pages, PAGE_READWRITE))) {
            space_.decommit(reinterpret_cast<void*>(run), pages);
            runs_.give_back(run, pages);
            return nullptr;
        }
        committed_ += pages;
    }
    large_[run] = pages;
    size_t first = page_index(run);
    page_kind_[first] = kLargeHead;
    for (size_t i = 1; i < pages; ++i)
        page_kind_[first + i] = kLargeTail;
    return reinterpret_cast<void*>(run);
}

void PoolArena::free(void* block, bool recycle)
{
    uintptr_t a = mm::addr(block);
    std::lock_guard guard(lock_);
    if (!contains(block))
        return;
    uint8_t kind = page_kind_[page_index(a)];
    if (kind != kFree && kind != kLargeHead && kind != kLargeTail) {
        classes_[kind - 1].free_slots.push_back(a);
        return;
    }
    auto it = large_.find(a);
    if (it == large_.end())
        return;
    size_t pages = it->second;
    large_.erase(it);
    size_t first = page_index(a);
    for (size_t i = 0; i < pages; ++i)
        page_kind_[first + i] = kFree;
    if (recycle && recycled_pages_ + pages <= kRecycleLimitPages) {
        recycled_.emplace(pages, a);
        recycled_pages_ += pages;
        return;
    }
    space_.decommit(block, pages);
    committed_ -= pages;
    runs_.give_back(a, pages);
}

size_t PoolArena::block_capacity(const void* block) const
{
    uintptr_t a = mm::addr(block);
    std::lock_guard guard(lock_);
    if (!contains(block))
        return 0;
    uint8_t kind = page_kind_[page_index(a)];
    if (kind == kFree || kind == kLargeTail)
        return 0;
    if (kind == kLargeHead) {
        auto it = large_.find(a);
        return it == large_.end() ? 0 : it->second * mm::kPageSize;
    }
    size_t size = classes_[kind - 1].size;
    size_t offset = a - mm::page_down(a);
    return offset % size == 0 && offset + size <= mm::kPageSize ? size : 0;
}

size_t PoolArena::committed_pages() const
{
    std::lock_guard guard(lock_);
    return committed_;
}

}  // namespace iosim::ex
