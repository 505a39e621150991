// startio.cpp - system-queued StartIo: IoStartPacket, IoStartNextPacket,
// IoStartNextPacketByKey, IoSetStartIoAttributes.
//
// A driver that sets DriverObject->DriverStartIo lets the I/O manager serialise its IRPs:
// the dispatch routine marks the IRP pending and calls IoStartPacket; when the device is
// idle, StartIo gets the IRP at once, otherwise it waits in DeviceObject->DeviceQueue
// (through Irp->Tail.Overlay.DeviceQueueEntry). Whoever finishes the current IRP (often a
// DPC) calls IoStartNextPacket(ByKey), which hands the next one to StartIo or marks the
// device idle. Windows' rules kept (WDK: IoStartPacket, IoStartNextPacket(ByKey),
// IoSetStartIoAttributes, "Writing a StartIo Routine"):
//  - StartIo runs at DISPATCH_LEVEL: IoStartPacket raises to it; IoStartNextPacket is
//    called there. DeviceObject->CurrentIrp is the IRP StartIo works on (NULL when idle).
//  - IoStartPacket's CancelFunction is set as the IRP's cancel routine under the cancel spin
//    lock; an IRP already cancelled when it is queued gets that routine called at once
//    (with the cancel spin lock held, as IoCancelIrp would). IoStartNextPacket(Dev, TRUE)
//    takes the next IRP under the cancel spin lock.
//  - IoSetStartIoAttributes(NonCancelable = TRUE): an IRP handed to StartIo loses its cancel
//    routine, so it can no longer be cancelled. DeferredStartIo = TRUE: IoStartNextPacket
//    called inside StartIo does not call StartIo again (no recursion); the next packet is
//    started when the current StartIo call returns.
//  - With a key, packets are kept in ascending key order and IoStartNextPacketByKey takes
//    the first with a key >= the given one (KeRemoveByKeyDeviceQueue).
// NT counterparts: IoStartPacket, IoStartNextPacket, IoStartNextPacketByKey,
// IopStartNextPacket, IoSetStartIoAttributes (DEVOBJ_EXTENSION.StartIoFlags).
#include <fmt/format.h>

#include "device.h"
#include "driver.h"
#include "irp.h"
#include "ke/irql.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"

using namespace iosim;

namespace {

// StartIoFlags bits (iosim's; Windows keeps similar DOE_SIO_* bits there).
constexpr ULONG kDeferred = 0x1;           // IoSetStartIoAttributes(DeferredStartIo = TRUE)
constexpr ULONG kNonCancelable = 0x2;      // IoSetStartIoAttributes(NonCancelable = TRUE)
constexpr ULONG kNextPending = 0x10;       // a deferred IoStartNextPacket(ByKey) waits
constexpr ULONG kNextCancelable = 0x20;    //   ... with Cancelable = TRUE
constexpr ULONG kNextByKey = 0x40;         //   ... by key (StartIoKey)

void trace_irp(PIRP irp, const std::string& text)
{
    System* sys = System::current();
    if (sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Irp, io::private_of(irp)->id,
                            fmt::format("IRP#{} {}", io::private_of(irp)->id, text));
}

void start_next(PDEVICE_OBJECT device, bool cancelable, bool by_key, ULONG key);

// Calls the driver's StartIo for `irp`; afterwards starts a packet whose start was deferred.
void call_start_io(PDEVICE_OBJECT device, PIRP irp)
{
    _DEVOBJ_EXTENSION* ext = io::device_private(device);
    PDRIVER_STARTIO routine = device->DriverObject->DriverStartIo;
    if (routine == nullptr) {
        System::current()->report(
            {"STARTIO_MISSING",
             fmt::format("IRP#{} was given to the StartIo routine of {}, but {} set no DriverObject->DriverStartIo: "
                         "IoStartPacket and IoStartNextPacket are only for drivers that have one. The IRP is "
                         "completed with STATUS_INVALID_DEVICE_REQUEST.",
                         io::private_of(irp)->id, io::device_name(device), io::driver_name(device->DriverObject)),
             "", {}});
        device->CurrentIrp = nullptr;
        irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
        irp->IoStatus.Information = 0;
        IoSetCancelRoutine(irp, nullptr);
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return;
    }
    trace_irp(irp, fmt::format("StartIo {} at DISPATCH_LEVEL",
                               ldr::describe_function(reinterpret_cast<const void*>(routine))));
    ++ext->StartIoCount;
    {
        DriverCallScope scope("StartIo routine", reinterpret_cast<const void*>(routine), irp);
        routine(device, irp);
    }
    --ext->StartIoCount;
    // The outermost StartIo call returned: start what IoStartNextPacket deferred meanwhile.
    while (ext->StartIoCount == 0 && (ext->StartIoFlags & kNextPending) != 0) {
        ULONG flags = ext->StartIoFlags;
        ext->StartIoFlags &= ~(kNextPending | kNextCancelable | kNextByKey);
        start_next(device, (flags & kNextCancelable) != 0, (flags & kNextByKey) != 0, ext->StartIoKey);
    }
}

void start_next(PDEVICE_OBJECT device, bool cancelable, bool by_key, ULONG key)
{
    _DEVOBJ_EXTENSION* ext = io::device_private(device);
    KIRQL cancel_irql = PASSIVE_LEVEL;
    if (cancelable)
        IoAcquireCancelSpinLock(&cancel_irql);
    device->CurrentIrp = nullptr;
    PKDEVICE_QUEUE_ENTRY entry =
        by_key ? KeRemoveByKeyDeviceQueue(&device->DeviceQueue, key) : KeRemoveDeviceQueue(&device->DeviceQueue);
    if (entry == nullptr) {
        if (cancelable)
            IoReleaseCancelSpinLock(cancel_irql);
        return;  // the queue is empty and no longer busy: the device is idle
    }
    PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.DeviceQueueEntry);
    device->CurrentIrp = irp;
    if ((ext->StartIoFlags & kNonCancelable) != 0)
        IoSetCancelRoutine(irp, nullptr);
    if (cancelable)
        IoReleaseCancelSpinLock(cancel_irql);
    trace_irp(irp, by_key ? fmt::format("taken from the device queue by IoStartNextPacketByKey (key {})", key)
                          : std::string("taken from the device queue by IoStartNextPacket"));
    call_start_io(device, irp);
}

