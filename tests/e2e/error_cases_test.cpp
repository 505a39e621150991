// error_cases_test.cpp - drivers that break one rule each (tests/e2e/drivers/) and what
// iosim does about it: the exact status, Win32 error, finding or bug check.
#include <gtest/gtest.h>

#include <cstring>

#include "e2e/e2e_support.h"
#include "io_api.h"
#include "ldr/module.h"

#include "../../drivers/ioctl_buffered/ioctl_buffered_public.h"
#include "drivers/sloppy/sloppy_public.h"

using namespace iosim;
using e2e::InOrder;

namespace {

bool ModuleLoaded(const std::string& name)
{
    for (ldr::Module* module : ldr::loaded_modules())
        if (module->name == name)
            return true;
    return false;
}

const Finding* FindingWithCode(const std::vector<Finding>& findings, const std::string& code)
{
    for (const auto& finding : findings)
        if (finding.code == code)
            return &finding;
    return nullptr;
}

}  // namespace

TEST(ErrorCases, UnknownKernelImportFailsToLoadNamingTheRoutine)
{
    e2e::Rig rig;
    std::string message;
    EXPECT_EQ(rig.machine.load_driver("Quantum", "e2e_unknown_import.sys", &message), STATUS_PROCEDURE_NOT_FOUND);
    EXPECT_NE(message.find("HalQuantumFlux"), std::string::npos) << message;
    EXPECT_NE(message.find("e2e_unknown_import.sys"), std::string::npos) << message;
    EXPECT_TRUE(rig.debug.empty()) << "DriverEntry must not run";
    EXPECT_FALSE(rig.Exists(u"\\Driver\\Quantum"));
    EXPECT_FALSE(ModuleLoaded("e2e_unknown_import.sys"));
    auto findings = rig.system().findings();
    const Finding* load_failed = FindingWithCode(findings, "DRIVER_LOAD_FAILED");
    ASSERT_NE(load_failed, nullptr) << rig.FindingsDump();
    EXPECT_NE(load_failed->message.find("HalQuantumFlux"), std::string::npos) << load_failed->message;

    // Through the SCM: StartService fails with ERROR_PROC_NOT_FOUND.
    auto result = rig.machine.run_app("scm_loader.exe", {"Quantum", "C:\\drivers\\e2e_unknown_import.sys", "start"});
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(InOrder(e2e::SplitLines(result.output),
                        {"CreateService: ok", "StartService: failed, GetLastError() = 127"}))
        << result.output;
    EXPECT_TRUE(rig.debug.empty());
    EXPECT_FALSE(io::driver_loaded(u"Quantum"));
}

TEST(ErrorCases, FailingDriverEntryUnloadsTheModule)
{
    e2e::Rig rig;
    std::string message;
    EXPECT_EQ(rig.machine.load_driver("Failing", "e2e_failing_entry.sys", &message), STATUS_DEVICE_CONFIGURATION_ERROR);
    EXPECT_NE(message.find("DriverEntry of e2e_failing_entry.sys failed with STATUS_DEVICE_CONFIGURATION_ERROR"),
              std::string::npos)
        << message;
    EXPECT_FALSE(rig.Exists(u"\\Driver\\Failing"));
    EXPECT_FALSE(io::driver_loaded(u"Failing"));
    EXPECT_FALSE(ModuleLoaded("e2e_failing_entry.sys"));
    // DriverUnload is not called for a driver whose DriverEntry failed.
    EXPECT_EQ(rig.debug, (std::vector<std::string>{"e2e_failing_entry.sys: e2e_failing_entry: device created, failing "
                                                   "with STATUS_DEVICE_CONFIGURATION_ERROR"}));
    // The device it left is reported, with the line that created it, and removed.
    auto findings = rig.system().findings();
    ASSERT_EQ(findings.size(), 1u) << rig.FindingsDump();
    EXPECT_EQ(findings[0].code, "DEVICE_LEFT_BEHIND");
    EXPECT_NE(findings[0].message.find("\\Device\\E2eFailing"), std::string::npos) << findings[0].message;
    int line = e2e::SourceLine("drivers/failing_entry/failing_entry.c", "LEFT_BEHIND */");
    ASSERT_NE(line, 0);
    EXPECT_NE(findings[0].location.find("failing_entry.c:" + std::to_string(line)), std::string::npos)
        << findings[0].location;
    EXPECT_FALSE(rig.Exists(u"\\Device\\E2eFailing"));

    // The image really went: loading it again runs DriverEntry again, and fails the same way.
    EXPECT_EQ(rig.machine.load_driver("Failing", "e2e_failing_entry.sys"), STATUS_DEVICE_CONFIGURATION_ERROR);
    EXPECT_EQ(rig.debug.size(), 2u);
}

