// listing.h - WinObj-style listings of the object namespace.
#pragma once

#include <string>
#include <vector>

namespace iosim::ob {

class ObjectNamespace;

struct ListedObject {
    std::string path;    // full name, "\Device\IosimHello"
    std::string type;    // "Device", "SymbolicLink", ...
    std::string target;  // link target, for symbolic links
    int depth = 0;       // 0 for the directory's own entries
};

// Entries of the directory at `path`, sorted by name; with `recursive`, subdirectories
// are expanded after their own entry.
std::vector<ListedObject> list_directory(const ObjectNamespace& ns, const std::string& path, bool recursive);

// One line per entry: "  \Device\IosimHello  Device" / "  \GLOBAL??\X  SymbolicLink -> \Device\X".
std::vector<std::string> format_listing(const std::vector<ListedObject>& objects);

}  // namespace iosim::ob
