// io_workitem.h - what the driver unload path needs from I/O work items and system threads.
//
// IoQueueWorkItem references the work item's device (or driver) object until the routine
// has returned, so on Windows the driver image stays until then: iosim's unload waits for
// the driver's queued and running I/O work items (letting them run) before it unmaps the
// image. Code of the driver that nothing keeps the image for - a system thread still
// running its start routine, an ExQueueWorkItem item queued or running - would run in
// freed memory: DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS (0xCE), the bug check
// Windows gives when such code runs after the unload. iosim stops at the unload itself,
// naming each thread and routine. At shutdown (every driver unloaded as the machine ends)
// the same things are findings instead: nothing would run afterwards anyway.
// NT counterparts: IopProcessWorkItem's ObDereferenceObject, MmUnloadSystemImage, the
// 0xCE fault on an unloaded driver's address.
#pragma once

#include "wdm_impl.h"

namespace iosim::ldr {
struct Module;
}

namespace iosim::io {

// Called after DriverUnload returned, before the image goes.
void before_image_unload(DRIVER_OBJECT* driver, const ldr::Module* module, bool at_shutdown);

// The image goes whatever runs in it (after a bug check, at the machine's end): its system
// threads and the worker threads inside its routines are terminated (they unwind while the
// image is still mapped), its queued work is dropped.
void end_code_in(const ldr::Module* module);

}  // namespace iosim::io
