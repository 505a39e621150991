// namespace.cpp - the object namespace and name lookup with symbolic-link reparsing.
// NT counterparts: ObpLookupObjectName, ObpParseSymbolicLink, ObInsertObject.
#include "ob/namespace.h"

#include <vector>

namespace iosim::ob {

namespace {

ObjectType g_directory_type{.name = "Directory",
                            .delete_procedure = [](void* body) { destroy_body<Directory>(body); }};

ObjectType g_symlink_type{.name = "SymbolicLink",
                          .delete_procedure = [](void* body) { destroy_body<SymbolicLink>(body); }};

Directory* as_directory(void* body) { return is_object_of_type(body, g_directory_type) ? static_cast<Directory*>(body) : nullptr; }

// Splits "\A\B\C" into its components; empty components are skipped.
std::vector<std::u16string_view> components(std::u16string_view path)
{
    std::vector<std::u16string_view> out;
    size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == u'\\')
            ++i;
        size_t start = i;
        while (i < path.size() && path[i] != u'\\')
            ++i;
        if (i > start)
            out.push_back(path.substr(start, i - start));
    }
    return out;
}

}  // namespace

ObjectType& directory_type() { return g_directory_type; }
ObjectType& symbolic_link_type() { return g_symlink_type; }

ObjectNamespace::ObjectNamespace()
{
    root_ = create_object_of<Directory>(g_directory_type);
    header_of(root_)->name = u"\\";
    header_of(root_)->permanent = true;
    for (auto dir : {u"\\Device", u"\\Driver", u"\\GLOBAL??", u"\\ObjectTypes", u"\\KernelObjects", u"\\FileSystem",
                     u"\\BaseNamedObjects"})
        create_directory(dir);
}

ObjectNamespace::~ObjectNamespace()
{
    // Tear the tree down depth-first, dropping the references the namespace holds.
    std::vector<void*> stack{root_};
    std::vector<void*> order;
    while (!stack.empty()) {
        void* body = stack.back();
        stack.pop_back();
        order.push_back(body);
        if (Directory* dir = as_directory(body))
            for (auto& entry : dir->entries())
                stack.push_back(entry.body);
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        if (*it == root_)
            continue;
        ObjectHeader* header = header_of(*it);
        bool permanent = header->permanent;
        if (header->parent != nullptr)
            header->parent->remove_entry(*it);
        if (permanent) {
            header->permanent = false;
            dereference(*it);
        }
    }
    dereference(root_);
}

std::u16string ObjectNamespace::expand_dos_devices(std::u16string_view path)
{
    if (path == u"\\??")
        return u"\\GLOBAL??";
    if (path.size() >= 4 && path.substr(0, 4) == u"\\??\\")
        return u"\\GLOBAL??" + std::u16string(path.substr(3));
    return std::u16string(path);
}

NTSTATUS ObjectNamespace::insert(std::u16string_view raw_path, void* body, bool permanent)
{
    std::u16string path = expand_dos_devices(raw_path);
    if (path.empty() || path[0] != u'\\')
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    size_t slash = path.find_last_of(u'\\');
    std::u16string_view dir_path = std::u16string_view(path).substr(0, slash);
    std::u16string_view leaf = std::u16string_view(path).substr(slash + 1);
    if (leaf.empty())
        return STATUS_OBJECT_NAME_INVALID;
    Lookup parent = lookup(dir_path.empty() ? u"\\" : dir_path);
    if (parent.status < 0)
        return STATUS_OBJECT_PATH_NOT_FOUND;
    Directory* dir = parent.remaining.empty() ? as_directory(parent.object) : nullptr;
    NTSTATUS status = STATUS_SUCCESS;
    if (dir == nullptr)
        status = STATUS_OBJECT_PATH_NOT_FOUND;
    else if (!dir->insert(leaf, body))
        status = STATUS_OBJECT_NAME_COLLISION;
    else if (permanent) {
        header_of(body)->permanent = true;
        reference(body);
    }
    dereference(parent.object);
    return status;
}

void ObjectNamespace::make_temporary(void* body)
{
    ObjectHeader* header = header_of(body);
    if (header->parent != nullptr)
        header->parent->remove_entry(body);
    if (header->permanent) {
        header->permanent = false;
        dereference(body);
    }
}

ObjectNamespace::Lookup ObjectNamespace::lookup(std::u16string_view raw_path, bool open_link) const
{
    Lookup result;
    std::u16string path = expand_dos_devices(raw_path);
    if (path.empty() || path[0] != u'\\') {
        result.status = STATUS_OBJECT_PATH_SYNTAX_BAD;
        return result;
    }
    for (;;) {
        auto parts = components(path);
        void* current = root_;
        size_t consumed = 0;  // characters of `path` walked so far
        bool reparsed = false;
        for (size_t i = 0; i < parts.size(); ++i) {
            Directory* dir = as_directory(current);
            if (dir == nullptr)
                break;  // a non-directory object: the rest is for its parse procedure
            void* next = dir->find(parts[i]);
            bool last = i + 1 == parts.size();
            if (next == nullptr) {
                result.status = last ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_OBJECT_PATH_NOT_FOUND;
                return result;
            }
            consumed = static_cast<size_t>(parts[i].data() - path.data()) + parts[i].size();
            if (is_object_of_type(next, g_symlink_type) && !(last && open_link)) {
                if (++result.reparses > kMaxReparse) {
                    result.status = STATUS_REPARSE_POINT_NOT_RESOLVED;
                    return result;
                }
                auto* link = static_cast<SymbolicLink*>(next);
                path = expand_dos_devices(link->target) + path.substr(consumed);
                reparsed = true;
                break;
            }
            current = next;
        }
        if (reparsed)
            continue;
        reference(current);
        result.status = STATUS_SUCCESS;
        result.object = current;
        result.remaining = path.substr(consumed);
        if (result.remaining == u"\\")
            result.remaining.clear();
        return result;
    }
}

NTSTATUS ObjectNamespace::create_directory(std::u16string_view path)
{
    void* dir = create_object_of<Directory>(g_directory_type);
    NTSTATUS status = insert(path, dir, true);
    dereference(dir);
    return status;
}

NTSTATUS ObjectNamespace::create_symbolic_link(std::u16string_view path, std::u16string_view target,
                                               const void* creator, void** link_out)
{
    auto* link = create_object_of<SymbolicLink>(g_symlink_type);
    link->target = std::u16string(target);
    link->creator = creator;
    NTSTATUS status = insert(path, link, true);
    if (status >= 0 && link_out != nullptr)
        *link_out = link;
    dereference(link);
    return status;
}

}  // namespace iosim::ob
