// irp.cpp - IRP allocation, history, IofCallDriver and IofCompleteRequest.
// NT counterparts: IoAllocateIrp, IoFreeIrp, IofCallDriver, IopfCompleteRequest.
#include "irp.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "crt/format.h"
#include "device.h"
#include "ex/pool.h"
#include "ke/bugcheck.h"
#include "ldr/symbolize.h"
#include "mdl.h"
#include "ps/process.h"
#include "request.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

// Small IRPs (the common case: a device stack of up to kCachedStack) are recycled
// through a per-host-thread cache, as Windows keeps per-processor IRP lookaside lists.
constexpr UCHAR kCachedStack = 8;
constexpr size_t kPrivateSize = (sizeof(IrpPrivate) + 15) & ~size_t{15};

std::atomic<uint64_t> g_next_irp_id{1};

// AllocationFlags bits (Windows' values): an IRP from IoAllocateIrp is fixed-size, and one
// from the per-processor lookaside list (iosim: the per-thread cache) says so too. An IRP a
// driver initialised in its own memory (IoInitializeIrp) has neither.
constexpr UCHAR kIrpAllocatedFixedSize = 0x04;
constexpr UCHAR kIrpLookasideAllocation = 0x08;

// Bookkeeping for IRPs iosim did not allocate (IoInitializeIrp on a driver's memory),
// keyed by address. An entry is reset when the same memory is initialised again.
std::mutex g_foreign_lock;
std::unordered_map<const IRP*, std::unique_ptr<IrpPrivate>> g_foreign;
IrpPrivate g_unknown_private{};  // what private_of gives for a pointer that is no IRP at all

size_t block_size(UCHAR capacity) { return kPrivateSize + sizeof(IRP) + capacity * sizeof(IO_STACK_LOCATION); }

struct IrpCache {
    std::vector<void*> blocks;
    ~IrpCache()
    {
        for (void* block : blocks)
            std::free(block);
    }
};
thread_local IrpCache t_cache;

IRP* irp_of(void* block) { return reinterpret_cast<IRP*>(static_cast<char*>(block) + kPrivateSize); }

const char* const kMajorNames[] = {
    "IRP_MJ_CREATE", "IRP_MJ_CREATE_NAMED_PIPE", "IRP_MJ_CLOSE", "IRP_MJ_READ", "IRP_MJ_WRITE",
    "IRP_MJ_QUERY_INFORMATION", "IRP_MJ_SET_INFORMATION", "IRP_MJ_QUERY_EA", "IRP_MJ_SET_EA",
    "IRP_MJ_FLUSH_BUFFERS", "IRP_MJ_QUERY_VOLUME_INFORMATION", "IRP_MJ_SET_VOLUME_INFORMATION",
    "IRP_MJ_DIRECTORY_CONTROL", "IRP_MJ_FILE_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CONTROL",
    "IRP_MJ_INTERNAL_DEVICE_CONTROL", "IRP_MJ_SHUTDOWN", "IRP_MJ_LOCK_CONTROL", "IRP_MJ_CLEANUP",
    "IRP_MJ_CREATE_MAILSLOT", "IRP_MJ_QUERY_SECURITY", "IRP_MJ_SET_SECURITY", "IRP_MJ_POWER",
    "IRP_MJ_SYSTEM_CONTROL", "IRP_MJ_DEVICE_CHANGE", "IRP_MJ_QUERY_QUOTA", "IRP_MJ_SET_QUOTA", "IRP_MJ_PNP",
};

trace::Trace* active_trace()
{
    System* sys = System::current();
    return sys != nullptr && sys->trace().enabled() ? &sys->trace() : nullptr;
}

