// bus_test.cpp - a bus driver's children: BusRelations, IoInvalidateDeviceRelations, a child
// that leaves, and a bus removed with its children (the toybus and toychild samples).
#include "ob/object.h"
#include "pnp/pnp_test_support.h"

using namespace pnptest;

TEST(PnpBus, BusRelationsBringUpEachChildWithItsOwnStack)
{
    PnpRig rig;
    rig.DeclareToyBus();
    std::string bus = rig.Plug("ROOT\\IOSIM_TOYBUS");
    ASSERT_EQ(bus, "ROOT\\IOSIM_TOYBUS\\0000");
    pnp::DeviceNode* node = rig.Node(bus);
    ASSERT_NE(node, nullptr);
    ASSERT_EQ(node->children.size(), 2u);
    for (const char* child : {"TOYBUS\\CHILD\\01", "TOYBUS\\CHILD\\02"}) {
        pnp::DeviceNode* c = rig.Node(child);
        ASSERT_NE(c, nullptr) << child;
        EXPECT_EQ(c->parent, node);
        EXPECT_EQ(c->state, pnp::NodeState::Started) << c->problem;
        EXPECT_EQ(iosim::io::driver_name(c->pdo->DriverObject), "\\Driver\\toybus");  // the bus owns the PDO
        EXPECT_EQ(iosim::io::driver_name(iosim::io::attached_top(c->pdo)->DriverObject), "\\Driver\\toychild");
    }
    // The bus is started before its children are asked for: relations come after START.
    EXPECT_TRUE(InOrder(rig.Trace(), {"ROOT\\IOSIM_TOYBUS\\0000 started", "IRP_MN_QUERY_DEVICE_RELATIONS",
                                      "new device TOYBUS\\CHILD\\01", "TOYBUS\\CHILD\\01 started",
                                      "new device TOYBUS\\CHILD\\02", "TOYBUS\\CHILD\\02 started"}));
    EXPECT_EQ(CountContaining(rig.Said(), "toychild: AddDevice"), 2u);
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(PnpBus, ThePnpManagerKeepsTheReferenceTheBusGaveForEachChild)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    pnp::DeviceNode* child = rig.Node("TOYBUS\\CHILD\\01");
    ASSERT_NE(child, nullptr);
    // The name's reference and the PnP manager's (handed over in BusRelations); asked again,
    // the bus references the PDO once more and the PnP manager drops the duplicate.
    EXPECT_EQ(iosim::ob::pointer_count(child->pdo), 2);
    ASSERT_EQ(rig.machine.run_app("toy_app.exe", {"plug", "3"}).exit_code, 0);
    EXPECT_EQ(iosim::ob::pointer_count(child->pdo), 2);
}

TEST(PnpBus, IoInvalidateDeviceRelationsMakesThePnpManagerEnumerateANewChild)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    auto plug = rig.machine.run_app("toy_app.exe", {"plug", "3"});
    ASSERT_EQ(plug.exit_code, 0) << plug.output;
    EXPECT_TRUE(InOrder(rig.Trace(), {"IoInvalidateDeviceRelations(ROOT\\IOSIM_TOYBUS\\0000)",
                                      "IRP_MN_QUERY_DEVICE_RELATIONS", "reports 3 child device(s): 1 new",
                                      "TOYBUS\\CHILD\\03 started"}));
    auto list = rig.machine.run_app("toy_app.exe");
    EXPECT_EQ(list.exit_code, 3) << list.output;  // three children answered
    EXPECT_NE(list.output.find("child 3 (answer #1)"), std::string::npos) << list.output;
}

TEST(PnpBus, AChildTheBusStopsReportingIsSurpriseRemovedThenRemovedAndItsPdoDeleted)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    std::string pdo_name = iosim::io::device_name(rig.Node("TOYBUS\\CHILD\\02")->pdo);
    auto unplug = rig.machine.run_app("toy_app.exe", {"unplug", "2"});
    ASSERT_EQ(unplug.exit_code, 0) << unplug.output;
    // (toychild says "removed" once the remove IRP is back from the bus, which deleted the PDO.)
    EXPECT_TRUE(InOrder(rig.Said(), {"toybus: child 2 pulled out", "toybus: reporting 1 child(ren)",
                                     "toychild 2: surprise removal", "toybus: child 2 removed and gone: deleting its PDO",
                                     "toychild 2: removed"}));
    EXPECT_EQ(rig.Node("TOYBUS\\CHILD\\02"), nullptr);
    EXPECT_FALSE(rig.Exists(iosim::crt::to_utf16(pdo_name)));
    EXPECT_NE(rig.Node("TOYBUS\\CHILD\\01"), nullptr);
    EXPECT_TRUE(rig.Loaded("toychild"));  // child 1 still uses it
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(PnpBus, UnpluggingABusRemovesItsChildrenFirst)
{
    PnpRig rig;
    rig.DeclareToyBus();
    std::string bus = rig.Plug("ROOT\\IOSIM_TOYBUS");
    std::string message;
    ASSERT_EQ(pnp::unplug(bus, pnp::Removal::Orderly, &message), STATUS_SUCCESS) << message;
    EXPECT_TRUE(InOrder(rig.Trace(), {"IRP_MN_QUERY_REMOVE_DEVICE (2 stack locations) for TOYBUS\\CHILD\\01",
                                      "IRP_MN_QUERY_REMOVE_DEVICE (2 stack locations) for TOYBUS\\CHILD\\02",
                                      "IRP_MN_QUERY_REMOVE_DEVICE (2 stack locations) for ROOT\\IOSIM_TOYBUS\\0000",
                                      "IRP_MN_REMOVE_DEVICE (2 stack locations) for TOYBUS\\CHILD\\01",
                                      "IRP_MN_REMOVE_DEVICE (2 stack locations) for TOYBUS\\CHILD\\02",
                                      "IRP_MN_REMOVE_DEVICE (2 stack locations) for ROOT\\IOSIM_TOYBUS\\0000"}));
    // A child still on the bus keeps its PDO at its own REMOVE; the bus deletes it with itself.
    EXPECT_TRUE(InOrder(rig.Said(), {"toybus: child 1 removed, still on the bus: its PDO stays",
                                     "toychild: unloaded", "toybus: bus removed", "toybus: unloaded"}));
    EXPECT_EQ(pnp::root_node()->children.size(), 0u);
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(PnpBus, AChildIsNotUnpluggedByTheUserButByItsBus)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    std::string message;
    EXPECT_EQ(pnp::unplug("TOYBUS\\CHILD\\01", pnp::Removal::Surprise, &message), STATUS_INVALID_PARAMETER);
    EXPECT_NE(message.find("is a child of ROOT\\IOSIM_TOYBUS\\0000"), std::string::npos) << message;
}

TEST(PnpBus, AChildWithNoDeclaredDriverStaysInTheTreeWithoutOne)
{
    PnpRig rig;
    pnp::declare_device("ROOT\\IOSIM_TOYBUS", {.function = "toybus"});
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    pnp::DeviceNode* child = rig.Node("TOYBUS\\CHILD\\01");
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->state, pnp::NodeState::Initialized);
    EXPECT_NE(child->problem.find("no driver is declared for TOYBUS\\CHILD\\01"), std::string::npos) << child->problem;
    EXPECT_EQ(pnp::stack_of(child).size(), 1u);
}
