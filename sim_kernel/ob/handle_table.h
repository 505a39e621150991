// handle_table.h - a process's handle table.
//
// A handle is an index into the table, scaled by 4 as on Windows (4, 8, 12, ...).
// Each entry holds one reference to its object and the access granted at open time;
// the I/O manager checks requests against that granted access.
// Rules: all operations take the table's lock; lookups return a new reference, so the
// object stays valid even if another thread closes the handle meanwhile.
// NT counterparts: HANDLE_TABLE, ExCreateHandle, ObReferenceObjectByHandle, NtClose.
#pragma once

#include <mutex>
#include <vector>

#include "nt.h"
#include "ob/object.h"

namespace iosim::ob {

class HandleTable {
public:
    struct Entry {
        void* object = nullptr;
        ACCESS_MASK granted = 0;
        ULONG attributes = 0;
    };

    HandleTable() = default;
    HandleTable(const HandleTable&) = delete;
    HandleTable& operator=(const HandleTable&) = delete;

    // Adds a handle to `object`, taking a new reference and a handle count.
    HANDLE insert(void* object, ACCESS_MASK granted, ULONG attributes = 0);

    // Finds the object behind `handle` and references it. With a non-null `type`, an
    // object of another type gives STATUS_OBJECT_TYPE_MISMATCH.
    NTSTATUS reference(HANDLE handle, const ObjectType* type, void** object, ACCESS_MASK* granted = nullptr) const;

    // Removes the handle: the handle count drops (running the close procedure for the
    // last handle, in `owner`'s context) and then the table's reference.
    NTSTATUS close(Process* owner, HANDLE handle);

    // Closes every handle, lowest first (process exit).
    void close_all(Process* owner);

    struct Listed {
        HANDLE handle;
        Entry entry;
    };
    std::vector<Listed> list() const;
    size_t count() const;

private:
    static size_t index_of(HANDLE handle);

    mutable std::mutex lock_;
    std::vector<Entry> entries_;
    std::vector<size_t> free_;  // reusable slots, lowest last
};

}  // namespace iosim::ob
