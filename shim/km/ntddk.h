/*
 * ntddk.h - iosim shim: the NT driver kit header. On Windows it is wdm.h plus legacy
 * (non-PnP) declarations; iosim declares those in wdm.h already.
 */
#ifndef IOSIM_NTDDK_H
#define IOSIM_NTDDK_H
#include "wdm.h"
#endif
