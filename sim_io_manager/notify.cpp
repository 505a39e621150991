// notify.cpp - reinitialization routines and shutdown notifications.
//
// Rules (Windows' own):
//  - IoRegisterDriverReinitialization puts (routine, context) at the tail of one queue. After
//    a driver's DriverEntry succeeds the I/O manager takes entries from the head until the
//    queue is empty, adding one to the driver's DriverExtension->Count before each call, so
//    the routine sees 1 on its first call, 2 if it registered again, ... A routine queued
//    outside DriverEntry waits for the next pass (the next driver load).
//  - IoRegisterShutdownNotification references the device and queues it at the head, so
//    at shutdown the most recent registration gets IRP_MJ_SHUTDOWN first; the IRP goes to
//    the registered device itself (the pointer its DispatchShutdown receives), built with
//    IoBuildSynchronousFsdRequest in the System thread. Last-chance registrations follow
//    the ordinary ones. IoUnregisterShutdownNotification and IoDeleteDevice remove a device.
//  - After a bug check nothing is sent: no driver code runs on a dead machine.
// NT counterparts: IoRegisterDriverReinitialization, IopCallDriverReinitializationRoutines,
// IoRegisterShutdownNotification, IoRegisterLastChanceShutdownNotification,
// IoUnregisterShutdownNotification, IoShutdownSystem.
#include "notify.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <vector>

#include "device.h"
#include "driver.h"
#include "irp.h"
#include "ldr/symbolize.h"
#include "ps/process.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

struct Reinitialization {
    DRIVER_OBJECT* driver;
    PDRIVER_REINITIALIZE routine;
    PVOID context;
};

// A pass that keeps finding new entries after this many calls is a driver re-registering
// for ever; Windows would loop, iosim stops and says so.
constexpr int kMaxReinitializationCalls = 100;

std::mutex g_lock;
std::deque<Reinitialization> g_reinit;
std::vector<DEVICE_OBJECT*> g_shutdown;     // registration order; sent newest first
std::vector<DEVICE_OBJECT*> g_last_chance;  // likewise, after g_shutdown

void trace_note(std::string text)
{
    if (System* sys = System::current(); sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Driver, 0, std::move(text));
}

bool has_entries_of(DRIVER_OBJECT* driver)
{
    return std::any_of(g_reinit.begin(), g_reinit.end(), [&](const Reinitialization& r) { return r.driver == driver; });
}

void shutdown_one(DEVICE_OBJECT* device, const char* which)
{
    System* sys = System::current();
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    IO_STATUS_BLOCK iosb{};
    trace_note(fmt::format("shutdown: {}IRP_MJ_SHUTDOWN to {} [{}]", which, device_name(device),
                           driver_name(device->DriverObject)));
    PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_SHUTDOWN, device, nullptr, 0, nullptr, &event, &iosb);
    NTSTATUS status = IofCallDriver(device, irp);
    if (status == STATUS_PENDING && KeReadStateEvent(&event) == 0)
        sys->report({"SHUTDOWN_IRP_NOT_COMPLETED",
                     fmt::format("{} returned STATUS_PENDING for IRP_MJ_SHUTDOWN and nothing completed it: Windows "
                                 "would wait here for ever and the machine would never finish shutting down.",
                                 device_name(device)),
                     "", {}});
}

void send_list(std::vector<DEVICE_OBJECT*>& list, const char* which)
{
    for (;;) {
        DEVICE_OBJECT* device = nullptr;
        {
            std::lock_guard guard(g_lock);
            if (list.empty())
                return;
            device = list.back();  // newest first
            list.pop_back();
        }
        device->Flags &= ~DO_SHUTDOWN_REGISTERED;
        if ((device_private(device)->ExtensionFlags & DOE_DELETE_PENDING) == 0 &&
            driver_body(device->DriverObject)->priv.module != nullptr)
            shutdown_one(device, which);
        ob::dereference(device);
    }
}

NTSTATUS register_device(std::vector<DEVICE_OBJECT*>& list, DEVICE_OBJECT* device, const char* which)
{
    ob::reference(device);
    {
        std::lock_guard guard(g_lock);
        list.push_back(device);
    }
    device->Flags |= DO_SHUTDOWN_REGISTERED;
    trace_note(fmt::format("{} registered {} for {}shutdown notification", driver_name(device->DriverObject),
                           device_name(device), which));
    return STATUS_SUCCESS;
}

// Removes every registration of `device` from `list`; returns how many there were.
size_t remove_device(std::vector<DEVICE_OBJECT*>& list, DEVICE_OBJECT* device)
{
    auto it = std::remove(list.begin(), list.end(), device);
    size_t removed = static_cast<size_t>(list.end() - it);
    list.erase(it, list.end());
    return removed;
}

}  // namespace

