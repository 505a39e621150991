// resource.cpp - ERESOURCE: the executive's reader/writer lock.
//
// iosim keeps each initialised resource's state on its side (who owns it exclusively and
// how often, which threads share it and how often, how many wait), found through the
// ERESOURCE's OwnerTable field; ActiveCount and Flag mirror it for a debugger's eye.
// Windows' rules kept:
//  - Acquire at IRQL <= APC_LEVEL (IRQL_NOT_LESS_OR_EQUAL otherwise), inside a critical
//    region (KeEnterCriticalRegion) or at APC_LEVEL. A free build does not check that; the
//    WDK states it and Verifier's WithinCriticalRegion rule does: iosim reports a finding
//    (RESOURCE_ACQUIRED_WITH_APCS_ENABLED) and carries on.
//  - Exclusive access is recursive; shared access is recursive; a thread that owns the
//    resource exclusively gets "shared" as another exclusive level. A thread that owns it
//    shared and asks for exclusive waits for itself forever: reported at once as a
//    deadlock (0xC4, parameter 0x1001).
//  - ExAcquireResourceSharedLite waits while an exclusive owner exists or, for a thread not
//    already sharing, while exclusive waiters exist (writers are not starved);
//    ExAcquireSharedStarveExclusive ignores the waiting writers.
//  - Wait == FALSE: TRUE if acquired at once, FALSE otherwise.
//  - Releasing a resource the thread does not own is bug check RESOURCE_NOT_OWNED (0xE3).
//  - Deleting a resource still owned, or acquiring one never initialised (or deleted), is
//    reported (a finding, and an uninitialised one is not acquired: FALSE).
// Waiting goes through the scheduler (ex/ex_sync.h): a cycle of threads and resources is
// a deadlock report naming each thread, the resource it waits for and its owners.
// NT counterparts: ExInitializeResourceLite, ExAcquireResourceExclusiveLite,
// ExAcquireResourceSharedLite, ExAcquireSharedStarveExclusive, ExReleaseResourceLite,
// ExReleaseResourceForThreadLite, ExConvertExclusiveToSharedLite, ExDeleteResourceLite,
// ExIsResourceAcquiredExclusiveLite, ExIsResourceAcquiredSharedLite, ExpWaitForResource.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>

#include "ex/ex_sync.h"
#include "ke/bugcheck.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

constexpr ULONG_PTR kDeadlock = 0x1001;
constexpr USHORT kResourceOwnedExclusive = 0x0080;  // ResourceOwnedExclusive in ERESOURCE.Flag

struct ResourceState {
    Thread* exclusive = nullptr;
    ULONG exclusive_count = 0;
    std::map<Thread*, ULONG> shared;
    ULONG exclusive_waiters = 0;
    ULONG shared_waiters = 0;
    KEVENT changed{};  // pulsed at every release (ex/ex_sync.h)
};

std::mutex g_lock;
std::map<const ERESOURCE*, std::unique_ptr<ResourceState>> g_resources;

ResourceState* state_of(const ERESOURCE* resource)
{
    std::lock_guard guard(g_lock);
    auto it = g_resources.find(resource);
    return it != g_resources.end() && static_cast<void*>(it->second.get()) == resource->OwnerTable ? it->second.get()
                                                                                                    : nullptr;
}

void mirror(ERESOURCE* resource, const ResourceState& state)
{
    resource->ActiveCount = static_cast<SHORT>(state.exclusive_count + state.shared.size());
    resource->Flag = state.exclusive != nullptr ? kResourceOwnedExclusive : 0;
}

std::string owners(const ResourceState& state)
{
    if (state.exclusive != nullptr)
        return "owned exclusively by " + ex::thread_name(state.exclusive);
    if (state.shared.empty())
        return "free";
    std::string out = "shared by";
    for (const auto& [thread, count] : state.shared)
        out += " " + ex::thread_name(thread);
    return out;
}

// Checks IRQL and the critical region; returns the state, or nullptr (reported) if uninitialised.
ResourceState* prepare(ERESOURCE* resource, const char* routine, const void* caller)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql > APC_LEVEL)
        bugcheck(IRQL_NOT_LESS_OR_EQUAL, reinterpret_cast<ULONG_PTR>(resource), irql, 0,
                 reinterpret_cast<ULONG_PTR>(caller), caller, nullptr,
                 fmt::format("{} was called at IRQL {}: an ERESOURCE may be acquired only at IRQL <= APC_LEVEL.",
                             routine, irql));
    ResourceState* state = state_of(resource);
    if (state == nullptr) {
        ex::report_rule("RESOURCE_NOT_INITIALIZED",
                        fmt::format("{} was given ERESOURCE {}, which was never initialised with "
                                    "ExInitializeResourceLite (or was deleted). It is not acquired.",
                                    routine, static_cast<const void*>(resource)),
                        caller);
        return nullptr;
    }
    Thread* self = current_thread();
    if (irql < APC_LEVEL && self->critical_region == 0)
        ex::report_rule("RESOURCE_ACQUIRED_WITH_APCS_ENABLED",
                        fmt::format("{} was called outside a critical region: call KeEnterCriticalRegion before "
                                    "acquiring an ERESOURCE (and KeLeaveCriticalRegion after releasing it), or an "
                                    "APC could suspend this thread while it holds the resource.",
                                    routine),
                        caller);
    return state;
}

