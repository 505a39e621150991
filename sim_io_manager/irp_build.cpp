// irp_build.cpp - IRPs drivers build: the I/O manager's builders, IoReuseIrp and
// IoInitializeIrp, and how the I/O manager finishes what the builders made.
//
// Rules (as Windows documents them):
//  - Every builder allocates DeviceObject->StackSize locations, fills the first one for the
//    target (IoGetNextIrpStackLocation) and sets RequestorMode = KernelMode: the request
//    comes from a trusted kernel component, so the target skips user-buffer probing.
//  - Buffers follow the same rules the I/O manager applies for apps (transfer.cpp):
//    read/write by the target device's DO_BUFFERED_IO / DO_DIRECT_IO flags, device control
//    by the METHOD_ bits of the code. IRP_MJ_INTERNAL_DEVICE_CONTROL exists only here
//    (InternalDeviceIoControl = TRUE): an app's DeviceIoControl never produces it.
//  - IoBuildSynchronousFsdRequest and IoBuildDeviceIoControlRequest IRPs are queued to the
//    building thread ("threaded"). When their completion walk ends, the I/O manager copies
//    buffered output back, releases MDLs, writes *IoStatusBlock and sets the event (when
//    the status is not an error or the IRP was pended: a request that failed at once is
//    reported by IoCallDriver's return value alone), and frees the IRP. The driver must not
//    free it: IoFreeIrp on a threaded IRP is bug check 0xC9/0x02.
//  - IoBuildAsynchronousFsdRequest IRPs are not threaded: the driver's completion routine
//    releases an MDL (MmUnlockPages, IoFreeMdl), frees the IRP with IoFreeIrp and returns
//    STATUS_MORE_PROCESSING_REQUIRED. One whose walk ends anyway is finished like above.
//  - A buffer the builder cannot read or describe is Driver Verifier's 0xC9/0x08 (FSD
//    builders) or 0xC9/0x09 (device control).
//  - IoReuseIrp makes an IRP from IoAllocateIrp new again (same size and stack count,
//    IoStatus.Status = the given status). IoInitializeIrp sets up an IRP in a driver's own
//    memory (IoSizeOfIrp bytes); used on an IRP from IoAllocateIrp it is Verifier's warning
//    0x238 (reported as a finding; the IRP is reused instead).
// NT counterparts: IoBuildAsynchronousFsdRequest, IoBuildSynchronousFsdRequest,
// IoBuildDeviceIoControlRequest, IoReuseIrp, IoInitializeIrp, IopCompleteRequest.
#include "irp_build.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "device.h"
#include "ex/pool.h"
#include "irp.h"
#include "ke/bugcheck.h"
#include "ldr/symbolize.h"
#include "mdl.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

// The threaded IRPs (Windows keeps them on each thread's IrpList).
std::mutex g_threaded_lock;
std::vector<IRP*> g_threaded;

trace::Trace* active_trace()
{
    System* sys = System::current();
    return sys != nullptr && sys->trace().enabled() ? &sys->trace() : nullptr;
}

// A SystemBuffer, zeroed (see transfer.cpp: deterministic runs), with one spare zero byte.
void* allocate_system_buffer(size_t size) { return size == 0 ? nullptr : ex::allocate_system_buffer(size + 1); }

IRP* build(UCHAR major, DEVICE_OBJECT* device, IrpPrivate::Built kind, const char* builder, const void* caller)
{
    IRP* irp = allocate_irp(device->StackSize, false);
    IrpPrivate* priv = private_of(irp);
    priv->built = kind;
    irp->RequestorMode = KernelMode;
    irp->Tail.Overlay.Thread = reinterpret_cast<PETHREAD>(current_thread());
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = major;
    if (trace::Trace* t = active_trace())
        t->record(trace::Kind::Irp, priv->id,
                  fmt::format("IRP#{} allocated for {} ({} stack location{}) by {} at {}", priv->id, major_name(major),
                              static_cast<int>(irp->StackCount), irp->StackCount == 1 ? "" : "s", builder,
                              ldr::describe_call_site(caller)),
                  {.phase = trace::IrpPhase::Allocated, .major = major, .stack_count = irp->StackCount});
    return irp;
}

