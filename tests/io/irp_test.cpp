// irp_test.cpp - IRPs (sim_io_manager/irp.cpp): allocation, stack-location arithmetic,
// IofCallDriver, IofCompleteRequest's walk up the stack (invoke flags, order,
// STATUS_MORE_PROCESSING_REQUIRED, PendingReturned), the bug checks of misuse, and the
// IRP history reports print.
//
// The test plays every driver itself: devices of the io_unit test driver, stacked by
// hand, with the dispatch and completion routines below. Each device's behaviour is set
// per test in g_roles.
#include <gmock/gmock.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "io/io_test_support.h"

using namespace iosim;
using io_test::catch_bugcheck;
using io_test::IoTest;
using io_test::us;
using io::irp_history_lines;
using io::private_of;
using ::testing::Contains;
using ::testing::HasSubstr;

namespace {

// ---- what the routines saw ----

struct Event {
    std::string what;               // "dispatch:upper", "completion:middle", "completion:originator"
    PDEVICE_OBJECT device;          // the DeviceObject parameter
    PIO_STACK_LOCATION sp;          // IoGetCurrentIrpStackLocation at the time
    CHAR location;                  // Irp->CurrentLocation
    PDEVICE_OBJECT sp_device;       // sp->DeviceObject (only for a location inside the IRP)
    BOOLEAN pending_returned;       // Irp->PendingReturned
    PVOID context;                  // completion routine context
    ULONG ioctl;                    // sp->Parameters.DeviceIoControl.IoControlCode (dispatch)
    PIO_COMPLETION_ROUTINE sp_routine;  // sp->CompletionRoutine (dispatch)
    UCHAR sp_control;               // sp->Control (dispatch)
    NTSTATUS status;                // Irp->IoStatus.Status
};
std::vector<Event> g_events;

std::vector<std::string> names()
{
    std::vector<std::string> out;
    for (const auto& e : g_events)
        out.push_back(e.what);
    return out;
}

long count_of(const std::string& what)
{
    return std::count_if(g_events.begin(), g_events.end(), [&](const Event& e) { return e.what == what; });
}

const Event* find_event(const std::string& what)
{
    for (const auto& e : g_events)
        if (e.what == what)
            return &e;
    return nullptr;
}

Event snapshot(const std::string& what, PDEVICE_OBJECT device, PIRP irp, PVOID context)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    bool inside = irp->CurrentLocation >= 1 && irp->CurrentLocation <= irp->StackCount;
    Event e{};
    e.what = what;
    e.device = device;
    e.sp = sp;
    e.location = irp->CurrentLocation;
    e.sp_device = inside ? sp->DeviceObject : nullptr;
    e.pending_returned = irp->PendingReturned;
    e.context = context;
    if (inside) {
        e.ioctl = sp->Parameters.DeviceIoControl.IoControlCode;
        e.sp_routine = sp->CompletionRoutine;
        e.sp_control = sp->Control;
    }
    e.status = irp->IoStatus.Status;
    return e;
}

// ---- the drivers' behaviour ----

enum class How {
    Complete,         // complete with role.status and return it
    CompleteTwice,    // complete, then complete again (a bug)
    Pend,             // IoMarkIrpPending, remember the IRP, return STATUS_PENDING
    Skip,             // IoSkipCurrentIrpStackLocation, pass down
    Copy,             // IoCopyCurrentIrpStackLocationToNext, pass down
    CopyWithRoutine,  // copy, IoSetCompletionRoutine(RoleCompletion), pass down
    PassRaw,          // IoCallDriver to the next device without preparing a location (a bug)
    ReturnOnly,       // return role.status without completing
};

struct Role {
    std::string name;
    How how = How::Complete;
    PDEVICE_OBJECT next = nullptr;
    NTSTATUS status = STATUS_SUCCESS;
    ULONG_PTR information = 0;
    NTSTATUS routine_result = STATUS_SUCCESS;
    bool routine_marks_pending = true;  // the rule: if (Irp->PendingReturned) IoMarkIrpPending(Irp)
};
std::map<PDEVICE_OBJECT, Role> g_roles;
PIRP g_pended = nullptr;

IO_COMPLETION_ROUTINE RoleCompletion;
NTSTATUS RoleCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    const Role& role = g_roles.at(static_cast<PDEVICE_OBJECT>(Context));
    g_events.push_back(snapshot("completion:" + role.name, DeviceObject, Irp, Context));
    if (role.routine_result != STATUS_MORE_PROCESSING_REQUIRED && role.routine_marks_pending && Irp->PendingReturned)
        IoMarkIrpPending(Irp);
    return role.routine_result;
}

