// io_workitem.cpp - I/O work items: IoAllocateWorkItem, IoQueueWorkItem(Ex), IoFreeWorkItem,
// IoSizeofWorkItem, IoInitializeWorkItem, IoUninitializeWorkItem; and the unload check.
//
// An IO_WORKITEM is iosim's structure below (opaque to drivers; IoSizeofWorkItem gives its
// size for drivers that embed one). Its routine runs in a system worker thread
// (ex/work_queue.h) at PASSIVE_LEVEL with the work item's device object (IoQueueWorkItem)
// or IoObject (IoQueueWorkItemEx). Windows' rules kept:
//  - IoQueueWorkItem references the IoObject until the routine returns (the driver cannot
//    unload under it; io_workitem.h says what the unload does meanwhile).
//  - A work item is queued once at a time: queuing it again before its routine started is
//    WORKER_INVALID (0xE4, parameter 1 = 1, "an active worker item was queued").
//  - Freeing (or uninitialising) a queued work item is WORKER_INVALID with parameter 1 = 2
//    ("a queued I/O worker item was freed"). The routine may free its own item: it is
//    dequeued before the routine runs.
//  - IoAllocateWorkItem's memory is non-paged pool charged to the calling driver (tag
//    'IoWI'), so one never freed is a pool leak at unload like any other.
// NT counterparts: IoAllocateWorkItem, IoQueueWorkItem, IopProcessWorkItem, IoFreeWorkItem.
#include "io_workitem.h"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <new>
#include <set>

#include "device.h"
#include "driver.h"
#include "ex/work_queue.h"
#include "ke/bugcheck.h"
#include "ke/scheduler.h"
#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "ps/system_thread.h"
#include "system.h"

// iosim's definition of the (opaque to drivers) I/O work item.
struct _IO_WORKITEM {
    enum State : ULONG { Idle, Queued, Running };
    ULONG Magic;  // kMagic while initialised
    State state;
    PVOID IoObject;          // a device object (IoAllocateWorkItem) or a device/driver object
    PDRIVER_OBJECT Driver;   // whose work this is (for the unload)
    bool from_pool;          // IoAllocateWorkItem (IoFreeWorkItem frees it)
    PIO_WORKITEM_ROUTINE Routine;
    PIO_WORKITEM_ROUTINE_EX RoutineEx;
    PVOID Context;
};

using namespace iosim;

