// nt_rules_test.cpp - rules of /work/shared/nt-io-facts.md pinned with the sample drivers.
// Each test is named after the rule it checks.
#include <gtest/gtest.h>

#include <cstring>

#include "e2e/e2e_support.h"
#include "io_api.h"
#include "ob/handle_table.h"
#include "ob/object.h"

#include "../../drivers/ioctl_buffered/ioctl_buffered_public.h"

using namespace iosim;
using e2e::InOrder;

namespace {

DWORD Error() { return GetLastError(); }

}  // namespace

// "A device created with Exclusive = TRUE refuses a second open while one is outstanding."
TEST(NtRules, ExclusiveDeviceRefusesSecondOpen)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("kbuffer", "kbuffer.sys"), STATUS_SUCCESS);  // exclusive, like the seed's
    {
        e2e::Win32Process app(rig.machine);
        app.Run([] {
            HANDLE first = e2e::OpenDevice(u"\\\\.\\IosimKbuffer", GENERIC_READ | GENERIC_WRITE);
            ASSERT_NE(first, INVALID_HANDLE_VALUE) << Error();
            HANDLE second = e2e::OpenDevice(u"\\\\.\\IosimKbuffer", GENERIC_READ);
            EXPECT_EQ(second, INVALID_HANDLE_VALUE);
            EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
            EXPECT_TRUE(CloseHandle(first));
            // Once the first handle is closed the device opens again.
            HANDLE third = e2e::OpenDevice(u"\\\\.\\IosimKbuffer", GENERIC_READ);
            ASSERT_NE(third, INVALID_HANDLE_VALUE) << Error();
            EXPECT_TRUE(CloseHandle(third));
        });
    }
    // The refused open never reached the driver: two CREATEs for three CreateFile calls.
    EXPECT_EQ(e2e::CountContaining(rig.debug, "kbuffer: IRP_MJ_CREATE"), 2u);
    EXPECT_EQ(e2e::CountContaining(rig.Trace(), "allocated for IRP_MJ_CREATE"), 2u) << rig.TraceDump();
    EXPECT_TRUE(InOrder(rig.Trace(), {"IRP_MJ_CREATE -> \\Device\\IosimKbuffer",
                                      "open \\Device\\IosimKbuffer: STATUS_ACCESS_DENIED (0xC0000022) (exclusive device "
                                      "already open)",
                                      "IRP_MJ_CLOSE -> \\Device\\IosimKbuffer", "IRP_MJ_CREATE -> \\Device\\IosimKbuffer"}))
        << rig.TraceDump();
    ASSERT_EQ(rig.machine.unload_driver("kbuffer"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

// "The I/O manager checks the Access bits against the handle's granted access before
// building the IRP: STATUS_ACCESS_DENIED."
TEST(NtRules, IoctlNeedingWriteAccessFailsOnReadOnlyHandleBeforeDriver)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("ioctl_buffered", "ioctl_buffered.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimIoctl", GENERIC_READ);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << Error();
        DWORD bytes = 77;
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_IOSIM_WRITE_ONLY, nullptr, 0, nullptr, 0, &bytes, nullptr));
        EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
        EXPECT_EQ(bytes, 0u);
        EXPECT_TRUE(CloseHandle(h));
    });
    // Not one IRP_MJ_DEVICE_CONTROL exists: the driver's dispatch routine never ran.
    EXPECT_EQ(e2e::CountContaining(rig.debug, "IRP_MJ_DEVICE_CONTROL"), 0u);
    EXPECT_EQ(e2e::CountContaining(rig.debug, "WRITE_ONLY"), 0u);
    EXPECT_EQ(e2e::CountContaining(rig.Trace(), "IRP_MJ_DEVICE_CONTROL"), 0u) << rig.TraceDump();
    EXPECT_TRUE(InOrder(rig.Trace(), {"IRP_MJ_CREATE -> \\Device\\IosimIoctl",
                                      "DeviceIoControl 0x0022A008 refused: the code needs write access the handle lacks "
                                      "(STATUS_ACCESS_DENIED, no IRP built)",
                                      "IRP_MJ_CLEANUP -> \\Device\\IosimIoctl"}))
        << rig.TraceDump();

    // The same code on a handle with write access reaches the driver.
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimIoctl", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << Error();
        DWORD bytes = 0;
        EXPECT_TRUE(DeviceIoControl(h, IOCTL_IOSIM_WRITE_ONLY, nullptr, 0, nullptr, 0, &bytes, nullptr)) << Error();
        EXPECT_TRUE(CloseHandle(h));
    });
    EXPECT_EQ(e2e::CountContaining(rig.debug, "WRITE_ONLY, request counter reset"), 1u);
    app.End();
    ASSERT_EQ(rig.machine.unload_driver("ioctl_buffered"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

// "Buffered input operation and status not an error (!NT_ERROR): copy Information bytes
// back to the user buffer" - and for an error, nothing.
TEST(NtRules, BufferedOutputCopiedOnlyWhenNotError)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("ioctl_buffered", "ioctl_buffered.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimIoctl", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << Error();
        unsigned char out[40];
        std::memset(out, 0xCC, sizeof(out));
        DWORD bytes = 77;
        // STATUS_BUFFER_TOO_SMALL is an error: nothing copied, 0 bytes.
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_IOSIM_SMALL, nullptr, 0, out, 8, &bytes, nullptr));
        EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_INSUFFICIENT_BUFFER));
        EXPECT_EQ(bytes, 0u);
        for (unsigned char c : out)
            ASSERT_EQ(c, 0xCC);
        // STATUS_SUCCESS: Information (32) bytes copied, the rest of the buffer untouched.
        EXPECT_TRUE(DeviceIoControl(h, IOCTL_IOSIM_SMALL, nullptr, 0, out, sizeof(out), &bytes, nullptr));
        EXPECT_EQ(bytes, 32u);
        EXPECT_EQ(std::string(reinterpret_cast<char*>(out), 32), IOSIM_SMALL_HEADER IOSIM_SMALL_BODY);
        for (size_t i = 32; i < sizeof(out); ++i)
            EXPECT_EQ(out[i], 0xCC) << i;
        EXPECT_TRUE(CloseHandle(h));
    });
    uint64_t failed = rig.IrpOf("completed: STATUS_BUFFER_TOO_SMALL");
    ASSERT_NE(failed, 0u) << rig.TraceDump();
    EXPECT_EQ(e2e::CountContaining(rig.TraceOfIrp(failed), "copied"), 0u) << rig.TraceDump();
    EXPECT_TRUE(InOrder(rig.TraceOfIrp(failed), {"completed: STATUS_BUFFER_TOO_SMALL (0xC0000023), Information 0",
                                                 "returned STATUS_BUFFER_TOO_SMALL", "freed"}))
        << rig.TraceDump();
    uint64_t succeeded = rig.IrpOf("completed: STATUS_SUCCESS (0x00000000), Information 32");
    ASSERT_NE(succeeded, 0u) << rig.TraceDump();
    EXPECT_TRUE(InOrder(rig.TraceOfIrp(succeeded), {"copied 32 byte(s)", "freed"})) << rig.TraceDump();
}

