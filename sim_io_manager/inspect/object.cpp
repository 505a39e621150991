// object.cpp - !object: the object namespace, WinObj-style, or one object.
//
//   !object                the whole namespace as a tree (same as "!object \")
//   !object \Device        a directory: its entries, subdirectories expanded
//   !object \Device\X      any other object: type, name, pointer and handle counts
//   !object 0xaddress      a live object by address (named or not)
//
// A directory listing has one line per entry, indented two spaces per level, the names
// in one column and the type after it, and a symbolic link's target:
//
//     IosimHello  SymbolicLink -> \Device\IosimHello
//
// The last component of a path that names a symbolic link is shown as the link itself
// (open_link), not followed; a link met earlier in the path is followed, as in a lookup.
// Entries are sorted by name (case-insensitively), as Directory::entries gives them.
#include <fmt/format.h>

#include <algorithm>

#include "device.h"
#include "driver.h"
#include "file.h"
#include "inspect/commands.h"
#include "irp.h"
#include "ob/directory.h"
#include "ob/namespace.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::inspect::detail {

namespace {

constexpr const char* kUsage = "!object: expected an object path (\\, \\Device, ...) or address (0x...), or nothing";

struct Row {
    int depth;
    std::string name;
    std::string type;
    std::string detail;  // " -> target" or ""
};

void walk(ob::Directory* dir, int depth, std::vector<Row>& rows)
{
    for (const ob::Directory::Entry& entry : dir->entries()) {
        Row row{depth, utf8(entry.name), ob::header_of(entry.body)->type->name, ""};
        if (ob::is_object_of_type(entry.body, ob::symbolic_link_type()))
            row.detail = " -> " + utf8(static_cast<ob::SymbolicLink*>(entry.body)->target);
        rows.push_back(row);
        if (ob::is_object_of_type(entry.body, ob::directory_type()) && depth < 32)
            walk(static_cast<ob::Directory*>(entry.body), depth + 1, rows);
    }
}

void list_directory(void* body, std::string& out)
{
    std::vector<Row> rows;
    walk(static_cast<ob::Directory*>(body), 0, rows);
    std::string name = utf8(ob::full_name(body));
    out += fmt::format("Directory {} ({}): {} entr{}{}\n", name, address(body), rows.size(), rows.size() == 1 ? "y" : "ies",
                       rows.empty() ? "" : ", subdirectories expanded");
    size_t width = 0;
    for (const Row& row : rows)
        width = std::max(width, row.depth * 2 + row.name.size());
    for (const Row& row : rows) {
        std::string indented = std::string(row.depth * 2, ' ') + row.name;
        out += fmt::format("  {:<{}}  {}{}\n", indented, width, row.type, row.detail);
    }
}

void describe_object(void* body, std::string& out)
{
    ob::ObjectHeader* header = ob::header_of(body);
    std::string name = utf8(ob::full_name(body));
    out += fmt::format("Object: {}  Type: {}\n", address(body), header->type->name);
    out += fmt::format("  Name: {}\n", name.empty() ? "(unnamed)" : name);
    out += fmt::format("  PointerCount: {}  HandleCount: {}{}\n", ob::pointer_count(body), ob::handle_count(body),
                       header->permanent ? "  (permanent: the namespace holds a reference)" : "");
    if (header->type->describe != nullptr)
        out += "  " + header->type->describe(body) + "\n";
    if (ob::is_object_of_type(body, ob::symbolic_link_type())) {
        out += fmt::format("  Target: {}\n", utf8(static_cast<ob::SymbolicLink*>(body)->target));
    } else if (io::is_device(body)) {
        out += fmt::format("  Driver: {}  (see !devobj, !devstack)\n",
                           io::driver_name(static_cast<DEVICE_OBJECT*>(body)->DriverObject));
    } else if (io::is_driver(body)) {
        out += "  (see !drvobj)\n";
    } else if (ob::is_object_of_type(body, io::file_type())) {
        auto* file = static_cast<FILE_OBJECT*>(body);
        out += fmt::format("  Device: {}\n", file->DeviceObject != nullptr ? device_label(file->DeviceObject) : "none");
    } else if (ob::is_object_of_type(body, process_type())) {
        auto* process = static_cast<Process*>(body);
        out += fmt::format("  Process: pid {} ({})  (see !process, !handle)\n", process->pid(), process->image_name());
    } else if (ob::is_object_of_type(body, thread_type())) {
        out += fmt::format("  Thread: {}  (see !thread)\n", thread_text(static_cast<Thread*>(body)));
    }
}

}  // namespace

bool object(const Args& args, std::string& out, std::string& error)
{
    if (args.size() > 1) {
        error = kUsage;
        return false;
    }
    std::string path = args.empty() ? "\\" : args[0];
    if (looks_like_address(path)) {
        std::optional<uintptr_t> value = parse_address(path);
        void* body = value ? live_object_at(*value, nullptr) : nullptr;
        if (body == nullptr) {
            error = value ? fmt::format("!object: {} is not a live object", address(*value)) : kUsage;
            return false;
        }
        if (ob::is_object_of_type(body, ob::directory_type()))
            list_directory(body, out);
        else
            describe_object(body, out);
        return true;
    }
    if (path.empty() || path[0] != '\\') {
        error = kUsage;
        return false;
    }
    auto found = System::current()->ns().lookup(utf16(path), /*open_link=*/true);
    if (found.status < 0) {
        error = fmt::format("!object: no object named {} ({})", path, status_text(found.status));
        return false;
    }
    if (!found.remaining.empty()) {
        error = fmt::format("!object: no object named {}: the name ends at {} (a {}), which parses \"{}\" itself", path,
                            utf8(ob::full_name(found.object)), ob::header_of(found.object)->type->name,
                            utf8(found.remaining));
        ob::dereference(found.object);
        return false;
    }
    // An object in the namespace is kept alive by it or by its holders: drop the lookup's
    // reference first, so that the counts printed are the machine's own.
    ob::dereference(found.object);
    if (ob::is_object_of_type(found.object, ob::directory_type()))
        list_directory(found.object, out);
    else
        describe_object(found.object, out);
    return true;
}

}  // namespace iosim::inspect::detail