template <class CanHave>
bool acquire_waiting(ERESOURCE* resource, ResourceState& state, bool exclusive, BOOLEAN wait, const char* routine,
                     const void* caller, CanHave can_have)
{
    if (can_have())
        return true;
    if (!wait)
        return false;
    ULONG& waiters = exclusive ? state.exclusive_waiters : state.shared_waiters;
    ++waiters;
    while (!can_have())
        ex::wait_for_lock(&state.changed, fmt::format("{} on ERESOURCE {} ({}) at {}", routine,
                                                     static_cast<const void*>(resource), owners(state),
                                                     ldr::describe_call_site(caller)));
    --waiters;
    return true;
}

BOOLEAN acquire_shared(ERESOURCE* resource, BOOLEAN wait, bool starve_exclusive, const char* routine,
                       const void* caller)
{
    ResourceState* state = prepare(resource, routine, caller);
    if (state == nullptr)
        return FALSE;
    Thread* self = current_thread();
    if (state->exclusive == self) {
        ++state->exclusive_count;  // shared inside exclusive: one more exclusive level
        mirror(resource, *state);
        return TRUE;
    }
    bool already = state->shared.count(self) != 0;
    bool ok = acquire_waiting(resource, *state, false, wait, routine, caller, [&] {
        return state->exclusive == nullptr && (already || starve_exclusive || state->exclusive_waiters == 0);
    });
    if (ok) {
        ++state->shared[self];
        mirror(resource, *state);
    }
    return ok ? TRUE : FALSE;
}

void release_for(ERESOURCE* resource, Thread* thread, const char* routine, const void* caller)
{
    ResourceState* state = state_of(resource);
    auto shared = state != nullptr ? state->shared.find(thread) : std::map<Thread*, ULONG>::iterator{};
    if (state != nullptr && state->exclusive == thread && state->exclusive_count != 0) {
        if (--state->exclusive_count == 0)
            state->exclusive = nullptr;
    } else if (state != nullptr && shared != state->shared.end()) {
        if (--shared->second == 0)
            state->shared.erase(shared);
    } else {
        bugcheck(RESOURCE_NOT_OWNED, reinterpret_cast<ULONG_PTR>(resource), reinterpret_cast<ULONG_PTR>(thread),
                 reinterpret_cast<ULONG_PTR>(resource->OwnerTable), 0, caller, nullptr,
                 fmt::format("{}: thread {} released ERESOURCE {}, which it does not own ({}).", routine,
                             ex::thread_name(thread), static_cast<const void*>(resource),
                             state != nullptr ? owners(*state) : "never initialised"));
    }
    mirror(resource, *state);
    ex::wake_lock_waiters(&state->changed);
}

}  // namespace

extern "C" {

NTSTATUS ExInitializeResourceLite(PERESOURCE Resource)
{
    *Resource = ERESOURCE{};
    InitializeListHead(&Resource->SystemResourcesList);
    auto state = std::make_unique<ResourceState>();
    KeInitializeEvent(&state->changed, NotificationEvent, FALSE);
    Resource->OwnerTable = state.get();
    std::lock_guard guard(g_lock);
    g_resources[Resource] = std::move(state);
    return STATUS_SUCCESS;
}

NTSTATUS ExReinitializeResourceLite(PERESOURCE Resource)
{
    if (ResourceState* state = state_of(Resource)) {
        state->exclusive = nullptr;
        state->exclusive_count = 0;
        state->shared.clear();
        mirror(Resource, *state);
        return STATUS_SUCCESS;
    }
    return ExInitializeResourceLite(Resource);
}

NTSTATUS ExDeleteResourceLite(PERESOURCE Resource)
{
    ResourceState* state = state_of(Resource);
    if (state != nullptr && (state->exclusive != nullptr || !state->shared.empty()))
        ex::report_rule("RESOURCE_DELETED_WHILE_OWNED",
                        fmt::format("ExDeleteResourceLite deleted ERESOURCE {} while it is {}: release it first.",
                                    static_cast<const void*>(Resource), owners(*state)),
                        __builtin_return_address(0));
    std::lock_guard guard(g_lock);
    g_resources.erase(Resource);
    Resource->OwnerTable = nullptr;
    return STATUS_SUCCESS;
}

BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait)
{
    const void* caller = __builtin_return_address(0);
    ResourceState* state = prepare(Resource, "ExAcquireResourceExclusiveLite", caller);
    if (state == nullptr)
        return FALSE;
    Thread* self = current_thread();
    if (state->exclusive != self && state->shared.count(self) != 0 && Wait)
        bugcheck(DRIVER_VERIFIER_DETECTED_VIOLATION, kDeadlock, reinterpret_cast<ULONG_PTR>(Resource), 0, 0, caller,
                 nullptr,
                 fmt::format("ExAcquireResourceExclusiveLite: thread {} asked for ERESOURCE {} exclusively while it "
                             "holds it shared. It would wait for its own shared access to end: a one-thread deadlock. "
                             "Release the shared access first, or acquire exclusively from the start.",
                             ex::thread_name(self), static_cast<const void*>(Resource)));
    bool ok = acquire_waiting(Resource, *state, true, Wait, "ExAcquireResourceExclusiveLite", caller, [&] {
        return state->exclusive == self || (state->exclusive == nullptr && state->shared.empty());
    });
    if (!ok)
        return FALSE;
    state->exclusive = self;
    ++state->exclusive_count;
    mirror(Resource, *state);
    return TRUE;
}