// "STATUS_BUFFER_OVERFLOW -> ERROR_MORE_DATA (234), a warning, so data is still copied back."
TEST(NtRules, BufferOverflowWarningStillCopiesData)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("ioctl_buffered", "ioctl_buffered.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimIoctl", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << Error();
        unsigned char out[24];
        std::memset(out, 0xCC, sizeof(out));
        DWORD bytes = 0;
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_IOSIM_SMALL, nullptr, 0, out, 20, &bytes, nullptr));
        EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_MORE_DATA));
        EXPECT_EQ(bytes, 16u);
        EXPECT_EQ(std::string(reinterpret_cast<char*>(out), 16), IOSIM_SMALL_HEADER);
        for (size_t i = 16; i < sizeof(out); ++i)
            EXPECT_EQ(out[i], 0xCC) << i;

        // The OVERLAPPED's Internal/InternalHigh are the IO_STATUS_BLOCK: written for a warning.
        OVERLAPPED ol = {};
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_IOSIM_SMALL, nullptr, 0, out, 20, &bytes, &ol));
        EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_MORE_DATA));
        EXPECT_EQ(ol.Internal, static_cast<ULONG_PTR>(static_cast<ULONG>(STATUS_BUFFER_OVERFLOW)));
        EXPECT_EQ(ol.InternalHigh, 16u);
        EXPECT_TRUE(CloseHandle(h));
    });
    uint64_t irp = rig.IrpOf("completed: STATUS_BUFFER_OVERFLOW");
    ASSERT_NE(irp, 0u) << rig.TraceDump();
    EXPECT_TRUE(InOrder(rig.TraceOfIrp(irp), {"completed: STATUS_BUFFER_OVERFLOW (0x80000005), Information 16",
                                              "I/O manager copied 16 byte(s) from SystemBuffer to the caller's buffer",
                                              "freed"}))
        << rig.TraceDump();
}

