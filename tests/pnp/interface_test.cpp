// interface_test.cpp - device interfaces: the names the PnP manager gives, their links, and an
// app finding them the Windows way (SetupDi* and CM_Get_Device_Interface_List*).
#include <cstddef>
#include <cstring>

#include "pnp/pnp_test_support.h"
#include "windows.h"
#include "cfgmgr32.h"
#include "setupapi.h"

using namespace pnptest;

namespace {

const char16_t kChild1[] = u"\\\\?\\TOYBUS#CHILD#01#{a4f3b2c1-7d6e-4f80-9a1b-2c3d4e5f6071}";
const char16_t kChild2[] = u"\\\\?\\TOYBUS#CHILD#02#{a4f3b2c1-7d6e-4f80-9a1b-2c3d4e5f6071}";

std::u16string Wide(const WCHAR* s) { return std::u16string(reinterpret_cast<const char16_t*>(s)); }

}  // namespace

TEST(DeviceInterface, TheNameIsTheInstancePathAndClassAndEnablingMakesTheLink)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    // \??\<instance path with # for \>#{guid}, a link to the child's PDO.
    const char16_t* link = u"\\GLOBAL??\\TOYBUS#CHILD#01#{a4f3b2c1-7d6e-4f80-9a1b-2c3d4e5f6071}";
    EXPECT_TRUE(rig.Exists(link));
    auto found = rig.system().ns().lookup(link, /*open_link=*/true);
    ASSERT_TRUE(NT_SUCCESS(found.status));
    EXPECT_EQ(static_cast<iosim::ob::SymbolicLink*>(found.object)->target,
              iosim::crt::to_utf16(iosim::io::device_name(rig.Node("TOYBUS\\CHILD\\01")->pdo)));
    iosim::ob::dereference(found.object);
    // Removed: the driver disables it, and the link goes.
    auto unplug = rig.machine.run_app("toy_app.exe", {"unplug", "1"});
    ASSERT_EQ(unplug.exit_code, 0) << unplug.output;
    EXPECT_FALSE(rig.Exists(link));
    // Back again: the same registration, the same name.
    ASSERT_EQ(rig.machine.run_app("toy_app.exe", {"plug", "1"}).exit_code, 0);
    EXPECT_TRUE(rig.Exists(link));
}

TEST(DeviceInterface, EnablingTwiceSaysTheNameExistsAndDisablingTwiceSaysItIsNotFound)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    std::u16string name = u"\\??\\ROOT#IOSIM_PNPT#0000#{5e1f0c3a-2b4d-4c6e-8f70-91a2b3c4d5e6}";
    UNICODE_STRING u{static_cast<USHORT>(name.size() * 2), static_cast<USHORT>(name.size() * 2),
                     reinterpret_cast<PWSTR>(name.data())};
    EXPECT_EQ(IoSetDeviceInterfaceState(&u, TRUE), STATUS_OBJECT_NAME_EXISTS);  // the driver enabled it at start
    EXPECT_EQ(IoSetDeviceInterfaceState(&u, FALSE), STATUS_SUCCESS);
    EXPECT_FALSE(rig.Exists(u"\\GLOBAL??\\ROOT#IOSIM_PNPT#0000#{5e1f0c3a-2b4d-4c6e-8f70-91a2b3c4d5e6}"));
    EXPECT_EQ(IoSetDeviceInterfaceState(&u, FALSE), STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(IoSetDeviceInterfaceState(&u, TRUE), STATUS_SUCCESS);
}

TEST(DeviceInterface, RegisteringOnADeviceThatIsNotAPdoStopsTheMachine)
{
    PnpRig rig;
    rig.DeclareLayers();
    std::string instance = rig.Plug("IOSIM\\PNPT");
    DEVICE_OBJECT* fdo = iosim::io::attached_top(rig.Node(instance)->pdo);
    UNICODE_STRING name{};
    try {
        IoRegisterDeviceInterface(fdo, &kPnptInterface, nullptr, &name);
        FAIL() << "no bug check";
    } catch (const iosim::BugCheck& stop) {
        EXPECT_EQ(stop.info().code, static_cast<ULONG>(PNP_DETECTED_FATAL_ERROR));
        EXPECT_EQ(stop.info().parameters[0], 2u);  // "invalid PDO"
        EXPECT_NE(stop.info().reason.find("not a PDO the PnP manager enumerated"), std::string::npos);
    }
}

