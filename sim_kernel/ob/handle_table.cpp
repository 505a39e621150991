// handle_table.cpp - handle allocation, lookup and close.
// NT counterparts: ExCreateHandle, ObReferenceObjectByHandle, ObpCloseHandle.
#include "ob/handle_table.h"

#include <algorithm>

namespace iosim::ob {

size_t HandleTable::index_of(HANDLE handle)
{
    auto value = reinterpret_cast<uintptr_t>(handle);
    if (value == 0 || (value & 3) != 0)
        return SIZE_MAX;
    return (value >> 2) - 1;
}

HANDLE HandleTable::insert(void* object, ACCESS_MASK granted, ULONG attributes)
{
    ob::reference(object);
    on_handle_opened(object);
    std::lock_guard guard(lock_);
    size_t index;
    if (!free_.empty()) {
        // Lowest free slot first, as Windows reuses handle values.
        auto lowest = std::min_element(free_.begin(), free_.end());
        index = *lowest;
        free_.erase(lowest);
    } else {
        index = entries_.size();
        entries_.emplace_back();
    }
    entries_[index] = Entry{object, granted, attributes};
    return reinterpret_cast<HANDLE>((index + 1) << 2);
}

NTSTATUS HandleTable::reference(HANDLE handle, const ObjectType* type, void** object, ACCESS_MASK* granted) const
{
    size_t index = index_of(handle);
    std::lock_guard guard(lock_);
    if (index >= entries_.size() || entries_[index].object == nullptr)
        return STATUS_INVALID_HANDLE;
    const Entry& entry = entries_[index];
    if (type != nullptr && header_of(entry.object)->type != type)
        return STATUS_OBJECT_TYPE_MISMATCH;
    ob::reference(entry.object);
    *object = entry.object;
    if (granted != nullptr)
        *granted = entry.granted;
    return STATUS_SUCCESS;
}

NTSTATUS HandleTable::close(Process* owner, HANDLE handle)
{
    size_t index = index_of(handle);
    void* object;
    {
        std::lock_guard guard(lock_);
        if (index >= entries_.size() || entries_[index].object == nullptr)
            return STATUS_INVALID_HANDLE;
        object = entries_[index].object;
        entries_[index] = Entry{};
        free_.push_back(index);
    }
    on_handle_closed(owner, object);
    dereference(object);
    return STATUS_SUCCESS;
}

void HandleTable::close_all(Process* owner)
{
    for (;;) {
        HANDLE next = nullptr;
        {
            std::lock_guard guard(lock_);
            for (size_t i = 0; i < entries_.size(); ++i)
                if (entries_[i].object != nullptr) {
                    next = reinterpret_cast<HANDLE>((i + 1) << 2);
                    break;
                }
        }
        if (next == nullptr)
            return;
        close(owner, next);
    }
}

std::vector<HandleTable::Listed> HandleTable::list() const
{
    std::lock_guard guard(lock_);
    std::vector<Listed> out;
    for (size_t i = 0; i < entries_.size(); ++i)
        if (entries_[i].object != nullptr)
            out.push_back({reinterpret_cast<HANDLE>((i + 1) << 2), entries_[i]});
    return out;
}

size_t HandleTable::count() const
{
    std::lock_guard guard(lock_);
    return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.object; }));
}

}  // namespace iosim::ob