NTSTATUS g_originator_result = STATUS_MORE_PROCESSING_REQUIRED;
int g_originator_context = 0;

IO_COMPLETION_ROUTINE OriginatorCompletion;
NTSTATUS OriginatorCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    g_events.push_back(snapshot("completion:originator", DeviceObject, Irp, Context));
    return g_originator_result;
}

DRIVER_DISPATCH RoleDispatch;
NTSTATUS RoleDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    const Role& role = g_roles.at(DeviceObject);
    g_events.push_back(snapshot("dispatch:" + role.name, DeviceObject, Irp, nullptr));
    switch (role.how) {
    case How::Complete:
        Irp->IoStatus.Status = role.status;
        Irp->IoStatus.Information = role.information;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return role.status;
    case How::CompleteTwice:
        Irp->IoStatus.Status = role.status;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return role.status;
    case How::Pend:
        IoMarkIrpPending(Irp);
        g_pended = Irp;
        return STATUS_PENDING;
    case How::Skip:
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(role.next, Irp);
    case How::Copy:
        IoCopyCurrentIrpStackLocationToNext(Irp);
        return IoCallDriver(role.next, Irp);
    case How::CopyWithRoutine:
        IoCopyCurrentIrpStackLocationToNext(Irp);
        IoSetCompletionRoutine(Irp, RoleCompletion, DeviceObject, TRUE, TRUE, TRUE);
        return IoCallDriver(role.next, Irp);
    case How::PassRaw:
        return IoCallDriver(role.next, Irp);
    case How::ReturnOnly:
        return role.status;
    }
    return STATUS_INTERNAL_ERROR;
}

constexpr ULONG kIoctl = 0x00222004;  // CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)

class IrpTest : public IoTest {
protected:
    void SetUp() override
    {
        IoTest::SetUp();
        g_events.clear();
        g_roles.clear();
        g_pended = nullptr;
        g_originator_result = STATUS_MORE_PROCESSING_REQUIRED;
        for (UCHAR major : {IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_DEVICE_CONTROL})
            driver->MajorFunction[major] = RoleDispatch;
    }

    PDEVICE_OBJECT device(const std::string& role_name, How how, PDEVICE_OBJECT next = nullptr)
    {
        PDEVICE_OBJECT d = make_device();
        g_roles[d] = Role{.name = role_name, .how = how, .next = next};
        if (next != nullptr)
            attach(d, next);
        return d;
    }

    // An IRP as a driver builds one to send to `top`: the first location filled in, with
    // the originator's completion routine on it (invoked on success, error and cancel).
    PIRP request_for(PDEVICE_OBJECT top, UCHAR major = IRP_MJ_DEVICE_CONTROL, bool with_routine = true)
    {
        PIRP irp = IoAllocateIrp(top->StackSize, FALSE);
        PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
        sp->MajorFunction = major;
        if (major == IRP_MJ_DEVICE_CONTROL)
            sp->Parameters.DeviceIoControl.IoControlCode = kIoctl;
        if (with_routine)
            IoSetCompletionRoutine(irp, OriginatorCompletion, &g_originator_context, TRUE, TRUE, TRUE);
        return irp;
    }

    static PIO_STACK_LOCATION location(PIRP irp, int n) { return reinterpret_cast<PIO_STACK_LOCATION>(irp + 1) + (n - 1); }
};

// ---- allocation and arithmetic ----

TEST_F(IrpTest, AllocatedIrpFields)
{
    for (CCHAR stack : {CCHAR{1}, CCHAR{3}, CCHAR{12}}) {
        PIRP irp = IoAllocateIrp(stack, FALSE);
        ASSERT_NE(irp, nullptr);
        EXPECT_EQ(irp->Type, IO_TYPE_IRP);
        EXPECT_EQ(irp->Size, IoSizeOfIrp(stack));
        EXPECT_EQ(irp->StackCount, stack);
        EXPECT_EQ(irp->CurrentLocation, stack + 1);
        // The current location starts one past the last one: the caller fills "next".
        EXPECT_EQ(IoGetCurrentIrpStackLocation(irp), location(irp, stack + 1));
        EXPECT_EQ(IoGetNextIrpStackLocation(irp), location(irp, stack));
        EXPECT_EQ(irp->IoStatus.Status, 0);
        EXPECT_EQ(irp->IoStatus.Information, 0u);
        EXPECT_EQ(irp->MdlAddress, nullptr);
        EXPECT_EQ(irp->CancelRoutine, nullptr);
        EXPECT_FALSE(irp->Cancel);
        EXPECT_FALSE(irp->PendingReturned);
        for (int n = 1; n <= stack; ++n) {
            EXPECT_EQ(location(irp, n)->MajorFunction, 0);
            EXPECT_EQ(location(irp, n)->CompletionRoutine, nullptr);
            EXPECT_EQ(location(irp, n)->Control, 0);
        }
        IoFreeIrp(irp);
    }
}

