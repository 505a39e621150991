// device_test.cpp - IoCreateDevice and IoDeleteDevice (sim_io_manager/device.cpp), the
// I/O manager's part around DriverEntry (driver.cpp), and IoCreateSymbolicLink /
// IoDeleteSymbolicLink (symlink.cpp).
#include <gmock/gmock.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "io/io_test_support.h"
#include "ldr/module.h"
#include "ob/namespace.h"
#include "system.h"

using namespace iosim;
using io_test::IoTest;
using io_test::us;
using ::testing::Contains;
using ::testing::HasSubstr;

namespace {

class DeviceTest : public IoTest {
protected:
    ob::ObjectNamespace::Lookup find(std::u16string_view path, bool open_link = false)
    {
        auto result = machine.system().ns().lookup(path, open_link);
        if (result.object != nullptr)
            ob::dereference(result.object);
        return result;
    }
    std::vector<PDEVICE_OBJECT> driver_devices()
    {
        std::vector<PDEVICE_OBJECT> out;
        for (PDEVICE_OBJECT d = driver->DeviceObject; d != nullptr; d = d->NextDevice)
            out.push_back(d);
        return out;
    }
    NTSTATUS create_link(const char16_t* link, const char16_t* target)
    {
        UNICODE_STRING l = us(link);
        UNICODE_STRING t = us(target);
        return IoCreateSymbolicLink(&l, &t);
    }
    NTSTATUS delete_link(const char16_t* link)
    {
        UNICODE_STRING l = us(link);
        return IoDeleteSymbolicLink(&l);
    }
};

// ---- IoCreateDevice ----

TEST_F(DeviceTest, CreateDeviceFillsTheDeviceObject)
{
    UNICODE_STRING name = us(u"\\Device\\IoUnitFields");
    PDEVICE_OBJECT device = nullptr;
    ASSERT_EQ(IoCreateDevice(driver, 64, &name, FILE_DEVICE_DISK, FILE_DEVICE_SECURE_OPEN, FALSE, &device),
              STATUS_SUCCESS);
    ASSERT_NE(device, nullptr);
    EXPECT_EQ(device->Type, IO_TYPE_DEVICE);
    EXPECT_EQ(device->Size, sizeof(DEVICE_OBJECT) + 64);
    EXPECT_EQ(device->DriverObject, driver);
    EXPECT_EQ(device->DeviceType, static_cast<DEVICE_TYPE>(FILE_DEVICE_DISK));
    EXPECT_EQ(device->Characteristics, static_cast<ULONG>(FILE_DEVICE_SECURE_OPEN));
    EXPECT_EQ(device->StackSize, 1);
    EXPECT_EQ(device->AttachedDevice, nullptr);
    EXPECT_EQ(device->ReferenceCount, 0);
    EXPECT_NE(device->Flags & DO_DEVICE_HAS_NAME, 0u);
    EXPECT_EQ(device->Flags & DO_EXCLUSIVE, 0u);
    ASSERT_NE(device->DeviceObjectExtension, nullptr);
    EXPECT_EQ(device->DeviceObjectExtension->DeviceObject, device);
    ASSERT_NE(device->DeviceExtension, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(device->DeviceExtension) % 8, 0u);
    EXPECT_EQ(driver->DeviceObject, device) << "the newest device heads the driver's list";
    auto found = find(u"\\Device\\IoUnitFields");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, device);
}

TEST_F(DeviceTest, DevicesAreLinkedNewestFirst)
{
    auto before = driver_devices();
    PDEVICE_OBJECT a = make_device();
    PDEVICE_OBJECT b = make_device(u"\\Device\\IoUnitB");
    auto after = driver_devices();
    ASSERT_EQ(after.size(), before.size() + 2);
    EXPECT_EQ(after[0], b);
    EXPECT_EQ(after[1], a);
    EXPECT_EQ(after[2], before[0]);
}

TEST_F(DeviceTest, DeviceExtensionIsZeroed)
{
    // Churn the heap with dirty extensions of the same size first.
    for (int i = 0; i < 16; ++i) {
        PDEVICE_OBJECT dirty = make_device(nullptr, true, 256);
        std::memset(dirty->DeviceExtension, 0xA5, 256);
        IoDeleteDevice(dirty);
    }
    for (int i = 0; i < 16; ++i) {
        PDEVICE_OBJECT device = make_device(nullptr, true, 256);
        ASSERT_NE(device->DeviceExtension, nullptr);
        const auto* bytes = static_cast<const unsigned char*>(device->DeviceExtension);
        EXPECT_TRUE(std::all_of(bytes, bytes + 256, [](unsigned char c) { return c == 0; }))
            << "device extension " << i << " is not zeroed";
    }
}

