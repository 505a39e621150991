// wait_test.cpp - waiting for a driver-built IRP (the scheduler's waits, sim_kernel/ke/
// wait.cpp, are tested in tests/scheduler): the classic "wait only on STATUS_PENDING"
// pattern works, and waiting for an event the I/O manager will never set - after an error
// completed at once, or for a request pended below that nothing completes - is a deadlock
// the scheduler reports (bug check 0xC4, 0x1001) instead of hanging.
#include <gmock/gmock.h>

#include "stack/stack_test_support.h"

using namespace iosim;
using namespace stack_test;
using ::testing::HasSubstr;

namespace {

class Wait : public StackTest {};

constexpr ULONG kIoctl = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x940, METHOD_BUFFERED, FILE_ANY_ACCESS);

NTSTATUS g_target_status = STATUS_SUCCESS;
bool g_target_pends = false;

DRIVER_DISPATCH WaitTargetDispatch;
NTSTATUS WaitTargetDispatch(PDEVICE_OBJECT, PIRP Irp)
{
    if (g_target_pends) {
        IoMarkIrpPending(Irp);  // and nothing will ever complete it
        return STATUS_PENDING;
    }
    Irp->IoStatus.Status = g_target_status;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return g_target_status;
}

}  // namespace

TEST_F(Wait, WaitingAfterAnErrorCompletedAtOnceIsTheClassicHang)
{
    load("stack_unit", "stack_unit.sys");
    load("builder_client", "builder_client.sys");
    DRIVER_OBJECT* unit = driver(u"stack_unit");
    unit->MajorFunction[IRP_MJ_DEVICE_CONTROL] = WaitTargetDispatch;
    PDEVICE_OBJECT device = nullptr;
    ASSERT_EQ(IoCreateDevice(unit, 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &device), STATUS_SUCCESS);
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    auto sync_ioctl = symbol<NTSTATUS(PDEVICE_OBJECT, ULONG, PVOID, ULONG, PVOID, ULONG, BOOLEAN, PIO_STATUS_BLOCK)>(
        u"builder_client", "BuilderSyncIoctl");
    auto wait_always = symbol<NTSTATUS(PDEVICE_OBJECT, ULONG, PIO_STATUS_BLOCK)>(u"builder_client", "BuilderWaitAlways");
    ASSERT_NE(sync_ioctl, nullptr);
    ASSERT_NE(wait_always, nullptr);

    // The right pattern: wait only when IoCallDriver says STATUS_PENDING.
    g_target_status = STATUS_INVALID_PARAMETER;
    g_target_pends = false;
    IO_STATUS_BLOCK iosb{};
    EXPECT_EQ(sync_ioctl(device, kIoctl, nullptr, 0, nullptr, 0, FALSE, &iosb), STATUS_INVALID_PARAMETER);
    g_target_status = STATUS_SUCCESS;
    EXPECT_EQ(wait_always(device, kIoctl, &iosb), STATUS_SUCCESS) << "a success sets the event: no hang";

    // The wrong one: an error completed at once never sets the event.
    g_target_status = STATUS_INVALID_PARAMETER;
    auto stop = catch_bugcheck([&] { wait_always(device, kIoctl, &iosb); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_DETECTED_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x1001u);
    EXPECT_THAT(stop->reason, HasSubstr("waits on notification event"));
}

TEST_F(Wait, APendedRequestNothingCompletesIsReportedAtTheWait)
{
    load("stack_unit", "stack_unit.sys");
    load("builder_client", "builder_client.sys");
    DRIVER_OBJECT* unit = driver(u"stack_unit");
    unit->MajorFunction[IRP_MJ_DEVICE_CONTROL] = WaitTargetDispatch;
    PDEVICE_OBJECT device = nullptr;
    ASSERT_EQ(IoCreateDevice(unit, 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &device), STATUS_SUCCESS);
    device->Flags &= ~DO_DEVICE_INITIALIZING;
    auto sync_ioctl = symbol<NTSTATUS(PDEVICE_OBJECT, ULONG, PVOID, ULONG, PVOID, ULONG, BOOLEAN, PIO_STATUS_BLOCK)>(
        u"builder_client", "BuilderSyncIoctl");
    g_target_pends = true;
    IO_STATUS_BLOCK iosb{};
    auto stop = catch_bugcheck([&] { sync_ioctl(device, kIoctl, nullptr, 0, nullptr, 0, FALSE, &iosb); });
    g_target_pends = false;
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_DETECTED_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x1001u);
}