TEST_F(IrpTest, RecycledIrpIsClean)
{
    PIRP dirty = IoAllocateIrp(2, FALSE);
    std::memset(location(dirty, 1), 0xEE, 2 * sizeof(IO_STACK_LOCATION));
    dirty->IoStatus.Status = STATUS_INVALID_PARAMETER;
    dirty->Cancel = TRUE;
    IoFreeIrp(dirty);
    PIRP irp = IoAllocateIrp(2, FALSE);
    EXPECT_EQ(irp->IoStatus.Status, 0);
    EXPECT_FALSE(irp->Cancel);
    EXPECT_EQ(location(irp, 1)->CompletionRoutine, nullptr);
    EXPECT_EQ(location(irp, 2)->Control, 0);
    IoFreeIrp(irp);
}

TEST_F(IrpTest, NextStackLocationArithmetic)
{
    PIRP irp = IoAllocateIrp(3, FALSE);
    PIO_STACK_LOCATION current = IoGetCurrentIrpStackLocation(irp);
    EXPECT_EQ(IoGetNextIrpStackLocation(irp), current - 1);
    IoSetNextIrpStackLocation(irp);
    EXPECT_EQ(irp->CurrentLocation, 3);
    EXPECT_EQ(IoGetCurrentIrpStackLocation(irp), location(irp, 3));
    EXPECT_EQ(IoGetNextIrpStackLocation(irp), location(irp, 2));
    IoSkipCurrentIrpStackLocation(irp);
    EXPECT_EQ(irp->CurrentLocation, 4);
    EXPECT_EQ(IoGetCurrentIrpStackLocation(irp), current);
    IoFreeIrp(irp);
}

TEST_F(IrpTest, IoFreeIrpTwiceIsVerifierViolation01)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoFreeIrp(irp);
    auto stop = catch_bugcheck([&] { IoFreeIrp(irp); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x01u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(irp));
}

// ---- IofCallDriver ----

TEST_F(IrpTest, CallDriverDecrementsCurrentLocationAndSetsItsDeviceObject)
{
    PDEVICE_OBJECT d = device("only", How::ReturnOnly);
    g_roles[d].status = STATUS_BUFFER_TOO_SMALL;
    PIRP irp = request_for(d, IRP_MJ_DEVICE_CONTROL, false);
    ASSERT_EQ(location(irp, 1)->DeviceObject, nullptr);
    NTSTATUS status = IofCallDriver(d, irp);
    EXPECT_EQ(status, STATUS_BUFFER_TOO_SMALL) << "IoCallDriver returns what the dispatch routine returned";
    ASSERT_EQ(g_events.size(), 1u);
    const Event& e = g_events[0];
    EXPECT_EQ(e.device, d);
    EXPECT_EQ(e.location, 1);
    EXPECT_EQ(e.sp, location(irp, 1));
    EXPECT_EQ(e.sp_device, d);
    EXPECT_EQ(e.ioctl, kIoctl);
    EXPECT_EQ(irp->CurrentLocation, 1);
    IoFreeIrp(irp);
}

TEST_F(IrpTest, CallDriverUsesTheMajorFunctionOfTheLocation)
{
    PDEVICE_OBJECT d = device("only", How::Complete);
    driver->MajorFunction[IRP_MJ_READ] = RoleDispatch;
    driver->MajorFunction[IRP_MJ_WRITE] = IopInvalidDeviceRequest;
    PIRP read = request_for(d, IRP_MJ_READ);
    EXPECT_EQ(IofCallDriver(d, read), STATUS_SUCCESS);
    EXPECT_EQ(names(), (std::vector<std::string>{"dispatch:only", "completion:originator"}));
    IoFreeIrp(read);
    g_events.clear();
    PIRP write = request_for(d, IRP_MJ_WRITE);
    EXPECT_EQ(IofCallDriver(d, write), STATUS_INVALID_DEVICE_REQUEST);
    EXPECT_EQ(names(), (std::vector<std::string>{"completion:originator"}));
    EXPECT_EQ(write->IoStatus.Status, STATUS_INVALID_DEVICE_REQUEST);
    IoFreeIrp(write);
}

