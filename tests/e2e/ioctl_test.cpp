// ioctl_test.cpp - the ioctl_buffered driver and the ioctl_client app end to end.
#include <gtest/gtest.h>

#include "e2e/e2e_support.h"

using namespace iosim;
using e2e::InOrder;

TEST(IoctlSample, ClientSendsEveryCodeAndPrintsWhatCameBack)
{
    e2e::Rig rig;
    std::string message;
    ASSERT_EQ(rig.machine.load_driver("ioctl_buffered", "ioctl_buffered.sys", &message), STATUS_SUCCESS) << message;

    auto result = rig.machine.run_app("ioctl_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(e2e::SplitLines(result.output), (std::vector<std::string>{
        "opened \\\\.\\IosimIoctl for reading and writing",
        "IOCTL_IOSIM_ECHO (0x00222000): sending 13 byte(s) \"hello, driver\", output buffer 64 byte(s)",
        "  ok, 13 byte(s) returned",
        "  received \"HELLO, DRIVER\"",
        "IOCTL_IOSIM_FILL (0x00222004): sending 12 byte(s) \"fill, please\", output buffer 8 byte(s)",
        "  ok, 8 byte(s) returned",
        "  received F1 F1 F1 F1 F1 F1 F1 F1",
        "IOCTL_IOSIM_WRITE_ONLY (0x0022A008): sending nothing, output buffer 0 byte(s)",
        "  ok, 0 byte(s) returned",
        "IOCTL_IOSIM_SMALL (0x8000200C): sending nothing, output buffer 8 byte(s)",
        "  failed, GetLastError() = 122, 0 byte(s) returned",
        "IOCTL_IOSIM_SMALL (0x8000200C): sending nothing, output buffer 20 byte(s)",
        "  failed, GetLastError() = 234, 16 byte(s) returned",
        "  received \"IosimSmallHeader\"",
        "IOCTL_IOSIM_SMALL (0x8000200C): sending nothing, output buffer 32 byte(s)",
        "  ok, 32 byte(s) returned",
        "  received \"IosimSmallHeader/the whole body/\"",
        "IOCTL_IOSIM_UNKNOWN (0x002223FC): sending nothing, output buffer 64 byte(s)",
        "  failed, GetLastError() = 1, 0 byte(s) returned",
        "closed",
        "opened \\\\.\\IosimIoctl for reading only",
        "IOCTL_IOSIM_WRITE_ONLY (0x0022A008): sending nothing, output buffer 0 byte(s)",
        "  failed, GetLastError() = 5, 0 byte(s) returned",
        "IOCTL_IOSIM_ECHO (0x00222000): sending 10 byte(s) \"any access\", output buffer 64 byte(s)",
        "  ok, 10 byte(s) returned",
        "  received \"ANY ACCESS\"",
        "closed",
    }));

    // The driver's side: the refused WRITE_ONLY on the read-only handle never arrives.
    EXPECT_EQ(rig.debug, (std::vector<std::string>{
        "ioctl_buffered.sys: ioctl_buffered: DriverEntry",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_CREATE, desired access 0x0012019F",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x00222000, input 13, output 64",
        "ioctl_buffered.sys: ioctl_buffered: ECHO \"hello, driver\"",
        "ioctl_buffered.sys: ioctl_buffered: completing with 0x00000000, Information 13",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x00222004, input 12, output 8",
        "ioctl_buffered.sys: ioctl_buffered: FILL, input \"fill, please\", filling 8 byte(s) with 0xF1",
        "ioctl_buffered.sys: ioctl_buffered: completing with 0x00000000, Information 8",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x0022A008, input 0, output 0",
        "ioctl_buffered.sys: ioctl_buffered: WRITE_ONLY, request counter reset",
        "ioctl_buffered.sys: ioctl_buffered: completing with 0x00000000, Information 0",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x8000200C, input 0, output 8",
        "ioctl_buffered.sys: ioctl_buffered: SMALL, 0 of 32 byte(s) fit",
        "ioctl_buffered.sys: ioctl_buffered: completing with 0xC0000023, Information 0",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x8000200C, input 0, output 20",
        "ioctl_buffered.sys: ioctl_buffered: SMALL, 16 of 32 byte(s) fit",
        "ioctl_buffered.sys: ioctl_buffered: completing with 0x80000005, Information 16",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x8000200C, input 0, output 32",
        "ioctl_buffered.sys: ioctl_buffered: SMALL, 32 of 32 byte(s) fit",
        "ioctl_buffered.sys: ioctl_buffered: completing with 0x00000000, Information 32",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x002223FC, input 0, output 64",
        "ioctl_buffered.sys: ioctl_buffered: unknown control code",
        "ioctl_buffered.sys: ioctl_buffered: completing with 0xC0000010, Information 0",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_CLEANUP",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_CLOSE",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_CREATE, desired access 0x00120089",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_DEVICE_CONTROL code 0x00222000, input 10, output 64",
        "ioctl_buffered.sys: ioctl_buffered: ECHO \"any access\"",
        "ioctl_buffered.sys: ioctl_buffered: completing with 0x00000000, Information 10",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_CLEANUP",
        "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_CLOSE",
    }));

    // The IRP flow of the ECHO request, event by event.
    uint64_t echo = rig.IrpOf("IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl");
    ASSERT_NE(echo, 0u) << rig.TraceDump();
    auto irp = "IRP#" + std::to_string(echo) + " ";
    EXPECT_EQ(rig.TraceOfIrp(echo).size(), 6u) << rig.TraceDump();
    EXPECT_TRUE(InOrder(rig.TraceOfIrp(echo), {
        irp + "allocated for IRP_MJ_DEVICE_CONTROL (1 stack location)",
        irp + "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl [\\Driver\\ioctl_buffered] stack location 1 of 1: "
              "ioctl_buffered!IoctlDeviceControl",
        irp + "completed: STATUS_SUCCESS (0x00000000), Information 13 (ioctl_buffered.c:",
        irp + "dispatch routine of \\Device\\IosimIoctl returned STATUS_SUCCESS",
        irp + "I/O manager copied 13 byte(s) from SystemBuffer to the caller's buffer",
        irp + "freed",
    })) << rig.TraceDump();

    // The whole session: open, the requests, the refused one, cleanup and close.
    EXPECT_TRUE(InOrder(rig.Trace(), {
        "(ioctl_client.exe) created",
        "IRP_MJ_CREATE -> \\Device\\IosimIoctl",
        "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl", "Information 13", "copied 13 byte(s)",
        "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl", "Information 8", "copied 8 byte(s)",
        "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl", "completed: STATUS_SUCCESS (0x00000000), Information 0",
        "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl", "completed: STATUS_BUFFER_TOO_SMALL",
        "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl", "completed: STATUS_BUFFER_OVERFLOW", "copied 16 byte(s)",
        "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl", "Information 32", "copied 32 byte(s)",
        "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl", "completed: STATUS_INVALID_DEVICE_REQUEST",
        "IRP_MJ_CLEANUP -> \\Device\\IosimIoctl",
        "IRP_MJ_CLOSE -> \\Device\\IosimIoctl",
        "IRP_MJ_CREATE -> \\Device\\IosimIoctl",
        "DeviceIoControl 0x0022A008 refused: the code needs write access the handle lacks",
        "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimIoctl", "copied 10 byte(s)",
        "IRP_MJ_CLEANUP -> \\Device\\IosimIoctl",
        "IRP_MJ_CLOSE -> \\Device\\IosimIoctl",
        "(ioctl_client.exe) exited with code 0",
    })) << rig.TraceDump();
    EXPECT_EQ(e2e::CountContaining(rig.Trace(), "allocated for IRP_MJ_DEVICE_CONTROL"), 8u) << rig.TraceDump();

    ASSERT_EQ(rig.machine.unload_driver("ioctl_buffered"), STATUS_SUCCESS);
    EXPECT_EQ(rig.debug.back(), "ioctl_buffered.sys: ioctl_buffered: DriverUnload after 5 control request(s)");
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
    EXPECT_TRUE(rig.system().pool().outstanding_all().empty());
    EXPECT_FALSE(rig.Exists(u"\\Device\\IosimIoctl"));
    EXPECT_FALSE(rig.Exists(u"\\GLOBAL??\\IosimIoctl"));
}

