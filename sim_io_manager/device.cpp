// device.cpp - IoCreateDevice, IoDeleteDevice and device stack queries.
// NT counterparts: IoCreateDevice, IoDeleteDevice, IoGetAttachedDevice, IopDeleteDevice.
#include "device.h"

#include <fmt/format.h>

#include <cstring>

#include "driver.h"
#include "io_timer.h"
#include "irp.h"
#include "ldr/symbolize.h"
#include "notify.h"
#include "pnp/pnp.h"
#include "rtl/status_names.h"
#include "system.h"

namespace iosim::io {

namespace {

constexpr size_t kDeviceHeader = (sizeof(DEVICE_OBJECT) + 15) & ~size_t{15};
constexpr size_t kExtensionOffset = kDeviceHeader + ((sizeof(_DEVOBJ_EXTENSION) + 15) & ~size_t{15});

void delete_device_object(void* body)
{
    auto* device = static_cast<DEVICE_OBJECT*>(body);
    if (System* sys = System::current(); sys != nullptr && sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0, fmt::format("device object {} freed", device_name(device)));
    // The driver object lives until its last device object goes, as on Windows.
    if (device->DeviceObjectExtension->holds_driver)
        ob::dereference(device->DriverObject);
}

ob::ObjectType g_device_type{.name = "Device", .delete_procedure = &delete_device_object};

std::u16string from_unicode(const UNICODE_STRING* s)
{
    return std::u16string(reinterpret_cast<const char16_t*>(s->Buffer), s->Length / sizeof(WCHAR));
}

}  // namespace

ob::ObjectType& device_type() { return g_device_type; }

_DEVOBJ_EXTENSION* device_private(DEVICE_OBJECT* device) { return device->DeviceObjectExtension; }

bool is_device(const void* object) { return ob::is_object_of_type(object, g_device_type); }

DEVICE_OBJECT* attached_top(DEVICE_OBJECT* device)
{
    while (device->AttachedDevice != nullptr)
        device = device->AttachedDevice;
    return device;
}

static void unlink_from_driver(DEVICE_OBJECT* device)
{
    DRIVER_OBJECT* driver = device->DriverObject;
    for (DEVICE_OBJECT** link = &driver->DeviceObject; *link != nullptr; link = &(*link)->NextDevice) {
        if (*link == device) {
            *link = device->NextDevice;
            break;
        }
    }
    device->NextDevice = nullptr;
}

void delete_device(DEVICE_OBJECT* device)
{
    // A device must leave its stack (IoDetachDevice) before it is deleted; a driver that
    // forgets leaves the device below pointing at freed memory on Windows. iosim reports it
    // and detaches.
    System* sys = System::current();
    _DEVOBJ_EXTENSION* ext = device_private(device);
    if (ext->AttachedTo != nullptr) {
        DEVICE_OBJECT* lower = ext->AttachedTo;
        sys->report({"DEVICE_DELETED_WHILE_ATTACHED",
                     fmt::format("{} was deleted while still attached on top of {}: call IoDetachDevice on the lower "
                                 "device first.",
                                 device_name(device), device_name(lower)),
                     "", {}});
        lower->AttachedDevice = nullptr;
        ext->AttachedTo = nullptr;
    }
    if (device->AttachedDevice != nullptr) {
        DEVICE_OBJECT* upper = device->AttachedDevice;
        // PnP: at IRP_MN_REMOVE_DEVICE every driver passes the IRP down, then detaches and
        // deletes its device, so each lower device is deleted while the one above is still
        // attached; that is the rule there, not a bug (the PnP manager holds the stack's
        // objects until the remove IRP is done).
        if ((ext->ExtensionFlags & DOE_REMOVE_PENDING) == 0) {
            sys->report({"DEVICE_DELETED_UNDER_A_FILTER",
                         fmt::format("{} was deleted while {} was still attached on top of it: the upper driver must "
                                     "detach first (requests to the stack would reach a deleted device).",
                                     device_name(device), device_name(upper)),
                         "", {}});
        }
        device_private(upper)->AttachedTo = nullptr;
        device->AttachedDevice = nullptr;
    }
    delete_device_timer(device);  // IoDeleteDevice removes the IoInitializeTimer timer (io_timer.cpp)
    if ((device->Flags & DO_SHUTDOWN_REGISTERED) != 0)
        forget_shutdown_registration(device);  // IoDeleteDevice unregisters (notify.cpp)
    unlink_from_driver(device);
    device_private(device)->ExtensionFlags |= DOE_DELETE_PENDING;
    if ((device->Flags & DO_DEVICE_HAS_NAME) != 0)
        sys->ns().make_temporary(device);  // drops the namespace's reference
    else
        ob::dereference(device);  // the creation reference
}

}  // namespace iosim::io

using namespace iosim;
using namespace iosim::io;

