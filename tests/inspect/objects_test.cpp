// objects_test.cpp - !drvobj, !devobj, !devstack and !object on the sample drivers.
#include <fmt/format.h>

#include "device.h"
#include "driver.h"
#include "inspect_support.h"
#include "windows.h"

using namespace iosim;
using namespace inspect_test;

namespace {

class Objects : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string message;
        ASSERT_EQ(machine.load_driver("hello", "hello.sys", &message), STATUS_SUCCESS) << message;
    }
    Machine machine{quiet()};
};

}  // namespace

TEST_F(Objects, DrvobjWithFlag2ListsEntryPointsAndTheWholeDispatchTable)
{
    std::string out = ok("!drvobj hello 2");
    auto lines = lines_of(out);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0].rfind("Driver object (0x", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(") is for: \\Driver\\hello"), std::string::npos) << lines[0];
    EXPECT_TRUE(has_line(out, "  Module: hello.sys at " + address_after(line_with(out, "Module:"), " at ")));
    EXPECT_TRUE(has_line(out, "  Flags: 0x00000002 (DRVO_LEGACY_DRIVER)"));
    EXPECT_NE(line_with(out, "DriverEntry:   0x").find("  hello!DriverEntry"), std::string::npos) << out;
    EXPECT_TRUE(has_line(out, "DriverStartIo: 00000000"));
    EXPECT_NE(line_with(out, "DriverUnload:  0x").find("  hello!HelloUnload"), std::string::npos) << out;
    EXPECT_TRUE(has_line(out, "AddDevice:     00000000"));

    // All 28 slots, in order, each naming its routine.
    int slots = 0;
    for (const std::string& line : lines)
        if (line.size() > 4 && line[0] == '[' && line[3] == ']')
            EXPECT_EQ(line.substr(1, 2), fmt::format("{:02x}", slots++)) << line;
    EXPECT_EQ(slots, 0x1c);
    std::string create = line_with(out, "[00] ");
    EXPECT_EQ(create.rfind("[00] IRP_MJ_CREATE ", 0), 0u) << create;
    EXPECT_NE(create.find("  hello!HelloCreateClose"), std::string::npos) << create;
    std::string pipe = line_with(out, "[01] ");
    EXPECT_EQ(pipe.rfind("[01] IRP_MJ_CREATE_NAMED_PIPE ", 0), 0u) << pipe;
    EXPECT_NE(pipe.find("  nt!IopInvalidDeviceRequest"), std::string::npos) << pipe;
    EXPECT_NE(line_with(out, "[02] IRP_MJ_CLOSE ").find("hello!HelloCreateClose"), std::string::npos);
    EXPECT_NE(line_with(out, "[12] IRP_MJ_CLEANUP ").find("hello!HelloCleanup"), std::string::npos);
    EXPECT_NE(line_with(out, "[1b] IRP_MJ_PNP ").find("nt!IopInvalidDeviceRequest"), std::string::npos);

    // The device list names the device the driver created.
    std::string device_line = line_with(out, "  \\Device\\IosimHello");
    EXPECT_EQ(device_line.rfind("0x", 0), 0u) << out;
}

TEST_F(Objects, DrvobjFindsTheDriverByNameObjectNameModuleOrAddressAndFlagsChooseTheParts)
{
    std::string plain = ok("!drvobj hello");
    EXPECT_EQ(plain.find("Dispatch routines:"), std::string::npos);
    EXPECT_NE(plain.find("DriverEntry:"), std::string::npos);
    EXPECT_EQ(ok("!drvobj \\Driver\\hello"), plain);
    EXPECT_EQ(ok("!drvobj hello.sys"), plain);
    EXPECT_EQ(ok("!DRVOBJ HELLO 0x1"), plain);
    std::string address = address_after(plain, "Driver object (");
    EXPECT_EQ(ok("!drvobj " + address), plain);
    // Flag 4 adds each device's !devobj text.
    std::string with_devices = ok("!drvobj hello 4");
    EXPECT_NE(with_devices.find("Device object (0x"), std::string::npos);
    EXPECT_NE(with_devices.find("  Flags: 0x00000044 (DO_BUFFERED_IO | DO_DEVICE_HAS_NAME)"), std::string::npos);
}

TEST_F(Objects, DrvobjNamesStaticRoutinesOfACDriver)
{
    std::string message;
    ASSERT_EQ(machine.load_driver("buggy", "buggy.sys", &message), STATUS_SUCCESS) << message;
    std::string out = ok("!drvobj buggy 2");
    EXPECT_NE(line_with(out, "[0e] IRP_MJ_DEVICE_CONTROL ").find("buggy!BuggyControl"), std::string::npos) << out;
    EXPECT_NE(line_with(out, "DriverUnload:").find("buggy!BuggyUnload"), std::string::npos) << out;
    EXPECT_NE(line_with(out, "[03] IRP_MJ_READ ").find("nt!IopInvalidDeviceRequest"), std::string::npos) << out;
}