TEST_F(DeviceTest, NoExtensionMeansNullDeviceExtension)
{
    PDEVICE_OBJECT device = make_device();
    EXPECT_EQ(device->DeviceExtension, nullptr);
    EXPECT_EQ(device->Size, sizeof(DEVICE_OBJECT));
}

TEST_F(DeviceTest, DeviceInitializingIsClearedByTheIoManagerAfterDriverEntry)
{
    ldr::Module* module = io::driver_body(driver)->priv.module;
    ASSERT_NE(module, nullptr);
    auto* flags_in_entry = static_cast<ULONG*>(ldr::symbol(module, "IoUnitFlagsInDriverEntry"));
    auto* entry_device = static_cast<PDEVICE_OBJECT*>(ldr::symbol(module, "IoUnitEntryDevice"));
    ASSERT_NE(flags_in_entry, nullptr);
    ASSERT_NE(entry_device, nullptr);
    ASSERT_NE(*entry_device, nullptr);
    EXPECT_NE(*flags_in_entry & DO_DEVICE_INITIALIZING, 0u) << "IoCreateDevice sets DO_DEVICE_INITIALIZING";
    EXPECT_EQ((*entry_device)->Flags & DO_DEVICE_INITIALIZING, 0u)
        << "the I/O manager clears it on DriverEntry's devices when DriverEntry returns";

    // A device created later (as in AddDevice) keeps it until its driver clears it.
    PDEVICE_OBJECT later = make_device(nullptr, /*ready=*/false);
    EXPECT_NE(later->Flags & DO_DEVICE_INITIALIZING, 0u);
}

TEST_F(DeviceTest, NameCollisionFailsAndLeavesTheFirstDevice)
{
    PDEVICE_OBJECT first = make_device(u"\\Device\\IoUnitTwice");
    auto before = driver_devices();
    for (const char16_t* spelling : {u"\\Device\\IoUnitTwice", u"\\DEVICE\\iounittwice"}) {
        UNICODE_STRING name = us(spelling);
        PDEVICE_OBJECT second = reinterpret_cast<PDEVICE_OBJECT>(0x1);
        EXPECT_EQ(IoCreateDevice(driver, 16, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &second),
                  STATUS_OBJECT_NAME_COLLISION);
        EXPECT_EQ(second, nullptr);
    }
    EXPECT_EQ(driver_devices(), before) << "a failed IoCreateDevice must not join the driver's list";
    EXPECT_EQ(find(u"\\Device\\IoUnitTwice").object, first);
}

TEST_F(DeviceTest, NameCollisionTraceNamesTheDevice)
{
    machine.system().trace().set_enabled(true);
    make_device(u"\\Device\\IoUnitTraced");
    UNICODE_STRING name = us(u"\\Device\\IoUnitTraced");
    PDEVICE_OBJECT second = nullptr;
    EXPECT_EQ(IoCreateDevice(driver, 16, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &second),
              STATUS_OBJECT_NAME_COLLISION);
    std::vector<std::string> texts;
    for (const auto& e : machine.system().trace().events())
        texts.push_back(e.text);
    EXPECT_THAT(texts, Contains(HasSubstr("IoCreateDevice(\\Device\\IoUnitTraced) failed")));
}

TEST_F(DeviceTest, CreateDeviceInAMissingDirectoryFails)
{
    UNICODE_STRING name = us(u"\\NoSuchDirectory\\IoUnitLost");
    PDEVICE_OBJECT device = nullptr;
    EXPECT_EQ(IoCreateDevice(driver, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device), STATUS_OBJECT_PATH_NOT_FOUND);
    EXPECT_EQ(device, nullptr);
}

TEST_F(DeviceTest, ExclusiveSetsDoExclusive)
{
    PDEVICE_OBJECT shared = make_device(u"\\Device\\IoUnitShared", true, 0, FALSE);
    PDEVICE_OBJECT exclusive = make_device(u"\\Device\\IoUnitExclusive", true, 0, TRUE);
    EXPECT_EQ(shared->Flags & DO_EXCLUSIVE, 0u);
    EXPECT_NE(exclusive->Flags & DO_EXCLUSIVE, 0u);
}

// ---- IoDeleteDevice ----

TEST_F(DeviceTest, DeleteDeviceRemovesItsNameAndUnlinksIt)
{
    PDEVICE_OBJECT device = make_device(u"\\Device\\IoUnitDoomed");
    ASSERT_EQ(find(u"\\Device\\IoUnitDoomed").object, device);
    IoDeleteDevice(device);
    EXPECT_EQ(find(u"\\Device\\IoUnitDoomed").status, STATUS_OBJECT_NAME_NOT_FOUND);
    auto list = driver_devices();
    EXPECT_EQ(std::find(list.begin(), list.end(), device), list.end());
    // The name is free again.
    make_device(u"\\Device\\IoUnitDoomed");
}

