// mdl_irp.cpp - the I/O manager's side of MDLs: a direct transfer's MDL, its release at
// completion, the checks at process exit and driver unload, and !irp's MDL lines.
//
// Rules kept here (Windows' behaviour, from "Using MDLs" and the bug check pages):
//  - a direct transfer's MDL is the I/O manager's: allocated with the IRP, probed and
//    locked under a handler frame (a bad buffer is STATUS_ACCESS_VIOLATION, no IRP sent);
//  - at completion every MDL on the IRP's chain is unlocked and freed, including those a
//    driver allocated and chained there: that is documented, not a leak. Reported: a
//    user-mode mapping still in place (the app would keep a window on pages the system
//    is about to reuse), a chain pointing at an MDL already freed, and an I/O manager
//    MDL a driver unlinked by chaining its own with SecondaryBuffer FALSE;
//  - a process that exits while a driver still has its pages locked stops the machine:
//    PROCESS_HAS_LOCKED_PAGES (0x76), parameters 0, the process, the page count, 0;
//  - at unload, every MDL the driver allocated and never freed, or left locked or mapped,
//    is a finding naming the line that allocated (locked, mapped) it. Its pages stay
//    locked, as on Windows: the owning process's exit then bug-checks.
// NT counterparts: IopCompleteRequest, MmCleanProcessAddressSpace (MiCheckForLockedPages),
// Driver Verifier's MDL tracking, the !irp extension.
#include <fmt/format.h>

#include "irp.h"
#include "ke/bugcheck.h"
#include "ke/seh.h"
#include "ldr/module.h"
#include "ldr/symbolize.h"
#include "mdl.h"
#include "mdl_table.h"
#include "mm/memory_manager.h"
#include "ps/process.h"
#include "system.h"

