// builtin_driver.cpp - driver objects for iosim's own kernel components (builtin_driver.h).
#include "builtin_driver.h"

#include "ob/namespace.h"
#include "system.h"

namespace iosim::io {

namespace {

UNICODE_STRING counted_view(std::u16string& s)
{
    UNICODE_STRING u;
    u.Buffer = reinterpret_cast<PWCH>(s.data());
    u.Length = static_cast<USHORT>(s.size() * sizeof(WCHAR));
    u.MaximumLength = u.Length;
    return u;
}

}  // namespace

DRIVER_OBJECT* create_builtin_driver(const std::u16string& service_name, const std::u16string& object_name)
{
    auto* body = ob::create_object_of<DriverBody>(driver_type());
    DRIVER_OBJECT* driver = &body->object;
    body->priv.service_name = service_name;
    body->priv.object_name = object_name;
    body->priv.module = nullptr;  // iosim's own code
    driver->Type = IO_TYPE_DRIVER;
    driver->Size = sizeof(DRIVER_OBJECT);
    driver->Flags = DRVO_BUILTIN_DRIVER;
    driver->DriverExtension = &body->extension;
    driver->DriverName = counted_view(body->priv.object_name);
    body->extension.DriverObject = driver;
    body->extension.ServiceKeyName = counted_view(body->priv.service_name);
    for (auto& slot : driver->MajorFunction)
        slot = &IopInvalidDeviceRequest;
    System::current()->ns().insert(body->priv.object_name, driver, true);
    ob::dereference(driver);  // the namespace holds it
    return driver;
}

}  // namespace iosim::io
