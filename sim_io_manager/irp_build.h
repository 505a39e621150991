// irp_build.h - the I/O manager's side of IRPs that drivers build with its help.
//
// IoBuildSynchronousFsdRequest and IoBuildDeviceIoControlRequest make "threaded" IRPs:
// queued to the building thread and finished by the I/O manager once their completion
// walk ends (buffered output copied back, MDLs released, the IO_STATUS_BLOCK written and
// the event set, the IRP freed). IoBuildAsynchronousFsdRequest IRPs are normally freed by
// the driver's completion routine (IoFreeIrp, then STATUS_MORE_PROCESSING_REQUIRED); one
// whose walk ends anyway is finished the same way.
// NT counterparts: IopCompleteRequest (for driver-built IRPs), IopDequeueThreadIrp.
#pragma once

#include "wdm_impl.h"

namespace iosim::io {

// Runs when a driver-built IRP's completion walk ended without a routine keeping it.
void finish_driver_built_irp(IRP* irp);

// Frees the threaded IRPs nobody completed (machine shutdown, after the drivers are gone).
void release_driver_built_irps();

}  // namespace iosim::io