TEST(ErrorCases, DeviceNameCollision)
{
    e2e::Rig rig;
    EXPECT_EQ(rig.machine.load_driver("Twin", "e2e_twin_devices.sys"), STATUS_OBJECT_NAME_COLLISION);
    EXPECT_EQ(rig.debug, (std::vector<std::string>{
                             "e2e_twin_devices.sys: e2e_twin_devices: first IoCreateDevice returned 0x00000000",
                             "e2e_twin_devices.sys: e2e_twin_devices: second IoCreateDevice returned 0xC0000035, "
                             "device NULL",
                         }));
    EXPECT_TRUE(InOrder(rig.Trace(), {"\\Driver\\Twin created \\Device\\E2eTwin",
                                      "IoCreateDevice(\\Device\\E2eTwin) failed: STATUS_OBJECT_NAME_COLLISION",
                                      "\\Driver\\Twin deleted \\Device\\E2eTwin",
                                      "DriverEntry of \\Driver\\Twin returned STATUS_OBJECT_NAME_COLLISION"}))
        << rig.TraceDump();
    EXPECT_FALSE(rig.Exists(u"\\Device\\E2eTwin"));
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();  // it cleaned up after itself
}

TEST(ErrorCases, SecondOpenOfExclusiveDevice)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("kbuffer", "kbuffer.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE first = nullptr;
        IO_STATUS_BLOCK iosb{};
        ASSERT_EQ(io::create_file(u"\\Device\\IosimKbuffer", FILE_GENERIC_READ, 0, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT,
                                  UserMode, &first, &iosb),
                  STATUS_SUCCESS);
        HANDLE second = nullptr;
        EXPECT_EQ(io::create_file(u"\\Device\\IosimKbuffer", FILE_GENERIC_READ, 0, FILE_OPEN,
                                  FILE_SYNCHRONOUS_IO_NONALERT, UserMode, &second, &iosb),
                  STATUS_ACCESS_DENIED);
        EXPECT_EQ(second, nullptr);
        EXPECT_EQ(e2e::OpenDevice(u"\\\\.\\IosimKbuffer", GENERIC_READ), INVALID_HANDLE_VALUE);
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
        EXPECT_EQ(io::close_handle(first), STATUS_SUCCESS);
    });
    EXPECT_EQ(e2e::CountContaining(rig.debug, "IRP_MJ_CREATE"), 1u);
}

TEST(ErrorCases, IoctlNeedingWriteAccessOnReadOnlyHandle)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("ioctl_buffered", "ioctl_buffered.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = nullptr;
        IO_STATUS_BLOCK iosb{};
        ASSERT_EQ(io::create_file(u"\\??\\IosimIoctl", FILE_GENERIC_READ, 0, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT,
                                  UserMode, &h, &iosb),
                  STATUS_SUCCESS);
        iosb.Status = 0x12345678;
        iosb.Information = 99;
        EXPECT_EQ(io::device_io_control(h, IOCTL_IOSIM_WRITE_ONLY, nullptr, 0, nullptr, 0, false, UserMode, &iosb),
                  STATUS_ACCESS_DENIED);
        // Refused before any IRP: the IO_STATUS_BLOCK is not written.
        EXPECT_EQ(iosb.Status, 0x12345678);
        EXPECT_EQ(iosb.Information, 99u);
        EXPECT_EQ(io::close_handle(h), STATUS_SUCCESS);
    });
    EXPECT_EQ(e2e::CountContaining(rig.debug, "IRP_MJ_DEVICE_CONTROL"), 0u);
    EXPECT_EQ(e2e::CountContaining(rig.Trace(), "allocated for IRP_MJ_DEVICE_CONTROL"), 0u) << rig.TraceDump();
}