extern "C" {

NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize, PUNICODE_STRING DeviceName,
                        DEVICE_TYPE DeviceType, ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT* DeviceObject)
{
    const void* caller = __builtin_return_address(0);
    System* sys = System::current();
    // PnP: a bus driver asks for a generated name for each PDO (FILE_AUTOGENERATED_DEVICE_NAME).
    std::u16string generated;
    UNICODE_STRING generated_name{};
    if ((DeviceName == nullptr || DeviceName->Length == 0) && (DeviceCharacteristics & FILE_AUTOGENERATED_DEVICE_NAME)) {
        generated = pnp::next_autogenerated_device_name();
        generated_name.Length = generated_name.MaximumLength = static_cast<USHORT>(generated.size() * sizeof(char16_t));
        generated_name.Buffer = reinterpret_cast<PWSTR>(generated.data());
        DeviceName = &generated_name;
    }
    void* body = ob::create_object(g_device_type, kExtensionOffset + DeviceExtensionSize);
    auto* device = static_cast<DEVICE_OBJECT*>(body);
    auto* ext = reinterpret_cast<_DEVOBJ_EXTENSION*>(static_cast<char*>(body) + kDeviceHeader);
    device->Type = IO_TYPE_DEVICE;
    device->Size = static_cast<USHORT>(sizeof(DEVICE_OBJECT) + DeviceExtensionSize);
    device->DriverObject = DriverObject;
    device->DeviceType = DeviceType;
    device->Characteristics = DeviceCharacteristics;
    device->StackSize = 1;
    device->Flags = DO_DEVICE_INITIALIZING | (Exclusive ? DO_EXCLUSIVE : 0);
    device->DeviceObjectExtension = ext;
    device->DeviceExtension = DeviceExtensionSize != 0 ? static_cast<char*>(body) + kExtensionOffset : nullptr;
    InitializeListHead(&device->Queue.ListEntry);
    KeInitializeDeviceQueue(&device->DeviceQueue);  // IoStartPacket's queue (startio.cpp)
    ext->Type = IO_TYPE_DEVICE_OBJECT_EXTENSION;
    ext->Size = sizeof(_DEVOBJ_EXTENSION);
    ext->DeviceObject = device;
    ext->creator = caller;

    if (DeviceName != nullptr && DeviceName->Length != 0) {
        std::u16string name = from_unicode(DeviceName);
        size_t n = std::min(name.size(), std::size(ext->last_name) - 1);
        std::memcpy(ext->last_name, name.data(), n * sizeof(char16_t));
        NTSTATUS status = sys->ns().insert(name, device, true);
        if (!NT_SUCCESS(status)) {
            if (sys->trace().enabled())
                sys->trace().record(trace::Kind::Object, 0,
                                    fmt::format("IoCreateDevice({}) failed: {}", device_name(device), status_text(status)));
            ob::dereference(device);
            *DeviceObject = nullptr;
            return status;
        }
        device->Flags |= DO_DEVICE_HAS_NAME;
        // The namespace holds the device now; drop the creation reference so that the
        // namespace's reference and the driver's list keep it, as one unit.
        ob::dereference(device);
    }
    ob::reference(DriverObject);
    ext->holds_driver = TRUE;
    // Newest first, as the I/O manager links them.
    device->NextDevice = DriverObject->DeviceObject;
    DriverObject->DeviceObject = device;
    *DeviceObject = device;
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0,
                            fmt::format("{} created {} (type 0x{:X}{}){}", driver_name(DriverObject), device_name(device),
                                        DeviceType, Exclusive ? ", exclusive" : "",
                                        DeviceExtensionSize ? fmt::format(", {}-byte extension", DeviceExtensionSize) : ""));
    return STATUS_SUCCESS;
}

void IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    System* sys = System::current();
    if (sys->trace().enabled())
        sys->trace().record(trace::Kind::Object, 0,
                            fmt::format("{} deleted {}{}", driver_name(DeviceObject->DriverObject), device_name(DeviceObject),
                                        DeviceObject->ReferenceCount != 0
                                            ? fmt::format(" ({} open file object(s) keep it until they close)",
                                                          DeviceObject->ReferenceCount)
                                            : ""));
    delete_device(DeviceObject);
}

PDEVICE_OBJECT IoGetAttachedDevice(PDEVICE_OBJECT DeviceObject) { return attached_top(DeviceObject); }

PDEVICE_OBJECT IoGetAttachedDeviceReference(PDEVICE_OBJECT DeviceObject)
{
    DEVICE_OBJECT* top = attached_top(DeviceObject);
    ob::reference(top);
    return top;
}

}  // extern "C"

namespace {
POBJECT_TYPE g_device_type_ptr = reinterpret_cast<POBJECT_TYPE>(&iosim::io::device_type());
}
extern "C" {
POBJECT_TYPE* IoDeviceObjectType = &g_device_type_ptr;
}
