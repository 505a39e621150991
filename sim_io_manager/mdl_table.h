// mdl_table.h - iosim's record of every MDL it knows (internal to the MDL files).
//
// The MDL structure is the driver's to read; what iosim needs to check, release and
// report an MDL lives beside it, keyed by the MDL's address: who allocated it (the
// driver module and the call's return address, or the I/O manager), the frames its lock
// holds references on, the mappings made of it. Reports are built from the record alone,
// never by reading MDL memory the driver may have freed.
// Rule: the table's lock is never held while a bug check or structured exception is
// raised, a finding is reported (a trace listener may run !irp, which reads the table),
// nor across a call into a driver.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mm/page.h"
#include "wdm_impl.h"

namespace iosim {
class Process;
namespace ldr {
struct Module;
}
}  // namespace iosim

namespace iosim::io::mdl {

enum class Origin : uint8_t {
    IoAllocateMdl,  // iosim allocated the structure (pool, tag "Mdl ")
    PagesForMdl,    // MmAllocatePagesForMdl(Ex): structure from pool, frames owned
    Caller,         // the caller's own memory (MmInitializeMdl), met first in an Mm call
};

struct UserMapping {
    Process* process = nullptr;
    void* base = nullptr;     // page-aligned start of the reservation
    size_t pages = 0;
    const void* mapped_at = nullptr;
};

struct Record {
    Origin origin = Origin::Caller;
    ldr::Module* owner = nullptr;      // driver that allocated it; nullptr: the I/O manager
    const void* allocated_at = nullptr;
    IRP* irp = nullptr;                // the IRP IoAllocateMdl chained it onto
    uintptr_t va = 0;                  // MmGetMdlVirtualAddress and ByteCount when last set up
    ULONG bytes = 0;
    std::string owner_text;            // "hello.sys"; kept once the module is gone
    std::string allocated_where;       // resolved at unload (the module's lines go with it)

    // Lock (MmProbeAndLockPages). `real`: the PFNs are frames of simulated physical
    // memory (false: virtual page numbers of unattributed host memory).
    bool locked = false;
    bool real = false;
    Process* process = nullptr;        // locked user pages belong to this process
    const void* locked_at = nullptr;
    bool locked_by_driver = false;
    ldr::Module* locker = nullptr;     // driver that locked it
    std::string locked_where;
    std::vector<mm::Pfn> locked_frames;  // one reference each

    // The system-space mapping this MDL created (not a parent's, not pool's own address).
    void* system_base = nullptr;
    size_t system_pages = 0;
    const void* mapped_at = nullptr;
    ldr::Module* mapper = nullptr;     // driver that mapped it

    std::vector<UserMapping> user_mappings;
    std::vector<mm::Pfn> owned_frames;  // MmAllocatePagesForMdl
    bool reported = false;              // already listed at its driver's unload
};

class Table {
public:
    std::mutex lock;
    std::unordered_map<const MDL*, Record> records;
    // IRP -> the MDL the I/O manager attached for a direct transfer.
    std::unordered_map<const IRP*, const MDL*> io_manager_mdls;
};

Table& table();

// Runs `f` on the record of `mdl` (nullptr if none) under the table lock.
template <class F>
decltype(auto) with_record(const MDL* mdl, F&& f)
{
    Table& t = table();
    std::lock_guard guard(t.lock);
    auto it = t.records.find(mdl);
    return f(it == t.records.end() ? static_cast<Record*>(nullptr) : &it->second);
}

// The record of `mdl`, created (origin Caller, owner from `caller`) if there is none.
Record& record_for(Table& t, const MDL* mdl, const void* caller);

// The driver module a return address lies in (nullptr: iosim itself, the I/O manager).
ldr::Module* driver_of(const void* caller);

// "file.c:42 in Routine (driver.sys)" for a record's call site, resolved now or kept.
std::string where(const void* caller, const std::string& kept);

// Flags by name ("MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA").
std::string flag_names(CSHORT flags);

// Frame numbers behind an MDL that are real frames, or nullopt (legacy VPNs).
bool frames_are_real(const MDL* mdl, const Record* record);

// Releases what a record holds: the lock's frame references, the system mapping, user
// mappings of processes still alive, frames from MmAllocatePagesForMdl.
void release_holdings(Record& record);

// IoAllocateMdl / IoFreeMdl with the caller given (nullptr: the I/O manager's own MDL).
PMDL allocate_mdl(PVOID address, ULONG length, BOOLEAN secondary, PIRP irp, const void* caller);
void free_mdl(PMDL mdl, const void* caller);
// MmUnlockPages without the caller checks (completion, cleanup): releases the lock and
// the system mapping, clears the flags.
void unlock(PMDL mdl);
// MmUnmapLockedPages.
void unmap(PVOID base, PMDL mdl, const void* caller);

// A new machine: every record goes, nothing is released (that memory is gone).
void reset_tracking();

// MDL addresses freed recently (IoFreeMdl): an IRP chain still pointing at one is not
// followed. Call with the table lock held.
void remember_freed(const MDL* mdl);
bool recently_freed(const MDL* mdl);

// Pages of `process` locked through MDLs now.
size_t locked_pages_of(Process* process);

}  // namespace iosim::io::mdl