TEST(IoctlSample, ClientWithoutDriverCannotOpenTheDevice)
{
    e2e::Rig rig;
    auto result = rig.machine.run_app("ioctl_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(result.output, "CreateFile(\\\\.\\IosimIoctl) failed, GetLastError() = 2\n");
}

// Stopping the driver while a handle is open: DriverUnload waits for the last close, and
// the device refuses new opens meanwhile (STATUS_NO_SUCH_DEVICE -> ERROR_FILE_NOT_FOUND).
TEST(IoctlSample, UnloadWaitsForTheLastHandle)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("ioctl_buffered", "ioctl_buffered.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    HANDLE h = app.Run([] { return e2e::OpenDevice(u"\\\\.\\IosimIoctl", GENERIC_READ); });
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    app.Run([&] {
        char out[8];
        DWORD bytes = 0;
        EXPECT_TRUE(DeviceIoControl(h, CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS),
                                    (LPVOID) "abc", 3, out, sizeof(out), &bytes, nullptr));
        EXPECT_EQ(std::string(out, bytes), "ABC");
    });

    std::string message;
    EXPECT_EQ(rig.machine.unload_driver("ioctl_buffered", &message), STATUS_SUCCESS);
    EXPECT_NE(message.find("will unload when its 1 open file object(s) close"), std::string::npos) << message;
    EXPECT_EQ(e2e::CountContaining(rig.debug, "DriverUnload"), 0u);
    EXPECT_TRUE(rig.Exists(u"\\Driver\\ioctl_buffered"));

    app.Run([] {
        EXPECT_EQ(e2e::OpenDevice(u"\\\\.\\IosimIoctl", GENERIC_READ), INVALID_HANDLE_VALUE);
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
    });
    EXPECT_EQ(e2e::CountContaining(rig.debug, "IRP_MJ_CREATE"), 1u);

    app.Run([&] { EXPECT_TRUE(CloseHandle(h)); });
    // The extension started zeroed: one request since load.
    EXPECT_TRUE(InOrder(rig.debug, {"ioctl_buffered: IRP_MJ_CLEANUP", "ioctl_buffered: IRP_MJ_CLOSE",
                                    "ioctl_buffered: DriverUnload after 1 control request(s)"}));
    EXPECT_FALSE(rig.Exists(u"\\Driver\\ioctl_buffered"));
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}