namespace iosim::io {

namespace {

constexpr ULONG kProcessHasLockedPages = 0x76;  // PROCESS_HAS_LOCKED_PAGES

std::string hex(const void* p) { return fmt::format("0x{:016x}", reinterpret_cast<uintptr_t>(p)); }
std::string hex(uintptr_t p) { return fmt::format("0x{:016x}", p); }

bool reporting(System* sys) { return sys != nullptr && !sys->dead(); }

struct ProbeArgs {
    PMDL mdl;
    KPROCESSOR_MODE mode;
    LOCK_OPERATION operation;
};

void probe_body(void* context)
{
    auto* args = static_cast<ProbeArgs*>(context);
    MmProbeAndLockPages(args->mdl, args->mode, args->operation);
}

}  // namespace

NTSTATUS attach_user_mdl(IRP* irp, void* buffer, ULONG length, LOCK_OPERATION operation, KPROCESSOR_MODE mode)
{
    PMDL mdl = mdl::allocate_mdl(buffer, length, FALSE, irp, nullptr);
    if (mdl == nullptr)
        return STATUS_INSUFFICIENT_RESOURCES;
    ProbeArgs args{mdl, mode, operation};
    NTSTATUS status = seh::capture(probe_body, &args);
    if (!NT_SUCCESS(status)) {
        irp->MdlAddress = nullptr;
        mdl::free_mdl(mdl, nullptr);
        return status;
    }
    mdl::Table& t = mdl::table();
    std::lock_guard guard(t.lock);
    t.io_manager_mdls[irp] = mdl;
    return STATUS_SUCCESS;
}

void release_irp_mdls(IRP* irp)
{
    System* sys = System::current();
    mdl::Table& t = mdl::table();
    const MDL* io_mdl = nullptr;
    const void* chained_by_driver = nullptr;  // a driver's IoAllocateMdl(..., Irp) call
    {
        std::lock_guard guard(t.lock);
        auto it = t.io_manager_mdls.find(irp);
        if (it != t.io_manager_mdls.end()) {
            io_mdl = it->second;
            t.io_manager_mdls.erase(it);
            for (const auto& [other, record] : t.records)
                if (record.irp == irp && record.owner != nullptr)
                    chained_by_driver = record.allocated_at;
        }
    }
    uint64_t irp_id = is_live_irp(irp) ? private_of(irp)->id : 0;
    bool io_mdl_on_chain = false;
    PMDL mdl = irp->MdlAddress;
    irp->MdlAddress = nullptr;
    for (int count = 0; mdl != nullptr && count < 4096; ++count) {
        bool freed = false;
        std::vector<mdl::UserMapping> user_mappings;
        {
            std::lock_guard guard(t.lock);
            auto it = t.records.find(mdl);
            if (it == t.records.end()) {
                freed = mdl::recently_freed(mdl);
            } else {
                // A user mapping stays in its process (it goes when the process does).
                user_mappings = std::move(it->second.user_mappings);
                it->second.user_mappings.clear();
            }
        }
        if (freed) {
            if (reporting(sys))
                sys->report({"FREED_MDL_IN_IRP",
                             fmt::format("IRP#{} completed with an MDL chain that still points at MDL {}, which was "
                                         "freed already: the I/O manager frees every MDL on Irp->MdlAddress's chain "
                                         "at completion, so a driver that frees one must unlink it first. The rest of "
                                         "the chain was not read.",
                                         irp_id, hex(mdl)),
                             "", irp_history_lines(irp)});
            break;
        }
        for (const mdl::UserMapping& m : user_mappings)
            if (reporting(sys))
                sys->report({"MDL_USER_MAPPING_AT_COMPLETION",
                             fmt::format("IRP#{} completed while the pages of its MDL {} were still mapped into process "
                                         "{} at {} (MmMapLockedPagesSpecifyCache, UserMode). The I/O manager unlocks "
                                         "and frees the MDL now, so the app would keep a window on pages the system "
                                         "reuses: call MmUnmapLockedPages, in the process's context, before "
                                         "completing.",
                                         irp_id, hex(mdl), m.process->pid(), hex(m.base)),
                             ldr::describe_call_site(m.mapped_at), irp_history_lines(irp)});
        PMDL next = mdl->Next;
        if (mdl == io_mdl)
            io_mdl_on_chain = true;
        if ((mdl->MdlFlags & MDL_PAGES_LOCKED) != 0)
            mdl::unlock(mdl);
        mdl::free_mdl(mdl, nullptr);
        mdl = next;
    }
    if (io_mdl != nullptr && !io_mdl_on_chain) {
        // A driver replaced Irp->MdlAddress (IoAllocateMdl with SecondaryBuffer FALSE): the
        // I/O manager's MDL is lost to it.
        if (reporting(sys))
            sys->report({"IRP_MDL_REPLACED",
                         fmt::format("IRP#{}: the I/O manager's MDL for the caller's buffer was no longer on "
                                     "Irp->MdlAddress's chain at completion: a driver replaced it (IoAllocateMdl with "
                                     "SecondaryBuffer FALSE makes the new MDL Irp->MdlAddress). Windows would leave "
                                     "the caller's pages locked for ever; iosim unlocked and freed it. Pass "
                                     "SecondaryBuffer TRUE to add an MDL to an IRP that has one.",
                                     irp_id),
                         chained_by_driver != nullptr ? ldr::describe_call_site(chained_by_driver) : "", irp_history_lines(irp)});
        auto* lost = const_cast<PMDL>(io_mdl);
        if ((lost->MdlFlags & MDL_PAGES_LOCKED) != 0)
            mdl::unlock(lost);
        mdl::free_mdl(lost, nullptr);
    }
}

void check_locked_pages_at_exit(Process* process)
{
    System* sys = System::current();
    mdl::Table& t = mdl::table();
    size_t pages = 0;
    const MDL* first = nullptr;
    const void* locked_at = nullptr;
    std::string location;
    {
        std::lock_guard guard(t.lock);
        for (auto& [mdl, record] : t.records) {
            // Mappings into the process's user space go with the space.
            std::erase_if(record.user_mappings, [&](const mdl::UserMapping& m) { return m.process == process; });
            if (!record.locked || record.process != process || !record.locked_by_driver)
                continue;
            pages += record.locked_frames.size();
            if (first == nullptr) {
                first = mdl;
                locked_at = record.locked_where.empty() ? record.locked_at : nullptr;
                location = record.locked_where;
            }
        }
    }
    if (pages == 0 || !reporting(sys))
        return;
    std::string where = location.empty() ? ldr::describe_call_site(locked_at) : location;
    bugcheck(kProcessHasLockedPages, 0, reinterpret_cast<ULONG_PTR>(process), pages, 0, locked_at, nullptr,
             fmt::format("Process {} ({}) exited while a driver still had {} of its page(s) locked (MDL {}, locked by "
                         "MmProbeAndLockPages at {}): every MmProbeAndLockPages needs its MmUnlockPages before the "
                         "process that owns the pages goes away.",
                         process->pid(), process->image_name(), pages, hex(first), where));
}

void report_driver_mdls(const ldr::Module* module, const std::string& when, const std::string& driver_name)
{
    System* sys = System::current();
    if (module == nullptr || sys == nullptr)
        return;
    std::vector<Finding> findings;
    mdl::Table& t = mdl::table();
    {
        std::lock_guard guard(t.lock);
        for (auto& [mdl, record] : t.records) {
            bool allocated = record.owner == module && !record.reported;
            bool locked = record.locked && record.locker == module;
            bool mapped = record.system_base != nullptr && record.mapper == module;
            bool user_mapped = false;
            for (const mdl::UserMapping& m : record.user_mappings)
                user_mapped = user_mapped || mdl::driver_of(m.mapped_at) == module;
            if (!allocated && !locked && !mapped && !user_mapped)
                continue;
            std::string state;
            if (record.locked)
                state += fmt::format("; its {} page(s) are still locked (MmUnlockPages)",
                                     std::max<size_t>(record.locked_frames.size(), 1));
            if (record.system_base != nullptr)
                state += fmt::format("; it is still mapped at system address {}", hex(record.system_base));
            for (const mdl::UserMapping& m : record.user_mappings)
                state += fmt::format("; it is still mapped into process {} at {} (MmUnmapLockedPages)",
                                     m.process->pid(), hex(m.base));
            Finding finding;
            if (allocated && record.origin == mdl::Origin::PagesForMdl) {
                finding.code = "MDL_PAGES_LEAK";
                finding.message = fmt::format(
                    "{}, {} still holds {} page(s) of physical memory from MmAllocatePagesForMdl (MDL {}){}: free them "
                    "with MmFreePagesFromMdl, then the MDL with ExFreePool.",
                    when, driver_name, record.owned_frames.size(), hex(mdl), state);
                finding.location = mdl::where(record.allocated_at, record.allocated_where);
            } else if (allocated) {
                finding.code = "MDL_LEAK";
                finding.message = fmt::format(
                    "{}, {} never freed the MDL {} it allocated for {} bytes at {}{}: unlock and unmap it, then "
                    "IoFreeMdl, before unloading.",
                    when, driver_name, hex(mdl), record.bytes, hex(record.va), state);
                finding.location = mdl::where(record.allocated_at, record.allocated_where);
            } else {
                finding.code = locked ? "MDL_LEFT_LOCKED" : "MDL_LEFT_MAPPED";
                finding.message = fmt::format("{}, {} left the MDL {} for {} bytes at {} {}{}.", when, driver_name,
                                              hex(mdl), record.bytes, hex(record.va),
                                              locked ? "locked" : "mapped", state);
                finding.location = locked ? mdl::where(record.locked_at, record.locked_where)
                                          : mdl::where(record.mapped_at, "");
            }
            findings.push_back(std::move(finding));
            // The module's code goes now: keep the lines as text, and forget the module.
            if (record.owner == module) {
                record.allocated_where = mdl::where(record.allocated_at, record.allocated_where);
                record.owner = nullptr;
                record.allocated_at = nullptr;
            }
            if (record.locker == module) {
                record.locked_where = mdl::where(record.locked_at, record.locked_where);
                record.locker = nullptr;
            }
            if (record.mapper == module)
                record.mapper = nullptr;
            record.reported = true;
        }
    }
    for (Finding& finding : findings)
        sys->report(std::move(finding));
}

void reset_mdl_tracking() { mdl::reset_tracking(); }

std::vector<std::string> describe_mdl_chain(const MDL* first)
{
    std::vector<std::string> lines;
    mdl::Table& t = mdl::table();
    const MDL* mdl = first;
    for (int count = 0; mdl != nullptr && count < 16; ++count) {
        std::optional<mdl::Record> record;
        {
            std::lock_guard guard(t.lock);
            auto it = t.records.find(mdl);
            if (it != t.records.end())
                record = it->second;
        }
        if (!record) {
            lines.push_back(fmt::format("MDL {}: not an MDL iosim allocated, locked or mapped (not read)", hex(mdl)));
            break;
        }
        lines.push_back(fmt::format("MDL {}: VirtualAddress {}, ByteCount {}, ByteOffset {}", hex(mdl),
                                    hex(MmGetMdlVirtualAddress(const_cast<MDL*>(mdl))), mdl->ByteCount,
                                    mdl->ByteOffset));
        lines.push_back(fmt::format("  MdlFlags: 0x{:04x} ({})", static_cast<uint16_t>(mdl->MdlFlags),
                                    mdl::flag_names(mdl->MdlFlags)));
        auto* process = reinterpret_cast<Process*>(mdl->Process);
        if (process != nullptr)
            lines.push_back(fmt::format("  Process: {} ({})", process->pid(), process->image_name()));
        size_t pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(const_cast<MDL*>(mdl)), mdl->ByteCount);
        bool described = (mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL)) != 0;
        if (described && pages != 0) {
            std::string pfns;
            const PFN_NUMBER* array = MmGetMdlPfnArray(const_cast<MDL*>(mdl));
            for (size_t i = 0; i < pages && i < 16; ++i)
                pfns += fmt::format("{}0x{:x}", i == 0 ? "" : " ", array[i]);
            if (pages > 16)
                pfns += fmt::format(" ... ({} pages)", pages);
            lines.push_back(record->real ? "  PFNs: " + pfns
                                         : "  PFNs: " + pfns + " (virtual page numbers: unattributed host memory)");
        } else {
            lines.push_back("  PFNs: none yet (not locked)");
        }
        std::string system;
        if ((mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) != 0)
            system = hex(mdl->MappedSystemVa) + " (the non-paged buffer itself)";
        else if ((mdl->MdlFlags & MDL_PARENT_MAPPED_SYSTEM_VA) != 0)
            system = hex(mdl->MappedSystemVa) + " (inside the source MDL's mapping)";
        else if ((mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) != 0)
            system = hex(mdl->MappedSystemVa) + (record->system_base != nullptr
                                                     ? " (a second mapping of the same frames)"
                                                     : " (the buffer's own address: unattributed host memory)");
        else
            system = "not mapped";
        lines.push_back("  System address: " + system);
        for (const mdl::UserMapping& m : record->user_mappings)
            lines.push_back(fmt::format("  Mapped into process {} at {}", m.process->pid(), hex(m.base)));
        lines.push_back("  Allocated by: " + (record->origin == mdl::Origin::Caller
                                                  ? std::string("the caller's own memory (MmInitializeMdl)")
                                                  : mdl::where(record->allocated_at, record->allocated_where)));
        mdl = mdl->Next;
    }
    return lines;
}

}  // namespace iosim::io
