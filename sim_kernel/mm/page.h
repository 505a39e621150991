// page.h - page size, page frame numbers and page-rounding helpers for the memory manager.
//
// iosim pages are 4 KiB, like x86-64 Windows (and the host). A page frame number (PFN)
// names one page of simulated physical memory; its physical address is pfn << 12.
// Frames start at kFirstPfn so that physical addresses look like a real machine's
// (nothing sits at physical address 0).
#pragma once

#include <cstddef>
#include <cstdint>

namespace iosim::mm {

using Pfn = uint64_t;

inline constexpr size_t kPageSize = 4096;
inline constexpr unsigned kPageShift = 12;
inline constexpr Pfn kFirstPfn = 0x1000;  // physical memory starts at 16 MiB

inline constexpr uintptr_t page_down(uintptr_t address) { return address & ~(uintptr_t{kPageSize} - 1); }
inline constexpr uintptr_t page_up(uintptr_t address) { return (address + kPageSize - 1) & ~(uintptr_t{kPageSize} - 1); }
inline constexpr size_t pages_for(size_t bytes) { return (bytes + kPageSize - 1) >> kPageShift; }
// Pages touched by [address, address + length).
inline constexpr size_t pages_spanned(uintptr_t address, size_t length)
{
    return length == 0 ? 0 : ((address & (kPageSize - 1)) + length + kPageSize - 1) >> kPageShift;
}

inline uintptr_t addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

}  // namespace iosim::mm
