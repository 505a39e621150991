// layering_test.cpp - device stacks: the top of a stack and its reference, StackSize,
// attach refused on a device that is initializing or going away, requests to a name
// reaching the top, IoGetDeviceObjectPointer's kernel handle, detaching.
#include <gmock/gmock.h>

#include "ob/object.h"
#include "stack/stack_test_support.h"
#include "windows.h"

using namespace iosim;
using namespace stack_test;

namespace {

std::vector<PDEVICE_OBJECT> g_create_seen;  // the device each IRP_MJ_CREATE arrived at, in order

DRIVER_DISPATCH RecordingDispatch;
NTSTATUS RecordingDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (sp->MajorFunction == IRP_MJ_CREATE)
        g_create_seen.push_back(DeviceObject);
    // A layer with a device below passes the request on; the bottom completes it.
    if (DEVICE_OBJECT* lower = io::device_private(DeviceObject)->AttachedTo) {
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(lower, Irp);
    }
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

class Layering : public StackTest {
protected:
    void SetUp() override
    {
        load("stack_unit", "stack_unit.sys");
        unit = driver(u"stack_unit");
        for (UCHAR major : {IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_READ})
            unit->MajorFunction[major] = RecordingDispatch;
        g_create_seen.clear();
    }

    PDEVICE_OBJECT make(const char16_t* name = nullptr, bool ready = true)
    {
        UNICODE_STRING u = name != nullptr ? us(name) : UNICODE_STRING{};
        PDEVICE_OBJECT device = nullptr;
        EXPECT_EQ(IoCreateDevice(unit, 0, name != nullptr ? &u : nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &device),
                  STATUS_SUCCESS);
        if (ready)
            device->Flags &= ~DO_DEVICE_INITIALIZING;
        return device;
    }

    static long references(void* object) { return ob::header_of(object)->pointer_count.load(); }

    DRIVER_OBJECT* unit = nullptr;
};

}  // namespace

TEST_F(Layering, AttachedDeviceIsTheTopOfTheStackAndTheReferenceVariantCountsIt)
{
    PDEVICE_OBJECT bottom = make(), middle = make(), top = make();
    ASSERT_EQ(IoAttachDeviceToDeviceStack(middle, bottom), bottom);
    ASSERT_EQ(IoAttachDeviceToDeviceStack(top, bottom), middle) << "attaching goes on top of whatever is there";
    EXPECT_EQ(IoGetAttachedDevice(bottom), top);
    EXPECT_EQ(IoGetAttachedDevice(middle), top);
    EXPECT_EQ(IoGetAttachedDevice(top), top);
    long before = references(top);
    PDEVICE_OBJECT referenced = IoGetAttachedDeviceReference(bottom);
    EXPECT_EQ(referenced, top);
    EXPECT_EQ(references(top), before + 1) << "IoGetAttachedDeviceReference takes a reference the caller drops";
    ObDereferenceObject(referenced);
    EXPECT_EQ(references(top), before);
    PDEVICE_OBJECT below = IoGetLowerDeviceObject(top);
    EXPECT_EQ(below, middle);
    ObDereferenceObject(below);
    EXPECT_EQ(IoGetLowerDeviceObject(bottom), nullptr);
}

TEST_F(Layering, StackSizeIsOneMoreThanTheDeviceAttachedTo)
{
    PDEVICE_OBJECT bottom = make(), middle = make(), top = make();
    EXPECT_EQ(bottom->StackSize, 1);
    IoAttachDeviceToDeviceStack(middle, bottom);
    IoAttachDeviceToDeviceStack(top, bottom);
    EXPECT_EQ(middle->StackSize, 2);
    EXPECT_EQ(top->StackSize, 3);

    // A device that itself sends IRPs on to another stack raises its own StackSize; the
    // device attached above counts from that, not from the number of layers.
    PDEVICE_OBJECT forwarder = make(), filter = make();
    forwarder->StackSize = 5;
    IoAttachDeviceToDeviceStack(filter, forwarder);
    EXPECT_EQ(filter->StackSize, 6);
}

TEST_F(Layering, AttachingToAnInitializingStackFailsEvenWhenOnlyItsTopIsInitializing)
{
    PDEVICE_OBJECT named = make(u"\\Device\\StackInit", false);
    PDEVICE_OBJECT filter = make();
    UNICODE_STRING name = us(u"\\Device\\StackInit");
    PDEVICE_OBJECT lower = reinterpret_cast<PDEVICE_OBJECT>(1);
    EXPECT_EQ(IoAttachDevice(filter, &name, &lower), STATUS_NO_SUCH_DEVICE);
    EXPECT_EQ(lower, nullptr);
    named->Flags &= ~DO_DEVICE_INITIALIZING;

    // Now the target is ready, but a second layer on top of it is still initializing:
    // Windows checks the device it would attach to, which is the top.
    PDEVICE_OBJECT initializing = make(nullptr, false);
    ASSERT_EQ(IoAttachDeviceToDeviceStack(initializing, named), named) << "attaching *an* initializing device is fine";
    PDEVICE_OBJECT attached = reinterpret_cast<PDEVICE_OBJECT>(1);
    EXPECT_EQ(IoAttachDeviceToDeviceStackSafe(filter, named, &attached), STATUS_NO_SUCH_DEVICE);
    EXPECT_EQ(attached, nullptr);
    initializing->Flags &= ~DO_DEVICE_INITIALIZING;
    EXPECT_EQ(IoAttachDevice(filter, &name, &lower), STATUS_SUCCESS);
    EXPECT_EQ(lower, initializing);
}

