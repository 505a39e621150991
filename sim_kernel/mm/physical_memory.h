// physical_memory.h - simulated physical memory: page frames backed by one host memory file.
//
// Every frame is a page of one memfd. Mapping a frame at a virtual address is an mmap of
// that page of the file, so two mappings of one frame (a user buffer and the system
// address an MDL gives the driver) are truly the same memory. Frames are handed out in a
// scrambled but deterministic order, so contiguous virtual pages land on non-contiguous
// frames as on a real machine (the seeds' VirtToPhys lesson), and the same run gives the
// same physical addresses. A frame is reference-counted by its mappings and locks; at
// zero it is punched out of the file (its memory goes back to the host, and it reads as
// zeros when reused).
// NT counterparts: the PFN database (MmPfnDatabase), MiRemoveAnyPage, MiInsertPageInFreeList.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "mm/page.h"

namespace iosim::mm {

class PhysicalMemory {
public:
    PhysicalMemory();
    ~PhysicalMemory();
    PhysicalMemory(const PhysicalMemory&) = delete;
    PhysicalMemory& operator=(const PhysicalMemory&) = delete;

    // A zero-filled frame with one reference.
    Pfn allocate();
    void add_ref(Pfn pfn);
    // Drops a reference; the frame is freed at zero.
    void release(Pfn pfn);
    uint32_t refs(Pfn pfn) const;
    bool valid(Pfn pfn) const;

    // Maps the frame at `address` (page aligned, inside a reservation the caller owns)
    // with host protection `prot` (PROT_READ | PROT_WRITE, ...). Returns false on failure.
    bool map(Pfn pfn, void* address, int prot) const;

    size_t frames_in_use() const;
    size_t frames_total() const { return refs_.size(); }
    static uint64_t physical_address(Pfn pfn) { return pfn << kPageShift; }

private:
    void grow();

    int fd_ = -1;
    mutable std::mutex lock_;
    std::vector<uint32_t> refs_;  // per frame index
    std::vector<uint32_t> free_;  // frame indexes, popped from the back
    size_t in_use_ = 0;
    uint64_t scramble_ = 0x9E3779B97F4A7C15ull;
};

}  // namespace iosim::mm
