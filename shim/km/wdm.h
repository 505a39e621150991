/*
 * wdm.h - iosim shim: the WDM kernel API for driver sources, unchanged.
 *
 * Compile driver code with this folder and ../common on the include path and with
 * -fshort-wchar (iosim_add_driver does both). Everything a WDM driver names is declared
 * here; what iosim implements is resolved when the driver module loads, and a routine
 * iosim lacks makes the load fail with its name, never a silent success.
 */
#ifndef IOSIM_WDM_H
#define IOSIM_WDM_H

#define IOSIM_KERNEL_MODE 1
#ifndef NTDDI_VERSION
#define NTDDI_VERSION 0x0A000000
#endif
#define NTDDI_WIN7 0x06010000
#define NTDDI_WIN8 0x06020000
#define NTDDI_WINBLUE 0x06030000
#define NTDDI_WIN10 0x0A000000
#define NTDDI_WIN10_VB 0x0A000008

/* #pragma code_seg / alloc_text / data_seg mean nothing here; accept them silently. */
#pragma GCC diagnostic ignored "-Wunknown-pragmas"

#include "iosim_crt.h"
#include "ntdef.h"
#include "ntstatus.h"
#include "devioctl.h"
#include "iosim_access.h"
#include "km_ke.h"
#include "km_rtl.h"
#include "km_ex.h"
#include "km_mm.h"
#include "km_io.h"
#include "km_io_queue.h"
#include "km_ob_ps.h"
#include "km_pnp.h"
#include "iosim_seh.h"

#endif /* IOSIM_WDM_H */
