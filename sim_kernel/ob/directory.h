// directory.h - object directories: case-insensitive name -> object maps.
//
// A Directory is the body of an object of type "Directory". Names compare without
// regard to case (NT upcases both sides); the original spelling is kept for listings.
// An entry does not by itself keep an object alive; permanent objects carry an extra
// reference that make_temporary() drops (see namespace.h).
// NT counterparts: OBJECT_DIRECTORY, ObpLookupDirectoryEntry, ObpInsertDirectoryEntry.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ob/object.h"

namespace iosim::ob {

char16_t upcase_char(char16_t c);
std::u16string upcase(std::u16string_view s);

class Directory {
public:
    Directory() = default;

    void* self() { return this; }

    // Inserts `body` under `name`; false if the name is taken.
    bool insert(std::u16string_view name, void* body);
    // Looks a component up; returns the body or nullptr. Takes no reference.
    void* find(std::u16string_view name) const;
    // Removes the entry that names `body` (no-op if absent).
    void remove_entry(void* body);

    struct Entry {
        std::u16string name;
        void* body;
    };
    // Entries sorted by name (case-insensitively), for listings.
    std::vector<Entry> entries() const;

private:
    mutable std::mutex lock_;
    std::map<std::u16string, Entry> by_upcased_name_;
};

}  // namespace iosim::ob