TEST_F(IrpTest, UnsetMajorFunctionCompletesWithInvalidDeviceRequest)
{
    PDEVICE_OBJECT d = device("only", How::Complete);
    EXPECT_EQ(driver->MajorFunction[IRP_MJ_FLUSH_BUFFERS], &IopInvalidDeviceRequest);
    PIRP irp = request_for(d, IRP_MJ_FLUSH_BUFFERS);
    EXPECT_EQ(IofCallDriver(d, irp), STATUS_INVALID_DEVICE_REQUEST);
    const Event* done = find_event("completion:originator");
    ASSERT_NE(done, nullptr) << "the default dispatch routine must complete the IRP";
    EXPECT_EQ(done->status, STATUS_INVALID_DEVICE_REQUEST);
    EXPECT_EQ(irp->IoStatus.Information, 0u);
    IoFreeIrp(irp);
}

TEST_F(IrpTest, NoStackLocationLeftIsBugCheck35)
{
    PDEVICE_OBJECT lower = device("lower", How::Complete);
    PDEVICE_OBJECT upper = device("upper", How::PassRaw, lower);
    PIRP irp = request_for(lower);  // sized for the lower device alone: one location short
    ASSERT_EQ(irp->StackCount, 1);
    auto stop = catch_bugcheck([&] { IofCallDriver(upper, irp); });
    ASSERT_TRUE(stop.has_value()) << "no bug check with no stack location left";
    EXPECT_EQ(stop->code, static_cast<ULONG>(NO_MORE_IRP_STACK_LOCATIONS));
    EXPECT_EQ(stop->name, "NO_MORE_IRP_STACK_LOCATIONS");
    EXPECT_EQ(stop->parameters[0], reinterpret_cast<ULONG_PTR>(irp));
    EXPECT_EQ(find_event("dispatch:lower"), nullptr) << "the lower driver must not be called";
    EXPECT_NE(stop->location.find("irp_test.cpp"), std::string::npos) << stop->location;
    IoFreeIrp(irp);
}

// ---- IofCompleteRequest: misuse ----

TEST_F(IrpTest, SecondCompletionIsBugCheck44)
{
    PDEVICE_OBJECT d = device("only", How::CompleteTwice);
    PIRP irp = request_for(d, IRP_MJ_DEVICE_CONTROL, false);
    auto stop = catch_bugcheck([&] { IofCallDriver(d, irp); });
    ASSERT_TRUE(stop.has_value()) << "completing twice did not bug-check";
    EXPECT_EQ(stop->code, static_cast<ULONG>(MULTIPLE_IRP_COMPLETE_REQUESTS));
    EXPECT_EQ(stop->parameters[0], reinterpret_cast<ULONG_PTR>(irp));
    EXPECT_THAT(stop->irp_history, Contains(HasSubstr("completed with")));
    IoFreeIrp(irp);
}

TEST_F(IrpTest, CompletingAgainAfterTheWalkEndedIsBugCheck44)
{
    PDEVICE_OBJECT d = device("only", How::Complete);
    PIRP irp = request_for(d, IRP_MJ_DEVICE_CONTROL, false);
    IofCallDriver(d, irp);
    EXPECT_EQ(irp->CurrentLocation, irp->StackCount + 1);
    auto stop = catch_bugcheck([&] { IofCompleteRequest(irp, IO_NO_INCREMENT); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(MULTIPLE_IRP_COMPLETE_REQUESTS));
    IoFreeIrp(irp);
}

TEST_F(IrpTest, CompletingWithStatusPendingIsVerifierViolation06)
{
    PDEVICE_OBJECT d = device("only", How::Complete);
    g_roles[d].status = STATUS_PENDING;
    PIRP irp = request_for(d);
    auto stop = catch_bugcheck([&] { IofCallDriver(d, irp); });
    ASSERT_TRUE(stop.has_value()) << "completion with STATUS_PENDING did not bug-check";
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x06u);
    EXPECT_EQ(stop->parameters[1], static_cast<ULONG_PTR>(static_cast<ULONG>(STATUS_PENDING)));
    EXPECT_EQ(stop->parameters[2], reinterpret_cast<ULONG_PTR>(irp));
    EXPECT_EQ(find_event("completion:originator"), nullptr) << "no completion routine may run";
    IoFreeIrp(irp);
}