TEST(ErrorCases, DoubleCompletionBugChecks0x44)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("Double", "e2e_double_complete.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    HANDLE h = app.Run([] { return e2e::OpenDevice(u"\\\\.\\E2eDouble", GENERIC_READ); });
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    try {
        app.Run([&] {
            char data[4];
            DWORD bytes = 0;
            ReadFile(h, data, sizeof(data), &bytes, nullptr);
        });
        app.Abandon();
        FAIL() << "no bug check";
    } catch (const BugCheck& stop) {
        app.Abandon();
        const BugCheckInfo& info = stop.info();
        EXPECT_EQ(info.code, 0x44u);
        EXPECT_EQ(info.name, "MULTIPLE_IRP_COMPLETE_REQUESTS");
        EXPECT_EQ(info.driver, "e2e_double_complete.sys");
        int second = e2e::SourceLine("drivers/double_complete/double_complete.c", "/* SECOND_COMPLETION");
        int first = e2e::SourceLine("drivers/double_complete/double_complete.c", "/* FIRST_COMPLETION");
        ASSERT_NE(second, 0);
        ASSERT_NE(first, 0);
        EXPECT_NE(info.location.find("double_complete.c:" + std::to_string(second) + " in DoubleRead"),
                  std::string::npos)
            << info.location;
        EXPECT_TRUE(InOrder(info.irp_history,
                            {"allocated with 1 stack location(s)",
                             "IRP_MJ_READ sent to \\Device\\E2eDouble at stack location 1",
                             "completed with STATUS_SUCCESS (0x00000000), Information 0 at double_complete.c:" +
                                 std::to_string(first)}))
            << stop.info().report;
        EXPECT_NE(info.report.find("MULTIPLE_IRP_COMPLETE_REQUESTS (bug check 0x44)"), std::string::npos) << info.report;
        EXPECT_EQ(rig.debug.back(), "e2e_double_complete.sys: e2e_double_complete: completed once, completing again");
    }
}

TEST(ErrorCases, OutOfStackLocationsBugChecks0x35)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("NoStack", "e2e_no_stack.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    HANDLE h = app.Run([] { return e2e::OpenDevice(u"\\\\.\\E2eFront", GENERIC_READ); });
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    try {
        app.Run([&] {
            char data[4];
            DWORD bytes = 0;
            ReadFile(h, data, sizeof(data), &bytes, nullptr);
        });
        app.Abandon();
        FAIL() << "no bug check";
    } catch (const BugCheck& stop) {
        app.Abandon();
        const BugCheckInfo& info = stop.info();
        EXPECT_EQ(info.code, 0x35u);
        EXPECT_EQ(info.name, "NO_MORE_IRP_STACK_LOCATIONS");
        int line = e2e::SourceLine("drivers/no_stack/no_stack.c", "NO_LOCATION_LEFT */");
        ASSERT_NE(line, 0);
        EXPECT_NE(info.location.find("no_stack.c:" + std::to_string(line)), std::string::npos) << info.location;
        EXPECT_NE(info.reason.find("\\Device\\E2eBack"), std::string::npos) << info.reason;
        EXPECT_TRUE(InOrder(info.irp_history, {"allocated with 1 stack location(s)",
                                               "IRP_MJ_READ sent to \\Device\\E2eFront at stack location 1"}))
            << info.report;
        EXPECT_EQ(e2e::CountContaining(info.irp_history, "E2eBack"), 0u) << info.report;
        EXPECT_EQ(rig.debug.back(),
                  "e2e_no_stack.sys: e2e_no_stack: front device passes the read on (IRP has 1 stack location(s))");
        EXPECT_EQ(e2e::CountContaining(rig.debug, "back device got the IRP"), 0u);
    }
}