namespace {

constexpr ULONG kMagic = 0x49576F49;  // "IoWI"
constexpr ULONG kPoolTag = 0x49576F49;

struct Registry {
    uint64_t owner = 0;  // the System's boot_id
    std::set<PIO_WORKITEM> live;
    std::map<PDRIVER_OBJECT, unsigned> outstanding;  // queued or running, per driver
    KEVENT finished{};                               // pulsed when one finishes
};
std::mutex g_lock;
Registry g_registry;

Registry& registry()
{
    if (g_registry.owner != System::current()->boot_id()) {
        g_registry = Registry{};
        g_registry.owner = System::current()->boot_id();
        KeInitializeEvent(&g_registry.finished, NotificationEvent, FALSE);
    }
    return g_registry;
}

PDRIVER_OBJECT driver_of(PVOID io_object)
{
    if (io::is_driver(io_object))
        return static_cast<PDRIVER_OBJECT>(io_object);
    if (io::is_device(io_object))
        return static_cast<PDEVICE_OBJECT>(io_object)->DriverObject;
    return nullptr;
}

[[noreturn]] void invalid_object(PIO_WORKITEM item, PVOID object, const void* caller, const char* routine)
{
    bugcheck(WORKER_INVALID, 3, reinterpret_cast<ULONG_PTR>(item), reinterpret_cast<ULONG_PTR>(object), 0, caller,
             nullptr,
             fmt::format("{} was given {}, which is not a device or driver object: an I/O work item belongs to one.",
                         routine, static_cast<const void*>(object)));
}

void initialize(PIO_WORKITEM item, PVOID io_object, bool from_pool)
{
    new (item) _IO_WORKITEM{kMagic, _IO_WORKITEM::Idle, io_object, driver_of(io_object), from_pool, nullptr, nullptr,
                            nullptr};
    std::lock_guard guard(g_lock);
    registry().live.insert(item);
}

bool is_live(PIO_WORKITEM item)
{
    std::lock_guard guard(g_lock);
    return registry().live.count(item) != 0;
}

// Checks that `item` may go (not queued), then forgets it.
void retire(PIO_WORKITEM item, const char* routine, const void* caller)
{
    if (!is_live(item) || item->Magic != kMagic)
        bugcheck(WORKER_INVALID, 3, reinterpret_cast<ULONG_PTR>(item), 0, 0, caller, nullptr,
                 fmt::format("{} was given {}, which is not an I/O work item (never allocated or initialised, or "
                             "already freed).",
                             routine, static_cast<const void*>(item)));
    if (item->state == _IO_WORKITEM::Queued)
        bugcheck(WORKER_INVALID, 2, reinterpret_cast<ULONG_PTR>(item),
                 reinterpret_cast<ULONG_PTR>(item->Routine != nullptr ? reinterpret_cast<const void*>(item->Routine)
                                                                      : reinterpret_cast<const void*>(item->RoutineEx)),
                 0, caller, nullptr,
                 fmt::format("{} was called on a work item that is still queued: its routine has not run yet, and "
                             "the worker thread would use freed memory. Free it in its routine, or after it ran.",
                             routine));
    std::lock_guard guard(g_lock);
    registry().live.erase(item);
    item->Magic = 0;
}

void queue(PIO_WORKITEM item, PIO_WORKITEM_ROUTINE routine, PIO_WORKITEM_ROUTINE_EX routine_ex,
           WORK_QUEUE_TYPE type, PVOID context, const char* name, const void* caller)
{
    if (!is_live(item) || item->Magic != kMagic)
        bugcheck(WORKER_INVALID, 3, reinterpret_cast<ULONG_PTR>(item), 0, 0, caller, nullptr,
                 fmt::format("{} was given {}, which is not an I/O work item (never allocated or initialised, or "
                             "already freed).",
                             name, static_cast<const void*>(item)));
    if (item->state == _IO_WORKITEM::Queued)
        bugcheck(WORKER_INVALID, 1, reinterpret_cast<ULONG_PTR>(item), static_cast<ULONG_PTR>(type), 0, caller,
                 nullptr,
                 fmt::format("{} queued a work item that is already queued: a work item can be queued again only "
                             "once its routine has started.",
                             name));
    item->state = _IO_WORKITEM::Queued;
    item->Routine = routine;
    item->RoutineEx = routine_ex;
    item->Context = context;
    PVOID io_object = item->IoObject;
    PDRIVER_OBJECT driver = item->Driver;
    ob::reference(io_object);  // until the routine returns
    {
        std::lock_guard guard(g_lock);
        ++registry().outstanding[driver];
    }
    ex::WorkRequest request;
    request.routine = routine != nullptr ? reinterpret_cast<const void*>(routine) : reinterpret_cast<const void*>(routine_ex);
    request.parameter = context;
    request.item = item;
    request.kind = "I/O work item";
    request.run = [item, routine, routine_ex, context, io_object] {
        item->state = _IO_WORKITEM::Running;  // dequeued: the routine may free or requeue it
        if (routine != nullptr)
            routine(static_cast<PDEVICE_OBJECT>(io_object), context);
        else
            routine_ex(io_object, context, item);
    };
    request.done = [item, io_object, driver] {
        if (is_live(item) && item->state == _IO_WORKITEM::Running)
            item->state = _IO_WORKITEM::Idle;
        ob::dereference(io_object);  // NT counterpart: IopProcessWorkItem's ObDereferenceObject
        {
            std::lock_guard guard(g_lock);
            --registry().outstanding[driver];
        }
        KEVENT* finished = &registry().finished;
        finished->Header.SignalState = 1;
        System::current()->scheduler().signalled(&finished->Header);
        finished->Header.SignalState = 0;
    };
    ex::queue_work(std::move(request), type);
}

}  // namespace

