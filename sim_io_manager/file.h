// file.h - file objects: what a handle to a device refers to.
//
// A file object's body is FILE_OBJECT followed by iosim's FilePrivate. It references the
// device it was opened on (FileObject->DeviceObject). Its handle count and reference
// count drive the two notifications a driver gets: IRP_MJ_CLEANUP when the last handle
// closes (in the closing process's context), IRP_MJ_CLOSE when the last reference goes.
// A file object whose IRP_MJ_CREATE failed never reaches the driver again.
// NT counterparts: FILE_OBJECT, IopCloseFile, IopDeleteFile.
#pragma once

#include <string>

#include "completion_port.h"
#include "ob/object.h"
#include "wdm_impl.h"

namespace iosim::io {

struct FilePrivate {
    bool opened = false;         // IRP_MJ_CREATE succeeded: CLEANUP/CLOSE will be sent
    ACCESS_MASK desired_access = 0;
    std::u16string name;         // FileName storage
    _IO_COMPLETION_CONTEXT completion{};  // what CompletionContext points at once associated with a port
    uint32_t lock_holder = 0;    // the thread holding the file object lock (FO_SYNCHRONOUS_IO), for waits' text
};

struct FileBody {
    FILE_OBJECT object;  // first: the body pointer is the PFILE_OBJECT
    FilePrivate priv;
};

ob::ObjectType& file_type();
FileBody* file_body(FILE_OBJECT* file);

// A new file object for `device`, with FileName set to `remaining_name`.
FILE_OBJECT* create_file_object(DEVICE_OBJECT* device, std::u16string_view remaining_name);

}  // namespace iosim::io