// "The I/O manager does not advance CurrentByteOffset after a read or write."
TEST(NtRules, CurrentByteOffsetIsNotAdvanced)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("kbuffer", "kbuffer.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimKbuffer", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << Error();
        DWORD bytes = 0;
        EXPECT_TRUE(WriteFile(h, "ABCDEFGHIJ", 10, &bytes, nullptr));
        EXPECT_EQ(bytes, 10u);
        // A second write without an OVERLAPPED lands on offset 0 again, over "ABC".
        EXPECT_TRUE(WriteFile(h, "xyz", 3, &bytes, nullptr));
        char data[10] = {};
        EXPECT_TRUE(ReadFile(h, data, sizeof(data), &bytes, nullptr));
        EXPECT_EQ(std::string(data, bytes), "xyzDEFGHIJ");
        EXPECT_TRUE(ReadFile(h, data, 4, &bytes, nullptr));
        EXPECT_EQ(std::string(data, bytes), "xyzD");
        EXPECT_EQ(GetFileSize(h, nullptr), 10u);
        EXPECT_TRUE(CloseHandle(h));
    });
    EXPECT_TRUE(InOrder(rig.debug, {"IRP_MJ_WRITE of 10 byte(s) at offset 0", "IRP_MJ_WRITE of 3 byte(s) at offset 0",
                                    "IRP_MJ_READ of 10 byte(s) at offset 0", "IRP_MJ_READ of 4 byte(s) at offset 0"}));
}

