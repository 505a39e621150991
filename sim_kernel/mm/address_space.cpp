// address_space.cpp - reservations, commits, frame mappings and hiding of a virtual address space.
//
// Rules kept here:
//  - host memory inside the reservation is PROT_NONE unless a frame is mapped there;
//  - a committed page's protection is remembered, so reveal() can restore it after hide();
//  - VA is handed out next-fit, so a released range is not reused at once (a stale pointer
//    into it keeps faulting for a while, which makes use-after-free visible).
#include "mm/address_space.h"

#include <sys/mman.h>

#include <stdexcept>

namespace iosim::mm {

int host_protection(ULONG protect)
{
    switch (protect & 0xFF) {
    case PAGE_NOACCESS:
        return PROT_NONE;
    case PAGE_READONLY:
    case PAGE_EXECUTE:
    case PAGE_EXECUTE_READ:
        return PROT_READ;
    default:
        return PROT_READ | PROT_WRITE;
    }
}

namespace {
bool writable(ULONG protect) { return (host_protection(protect) & PROT_WRITE) != 0; }
bool readable(ULONG protect) { return host_protection(protect) != PROT_NONE && (protect & PAGE_GUARD) == 0; }
}  // namespace

AddressSpace::AddressSpace(PhysicalMemory& physical, Kind kind, Process* owner, size_t bytes, uintptr_t hint)
    : physical_(physical), kind_(kind), owner_(owner)
{
    size_ = page_up(bytes);
    void* at = mmap(reinterpret_cast<void*>(hint), size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (at == MAP_FAILED)
        throw std::runtime_error("iosim: cannot reserve host address space for a simulated address space");
    base_ = addr(at);
    // Skip the first 64 KiB: like Windows, nothing is ever allocated at the bottom.
    next_hint_ = base_ + 16 * kPageSize;
}

AddressSpace::~AddressSpace()
{
    std::lock_guard guard(lock_);
    for (const auto& [address, page] : pages_)
        physical_.release(page.pfn);
    pages_.clear();
    vads_.clear();
    munmap(reinterpret_cast<void*>(base_), size_);
}

std::map<uintptr_t, Vad>::const_iterator AddressSpace::vad_containing(uintptr_t a) const
{
    auto it = vads_.upper_bound(a);
    if (it == vads_.begin())
        return vads_.end();
    --it;
    return a < it->second.end() ? it : vads_.end();
}

uintptr_t AddressSpace::find_free(size_t pages, size_t align_pages) const
{
    size_t align = align_pages * kPageSize;
    size_t bytes = pages * kPageSize;
    uintptr_t low = base_ + 16 * kPageSize;
    uintptr_t end = base_ + size_;
    for (int pass = 0; pass < 2; ++pass) {
        uintptr_t candidate = ((pass == 0 ? next_hint_ : low) + align - 1) / align * align;
        auto it = vads_.lower_bound(candidate);
        if (it != vads_.begin()) {
            auto before = std::prev(it);
            if (before->second.end() > candidate)
                candidate = (before->second.end() + align - 1) / align * align;
        }
        while (candidate + bytes <= end) {
            it = vads_.lower_bound(candidate);
            if (it == vads_.end() || it->first >= candidate + bytes)
                return candidate;
            candidate = (it->second.end() + align - 1) / align * align;
        }
    }
    return 0;
}

void* AddressSpace::reserve(size_t pages, std::string purpose, ULONG protect, uintptr_t at, size_t align_pages)
{
    if (pages == 0)
        return nullptr;
    std::lock_guard guard(lock_);
    uintptr_t base = at;
    if (base != 0) {
        if (base < base_ || base + pages * kPageSize > base_ + size_ || (base & (kPageSize - 1)) != 0)
            return nullptr;
        auto it = vads_.lower_bound(base);
        if (it != vads_.end() && it->first < base + pages * kPageSize)
            return nullptr;
        if (vad_containing(base) != vads_.end())
            return nullptr;
    } else {
        base = find_free(pages, align_pages == 0 ? 1 : align_pages);
        if (base == 0)
            return nullptr;
        next_hint_ = base + pages * kPageSize;
    }
    vads_[base] = Vad{base, pages, std::move(purpose), protect, 0};
    return reinterpret_cast<void*>(base);
}

void AddressSpace::unmap_pages(uintptr_t address, size_t pages)
{
    mmap(reinterpret_cast<void*>(address), pages * kPageSize, PROT_NONE,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

NTSTATUS AddressSpace::release(void* base)
{
    std::lock_guard guard(lock_);
    auto it = vads_.find(addr(base));
    if (it == vads_.end())
        return STATUS_MEMORY_NOT_ALLOCATED;
    const Vad& vad = it->second;
    for (auto page = pages_.lower_bound(vad.base); page != pages_.end() && page->first < vad.end();) {
        physical_.release(page->second.pfn);
        page = pages_.erase(page);
    }
    unmap_pages(vad.base, vad.pages);
    vads_.erase(it);
    return STATUS_SUCCESS;
}

bool AddressSpace::apply_protection(uintptr_t page, ULONG protect) const
{
    int prot = hidden_ ? PROT_NONE : host_protection(protect);
    return mprotect(reinterpret_cast<void*>(page), kPageSize, prot) == 0;
}

NTSTATUS AddressSpace::commit(void* address, size_t pages, ULONG protect)
{
    std::lock_guard guard(lock_);
    uintptr_t start = page_down(addr(address));
    auto vad = vad_containing(start);
    if (vad == vads_.end() || start + pages * kPageSize > vad->second.end())
        return STATUS_CONFLICTING_ADDRESSES;
    Vad& v = vads_[vad->first];
    for (size_t i = 0; i < pages; ++i) {
        uintptr_t page = start + i * kPageSize;
        auto existing = pages_.find(page);
        if (existing != pages_.end()) {
            existing->second.protect = protect;
            apply_protection(page, protect);
            continue;
        }
        Pfn pfn = physical_.allocate();
        if (!physical_.map(pfn, reinterpret_cast<void*>(page), hidden_ ? PROT_NONE : host_protection(protect))) {
            physical_.release(pfn);
            return STATUS_NO_MEMORY;
        }
        pages_[page] = Page{pfn, protect};
        ++v.committed;
    }
    return STATUS_SUCCESS;
}

NTSTATUS AddressSpace::decommit(void* address, size_t pages)
{
    std::lock_guard guard(lock_);
    uintptr_t start = page_down(addr(address));
    auto vad = vad_containing(start);
    if (vad == vads_.end() || start + pages * kPageSize > vad->second.end())
        return STATUS_MEMORY_NOT_ALLOCATED;
    Vad& v = vads_[vad->first];
    for (size_t i = 0; i < pages; ++i) {
        auto page = pages_.find(start + i * kPageSize);
        if (page == pages_.end())
            continue;
        physical_.release(page->second.pfn);
        pages_.erase(page);
        --v.committed;
    }
    unmap_pages(start, pages);
    return STATUS_SUCCESS;
}

NTSTATUS AddressSpace::map_frames(void* address, const Pfn* pfns, size_t count, ULONG protect)
{
    std::lock_guard guard(lock_);
    uintptr_t start = page_down(addr(address));
    auto vad = vad_containing(start);
    if (vad == vads_.end() || start + count * kPageSize > vad->second.end())
        return STATUS_CONFLICTING_ADDRESSES;
    for (size_t i = 0; i < count; ++i)
        if (pages_.count(start + i * kPageSize) != 0 || !physical_.valid(pfns[i]))
            return STATUS_CONFLICTING_ADDRESSES;
    Vad& v = vads_[vad->first];
    for (size_t i = 0; i < count; ++i) {
        uintptr_t page = start + i * kPageSize;
        physical_.add_ref(pfns[i]);
        physical_.map(pfns[i], reinterpret_cast<void*>(page), hidden_ ? PROT_NONE : host_protection(protect));
        pages_[page] = Page{pfns[i], protect};
        ++v.committed;
    }
    return STATUS_SUCCESS;
}

NTSTATUS AddressSpace::protect(void* address, size_t pages, ULONG protect, ULONG* old_protect)
{
    std::lock_guard guard(lock_);
    uintptr_t start = page_down(addr(address));
    for (size_t i = 0; i < pages; ++i)
        if (pages_.count(start + i * kPageSize) == 0)
            return STATUS_NOT_COMMITTED;
    if (old_protect != nullptr)
        *old_protect = pages_[start].protect;
    for (size_t i = 0; i < pages; ++i) {
        uintptr_t page = start + i * kPageSize;
        pages_[page].protect = protect;
        apply_protection(page, protect);
    }
    return STATUS_SUCCESS;
}

void* AddressSpace::allocate(size_t pages, std::string purpose, ULONG protect, size_t align_pages)
{
    void* base = reserve(pages, std::move(purpose), protect, 0, align_pages);
    if (base == nullptr)
        return nullptr;
    if (!NT_SUCCESS(commit(base, pages, protect))) {
        release(base);
        return nullptr;
    }
    return base;
}

void* AddressSpace::map(const Pfn* pfns, size_t count, std::string purpose, ULONG protect)
{
    void* base = reserve(count, std::move(purpose), protect);
    if (base == nullptr)
        return nullptr;
    if (!NT_SUCCESS(map_frames(base, pfns, count, protect))) {
        release(base);
        return nullptr;
    }
    return base;
}

PageInfo AddressSpace::lookup_locked(uintptr_t a) const
{
    PageInfo info;
    auto vad = vad_containing(a);
    if (vad == vads_.end())
        return info;
    info.reserved = true;
    info.vad = vad->second;
    auto page = pages_.find(page_down(a));
    if (page != pages_.end()) {
        info.committed = true;
        info.pfn = page->second.pfn;
        info.protect = page->second.protect;
    }
    return info;
}

PageInfo AddressSpace::lookup(const void* address) const
{
    std::lock_guard guard(lock_);
    return lookup_locked(addr(address));
}

std::optional<PageInfo> AddressSpace::try_lookup(const void* address) const
{
    std::unique_lock guard(lock_, std::try_to_lock);
    if (!guard.owns_lock())
        return std::nullopt;
    return lookup_locked(addr(address));
}

std::optional<Pfn> AddressSpace::pfn_of(const void* address) const
{
    std::lock_guard guard(lock_);
    auto page = pages_.find(page_down(addr(address)));
    if (page == pages_.end())
        return std::nullopt;
    return page->second.pfn;
}

bool AddressSpace::accessible(const void* address, size_t length, bool write) const
{
    if (length == 0)
        return true;
    std::lock_guard guard(lock_);
    uintptr_t a = addr(address);
    if (a + length < a)
        return false;
    for (uintptr_t page = page_down(a); page < a + length; page += kPageSize) {
        auto it = pages_.find(page);
        if (it == pages_.end() || !readable(it->second.protect) || (write && !writable(it->second.protect)))
            return false;
    }
    return true;
}

std::vector<Vad> AddressSpace::vads() const
{
    std::lock_guard guard(lock_);
    std::vector<Vad> out;
    for (const auto& [base, vad] : vads_)
        out.push_back(vad);
    return out;
}

size_t AddressSpace::committed_pages() const
{
    std::lock_guard guard(lock_);
    return pages_.size();
}

void AddressSpace::hide(uintptr_t keep_begin, uintptr_t keep_end)
{
    std::vector<std::pair<uintptr_t, uintptr_t>> keep;
    if (keep_end > keep_begin)
        keep.emplace_back(keep_begin, keep_end);
    hide(keep);
}

void AddressSpace::hide(const std::vector<std::pair<uintptr_t, uintptr_t>>& keep_ranges)
{
    std::lock_guard guard(lock_);
    if (hidden_ || kind_ != Kind::User)
        return;
    hidden_ = true;
    // Coalesce runs of consecutive committed pages into one mprotect each.
    uintptr_t run = 0;
    size_t run_pages = 0;
    auto flush = [&] {
        if (run_pages != 0)
            mprotect(reinterpret_cast<void*>(run), run_pages * kPageSize, PROT_NONE);
        run_pages = 0;
    };
    for (const auto& [page, entry] : pages_) {
        bool keep = false;
        for (const auto& [begin, end] : keep_ranges)
            keep = keep || (page >= begin && page < end);
        if (keep || (run_pages != 0 && page != run + run_pages * kPageSize))
            flush();
        if (keep)
            continue;
        if (run_pages == 0)
            run = page;
        ++run_pages;
    }
    flush();
}

void AddressSpace::reveal()
{
    std::lock_guard guard(lock_);
    if (!hidden_)
        return;
    hidden_ = false;
    uintptr_t run = 0;
    size_t run_pages = 0;
    int run_prot = 0;
    auto flush = [&] {
        if (run_pages != 0)
            mprotect(reinterpret_cast<void*>(run), run_pages * kPageSize, run_prot);
        run_pages = 0;
    };
    for (const auto& [page, entry] : pages_) {
        int prot = host_protection(entry.protect);
        if (run_pages != 0 && (page != run + run_pages * kPageSize || prot != run_prot))
            flush();
        if (run_pages == 0) {
            run = page;
            run_prot = prot;
        }
        ++run_pages;
    }
    flush();
}

}  // namespace iosim::mm
