// pnp_test_support.h - what the PnP tests share.
//
//  PnpRig       e2e::Rig (a traced Machine that keeps every DbgPrint line) plus:
//               DeclareLayers() declares IOSIM\PNPT (lower filter pnpt_lower, function driver
//               pnpt_func, upper filter pnpt_upper: tests/pnp/drivers/pnpt_layer.c);
//               DeclareToyBus() declares the samples (ROOT\IOSIM_TOYBUS -> toybus,
//               TOYBUS\CHILD -> toychild); Control(service, name) is a test driver's exported
//               steering variable; Node(path) a device node; Said() the layers' DbgPrint text.
//  Lines(...)   the trace lines about IRP allocations for one minor code, in order.
// The test binary is iosim's own code: WCHAR is char16_t, names are written u"...".
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crt/format.h"
#include "device.h"
#include "driver.h"
#include "irp.h"
#include "e2e/e2e_support.h"
#include "ldr/module.h"
#include "pnp/device_interface.h"
#include "pnp/device_node.h"
#include "pnp/pnp.h"

namespace pnptest {

using e2e::CountContaining;
using e2e::InOrder;
namespace pnp = iosim::io::pnp;

inline const GUID kPnptInterface = {0x5e1f0c3a, 0x2b4d, 0x4c6e, {0x8f, 0x70, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6}};
inline const GUID kToyChildInterface = {0xa4f3b2c1, 0x7d6e, 0x4f80, {0x9a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71}};
inline const GUID kToyBusInterface = {0x6c8d5e24, 0x3b1f, 0x4a52, {0x9e, 0x07, 0x1f, 0x5a, 0x2c, 0x3d, 0x4b, 0x61}};

class PnpRig : public e2e::Rig {
public:
    void DeclareLayers()
    {
        pnp::declare_device("IOSIM\\PNPT", {.function = "pnpt_func", .upper = {"pnpt_upper"}, .lower = {"pnpt_lower"}});
    }
    void DeclareToyBus()
    {
        pnp::declare_device("ROOT\\IOSIM_TOYBUS", {.function = "toybus"});
        pnp::declare_device("TOYBUS\\CHILD", {.function = "toychild"});
    }
    // Plugs `hardware_id`; the new instance path ("" on failure).
    std::string Plug(const std::string& hardware_id)
    {
        std::string instance, message;
        NTSTATUS status = pnp::plug(hardware_id, &instance, &message);
        EXPECT_EQ(status, STATUS_SUCCESS) << message << "\n" << TraceDump();
        return instance;
    }
    // A test driver's exported variable (it must be loaded).
    LONG* Control(const char* service, const char* name)
    {
        DRIVER_OBJECT* driver = iosim::io::find_driver(iosim::crt::to_utf16(service));
        if (driver == nullptr)
            return nullptr;
        return static_cast<LONG*>(iosim::ldr::symbol(iosim::io::driver_body(driver)->priv.module, name));
    }
    pnp::DeviceNode* Node(const std::string& instance_path)
    {
        std::lock_guard guard(pnp::pnp_state().lock);
        return pnp::node_by_instance(instance_path);
    }
    // The DbgPrint lines of the test layers and samples, "module.sys: text".
    const std::vector<std::string>& Said() const { return debug; }
    bool Loaded(const char* service) { return iosim::io::find_driver(iosim::crt::to_utf16(service)) != nullptr; }
};

}  // namespace pnptest
