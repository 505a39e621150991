// power_test.cpp - system power transitions: who is asked, in which order, and what a veto does.
#include "pnp/pnp_test_support.h"

using namespace pnptest;

namespace {

// "IRP_MJ_POWER <minor> (n stack locations) for <instance>" lines of the trace, in order.
std::vector<std::string> PowerIrps(PnpRig& rig, const std::string& minor)
{
    std::vector<std::string> out;
    for (const auto& line : rig.Trace())
        if (line.find("allocated for IRP_MJ_POWER " + minor + " (") != std::string::npos &&
            line.find("stack location") != std::string::npos)  // the power manager's, not PoRequestPowerIrp's
            out.push_back(line.substr(line.find(" for ", line.find("stack location")) + 5));
    return out;
}

}  // namespace

TEST(Power, SleepQueriesEveryStartedDeviceChildrenFirstThenSetsThemInTheSameOrder)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    std::string message;
    ASSERT_EQ(pnp::sleep(PowerSystemSleeping3, &message), STATUS_SUCCESS) << message;
    EXPECT_EQ(PowerIrps(rig, "IRP_MN_QUERY_POWER"),
              (std::vector<std::string>{"TOYBUS\\CHILD\\01", "TOYBUS\\CHILD\\02", "ROOT\\IOSIM_TOYBUS\\0000"}));
    // Every query before the first set; sets in the same order. (Each child's power policy
    // owner also asks for a device set-power IRP, which PoRequestPowerIrp traces its own way.)
    EXPECT_TRUE(InOrder(rig.Trace(), {"IRP_MN_QUERY_POWER (2 stack locations) for ROOT\\IOSIM_TOYBUS\\0000",
                                      "IRP_MN_SET_POWER (2 stack locations) for TOYBUS\\CHILD\\01"}));
    EXPECT_EQ(PowerIrps(rig, "IRP_MN_SET_POWER"),
              (std::vector<std::string>{"TOYBUS\\CHILD\\01", "TOYBUS\\CHILD\\02", "ROOT\\IOSIM_TOYBUS\\0000"}));
    EXPECT_EQ(pnp::system_power_state(), PowerSystemSleeping3);
    // The children's function driver turned the system IRP into a device one: D3.
    EXPECT_EQ(CountContaining(rig.Trace(), "IRP_MN_SET_POWER (PowerDeviceD3) by PoRequestPowerIrp"), 2u);
    pnp::DeviceNode* child = rig.Node("TOYBUS\\CHILD\\01");
    EXPECT_EQ(pnp::pnp_state().device_power.at(child->pdo), PowerDeviceD3);  // the bus driver's PoSetPowerState
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(Power, WakingSetsTheWorkingStateParentsFirstWithoutAQuery)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    ASSERT_EQ(pnp::sleep(PowerSystemSleeping3), STATUS_SUCCESS);
    size_t queries = PowerIrps(rig, "IRP_MN_QUERY_POWER").size();
    size_t sets = PowerIrps(rig, "IRP_MN_SET_POWER").size();
    std::string message;
    ASSERT_EQ(pnp::wake(&message), STATUS_SUCCESS) << message;
    EXPECT_EQ(PowerIrps(rig, "IRP_MN_QUERY_POWER").size(), queries);  // never queried to wake
    std::vector<std::string> all = PowerIrps(rig, "IRP_MN_SET_POWER");
    std::vector<std::string> woken(all.begin() + static_cast<long>(sets), all.end());
    EXPECT_EQ(woken, (std::vector<std::string>{"ROOT\\IOSIM_TOYBUS\\0000", "TOYBUS\\CHILD\\01", "TOYBUS\\CHILD\\02"}));
    EXPECT_EQ(pnp::system_power_state(), PowerSystemWorking);
    EXPECT_EQ(pnp::pnp_state().device_power.at(rig.Node("TOYBUS\\CHILD\\02")->pdo), PowerDeviceD0);
    // The children answer again after waking.
    EXPECT_EQ(rig.machine.run_app("toy_app.exe").exit_code, 2);
}

TEST(Power, AFailedQueryVetoesTheSleepAndTheDevicesAskedAreSetBackToWorking)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    *rig.Control("pnpt_func", "PnptVetoQueryPower") = 1;
    std::string message;
    EXPECT_EQ(pnp::sleep(PowerSystemSleeping3, &message), STATUS_UNSUCCESSFUL);
    EXPECT_NE(message.find("PowerSystemSleeping3 vetoed: IRP_MN_QUERY_POWER for ROOT\\IOSIM_PNPT\\0000 failed"),
              std::string::npos)
        << message;
    // S3 is "S 3", the working state "S 0" in the layers' lines.
    EXPECT_TRUE(InOrder(rig.Said(), {"upper: IRP_MN_QUERY_POWER S 3 down", "function: vetoing the sleep",
                                     "upper: IRP_MN_QUERY_POWER up 0xC0000001", "upper: IRP_MN_SET_POWER S 0 down",
                                     "lower: IRP_MN_SET_POWER S 0 down"}));
    EXPECT_EQ(CountContaining(rig.Said(), "IRP_MN_SET_POWER S 3"), 0u);
    EXPECT_EQ(pnp::system_power_state(), PowerSystemWorking);
}

TEST(Power, ShutdownSetsPowerSystemShutdownThenRemovesEveryDevice)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    std::vector<std::string> alive = rig.machine.shutdown();
    EXPECT_TRUE(InOrder(rig.Said(), {"upper: IRP_MN_SET_POWER S 5 down", "lower: IRP_MN_SET_POWER S 5 down",
                                     "lower: IRP_MN_SET_POWER up 0x00000000", "upper: IRP_MN_REMOVE_DEVICE down",
                                     "upper: detached and deleted", "upper: unloaded"}));
    EXPECT_EQ(CountContaining(rig.Said(), "IRP_MN_QUERY_POWER"), 0u);  // shutdown is not asked
    EXPECT_TRUE(alive.empty()) << e2e::Join(alive);
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}
