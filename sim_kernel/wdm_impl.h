// wdm_impl.h - the WDK structures (IRP, DEVICE_OBJECT, ...) for iosim's own C++ code.
// See nt.h for what IOSIM_IMPLEMENTATION changes.
#pragma once

#include "nt.h"
#include "wdm.h"
