// file.cpp - the File object type: cleanup on last handle, close on last reference.
// NT counterparts: IopCloseFile, IopDeleteFile.
#include "file.h"

#include <fmt/format.h>

#include "device.h"
#include "driver.h"
#include "request.h"
#include "system.h"

namespace iosim::io {

namespace {

void close_file(Process* process, void* body)
{
    auto* file = static_cast<FileBody*>(body);
    if (!file->priv.opened)
        return;
    // Last handle closed: IRP_MJ_CLEANUP, in the context of the process closing it.
    send_file_notification(&file->object, IRP_MJ_CLEANUP);
    file->object.Flags |= FO_CLEANUP_COMPLETE;
}

void delete_file(void* body)
{
    auto* file = static_cast<FileBody*>(body);
    DEVICE_OBJECT* device = file->object.DeviceObject;
    if (file->priv.opened) {
        // Last reference gone: IRP_MJ_CLOSE, in whatever context that happens.
        send_file_notification(&file->object, IRP_MJ_CLOSE);
        device->ReferenceCount--;
    }
    if (file->object.CompletionContext != nullptr)
        ob::dereference(file->object.CompletionContext->Port);
    ob::destroy_body<FileBody>(body);
    if (device != nullptr) {
        DRIVER_OBJECT* driver = device->DriverObject;
        bool last = device->ReferenceCount == 0;
        ob::dereference(device);
        if (last)
            check_deferred_unload(driver);
    }
}

ob::ObjectType g_file_type{.name = "File", .close_procedure = &close_file, .delete_procedure = &delete_file};

}  // namespace

ob::ObjectType& file_type() { return g_file_type; }
FileBody* file_body(FILE_OBJECT* file) { return reinterpret_cast<FileBody*>(file); }

FILE_OBJECT* create_file_object(DEVICE_OBJECT* device, std::u16string_view remaining_name)
{
    auto* body = ob::create_object_of<FileBody>(g_file_type);
    FILE_OBJECT* file = &body->object;
    file->Type = IO_TYPE_FILE;
    file->Size = sizeof(FILE_OBJECT);
    file->DeviceObject = device;
    ob::reference(device);
    InitializeListHead(&file->IrpList);
    // Signalled when a request on it completes (what a synchronous request and a wait on the
    // file handle wait for); a notification event, clear until then.
    KeInitializeEvent(&file->Event, NotificationEvent, FALSE);
    KeInitializeEvent(&file->Lock, SynchronizationEvent, FALSE);
    body->priv.name = std::u16string(remaining_name);
    file->FileName.Length = static_cast<USHORT>(body->priv.name.size() * sizeof(char16_t));
    file->FileName.MaximumLength = file->FileName.Length;
    file->FileName.Buffer = body->priv.name.empty() ? nullptr : reinterpret_cast<PWSTR>(body->priv.name.data());
    return file;
}

}  // namespace iosim::io

namespace {
POBJECT_TYPE g_file_type_ptr = reinterpret_cast<POBJECT_TYPE>(&iosim::io::file_type());
}
extern "C" {
POBJECT_TYPE* IoFileObjectType = &g_file_type_ptr;
}