void queue_to_thread(IRP* irp)
{
    std::lock_guard guard(g_threaded_lock);
    g_threaded.push_back(irp);
}

void dequeue_from_thread(IRP* irp)
{
    std::lock_guard guard(g_threaded_lock);
    g_threaded.erase(std::remove(g_threaded.begin(), g_threaded.end(), irp), g_threaded.end());
}

// Gives `irp` a SystemBuffer of `size` bytes holding `input_length` bytes of `input`.
void buffer_irp(IRP* irp, size_t size, const void* input, ULONG input_length)
{
    if (size == 0)
        return;
    irp->AssociatedIrp.SystemBuffer = allocate_system_buffer(size);
    irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
    if (input != nullptr && input_length != 0)
        std::memcpy(irp->AssociatedIrp.SystemBuffer, input, input_length);
}

// An MDL for a kernel buffer, probed and locked in kernel mode.
void describe_with_mdl(IRP* irp, void* buffer, ULONG length, LOCK_OPERATION operation)
{
    PMDL mdl = IoAllocateMdl(buffer, length, FALSE, FALSE, irp);
    MmProbeAndLockPages(mdl, KernelMode, operation);
}

IRP* build_fsd(ULONG major, DEVICE_OBJECT* device, PVOID buffer, ULONG length, PLARGE_INTEGER offset,
               PIO_STATUS_BLOCK iosb, IrpPrivate::Built kind, const char* builder, const void* caller)
{
    bool transfer = major == IRP_MJ_READ || major == IRP_MJ_WRITE;
    if (!transfer && major != IRP_MJ_FLUSH_BUFFERS && major != IRP_MJ_SHUTDOWN && major != IRP_MJ_PNP &&
        major != IRP_MJ_POWER) {
        System::current()->report({"IRP_BUILDER_BAD_MAJOR",
                                   fmt::format("{} was asked for {}: it builds only IRP_MJ_READ, IRP_MJ_WRITE, "
                                               "IRP_MJ_FLUSH_BUFFERS, IRP_MJ_SHUTDOWN and IRP_MJ_PNP requests; no IRP "
                                               "was built (NULL returned).",
                                               builder, major_name(static_cast<UCHAR>(major))),
                                   ldr::describe_call_site(caller),
                                   {}});
        return nullptr;
    }
    if (transfer && length != 0 && buffer == nullptr)
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x08, reinterpret_cast<ULONG_PTR>(device), major,
                 static_cast<ULONG>(STATUS_ACCESS_VIOLATION), caller, nullptr,
                 fmt::format("{} was given a NULL buffer for a {}-byte {}: the I/O manager cannot copy or describe "
                             "it.",
                             builder, length, major_name(static_cast<UCHAR>(major))));
    IRP* irp = build(static_cast<UCHAR>(major), device, kind, builder, caller);
    irp->UserIosb = iosb;
    if (!transfer)
        return irp;
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    bool write = major == IRP_MJ_WRITE;
    // Parameters.Read and Parameters.Write share one layout.
    sp->Parameters.Read.Length = length;
    if (offset != nullptr)
        sp->Parameters.Read.ByteOffset = *offset;
    private_of(irp)->output_length = write ? 0 : length;
    if ((device->Flags & DO_BUFFERED_IO) != 0) {
        buffer_irp(irp, length, write ? buffer : nullptr, write ? length : 0);
        if (!write && length != 0) {
            irp->Flags |= IRP_INPUT_OPERATION;
            irp->UserBuffer = buffer;
        }
    } else if ((device->Flags & DO_DIRECT_IO) != 0) {
        if (length != 0)
            describe_with_mdl(irp, buffer, length, write ? IoReadAccess : IoWriteAccess);
    } else {
        irp->UserBuffer = buffer;
    }
    return irp;
}

}  // namespace

