// builtin_driver.h - driver objects for iosim's own kernel components (the PnP manager's
// root bus, the named-pipe file system), which no module or service starts.
//
// Such a driver object looks like any other to drivers and to !drvobj: \Driver\X or
// \FileSystem\X in the namespace, DRVO_BUILTIN_DRIVER set, every dispatch slot the I/O
// manager's IopInvalidDeviceRequest until the component fills in its own. Its code is
// iosim's (no module), so it is never unloaded as a service.
// NT counterpart: IopCreateDriver for the drivers the kernel starts itself.
#pragma once

#include <string>

#include "driver.h"

namespace iosim::io {

// Creates the driver object named `object_name` ("\Driver\PnpManager") for service
// `service_name`, inserts it in the namespace (which holds the reference) and returns it.
DRIVER_OBJECT* create_builtin_driver(const std::u16string& service_name, const std::u16string& object_name);

}  // namespace iosim::io