TEST_F(DeviceTest, DeleteDeviceLeavesSymbolicLinksInPlace)
{
    PDEVICE_OBJECT device = make_device(u"\\Device\\IoUnitLinked");
    ASSERT_EQ(create_link(u"\\??\\IoUnitLinked", u"\\Device\\IoUnitLinked"), STATUS_SUCCESS);
    ASSERT_EQ(find(u"\\??\\IoUnitLinked").object, device);

    IoDeleteDevice(device);
    auto link = find(u"\\??\\IoUnitLinked", /*open_link=*/true);
    ASSERT_EQ(link.status, STATUS_SUCCESS) << "IoDeleteDevice must not delete the device's links";
    EXPECT_TRUE(ob::is_object_of_type(link.object, ob::symbolic_link_type()));
    EXPECT_EQ(find(u"\\??\\IoUnitLinked").status, STATUS_OBJECT_NAME_NOT_FOUND) << "the link points at nothing";

    EXPECT_EQ(delete_link(u"\\??\\IoUnitLinked"), STATUS_SUCCESS);
    EXPECT_EQ(find(u"\\??\\IoUnitLinked", true).status, STATUS_OBJECT_NAME_NOT_FOUND);
}

// ---- devices a driver forgets ----

DRIVER_UNLOAD ForgetfulUnload;
VOID ForgetfulUnload(PDRIVER_OBJECT) {}  // deletes nothing

bool is_live(const void* body)
{
    for (const auto& object : ob::live_objects())
        if (object.body == body)
            return true;
    return false;
}

TEST_F(DeviceTest, UnnamedDeviceLeftBehindAtUnloadIsReportedAndDeletedOnce)
{
    IoDeleteDevice(driver->DeviceObject);  // DriverEntry's named device: see the next test
    ASSERT_EQ(driver->DeviceObject, nullptr);
    PDEVICE_OBJECT device = make_device();
    ObReferenceObject(device);  // keeps the object to look at after the unload
    driver->DriverUnload = ForgetfulUnload;
    ASSERT_EQ(machine.unload_driver("io_unit"), STATUS_SUCCESS);
    std::vector<std::string> codes;
    for (const auto& f : machine.system().findings())
        codes.push_back(f.code);
    EXPECT_THAT(codes, Contains("DEVICE_LEFT_BEHIND"));
    ASSERT_TRUE(is_live(device)) << "the I/O manager dropped more references than it held";
    EXPECT_EQ(ob::pointer_count(device), 1) << "only the test's reference is left";
    EXPECT_NE(io::device_private(device)->ExtensionFlags & io::DOE_DELETE_PENDING, 0u);
    // The device still references its driver object, which goes with it.
    ObDereferenceObject(device);
    driver = nullptr;
}

TEST_F(DeviceTest, DriverObjectOutlivesItsDevices)
{
    PDEVICE_OBJECT device = make_device();
    ObReferenceObject(device);  // someone still holds the device when the driver unloads
    PDRIVER_OBJECT driver_object = driver;
    ASSERT_EQ(machine.unload_driver("io_unit"), STATUS_SUCCESS);  // IoUnitUnload deletes every device
    driver = nullptr;
    bool driver_alive = is_live(driver_object);
    EXPECT_TRUE(driver_alive) << "the driver object was freed while its device object lives";
    if (driver_alive)
        EXPECT_EQ(device->DriverObject, driver_object);
    ASSERT_TRUE(driver_alive);
    ObDereferenceObject(device);
    EXPECT_FALSE(is_live(driver_object)) << "the driver object goes with its last device";
}

TEST_F(DeviceTest, NamedDeviceLeftBehindAtUnloadIsDereferencedOnce)
{
    IoDeleteDevice(driver->DeviceObject);  // keep to one left-behind named device
    PDEVICE_OBJECT device = make_device(u"\\Device\\IoUnitLeftBehind");
    ObReferenceObject(device);  // a driver holding a pointer: the device must outlive the unload
    driver->DriverUnload = ForgetfulUnload;
    ASSERT_EQ(machine.unload_driver("io_unit"), STATUS_SUCCESS);
    bool alive = is_live(device);
    EXPECT_TRUE(alive) << "the named device was freed while a reference to it remained";
    EXPECT_EQ(find(u"\\Device\\IoUnitLeftBehind").status, STATUS_OBJECT_NAME_NOT_FOUND);
    if (alive) {
        EXPECT_EQ(ob::pointer_count(device), 1);
        ObDereferenceObject(device);
    }
    driver = nullptr;
}

