// address_space.h - a virtual address space: one process's user space, or system space.
//
// An AddressSpace owns one large host reservation (PROT_NONE, no memory behind it) and
// hands out parts of it the way Windows' VAD tree does: reserve a run of pages, commit
// pages (each gets a fresh frame of simulated physical memory, mapped at that address),
// map existing frames a second time (an MDL's system address, a kernel buffer shown to
// an app), decommit, release. Every page knows its frame, so MmGetPhysicalAddress and
// MmProbeAndLockPages read the real frame numbers.
//
// A user space can be hidden: its committed pages become inaccessible (PROT_NONE) while
// another process is current, so a driver touching a user pointer in the wrong context
// faults as on Windows; reveal() restores each page's protection. System space is never
// hidden. All methods are thread-safe; try_lookup() never blocks (the fault handler
// uses it).
// NT counterparts: the VAD tree (MMVAD), MiReserveVirtualMemory, MiCommitVirtualMemory,
// the system PTE space (MiReserveSystemPtes).
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mm/page.h"
#include "mm/physical_memory.h"
#include "iosim_pageprot.h"
#include "nt.h"

namespace iosim {
class Process;
}

namespace iosim::mm {

// One reservation (a VAD): a run of pages with a purpose shown in reports.
struct Vad {
    uintptr_t base = 0;
    size_t pages = 0;
    std::string purpose;      // "heap", "stack", "VirtualAlloc", "MDL mapping", "nonpaged pool", ...
    ULONG protect = 0;        // PAGE_* given at reservation (default for commits)
    size_t committed = 0;     // pages with a frame behind them
    uintptr_t end() const { return base + pages * kPageSize; }
};

// What is known about one page.
struct PageInfo {
    bool reserved = false;    // inside a VAD
    bool committed = false;   // a frame is mapped there
    Pfn pfn = 0;
    ULONG protect = 0;        // PAGE_* of the page (committed pages)
    Vad vad;                  // the reservation (when reserved)
};

class AddressSpace {
public:
    enum class Kind { User, System };

    // Reserves `bytes` of host address space near `hint` (0: anywhere).
    AddressSpace(PhysicalMemory& physical, Kind kind, Process* owner, size_t bytes, uintptr_t hint);
    // Releases every frame and the host reservation.
    ~AddressSpace();
    AddressSpace(const AddressSpace&) = delete;
    AddressSpace& operator=(const AddressSpace&) = delete;

    Kind kind() const { return kind_; }
    Process* owner() const { return owner_; }
    uintptr_t base() const { return base_; }
    size_t size() const { return size_; }
    bool contains(const void* address) const
    {
        uintptr_t a = addr(address);
        return a >= base_ && a < base_ + size_;
    }

    // Reserves `pages` pages (aligned to `align_pages`), at `at` if non-zero. Returns the
    // base, or nullptr when the space is full or `at` is taken.
    void* reserve(size_t pages, std::string purpose, ULONG protect = PAGE_READWRITE, uintptr_t at = 0,
                  size_t align_pages = 1);
    // Releases the whole reservation starting at `base` (its frames lose a reference).
    NTSTATUS release(void* base);
    // Commits pages inside one reservation: new zeroed frames. Committing a committed
    // page only changes its protection (as VirtualAlloc MEM_COMMIT does).
    NTSTATUS commit(void* address, size_t pages, ULONG protect);
    NTSTATUS decommit(void* address, size_t pages);
    // Maps existing frames at `address` (inside one reservation, pages not committed);
    // each frame gains a reference.
    NTSTATUS map_frames(void* address, const Pfn* pfns, size_t count, ULONG protect);
    NTSTATUS protect(void* address, size_t pages, ULONG protect, ULONG* old_protect);

    // Convenience: reserve + commit with fresh frames. nullptr when full.
    void* allocate(size_t pages, std::string purpose, ULONG protect = PAGE_READWRITE, size_t align_pages = 1);
    // Convenience: reserve + map_frames. nullptr when full.
    void* map(const Pfn* pfns, size_t count, std::string purpose, ULONG protect = PAGE_READWRITE);

    PageInfo lookup(const void* address) const;
    // Like lookup but never blocks: nullopt if the space is busy.
    std::optional<PageInfo> try_lookup(const void* address) const;
    std::optional<Pfn> pfn_of(const void* address) const;
    // True if every byte of [address, address+length) is committed, with write access if asked.
    bool accessible(const void* address, size_t length, bool write) const;
    std::vector<Vad> vads() const;
    size_t committed_pages() const;

    // User spaces only: make every committed page inaccessible / accessible again.
    // `keep` pages (e.g. the stack the hiding thread runs on) stay accessible.
    void hide(uintptr_t keep_begin = 0, uintptr_t keep_end = 0);
    // The same, keeping every [begin, end) range given mapped.
    void hide(const std::vector<std::pair<uintptr_t, uintptr_t>>& keep);
    void reveal();
    bool hidden() const { return hidden_; }

private:
    struct Page {
        Pfn pfn;
        ULONG protect;
    };
    std::map<uintptr_t, Vad>::const_iterator vad_containing(uintptr_t a) const;
    bool apply_protection(uintptr_t page, ULONG protect) const;
    void unmap_pages(uintptr_t address, size_t pages);
    uintptr_t find_free(size_t pages, size_t align_pages) const;
    PageInfo lookup_locked(uintptr_t a) const;

    PhysicalMemory& physical_;
    Kind kind_;
    Process* owner_;
    uintptr_t base_ = 0;
    size_t size_ = 0;
    mutable std::mutex lock_;
    std::map<uintptr_t, Vad> vads_;     // by base
    std::map<uintptr_t, Page> pages_;   // committed pages by address
    bool hidden_ = false;
    uintptr_t next_hint_ = 0;           // where the next first-fit search starts
};

// PAGE_* to PROT_* (PAGE_GUARD and cache bits ignored).
int host_protection(ULONG protect);

}  // namespace iosim::mm