void next_packet(PDEVICE_OBJECT device, bool cancelable, bool by_key, ULONG key)
{
    _DEVOBJ_EXTENSION* ext = io::device_private(device);
    if ((ext->StartIoFlags & kDeferred) != 0 && ext->StartIoCount > 0) {
        ext->StartIoFlags |= kNextPending | (cancelable ? kNextCancelable : 0) | (by_key ? kNextByKey : 0);
        ext->StartIoKey = key;
        return;  // started when the current StartIo call returns
    }
    start_next(device, cancelable, by_key, key);
}

}  // namespace

extern "C" {

void IoStartPacket(PDEVICE_OBJECT DeviceObject, PIRP Irp, PULONG Key, PDRIVER_CANCEL CancelFunction)
{
    KIRQL old_irql = iosim::ke::raise_irql(DISPATCH_LEVEL, "IoStartPacket", __builtin_return_address(0));
    KIRQL cancel_irql = DISPATCH_LEVEL;
    if (CancelFunction != nullptr) {
        IoAcquireCancelSpinLock(&cancel_irql);
        IoSetCancelRoutine(Irp, CancelFunction);
    }
    PKDEVICE_QUEUE_ENTRY entry = &Irp->Tail.Overlay.DeviceQueueEntry;
    BOOLEAN queued = Key != nullptr ? KeInsertByKeyDeviceQueue(&DeviceObject->DeviceQueue, entry, *Key)
                                    : KeInsertDeviceQueue(&DeviceObject->DeviceQueue, entry);
    if (!queued) {
        DeviceObject->CurrentIrp = Irp;
        if (CancelFunction != nullptr) {
            if ((io::device_private(DeviceObject)->StartIoFlags & kNonCancelable) != 0)
                IoSetCancelRoutine(Irp, nullptr);
            IoReleaseCancelSpinLock(cancel_irql);
        }
        trace_irp(Irp, "IoStartPacket: the device is idle, StartIo gets it now");
        call_start_io(DeviceObject, Irp);
    } else {
        trace_irp(Irp, Key != nullptr ? fmt::format("IoStartPacket: the device is busy, queued in its device queue "
                                                    "(key {})",
                                                    *Key)
                                      : std::string("IoStartPacket: the device is busy, queued in its device queue"));
        if (CancelFunction != nullptr) {
            // Cancelled before its cancel routine was set: nobody else will call it.
            if (Irp->Cancel && IoSetCancelRoutine(Irp, nullptr) != nullptr) {
                Irp->CancelIrql = cancel_irql;
                trace_irp(Irp, "was already cancelled: IoStartPacket calls its cancel routine");
                DriverCallScope scope("cancel routine", reinterpret_cast<const void*>(CancelFunction), Irp);
                CancelFunction(DeviceObject, Irp);  // releases the cancel spin lock
            } else {
                IoReleaseCancelSpinLock(cancel_irql);
            }
        }
    }
    iosim::ke::lower_irql(old_irql, "IoStartPacket", __builtin_return_address(0));
}

void IoStartNextPacket(PDEVICE_OBJECT DeviceObject, BOOLEAN Cancelable)
{
    next_packet(DeviceObject, Cancelable != FALSE, false, 0);
}

void IoStartNextPacketByKey(PDEVICE_OBJECT DeviceObject, BOOLEAN Cancelable, ULONG Key)
{
    next_packet(DeviceObject, Cancelable != FALSE, true, Key);
}

void IoSetStartIoAttributes(PDEVICE_OBJECT DeviceObject, BOOLEAN DeferredStartIo, BOOLEAN NonCancelable)
{
    _DEVOBJ_EXTENSION* ext = io::device_private(DeviceObject);
    ext->StartIoFlags &= ~(kDeferred | kNonCancelable);
    if (DeferredStartIo)
        ext->StartIoFlags |= kDeferred;
    if (NonCancelable)
        ext->StartIoFlags |= kNonCancelable;
}

}  // extern "C"