TEST(ErrorCases, InformationLargerThanOutputBufferIsReportedNotCopiedPast)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("Sloppy", "e2e_sloppy.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\E2eSloppy", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << GetLastError();
        char input[48];
        for (size_t i = 0; i < sizeof(input); ++i)
            input[i] = static_cast<char>('a' + i % 26);
        // A 16-byte output buffer followed by a 32-byte guard region.
        unsigned char memory[16 + 32];
        std::memset(memory, 0xEE, sizeof(memory));
        DWORD bytes = 0;
        EXPECT_TRUE(DeviceIoControl(h, IOCTL_SLOPPY_TOO_MUCH, input, sizeof(input), memory, 16, &bytes, nullptr));
        EXPECT_EQ(bytes, 48u);  // the driver's Information, as the caller is told on Windows too
        EXPECT_EQ(std::memcmp(memory, input, 16), 0);
        for (size_t i = 16; i < sizeof(memory); ++i)
            ASSERT_EQ(memory[i], 0xEE) << "guard byte " << i << " overwritten";
        EXPECT_TRUE(CloseHandle(h));
    });
    auto findings = rig.system().findings();
    ASSERT_EQ(findings.size(), 1u) << rig.FindingsDump();
    EXPECT_EQ(findings[0].code, "IRP_INFORMATION_TOO_LARGE");
    EXPECT_NE(findings[0].message.find("IoStatus.Information = 48, more than the caller's 16-byte buffer"),
              std::string::npos)
        << findings[0].message;
    EXPECT_TRUE(InOrder(findings[0].details, {"IRP_MJ_DEVICE_CONTROL sent to \\Device\\E2eSloppy",
                                              "completed with STATUS_SUCCESS (0x00000000), Information 48 at sloppy.c:"}))
        << rig.FindingsDump();
    EXPECT_TRUE(InOrder(rig.Trace(), {"completed: STATUS_SUCCESS (0x00000000), Information 48",
                                      "I/O manager copied 16 byte(s) from SystemBuffer to the caller's buffer"}))
        << rig.TraceDump();
}

TEST(ErrorCases, DispatchReturningWithoutCompletingIsReported)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("Sloppy", "e2e_sloppy.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\E2eSloppy", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << GetLastError();
        IO_STATUS_BLOCK iosb{};
        iosb.Status = 0x12345678;
        // The system service returns what the dispatch routine returned.
        EXPECT_EQ(io::device_io_control(h, IOCTL_SLOPPY_NOT_COMPLETED, nullptr, 0, nullptr, 0, false, UserMode, &iosb),
                  STATUS_SUCCESS);
        EXPECT_EQ(iosb.Status, 0x12345678) << "never completed: the IO_STATUS_BLOCK is not written";
        EXPECT_TRUE(CloseHandle(h));
    });
    auto findings = rig.system().findings();
    ASSERT_EQ(findings.size(), 1u) << rig.FindingsDump();
    EXPECT_EQ(findings[0].code, "IRP_NOT_COMPLETED");
    EXPECT_NE(findings[0].message.find("the dispatch routine of \\Device\\E2eSloppy returned STATUS_SUCCESS"),
              std::string::npos)
        << findings[0].message;
    EXPECT_TRUE(InOrder(findings[0].details, {"IRP_MJ_DEVICE_CONTROL sent to \\Device\\E2eSloppy",
                                              "dispatch routine of \\Device\\E2eSloppy returned STATUS_SUCCESS"}))
        << rig.FindingsDump();
    EXPECT_EQ(e2e::CountContaining(findings[0].details, "completed with"), 0u) << rig.FindingsDump();
}

TEST(ErrorCases, ErrorStatusWithInformationCopiesNothing)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("Sloppy", "e2e_sloppy.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\E2eSloppy", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << GetLastError();
        unsigned char out[16];
        std::memset(out, 0xCC, sizeof(out));
        DWORD bytes = 77;
        OVERLAPPED ol = {};
        ol.Internal = 0x1111;
        ol.InternalHigh = 0x2222;
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_SLOPPY_ERROR_WITH_DATA, nullptr, 0, out, sizeof(out), &bytes, nullptr));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
        EXPECT_EQ(bytes, 0u);
        for (unsigned char c : out)
            ASSERT_EQ(c, 0xCC) << "data of a failed request reached the caller";
        // Nor is the IO_STATUS_BLOCK (the OVERLAPPED) written: only the return value tells.
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_SLOPPY_ERROR_WITH_DATA, nullptr, 0, out, sizeof(out), &bytes, &ol));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
        EXPECT_EQ(ol.InternalHigh, 0x2222u);
        EXPECT_TRUE(CloseHandle(h));
    });
    EXPECT_EQ(e2e::CountContaining(rig.Trace(), "I/O manager copied"), 0u) << rig.TraceDump();
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}