VOID TestCancelRoutine(PDEVICE_OBJECT, PIRP) {}

TEST_F(IrpTest, CompletingWithACancelRoutineSetIsVerifierViolation07)
{
    PDEVICE_OBJECT d = device("only", How::ReturnOnly);
    PIRP irp = request_for(d);
    IofCallDriver(d, irp);
    IoSetCancelRoutine(irp, TestCancelRoutine);
    irp->IoStatus.Status = STATUS_SUCCESS;
    auto stop = catch_bugcheck([&] { IofCompleteRequest(irp, IO_NO_INCREMENT); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x07u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(&TestCancelRoutine));
    EXPECT_EQ(stop->parameters[2], reinterpret_cast<ULONG_PTR>(irp));
    IoSetCancelRoutine(irp, nullptr);
    IoFreeIrp(irp);
}

// ---- IofCompleteRequest: invoke flags ----

struct InvokeCase {
    const char* name;
    NTSTATUS status;
    bool cancel;
    bool on_success, on_error, on_cancel;
    bool invoked;
};

void PrintTo(const InvokeCase& c, std::ostream* os) { *os << c.name; }

class CompletionInvokeFlags : public IrpTest, public ::testing::WithParamInterface<InvokeCase> {};

int g_invocations = 0;
NTSTATUS g_status_seen = 0;
IO_COMPLETION_ROUTINE CountingCompletion;
NTSTATUS CountingCompletion(PDEVICE_OBJECT, PIRP Irp, PVOID)
{
    ++g_invocations;
    g_status_seen = Irp->IoStatus.Status;
    return STATUS_MORE_PROCESSING_REQUIRED;
}

NTSTATUS g_flags_status = STATUS_SUCCESS;
bool g_flags_cancel = false;
DRIVER_DISPATCH FlagsDispatch;
NTSTATUS FlagsDispatch(PDEVICE_OBJECT, PIRP Irp)
{
    Irp->IoStatus.Status = g_flags_status;
    Irp->Cancel = g_flags_cancel;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Irp->IoStatus.Status;
}

TEST_P(CompletionInvokeFlags, RoutineRunsAsItsFlagsSay)
{
    const InvokeCase& c = GetParam();
    driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = FlagsDispatch;
    PDEVICE_OBJECT d = make_device();
    g_flags_status = c.status;
    g_flags_cancel = c.cancel;
    g_invocations = 0;
    PIRP irp = request_for(d, IRP_MJ_DEVICE_CONTROL, false);
    IoSetCompletionRoutine(irp, CountingCompletion, nullptr, c.on_success, c.on_error, c.on_cancel);
    IofCallDriver(d, irp);
    EXPECT_EQ(g_invocations, c.invoked ? 1 : 0);
    if (c.invoked)
        EXPECT_EQ(g_status_seen, c.status);
    IoFreeIrp(irp);
}

INSTANTIATE_TEST_SUITE_P(
    IrpTest, CompletionInvokeFlags,
    ::testing::Values(
        InvokeCase{"SuccessInvokesOnSuccess", STATUS_SUCCESS, false, true, false, false, true},
        InvokeCase{"SuccessSkipsOnErrorOnly", STATUS_SUCCESS, false, false, true, false, false},
        InvokeCase{"InformationalIsSuccess", STATUS_TIMEOUT, false, true, false, false, true},
        InvokeCase{"ErrorInvokesOnError", STATUS_INVALID_PARAMETER, false, false, true, false, true},
        InvokeCase{"ErrorSkipsOnSuccessOnly", STATUS_INVALID_PARAMETER, false, true, false, false, false},
        InvokeCase{"WarningIsNotSuccess", STATUS_BUFFER_OVERFLOW, false, true, false, false, false},
        InvokeCase{"WarningInvokesOnError", STATUS_BUFFER_OVERFLOW, false, false, true, false, true},
        InvokeCase{"CancelledInvokesOnCancel", STATUS_CANCELLED, true, false, false, true, true},
        InvokeCase{"CancelledSkipsOnSuccessOnly", STATUS_CANCELLED, true, true, false, false, false},
        InvokeCase{"CancelledInvokesOnError", STATUS_CANCELLED, true, false, true, false, true},
        InvokeCase{"OnCancelNeedsTheCancelFlag", STATUS_CANCELLED, false, false, false, true, false},
        InvokeCase{"CancelFlagWithSuccessStatusInvokesOnCancel", STATUS_SUCCESS, true, false, false, true, true},
        InvokeCase{"NoFlagsNeverInvokes", STATUS_SUCCESS, false, false, false, false, false}),
    [](const ::testing::TestParamInfo<InvokeCase>& info) { return std::string(info.param.name); });

// ---- IofCompleteRequest: the walk ----

TEST_F(IrpTest, CompletionRoutinesRunBottomUp)
{
    PDEVICE_OBJECT lower = device("lower", How::Complete);
    PDEVICE_OBJECT middle = device("middle", How::CopyWithRoutine, lower);
    PDEVICE_OBJECT upper = device("upper", How::CopyWithRoutine, middle);
    PIRP irp = request_for(upper);
    ASSERT_EQ(irp->StackCount, 3);
    EXPECT_EQ(IofCallDriver(upper, irp), STATUS_SUCCESS);
    EXPECT_EQ(names(), (std::vector<std::string>{"dispatch:upper", "dispatch:middle", "dispatch:lower",
                                                 "completion:middle", "completion:upper", "completion:originator"}));    IoFreeIrp(irp);
}

TEST_F(IrpTest, EachCompletionRoutineSeesItsOwnStackLocation)
{
    PDEVICE_OBJECT lower = device("lower", How::Complete);
    PDEVICE_OBJECT middle = device("middle", How::CopyWithRoutine, lower);
    PDEVICE_OBJECT upper = device("upper", How::CopyWithRoutine, middle);
    PIRP irp = request_for(upper);
    IofCallDriver(upper, irp);

    const Event* m = find_event("completion:middle");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->device, middle);
    EXPECT_EQ(m->context, middle);
    EXPECT_EQ(m->location, 2);
    EXPECT_EQ(m->sp, location(irp, 2));
    EXPECT_EQ(m->sp_device, middle);

    const Event* u = find_event("completion:upper");
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->device, upper);
    EXPECT_EQ(u->location, 3);
    EXPECT_EQ(u->sp, location(irp, 3));
    EXPECT_EQ(u->sp_device, upper);

    // The originator's routine has no location of its own in the IRP: DeviceObject is NULL.
    const Event* o = find_event("completion:originator");
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->device, nullptr);
    EXPECT_EQ(o->context, &g_originator_context);
    EXPECT_EQ(o->location, 4);
    IoFreeIrp(irp);
}