void finish_driver_built_irp(IRP* irp)
{
    IrpPrivate* priv = private_of(irp);
    NTSTATUS status = irp->IoStatus.Status;
    ULONG_PTR information = irp->IoStatus.Information;
    if ((irp->Flags & IRP_BUFFERED_IO) != 0) {
        if ((irp->Flags & IRP_INPUT_OPERATION) != 0 && !NT_ERROR(status) && irp->UserBuffer != nullptr &&
            irp->AssociatedIrp.SystemBuffer != nullptr) {
            ULONG_PTR count = information;
            if (count > priv->output_length) {
                System::current()->report(
                    {"IRP_INFORMATION_TOO_LARGE",
                     fmt::format("IRP#{} was completed with IoStatus.Information = {}, more than the {}-byte output "
                                 "buffer its builder was given. Windows would copy {} bytes and overrun it; iosim "
                                 "copied {}. Information must count the bytes actually returned.",
                                 priv->id, information, priv->output_length, information, priv->output_length),
                     "", irp_history_lines(irp)});
                count = priv->output_length;
            }
            if (count != 0)
                std::memcpy(irp->UserBuffer, irp->AssociatedIrp.SystemBuffer, count);
            add_history(irp, HistoryKind::CopiedBack, nullptr, status, count, nullptr);
            if (trace::Trace* t = active_trace())
                t->record(trace::Kind::Irp, priv->id,
                          fmt::format("IRP#{} I/O manager copied {} byte(s) from SystemBuffer to the builder's output "
                                      "buffer",
                                      priv->id, count),
                          {.phase = trace::IrpPhase::CopiedBack, .information = count});
        }
        if ((irp->Flags & IRP_DEALLOCATE_BUFFER) != 0)
            ex::free_system_buffer(irp->AssociatedIrp.SystemBuffer);
        irp->AssociatedIrp.SystemBuffer = nullptr;
    }
    if (irp->MdlAddress != nullptr)
        release_irp_mdls(irp);
    // The same rule as for a system service: an error that was not pended reaches the
    // caller through IoCallDriver's return value only.
    bool report = !NT_ERROR(status) || irp->PendingReturned;
    if (report) {
        if (irp->UserIosb != nullptr) {
            irp->UserIosb->Status = status;
            irp->UserIosb->Information = information;
        }
        if (irp->UserEvent != nullptr)
            KeSetEvent(irp->UserEvent, IO_NO_INCREMENT, FALSE);
    }
    if (trace::Trace* t = active_trace())
        t->record(trace::Kind::Irp, priv->id,
                  report ? fmt::format("IRP#{} I/O manager finished the driver-built IRP: {}{}{}", priv->id,
                                       status_text(status), irp->UserIosb != nullptr ? ", IO_STATUS_BLOCK written" : "",
                                       irp->UserEvent != nullptr ? ", event set" : "")
                         : fmt::format("IRP#{} I/O manager finished the driver-built IRP: {} at once, so neither the "
                                       "IO_STATUS_BLOCK nor the event is touched (IoCallDriver returned the status)",
                                       priv->id, status_text(status)));
    if (priv->built == IrpPrivate::kThreaded)
        dequeue_from_thread(irp);
    free_irp(irp);
}

void release_driver_built_irps()
{
    std::vector<IRP*> irps;
    {
        std::lock_guard guard(g_threaded_lock);
        irps.swap(g_threaded);
    }
    for (IRP* irp : irps) {
        if (!is_live_irp(irp))
            continue;
        if ((irp->Flags & IRP_DEALLOCATE_BUFFER) != 0)
            ex::free_system_buffer(irp->AssociatedIrp.SystemBuffer);
        if (irp->MdlAddress != nullptr)
            release_irp_mdls(irp);
        free_irp(irp);
    }
}

}  // namespace iosim::io

using namespace iosim;
using namespace iosim::io;

extern "C" {

PIRP IoBuildAsynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer, ULONG Length,
                                   PLARGE_INTEGER StartingOffset, PIO_STATUS_BLOCK IoStatusBlock)
{
    return build_fsd(MajorFunction, DeviceObject, Buffer, Length, StartingOffset, IoStatusBlock,
                     IrpPrivate::kAsynchronous, "IoBuildAsynchronousFsdRequest", __builtin_return_address(0));
}

PIRP IoBuildSynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer, ULONG Length,
                                  PLARGE_INTEGER StartingOffset, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    IRP* irp = build_fsd(MajorFunction, DeviceObject, Buffer, Length, StartingOffset, IoStatusBlock,
                         IrpPrivate::kThreaded, "IoBuildSynchronousFsdRequest", __builtin_return_address(0));
    if (irp == nullptr)
        return nullptr;
    irp->UserEvent = Event;
    queue_to_thread(irp);
    return irp;
}

