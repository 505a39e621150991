// mdl.h - memory descriptor lists: what the rest of the I/O manager asks of them.
//
// An MDL describes a buffer by the frames of simulated physical memory behind it. Locking
// (MmProbeAndLockPages) looks each page up in the address space the address belongs to -
// the current process's user space for a user address, system space for a kernel one -
// and takes a reference on its frame, so the frame outlives the user mapping. Mapping
// (MmGetSystemAddressForMdlSafe, MmMapLockedPagesSpecifyCache) maps those frames a second
// time, in system space or in the current process's user space: a write through one
// address is seen through the other. The routines themselves are in mdl.cpp (allocation,
// partial MDLs, the reports), mdl_lock.cpp, mdl_map.cpp and mdl_pages.cpp; every MDL
// iosim hands out or locks has a record in a side table (mdl_table.h).
//
// Unattributed host memory (a test's own buffers, a driver's globals: mm::classify says
// Unknown, AppImage or DriverImage) has no frames: there an MDL keeps the earlier,
// simpler behaviour - its "PFNs" are virtual page numbers and its system address is the
// address itself - so code that passes such buffers keeps working.
// NT counterparts: IopCompleteRequest's MDL release, MmCleanProcessAddressSpace's check
// for locked pages, Driver Verifier's MDL tracking at unload.
#pragma once

#include <string>
#include <vector>

#include "wdm_impl.h"

namespace iosim {
class Process;
namespace ldr {
struct Module;
}
}  // namespace iosim

namespace iosim::io {

// The I/O manager's own MDL for a direct transfer: describes `buffer`, becomes
// Irp->MdlAddress, and is probed and locked for `operation` in `mode` under a handler
// frame. A bad buffer gives STATUS_ACCESS_VIOLATION (the MDL is freed again, MdlAddress
// left NULL); never raises.
NTSTATUS attach_user_mdl(IRP* irp, void* buffer, ULONG length, LOCK_OPERATION operation, KPROCESSOR_MODE mode);

// IRP completion (IopCompleteRequest): every MDL on Irp->MdlAddress's chain is unlocked,
// its system mapping released, and freed, as Windows documents ("the system unlocks and
// frees all the MDLs that are associated with the IRP"). A driver MDL still mapped into
// the user's address space, or an I/O manager MDL a driver unlinked from the IRP, is
// reported as a finding.
void release_irp_mdls(IRP* irp);

// Process exit (after its handles are closed): pages of `process` that a driver still
// has locked stop the machine with PROCESS_HAS_LOCKED_PAGES (0x76), as on Windows; MDL
// mappings into its user space go with the space.
void check_locked_pages_at_exit(Process* process);

// Driver unload: reports (findings) every MDL the driver allocated and never freed, or
// left locked or mapped. `when` starts each sentence ("After DriverUnload").
void report_driver_mdls(const ldr::Module* module, const std::string& when, const std::string& driver_name);

// A new machine: forgets every MDL record of the previous one (its memory is gone).
void reset_mdl_tracking();

// For !irp: one entry per MDL of the chain starting at `first` (virtual address, byte
// count, flags by name, PFNs, system address). MDLs iosim does not know are named, not read.
std::vector<std::string> describe_mdl_chain(const MDL* first);

}  // namespace iosim::io