TEST_F(Layering, AttachingToADeviceBeingDeletedFails)
{
    PDEVICE_OBJECT target = make(u"\\Device\\StackDoomed");
    PDEVICE_OBJECT filter = make();
    UNICODE_STRING link = us(u"\\??\\StackDoomed");
    UNICODE_STRING name = us(u"\\Device\\StackDoomed");
    ASSERT_EQ(IoCreateSymbolicLink(&link, &name), STATUS_SUCCESS);
    enter_app();
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\StackDoomed"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(target);  // the open file object keeps it alive, delete-pending
    PDEVICE_OBJECT attached = reinterpret_cast<PDEVICE_OBJECT>(1);
    EXPECT_EQ(IoAttachDeviceToDeviceStackSafe(filter, target, &attached), STATUS_NO_SUCH_DEVICE);
    EXPECT_EQ(attached, nullptr);
    EXPECT_EQ(IoAttachDeviceToDeviceStack(filter, target), nullptr);
    PDEVICE_OBJECT lower = nullptr;
    EXPECT_EQ(IoAttachDevice(filter, &name, &lower), STATUS_OBJECT_NAME_NOT_FOUND) << "its name left with IoDeleteDevice";
    EXPECT_TRUE(CloseHandle(h));
}

TEST_F(Layering, AttachingToADriverBeingUnloadedFails)
{
    load("hello", "hello.sys");
    PDEVICE_OBJECT hello = driver(u"hello")->DeviceObject;
    enter_app();
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimHello"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    ASSERT_EQ(machine.unload_driver("hello"), STATUS_SUCCESS);  // deferred: a handle is open
    PDEVICE_OBJECT filter = make();
    PDEVICE_OBJECT attached = reinterpret_cast<PDEVICE_OBJECT>(1);
    EXPECT_EQ(IoAttachDeviceToDeviceStackSafe(filter, hello, &attached), STATUS_NO_SUCH_DEVICE)
        << "an unload is pending (DOE_UNLOAD_PENDING)";
    EXPECT_TRUE(CloseHandle(h));
    EXPECT_EQ(driver(u"hello"), nullptr) << "the deferred unload finished with the last handle";
}

TEST_F(Layering, ARequestToANameGoesToTheTopOfTheStackFirst)
{
    PDEVICE_OBJECT named = make(u"\\Device\\StackNamed");
    PDEVICE_OBJECT upper = make();
    UNICODE_STRING link = us(u"\\??\\StackNamed");
    UNICODE_STRING name = us(u"\\Device\\StackNamed");
    ASSERT_EQ(IoCreateSymbolicLink(&link, &name), STATUS_SUCCESS);
    ASSERT_EQ(IoAttachDeviceToDeviceStack(upper, named), named);
    enter_app();
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\StackNamed"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    EXPECT_EQ(g_create_seen, (std::vector<PDEVICE_OBJECT>{upper, named}));
    CloseHandle(h);

    // The kernel-mode view of the same rule.
    PFILE_OBJECT file = nullptr;
    PDEVICE_OBJECT device = nullptr;
    ASSERT_EQ(IoGetDeviceObjectPointer(&name, FILE_READ_DATA, &file, &device), STATUS_SUCCESS);
    EXPECT_EQ(device, upper) << "IoGetDeviceObjectPointer returns the top of the stack";
    EXPECT_EQ(file->DeviceObject, named) << "the file object is opened on the named device itself";
    EXPECT_EQ(IoGetRelatedDeviceObject(file), upper);
    ObDereferenceObject(file);
    IoDeleteSymbolicLink(&link);
}

TEST_F(Layering, IoGetDeviceObjectPointerInAnAppsContextLeavesTheAppsHandlesAlone)
{
    make(u"\\Device\\StackPointer");
    UNICODE_STRING name = us(u"\\Device\\StackPointer");
    enter_app();
    size_t before = process->handles().count();
    PFILE_OBJECT file = nullptr;
    PDEVICE_OBJECT device = nullptr;
    ASSERT_EQ(IoGetDeviceObjectPointer(&name, FILE_READ_DATA, &file, &device), STATUS_SUCCESS);
    EXPECT_EQ(process->handles().count(), before) << "the temporary handle is a kernel handle, already closed";
    EXPECT_EQ(machine.system().system_process()->handles().count(), 0u);
    ObDereferenceObject(file);
}

TEST_F(Layering, DetachingRestoresTheStackBelow)
{
    PDEVICE_OBJECT bottom = make(u"\\Device\\StackDetach");
    PDEVICE_OBJECT upper = make();
    IoAttachDeviceToDeviceStack(upper, bottom);
    IoDetachDevice(bottom);
    EXPECT_EQ(bottom->AttachedDevice, nullptr);
    EXPECT_EQ(IoGetAttachedDevice(bottom), bottom);
    EXPECT_EQ(IoGetLowerDeviceObject(upper), nullptr);
    UNICODE_STRING name = us(u"\\Device\\StackDetach");
    PFILE_OBJECT file = nullptr;
    PDEVICE_OBJECT top = nullptr;
    ASSERT_EQ(IoGetDeviceObjectPointer(&name, FILE_READ_DATA, &file, &top), STATUS_SUCCESS);
    EXPECT_EQ(top, bottom);
    EXPECT_EQ(g_create_seen, (std::vector<PDEVICE_OBJECT>{bottom}));
    ObDereferenceObject(file);
    EXPECT_TRUE(machine.system().findings().empty());
}
