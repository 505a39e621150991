// device.h - device objects: creation, deletion, stacks.
//
// A device object's body is DEVICE_OBJECT, followed by iosim's DEVOBJ_EXTENSION and then
// the driver's zeroed device extension. The DEVOBJ_EXTENSION holds what Windows keeps
// there too (delete/unload pending flags, the device this one is attached to) plus the
// name it had, for reports after the name is gone.
// NT counterparts: IoCreateDevice, IoDeleteDevice, IoGetAttachedDevice, DEVOBJ_EXTENSION.
#pragma once

#include <string>

#include "ob/object.h"
#include "wdm_impl.h"

// iosim's definition of the (opaque to drivers) device object extension.
struct _DEVOBJ_EXTENSION {
    CSHORT Type;
    USHORT Size;
    PDEVICE_OBJECT DeviceObject;
    ULONG ExtensionFlags;
    PDEVICE_OBJECT AttachedTo;
    const void* creator;       // return address of the IoCreateDevice call
    BOOLEAN holds_driver;      // the device references its driver object (until it is freed)
    char16_t last_name[128];   // the name, kept for reports after deletion
    ULONG StartIoFlags;        // IoSetStartIoAttributes and deferred IoStartNextPacket (startio.cpp)
    LONG StartIoCount;         // how deep the driver is inside its StartIo routine
    ULONG StartIoKey;          // the key of a deferred IoStartNextPacketByKey
};

namespace iosim::io {

// ExtensionFlags bits (Windows' DOE_* values).
constexpr ULONG DOE_UNLOAD_PENDING = 0x1;
constexpr ULONG DOE_DELETE_PENDING = 0x2;
constexpr ULONG DOE_REMOVE_PENDING = 0x4;
constexpr ULONG DOE_REMOVE_PROCESSED = 0x8;

ob::ObjectType& device_type();
_DEVOBJ_EXTENSION* device_private(DEVICE_OBJECT* device);
bool is_device(const void* object);

// The top of the stack `device` belongs to.
DEVICE_OBJECT* attached_top(DEVICE_OBJECT* device);

// Takes a device out of its driver's list and the namespace and drops its existence
// reference, as IoDeleteDevice does; used for devices a driver forgot (after reporting).
void delete_device(DEVICE_OBJECT* device);

}  // namespace iosim::io
