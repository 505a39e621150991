// pool.h - the executive pool: tracked kernel allocations.
//
// Every ExAllocatePool* block is recorded with its pool type (paged/non-paged), tag, size,
// the driver that asked for it and the source line of the call. Freeing checks the block
// is live and that the tag matches; what a driver still holds when it unloads is listed
// in the unload report. NT counterparts: ExAllocatePoolWithTag, ExFreePoolWithTag, PoolTrack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "nt.h"

namespace iosim::ldr {
struct Module;
}

namespace iosim::ex {

struct PoolBlock {
    void* address = nullptr;
    size_t size = 0;
    ULONG tag = 0;
    bool paged = false;
    ldr::Module* owner = nullptr;   // the driver that allocated it (nullptr: iosim itself)
    const void* caller = nullptr;   // return address of the allocation call
    uint64_t serial = 0;            // allocation order
};

class PoolTracker {
public:
    PoolTracker() = default;
    // The machine is going away: like a reboot, it releases every block still allocated.
    ~PoolTracker();
    PoolTracker(const PoolTracker&) = delete;
    PoolTracker& operator=(const PoolTracker&) = delete;

    void* allocate(bool paged, size_t size, ULONG tag, const void* caller, bool zero);
    // Frees a block; with check_tag, `tag` must match. Bug-checks BAD_POOL_CALLER on a
    // block that is not live (double free) or a wrong tag.
    void free(void* address, ULONG tag, bool check_tag, const void* caller);

    std::vector<PoolBlock> outstanding(const ldr::Module* owner) const;
    std::vector<PoolBlock> outstanding_all() const;
    // Drops the records of a module's blocks (after they were reported at unload).
    void forget(const ldr::Module* owner);

    struct TagUsage {
        ULONG tag;
        bool paged;
        size_t allocations;
        size_t bytes;
    };
    std::vector<TagUsage> usage_by_tag() const;

private:
    mutable std::mutex lock_;
    std::map<void*, PoolBlock> live_;
    uint64_t next_serial_ = 1;
};

// "Dflt" style rendering of a pool tag (ULONG read as four little-endian chars).
std::string tag_to_string(ULONG tag);

}  // namespace iosim::ex
