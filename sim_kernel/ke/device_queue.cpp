// device_queue.cpp - device queues: KeInitializeDeviceQueue, KeInsertDeviceQueue,
// KeInsertByKeyDeviceQueue, KeRemoveDeviceQueue, KeRemoveByKeyDeviceQueue,
// KeRemoveEntryDeviceQueue.
//
// A KDEVICE_QUEUE is a list of KDEVICE_QUEUE_ENTRYs plus a Busy flag that says whether the
// device is working on a packet. Windows' rules kept (WDK documentation of each routine):
//  - Insert: if the queue is not busy, it becomes busy and the entry is NOT inserted
//    (FALSE: the caller starts the packet itself); otherwise the entry goes at the tail
//    (by key: after every entry whose SortKey is <= its key) and the result is TRUE.
//  - Remove: an empty queue stops being busy and gives NULL; otherwise the head (by key: the
//    first entry whose SortKey is >= the key, else the head) leaves the queue and the queue
//    stays busy. Calling it on a queue that is not busy is a driver bug.
//  - KeRemoveEntryDeviceQueue takes out one given entry if it is queued (TRUE), else FALSE.
//  - Insert and remove require DISPATCH_LEVEL (KeRemoveEntryDeviceQueue: <= DISPATCH_LEVEL);
//    calling them lower is reported as a finding (DEVICE_QUEUE_IRQL), and they go on.
// Only one simulated thread runs at a time and none gives the baton up inside these
// routines, so the queue's Lock needs no host lock; Lock is still initialised.
// NT counterparts: the Ke*DeviceQueue routines of ntoskrnl (devquobj.c).
#include <fmt/format.h>

#include "ldr/symbolize.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

constexpr CSHORT kDeviceQueueObject = 0x14;  // KOBJECTS DeviceQueueObject

void check_irql(const char* routine, KIRQL wanted, bool exact, const void* caller)
{
    KIRQL irql = KeGetCurrentIrql();
    if (exact ? irql == wanted : irql <= wanted)
        return;
    System::current()->report(
        {"DEVICE_QUEUE_IRQL",
         fmt::format("{} was called at IRQL {}; it must be called at {}DISPATCH_LEVEL (2). The queue is changed "
                     "anyway here; on Windows another processor could change it at the same time.",
                     routine, irql, exact ? "" : "or below "),
         ldr::describe_function(caller), {}});
}

void check_busy(PKDEVICE_QUEUE queue, const char* routine, const void* caller)
{
    if (queue->Busy)
        return;
    System::current()->report(
        {"DEVICE_QUEUE_NOT_BUSY",
         fmt::format("{} was called on a device queue that is not busy: only the code that owns the device (the one "
                     "whose insert returned FALSE) removes entries, until the queue is empty again.",
                     routine),
         ldr::describe_function(caller), {}});
}

}  // namespace

extern "C" {

void KeInitializeDeviceQueue(PKDEVICE_QUEUE DeviceQueue)
{
    DeviceQueue->Type = kDeviceQueueObject;
    DeviceQueue->Size = sizeof(KDEVICE_QUEUE);
    InitializeListHead(&DeviceQueue->DeviceListHead);
    DeviceQueue->Lock = 0;
    DeviceQueue->Busy = FALSE;
}

BOOLEAN KeInsertDeviceQueue(PKDEVICE_QUEUE DeviceQueue, PKDEVICE_QUEUE_ENTRY DeviceQueueEntry)
{
    check_irql("KeInsertDeviceQueue", DISPATCH_LEVEL, true, __builtin_return_address(0));
    if (!DeviceQueue->Busy) {
        DeviceQueue->Busy = TRUE;
        DeviceQueueEntry->Inserted = FALSE;
        return FALSE;
    }
    InsertTailList(&DeviceQueue->DeviceListHead, &DeviceQueueEntry->DeviceListEntry);
    DeviceQueueEntry->Inserted = TRUE;
    return TRUE;
}

BOOLEAN KeInsertByKeyDeviceQueue(PKDEVICE_QUEUE DeviceQueue, PKDEVICE_QUEUE_ENTRY DeviceQueueEntry, ULONG SortKey)
{
    check_irql("KeInsertByKeyDeviceQueue", DISPATCH_LEVEL, true, __builtin_return_address(0));
    DeviceQueueEntry->SortKey = SortKey;
    if (!DeviceQueue->Busy) {
        DeviceQueue->Busy = TRUE;
        DeviceQueueEntry->Inserted = FALSE;
        return FALSE;
    }
    // Before the first entry with a greater key: equal keys keep their arrival order.
    PLIST_ENTRY next = DeviceQueue->DeviceListHead.Flink;
    while (next != &DeviceQueue->DeviceListHead &&
           CONTAINING_RECORD(next, KDEVICE_QUEUE_ENTRY, DeviceListEntry)->SortKey <= SortKey)
        next = next->Flink;
    InsertTailList(next, &DeviceQueueEntry->DeviceListEntry);  // i.e. just before `next`
    DeviceQueueEntry->Inserted = TRUE;
    return TRUE;
}

PKDEVICE_QUEUE_ENTRY KeRemoveDeviceQueue(PKDEVICE_QUEUE DeviceQueue)
{
    const void* caller = __builtin_return_address(0);
    check_irql("KeRemoveDeviceQueue", DISPATCH_LEVEL, true, caller);
    check_busy(DeviceQueue, "KeRemoveDeviceQueue", caller);
    if (IsListEmpty(&DeviceQueue->DeviceListHead)) {
        DeviceQueue->Busy = FALSE;
        return nullptr;
    }
    auto* entry = CONTAINING_RECORD(RemoveHeadList(&DeviceQueue->DeviceListHead), KDEVICE_QUEUE_ENTRY, DeviceListEntry);
    entry->Inserted = FALSE;
    return entry;
}

PKDEVICE_QUEUE_ENTRY KeRemoveByKeyDeviceQueue(PKDEVICE_QUEUE DeviceQueue, ULONG SortKey)
{
    const void* caller = __builtin_return_address(0);
    check_irql("KeRemoveByKeyDeviceQueue", DISPATCH_LEVEL, true, caller);
    check_busy(DeviceQueue, "KeRemoveByKeyDeviceQueue", caller);
    if (IsListEmpty(&DeviceQueue->DeviceListHead)) {
        DeviceQueue->Busy = FALSE;
        return nullptr;
    }
    PLIST_ENTRY link = DeviceQueue->DeviceListHead.Flink;
    while (link != &DeviceQueue->DeviceListHead &&
           CONTAINING_RECORD(link, KDEVICE_QUEUE_ENTRY, DeviceListEntry)->SortKey < SortKey)
        link = link->Flink;
    if (link == &DeviceQueue->DeviceListHead)
        link = DeviceQueue->DeviceListHead.Flink;  // none at or above the key: the head
    RemoveEntryList(link);
    auto* entry = CONTAINING_RECORD(link, KDEVICE_QUEUE_ENTRY, DeviceListEntry);
    entry->Inserted = FALSE;
    return entry;
}

BOOLEAN KeRemoveEntryDeviceQueue(PKDEVICE_QUEUE DeviceQueue, PKDEVICE_QUEUE_ENTRY DeviceQueueEntry)
{
    check_irql("KeRemoveEntryDeviceQueue", DISPATCH_LEVEL, false, __builtin_return_address(0));
    if (!DeviceQueueEntry->Inserted)
        return FALSE;
    RemoveEntryList(&DeviceQueueEntry->DeviceListEntry);
    DeviceQueueEntry->Inserted = FALSE;
    return TRUE;
}

}  // extern "C"
