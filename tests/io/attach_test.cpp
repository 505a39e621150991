// attach_test.cpp - device stacks: attach, detach, StackSize, where requests go.
#include <gtest/gtest.h>

#include "device.h"
#include "driver.h"
#include "machine.h"
#include "windows.h"

using namespace iosim;

namespace {

struct Stack : ::testing::Test {
    Machine machine{Machine::Options{.trace = true}};
    std::vector<std::string> debug;

    void SetUp() override
    {
        ASSERT_EQ(machine.load_driver("hello", "hello.sys"), STATUS_SUCCESS);
    }
    DEVICE_OBJECT* hello() { return io::find_driver(u"hello")->DeviceObject; }
};

}  // namespace

TEST_F(Stack, AttachPutsTheFilterOnTopAndGrowsStackSize)
{
    ASSERT_EQ(machine.load_driver("logfilter", "logfilter.sys"), STATUS_SUCCESS);
    DEVICE_OBJECT* lower = hello();
    DEVICE_OBJECT* filter = io::find_driver(u"logfilter")->DeviceObject;
    EXPECT_EQ(lower->AttachedDevice, filter);
    EXPECT_EQ(filter->StackSize, lower->StackSize + 1);
    EXPECT_EQ(IoGetAttachedDevice(lower), filter);
    PDEVICE_OBJECT below = IoGetLowerDeviceObject(filter);
    EXPECT_EQ(below, lower);
    ObDereferenceObject(below);
    EXPECT_EQ(machine.unload_driver("logfilter"), STATUS_SUCCESS);
    EXPECT_EQ(lower->AttachedDevice, nullptr) << "DriverUnload detached";
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(Stack, RequestToTheNameReachesTheTopFirstAndCompletionRunsBottomUp)
{
    ASSERT_EQ(machine.load_driver("logfilter", "logfilter.sys"), STATUS_SUCCESS);
    auto result = machine.run_app("hello_open.exe");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    std::vector<std::string> lines;
    for (const auto& e : machine.system().trace().events())
        if (e.irp != 0 && e.info.major == IRP_MJ_CREATE && e.info.phase != trace::IrpPhase::None)
            lines.push_back(e.text);
    ASSERT_GE(lines.size(), 5u);
    EXPECT_NE(lines[0].find("allocated for IRP_MJ_CREATE (2 stack locations)"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find("[\\Driver\\logfilter] stack location 2 of 2"), std::string::npos) << lines[1];
    EXPECT_NE(lines[2].find("-> \\Device\\IosimHello [\\Driver\\hello] stack location 1 of 2"), std::string::npos)
        << lines[2];
    EXPECT_NE(lines[3].find("completed"), std::string::npos) << lines[3];
    EXPECT_NE(lines[3].find("hello.cpp"), std::string::npos) << "completed by the lower driver";
    machine.unload_driver("logfilter");
}

TEST_F(Stack, AttachingToADeviceBeingInitializedFails)
{
    DEVICE_OBJECT* lower = hello();
    PDEVICE_OBJECT filter = nullptr;
    ASSERT_EQ(IoCreateDevice(lower->DriverObject, 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &filter), STATUS_SUCCESS);
    lower->Flags |= DO_DEVICE_INITIALIZING;
    PDEVICE_OBJECT attached = nullptr;
    EXPECT_EQ(IoAttachDeviceToDeviceStackSafe(filter, lower, &attached), STATUS_NO_SUCH_DEVICE);
    EXPECT_EQ(attached, nullptr);
    EXPECT_EQ(IoAttachDeviceToDeviceStack(filter, lower), nullptr);
    lower->Flags &= ~DO_DEVICE_INITIALIZING;
    EXPECT_EQ(IoAttachDeviceToDeviceStack(filter, lower), lower);
    IoDetachDevice(lower);
    IoDeleteDevice(filter);
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(Stack, DeletingAnAttachedDeviceIsReportedAndDetaches)
{
    DEVICE_OBJECT* lower = hello();
    PDEVICE_OBJECT filter = nullptr;
    ASSERT_EQ(IoCreateDevice(lower->DriverObject, 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &filter), STATUS_SUCCESS);
    filter->Flags &= ~DO_DEVICE_INITIALIZING;
    ASSERT_EQ(IoAttachDeviceToDeviceStack(filter, lower), lower);
    IoDeleteDevice(filter);  // forgot IoDetachDevice
    ASSERT_EQ(machine.system().findings().size(), 1u);
    EXPECT_EQ(machine.system().findings()[0].code, "DEVICE_DELETED_WHILE_ATTACHED");
    EXPECT_EQ(lower->AttachedDevice, nullptr);
}
