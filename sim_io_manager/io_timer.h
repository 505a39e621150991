// io_timer.h - the per-device I/O timer (io_timer.cpp has the rules): what IoDeleteDevice calls.
// NT counterparts: IoInitializeTimer, IopRemoveTimerFromTimerList.
#pragma once

#include "wdm_impl.h"

namespace iosim::io {

// Stops and frees `device`'s IoInitializeTimer timer, if it has one (IoDeleteDevice).
void delete_device_timer(DEVICE_OBJECT* device);

}  // namespace iosim::io
