// listing.cpp - walking directories for namespace listings.
#include "ob/listing.h"

#include <fmt/format.h>

#include "crt/format.h"

#include "ob/namespace.h"

namespace iosim::ob {

namespace {


void walk(void* directory, bool recursive, int depth, std::vector<ListedObject>& out)
{
    auto* dir = static_cast<Directory*>(directory);
    for (auto& entry : dir->entries()) {
        ListedObject item;
        item.path = crt::to_utf8(full_name(entry.body));
        item.type = header_of(entry.body)->type->name;
        item.depth = depth;
        if (is_object_of_type(entry.body, symbolic_link_type()))
            item.target = crt::to_utf8(static_cast<SymbolicLink*>(entry.body)->target);
        out.push_back(item);
        if (recursive && is_object_of_type(entry.body, directory_type()))
            walk(entry.body, recursive, depth + 1, out);
    }
}

}  // namespace

std::vector<ListedObject> list_directory(const ObjectNamespace& ns, const std::string& path, bool recursive)
{
    std::vector<ListedObject> out;
    std::u16string wide(path.begin(), path.end());
    auto found = ns.lookup(wide);
    if (found.status < 0 || !found.remaining.empty() || !is_object_of_type(found.object, directory_type())) {
        if (found.object != nullptr)
            dereference(found.object);
        return out;
    }
    walk(found.object, recursive, 0, out);
    dereference(found.object);
    return out;
}

std::vector<std::string> format_listing(const std::vector<ListedObject>& objects)
{
    std::vector<std::string> lines;
    for (const auto& item : objects) {
        std::string line = fmt::format("{:{}}{:<32} {}", "", item.depth * 2, item.path, item.type);
        if (!item.target.empty())
            line += " -> " + item.target;
        lines.push_back(line);
    }
    return lines;
}

}  // namespace iosim::ob
