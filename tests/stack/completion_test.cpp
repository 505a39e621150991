// completion_test.cpp - completion rules across a stack that tests/io does not cover: the
// "if (Irp->PendingReturned) IoMarkIrpPending(Irp)" rule broken by a completion routine is
// reported (Driver Verifier's I/O error 0x228), kept with the right routine it is not, and
// a request pended below reaches the requester's IO_STATUS_BLOCK through every layer.
#include <gmock/gmock.h>

#include "stack/stack_test_support.h"

using namespace iosim;
using namespace stack_test;
using ::testing::HasSubstr;

namespace {

PIRP g_pended = nullptr;
bool g_mark_pending = true;

DRIVER_DISPATCH PendingBottom;
NTSTATUS PendingBottom(PDEVICE_OBJECT, PIRP Irp)
{
    IoMarkIrpPending(Irp);
    g_pended = Irp;
    return STATUS_PENDING;
}

IO_COMPLETION_ROUTINE MiddleCompletion;
NTSTATUS MiddleCompletion(PDEVICE_OBJECT, PIRP Irp, PVOID)
{
    if (g_mark_pending && Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    return STATUS_CONTINUE_COMPLETION;
}

IO_COMPLETION_ROUTINE OriginatorKeeps;
NTSTATUS OriginatorKeeps(PDEVICE_OBJECT, PIRP Irp, PVOID Context)
{
    *static_cast<BOOLEAN*>(Context) = Irp->PendingReturned;
    return STATUS_MORE_PROCESSING_REQUIRED;
}

class Completion : public StackTest {
protected:
    void SetUp() override
    {
        load("stack_unit", "stack_unit.sys");
        unit = driver(u"stack_unit");
        g_pended = nullptr;
        g_mark_pending = true;
    }

    // Two drivers' worth of stack: `bottom` pends every IRP, `middle` passes it down
    // with MiddleCompletion. Both belong to the test driver, told apart by device.
    void build()
    {
        ASSERT_EQ(IoCreateDevice(unit, 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &bottom), STATUS_SUCCESS);
        ASSERT_EQ(IoCreateDevice(unit, 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &middle), STATUS_SUCCESS);
        bottom->Flags &= ~DO_DEVICE_INITIALIZING;
        middle->Flags &= ~DO_DEVICE_INITIALIZING;
        ASSERT_EQ(IoAttachDeviceToDeviceStack(middle, bottom), bottom);
        unit->MajorFunction[IRP_MJ_WRITE] = PendingBottom;  // the bottom layer's requests
    }

    // Sends a READ to `middle`; the middle layer re-targets it as a WRITE for the bottom,
    // so each layer's routine is found by major function.
    BOOLEAN send_and_complete_later()
    {
        PIRP irp = IoAllocateIrp(middle->StackSize, FALSE);
        IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
        BOOLEAN originator_saw_pending = FALSE;
        IoSetCompletionRoutine(irp, OriginatorKeeps, &originator_saw_pending, TRUE, TRUE, TRUE);
        unit->MajorFunction[IRP_MJ_READ] = [](PDEVICE_OBJECT DeviceObject, PIRP Irp) -> NTSTATUS {
            IoCopyCurrentIrpStackLocationToNext(Irp);
            IoGetNextIrpStackLocation(Irp)->MajorFunction = IRP_MJ_WRITE;
            IoSetCompletionRoutine(Irp, MiddleCompletion, nullptr, TRUE, TRUE, TRUE);
            return IoCallDriver(io::device_private(DeviceObject)->AttachedTo, Irp);
        };
        EXPECT_EQ(IoCallDriver(middle, irp), STATUS_PENDING);
        EXPECT_EQ(g_pended, irp);
        irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(irp, IO_NO_INCREMENT);  // later, as the bottom driver finishes
        IoFreeIrp(irp);
        return originator_saw_pending;
    }

    DRIVER_OBJECT* unit = nullptr;
    PDEVICE_OBJECT bottom = nullptr;
    PDEVICE_OBJECT middle = nullptr;
};

}  // namespace

TEST_F(Completion, ARoutineThatPropagatesPendingIsNotReported)
{
    build();
    EXPECT_TRUE(send_and_complete_later()) << "the pending mark reached the originator through the middle layer";
    EXPECT_FALSE(has_finding("PENDING_NOT_PROPAGATED"));
}

TEST_F(Completion, ARoutineThatDropsPendingReturnedIsReportedWithItsLine)
{
    build();
    g_mark_pending = false;
    EXPECT_FALSE(send_and_complete_later()) << "the originator lost the fact that the IRP was pended";
    ASSERT_TRUE(has_finding("PENDING_NOT_PROPAGATED"));
    for (const auto& f : machine.system().findings())
        if (f.code == "PENDING_NOT_PROPAGATED") {
            EXPECT_THAT(f.message, HasSubstr("MiddleCompletion"));
            EXPECT_THAT(f.message, HasSubstr("0x228"));
            EXPECT_THAT(f.location, HasSubstr("MiddleCompletion"));
        }
}

TEST_F(Completion, ARequestCompletedSynchronouslyNeedsNoPendingMark)
{
    build();
    g_mark_pending = false;
    unit->MajorFunction[IRP_MJ_WRITE] = [](PDEVICE_OBJECT, PIRP Irp) -> NTSTATUS {
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
    };
    PIRP irp = IoAllocateIrp(middle->StackSize, FALSE);
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
    BOOLEAN pending = TRUE;
    IoSetCompletionRoutine(irp, OriginatorKeeps, &pending, TRUE, TRUE, TRUE);
    unit->MajorFunction[IRP_MJ_READ] = [](PDEVICE_OBJECT DeviceObject, PIRP Irp) -> NTSTATUS {
        IoCopyCurrentIrpStackLocationToNext(Irp);
        IoGetNextIrpStackLocation(Irp)->MajorFunction = IRP_MJ_WRITE;
        IoSetCompletionRoutine(Irp, MiddleCompletion, nullptr, TRUE, TRUE, TRUE);
        return IoCallDriver(io::device_private(DeviceObject)->AttachedTo, Irp);
    };
    EXPECT_EQ(IoCallDriver(middle, irp), STATUS_SUCCESS);
    EXPECT_FALSE(pending);
    IoFreeIrp(irp);
    EXPECT_FALSE(has_finding("PENDING_NOT_PROPAGATED"));
}