TEST_F(Objects, DevobjDecodesFlagsCharacteristicsAndTheExtension)
{
    std::string out = ok("!devobj \\Device\\IosimHello");
    auto lines = lines_of(out);
    ASSERT_GE(lines.size(), 14u) << out;
    EXPECT_EQ(lines[0].rfind("Device object (0x", 0), 0u);
    EXPECT_NE(lines[0].find(") is for: \\Device\\IosimHello"), std::string::npos);
    EXPECT_EQ(lines[1].rfind("  Driver: \\Driver\\hello (0x", 0), 0u) << lines[1];
    EXPECT_EQ(lines[2], "  DeviceType: 0x00000022 (FILE_DEVICE_UNKNOWN)");
    EXPECT_EQ(lines[3], "  Flags: 0x00000044 (DO_BUFFERED_IO | DO_DEVICE_HAS_NAME)");
    EXPECT_EQ(lines[4], "  Characteristics: 0x00000100 (FILE_DEVICE_SECURE_OPEN)");
    EXPECT_EQ(lines[5], "  StackSize: 1");
    EXPECT_EQ(lines[6], "  AttachedDevice (upper): none");
    EXPECT_EQ(lines[7], "  AttachedTo (lower): none");
    EXPECT_EQ(lines[8], "  ReferenceCount: 0 (file objects open on it)");
    EXPECT_EQ(lines[9], "  CurrentIrp: none");
    // HELLO_EXTENSION: a UNICODE_STRING and a ULONG.
    EXPECT_TRUE(lines[10].starts_with("  DeviceExtension: 0x") && lines[10].ends_with(" (24 bytes)")) << lines[10];
    EXPECT_TRUE(lines[11].ends_with("  ExtensionFlags: 0x00000000 (none)")) << lines[11];
    EXPECT_TRUE(lines[12].starts_with("  Created by: hello.cpp:") && lines[12].ends_with(" in DriverEntry (hello.sys)"))
        << lines[12];
    // The same device through its link, a bare name or its address.
    EXPECT_EQ(ok("!devobj \\GLOBAL??\\IosimHello"), out);
    EXPECT_EQ(ok("!devobj IosimHello"), out);
    EXPECT_EQ(ok("!devobj " + address_after(out, "Device object (")), out);
}

TEST_F(Objects, DevobjShowsOpenFilesAndAPendingUnload)
{
    Process* app = machine.create_process("open.exe");
    {
        ThreadSwitch in(machine.system().main_thread(app));
        HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimHello"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                               nullptr);
        ASSERT_NE(h, INVALID_HANDLE_VALUE);
        EXPECT_TRUE(has_line(ok("!devobj IosimHello"), "  ReferenceCount: 1 (file objects open on it)"));
        std::string message;
        ASSERT_EQ(machine.unload_driver("hello", &message), STATUS_SUCCESS) << message;
        std::string out = ok("!devobj IosimHello");
        EXPECT_TRUE(line_with(out, "ExtensionFlags:").ends_with("ExtensionFlags: 0x00000001 (DOE_UNLOAD_PENDING)")) << out;
        EXPECT_TRUE(has_line(ok("!drvobj hello"),
                             "  Unload pending: DriverUnload runs when the last file object on its devices closes"));
        CloseHandle(h);
    }
    EXPECT_EQ(fails("!drvobj hello"),
              "!drvobj: no driver named \"hello\" is loaded (expected a service name, \\Driver\\name or address)");
    machine.end_process(app);
}

TEST_F(Objects, DevstackListsTheStackTopFirstAndMarksTheDevice)
{
    DRIVER_OBJECT* driver = io::find_driver(u"hello");
    ASSERT_NE(driver, nullptr);
    DEVICE_OBJECT* lower = driver->DeviceObject;
    // An unnamed device of the same driver, put on top by hand (as IoAttachDeviceToDeviceStack does).
    DEVICE_OBJECT* upper = nullptr;
    ASSERT_EQ(IoCreateDevice(driver, 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &upper), STATUS_SUCCESS);
    lower->AttachedDevice = upper;
    io::device_private(upper)->AttachedTo = lower;
    upper->StackSize = 2;

    std::string out = ok("!devstack \\Device\\IosimHello");
    auto lines = lines_of(out);
    ASSERT_EQ(lines.size(), 4u) << out;
    EXPECT_EQ(lines[0], "  !DevObj             !DrvObj        !DevExt             ObjectName");
    EXPECT_EQ(lines[1], fmt::format("  0x{:016x}  \\Driver\\hello  0x0000000000000000  (unnamed)",
                                    reinterpret_cast<uintptr_t>(upper)));
    EXPECT_EQ(lines[2], fmt::format("> 0x{:016x}  \\Driver\\hello  0x{:016x}  \\Device\\IosimHello",
                                    reinterpret_cast<uintptr_t>(lower), reinterpret_cast<uintptr_t>(lower->DeviceExtension)));
    EXPECT_EQ(lines[3], "2 device(s) in the stack; requests to it start at the top. No device node: the PnP manager "
                        "did not build this stack (a legacy device, created in DriverEntry).");
    // Asked about the upper device, the marker moves.
    std::string top = ok(fmt::format("!devstack 0x{:x}", reinterpret_cast<uintptr_t>(upper)));
    EXPECT_EQ(lines_of(top)[1][0], '>');
    EXPECT_EQ(lines_of(top)[2][0], ' ');
    EXPECT_NE(line_with(ok("!devobj IosimHello"), "AttachedDevice (upper): ").find("(unnamed) [\\Driver\\hello]"),
              std::string::npos);

    lower->AttachedDevice = nullptr;
    io::device_private(upper)->AttachedTo = nullptr;
    IoDeleteDevice(upper);
    EXPECT_EQ(lines_of(ok("!devstack IosimHello")).size(), 3u);
}

