// attach.cpp - device stacks: attaching a device on top of another, detaching, and the
// queries that walk a stack.
//
// A request to a name goes to the top of the stack the named device belongs to; each
// layer passes it down with IoCallDriver to the device below. Attaching sets the lower
// device's AttachedDevice and gives the new top a StackSize one larger than the device it
// sits on, so an IRP allocated for the top has a stack location for every layer.
// Attaching to a device that is still initializing or is being deleted/unloaded fails.
// NT counterparts: IoAttachDeviceToDeviceStackSafe, IoAttachDevice, IoDetachDevice,
// IoGetLowerDeviceObject, IoGetDeviceObjectPointer, IoGetRelatedDeviceObject.
#include <fmt/format.h>

#include "device.h"
#include "file.h"
#include "io_api.h"
#include "irp.h"
#include "ldr/symbolize.h"
#include "ob/kernel_handle.h"
#include "ps/process.h"
#include "system.h"

using namespace iosim;
using namespace iosim::io;

namespace {

bool can_attach_to(DEVICE_OBJECT* device)
{
    ULONG gone = DOE_UNLOAD_PENDING | DOE_DELETE_PENDING | DOE_REMOVE_PENDING | DOE_REMOVE_PROCESSED;
    return (device_private(device)->ExtensionFlags & gone) == 0 && (device->Flags & DO_DEVICE_INITIALIZING) == 0;
}

std::u16string from_unicode(const UNICODE_STRING* s)
{
    return std::u16string(reinterpret_cast<const char16_t*>(s->Buffer), s->Length / sizeof(WCHAR));
}

}  // namespace

extern "C" {

NTSTATUS IoAttachDeviceToDeviceStackSafe(PDEVICE_OBJECT SourceDevice, PDEVICE_OBJECT TargetDevice,
                                         PDEVICE_OBJECT* AttachedToDeviceObject)
{
    DEVICE_OBJECT* top = attached_top(TargetDevice);
    *AttachedToDeviceObject = nullptr;
    System* sys = System::current();
    if (!can_attach_to(top)) {
        if (sys->trace().enabled())
            sys->trace().record(trace::Kind::Object, 0,
                                fmt::format("attaching {} to {} failed: the device is initializing or going away",
                                            device_name(SourceDevice), device_name(top)));
        return STATUS_NO_SUCH_DEVICE;
    }
    top->AttachedDevice = SourceDevice;
    device_private(SourceDevice)->AttachedTo = top;
    SourceDevice->StackSize = static_cast<CCHAR>(top->StackSize + 1);
    SourceDevice->AlignmentRequirement = top->AlignmentRequirement;
    SourceDevice->SectorSize = top->SectorSize;
    *AttachedToDeviceObject = top;
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0,
                            fmt::format("{} attached on top of {} (its stack now has {} layer(s))", device_name(SourceDevice),
                                        device_name(top), static_cast<int>(SourceDevice->StackSize)));
    return STATUS_SUCCESS;
}

PDEVICE_OBJECT IoAttachDeviceToDeviceStack(PDEVICE_OBJECT SourceDevice, PDEVICE_OBJECT TargetDevice)
{
    PDEVICE_OBJECT lower = nullptr;
    IoAttachDeviceToDeviceStackSafe(SourceDevice, TargetDevice, &lower);
    return lower;
}

NTSTATUS IoAttachDevice(PDEVICE_OBJECT SourceDevice, PUNICODE_STRING TargetDevice, PDEVICE_OBJECT* AttachedDevice)
{
    *AttachedDevice = nullptr;
    auto found = System::current()->ns().lookup(from_unicode(TargetDevice));
    if (!NT_SUCCESS(found.status))
        return found.status;
    NTSTATUS status = STATUS_OBJECT_TYPE_MISMATCH;
    if (found.remaining.empty() && is_device(found.object))
        status = IoAttachDeviceToDeviceStackSafe(SourceDevice, static_cast<DEVICE_OBJECT*>(found.object), AttachedDevice);
    ob::dereference(found.object);
    return status;
}

void IoDetachDevice(PDEVICE_OBJECT TargetDevice)
{
    DEVICE_OBJECT* upper = TargetDevice->AttachedDevice;
    if (upper == nullptr)
        return;
    System* sys = System::current();
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0,
                            fmt::format("{} detached from {}", device_name(upper), device_name(TargetDevice)));
    device_private(upper)->AttachedTo = nullptr;
    TargetDevice->AttachedDevice = nullptr;
}

PDEVICE_OBJECT IoGetLowerDeviceObject(PDEVICE_OBJECT DeviceObject)
{
    DEVICE_OBJECT* lower = device_private(DeviceObject)->AttachedTo;
    if (lower != nullptr)
        ob::reference(lower);
    return lower;
}

PDEVICE_OBJECT IoGetRelatedDeviceObject(PFILE_OBJECT FileObject) { return attached_top(FileObject->DeviceObject); }

NTSTATUS IoGetDeviceObjectPointer(PUNICODE_STRING ObjectName, ACCESS_MASK DesiredAccess, PFILE_OBJECT* FileObject,
                                  PDEVICE_OBJECT* DeviceObject)
{
    // As on Windows: open the name (IRP_MJ_CREATE reaches the stack), keep a reference to
    // the file object, close the handle (IRP_MJ_CLEANUP). The caller's ObDereferenceObject
    // of the file object later brings IRP_MJ_CLOSE.
    // The handle is a kernel handle, so this works in any process context.
    HANDLE handle = nullptr;
    IO_STATUS_BLOCK iosb{};
    NTSTATUS status = create_file(from_unicode(ObjectName), DesiredAccess, FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN,
                                  FILE_NON_DIRECTORY_FILE, KernelMode, OBJ_KERNEL_HANDLE, &handle, &iosb);
    if (!NT_SUCCESS(status))
        return status;
    void* object = nullptr;
    status = ob::reference_by_handle(handle, KernelMode, &file_type(), &object, nullptr);
    close_handle(handle, KernelMode);
    if (!NT_SUCCESS(status))
        return status;
    *FileObject = static_cast<FILE_OBJECT*>(object);
    *DeviceObject = attached_top((*FileObject)->DeviceObject);
    return STATUS_SUCCESS;
}

}  // extern "C"
