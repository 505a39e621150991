// object.cpp - object allocation, reference counting and the live-object registry.
// NT counterparts: ObCreateObject, ObfReferenceObject, ObfDereferenceObject, ObpDecrementHandleCount.
#include "ob/object.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "ob/directory.h"

namespace iosim::ob {

namespace {

struct Registry {
    std::mutex lock;
    std::map<uint64_t, ObjectHeader*> live;  // by serial: creation order
    uint64_t next_serial = 1;
};

Registry& registry()
{
    static Registry r;
    return r;
}

}  // namespace

void* create_object(ObjectType& type, size_t body_size)
{
    void* raw = std::aligned_alloc(alignof(ObjectHeader), (sizeof(ObjectHeader) + body_size + 15) & ~size_t{15});
    auto* header = new (raw) ObjectHeader();
    header->type = &type;
    header->body_size = body_size;
    std::memset(header->body(), 0, body_size);
    {
        auto& r = registry();
        std::lock_guard guard(r.lock);
        header->serial = r.next_serial++;
        r.live.emplace(header->serial, header);
    }
    type.live_count.fetch_add(1, std::memory_order_relaxed);
    return header->body();
}

ObjectHeader* header_of(const void* body)
{
    return reinterpret_cast<ObjectHeader*>(const_cast<char*>(static_cast<const char*>(body)) - sizeof(ObjectHeader));
}

bool is_object(const void* body)
{
    if (body == nullptr || (reinterpret_cast<uintptr_t>(body) & 15) != 0)
        return false;
    return header_of(body)->magic == ObjectHeader::kMagic;
}

bool is_object_of_type(const void* body, const ObjectType& type)
{
    return is_object(body) && header_of(body)->type == &type;
}

long reference(void* body)
{
    return header_of(body)->pointer_count.fetch_add(1, std::memory_order_relaxed) + 1;
}

long dereference(void* body)
{
    ObjectHeader* header = header_of(body);
    long left = header->pointer_count.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if (left != 0)
        return left;
    // Last reference: the name (if still there) goes first, then the type's procedure.
    if (header->parent != nullptr)
        header->parent->remove_entry(body);
    if (header->type->delete_procedure != nullptr)
        header->type->delete_procedure(body);
    {
        auto& r = registry();
        std::lock_guard guard(r.lock);
        r.live.erase(header->serial);
    }
    header->type->live_count.fetch_sub(1, std::memory_order_relaxed);
    header->magic = ObjectHeader::kDeadMagic;
    header->~ObjectHeader();
    std::free(header);
    return 0;
}

long pointer_count(const void* body) { return header_of(body)->pointer_count.load(std::memory_order_relaxed); }
long handle_count(const void* body) { return header_of(body)->handle_count.load(std::memory_order_relaxed); }

void on_handle_opened(void* body) { header_of(body)->handle_count.fetch_add(1, std::memory_order_relaxed); }

void on_handle_closed(Process* process, void* body)
{
    ObjectHeader* header = header_of(body);
    long left = header->handle_count.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if (left == 0 && header->type->close_procedure != nullptr)
        header->type->close_procedure(process, body);
}

std::u16string full_name(const void* body)
{
    const ObjectHeader* header = header_of(body);
    if (header->parent == nullptr)
        return header->name;  // "\\" for the root, "" for an unnamed object
    std::u16string parent = full_name(header->parent->self());
    if (parent == u"\\")
        return u"\\" + header->name;
    return parent + u"\\" + header->name;
}

std::vector<LiveObject> live_objects()
{
    auto& r = registry();
    std::lock_guard guard(r.lock);
    std::vector<LiveObject> out;
    out.reserve(r.live.size());
    for (auto& [serial, header] : r.live)
        out.push_back({header->body(), header->type, serial, header->pointer_count.load(), header->handle_count.load(),
                       header->name});
    return out;
}

}  // namespace iosim::ob
