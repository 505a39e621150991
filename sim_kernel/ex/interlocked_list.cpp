// interlocked_list.cpp - lists shared between threads: ExInterlocked* (a doubly or singly
// linked list guarded by the caller's spin lock) and SLISTs (lock-free singly linked lists).
//
// ExInterlocked* hold the spin lock only for the list operation, so they may be called at
// any IRQL; iosim takes it the ordinary way (KeAcquireSpinLockRaiseToDpc), so taking a
// lock the caller already holds is SPIN_LOCK_ALREADY_OWNED as with any other spin lock.
// SLISTs keep Windows' x64 header layout: Depth and a 60-bit NextEntry (the entry address
// >> 4: entries are 16-byte aligned, MEMORY_ALLOCATION_ALIGNMENT). One host mutex makes
// each operation atomic; only one simulated thread runs at a time anyway, but DPCs and
// the host threads' memory order still want it.
// NT counterparts: ExfInterlockedInsertHeadList, ExfInterlockedInsertTailList,
// ExfInterlockedRemoveHeadList, ExInterlockedPushEntryList, ExInterlockedPopEntryList,
// RtlpInterlockedPushEntrySList, RtlpInterlockedPopEntrySList, RtlpInterlockedFlushSList.
#include <mutex>

#include "wdm_impl.h"

namespace {

std::mutex g_slist_lock;

PSLIST_ENTRY first_of(const SLIST_HEADER* head)
{
    return reinterpret_cast<PSLIST_ENTRY>(static_cast<ULONG_PTR>(head->HeaderX64.NextEntry) << 4);
}

void set_first(PSLIST_HEADER head, PSLIST_ENTRY entry, ULONGLONG depth)
{
    head->HeaderX64.NextEntry = reinterpret_cast<ULONG_PTR>(entry) >> 4;
    head->HeaderX64.Depth = depth;
    head->HeaderX64.Sequence = head->HeaderX64.Sequence + 1;
}

// The spin lock held for one list operation (any IRQL: it only raises).
class Held {
public:
    explicit Held(PKSPIN_LOCK lock) : lock_(lock), old_(KeAcquireSpinLockRaiseToDpc(lock)) {}
    ~Held() { KeReleaseSpinLock(lock_, old_); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

private:
    PKSPIN_LOCK lock_;
    KIRQL old_;
};

}  // namespace

extern "C" {

PLIST_ENTRY ExInterlockedInsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock)
{
    Held held(Lock);
    PLIST_ENTRY first = IsListEmpty(ListHead) ? nullptr : ListHead->Flink;
    InsertHeadList(ListHead, ListEntry);
    return first;
}

PLIST_ENTRY ExInterlockedInsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock)
{
    Held held(Lock);
    PLIST_ENTRY last = IsListEmpty(ListHead) ? nullptr : ListHead->Blink;
    InsertTailList(ListHead, ListEntry);
    return last;
}

PLIST_ENTRY ExInterlockedRemoveHeadList(PLIST_ENTRY ListHead, PKSPIN_LOCK Lock)
{
    Held held(Lock);
    return IsListEmpty(ListHead) ? nullptr : RemoveHeadList(ListHead);
}

PSINGLE_LIST_ENTRY ExInterlockedPushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY ListEntry,
                                              PKSPIN_LOCK Lock)
{
    Held held(Lock);
    PSINGLE_LIST_ENTRY first = ListHead->Next;
    PushEntryList(ListHead, ListEntry);
    return first;
}

PSINGLE_LIST_ENTRY ExInterlockedPopEntryList(PSINGLE_LIST_ENTRY ListHead, PKSPIN_LOCK Lock)
{
    Held held(Lock);
    return PopEntryList(ListHead);
}

void InitializeSListHead(PSLIST_HEADER SListHead)
{
    std::lock_guard guard(g_slist_lock);
    SListHead->Alignment = 0;
    SListHead->Region = 0;
}

PSLIST_ENTRY InterlockedPushEntrySList(PSLIST_HEADER ListHead, PSLIST_ENTRY ListEntry)
{
    std::lock_guard guard(g_slist_lock);
    PSLIST_ENTRY first = first_of(ListHead);
    ListEntry->Next = first;
    set_first(ListHead, ListEntry, ListHead->HeaderX64.Depth + 1);
    return first;
}

PSLIST_ENTRY InterlockedPopEntrySList(PSLIST_HEADER ListHead)
{
    std::lock_guard guard(g_slist_lock);
    PSLIST_ENTRY first = first_of(ListHead);
    if (first != nullptr)
        set_first(ListHead, first->Next, ListHead->HeaderX64.Depth - 1);
    return first;
}

PSLIST_ENTRY InterlockedFlushSList(PSLIST_HEADER ListHead)
{
    std::lock_guard guard(g_slist_lock);
    PSLIST_ENTRY first = first_of(ListHead);
    set_first(ListHead, nullptr, 0);
    return first;
}

USHORT QueryDepthSList(PSLIST_HEADER ListHead)
{
    std::lock_guard guard(g_slist_lock);
    return static_cast<USHORT>(ListHead->HeaderX64.Depth);
}

}  // extern "C"