void call_reinitialization_routines(DRIVER_OBJECT* /*driver*/)
{
    System* sys = System::current();
    for (int calls = 0;; ++calls) {
        Reinitialization entry{};
        {
            std::lock_guard guard(g_lock);
            if (g_reinit.empty())
                return;
            if (calls == kMaxReinitializationCalls) {
                entry = g_reinit.front();
                g_reinit.clear();
                sys->report({"REINITIALIZATION_LOOP",
                             fmt::format("{} registered its reinitialization routine again on each of {} calls; iosim "
                                         "stopped calling it (Windows would keep going). Register again only while "
                                         "there is work left to do.",
                                         driver_name(entry.driver), kMaxReinitializationCalls),
                             ldr::describe_function(reinterpret_cast<const void*>(entry.routine)),
                             {}});
                return;
            }
            entry = g_reinit.front();
            g_reinit.pop_front();
            if (!has_entries_of(entry.driver))
                entry.driver->Flags &= ~DRVO_REINIT_REGISTERED;
        }
        ULONG count = ++entry.driver->DriverExtension->Count;
        trace_note(fmt::format("{}: calling reinitialization routine {} (Count {})", driver_name(entry.driver),
                               ldr::describe_function(reinterpret_cast<const void*>(entry.routine)), count));
        ThreadSwitch as_system(sys->system_thread());
        DriverCallScope scope("reinitialization routine", reinterpret_cast<const void*>(entry.routine));
        entry.routine(entry.driver, entry.context, count);
    }
}

void forget_driver_notifications(DRIVER_OBJECT* driver)
{
    std::lock_guard guard(g_lock);
    g_reinit.erase(std::remove_if(g_reinit.begin(), g_reinit.end(),
                                  [&](const Reinitialization& r) { return r.driver == driver; }),
                   g_reinit.end());
}

void send_shutdown_notifications()
{
    System* sys = System::current();
    if (sys == nullptr)
        return;
    if (sys->dead()) {
        // No driver code runs after a bug check: the registrations just go.
        std::vector<DEVICE_OBJECT*> devices;
        {
            std::lock_guard guard(g_lock);
            devices.insert(devices.end(), g_shutdown.begin(), g_shutdown.end());
            devices.insert(devices.end(), g_last_chance.begin(), g_last_chance.end());
            g_shutdown.clear();
            g_last_chance.clear();
        }
        for (DEVICE_OBJECT* device : devices) {
            device->Flags &= ~DO_SHUTDOWN_REGISTERED;
            ob::dereference(device);
        }
        return;
    }
    ThreadSwitch as_system(sys->system_thread());
    send_list(g_shutdown, "");
    send_list(g_last_chance, "last-chance ");
}

void forget_shutdown_registration(DEVICE_OBJECT* device)
{
    size_t removed = 0;
    {
        std::lock_guard guard(g_lock);
        removed = remove_device(g_shutdown, device) + remove_device(g_last_chance, device);
    }
    device->Flags &= ~DO_SHUTDOWN_REGISTERED;
    for (size_t i = 0; i < removed; ++i)
        ob::dereference(device);
}

}  // namespace iosim::io

using namespace iosim;
using namespace iosim::io;

extern "C" {

void IoRegisterDriverReinitialization(PDRIVER_OBJECT DriverObject, PDRIVER_REINITIALIZE DriverReinitializationRoutine,
                                      PVOID Context)
{
    {
        std::lock_guard guard(g_lock);
        g_reinit.push_back({DriverObject, DriverReinitializationRoutine, Context});
    }
    DriverObject->Flags |= DRVO_REINIT_REGISTERED;
    trace_note(fmt::format("{} registered reinitialization routine {}", driver_name(DriverObject),
                           ldr::describe_function(reinterpret_cast<const void*>(DriverReinitializationRoutine))));
}

NTSTATUS IoRegisterShutdownNotification(PDEVICE_OBJECT DeviceObject)
{
    return register_device(g_shutdown, DeviceObject, "");
}

NTSTATUS IoRegisterLastChanceShutdownNotification(PDEVICE_OBJECT DeviceObject)
{
    return register_device(g_last_chance, DeviceObject, "last-chance ");
}

void IoUnregisterShutdownNotification(PDEVICE_OBJECT DeviceObject)
{
    if (DeviceObject->Flags & DO_SHUTDOWN_REGISTERED)
        trace_note(fmt::format("{} unregistered {} from shutdown notification", driver_name(DeviceObject->DriverObject),
                               device_name(DeviceObject)));
    forget_shutdown_registration(DeviceObject);
}

}  // extern "C"
