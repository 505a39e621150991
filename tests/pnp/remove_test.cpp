// remove_test.cpp - orderly removal: the query, its veto and cancel, and the remove IRP that
// goes top-down while each driver deletes its own device.
#include "pnp/pnp_test_support.h"

using namespace pnptest;

TEST(PnpRemove, RemoveDeviceGoesTopDownAndEachDriverDetachesAndDeletesItsDevice)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    std::string message;
    ASSERT_EQ(pnp::unplug(instance, pnp::Removal::Orderly, &message), STATUS_SUCCESS) << message;
    // Asked first (top-down), then removed: the IRP goes down through every layer, and each
    // layer deletes its device once the IRP has come back from below.
    EXPECT_TRUE(InOrder(rig.Said(), {"upper: IRP_MN_QUERY_REMOVE_DEVICE down", "function: IRP_MN_QUERY_REMOVE_DEVICE down",
                                     "lower: IRP_MN_QUERY_REMOVE_DEVICE down", "upper: IRP_MN_REMOVE_DEVICE down",
                                     "function: IRP_MN_REMOVE_DEVICE down", "lower: IRP_MN_REMOVE_DEVICE down",
                                     "lower: detached and deleted", "function: detached and deleted",
                                     "upper: detached and deleted"}));
    EXPECT_EQ(rig.Node(instance), nullptr);
    EXPECT_FALSE(rig.Exists(u"\\Device\\00000001"));  // the root bus deleted the unplugged device's PDO
    // WDM drivers whose last device went are unloaded.
    EXPECT_TRUE(InOrder(rig.Said(), {"upper: unloaded"}));
    EXPECT_FALSE(rig.Loaded("pnpt_func"));
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(PnpRemove, AFailedQueryRemoveVetoesTheRemovalAndCancelRemoveGoesUpFromTheBus)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    *rig.Control("pnpt_func", "PnptVetoQueryRemove") = 1;
    std::string message;
    EXPECT_EQ(pnp::unplug(instance, pnp::Removal::Orderly, &message), STATUS_UNSUCCESSFUL);
    EXPECT_NE(message.find("vetoed: IRP_MN_QUERY_REMOVE_DEVICE for ROOT\\IOSIM_PNPT\\0000 failed with "
                           "STATUS_UNSUCCESSFUL"),
              std::string::npos)
        << message;
    // Every driver that was asked hears that the removal is off; the bus driver first, then
    // each driver above it as the IRP completes back up.
    EXPECT_TRUE(InOrder(rig.Said(), {"function: vetoing the removal", "upper: IRP_MN_CANCEL_REMOVE_DEVICE down",
                                     "lower: IRP_MN_CANCEL_REMOVE_DEVICE up 0x00000000",
                                     "function: IRP_MN_CANCEL_REMOVE_DEVICE up 0x00000000",
                                     "upper: IRP_MN_CANCEL_REMOVE_DEVICE up 0x00000000"}));
    EXPECT_EQ(CountContaining(rig.Said(), "IRP_MN_REMOVE_DEVICE down"), 0u);
    pnp::DeviceNode* node = rig.Node(instance);
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(node->state, pnp::NodeState::Started);
    EXPECT_EQ(pnp::stack_of(node).size(), 4u);

    // Without the veto the same removal goes through.
    *rig.Control("pnpt_func", "PnptVetoQueryRemove") = 0;
    EXPECT_EQ(pnp::unplug(instance, pnp::Removal::Orderly, &message), STATUS_SUCCESS) << message;
    EXPECT_EQ(rig.Node(instance), nullptr);
}

TEST(PnpRemove, ADriverThatKeepsItsDeviceAtRemoveIsReported)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    *rig.Control("pnpt_upper", "PnptKeepDevice") = 1;
    std::string message;
    ASSERT_EQ(pnp::unplug(instance, pnp::Removal::Orderly, &message), STATUS_SUCCESS) << message;
    auto codes = rig.FindingCodes();
    EXPECT_NE(std::find(codes.begin(), codes.end(), "DEVICE_NOT_DELETED_AT_REMOVE"), codes.end()) << rig.FindingsDump();
    EXPECT_NE(rig.FindingsDump().find("\\Driver\\pnpt_upper did not delete"), std::string::npos) << rig.FindingsDump();
}

TEST(PnpRemove, UnplugNamesARootDeviceByInstancePathOrHardwareId)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    rig.Plug("IOSIM\\PNPT");
    std::string message;
    // A hardware id takes the most recent instance.
    ASSERT_EQ(pnp::unplug("iosim\\pnpt", pnp::Removal::Orderly, &message), STATUS_SUCCESS) << message;
    EXPECT_EQ(message, "ROOT\\IOSIM_PNPT\\0001 removed");
    EXPECT_NE(rig.Node("ROOT\\IOSIM_PNPT\\0000"), nullptr);
    EXPECT_EQ(pnp::unplug("ROOT\\NOTHING\\0000", pnp::Removal::Orderly, &message), STATUS_NO_SUCH_DEVICE);
}

TEST(PnpRemove, APnpDriverIsNotStoppedOnRequestWhileItDrivesADevice)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    std::string message;
    EXPECT_EQ(rig.machine.unload_driver("pnpt_func", &message), STATUS_INVALID_DEVICE_REQUEST);
    EXPECT_NE(message.find("drives the device ROOT\\IOSIM_PNPT\\0000"), std::string::npos) << message;
    EXPECT_TRUE(rig.Loaded("pnpt_func"));
}