TEST_F(Objects, ObjectListsADirectoryAndTheWholeNamespaceAsATree)
{
    std::string links = ok("!object \\GLOBAL??");
    auto lines = lines_of(links);
    ASSERT_EQ(lines.size(), 2u) << links;
    EXPECT_TRUE(lines[0].starts_with("Directory \\GLOBAL?? (0x") && lines[0].ends_with("): 1 entry, subdirectories expanded"))
        << lines[0];
    EXPECT_EQ(lines[1], "  IosimHello  SymbolicLink -> \\Device\\IosimHello");
    EXPECT_EQ(ok("!object \\??"), links);

    std::string tree = ok("!object \\");
    EXPECT_EQ(ok("!object"), tree);
    for (const char* line : {"  BaseNamedObjects  Directory", "  Device            Directory", "    IosimHello      Device",
                             "  Driver            Directory", "    hello           Driver",
                             "    IosimHello      SymbolicLink -> \\Device\\IosimHello"})
        EXPECT_TRUE(has_line(tree, line)) << line << "\n" << tree;
    // Device's entries come right after it, indented.
    auto all = lines_of(tree);
    auto device = std::find(all.begin(), all.end(), "  Device            Directory");
    ASSERT_NE(device, all.end());
    EXPECT_EQ(*(device + 1), "    IosimHello      Device");
}

TEST_F(Objects, ObjectDescribesOneObjectWithItsCounts)
{
    std::string link = ok("!object \\GLOBAL??\\IosimHello");
    auto lines = lines_of(link);
    ASSERT_EQ(lines.size(), 4u) << link;
    EXPECT_TRUE(lines[0].starts_with("Object: 0x") && lines[0].ends_with("  Type: SymbolicLink")) << lines[0];
    EXPECT_EQ(lines[1], "  Name: \\GLOBAL??\\IosimHello");
    EXPECT_EQ(lines[2], "  PointerCount: 1  HandleCount: 0  (permanent: the namespace holds a reference)");
    EXPECT_EQ(lines[3], "  Target: \\Device\\IosimHello");

    std::string device = ok("!object \\Device\\IosimHello");
    EXPECT_TRUE(lines_of(device)[0].ends_with("  Type: Device")) << device;
    EXPECT_TRUE(has_line(device, "  Driver: \\Driver\\hello  (see !devobj, !devstack)"));
    EXPECT_EQ(ok("!object " + address_after(device, "Object: ")), device);
}

TEST_F(Objects, BadDeviceAndObjectArgumentsAreRefusedWithWhatWasExpected)
{
    EXPECT_EQ(fails("!devobj"), "!devobj: expected a device (\\Device\\name, name or address 0x...)");
    EXPECT_EQ(fails("!devobj \\Device\\Nope"),
              "!devobj: no device named \\Device\\Nope (STATUS_OBJECT_NAME_NOT_FOUND (0xC0000034))");
    EXPECT_EQ(fails("!devobj \\Driver\\hello"), "!devobj: \\Driver\\hello names a Driver, not a device");
    EXPECT_EQ(fails("!devobj 0x1234"), "!devobj: 0x0000000000001234 is not a device object");
    EXPECT_EQ(fails("!devstack"), "!devstack: expected a device (\\Device\\name, name or address 0x...)");
    EXPECT_EQ(fails("!drvobj"), "!drvobj: expected a driver (name, \\Driver\\name or address 0x...) and optional flags 0-7");
    EXPECT_EQ(fails("!drvobj hello 9"), "!drvobj: expected a driver (name, \\Driver\\name or address 0x...) and optional flags 0-7");
    EXPECT_EQ(fails("!drvobj nope"),
              "!drvobj: no driver named \"nope\" is loaded (expected a service name, \\Driver\\name or address)");
    // A device's address is a live object, but not a driver: refused without being read as one.
    std::string device = address_after(ok("!devobj IosimHello"), "Device object (");
    EXPECT_EQ(fails("!drvobj " + device), "!drvobj: " + device + " is not a driver object");
    EXPECT_EQ(fails("!object \\Nope"), "!object: no object named \\Nope (STATUS_OBJECT_NAME_NOT_FOUND (0xC0000034))");
    EXPECT_EQ(fails("!object Device"),
              "!object: expected an object path (\\, \\Device, ...) or address (0x...), or nothing");
    EXPECT_EQ(fails("!object 0x10"), "!object: 0x0000000000000010 is not a live object");
}