std::vector<std::string> format_history(void* irp_pointer)
{
    auto* irp = static_cast<IRP*>(irp_pointer);
    std::vector<std::string> lines;
    if (irp == nullptr)
        return lines;
    IrpPrivate* priv = private_of(irp);
    if (priv->magic != IrpPrivate::kLive && priv->magic != IrpPrivate::kFreed)
        return lines;
    uint32_t count = priv->history_count;
    uint32_t first = count > IrpPrivate::kHistorySize ? count - IrpPrivate::kHistorySize : 0;
    if (first > 0)
        lines.push_back(fmt::format("({} earlier events not kept)", first));
    for (uint32_t i = first; i < count; ++i) {
        const HistoryEntry& e = priv->history[i % IrpPrivate::kHistorySize];
        std::string line = fmt::format("IRP#{} ", priv->id);
        switch (e.kind) {
        case HistoryKind::Allocated:
            line += fmt::format("allocated with {} stack location(s)", static_cast<int>(e.location));
            break;
        case HistoryKind::Dispatched:
            line += fmt::format("{} sent to {} at stack location {} by {}", major_name(e.major), device_name(e.device),
                                static_cast<int>(e.location),
                                e.where != nullptr ? ldr::describe_call_site(e.where) : std::string("the I/O manager"));
            break;
        case HistoryKind::Returned:
            line += fmt::format("dispatch routine of {} returned {}", device_name(e.device), status_text(e.status));
            break;
        case HistoryKind::Completed:
            line += fmt::format("completed with {}, Information {} at {}", status_text(e.status), e.information,
                                ldr::describe_call_site(e.where));
            break;
        case HistoryKind::CompletionRoutine:
            line += fmt::format("completion routine {} returned {}", ldr::describe_function(e.where), status_text(e.status));
            break;
        case HistoryKind::MoreProcessing:
            line += fmt::format("completion routine {} kept the IRP (STATUS_MORE_PROCESSING_REQUIRED)",
                                ldr::describe_function(e.where));
            break;
        case HistoryKind::CopiedBack:
            line += fmt::format("{} byte(s) copied back to the caller's buffer", e.information);
            break;
        case HistoryKind::Freed:
            line += "freed";
            break;
        case HistoryKind::Initialized:
            line += e.status != 0 || e.where != nullptr
                        ? fmt::format("reused (IoReuseIrp) with status {} at {}", status_text(e.status),
                                      ldr::describe_call_site(e.where))
                        : fmt::format("initialized by IoInitializeIrp in the driver's memory with {} stack location(s)",
                                      static_cast<int>(e.location));
            break;
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

}  // namespace

const char* major_name(UCHAR major)
{
    return major <= IRP_MJ_MAXIMUM_FUNCTION ? kMajorNames[major] : "IRP_MJ_(invalid)";
}

IrpPrivate* private_of(const IRP* irp)
{
    if ((irp->AllocationFlags & kIrpAllocatedFixedSize) != 0) [[likely]]
        return reinterpret_cast<IrpPrivate*>(reinterpret_cast<char*>(const_cast<IRP*>(irp)) - kPrivateSize);
    std::lock_guard guard(g_foreign_lock);
    auto it = g_foreign.find(irp);
    if (it != g_foreign.end())
        return it->second.get();
    g_unknown_private.magic = 0;
    return &g_unknown_private;
}

IrpPrivate* adopt_foreign_irp(IRP* irp, CCHAR stack_size)
{
    std::lock_guard guard(g_foreign_lock);
    auto& slot = g_foreign[irp];
    if (slot == nullptr)
        slot = std::make_unique<IrpPrivate>();
    IrpPrivate* priv = slot.get();
    *priv = IrpPrivate{};
    priv->magic = IrpPrivate::kLive;
    priv->capacity = static_cast<UCHAR>(stack_size);
    priv->foreign = true;
    priv->id = g_next_irp_id.fetch_add(1, std::memory_order_relaxed);
    return priv;
}

bool is_live_irp(const IRP* irp) { return irp != nullptr && private_of(irp)->magic == IrpPrivate::kLive; }

IRP* allocate_irp(CCHAR stack_size, bool io_manager_request)
{
    UCHAR wanted = stack_size <= 0 ? 1 : static_cast<UCHAR>(stack_size);
    void* block = nullptr;
    bool cached = wanted <= kCachedStack;
    UCHAR capacity = cached ? kCachedStack : wanted;
    if (cached && !t_cache.blocks.empty()) {
        block = t_cache.blocks.back();
        t_cache.blocks.pop_back();
    } else {
        block = std::malloc(block_size(capacity));
    }
    auto* priv = static_cast<IrpPrivate*>(block);
    priv->magic = IrpPrivate::kLive;
    priv->capacity = capacity;
    priv->completed = false;
    priv->io_manager_request = io_manager_request;
    priv->from_cache = cached;
    priv->abandoned = false;
    priv->built = IrpPrivate::kNotBuilt;
    priv->foreign = false;
    priv->output_length = 0;
    priv->outstanding = false;
    priv->file_referenced = false;
    priv->event_referenced = false;
    priv->cancel_requested = false;
    priv->id = g_next_irp_id.fetch_add(1, std::memory_order_relaxed);
    priv->history_count = 0;
    priv->request = nullptr;

    IRP* irp = irp_of(block);
    std::memset(irp, 0, sizeof(IRP) + wanted * sizeof(IO_STACK_LOCATION));
    irp->Type = IO_TYPE_IRP;
    irp->AllocationFlags = kIrpAllocatedFixedSize | (cached ? kIrpLookasideAllocation : 0);
    irp->Size = static_cast<USHORT>(IoSizeOfIrp(wanted));
    irp->StackCount = static_cast<CHAR>(wanted);
    irp->CurrentLocation = static_cast<CHAR>(wanted + 1);
    irp->Tail.Overlay.CurrentStackLocation = reinterpret_cast<IO_STACK_LOCATION*>(irp + 1) + wanted;
    InitializeListHead(&irp->ThreadListEntry);
    add_history(irp, HistoryKind::Allocated, nullptr, 0, 0, nullptr);
    private_of(irp)->history[0].location = static_cast<CHAR>(wanted);
    return irp;
}

void free_irp(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    add_history(irp, HistoryKind::Freed, nullptr, 0, 0, nullptr);
    if (trace::Trace* t = active_trace())
        t->record(trace::Kind::Irp, priv->id, fmt::format("IRP#{} freed", priv->id),
                  {.phase = trace::IrpPhase::Freed});
    priv->magic = IrpPrivate::kFreed;
    irp->Type = 0;
    if (priv->from_cache && t_cache.blocks.size() < 64)
        t_cache.blocks.push_back(priv);
    else
        std::free(priv);
}

void add_history(IRP* irp, HistoryKind kind, DEVICE_OBJECT* device, NTSTATUS status, ULONG_PTR information,
                 const void* where)
{
    IrpPrivate* priv = private_of(irp);
    HistoryEntry& e = priv->history[priv->history_count % IrpPrivate::kHistorySize];
    priv->history_count++;
    e.kind = kind;
    IO_STACK_LOCATION* sp = irp->Tail.Overlay.CurrentStackLocation;
    bool valid_sp = irp->CurrentLocation >= 1 && irp->CurrentLocation <= irp->StackCount;
    e.major = valid_sp ? sp->MajorFunction : 0;
    e.location = irp->CurrentLocation;
    e.status = status;
    e.information = information;
    e.device = device;
    e.where = where;
}

std::string device_name(DEVICE_OBJECT* device)
{
    if (device == nullptr)
        return "(no device)";
    // A deleted device has left the namespace; its name is remembered for reports.
    std::u16string name = ob::header_of(device)->parent != nullptr ? ob::full_name(device)
                                                                   : std::u16string(device_private(device)->last_name);
    std::string out = crt::to_utf8(name);
    if (out.empty())
        out = fmt::format("(unnamed device of {})", driver_name(device->DriverObject));
    return out;
}

std::string driver_name(DRIVER_OBJECT* driver)
{
    if (driver == nullptr)
        return "(no driver)";
    return crt::to_utf8(std::u16string_view(reinterpret_cast<const char16_t*>(driver->DriverName.Buffer),
                                            driver->DriverName.Length / sizeof(WCHAR)));
}

NTSTATUS call_driver(DEVICE_OBJECT* device, IRP* irp, const void* caller)
{
    if (irp->Type != IO_TYPE_IRP || !is_live_irp(irp))
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x03, reinterpret_cast<ULONG_PTR>(irp), 0, 0, caller, nullptr,
                 "IoCallDriver was given an IRP whose Type is not IO_TYPE_IRP: it was freed already, or it is memory "
                 "that IoAllocateIrp / IoInitializeIrp never set up.");
    irp->CurrentLocation--;
    if (irp->CurrentLocation <= 0) {
        irp->CurrentLocation++;
        bugcheck(NO_MORE_IRP_STACK_LOCATIONS, reinterpret_cast<ULONG_PTR>(irp), 0, 0, 0, caller, irp,
                 fmt::format("IoCallDriver was asked to send the IRP on to {}, but the IRP has no stack location left "
                             "for it: it was allocated with {} location(s). A driver that passes an IRP down must use "
                             "a device stack whose StackSize counts every layer (or allocate a new IRP).",
                             device_name(device), static_cast<int>(irp->StackCount)));
    }
    irp->Tail.Overlay.CurrentStackLocation--;
    IO_STACK_LOCATION* sp = irp->Tail.Overlay.CurrentStackLocation;
    sp->DeviceObject = device;
    UCHAR major = sp->MajorFunction;
    PDRIVER_DISPATCH dispatch = device->DriverObject->MajorFunction[major];
    KIRQL irql_before = KeGetCurrentIrql();
    if (System* sys = System::current())
        sys->scheduler().preemption_point("IoCallDriver", irql_before);
    add_history(irp, HistoryKind::Dispatched, device, 0, 0, caller);
    IrpPrivate* priv = private_of(irp);
    uint64_t id = priv->id;
    NTSTATUS status;
    {
        // The thread is "inside the driver" from here on, so the Dispatched event (and a
        // breakpoint or step stopped at it) already finds this IRP on the thread (!irp).
        DriverCallScope scope("dispatch", reinterpret_cast<const void*>(dispatch), irp);
        if (trace::Trace* t = active_trace()) {
            trace::IrpInfo info{.phase = trace::IrpPhase::Dispatched,
                                .major = major,
                                .location = irp->CurrentLocation,
                                .stack_count = irp->StackCount,
                                .device = device_name(device),
                                .driver = driver_name(device->DriverObject),
                                .routine = ldr::describe_function(reinterpret_cast<const void*>(dispatch))};
            std::string text = fmt::format("IRP#{} {} -> {} [{}] stack location {} of {}: {}", id, major_name(major),
                                           info.device, info.driver, info.location, info.stack_count, info.routine);
            t->record(trace::Kind::Irp, id, std::move(text), std::move(info));
        }
        status = dispatch(device, irp);
    }
    // Driver Verifier's I/O verification: a dispatch routine returns at the IRQL it was
    // called at (the IrqlReturn rule). NT counterpart: IovCallDriver's check.
    if (KIRQL irql_after = KeGetCurrentIrql(); irql_after != irql_before) {
        // The report stops the machine; put the thread back at its IRQL so the teardown that
        // follows (threads ending, pool checks) runs at the level it expects.
        if (Thread* thread = current_thread())
            thread->irql = irql_before;
        const ULONG_PTR parameters[4] = {0x05, reinterpret_cast<ULONG_PTR>(device), irql_before, irql_after};
        // `where` is the dispatch routine itself (not a return address): the report names it.
        raise_bugcheck(make_bugcheck_report(
            DRIVER_VERIFIER_IOMANAGER_VIOLATION, parameters, reinterpret_cast<const void*>(dispatch), false,
            priv->magic == IrpPrivate::kLive && priv->id == id ? irp : nullptr,
            fmt::format("The {} dispatch routine of {} was called at IRQL {} and returned at IRQL {}. A dispatch "
                        "routine must return at the IRQL it was called at: every KeRaiseIrql, KeAcquireSpinLock "
                        "or ExAcquireFastMutex on its way needs its matching lower or release before it returns.",
                        major_name(major), device_name(device), static_cast<int>(irql_before),
                        static_cast<int>(irql_after))));
    }
    if (trace::Trace* t = active_trace()) {
        trace::IrpInfo info{.phase = trace::IrpPhase::Returned, .major = major, .status = status,
                            .device = device_name(device), .driver = driver_name(device->DriverObject)};
        std::string text = fmt::format("IRP#{} dispatch routine of {} returned {}", id, info.device, status_text(status));
        t->record(trace::Kind::Irp, id, std::move(text), std::move(info));
    }
    // The IRP may be gone already (completed and freed): touch it only if still live.
    if (priv->magic == IrpPrivate::kLive && priv->id == id)
        add_history(irp, HistoryKind::Returned, device, status, 0, reinterpret_cast<const void*>(dispatch));
    return status;
}

std::vector<std::string> irp_history_lines(IRP* irp) { return format_history(irp); }

void reset_irp_numbers() { g_next_irp_id.store(1, std::memory_order_relaxed); }

void install_irp_reporting() { set_irp_history_formatter(&format_history); }

}  // namespace iosim::io

