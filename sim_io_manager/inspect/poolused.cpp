// poolused.cpp - !poolused: pool in use, by tag.
//
//   !poolused
//
// One line per (tag, pool type), sorted by tag text then NonPaged before Paged, with the
// number of blocks allocated and not freed, their bytes, and the owner: the driver
// module that allocated every block of that tag ("kbuffer.sys"), "(several)" when
// drivers share the tag, "-" when the blocks were not allocated by a loaded driver
// (iosim itself, or test code calling ExAllocatePoolWithTag directly). WinDbg's column
// "Description" comes from pooltag.txt; iosim knows the real owner instead.
//
//   Tag   Type      Allocs     Bytes  Owner
//   Kbuf  NonPaged       1       512  kbuffer.sys
//
// Counts come from PoolTracker::usage_by_tag, owners from outstanding_all.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "ex/pool.h"
#include "inspect/commands.h"
#include "ldr/module.h"
#include "system.h"

namespace iosim::inspect::detail {

bool poolused(const Args& args, std::string& out, std::string& error)
{
    if (!args.empty()) {
        error = "!poolused: expected no arguments";
        return false;
    }
    ex::PoolTracker& pool = System::current()->pool();
    std::vector<ex::PoolTracker::TagUsage> usage = pool.usage_by_tag();
    if (usage.empty()) {
        out += "no pool is allocated\n";
        return true;
    }

    // Owner per (tag, paged): the one module all blocks share, if any.
    struct Owner {
        const ldr::Module* module = nullptr;
        bool mixed = false;
        bool seen = false;
    };
    std::map<std::pair<ULONG, bool>, Owner> owners;
    for (const ex::PoolBlock& block : pool.outstanding_all()) {
        Owner& owner = owners[{block.tag, block.paged}];
        if (!owner.seen) {
            owner.module = block.owner;
            owner.seen = true;
        } else if (owner.module != block.owner) {
            owner.mixed = true;
        }
    }

    std::sort(usage.begin(), usage.end(), [](const ex::PoolTracker::TagUsage& a, const ex::PoolTracker::TagUsage& b) {
        std::string ta = ex::tag_to_string(a.tag), tb = ex::tag_to_string(b.tag);
        return ta != tb ? ta < tb : (!a.paged && b.paged);
    });
    size_t total_allocs = 0, paged_bytes = 0, nonpaged_bytes = 0;
    out += fmt::format("{:<4}  {:<8}  {:>6}  {:>8}  {}\n", "Tag", "Type", "Allocs", "Bytes", "Owner");
    for (const ex::PoolTracker::TagUsage& u : usage) {
        const Owner& owner = owners[{u.tag, u.paged}];
        std::string who = owner.mixed ? "(several)" : owner.module != nullptr ? owner.module->name : "-";
        out += fmt::format("{:<4}  {:<8}  {:>6}  {:>8}  {}\n", ex::tag_to_string(u.tag), u.paged ? "Paged" : "NonPaged",
                           u.allocations, u.bytes, who);
        total_allocs += u.allocations;
        (u.paged ? paged_bytes : nonpaged_bytes) += u.bytes;
    }
    out += fmt::format("Total: {} allocation(s), {} bytes (NonPaged {}, Paged {})\n", total_allocs,
                       paged_bytes + nonpaged_bytes, nonpaged_bytes, paged_bytes);
    return true;
}

}  // namespace iosim::inspect::detail