TEST(DeviceInterface, SetupDiListsEachInterfaceAndGivesItsPathWithTheTwoCallPattern)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    e2e::Win32Process app(rig.machine);
    app.Run([&] {
        HDEVINFO set = SetupDiGetClassDevsW(&kToyChildInterface, nullptr, nullptr, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
        ASSERT_NE(set, INVALID_HANDLE_VALUE);
        SP_DEVICE_INTERFACE_DATA data{};
        data.cbSize = sizeof(data);
        EXPECT_EQ(sizeof(SP_DEVICE_INTERFACE_DATA), 32u);  // Windows x64 sizes
        EXPECT_EQ(sizeof(SP_DEVICE_INTERFACE_DETAIL_DATA_W), 8u);
        const char16_t* expected[] = {kChild1, kChild2};
        for (DWORD i = 0; i < 2; ++i) {
            ASSERT_TRUE(SetupDiEnumDeviceInterfaces(set, nullptr, &kToyChildInterface, i, &data)) << GetLastError();
            EXPECT_EQ(data.Flags, static_cast<DWORD>(SPINT_ACTIVE));
            EXPECT_EQ(std::memcmp(&data.InterfaceClassGuid, &kToyChildInterface, sizeof(GUID)), 0);
            // First call: no buffer. It fails, and says how much it needs.
            DWORD needed = 0;
            EXPECT_FALSE(SetupDiGetDeviceInterfaceDetailW(set, &data, nullptr, 0, &needed, nullptr));
            EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
            std::u16string path = expected[i];
            EXPECT_EQ(needed, offsetof(SP_DEVICE_INTERFACE_DETAIL_DATA_W, DevicePath) + (path.size() + 1) * 2);
            std::vector<char> buffer(needed);
            auto* detail = reinterpret_cast<SP_DEVICE_INTERFACE_DETAIL_DATA_W*>(buffer.data());
            // cbSize is the structure's size, not the buffer's: anything else is refused.
            detail->cbSize = needed;
            EXPECT_FALSE(SetupDiGetDeviceInterfaceDetailW(set, &data, detail, needed, nullptr, nullptr));
            EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_USER_BUFFER));
            detail->cbSize = sizeof(SP_DEVICE_INTERFACE_DETAIL_DATA_W);
            // Too small a buffer is the same failure as no buffer.
            EXPECT_FALSE(SetupDiGetDeviceInterfaceDetailW(set, &data, detail, needed - 2, nullptr, nullptr));
            EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
            SP_DEVINFO_DATA device{};
            device.cbSize = sizeof(device);
            ASSERT_TRUE(SetupDiGetDeviceInterfaceDetailW(set, &data, detail, needed, nullptr, &device)) << GetLastError();
            EXPECT_EQ(Wide(detail->DevicePath), path);
            WCHAR instance[MAX_DEVICE_ID_LEN];
            ASSERT_TRUE(SetupDiGetDeviceInstanceIdW(set, &device, instance, MAX_DEVICE_ID_LEN, nullptr));
            EXPECT_EQ(Wide(instance), i == 0 ? u"TOYBUS\\CHILD\\01" : u"TOYBUS\\CHILD\\02");
        }
        EXPECT_FALSE(SetupDiEnumDeviceInterfaces(set, nullptr, &kToyChildInterface, 2, &data));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NO_MORE_ITEMS));
        data.cbSize = 4;
        EXPECT_FALSE(SetupDiEnumDeviceInterfaces(set, nullptr, &kToyChildInterface, 0, &data));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_USER_BUFFER));
        EXPECT_TRUE(SetupDiDestroyDeviceInfoList(set));
        EXPECT_FALSE(SetupDiDestroyDeviceInfoList(set));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
        // An interface class GUID is required unless every class is asked for.
        EXPECT_EQ(SetupDiGetClassDevsW(nullptr, nullptr, nullptr, DIGCF_DEVICEINTERFACE), INVALID_HANDLE_VALUE);
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    });
}

