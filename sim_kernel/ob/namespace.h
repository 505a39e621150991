// namespace.h - the object namespace: \, \Device, \Driver, \GLOBAL?? and name lookup.
//
// Lookup walks directories component by component. A symbolic link met on the way is
// replaced by its target and the walk restarts from the root (a "reparse"), at most
// kMaxReparse times. A non-directory object met before the last component ends the
// walk; what is left of the path is returned to the caller as `remaining` (for a
// device, the I/O manager hands it to the driver as the file name).
//
// "\??" is the caller's DosDevices directory; iosim has one, \GLOBAL??, which is what
// Windows falls back to. Win32's "\\.\X" becomes "\??\X" in the Win32 layer.
// NT counterparts: ObpLookupObjectName, ObpParseSymbolicLink, ObInsertObject.
#pragma once

#include <string>
#include <string_view>

#include "nt.h"
#include "ob/directory.h"
#include "ob/object.h"

namespace iosim::ob {

ObjectType& directory_type();
ObjectType& symbolic_link_type();

struct SymbolicLink {
    std::u16string target;
    const void* creator = nullptr;  // return address of the IoCreateSymbolicLink call, for reports
};

class ObjectNamespace {
public:
    static constexpr int kMaxReparse = 32;

    ObjectNamespace();
    ~ObjectNamespace();
    ObjectNamespace(const ObjectNamespace&) = delete;
    ObjectNamespace& operator=(const ObjectNamespace&) = delete;

    void* root() const { return root_; }

    // Names `body` at absolute `path` (its directory must exist). A permanent object is
    // kept alive by the namespace until make_temporary().
    NTSTATUS insert(std::u16string_view path, void* body, bool permanent);
    // Removes the name and, for a permanent object, the namespace's reference.
    void make_temporary(void* body);

    struct Lookup {
        NTSTATUS status = 0;
        void* object = nullptr;  // referenced; the caller dereferences
        std::u16string remaining;  // unparsed rest, with its leading backslash
        int reparses = 0;
    };
    // Finds the object named by `path`. With open_link, a symbolic link named by the
    // last component is returned itself instead of being followed.
    Lookup lookup(std::u16string_view path, bool open_link = false) const;

    NTSTATUS create_directory(std::u16string_view path);
    NTSTATUS create_symbolic_link(std::u16string_view path, std::u16string_view target, const void* creator,
                                  void** link_out);

    // "\??\X" -> "\GLOBAL??\X"; other paths unchanged.
    static std::u16string expand_dos_devices(std::u16string_view path);

private:
    void* root_ = nullptr;
};

}  // namespace iosim::ob
