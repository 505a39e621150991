// surprise_test.cpp - a device that vanishes with a request in flight and a handle open.
#include <algorithm>

#include "pnp/pnp_test_support.h"
#include "windows.h"

using namespace pnptest;

namespace {

constexpr DWORD kHold = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);
constexpr DWORD kPing = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS);

std::u16string InterfacePath(const GUID& guid)
{
    auto list = pnp::list_interfaces(&guid, "", true);
    return list.empty() ? std::u16string() : list.front().path;
}

}  // namespace

TEST(PnpSurprise, SurpriseRemovalFailsTheRequestInFlightAndRemoveWaitsForTheLastHandle)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    std::u16string path = InterfacePath(kPnptInterface);
    ASSERT_FALSE(path.empty());
    e2e::Win32Process app(rig.machine);
    // An overlapped handle: the request the driver keeps leaves the app's thread free.
    HANDLE h = app.Run([&] {
        return CreateFileW(reinterpret_cast<LPCWSTR>(path.c_str()), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
    });
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    DWORD bytes = 0;
    static OVERLAPPED held_ov{};
    BOOL held = app.Run([&] { return DeviceIoControl(h, kHold, nullptr, 0, nullptr, 0, &bytes, &held_ov); });
    EXPECT_FALSE(held);
    EXPECT_EQ(app.Run([] { return GetLastError(); }), static_cast<DWORD>(ERROR_IO_PENDING));
    uint64_t held_irp = rig.IrpOf("IRP_MJ_DEVICE_CONTROL");
    ASSERT_NE(held_irp, 0u);

    std::string message;
    ASSERT_EQ(pnp::unplug(instance, pnp::Removal::Surprise, &message), STATUS_SUCCESS) << message;
    EXPECT_NE(message.find("waits until its open handles are closed"), std::string::npos) << message;
    // The driver failed the request in flight; no REMOVE yet: a handle is open.
    EXPECT_TRUE(InOrder(rig.TraceOfIrp(held_irp), {"completed: STATUS_NO_SUCH_DEVICE", "freed"}));
    EXPECT_TRUE(InOrder(rig.Said(), {"upper: IRP_MN_SURPRISE_REMOVAL down", "function: failing a held request with "
                                                                            "0xC000000E"}));
    EXPECT_EQ(CountContaining(rig.Said(), "IRP_MN_REMOVE_DEVICE"), 0u);
    ASSERT_NE(rig.Node(instance), nullptr);
    EXPECT_EQ(rig.Node(instance)->state, pnp::NodeState::SurpriseRemoved);

    // New requests on the open handle fail; the interface is gone, so nobody opens it again.
    BOOL ping = app.Run([&] { return DeviceIoControl(h, kPing, nullptr, 0, nullptr, 0, &bytes, nullptr); });
    EXPECT_FALSE(ping);
    EXPECT_TRUE(InterfacePath(kPnptInterface).empty());
    HANDLE again = app.Run([&] { return e2e::OpenDevice(path.c_str(), GENERIC_READ); });
    EXPECT_EQ(again, INVALID_HANDLE_VALUE);

    // The last handle closes: now IRP_MN_REMOVE_DEVICE, after the close reached the driver.
    app.Run([&] { return CloseHandle(h); });
    EXPECT_TRUE(InOrder(rig.Trace(), {"IRP_MJ_CLOSE", "IRP_MJ_PNP IRP_MN_REMOVE_DEVICE"}));
    EXPECT_TRUE(InOrder(rig.Said(), {"function: detached and deleted", "upper: detached and deleted"}));
    EXPECT_EQ(rig.Node(instance), nullptr);
    // The held request ended with the removal's status, written to the OVERLAPPED.
    EXPECT_EQ(static_cast<NTSTATUS>(held_ov.Internal), STATUS_NO_SUCH_DEVICE);
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(PnpSurprise, WithNoHandleOpenRemoveFollowsSurpriseRemovalAtOnce)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    std::string message;
    ASSERT_EQ(pnp::unplug(instance, pnp::Removal::Surprise, &message), STATUS_SUCCESS) << message;
    EXPECT_TRUE(InOrder(rig.Said(), {"upper: IRP_MN_SURPRISE_REMOVAL down", "upper: IRP_MN_REMOVE_DEVICE down",
                                     "upper: detached and deleted"}));
    EXPECT_EQ(CountContaining(rig.Said(), "IRP_MN_QUERY_REMOVE_DEVICE"), 0u);  // a vanished device is not asked
    EXPECT_EQ(rig.Node(instance), nullptr);
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}