TEST_F(IrpTest, MoreProcessingRequiredStopsTheWalk)
{
    PDEVICE_OBJECT lower = device("lower", How::Complete);
    PDEVICE_OBJECT upper = device("upper", How::CopyWithRoutine, lower);
    g_roles[upper].routine_result = STATUS_MORE_PROCESSING_REQUIRED;
    PIRP irp = request_for(upper);
    IofCallDriver(upper, irp);
    EXPECT_EQ(names(), (std::vector<std::string>{"dispatch:upper", "dispatch:lower", "completion:upper"}));
    EXPECT_EQ(irp->CurrentLocation, 2) << "the IRP stays at the location of the driver that kept it";
    EXPECT_THAT(irp_history_lines(irp), Contains(HasSubstr("STATUS_MORE_PROCESSING_REQUIRED")));

    // The driver owns the IRP again and may complete it later: the walk resumes above it.
    irp->IoStatus.Status = STATUS_SUCCESS;
    auto stop = catch_bugcheck([&] { IofCompleteRequest(irp, IO_NO_INCREMENT); });
    EXPECT_FALSE(stop.has_value()) << "completing after STATUS_MORE_PROCESSING_REQUIRED is legal: "
                                   << (stop ? stop->report : "");
    EXPECT_EQ(names().back(), "completion:originator");
    EXPECT_EQ(count_of("completion:upper"), 1)
        << "the routine that returned MORE_PROCESSING_REQUIRED must not run again";
    IoFreeIrp(irp);
}

// ---- PendingReturned ----