PIRP IoBuildDeviceIoControlRequest(ULONG IoControlCode, PDEVICE_OBJECT DeviceObject, PVOID InputBuffer,
                                   ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength,
                                   BOOLEAN InternalDeviceIoControl, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    const void* caller = __builtin_return_address(0);
    ULONG method = METHOD_FROM_CTL_CODE(IoControlCode);
    bool bad_input = InputBuffer == nullptr && InputBufferLength != 0 && method != METHOD_NEITHER;
    bool bad_output = OutputBuffer == nullptr && OutputBufferLength != 0 && method != METHOD_NEITHER;
    if (bad_input || bad_output)
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x09, reinterpret_cast<ULONG_PTR>(DeviceObject), IoControlCode,
                 static_cast<ULONG>(STATUS_ACCESS_VIOLATION), caller, nullptr,
                 fmt::format("IoBuildDeviceIoControlRequest was given a NULL {} buffer with a length of {} for control "
                             "code 0x{:08X}: the I/O manager cannot copy or describe it.",
                             bad_input ? "input" : "output", bad_input ? InputBufferLength : OutputBufferLength,
                             IoControlCode));
    UCHAR major = InternalDeviceIoControl ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL;
    IRP* irp = build(major, DeviceObject, IrpPrivate::kThreaded, "IoBuildDeviceIoControlRequest", caller);
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->Parameters.DeviceIoControl.IoControlCode = IoControlCode;
    sp->Parameters.DeviceIoControl.InputBufferLength = InputBufferLength;
    sp->Parameters.DeviceIoControl.OutputBufferLength = OutputBufferLength;
    private_of(irp)->output_length = OutputBufferLength;
    switch (method) {
    case METHOD_BUFFERED:
        buffer_irp(irp, std::max(InputBufferLength, OutputBufferLength), InputBuffer, InputBufferLength);
        if (OutputBuffer != nullptr && OutputBufferLength != 0) {
            irp->Flags |= IRP_INPUT_OPERATION;
            irp->UserBuffer = OutputBuffer;
        }
        break;
    case METHOD_IN_DIRECT:
    case METHOD_OUT_DIRECT:
        buffer_irp(irp, InputBufferLength, InputBuffer, InputBufferLength);
        if (OutputBuffer != nullptr && OutputBufferLength != 0)
            describe_with_mdl(irp, OutputBuffer, OutputBufferLength,
                              method == METHOD_IN_DIRECT ? IoReadAccess : IoWriteAccess);
        break;
    case METHOD_NEITHER:
        sp->Parameters.DeviceIoControl.Type3InputBuffer = InputBuffer;
        irp->UserBuffer = OutputBuffer;
        break;
    }
    irp->UserIosb = IoStatusBlock;
    irp->UserEvent = Event;
    queue_to_thread(irp);
    return irp;
}