// "ReadFile/WriteFile with an OVERLAPPED use its Offset/OffsetHigh as ByteOffset, also on a
// synchronous handle."
TEST(NtRules, OverlappedOffsetUsedOnSynchronousHandle)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("kbuffer", "kbuffer.sys"), STATUS_SUCCESS);
    ASSERT_EQ(rig.machine.load_driver("pattern", "pattern.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimKbuffer", GENERIC_READ | GENERIC_WRITE);  // no FILE_FLAG_OVERLAPPED
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << Error();
        DWORD bytes = 0;
        OVERLAPPED ol = {};
        ol.Offset = 100;
        EXPECT_TRUE(WriteFile(h, "hello", 5, &bytes, &ol));
        EXPECT_EQ(bytes, 5u);
        EXPECT_EQ(ol.Internal, static_cast<ULONG_PTR>(STATUS_SUCCESS));
        EXPECT_EQ(ol.InternalHigh, 5u);
        char data[5] = {};
        OVERLAPPED at100 = {};
        at100.Offset = 100;
        EXPECT_TRUE(ReadFile(h, data, sizeof(data), &bytes, &at100));
        EXPECT_EQ(std::string(data, bytes), "hello");
        // Without an OVERLAPPED: CurrentByteOffset, 0, where nothing was written.
        EXPECT_TRUE(ReadFile(h, data, sizeof(data), &bytes, nullptr));
        EXPECT_EQ(std::string(data, bytes), std::string(5, '\0'));
        EXPECT_EQ(GetFileSize(h, nullptr), 105u);
        // Past the 512 bytes: the driver refuses the offset it was given.
        OVERLAPPED far = {};
        far.Offset = 510;
        EXPECT_FALSE(WriteFile(h, "hello", 5, &bytes, &far));
        EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_FILE_INVALID));
        EXPECT_TRUE(CloseHandle(h));

        HANDLE p = e2e::OpenDevice(u"\\\\.\\IosimPattern", GENERIC_READ);
        ASSERT_NE(p, INVALID_HANDLE_VALUE) << Error();
        OVERLAPPED at3 = {};
        at3.Offset = 3;
        EXPECT_TRUE(ReadFile(p, data, 4, &bytes, &at3));
        EXPECT_EQ(std::string(data, bytes), "DEFG");
        EXPECT_TRUE(CloseHandle(p));
    });
    EXPECT_TRUE(InOrder(rig.debug, {"IRP_MJ_WRITE of 5 byte(s) at offset 100", "IRP_MJ_READ of 5 byte(s) at offset 100",
                                    "IRP_MJ_READ of 5 byte(s) at offset 0", "IRP_MJ_WRITE of 5 byte(s) at offset 510",
                                    "pattern: IRP_MJ_READ of 4 byte(s) at offset 3"}));
}