TEST_F(IrpTest, PendingReturnedPropagatesWhenNoRoutineRuns)
{
    PDEVICE_OBJECT lower = device("lower", How::Pend);
    PDEVICE_OBJECT upper = device("upper", How::Copy, lower);
    PIRP irp = request_for(upper);
    EXPECT_EQ(IofCallDriver(upper, irp), STATUS_PENDING);
    ASSERT_EQ(g_pended, irp);
    EXPECT_EQ(find_event("completion:originator"), nullptr) << "pended: nothing completed yet";

    irp->IoStatus.Status = STATUS_SUCCESS;
    IofCompleteRequest(irp, IO_NO_INCREMENT);  // later, from wherever the lower driver finishes
    const Event* o = find_event("completion:originator");
    ASSERT_NE(o, nullptr);
    EXPECT_TRUE(o->pending_returned) << "the I/O manager must mark the upper location pending for a layer "
                                        "without a completion routine";
    IoFreeIrp(irp);
}

TEST_F(IrpTest, CompletionRoutineSeesPendingReturnedAndPassesItOn)
{
    PDEVICE_OBJECT lower = device("lower", How::Pend);
    PDEVICE_OBJECT middle = device("middle", How::CopyWithRoutine, lower);
    PDEVICE_OBJECT upper = device("upper", How::Copy, middle);
    PIRP irp = request_for(upper);
    EXPECT_EQ(IofCallDriver(upper, irp), STATUS_PENDING);
    irp->IoStatus.Status = STATUS_SUCCESS;
    IofCompleteRequest(irp, IO_NO_INCREMENT);
    const Event* m = find_event("completion:middle");
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->pending_returned);
    const Event* o = find_event("completion:originator");
    ASSERT_NE(o, nullptr);
    EXPECT_TRUE(o->pending_returned) << "middle's IoMarkIrpPending, then upper (no routine) propagated it";
    IoFreeIrp(irp);
}

TEST_F(IrpTest, RoutineThatDoesNotMarkPendingStopsThePropagation)
{
    PDEVICE_OBJECT lower = device("lower", How::Pend);
    PDEVICE_OBJECT upper = device("upper", How::CopyWithRoutine, lower);
    g_roles[upper].routine_marks_pending = false;  // breaks the rule
    PIRP irp = request_for(upper);
    IofCallDriver(upper, irp);
    irp->IoStatus.Status = STATUS_SUCCESS;
    IofCompleteRequest(irp, IO_NO_INCREMENT);
    const Event* u = find_event("completion:upper");
    ASSERT_NE(u, nullptr);
    EXPECT_TRUE(u->pending_returned);
    const Event* o = find_event("completion:originator");
    ASSERT_NE(o, nullptr);
    EXPECT_FALSE(o->pending_returned) << "only the routine itself may mark its location pending; the I/O manager "
                                         "propagates SL_PENDING_RETURNED only past layers whose routine did not run";
    IoFreeIrp(irp);
}

TEST_F(IrpTest, SynchronousCompletionLeavesPendingReturnedClear)
{
    PDEVICE_OBJECT lower = device("lower", How::Complete);
    PDEVICE_OBJECT upper = device("upper", How::CopyWithRoutine, lower);
    PIRP irp = request_for(upper);
    EXPECT_EQ(IofCallDriver(upper, irp), STATUS_SUCCESS);
    ASSERT_NE(find_event("completion:upper"), nullptr);
    EXPECT_FALSE(find_event("completion:upper")->pending_returned);
    EXPECT_FALSE(find_event("completion:originator")->pending_returned);
    IoFreeIrp(irp);
}

// ---- passing an IRP down ----

TEST_F(IrpTest, SkipGivesTheLowerDriverTheSameLocation)
{
    PDEVICE_OBJECT lower = device("lower", How::Complete);
    PDEVICE_OBJECT upper = device("upper", How::Skip, lower);
    PIRP irp = request_for(upper);
    EXPECT_EQ(IofCallDriver(upper, irp), STATUS_SUCCESS);
    const Event* u = find_event("dispatch:upper");
    const Event* l = find_event("dispatch:lower");
    ASSERT_NE(u, nullptr);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(u->sp, location(irp, 2));
    EXPECT_EQ(l->sp, location(irp, 2)) << "after IoSkipCurrentIrpStackLocation the lower driver reuses the location";
    EXPECT_EQ(l->location, 2);
    EXPECT_EQ(l->sp_device, lower) << "IoCallDriver sets the location's DeviceObject to the device called";
    EXPECT_EQ(l->ioctl, kIoctl);
    EXPECT_EQ(location(irp, 1)->MajorFunction, 0) << "the lowest location was never used";
    EXPECT_EQ(count_of("completion:originator"), 1);
    IoFreeIrp(irp);
}