TEST(DeviceInterface, CmListsEnabledInterfacesAsAListEndedByAnEmptyString)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    e2e::Win32Process app(rig.machine);
    app.Run([&] {
        GUID guid = kToyChildInterface;
        ULONG length = 0;
        ASSERT_EQ(CM_Get_Device_Interface_List_SizeW(&length, &guid, nullptr, CM_GET_DEVICE_INTERFACE_LIST_PRESENT),
                  static_cast<CONFIGRET>(CR_SUCCESS));
        std::u16string expected = std::u16string(kChild1) + u'\0' + kChild2 + u'\0' + u'\0';
        EXPECT_EQ(length, expected.size());
        std::vector<char16_t> list(length);
        EXPECT_EQ(CM_Get_Device_Interface_ListW(&guid, nullptr, reinterpret_cast<PZZWSTR>(list.data()), length - 1,
                                                CM_GET_DEVICE_INTERFACE_LIST_PRESENT),
                  static_cast<CONFIGRET>(CR_BUFFER_SMALL));
        ASSERT_EQ(CM_Get_Device_Interface_ListW(&guid, nullptr, reinterpret_cast<PZZWSTR>(list.data()), length,
                                                CM_GET_DEVICE_INTERFACE_LIST_PRESENT),
                  static_cast<CONFIGRET>(CR_SUCCESS));
        EXPECT_EQ(std::u16string(list.data(), list.size()), expected);
        EXPECT_EQ(CM_MapCrToWin32Err(CR_BUFFER_SMALL, ERROR_GEN_FAILURE), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
        // A class nobody registered: one NUL.
        GUID none = kPnptInterface;
        ASSERT_EQ(CM_Get_Device_Interface_List_SizeW(&length, &none, nullptr, CM_GET_DEVICE_INTERFACE_LIST_PRESENT),
                  static_cast<CONFIGRET>(CR_SUCCESS));
        EXPECT_EQ(length, 1u);
        EXPECT_EQ(CM_Get_Device_Interface_List_SizeW(nullptr, &guid, nullptr, 0),
                  static_cast<CONFIGRET>(CR_INVALID_POINTER));
        EXPECT_EQ(CM_Get_Device_Interface_List_SizeW(&length, &guid, nullptr, 0x10),
                  static_cast<CONFIGRET>(CR_INVALID_FLAG));
    });
}

TEST(DeviceInterface, TheAppFindsAndTalksToEachChildBothWays)
{
    PnpRig rig;
    rig.DeclareToyBus();
    rig.Plug("ROOT\\IOSIM_TOYBUS");
    auto setupdi = rig.machine.run_app("toy_app.exe");
    EXPECT_EQ(setupdi.exit_code, 2) << setupdi.output;
    EXPECT_NE(setupdi.output.find("interface 0 of device TOYBUS\\CHILD\\01"), std::string::npos) << setupdi.output;
    EXPECT_NE(setupdi.output.find("child 1 (answer #1)"), std::string::npos) << setupdi.output;
    EXPECT_NE(setupdi.output.find("child 2 (answer #1)"), std::string::npos) << setupdi.output;
    EXPECT_NE(setupdi.output.find("2 toy child interface(s) found with SetupDi, 2 answered"), std::string::npos);
    auto cm = rig.machine.run_app("toy_app.exe", {"cm"});
    EXPECT_EQ(cm.exit_code, 2) << cm.output;
    EXPECT_NE(cm.output.find("child 2 (answer #2)"), std::string::npos) << cm.output;
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST(DeviceInterface, AnAnsiCAppUsesTheAVersions)
{
    PnpRig rig;
    rig.DeclareLayers();
    rig.Plug("IOSIM\\PNPT");
    rig.Plug("IOSIM\\PNPT");
    auto result = rig.machine.run_app("pnpt_app.exe");
    EXPECT_EQ(result.exit_code, 2) << result.output;
    // ANSI: the detail's size counts bytes of CHARs: 4 (cbSize) + the path and its NUL.
    std::string path0 = "\\\\?\\ROOT#IOSIM_PNPT#0000#{5e1f0c3a-2b4d-4c6e-8f70-91a2b3c4d5e6}";
    EXPECT_NE(result.output.find("setupdi: " + path0 + " (" + std::to_string(4 + path0.size() + 1) + " bytes)"),
              std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("cm: \\\\?\\ROOT#IOSIM_PNPT#0001#{5e1f0c3a-2b4d-4c6e-8f70-91a2b3c4d5e6}"),
              std::string::npos)
        << result.output;
}
