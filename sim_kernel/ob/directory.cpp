// directory.cpp - object directory entries.
// NT counterparts: ObpLookupDirectoryEntry, ObpInsertDirectoryEntry, ObpDeleteDirectoryEntry.
#include "ob/directory.h"

namespace iosim::ob {

char16_t upcase_char(char16_t c)
{
    // The ranges of lower-case letters in the scripts object names use: Latin (ASCII,
    // Latin-1, Latin Extended-A pairs), Greek, Cyrillic and the full-width forms. NT
    // compares names with its own upcase table; these are the entries that matter here.
    if (c >= u'a' && c <= u'z')
        return static_cast<char16_t>(c - 0x20);
    if (c < 0xE0)
        return c;
    if (c <= 0xFE)
        return c == 0xF7 ? c : static_cast<char16_t>(c - 0x20);
    if (c == 0xFF)
        return 0x178;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
        return (c & 1) ? static_cast<char16_t>(c - 1) : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) ? c : static_cast<char16_t>(c - 1);
    if (c == 0x3C2)
        return 0x3A3;  // final sigma
    if ((c >= 0x3B1 && c <= 0x3C1) || (c >= 0x3C3 && c <= 0x3CB))
        return static_cast<char16_t>(c - 0x20);
    if (c >= 0x430 && c <= 0x44F)
        return static_cast<char16_t>(c - 0x20);
    if (c >= 0x450 && c <= 0x45F)
        return static_cast<char16_t>(c - 0x50);
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF))
        return (c & 1) ? static_cast<char16_t>(c - 1) : c;
    if (c >= 0xFF41 && c <= 0xFF5A)
        return static_cast<char16_t>(c - 0x20);
    return c;
}

std::u16string upcase(std::u16string_view s)
{
    std::u16string out(s);
    for (auto& c : out)
        c = upcase_char(c);
    return out;
}

bool Directory::insert(std::u16string_view name, void* body)
{
    std::lock_guard guard(lock_);
    auto [it, inserted] = by_upcased_name_.emplace(upcase(name), Entry{std::u16string(name), body});
    if (!inserted)
        return false;
    ObjectHeader* header = header_of(body);
    header->parent = this;
    header->name = std::u16string(name);
    return true;
}

void* Directory::find(std::u16string_view name) const
{
    std::lock_guard guard(lock_);
    auto it = by_upcased_name_.find(upcase(name));
    return it == by_upcased_name_.end() ? nullptr : it->second.body;
}

void Directory::remove_entry(void* body)
{
    std::lock_guard guard(lock_);
    ObjectHeader* header = header_of(body);
    auto it = by_upcased_name_.find(upcase(header->name));
    if (it != by_upcased_name_.end() && it->second.body == body)
        by_upcased_name_.erase(it);
    header->parent = nullptr;
}

std::vector<Directory::Entry> Directory::entries() const
{
    std::lock_guard guard(lock_);
    std::vector<Entry> out;
    out.reserve(by_upcased_name_.size());
    for (auto& [key, entry] : by_upcased_name_)
        out.push_back(entry);
    return out;
}

}  // namespace iosim::ob
