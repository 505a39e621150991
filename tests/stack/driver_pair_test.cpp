// driver_pair_test.cpp - a port/miniport pair (drivers/port, drivers/miniport): the
// miniport imports PortInitialize from port.sys, so the port loads first and cannot be
// unloaded while the miniport is loaded; a request to the miniport's device runs the
// port's dispatch routine and the miniport's callbacks.
#include <gmock/gmock.h>

#include "ldr/module.h"
#include "stack/stack_test_support.h"
#include "windows.h"

using namespace iosim;
using namespace stack_test;
using ::testing::HasSubstr;

namespace {
class DriverPair : public StackTest {};
}  // namespace

TEST_F(DriverPair, TheMiniportBindsToTheLoadedPortAndARequestRunsThroughBoth)
{
    load("port", "port.sys");
    load("miniport", "miniport.sys");
    DRIVER_OBJECT* miniport = driver(u"miniport");
    ldr::Module* port_module = io::driver_body(driver(u"port"))->priv.module;
    ldr::Module* miniport_module = io::driver_body(miniport)->priv.module;
    EXPECT_THAT(miniport_module->exporters, ::testing::ElementsAre(port_module));
    EXPECT_THAT(ldr::importers_of(port_module), ::testing::ElementsAre(miniport_module));
    // The device belongs to the miniport's driver object; its dispatch code lives in port.sys.
    ASSERT_NE(miniport->DeviceObject, nullptr);
    EXPECT_EQ(ldr::module_for_address(reinterpret_cast<void*>(miniport->MajorFunction[IRP_MJ_READ])), port_module);
    EXPECT_EQ(ldr::module_for_address(reinterpret_cast<void*>(miniport->DriverUnload)), port_module);

    enter_app();
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimMini"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, 0, nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    char buffer[32] = {};
    DWORD n = 0;
    ASSERT_TRUE(ReadFile(h, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "miniport ready") << "HwInitialize ran; HwRead answered";
    ASSERT_TRUE(WriteFile(h, "registers", 9, &n, nullptr));
    EXPECT_EQ(n, 9u);
    ASSERT_TRUE(ReadFile(h, buffer, sizeof(buffer), &n, nullptr));
    EXPECT_EQ(std::string(buffer, n), "registers");
    char big[65] = {};
    EXPECT_FALSE(WriteFile(h, big, sizeof(big), &n, nullptr)) << "the miniport's own limit";
    CloseHandle(h);
    EXPECT_THAT(debug_lines("port: read of"), ::testing::Not(::testing::IsEmpty()));
}

TEST_F(DriverPair, ThePortCannotBeUnloadedWhileTheMiniportImportsFromIt)
{
    load("port", "port.sys");
    load("miniport", "miniport.sys");
    std::string message;
    EXPECT_EQ(machine.unload_driver("port", &message), STATUS_DEVICE_BUSY);
    EXPECT_THAT(message, HasSubstr("\\Driver\\port cannot be unloaded: miniport.sys imports routines from port.sys"));
    EXPECT_NE(driver(u"port"), nullptr) << "still loaded";
    EXPECT_EQ(machine.unload_driver("miniport", &message), STATUS_SUCCESS) << message;
    EXPECT_THAT(debug_lines("miniport: hardware stopped"), ::testing::SizeIs(1)) << "the port's unload ran HwStop";
    EXPECT_EQ(machine.unload_driver("port", &message), STATUS_SUCCESS) << message;
    EXPECT_EQ(driver(u"port"), nullptr);
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(DriverPair, TheMiniportDoesNotLoadWithoutItsPort)
{
    std::string message;
    EXPECT_EQ(machine.load_driver("miniport", "miniport.sys", &message), STATUS_DLL_NOT_FOUND);
    EXPECT_THAT(message, HasSubstr("miniport.sys was not loaded: it imports routines from port.sys, which is not loaded"));
    EXPECT_THAT(message, HasSubstr("Load the export driver first"));
    EXPECT_EQ(driver(u"miniport"), nullptr);
    for (ldr::Module* module : ldr::loaded_modules())
        EXPECT_NE(module->name, "port.sys") << "the loader must not pull the port in behind the I/O manager's back";

    // In the right order it works, and shutdown unloads them in reverse.
    load("port", "port.sys");
    load("miniport", "miniport.sys");
    EXPECT_TRUE(machine.shutdown().empty());
}

// The Service Control Manager's view of the same refusal: stopping a service others
// still depend on is ERROR_DEPENDENT_SERVICES_RUNNING (1051), and the service stays up.
TEST_F(DriverPair, StoppingThePortThroughTheScmIsDependentServicesRunning)
{
    enter_app();
    SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ALL_ACCESS);
    ASSERT_NE(scm, nullptr);
    auto install = [&](const char16_t* name, const char16_t* image) {
        SC_HANDLE service = CreateServiceW(scm, reinterpret_cast<LPCWSTR>(name), reinterpret_cast<LPCWSTR>(name),
                                           SERVICE_ALL_ACCESS, SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START,
                                           SERVICE_ERROR_NORMAL, reinterpret_cast<LPCWSTR>(image), nullptr, nullptr,
                                           nullptr, nullptr, nullptr);
        EXPECT_NE(service, nullptr) << GetLastError();
        EXPECT_TRUE(StartServiceW(service, 0, nullptr)) << GetLastError();
        return service;
    };
    SC_HANDLE port = install(u"port", u"C:\\drivers\\port.sys");
    SC_HANDLE miniport = install(u"miniport", u"C:\\drivers\\miniport.sys");
    SERVICE_STATUS status{};
    EXPECT_FALSE(ControlService(port, SERVICE_CONTROL_STOP, &status));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_DEPENDENT_SERVICES_RUNNING));
    EXPECT_NE(driver(u"port"), nullptr) << "still loaded";
    // Stopped in the right order, both go.
    EXPECT_TRUE(ControlService(miniport, SERVICE_CONTROL_STOP, &status)) << GetLastError();
    EXPECT_TRUE(ControlService(port, SERVICE_CONTROL_STOP, &status)) << GetLastError();
    EXPECT_EQ(driver(u"port"), nullptr);
    for (SC_HANDLE service : {port, miniport}) {
        DeleteService(service);
        CloseServiceHandle(service);
    }
    CloseServiceHandle(scm);
}
