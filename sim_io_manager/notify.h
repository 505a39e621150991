// notify.h - what the I/O manager tells drivers about the system's life: reinitialization
// after loading, and shutdown.
//
// IoRegisterDriverReinitialization queues a routine the I/O manager calls once DriverEntry
// has returned successfully (for a driver loaded after boot, right after its DriverEntry),
// with Count = how many times it has been called, this call included; a routine that
// registers again is called again in the same pass. IoRegisterShutdownNotification queues
// a device that gets IRP_MJ_SHUTDOWN when the machine shuts down, before drivers unload;
// IoRegisterLastChanceShutdownNotification devices get theirs after all the others (after
// the file systems are flushed, on Windows). IoDeleteDevice unregisters a device.
// NT counterparts: IoRegisterDriverReinitialization, IopCallDriverReinitializationRoutines,
// IoRegisterShutdownNotification, IoUnregisterShutdownNotification,
// IoRegisterLastChanceShutdownNotification, IoShutdownSystem.
#pragma once

#include "wdm_impl.h"

namespace iosim::io {

// Calls the queued reinitialization routines (after a successful DriverEntry).
void call_reinitialization_routines(DRIVER_OBJECT* driver);
// Drops the routines a driver queued and that were never called (its DriverEntry failed,
// or it unloaded before the next pass).
void forget_driver_notifications(DRIVER_OBJECT* driver);

// Sends IRP_MJ_SHUTDOWN to every registered device, most recent registration first, then
// to the last-chance devices (Machine::shutdown, before the drivers unload).
void send_shutdown_notifications();
// IoDeleteDevice of a registered device: its registrations go.
void forget_shutdown_registration(DEVICE_OBJECT* device);

}  // namespace iosim::io
