// notify_test.cpp - IoRegisterDriverReinitialization (called after DriverEntry, with a
// growing Count, again when it re-registers) and shutdown notifications (IRP_MJ_SHUTDOWN
// to registered devices at machine shutdown, newest registration first, last-chance ones
// after; unregistered and deleted devices get none).
#include <gmock/gmock.h>

#include "stack/stack_test_support.h"

using namespace iosim;
using namespace stack_test;
using ::testing::ElementsAre;

namespace {
class Notify : public StackTest {};
}  // namespace

TEST_F(Notify, ReinitializationRunsAfterDriverEntryAndAgainWhenItReRegisters)
{
    load("notify_driver", "notify_driver.sys");
    EXPECT_TRUE(*symbol<BOOLEAN>(u"notify_driver", "NotifyReinitFlagDuringEntry"))
        << "IoRegisterDriverReinitialization sets DRVO_REINIT_REGISTERED";
    EXPECT_TRUE(*symbol<BOOLEAN>(u"notify_driver", "NotifyReinitSawEntryReturned")) << "called after DriverEntry";
    EXPECT_EQ(*symbol<ULONG>(u"notify_driver", "NotifyReinitCalls"), 2u);
    ULONG* counts = symbol<ULONG>(u"notify_driver", "NotifyReinitCounts");
    EXPECT_EQ(counts[0], 1u);
    EXPECT_EQ(counts[1], 2u) << "Count includes the current call";
    EXPECT_EQ(*symbol<PVOID>(u"notify_driver", "NotifyReinitContext"),
              static_cast<PVOID>(symbol<int>(u"notify_driver", "NotifyContext")))
        << "the routine gets the Context it was registered with";
    EXPECT_EQ(driver(u"notify_driver")->DriverExtension->Count, 2u);
    EXPECT_EQ(driver(u"notify_driver")->Flags & DRVO_REINIT_REGISTERED, 0u) << "nothing left queued";
}

TEST_F(Notify, ShutdownSendsIrpMjShutdownNewestRegistrationFirstThenLastChance)
{
    load("notify_driver", "notify_driver.sys");
    debug.clear();
    machine.shutdown();
    EXPECT_THAT(debug_lines("notify: IRP_MJ_SHUTDOWN"),
                ElementsAre("notify: IRP_MJ_SHUTDOWN for Second", "notify: IRP_MJ_SHUTDOWN for First",
                            "notify: IRP_MJ_SHUTDOWN for Last"));
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(Notify, AnUnloadedDriverGetsNoShutdownIrp)
{
    load("notify_driver", "notify_driver.sys");
    ASSERT_EQ(machine.unload_driver("notify_driver"), STATUS_SUCCESS);
    debug.clear();
    machine.shutdown();
    EXPECT_TRUE(debug_lines("notify: IRP_MJ_SHUTDOWN").empty());
}

TEST_F(Notify, ShutdownRegistrationHoldsAReferenceUntilItIsDropped)
{
    load("stack_unit", "stack_unit.sys");
    PDEVICE_OBJECT device = nullptr;
    ASSERT_EQ(IoCreateDevice(driver(u"stack_unit"), 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &device), STATUS_SUCCESS);
    long before = ob::header_of(device)->pointer_count.load();
    ASSERT_EQ(IoRegisterShutdownNotification(device), STATUS_SUCCESS);
    EXPECT_NE(device->Flags & DO_SHUTDOWN_REGISTERED, 0u);
    EXPECT_EQ(ob::header_of(device)->pointer_count.load(), before + 1);
    IoUnregisterShutdownNotification(device);
    EXPECT_EQ(device->Flags & DO_SHUTDOWN_REGISTERED, 0u);
    EXPECT_EQ(ob::header_of(device)->pointer_count.load(), before);
}
