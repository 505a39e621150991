// start_test.cpp - bringing a device up: IDs first, then the drivers' AddDevice routines
// bottom up, then IRP_MN_START_DEVICE down the stack and back up.
#include "pnp/pnp_test_support.h"

using namespace pnptest;

TEST(PnpStart, AddDeviceIsCalledForLowerFiltersThenTheFunctionDriverThenUpperFilters)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    EXPECT_EQ(instance, "ROOT\\IOSIM_PNPT\\0000");
    EXPECT_TRUE(InOrder(rig.Said(), {"lower: AddDevice", "function: AddDevice", "upper: AddDevice"}));
    // The stack is built bottom up on the root bus's PDO: PDO, lower, function, upper.
    pnp::DeviceNode* node = rig.Node(instance);
    ASSERT_NE(node, nullptr);
    std::vector<DEVICE_OBJECT*> stack = pnp::stack_of(node);
    ASSERT_EQ(stack.size(), 4u);
    EXPECT_EQ(iosim::io::driver_name(stack[0]->DriverObject), "\\Driver\\PnpManager");
    EXPECT_EQ(iosim::io::driver_name(stack[1]->DriverObject), "\\Driver\\pnpt_lower");
    EXPECT_EQ(iosim::io::driver_name(stack[2]->DriverObject), "\\Driver\\pnpt_func");
    EXPECT_EQ(iosim::io::driver_name(stack[3]->DriverObject), "\\Driver\\pnpt_upper");
    EXPECT_EQ(stack[3]->StackSize, 4);
    EXPECT_EQ(node->state, pnp::NodeState::Started);
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(PnpStart, StartDeviceGoesDownTheStackAndCompletesUpward)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    EXPECT_TRUE(InOrder(rig.Said(), {"upper: IRP_MN_START_DEVICE down", "function: IRP_MN_START_DEVICE down",
                                     "lower: IRP_MN_START_DEVICE down", "lower: IRP_MN_START_DEVICE up 0x00000000",
                                     "function: IRP_MN_START_DEVICE up 0x00000000",
                                     "upper: IRP_MN_START_DEVICE up 0x00000000"}));
}

TEST(PnpStart, ThePnpManagerSendsItsIrpsWithStatusNotSupported)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    // The first driver to see each IRP finds the status the PnP manager set.
    EXPECT_EQ(CountContaining(rig.Said(), "upper: IRP_MN_START_DEVICE down (status 0xC00000BB)"), 1u);
    EXPECT_EQ(CountContaining(rig.Said(), "upper: IRP_MN_QUERY_CAPABILITIES down (status 0xC00000BB)"), 1u);
    EXPECT_EQ(CountContaining(rig.Said(), "upper: IRP_MN_QUERY_DEVICE_RELATIONS down (status 0xC00000BB)"), 1u);
    // Not a bus: nobody answers BusRelations, and the status comes back unchanged.
    EXPECT_EQ(CountContaining(rig.Said(), "upper: IRP_MN_QUERY_DEVICE_RELATIONS up 0xC00000BB"), 1u);
}

TEST(PnpStart, TheBusDriverIsAskedForIdsAndCapabilitiesBeforeAnyDriverIsLoaded)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    EXPECT_TRUE(InOrder(rig.Trace(), {"IRP_MJ_PNP IRP_MN_QUERY_ID", "IRP_MJ_PNP IRP_MN_QUERY_CAPABILITIES",
                                      "new device ROOT\\IOSIM_PNPT\\0000", "loading \\Driver\\pnpt_lower",
                                      "loading \\Driver\\pnpt_func", "loading \\Driver\\pnpt_upper",
                                      "IRP_MJ_PNP IRP_MN_START_DEVICE"}));
    pnp::DeviceNode* node = rig.Node("ROOT\\IOSIM_PNPT\\0000");
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(node->device_id, "ROOT\\IOSIM_PNPT");
    EXPECT_EQ(node->instance_id, "0000");
    ASSERT_EQ(node->hardware_ids.size(), 1u);
    EXPECT_EQ(node->hardware_ids[0], "IOSIM\\PNPT");
    EXPECT_EQ(node->matched_id, "IOSIM\\PNPT");
    EXPECT_TRUE(node->unique_id);
    EXPECT_EQ(node->s_to_d[PowerSystemWorking], PowerDeviceD0);
    EXPECT_EQ(node->s_to_d[PowerSystemSleeping3], PowerDeviceD3);
}

TEST(PnpStart, APnpDriverIsNotALegacyDriverAndItsPdoHasAGeneratedName)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    DRIVER_OBJECT* func = iosim::io::find_driver(u"pnpt_func");
    ASSERT_NE(func, nullptr);
    EXPECT_EQ(func->Flags & DRVO_LEGACY_DRIVER, 0u);
    pnp::DeviceNode* node = rig.Node(instance);
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(iosim::io::device_name(node->pdo), "\\Device\\00000001");
    EXPECT_NE(node->pdo->Flags & DO_BUS_ENUMERATED_DEVICE, 0u);
    // A second instance of the same device gets the next instance number and name.
    EXPECT_EQ(rig.Plug("IOSIM\\PNPT"), "ROOT\\IOSIM_PNPT\\0001");
    EXPECT_TRUE(rig.Exists(u"\\Device\\00000002"));
}

TEST(PnpStart, AFailedStartLeavesTheDeviceWithAProblemAndTearsItsStackDown)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string message;
    ASSERT_EQ(rig.machine.load_driver("pnpt_func", "pnpt_func.sys", &message), STATUS_SUCCESS) << message;
    *rig.Control("pnpt_func", "PnptFailStart") = 1;
    std::string instance;
    EXPECT_EQ(pnp::plug("IOSIM\\PNPT", &instance, &message), STATUS_UNSUCCESSFUL);
    EXPECT_NE(message.find("IRP_MN_START_DEVICE failed with STATUS_DEVICE_CONFIGURATION_ERROR"), std::string::npos)
        << message;
    pnp::DeviceNode* node = rig.Node(instance);
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(node->state, pnp::NodeState::Failed);
    // As Windows does after a failed start: IRP_MN_REMOVE_DEVICE takes the stack apart.
    EXPECT_TRUE(InOrder(rig.Said(), {"function: failing the start", "upper: IRP_MN_REMOVE_DEVICE down",
                                     "lower: detached and deleted", "function: detached and deleted",
                                     "upper: detached and deleted"}));
    EXPECT_EQ(pnp::stack_of(node).size(), 1u);  // the PDO alone: the device is still plugged in
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(PnpStart, PluggingAnUndeclaredDeviceChangesNothing)
{
    PnpRig rig;
    std::string message;
    EXPECT_EQ(pnp::plug("IOSIM\\NOBODY", nullptr, &message), STATUS_NOT_FOUND);
    EXPECT_NE(message.find("no device is declared with hardware id IOSIM\\NOBODY"), std::string::npos) << message;
    EXPECT_EQ(pnp::root_node()->children.size(), 0u);
}
