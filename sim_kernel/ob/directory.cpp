// directory.cpp - object directory entries.
// NT counterparts: ObpLookupDirectoryEntry, ObpInsertDirectoryEntry, ObpDeleteDirectoryEntry.
#include "ob/directory.h"

namespace iosim::ob {

std::u16string upcase(std::u16string_view s)
{
    std::u16string out(s);
    for (auto& c : out) {
        if (c >= u'a' && c <= u'z')
            c = static_cast<char16_t>(c - u'a' + u'A');
        else if (c >= 0xE0 && c <= 0xFE && c != 0xF7)  // Latin-1 lower case letters
            c = static_cast<char16_t>(c - 0x20);
    }
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
