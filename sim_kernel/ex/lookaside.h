// lookaside.h - the lookaside lists drivers initialize, as the pool sees them.
//
// A lookaside list is a driver's cache of equal-sized pool blocks. The driver owns the
// list header (NPAGED_LOOKASIDE_LIST, PAGED_LOOKASIDE_LIST, LOOKASIDE_LIST_EX) and reads
// its counters; iosim keeps, per list, who initialized it and the free entries it holds
// (outside the entries themselves, so a driver writing into a block it already gave back
// cannot corrupt the list). Entries held by a list are still pool blocks of the driver
// that allocated them: they show in !poolused and, if the list is never deleted, at
// unload. A list still initialized when its driver unloads is reported.
// NT counterparts: ExNPagedLookasideListHead / ExPagedLookasideListHead (the system-wide
// lists of lookaside lists), ExpScanGeneralLookasideList.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "nt.h"

namespace iosim::ldr {
struct Module;
}

namespace iosim::ex {

struct LookasideRecord {
    void* list = nullptr;       // the driver's header (its GENERAL_LOOKASIDE / _POOL)
    bool ex = false;            // a LOOKASIDE_LIST_EX
    bool paged = false;
    ULONG tag = 0;
    size_t size = 0;            // bytes per entry
    ldr::Module* owner = nullptr;
    const void* initialized_by = nullptr;  // return address of the Initialize call
    std::vector<void*> entries;            // free entries held now (last in, first out)
};

class LookasideRegistry {
public:
    // Records a newly initialized list (replacing a record for the same header).
    void add(LookasideRecord record);
    // Forgets a list; returns its record (and so the entries it held), nullopt if unknown.
    std::optional<LookasideRecord> remove(const void* list);
    // Takes every held entry out of a list (ExFlushLookasideListEx).
    std::vector<void*> take_all(const void* list);

    // Pops a held entry: nullptr if the list holds none; *known says whether the list is
    // initialized at all. The caller holds lock() (pop and push also update the counters
    // in the driver's header, under the same lock).
    void* pop(const void* list, bool* known);
    enum class Push { Held, Full, AlreadyHeld, Unknown };
    // Keeps `entry` if the list holds fewer than `depth` entries. The caller holds lock().
    Push push(const void* list, void* entry, size_t depth);
    size_t held(const void* list) const;
    // The same, for a caller that holds lock().
    size_t held_locked(const void* list) const;

    std::vector<LookasideRecord> lists_of(const ldr::Module* owner) const;
    std::vector<LookasideRecord> all() const;
    // Drops the records of a module's lists (after they were reported at unload); the
    // entries they held stay allocated, as on Windows.
    void forget(const ldr::Module* owner);

    // The lock that also guards the counters in the drivers' headers.
    std::mutex& lock() const { return lock_; }

private:
    mutable std::mutex lock_;
    std::map<const void*, LookasideRecord> lists_;
};

}  // namespace iosim::ex