// ---- symbolic links ----

TEST_F(DeviceTest, CreateSymbolicLinkStatuses)
{
    make_device(u"\\Device\\IoUnitTarget");
    EXPECT_EQ(create_link(u"\\??\\IoUnitLink", u"\\Device\\IoUnitTarget"), STATUS_SUCCESS);
    EXPECT_EQ(create_link(u"\\??\\IoUnitLink", u"\\Device\\IoUnitTarget"), STATUS_OBJECT_NAME_COLLISION);
    EXPECT_EQ(create_link(u"\\GLOBAL??\\iounitlink", u"\\Device\\Other"), STATUS_OBJECT_NAME_COLLISION);
    EXPECT_EQ(create_link(u"\\NoSuchDirectory\\IoUnitLink", u"\\Device\\IoUnitTarget"), STATUS_OBJECT_PATH_NOT_FOUND);
    auto link = find(u"\\GLOBAL??\\IoUnitLink", true);
    ASSERT_EQ(link.status, STATUS_SUCCESS);
    EXPECT_EQ(static_cast<ob::SymbolicLink*>(link.object)->target, u"\\Device\\IoUnitTarget");
    std::vector<std::string> codes;
    for (const auto& f : machine.system().findings())
        codes.push_back(f.code);
    EXPECT_THAT(codes, Contains("SYMLINK_CREATE_FAILED"));
}

TEST_F(DeviceTest, DeleteSymbolicLinkStatuses)
{
    make_device(u"\\Device\\IoUnitTarget");
    ASSERT_EQ(create_link(u"\\??\\IoUnitGoing", u"\\Device\\IoUnitTarget"), STATUS_SUCCESS);
    EXPECT_EQ(delete_link(u"\\??\\IoUnitGoing"), STATUS_SUCCESS);
    EXPECT_EQ(delete_link(u"\\??\\IoUnitGoing"), STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(delete_link(u"\\NoSuchDirectory\\IoUnitGoing"), STATUS_OBJECT_PATH_NOT_FOUND);
    EXPECT_EQ(find(u"\\Device\\IoUnitTarget").status, STATUS_SUCCESS) << "deleting a link leaves its target alone";
}

TEST_F(DeviceTest, DeleteSymbolicLinkDeletesTheLinkNotItsTarget)
{
    // A link to another link: deleting the first must not follow it.
    make_device(u"\\Device\\IoUnitTarget");
    ASSERT_EQ(create_link(u"\\??\\IoUnitInner", u"\\Device\\IoUnitTarget"), STATUS_SUCCESS);
    ASSERT_EQ(create_link(u"\\??\\IoUnitOuter", u"\\??\\IoUnitInner"), STATUS_SUCCESS);
    EXPECT_EQ(delete_link(u"\\??\\IoUnitOuter"), STATUS_SUCCESS);
    EXPECT_EQ(find(u"\\??\\IoUnitOuter", true).status, STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(find(u"\\??\\IoUnitInner", true).status, STATUS_SUCCESS);
}

TEST_F(DeviceTest, DeleteSymbolicLinkOnADeviceNameIsTypeMismatch)
{
    make_device(u"\\Device\\IoUnitNotALink");
    EXPECT_EQ(delete_link(u"\\Device\\IoUnitNotALink"), STATUS_OBJECT_TYPE_MISMATCH);
    EXPECT_EQ(find(u"\\Device\\IoUnitNotALink").status, STATUS_SUCCESS);
}

TEST_F(DeviceTest, DeleteSymbolicLinkOnADeviceNameLeavesTheDevice)
{
    PDEVICE_OBJECT device = make_device(u"\\Device\\IoUnitNotALink");
    EXPECT_FALSE(NT_SUCCESS(delete_link(u"\\Device\\IoUnitNotALink")));
    EXPECT_EQ(find(u"\\Device\\IoUnitNotALink").object, device);
}

TEST_F(DeviceTest, LinksAreResolvedWhenUsedNotWhenCreated)
{
    ASSERT_EQ(create_link(u"\\??\\IoUnitEarly", u"\\Device\\IoUnitLate"), STATUS_SUCCESS);
    EXPECT_EQ(find(u"\\??\\IoUnitEarly").status, STATUS_OBJECT_NAME_NOT_FOUND);
    PDEVICE_OBJECT device = make_device(u"\\Device\\IoUnitLate");
    EXPECT_EQ(find(u"\\??\\IoUnitEarly").object, device);
    EXPECT_EQ(delete_link(u"\\??\\IoUnitEarly"), STATUS_SUCCESS);
}

}  // namespace
