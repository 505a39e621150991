// memory_manager.h - the memory manager of one simulated machine.
//
// It owns simulated physical memory, system space (where pool, special pool and the
// system mappings of MDLs live) and one user address space per process (created with
// the process, destroyed when it is reaped). It decides which user space is visible:
// the current process's. Switching the current process (a thread switch, or
// KeStackAttachProcess) hides the previous process's user pages and reveals the new
// one's, so kernel code that touches a user address in the wrong context faults, as on
// Windows; the fault handler (ke/fault.cpp) asks classify() whose address it was.
//
// classify() also answers the probes (ProbeForRead/Write, MmProbeAndLockPages, the I/O
// manager's buffer checks): System and driver-image addresses are kernel addresses.
// Host memory iosim cannot attribute (a test's own buffers, the host heap) is Unknown and
// treated as user memory of whatever process is current: tests may pass such buffers.
// NT counterparts: MmInitSystem, MmCreateProcessAddressSpace, KiSwapProcess (CR3 switch).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "mm/address_space.h"
#include "mm/physical_memory.h"
#include "mm/user_heap.h"

namespace iosim {
class Process;
}

namespace iosim::mm {

// A process's memory: its user space and its heaps.
struct ProcessMemory {
    std::unique_ptr<AddressSpace> space;
    std::unique_ptr<UserHeap> heap;                  // GetProcessHeap, malloc
    std::vector<std::unique_ptr<UserHeap>> created;  // HeapCreate
};

enum class Region {
    Unknown,      // host memory iosim did not hand out (tests' buffers, the host heap)
    NullPage,     // the first 64 KiB: never valid
    User,         // a process's user space
    AppImage,     // an app module's image (its globals, string literals)
    System,       // system space: pool, MDL system mappings
    DriverImage,  // a driver module's image
};

struct AddressInfo {
    Region region = Region::Unknown;
    Process* owner = nullptr;  // User / AppImage: the process the address belongs to
    PageInfo page;             // User / System: what the page is (reserved, committed, frame, VAD)
    bool accessible_now = true;  // false: a hidden user page, or an uncommitted one
};

const char* region_name(Region region);

class MemoryManager {
public:
    MemoryManager();
    ~MemoryManager();
    MemoryManager(const MemoryManager&) = delete;
    MemoryManager& operator=(const MemoryManager&) = delete;

    PhysicalMemory& physical() { return physical_; }
    AddressSpace& system_space() { return *system_; }

    // Creates the user space of `process` (process->memory is set) and its heap.
    ProcessMemory* create_process_memory(Process* process);
    // Releases it (frames still locked by an MDL stay allocated until unlocked).
    void destroy_process_memory(Process* process);

    // Makes `process`'s user space the visible one (nullptr, or a process without a user
    // space such as System: none is visible). The pages of the stack the caller runs on
    // stay accessible even if they belong to the space being hidden.
    void activate(Process* process);
    Process* active() const { return active_; }
    // Runs before user pages are hidden or released, and returns address ranges to keep
    // mapped: the scheduler joins the host threads of ended threads there (one may still be
    // leaving its user-space stack) and names the pages around each parked thread's stack
    // pointer (a thread that just handed the baton on may still be entering its wait).
    using BeforeHide = std::function<std::vector<std::pair<uintptr_t, uintptr_t>>()>;
    void set_before_hide(BeforeHide hook) { before_hide_ = std::move(hook); }

    AddressInfo classify(const void* address) const;
    // The user space an address belongs to (nullptr if none).
    AddressSpace* user_space_of(const void* address) const;
    // Frame behind any system or user address (nullopt: none).
    std::optional<Pfn> pfn_of(const void* address) const;

private:
    PhysicalMemory physical_;
    std::unique_ptr<AddressSpace> system_;
    mutable std::mutex lock_;
    std::map<Process*, std::unique_ptr<ProcessMemory>> processes_;
    Process* active_ = nullptr;
    size_t next_slot_ = 0;
    BeforeHide before_hide_;
};

// The memory manager of the current System (nullptr when none exists).
MemoryManager* current();
void set_current(MemoryManager* manager);

}  // namespace iosim::mm
