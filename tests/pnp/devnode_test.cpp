// devnode_test.cpp - !devnode (the device tree) and the device node !devstack prints under a
// PnP stack.
#include <fmt/format.h>

#include "inspect/inspect.h"
#include "pnp/pnp_test_support.h"

using namespace pnptest;

namespace {

std::string Inspect(const std::string& line)
{
    std::string out, error;
    EXPECT_TRUE(iosim::inspect::run(line, out, error)) << error;
    return out;
}

std::string Address(const void* p) { return fmt::format("0x{:016x}", reinterpret_cast<uintptr_t>(p)); }

}  // namespace

TEST(Devnode, TheTreeShowsEachNodeUnderItsParent)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    pnp::DeviceNode* bus = rig.Node("ROOT\\IOSIM_TOYBUS\\0000");
    pnp::DeviceNode* child = rig.Node("TOYBUS\\CHILD\\02");
    std::vector<std::string> lines = e2e::SplitLines(Inspect("!devnode 0 1"));
    EXPECT_TRUE(InOrder(lines, {"  InstancePath is \"HTREE\\ROOT\\0\"",
                                fmt::format("  DevNode {} for PDO {}", Address(bus), Address(bus->pdo)),
                                "    InstancePath is \"ROOT\\IOSIM_TOYBUS\\0000\"",
                                "    ServiceName is \"\\Driver\\toybus\"",
                                "    State = DeviceNodeStarted", "      InstancePath is \"TOYBUS\\CHILD\\01\"",
                                fmt::format("    DevNode {} for PDO {}", Address(child), Address(child->pdo)),
                                "      ServiceName is \"\\Driver\\toychild\""}));
}

TEST(Devnode, OneNodeInDetailWithItsStackAndInterfaces)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    std::vector<std::string> lines = e2e::SplitLines(Inspect("!devnode TOYBUS\\CHILD\\01"));
    EXPECT_TRUE(InOrder(lines, {"  InstancePath is \"TOYBUS\\CHILD\\01\"", "  Parent is \"ROOT\\IOSIM_TOYBUS\\0000\"",
                                "  HardwareIDs: TOYBUS\\CHILD", "  Drivers chosen by \"TOYBUS\\CHILD\": toychild",
                                "  State = DeviceNodeStarted", "  Device stack (top first):", "\\Driver\\toychild",
                                "\\Driver\\toybus        \\Device\\00000002  (D0)",
                                "  Interface \\\\?\\TOYBUS#CHILD#01#{a4f3b2c1-7d6e-4f80-9a1b-2c3d4e5f6071} (enabled)"}));
    std::string out, error;
    EXPECT_FALSE(iosim::inspect::run("!devnode NOPE\\X\\0", out, error));
    EXPECT_EQ(error, "!devnode: no device node NOPE\\X\\0 (try !devnode for the tree)");
}

TEST(Devnode, DevstackEndsWithTheNodeOfAPnpStack)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    pnp::DeviceNode* child = rig.Node("TOYBUS\\CHILD\\01");
    std::vector<std::string> lines = e2e::SplitLines(Inspect("!devstack " + iosim::io::device_name(child->pdo)));
    ASSERT_GE(lines.size(), 5u);
    EXPECT_EQ(lines[lines.size() - 4], "2 device(s) in the stack; requests to it start at the top.");
    EXPECT_EQ(lines[lines.size() - 3], fmt::format("!DevNode {} :", Address(child)));
    EXPECT_EQ(lines[lines.size() - 2], "  DeviceInst is \"TOYBUS\\CHILD\\01\"");
    EXPECT_EQ(lines[lines.size() - 1], "  ServiceName is \"\\Driver\\toychild\"");
}