TEST_F(IrpTest, CopyGivesTheLowerDriverItsOwnLocationWithoutCompletionRoutine)
{
    PDEVICE_OBJECT lower = device("lower", How::Complete);
    PDEVICE_OBJECT upper = device("upper", How::Copy, lower);
    PIRP irp = request_for(upper);
    EXPECT_EQ(IofCallDriver(upper, irp), STATUS_SUCCESS);
    const Event* u = find_event("dispatch:upper");
    const Event* l = find_event("dispatch:lower");
    ASSERT_NE(u, nullptr);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(u->sp, location(irp, 2));
    EXPECT_EQ(l->sp, location(irp, 1));
    EXPECT_EQ(l->location, 1);
    EXPECT_EQ(l->ioctl, kIoctl) << "the parameters are copied";
    EXPECT_EQ(u->sp_routine, &OriginatorCompletion);
    EXPECT_EQ(l->sp_routine, nullptr) << "the completion routine is not copied";
    EXPECT_EQ(l->sp_control, 0) << "Control (pending and invoke bits) is not copied";
    EXPECT_EQ(count_of("completion:originator"), 1)
        << "a copied completion routine would run twice";
    IoFreeIrp(irp);
}

TEST_F(IrpTest, CopyThenSetCompletionRoutineArmsTheNextLocation)
{
    PDEVICE_OBJECT lower = device("lower", How::Complete);
    PDEVICE_OBJECT upper = device("upper", How::CopyWithRoutine, lower);
    PIRP irp = request_for(upper);
    IofCallDriver(upper, irp);
    const Event* l = find_event("dispatch:lower");
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->sp_routine, &RoleCompletion);
    EXPECT_EQ(l->sp_control, SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL);
    IoFreeIrp(irp);
}

// ---- history ----

int g_history_complete_line = 0;
DRIVER_DISPATCH HistoryDispatch;
NTSTATUS HistoryDispatch(PDEVICE_OBJECT, PIRP Irp)
{
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 5;
    g_history_complete_line = __LINE__ + 1;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

TEST_F(IrpTest, HistoryLinesNameDispatchAndCompletionSourceLines)
{
    driver->MajorFunction[IRP_MJ_READ] = HistoryDispatch;
    PDEVICE_OBJECT d = make_device(u"\\Device\\IoUnitHistory");
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_READ;
    const int call_line = __LINE__ + 1;
    IofCallDriver(d, irp);
    auto lines = irp_history_lines(irp);
    std::string id = "IRP#" + std::to_string(private_of(irp)->id) + " ";
    for (const auto& line : lines)
        EXPECT_EQ(line.rfind(id, 0), 0u) << line;
    EXPECT_THAT(lines, Contains(HasSubstr("allocated with 1 stack location(s)")));
    EXPECT_THAT(lines, Contains(HasSubstr("IRP_MJ_READ sent to \\Device\\IoUnitHistory at stack location 1 by "
                                          "irp_test.cpp:" +
                                          std::to_string(call_line))));
    EXPECT_THAT(lines, Contains(HasSubstr("Information 5 at irp_test.cpp:" + std::to_string(g_history_complete_line))));
    EXPECT_THAT(lines, Contains(HasSubstr("dispatch routine of \\Device\\IoUnitHistory returned")));
    // Order: allocated, sent, completed, returned.
    ASSERT_GE(lines.size(), 4u);
    EXPECT_THAT(lines[0], HasSubstr("allocated"));
    EXPECT_THAT(lines[1], HasSubstr("sent to"));
    EXPECT_THAT(lines[2], HasSubstr("completed with"));
    EXPECT_THAT(lines[3], HasSubstr("returned"));
    IoFreeIrp(irp);
}

TEST_F(IrpTest, BugCheckReportCarriesTheIrpHistory)
{
    PDEVICE_OBJECT d = device("only", How::CompleteTwice);
    PIRP irp = request_for(d, IRP_MJ_DEVICE_CONTROL, false);
    auto stop = catch_bugcheck([&] { IofCallDriver(d, irp); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_THAT(stop->report, HasSubstr("IRP history:"));
    EXPECT_THAT(stop->report, HasSubstr("IRP#" + std::to_string(private_of(irp)->id)));
    EXPECT_THAT(stop->location, HasSubstr("irp_test.cpp"));
    IoFreeIrp(irp);
}

}  // namespace