void IoReuseIrp(PIRP Irp, NTSTATUS Iostatus)
{
    const void* caller = __builtin_return_address(0);
    if (!is_live_irp(Irp))
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x01, reinterpret_cast<ULONG_PTR>(Irp), 0, 0, caller, nullptr,
                 "IoReuseIrp was given something that is not a live IRP (freed already, or never allocated).");
    IrpPrivate* priv = private_of(Irp);
    if (priv->io_manager_request || priv->built == IrpPrivate::kThreaded)
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x02, reinterpret_cast<ULONG_PTR>(Irp), 0, 0, caller, Irp,
                 "IoReuseIrp was called for an IRP queued to a thread (built by the I/O manager, "
                 "IoBuildSynchronousFsdRequest or IoBuildDeviceIoControlRequest): only IRPs the driver allocated "
                 "itself can be reused.");
    if (Irp->MdlAddress != nullptr) {
        System::current()->report(
            {"IRP_REUSED_WITH_MDL",
             fmt::format("IRP#{} was reused while Irp->MdlAddress still held an MDL: IoReuseIrp does not release it. "
                         "Unlock and free it first (MmUnlockPages, IoFreeMdl).",
                         priv->id),
             ldr::describe_call_site(caller), irp_history_lines(Irp)});
        release_irp_mdls(Irp);
    }
    if ((Irp->Flags & IRP_DEALLOCATE_BUFFER) != 0)
        ex::free_system_buffer(Irp->AssociatedIrp.SystemBuffer);
    // Like IoInitializeIrp with the IRP's own size and stack count, keeping how it was
    // allocated.
    UCHAR allocation = Irp->AllocationFlags;
    USHORT size = Irp->Size;
    CHAR stack_count = Irp->StackCount;
    std::memset(Irp, 0, sizeof(IRP) + stack_count * sizeof(IO_STACK_LOCATION));
    Irp->Type = IO_TYPE_IRP;
    Irp->Size = size;
    Irp->AllocationFlags = allocation;
    Irp->StackCount = stack_count;
    Irp->CurrentLocation = static_cast<CHAR>(stack_count + 1);
    Irp->Tail.Overlay.CurrentStackLocation = reinterpret_cast<IO_STACK_LOCATION*>(Irp + 1) + stack_count;
    InitializeListHead(&Irp->ThreadListEntry);
    Irp->IoStatus.Status = Iostatus;
    priv->completed = false;
    priv->built = IrpPrivate::kNotBuilt;
    priv->output_length = 0;
    add_history(Irp, HistoryKind::Initialized, nullptr, Iostatus, 0, caller);
}

void IoInitializeIrp(PIRP Irp, USHORT PacketSize, CCHAR StackSize)
{
    const void* caller = __builtin_return_address(0);
    System* sys = System::current();
    // Memory the driver allocated from pool is its own; an IRP iosim allocated carries
    // IRP_ALLOCATED_FIXED_SIZE and its bookkeeping just before it.
    bool in_pool = false;
    for (const ex::PoolBlock& block : sys->pool().outstanding_all()) {
        auto start = reinterpret_cast<uintptr_t>(block.address);
        auto p = reinterpret_cast<uintptr_t>(Irp);
        if (p >= start && p < start + block.size) {
            in_pool = true;
            break;
        }
    }
    if (!in_pool && (Irp->AllocationFlags & 0x04) != 0 && is_live_irp(Irp) && !private_of(Irp)->foreign) {
        sys->report({"IRP_INITIALIZED_AFTER_ALLOCATE",
                     fmt::format("IoInitializeIrp was called for IRP#{}, which came from IoAllocateIrp: that is "
                                 "illegal and unnecessary (Driver Verifier I/O error 0x238). To recycle an IRP, "
                                 "call IoReuseIrp; iosim reused it that way.",
                                 private_of(Irp)->id),
                     ldr::describe_call_site(caller), {}});
        IoReuseIrp(Irp, STATUS_SUCCESS);
        return;
    }
    if (StackSize < 1 || PacketSize < IoSizeOfIrp(StackSize))
        bugcheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x200, reinterpret_cast<ULONG_PTR>(Irp), PacketSize,
                 static_cast<ULONG_PTR>(StackSize), caller, nullptr,
                 fmt::format("IoInitializeIrp was asked to set up {} stack location(s) in {} bytes, but that needs "
                             "IoSizeOfIrp({}) = {} bytes: the IRP would run past the driver's memory.",
                             static_cast<int>(StackSize), PacketSize, static_cast<int>(StackSize),
                             IoSizeOfIrp(StackSize)));
    std::memset(Irp, 0, PacketSize);
    Irp->Type = IO_TYPE_IRP;
    Irp->Size = PacketSize;
    Irp->StackCount = StackSize;
    Irp->CurrentLocation = static_cast<CHAR>(StackSize + 1);
    Irp->Tail.Overlay.CurrentStackLocation = reinterpret_cast<IO_STACK_LOCATION*>(Irp + 1) + StackSize;
    InitializeListHead(&Irp->ThreadListEntry);
    adopt_foreign_irp(Irp, StackSize);
    add_history(Irp, HistoryKind::Initialized, nullptr, 0, 0, nullptr);
    private_of(Irp)->history[0].location = StackSize;
}

}  // extern "C"
