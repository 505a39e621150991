// io_test_support.h - what the I/O manager tests share: a Machine with the io_unit test
// driver loaded (its DRIVER_OBJECT is where tests install their dispatch routines and
// create devices), and small helpers.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "device.h"
#include "driver.h"
#include "irp.h"
#include "ke/bugcheck.h"
#include "support/kernel_support.h"
#include "machine.h"
#include "wdm_impl.h"

namespace io_test {

using iosim_test::catch_bugcheck;
using iosim_test::us;

class IoTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string message;
        ASSERT_EQ(machine.load_driver("io_unit", "io_unit_driver.sys", &message), STATUS_SUCCESS) << message;
        driver = iosim::io::find_driver(u"io_unit");
        ASSERT_NE(driver, nullptr);
    }

    void TearDown() override
    {
        // After a bug check the machine's shutdown releases the drivers' devices with
        // force_delete_device, which dereferences a named device twice (a bug: see
        // DeviceTest.NamedDeviceLeftBehindAtUnloadIsDereferencedOnce). Delete them the way
        // IoDeleteDevice does first, so that the bug-check tests stay clean under valgrind/ASan.
        if (driver != nullptr && machine.system().dead())
            while (driver->DeviceObject != nullptr)
                IoDeleteDevice(driver->DeviceObject);
    }

    // A device of the test driver; the I/O manager's DO_DEVICE_INITIALIZING is left set
    // unless `ready` (as an AddDevice routine would clear it).
    PDEVICE_OBJECT make_device(const char16_t* name = nullptr, bool ready = true, ULONG extension_size = 0,
                               BOOLEAN exclusive = FALSE)
    {
        UNICODE_STRING u = name != nullptr ? us(name) : UNICODE_STRING{};
        PDEVICE_OBJECT device = nullptr;
        NTSTATUS status = IoCreateDevice(driver, extension_size, name != nullptr ? &u : nullptr, FILE_DEVICE_UNKNOWN, 0,
                                         exclusive, &device);
        EXPECT_EQ(status, STATUS_SUCCESS);
        if (device != nullptr && ready)
            device->Flags &= ~DO_DEVICE_INITIALIZING;
        return device;
    }

    // Puts `upper` on top of `lower` by hand, as IoAttachDeviceToDeviceStack would.
    static void attach(PDEVICE_OBJECT upper, PDEVICE_OBJECT lower)
    {
        lower->AttachedDevice = upper;
        upper->StackSize = static_cast<CCHAR>(lower->StackSize + 1);
        iosim::io::device_private(upper)->AttachedTo = lower;
    }

    iosim::Machine machine{iosim::Machine::Options{.debug_output = [](std::string_view, std::string_view) {}}};
    PDRIVER_OBJECT driver = nullptr;
};

}  // namespace io_test