using namespace iosim;
using namespace iosim::io;

extern "C" {

NTSTATUS IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    return call_driver(DeviceObject, Irp, __builtin_return_address(0));
}

void IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    const void* caller = __builtin_return_address(0);
    if (System* sys = System::current())
        sys->scheduler().preemption_point("IoCompleteRequest", KeGetCurrentIrql());
    IrpPrivate* priv = private_of(Irp);
    if (priv->magic == IrpPrivate::kFreed || priv->completed || Irp->CurrentLocation > Irp->StackCount + 1)
        bugcheck(MULTIPLE_IRP_COMPLETE_REQUESTS, reinterpret_cast<ULONG_PTR>(Irp), 0, 0, 0, caller, Irp,
                 "IoCompleteRequest was called for an IRP that was already completed. After IoCompleteRequest the IRP "
                 "belongs to the I/O manager again: complete each IRP exactly once, and do not touch it afterwards.");
    if (Irp->IoStatus.Status == STATUS_PENDING)
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x06, static_cast<ULONG_PTR>(static_cast<ULONG>(Irp->IoStatus.Status)),
                 reinterpret_cast<ULONG_PTR>(Irp), 0, caller, Irp,
                 "IoCompleteRequest was called with IoStatus.Status == STATUS_PENDING. Set the final status before "
                 "completing; STATUS_PENDING is only ever a dispatch routine's return value.");
    if (Irp->CancelRoutine != nullptr)
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x07, reinterpret_cast<ULONG_PTR>(Irp->CancelRoutine),
                 reinterpret_cast<ULONG_PTR>(Irp), 0, caller, Irp,
                 "IoCompleteRequest was called while the IRP still has a cancel routine set. Clear it with "
                 "IoSetCancelRoutine(Irp, NULL) before completing.");
    priv->completed = true;
    add_history(Irp, HistoryKind::Completed, nullptr, Irp->IoStatus.Status, Irp->IoStatus.Information, caller);
    if (trace::Trace* t = active_trace()) {
        IO_STACK_LOCATION* sp = Irp->Tail.Overlay.CurrentStackLocation;
        bool in_stack = Irp->CurrentLocation >= 1 && Irp->CurrentLocation <= Irp->StackCount;
        trace::IrpInfo info{.phase = trace::IrpPhase::Completed,
                            .major = in_stack ? sp->MajorFunction : UCHAR{0},
                            .location = Irp->CurrentLocation,
                            .stack_count = Irp->StackCount,
                            .status = Irp->IoStatus.Status,
                            .information = Irp->IoStatus.Information,
                            .device = in_stack ? device_name(sp->DeviceObject) : std::string(),
                            .driver = in_stack && sp->DeviceObject != nullptr ? driver_name(sp->DeviceObject->DriverObject)
                                                                              : std::string(),
                            .routine = ldr::describe_call_site(caller)};
        std::string text = fmt::format("IRP#{} completed: {}, Information {} ({})", priv->id,
                                       status_text(Irp->IoStatus.Status), Irp->IoStatus.Information, info.routine);
        t->record(trace::Kind::Irp, priv->id, std::move(text), std::move(info));
    }

    // Walk back up the stack, running completion routines as their invoke flags ask.
    while (Irp->CurrentLocation <= Irp->StackCount) {
        IO_STACK_LOCATION* sp = Irp->Tail.Overlay.CurrentStackLocation;
        Irp->PendingReturned = (sp->Control & SL_PENDING_RETURNED) != 0;
        UCHAR control = sp->Control;
        PIO_COMPLETION_ROUTINE routine = sp->CompletionRoutine;
        PVOID context = sp->Context;
        // Move up one location before calling, so the routine sees its own as current.
        Irp->CurrentLocation++;
        Irp->Tail.Overlay.CurrentStackLocation++;
        NTSTATUS status = Irp->IoStatus.Status;
        bool invoke = routine != nullptr &&
                      ((NT_SUCCESS(status) && (control & SL_INVOKE_ON_SUCCESS)) ||
                       (!NT_SUCCESS(status) && (control & SL_INVOKE_ON_ERROR)) ||
                       (Irp->Cancel && (control & SL_INVOKE_ON_CANCEL)));
        sp->Control = 0;
        sp->CompletionRoutine = nullptr;
        sp->Context = nullptr;
        if (invoke) {
            DEVICE_OBJECT* device = Irp->CurrentLocation <= Irp->StackCount
                                        ? Irp->Tail.Overlay.CurrentStackLocation->DeviceObject
                                        : nullptr;
            NTSTATUS result;
            {
                DriverCallScope scope("completion routine", reinterpret_cast<const void*>(routine), Irp);
                result = routine(device, Irp, context);
            }
            if (result == STATUS_MORE_PROCESSING_REQUIRED) {
                if (is_live_irp(Irp)) {
                    priv->completed = false;  // the driver owns it again and may complete it later
                    add_history(Irp, HistoryKind::MoreProcessing, device, result, 0, reinterpret_cast<const void*>(routine));
                }
                if (trace::Trace* t = active_trace())
                    t->record(trace::Kind::Irp, priv->id,
                              fmt::format("IRP#{} completion routine {} kept the IRP (STATUS_MORE_PROCESSING_REQUIRED)",
                                          priv->id, ldr::describe_function(reinterpret_cast<const void*>(routine))),
                              {.phase = trace::IrpPhase::CompletionRoutine,
                               .status = result,
                               .device = device_name(device),
                               .routine = ldr::describe_function(reinterpret_cast<const void*>(routine))});
                return;
            }
            add_history(Irp, HistoryKind::CompletionRoutine, device, result, 0, reinterpret_cast<const void*>(routine));
            // The rule for a routine that lets completion go on: if a lower driver pended
            // the IRP (PendingReturned), mark it pending at this level too, or the layers
            // above and the I/O manager lose track that it was pended (Verifier I/O error
            // 0x228, non-fatal).
            if (Irp->PendingReturned && Irp->CurrentLocation <= Irp->StackCount &&
                (Irp->Tail.Overlay.CurrentStackLocation->Control & SL_PENDING_RETURNED) == 0)
                System::current()->report(
                    {"PENDING_NOT_PROPAGATED",
                     fmt::format("IRP#{}: the completion routine {} ran with Irp->PendingReturned set and returned {} "
                                 "without calling IoMarkIrpPending. A completion routine that does not return "
                                 "STATUS_MORE_PROCESSING_REQUIRED must do \"if (Irp->PendingReturned) "
                                 "IoMarkIrpPending(Irp);\" (Driver Verifier I/O error 0x228).",
                                 priv->id, ldr::describe_function(reinterpret_cast<const void*>(routine)),
                                 status_text(result)),
                     ldr::describe_function(reinterpret_cast<const void*>(routine)), irp_history_lines(Irp)});
            if (trace::Trace* t = active_trace()) {
                trace::IrpInfo info{.phase = trace::IrpPhase::CompletionRoutine,
                                    .status = result,
                                    .device = device_name(device),
                                    .driver = device != nullptr ? driver_name(device->DriverObject) : std::string(),
                                    .routine = ldr::describe_function(reinterpret_cast<const void*>(routine))};
                std::string text = fmt::format("IRP#{} completion routine {} of {} returned {}", priv->id, info.routine,
                                               info.device, status_text(result));
                t->record(trace::Kind::Irp, priv->id, std::move(text), std::move(info));
            }
        } else if (Irp->PendingReturned && Irp->CurrentLocation <= Irp->StackCount) {
            IoMarkIrpPending(Irp);
        }
    }
    complete_for_requester(Irp);
}

PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota) { return allocate_irp(StackSize, false); }

void IoFreeIrp(PIRP Irp)
{
    const void* caller = __builtin_return_address(0);
    if (!is_live_irp(Irp))
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x01, reinterpret_cast<ULONG_PTR>(Irp), 0, 0, caller, nullptr,
                 "IoFreeIrp was given something that is not a live IRP (freed already, or never allocated by "
                 "IoAllocateIrp).");
    IrpPrivate* priv = private_of(Irp);
    if (priv->io_manager_request || priv->built == IrpPrivate::kThreaded)
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x02, reinterpret_cast<ULONG_PTR>(Irp), 0, 0, caller, Irp,
                 priv->io_manager_request
                     ? "IoFreeIrp was called for an IRP the I/O manager built for a system service: it is still queued "
                       "to the requesting thread, and the I/O manager frees it when it is completed. A driver frees "
                       "only the IRPs it allocated (IoAllocateIrp, IoBuildAsynchronousFsdRequest)."
                     : "IoFreeIrp was called for an IRP from IoBuildSynchronousFsdRequest or "
                       "IoBuildDeviceIoControlRequest: it is queued to the thread that built it, and the I/O manager "
                       "frees it after IoCompleteRequest. Complete it (again, if a completion routine kept it with "
                       "STATUS_MORE_PROCESSING_REQUIRED) instead of freeing it.");
    if (priv->foreign)
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x01, reinterpret_cast<ULONG_PTR>(Irp), 0, 0, caller, Irp,
                 "IoFreeIrp was called for an IRP set up with IoInitializeIrp in the driver's own memory: IoFreeIrp "
                 "releases only IRPs from IoAllocateIrp or IoBuildAsynchronousFsdRequest. Free that memory the way it "
                 "was allocated (ExFreePool).");
    if (Irp->MdlAddress != nullptr) {
        // IoFreeIrp does not free MDLs on Windows: they stay locked and allocated for ever.
        System::current()->report(
            {"IRP_FREED_WITH_MDL",
             fmt::format("IRP#{} was freed while Irp->MdlAddress still held an MDL: IoFreeIrp does not release it. "
                         "Unlock and free it first (MmUnlockPages, IoFreeMdl) - for an IRP from "
                         "IoBuildAsynchronousFsdRequest on a DO_DIRECT_IO device, in the completion routine.",
                         priv->id),
             ldr::describe_call_site(caller), irp_history_lines(Irp)});
        release_irp_mdls(Irp);
    }
    if ((Irp->Flags & IRP_DEALLOCATE_BUFFER) != 0) {
        // A SystemBuffer the I/O manager allocated (nonpaged pool, tracked apart from drivers' blocks).
        ex::free_system_buffer(Irp->AssociatedIrp.SystemBuffer);
        Irp->AssociatedIrp.SystemBuffer = nullptr;
    }
    free_irp(Irp);
}

}  // extern "C"
