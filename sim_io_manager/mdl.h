// mdl.h - memory descriptor lists for direct I/O.
//
// In this version an MDL describes the caller's pages by their virtual page numbers and
// its "system address" is the caller's own address: the request runs in the caller's
// context, so that address is valid. The memory-model work replaces this with simulated
// physical pages and a real second mapping (see docs/roadmap.md).
// NT counterparts: IoAllocateMdl, MmProbeAndLockPages, MmGetSystemAddressForMdlSafe.
#pragma once

#include "wdm_impl.h"

namespace iosim::io {

// Describes `buffer` with an MDL attached to the IRP (Irp->MdlAddress), probed and locked
// for `operation`. Fails with STATUS_ACCESS_VIOLATION for a bad user buffer.
NTSTATUS attach_user_mdl(IRP* irp, void* buffer, ULONG length, LOCK_OPERATION operation, KPROCESSOR_MODE mode);

// Unlocks and frees the IRP's MDL chain (request completion).
void release_irp_mdls(IRP* irp);

}  // namespace iosim::io
