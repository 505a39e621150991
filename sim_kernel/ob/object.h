// object.h - object headers, object types and reference counting.
//
// Every kernel object (directory, symbolic link, driver, device, file, event, process,
// thread) is a body preceded by an ObjectHeader, as in NT: code outside the object
// manager holds body pointers (a PDEVICE_OBJECT is a body), and header_of() finds the
// header. An object dies when its pointer count reaches zero; the type's delete
// procedure runs first. Handle counts are kept separately: when the last handle goes,
// the type's close procedure runs (for files this is where IRP_MJ_CLEANUP is sent).
//
// Rules: reference counts are atomic; the live-object registry is locked. Objects are
// never freed while referenced, so a body pointer obtained with a reference is stable.
// NT counterparts: OBJECT_HEADER, OBJECT_TYPE, ObCreateObject, ObfReferenceObject,
// ObfDereferenceObject.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace iosim {
class Process;
}

namespace iosim::ob {

class Directory;

struct ObjectType {
    std::string name;
    // Runs when the last handle to an object closes, in the closing process's context.
    void (*close_procedure)(Process* process, void* body) = nullptr;
    // Runs when the last reference goes, before the memory is released.
    void (*delete_procedure)(void* body) = nullptr;
    // A one-line description for listings (!object, the shutdown report); optional.
    std::string (*describe)(void* body) = nullptr;
    std::atomic<long> live_count{0};
};

struct alignas(16) ObjectHeader {
    static constexpr uint32_t kMagic = 0x6a624f49;  // "IObj"
    static constexpr uint32_t kDeadMagic = 0x64616544;  // "Dead"

    uint32_t magic = kMagic;
    bool permanent = false;  // OBJ_PERMANENT: the namespace holds a reference
    ObjectType* type = nullptr;
    std::atomic<long> pointer_count{1};
    std::atomic<long> handle_count{0};
    Directory* parent = nullptr;  // directory that holds the name, if any
    std::u16string name;          // name within parent (original case)
    uint64_t serial = 0;          // creation order: listings are deterministic
    size_t body_size = 0;

    void* body() { return reinterpret_cast<char*>(this) + sizeof(ObjectHeader); }
};

// Creates an object of `type` with a zeroed body of `body_size` bytes and one reference.
void* create_object(ObjectType& type, size_t body_size);

// Creates an object whose body is a C++ object of type T (constructed in place); the
// type's delete procedure must call destroy_body<T>.
template <typename T, typename... Args>
T* create_object_of(ObjectType& type, Args&&... args)
{
    void* body = create_object(type, sizeof(T));
    return new (body) T(std::forward<Args>(args)...);
}
template <typename T>
void destroy_body(void* body)
{
    static_cast<T*>(body)->~T();
}

ObjectHeader* header_of(const void* body);
// True when `body` points at a live object's body (checks the header magic).
bool is_object(const void* body);
bool is_object_of_type(const void* body, const ObjectType& type);

long reference(void* body);
long dereference(void* body);
long pointer_count(const void* body);
long handle_count(const void* body);

// Handle-count bookkeeping, used by handle tables.
void on_handle_opened(void* body);
void on_handle_closed(Process* process, void* body);

// Full path of a named object ("\Device\MyDevice1"), or "" for an unnamed one.
std::u16string full_name(const void* body);

struct LiveObject {
    void* body;
    ObjectType* type;
    uint64_t serial;
    long pointers;
    long handles;
    std::u16string name;
};
// Objects alive now, in creation order.
std::vector<LiveObject> live_objects();

}  // namespace iosim::ob
