// io_timer.cpp - the per-device I/O timer: IoInitializeTimer, IoStartTimer, IoStopTimer.
//
// A device object has at most one IO_TIMER (DeviceObject->Timer). Once started, its
// IoTimer routine is called about once per second - here exactly once per simulated second,
// the first call one second after IoStartTimer - at DISPATCH_LEVEL, in a DPC, with the
// device object and the context given to IoInitializeTimer. Windows' rules kept (WDK:
// IoInitializeTimer, IoStartTimer, IoStopTimer, IO_TIMER_ROUTINE):
//  - IoInitializeTimer sets up the timer (stopped); called again, it only replaces the
//    routine and context. It returns STATUS_SUCCESS.
//  - IoStartTimer on a running timer and IoStopTimer on a stopped one change nothing; a
//    stopped timer can be started again.
//  - IoDeleteDevice removes the timer with the device (io_timer.h).
// iosim drives it with a periodic KTIMER and its DPC on the simulated clock, so the calls
// are deterministic: time moves only when every thread waits, and then it jumps to the next
// tick. Like any periodic timer, a running one keeps simulated time going while every
// thread waits, so stop it (or delete the device) when it has nothing to do.
// NT counterparts: IoInitializeTimer, IoStartTimer, IoStopTimer, IopTimerDispatch.
#include "io_timer.h"

#include <fmt/format.h>

#include "irp.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "system.h"

// iosim's definition of the (opaque to drivers) I/O timer: Windows' fields, then the
// KTIMER and KDPC that drive it.
struct _IO_TIMER {
    CSHORT Type;
    CSHORT TimerFlag;  // TRUE while started
    LIST_ENTRY TimerList;
    PIO_TIMER_ROUTINE TimerRoutine;
    PVOID Context;
    PDEVICE_OBJECT DeviceObject;
    KTIMER Timer;
    KDPC Dpc;
};

using namespace iosim;

namespace {

constexpr CSHORT kIoTypeTimer = IO_TYPE_TIMER;
constexpr LONG kPeriodMs = 1000;

void trace_timer(PDEVICE_OBJECT device, const std::string& text)
{
    System* sys = System::current();
    if (sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0, fmt::format("{}: {}", io::device_name(device), text));
}

// The timer's DPC, at DISPATCH_LEVEL: calls the driver's IoTimer routine.
void io_timer_dpc(PKDPC, PVOID context, PVOID, PVOID)
{
    auto* timer = static_cast<_IO_TIMER*>(context);
    if (!timer->TimerFlag)
        return;
    DriverCallScope scope("IoTimer routine", reinterpret_cast<const void*>(timer->TimerRoutine));
    timer->TimerRoutine(timer->DeviceObject, timer->Context);
}

}  // namespace

namespace iosim::io {

void delete_device_timer(DEVICE_OBJECT* device)
{
    _IO_TIMER* timer = device->Timer;
    if (timer == nullptr)
        return;
    timer->TimerFlag = FALSE;
    KeCancelTimer(&timer->Timer);
    KeRemoveQueueDpc(&timer->Dpc);
    device->Timer = nullptr;
    delete timer;
}

}  // namespace iosim::io

extern "C" {

NTSTATUS IoInitializeTimer(PDEVICE_OBJECT DeviceObject, PIO_TIMER_ROUTINE TimerRoutine, PVOID Context)
{
    _IO_TIMER* timer = DeviceObject->Timer;
    if (timer == nullptr) {
        timer = new _IO_TIMER{};
        timer->Type = kIoTypeTimer;
        InitializeListHead(&timer->TimerList);
        timer->DeviceObject = DeviceObject;
        KeInitializeTimerEx(&timer->Timer, NotificationTimer);
        KeInitializeDpc(&timer->Dpc, io_timer_dpc, timer);
        DeviceObject->Timer = timer;
    }
    timer->TimerRoutine = TimerRoutine;
    timer->Context = Context;
    return STATUS_SUCCESS;
}

void IoStartTimer(PDEVICE_OBJECT DeviceObject)
{
    _IO_TIMER* timer = DeviceObject->Timer;
    if (timer == nullptr) {
        System::current()->report(
            {"IO_TIMER_NOT_INITIALIZED",
             fmt::format("IoStartTimer was called for {}, which has no timer: call IoInitializeTimer first.",
                         io::device_name(DeviceObject)),
             ldr::describe_function(__builtin_return_address(0)), {}});
        return;
    }
    if (timer->TimerFlag)
        return;
    timer->TimerFlag = TRUE;
    LARGE_INTEGER due;
    due.QuadPart = -static_cast<LONGLONG>(kPeriodMs) * 10000;
    KeSetTimerEx(&timer->Timer, due, kPeriodMs, &timer->Dpc);
    trace_timer(DeviceObject, fmt::format("IoStartTimer: its IoTimer routine {} runs once per second",
                                          ldr::describe_function(reinterpret_cast<const void*>(timer->TimerRoutine))));
}

void IoStopTimer(PDEVICE_OBJECT DeviceObject)
{
    _IO_TIMER* timer = DeviceObject->Timer;
    if (timer == nullptr || !timer->TimerFlag)
        return;
    timer->TimerFlag = FALSE;
    KeCancelTimer(&timer->Timer);
    KeRemoveQueueDpc(&timer->Dpc);
    trace_timer(DeviceObject, "IoStopTimer: its IoTimer routine is no longer called");
}

}  // extern "C"