BOOLEAN ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait)
{
    return acquire_shared(Resource, Wait, false, "ExAcquireResourceSharedLite", __builtin_return_address(0));
}

BOOLEAN ExAcquireSharedStarveExclusive(PERESOURCE Resource, BOOLEAN Wait)
{
    return acquire_shared(Resource, Wait, true, "ExAcquireSharedStarveExclusive", __builtin_return_address(0));
}

BOOLEAN ExAcquireSharedWaitForExclusive(PERESOURCE Resource, BOOLEAN Wait)
{
    return acquire_shared(Resource, Wait, false, "ExAcquireSharedWaitForExclusive", __builtin_return_address(0));
}

void ExReleaseResourceLite(PERESOURCE Resource)
{
    release_for(Resource, current_thread(), "ExReleaseResourceLite", __builtin_return_address(0));
}

void ExReleaseResourceForThreadLite(PERESOURCE Resource, ERESOURCE_THREAD ResourceThreadId)
{
    release_for(Resource, reinterpret_cast<Thread*>(ResourceThreadId), "ExReleaseResourceForThreadLite",
                __builtin_return_address(0));
}

void ExConvertExclusiveToSharedLite(PERESOURCE Resource)
{
    ResourceState* state = state_of(Resource);
    Thread* self = current_thread();
    if (state == nullptr || state->exclusive != self)
        bugcheck(RESOURCE_NOT_OWNED, reinterpret_cast<ULONG_PTR>(Resource), reinterpret_cast<ULONG_PTR>(self),
                 reinterpret_cast<ULONG_PTR>(Resource->OwnerTable), 0, __builtin_return_address(0), nullptr,
                 "ExConvertExclusiveToSharedLite was called by a thread that does not own the resource exclusively.");
    state->shared[self] += state->exclusive_count;
    state->exclusive = nullptr;
    state->exclusive_count = 0;
    mirror(Resource, *state);
    ex::wake_lock_waiters(&state->changed);
}

BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource)
{
    ResourceState* state = state_of(Resource);
    return state != nullptr && state->exclusive == current_thread() ? TRUE : FALSE;
}

ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource)
{
    ResourceState* state = state_of(Resource);
    if (state == nullptr)
        return 0;
    Thread* self = current_thread();
    if (state->exclusive == self)
        return state->exclusive_count;
    auto it = state->shared.find(self);
    return it != state->shared.end() ? it->second : 0;
}

ULONG ExGetExclusiveWaiterCount(PERESOURCE Resource)
{
    ResourceState* state = state_of(Resource);
    return state != nullptr ? state->exclusive_waiters : 0;
}

ULONG ExGetSharedWaiterCount(PERESOURCE Resource)
{
    ResourceState* state = state_of(Resource);
    return state != nullptr ? state->shared_waiters : 0;
}

PVOID ExEnterCriticalRegionAndAcquireResourceExclusive(PERESOURCE Resource)
{
    KeEnterCriticalRegion();
    ExAcquireResourceExclusiveLite(Resource, TRUE);
    return nullptr;
}

PVOID ExEnterCriticalRegionAndAcquireResourceShared(PERESOURCE Resource)
{
    KeEnterCriticalRegion();
    ExAcquireResourceSharedLite(Resource, TRUE);
    return nullptr;
}

void ExReleaseResourceAndLeaveCriticalRegion(PERESOURCE Resource)
{
    release_for(Resource, current_thread(), "ExReleaseResourceAndLeaveCriticalRegion", __builtin_return_address(0));
    KeLeaveCriticalRegion();
}

}  // extern "C"