// "When the last handle to a file object closes, the driver gets IRP_MJ_CLEANUP, in the
// context of the closing process. When the last reference goes, it gets IRP_MJ_CLOSE."
TEST(NtRules, CleanupOnLastHandleCloseOnLastReference)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("ioctl_buffered", "ioctl_buffered.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    Process* process = app.process();
    HANDLE first = nullptr, second = nullptr;
    void* file = nullptr;
    app.Run([&] {
        first = e2e::OpenDevice(u"\\\\.\\IosimIoctl", GENERIC_READ);
        ASSERT_NE(first, INVALID_HANDLE_VALUE) << Error();
        // A second handle to the same file object (what DuplicateHandle makes), and a
        // reference of our own, as a driver's ObReferenceObjectByHandle would take.
        ACCESS_MASK granted = 0;
        ASSERT_EQ(process->handles().reference(first, nullptr, &file, &granted), STATUS_SUCCESS);
        second = process->handles().insert(file, granted);
        ASSERT_NE(second, nullptr);
    });
    const auto opened = rig.debug.size();

    app.Run([&] { EXPECT_TRUE(CloseHandle(first)); });
    EXPECT_EQ(rig.debug.size(), opened) << "closing one of two handles sends nothing";

    app.Run([&] { EXPECT_TRUE(CloseHandle(second)); });
    ASSERT_EQ(rig.debug.size(), opened + 1);
    EXPECT_EQ(rig.debug.back(), "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_CLEANUP") << "last handle: CLEANUP only";

    ob::dereference(file);
    ASSERT_EQ(rig.debug.size(), opened + 2);
    EXPECT_EQ(rig.debug.back(), "ioctl_buffered.sys: ioctl_buffered: IRP_MJ_CLOSE") << "last reference: CLOSE";

    // CLEANUP ran in the closing process.
    bool seen = false;
    for (const auto& event : rig.system().trace().events())
        if (event.text.find("IRP_MJ_CLEANUP -> \\Device\\IosimIoctl") != std::string::npos) {
            EXPECT_EQ(event.pid, process->pid());
            seen = true;
        }
    EXPECT_TRUE(seen) << rig.TraceDump();
    app.End();
    ASSERT_EQ(rig.machine.unload_driver("ioctl_buffered"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

// "Every MajorFunction slot the driver leaves alone completes the IRP with
// STATUS_INVALID_DEVICE_REQUEST" and "a driver that registered no CLEANUP routine has the
// default one fail it; the handle still closes."
TEST(NtRules, DefaultDispatchFailsWithInvalidDeviceRequest)
{
    e2e::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("empty", "empty.sys"), STATUS_SUCCESS);
    ASSERT_EQ(rig.machine.load_driver("ioctl_buffered", "ioctl_buffered.sys"), STATUS_SUCCESS);
    e2e::Win32Process app(rig.machine);
    app.Run([] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimEmpty", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE) << Error();
        char out[8];
        DWORD bytes = 77;
        // empty registered no IRP_MJ_DEVICE_CONTROL.
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_IOSIM_ECHO, (LPVOID) "x", 1, out, sizeof(out), &bytes, nullptr));
        EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
        EXPECT_EQ(bytes, 0u);
        // empty registered no IRP_MJ_CLEANUP either: it fails, and the handle closes anyway.
        EXPECT_TRUE(CloseHandle(h));
        EXPECT_FALSE(CloseHandle(h));
        EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_INVALID_HANDLE));

        // ioctl_buffered registered no IRP_MJ_READ.
        HANDLE i = e2e::OpenDevice(u"\\\\.\\IosimIoctl", GENERIC_READ);
        ASSERT_NE(i, INVALID_HANDLE_VALUE) << Error();
        EXPECT_FALSE(ReadFile(i, out, sizeof(out), &bytes, nullptr));
        EXPECT_EQ(Error(), static_cast<DWORD>(ERROR_INVALID_FUNCTION));
        EXPECT_TRUE(CloseHandle(i));
    });
    EXPECT_TRUE(InOrder(rig.Trace(), {
                                         "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimEmpty [\\Driver\\empty] stack location 1 "
                                         "of 1: libiosim_io!IopInvalidDeviceRequest",
                                         "completed: STATUS_INVALID_DEVICE_REQUEST (0xC0000010), Information 0",
                                         "IRP_MJ_CLEANUP -> \\Device\\IosimEmpty [\\Driver\\empty] stack location 1 of 1: "
                                         "libiosim_io!IopInvalidDeviceRequest",
                                         "completed: STATUS_INVALID_DEVICE_REQUEST (0xC0000010), Information 0",
                                         "IRP_MJ_CLOSE -> \\Device\\IosimEmpty [\\Driver\\empty] stack location 1 of 1: "
                                         "empty!EmptyDispatch",
                                         "IRP_MJ_READ -> \\Device\\IosimIoctl [\\Driver\\ioctl_buffered] stack location 1 "
                                         "of 1: libiosim_io!IopInvalidDeviceRequest",
                                         "completed: STATUS_INVALID_DEVICE_REQUEST (0xC0000010), Information 0",
                                     }))
        << rig.TraceDump();
    EXPECT_EQ(e2e::CountContaining(rig.debug, "empty: IRP_MJ_CLOSE"), 1u);
    app.End();
    EXPECT_EQ(rig.machine.unload_driver("empty"), STATUS_SUCCESS);
    EXPECT_EQ(rig.machine.unload_driver("ioctl_buffered"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

// "A driver without DriverUnload cannot be stopped" - through the SCM, ERROR_INVALID_SERVICE_CONTROL.
TEST(NtRules, DriverWithoutUnloadCannotBeStopped)
{
    e2e::Rig rig;
    auto result = rig.machine.run_app("scm_loader.exe", {"NoUnload", "C:\\drivers\\e2e_no_unload.sys", "all"});
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(e2e::SplitLines(result.output),
              (std::vector<std::string>{
                  "service NoUnload, binary C:\\drivers\\e2e_no_unload.sys, action all",
                  "OpenSCManager: ok",
                  "CreateService: ok",
                  "StartService: ok",
                  "QueryServiceStatus: ok",
                  "  state SERVICE_RUNNING (4), controls accepted 0x0",
                  "ControlService(SERVICE_CONTROL_STOP): failed, GetLastError() = 1052",
                  "DeleteService: ok",
                  "CloseServiceHandle(service): ok",
                  "CloseServiceHandle(manager): ok",
              }));
    EXPECT_TRUE(io::driver_loaded(u"NoUnload"));
    EXPECT_TRUE(rig.Exists(u"\\Driver\\NoUnload"));
    EXPECT_EQ(rig.machine.unload_driver("NoUnload"), STATUS_INVALID_DEVICE_REQUEST);
    EXPECT_TRUE(io::driver_loaded(u"NoUnload"));
    EXPECT_EQ(rig.debug, (std::vector<std::string>{
                             "e2e_no_unload.sys: e2e_no_unload: DriverEntry, no DriverUnload registered"}));
    // Marked for deletion, the service stays while its driver runs.
    auto again = rig.machine.run_app("scm_loader.exe", {"NoUnload", "C:\\drivers\\e2e_no_unload.sys", "start"});
    EXPECT_TRUE(InOrder(e2e::SplitLines(again.output), {"CreateService: failed, GetLastError() = 1072"}))
        << again.output;
}

// The SCM's errors, through the scm_loader sample: exists, already running, does not
// exist, not active.
TEST(NtRules, ScmErrors)
{
    e2e::Rig rig;
    const std::string path = "%SystemRoot%\\system32\\drivers\\empty.sys";
    auto run = [&](const char* action) { return rig.machine.run_app("scm_loader.exe", {"Demo", path, action}); };

    auto start = run("start");
    EXPECT_EQ(start.exit_code, 0) << start.output;
    EXPECT_TRUE(InOrder(e2e::SplitLines(start.output), {"CreateService: ok", "StartService: ok"})) << start.output;

    auto twice = run("start");
    EXPECT_EQ(twice.exit_code, 2) << twice.output;
    EXPECT_EQ(e2e::SplitLines(twice.output),
              (std::vector<std::string>{
                  "service Demo, binary %SystemRoot%\\system32\\drivers\\empty.sys, action start",
                  "OpenSCManager: ok",
                  "CreateService: failed, GetLastError() = 1073",  // ERROR_SERVICE_EXISTS
                  "OpenService: ok",
                  "StartService: failed, GetLastError() = 1056",  // ERROR_SERVICE_ALREADY_RUNNING
                  "CloseServiceHandle(service): ok",
                  "CloseServiceHandle(manager): ok",
              }));
    EXPECT_EQ(e2e::CountContaining(rig.debug, "empty: DriverEntry"), 1u);

    auto query = run("query");
    EXPECT_EQ(query.exit_code, 0) << query.output;
    EXPECT_TRUE(InOrder(e2e::SplitLines(query.output), {"  state SERVICE_RUNNING (4), controls accepted 0x1"}));

    auto stop = run("stop");
    EXPECT_EQ(stop.exit_code, 0) << stop.output;
    auto stop_again = run("stop");
    EXPECT_EQ(stop_again.exit_code, 1) << stop_again.output;
    EXPECT_TRUE(InOrder(e2e::SplitLines(stop_again.output),
                        {"OpenService: ok", "ControlService(SERVICE_CONTROL_STOP): failed, GetLastError() = 1062"}))
        << stop_again.output;  // ERROR_SERVICE_NOT_ACTIVE

    auto stopped = run("query");
    EXPECT_TRUE(InOrder(e2e::SplitLines(stopped.output), {"  state SERVICE_STOPPED (1), controls accepted 0x0"}))
        << stopped.output;

    auto remove = run("delete");
    EXPECT_EQ(remove.exit_code, 0) << remove.output;
    auto gone = run("query");
    EXPECT_EQ(gone.exit_code, 1) << gone.output;
    EXPECT_EQ(e2e::SplitLines(gone.output),
              (std::vector<std::string>{
                  "service Demo, binary %SystemRoot%\\system32\\drivers\\empty.sys, action query",
                  "OpenSCManager: ok",
                  "OpenService: failed, GetLastError() = 1060",  // ERROR_SERVICE_DOES_NOT_EXIST
                  "CloseServiceHandle(manager): ok",
              }));
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}