namespace iosim::io {

void before_image_unload(DRIVER_OBJECT* driver, const ldr::Module* module, bool at_shutdown)
{
    System* sys = System::current();
    // The I/O manager's references keep the image until the driver's work items returned.
    for (;;) {
        unsigned left;
        {
            std::lock_guard guard(g_lock);
            left = registry().outstanding[driver];
        }
        if (left == 0 || at_shutdown)
            break;
        DISPATCHER_HEADER* finished = &registry().finished.Header;
        sys->scheduler().wait(&finished, 1, false, nullptr,
                              fmt::format("unloading {}: waiting for its {} I/O work item(s) to return", module->name,
                                          left));
    }
    std::vector<ps::CodeInModule> code = ps::system_threads_running_in(module);
    for (const ps::CodeInModule& work : ex::work_in(module))
        code.push_back(work);
    if (code.empty())
        return;
    std::string list;
    for (const ps::CodeInModule& c : code)
        list += fmt::format("\n  {} {}{}", c.what, ldr::describe_function(c.routine),
                            c.thread != nullptr ? fmt::format(" (thread t{}, still running)", c.thread->tid())
                                                : std::string(" (queued, not started)"));
    std::string text = fmt::format(
        "{} was unloaded while its code still runs or is queued to run; that code would execute in freed memory. "
        "DriverUnload must stop what the driver started: signal its system threads and wait on their thread "
        "objects, and let its work items finish (IoQueueWorkItem keeps the driver until then; ExQueueWorkItem "
        "does not).{}",
        module->name, list);
    const void* routine = code.front().routine;
    end_code_in(module);  // it cannot run on: the image goes (or the machine stops) now
    if (at_shutdown) {
        sys->report({"CODE_RUNNING_AT_UNLOAD", text, ldr::describe_function(routine), {}});
        return;
    }
    bugcheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, reinterpret_cast<ULONG_PTR>(routine), 0,
             reinterpret_cast<ULONG_PTR>(routine), 0, nullptr, nullptr, text);
}

void end_code_in(const ldr::Module* module)
{
    System* sys = System::current();
    std::vector<Thread*> threads = ex::cancel_work_in(module);
    for (const ps::CodeInModule& code : ps::system_threads_running_in(module))
        threads.push_back(code.thread);
    for (Thread* thread : threads)
        if (thread->context != nullptr && thread->context != ke::Scheduler::current())
            sys->scheduler().terminate(static_cast<ke::Context*>(thread->context));
}

}  // namespace iosim::io

extern "C" {

ULONG IoSizeofWorkItem(void) { return sizeof(_IO_WORKITEM); }

PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    const void* caller = __builtin_return_address(0);
    if (DeviceObject == nullptr || !io::is_device(DeviceObject))
        invalid_object(nullptr, DeviceObject, caller, "IoAllocateWorkItem");
    void* memory = System::current()->pool().allocate(false, sizeof(_IO_WORKITEM), kPoolTag, caller, true);
    if (memory == nullptr)
        return nullptr;
    auto* item = static_cast<PIO_WORKITEM>(memory);
    initialize(item, DeviceObject, true);
    return item;
}

void IoInitializeWorkItem(PVOID IoObject, PIO_WORKITEM IoWorkItem)
{
    if (IoObject == nullptr || driver_of(IoObject) == nullptr)
        invalid_object(IoWorkItem, IoObject, __builtin_return_address(0), "IoInitializeWorkItem");
    initialize(IoWorkItem, IoObject, false);
}

void IoUninitializeWorkItem(PIO_WORKITEM IoWorkItem)
{
    retire(IoWorkItem, "IoUninitializeWorkItem", __builtin_return_address(0));
}

void IoFreeWorkItem(PIO_WORKITEM IoWorkItem)
{
    const void* caller = __builtin_return_address(0);
    retire(IoWorkItem, "IoFreeWorkItem", caller);
    System::current()->pool().free(IoWorkItem, kPoolTag, true, caller);
}

void IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine, WORK_QUEUE_TYPE QueueType,
                     PVOID Context)
{
    queue(IoWorkItem, WorkerRoutine, nullptr, QueueType, Context, "IoQueueWorkItem", __builtin_return_address(0));
}

void IoQueueWorkItemEx(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE_EX WorkerRoutine, WORK_QUEUE_TYPE QueueType,
                       PVOID Context)
{
    queue(IoWorkItem, nullptr, WorkerRoutine, QueueType, Context, "IoQueueWorkItemEx", __builtin_return_address(0));
}

}  // extern "C"
