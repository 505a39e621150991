// pnp_irp.h - how the PnP and power managers send their IRPs (internal to pnp/).
//
// An IRP goes to the top of the device stack (IoGetAttachedDeviceReference of any layer)
// in the System thread, with IoStatus.Status = STATUS_NOT_SUPPORTED: a driver that does not
// handle the minor code passes the IRP down untouched, and the bus driver at the bottom
// completes it with the status unchanged, so the sender can tell "nobody handled it" from
// success or failure. The IRP is the manager's own (not an I/O manager request): once it is
// completed the manager reads IoStatus, frees any buffer a driver returned in Information,
// and frees the IRP. A PnP IRP that stays pending is not waited for until the PnP manager has
// its own thread to wait on: that is reported, and the IRP is released at shutdown.
// NT counterparts: IopSynchronousCall, IopQueryDeviceId, PopAllocateIrp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wdm_impl.h"

namespace iosim::io::pnp {

struct IrpResult {
    NTSTATUS status = STATUS_NOT_SUPPORTED;
    ULONG_PTR information = 0;
    bool completed = false;    // false: the IRP is still pending (reported)
    std::string completed_at;  // "toyfunc.c:120 in ToyDispatchPnp (toyfunc.sys)": who completed it
};

// "IRP_MN_START_DEVICE", "IRP_MN_SET_POWER", ...
const char* minor_name(UCHAR major, UCHAR minor);
const char* id_type_name(BUS_QUERY_ID_TYPE type);

// Sends IRP_MJ_PNP `minor` to the stack of `device`; `fill` sets the stack location's
// Parameters. `about` names the device node in traces and reports.
IrpResult send_pnp(DEVICE_OBJECT* device, UCHAR minor, const std::function<void(IO_STACK_LOCATION&)>& fill,
                   std::string_view about);

// Sends IRP_MJ_POWER `minor` (IRP_MN_QUERY_POWER or IRP_MN_SET_POWER) to the stack of `device`.
IrpResult send_power(DEVICE_OBJECT* device, UCHAR minor, POWER_STATE_TYPE type, POWER_STATE state,
                     POWER_ACTION action, std::string_view about);

// IRP_MN_QUERY_ID: the string (or, for hardware and compatible ids, the strings of the
// REG_MULTI_SZ) a driver returned; nullopt when nobody answered or it failed.
std::optional<std::vector<std::string>> query_id(DEVICE_OBJECT* device, BUS_QUERY_ID_TYPE type,
                                                 std::string_view about);

// Frees a pool buffer a driver returned in IoStatus.Information (ID strings,
// DEVICE_RELATIONS), as the PnP manager does once it has read it.
void free_driver_buffer(void* buffer);

// Releases the PnP and power IRPs that stayed pending (machine shutdown).
void release_stranded_irps();

}  // namespace iosim::io::pnp
