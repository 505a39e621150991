// irp_build_test.cpp - driver-built IRPs (sim_io_manager/irp_build.cpp): what the builders
// put in an IRP for each transfer method, RequestorMode, IRP_MJ_INTERNAL_DEVICE_CONTROL,
// who frees what (threaded IRPs by the I/O manager, asynchronous ones by the driver's
// completion routine), when the IO_STATUS_BLOCK and the event are touched, IoReuseIrp,
// IoInitializeIrp and IoSizeOfIrp, and the reports of misuse.
#include <gmock/gmock.h>

#include <cstring>
#include <string>

#include "stack/stack_test_support.h"
#include "windows.h"

using namespace iosim;
using namespace stack_test;
using ::testing::Contains;
using ::testing::HasSubstr;

namespace {

// What the target's dispatch routine saw.
struct Seen {
    int calls = 0;
    UCHAR major = 0xFF;
    KPROCESSOR_MODE mode = -1;
    ULONG flags = 0;
    void* system_buffer = nullptr;
    std::string system_data;
    PMDL mdl = nullptr;
    ULONG mdl_bytes = 0;
    void* mdl_address = nullptr;
    void* user_buffer = nullptr;
    void* type3 = nullptr;
    ULONG code = 0, in_length = 0, out_length = 0, length = 0;
    LONGLONG offset = -1;
    PIRP irp = nullptr;
};
Seen g_seen;

// How the target answers.
struct Reply {
    NTSTATUS status = STATUS_SUCCESS;
    std::string data;       // written to SystemBuffer / the MDL / UserBuffer
    ULONG_PTR information = 0;
    bool pend_then_complete = false;  // IoMarkIrpPending, complete, return STATUS_PENDING
    bool pend_forever = false;        // IoMarkIrpPending, return STATUS_PENDING, never complete
};
Reply g_reply;

DRIVER_DISPATCH TargetDispatch;
NTSTATUS TargetDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    Seen& s = g_seen;
    s.calls++;
    s.major = sp->MajorFunction;
    s.mode = Irp->RequestorMode;
    s.flags = Irp->Flags;
    s.system_buffer = Irp->AssociatedIrp.SystemBuffer;
    s.mdl = Irp->MdlAddress;
    s.user_buffer = Irp->UserBuffer;
    s.irp = Irp;
    if (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL || sp->MajorFunction == IRP_MJ_INTERNAL_DEVICE_CONTROL) {
        s.code = sp->Parameters.DeviceIoControl.IoControlCode;
        s.in_length = sp->Parameters.DeviceIoControl.InputBufferLength;
        s.out_length = sp->Parameters.DeviceIoControl.OutputBufferLength;
        s.type3 = sp->Parameters.DeviceIoControl.Type3InputBuffer;
        if (s.system_buffer != nullptr)
            s.system_data.assign(static_cast<char*>(s.system_buffer), s.in_length);
    } else if (sp->MajorFunction == IRP_MJ_READ || sp->MajorFunction == IRP_MJ_WRITE) {
        s.length = sp->Parameters.Read.Length;
        s.offset = sp->Parameters.Read.ByteOffset.QuadPart;
        if (s.system_buffer != nullptr && sp->MajorFunction == IRP_MJ_WRITE)
            s.system_data.assign(static_cast<char*>(s.system_buffer), s.length);
    }
    if (s.mdl != nullptr) {
        s.mdl_bytes = MmGetMdlByteCount(s.mdl);
        s.mdl_address = MmGetSystemAddressForMdlSafe(s.mdl, NormalPagePriority);
    }
    if (!g_reply.data.empty()) {
        void* out = s.mdl != nullptr ? s.mdl_address : s.system_buffer != nullptr ? s.system_buffer : s.user_buffer;
        std::memcpy(out, g_reply.data.data(), g_reply.data.size());
    }
    Irp->IoStatus.Status = g_reply.status;
    Irp->IoStatus.Information = g_reply.information;
    if (g_reply.pend_forever) {
        IoMarkIrpPending(Irp);
        return STATUS_PENDING;
    }
    if (g_reply.pend_then_complete) {
        IoMarkIrpPending(Irp);
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_PENDING;
    }
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return g_reply.status;
}

constexpr ULONG kBuffered = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x930, METHOD_BUFFERED, FILE_ANY_ACCESS);
constexpr ULONG kInDirect = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x931, METHOD_IN_DIRECT, FILE_ANY_ACCESS);
constexpr ULONG kOutDirect = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x932, METHOD_OUT_DIRECT, FILE_ANY_ACCESS);
constexpr ULONG kNeither = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x933, METHOD_NEITHER, FILE_ANY_ACCESS);

class IrpBuild : public StackTest {
protected:
    void SetUp() override
    {
        load("stack_unit", "stack_unit.sys");
        load("builder_client", "builder_client.sys");
        unit = driver(u"stack_unit");
        for (UCHAR major : {IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_READ, IRP_MJ_WRITE, IRP_MJ_DEVICE_CONTROL,
                            IRP_MJ_INTERNAL_DEVICE_CONTROL, IRP_MJ_FLUSH_BUFFERS, IRP_MJ_SHUTDOWN})
            unit->MajorFunction[major] = TargetDispatch;
        g_seen = Seen{};
        g_reply = Reply{};
    }

    PDEVICE_OBJECT target(ULONG flags = 0, const char16_t* name = nullptr)
    {
        UNICODE_STRING u = name != nullptr ? us(name) : UNICODE_STRING{};
        PDEVICE_OBJECT device = nullptr;
        EXPECT_EQ(IoCreateDevice(unit, 0, name != nullptr ? &u : nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &device),
                  STATUS_SUCCESS);
        device->Flags = (device->Flags & ~DO_DEVICE_INITIALIZING) | flags;
        return device;
    }

    bool freed(PIRP irp) { return !io::is_live_irp(irp); }

    DRIVER_OBJECT* unit = nullptr;
};

}  // namespace

TEST_F(IrpBuild, SizeOfIrpCountsTheIrpAndItsStackLocations)
{
    EXPECT_EQ(IoSizeOfIrp(1), sizeof(IRP) + sizeof(IO_STACK_LOCATION));
    EXPECT_EQ(IoSizeOfIrp(4), sizeof(IRP) + 4 * sizeof(IO_STACK_LOCATION));
    PIRP irp = IoAllocateIrp(3, FALSE);
    EXPECT_EQ(irp->Size, IoSizeOfIrp(3));
    IoFreeIrp(irp);
}

TEST_F(IrpBuild, BufferedDeviceControlCopiesTheInputInAndInformationBytesBack)
{
    PDEVICE_OBJECT device = target();
    g_reply.data = "ANSWER";
    g_reply.information = 6;
    char in[] = "question";
    char out[16];
    std::memset(out, '.', sizeof(out));
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    IO_STATUS_BLOCK iosb{};
    PIRP irp = IoBuildDeviceIoControlRequest(kBuffered, device, in, 8, out, sizeof(out), FALSE, &event, &iosb);
    ASSERT_NE(irp, nullptr);
    EXPECT_EQ(irp->StackCount, device->StackSize);
    EXPECT_EQ(IoCallDriver(device, irp), STATUS_SUCCESS);
    EXPECT_EQ(g_seen.major, IRP_MJ_DEVICE_CONTROL);
    EXPECT_EQ(g_seen.mode, KernelMode) << "a builder's IRP comes from kernel mode";
    EXPECT_EQ(g_seen.system_data, "question");
    EXPECT_EQ(g_seen.flags & (IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION),
              static_cast<ULONG>(IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION));
    EXPECT_EQ(g_seen.user_buffer, out);
    EXPECT_EQ(g_seen.in_length, 8u);
    EXPECT_EQ(g_seen.out_length, sizeof(out));
    EXPECT_EQ(std::string(out, sizeof(out)), "ANSWER..........") << "exactly Information bytes copied back";
    EXPECT_EQ(iosb.Status, STATUS_SUCCESS);
    EXPECT_EQ(iosb.Information, 6u);
    EXPECT_EQ(KeReadStateEvent(&event), 1) << "the I/O manager set the event";
    EXPECT_TRUE(freed(irp)) << "the I/O manager frees a threaded IRP after completion";
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(IrpBuild, DirectDeviceControlDescribesTheOutputWithAnMdl)
{
    PDEVICE_OBJECT device = target();
    for (ULONG code : {kInDirect, kOutDirect}) {
        g_seen = Seen{};
        g_reply.data = "direct";
        g_reply.information = 6;
        char in[] = "in";
        char out[32] = {};
        IO_STATUS_BLOCK iosb{};
        KEVENT event;
        KeInitializeEvent(&event, NotificationEvent, FALSE);
        PIRP irp = IoBuildDeviceIoControlRequest(code, device, in, 2, out, sizeof(out), FALSE, &event, &iosb);
        EXPECT_EQ(IoCallDriver(device, irp), STATUS_SUCCESS);
        EXPECT_EQ(g_seen.system_data, "in") << "the input is still buffered";
        ASSERT_NE(g_seen.mdl, nullptr);
        EXPECT_EQ(g_seen.mdl_bytes, sizeof(out));
        EXPECT_EQ(g_seen.mdl_address, out) << "the MDL describes the builder's own output buffer";
        EXPECT_EQ(std::string(out), "direct") << "written through the MDL, not copied";
        EXPECT_EQ(iosb.Information, 6u);
    }
}

TEST_F(IrpBuild, NeitherDeviceControlPassesTheRawAddresses)
{
    PDEVICE_OBJECT device = target();
    char in[4] = "in";
    char out[8] = {};
    IO_STATUS_BLOCK iosb{};
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(kNeither, device, in, 3, out, sizeof(out), FALSE, &event, &iosb);
    EXPECT_EQ(IoCallDriver(device, irp), STATUS_SUCCESS);
    EXPECT_EQ(g_seen.type3, in);
    EXPECT_EQ(g_seen.user_buffer, out);
    EXPECT_EQ(g_seen.system_buffer, nullptr);
    EXPECT_EQ(g_seen.mdl, nullptr);
}

TEST_F(IrpBuild, InternalDeviceControlComesOnlyFromKernelMode)
{
    PDEVICE_OBJECT device = target(0, u"\\Device\\StackInternal");
    IO_STATUS_BLOCK iosb{};
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(kBuffered, device, nullptr, 0, nullptr, 0, TRUE, &event, &iosb);
    EXPECT_EQ(IoCallDriver(device, irp), STATUS_SUCCESS);
    EXPECT_EQ(g_seen.major, IRP_MJ_INTERNAL_DEVICE_CONTROL);
    EXPECT_EQ(g_seen.mode, KernelMode);

    // The same code from an app is always IRP_MJ_DEVICE_CONTROL, from user mode.
    UNICODE_STRING link = us(u"\\??\\StackInternal");
    UNICODE_STRING name = us(u"\\Device\\StackInternal");
    ASSERT_EQ(IoCreateSymbolicLink(&link, &name), STATUS_SUCCESS);
    enter_app();
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\StackInternal"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    DWORD n = 0;
    EXPECT_TRUE(DeviceIoControl(h, kBuffered, nullptr, 0, nullptr, 0, &n, nullptr));
    EXPECT_EQ(g_seen.major, IRP_MJ_DEVICE_CONTROL);
    EXPECT_EQ(g_seen.mode, UserMode);
    CloseHandle(h);
    IoDeleteSymbolicLink(&link);
}

TEST_F(IrpBuild, AnErrorCompletedAtOnceLeavesTheStatusBlockAndEventAlone)
{
    PDEVICE_OBJECT device = target();
    g_reply.status = STATUS_INVALID_PARAMETER;
    g_reply.data = "nope";
    g_reply.information = 4;
    char out[8] = {};
    IO_STATUS_BLOCK iosb{};
    iosb.Status = 0x12345678;
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(kBuffered, device, nullptr, 0, out, sizeof(out), FALSE, &event, &iosb);
    EXPECT_EQ(IoCallDriver(device, irp), STATUS_INVALID_PARAMETER) << "the caller learns the status from IoCallDriver";
    EXPECT_EQ(iosb.Status, 0x12345678) << "not written: the request failed at once";
    EXPECT_EQ(KeReadStateEvent(&event), 0) << "not set: nobody should wait";
    EXPECT_EQ(out[0], 0) << "no copy-back for an error status";
    EXPECT_TRUE(freed(irp));
}

TEST_F(IrpBuild, APendedRequestSetsTheStatusBlockAndEventEvenOnError)
{
    PDEVICE_OBJECT device = target();
    g_reply.status = STATUS_DEVICE_NOT_READY;
    g_reply.pend_then_complete = true;
    IO_STATUS_BLOCK iosb{};
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(kBuffered, device, nullptr, 0, nullptr, 0, FALSE, &event, &iosb);
    EXPECT_EQ(IoCallDriver(device, irp), STATUS_PENDING);
    EXPECT_EQ(KeReadStateEvent(&event), 1) << "the caller waits on the event after STATUS_PENDING";
    EXPECT_EQ(iosb.Status, STATUS_DEVICE_NOT_READY);
}

TEST_F(IrpBuild, SynchronousFsdReadFollowsTheTargetsTransferFlags)
{
    IO_STATUS_BLOCK iosb{};
    KEVENT event;
    LARGE_INTEGER offset;
    offset.QuadPart = 512;

    PDEVICE_OBJECT buffered = target(DO_BUFFERED_IO);
    g_reply.data = "buffered";
    g_reply.information = 8;
    char out[16] = {};
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, buffered, out, sizeof(out), &offset, &event, &iosb);
    EXPECT_EQ(IoCallDriver(buffered, irp), STATUS_SUCCESS);
    EXPECT_EQ(g_seen.major, IRP_MJ_READ);
    EXPECT_EQ(g_seen.length, sizeof(out));
    EXPECT_EQ(g_seen.offset, 512);
    EXPECT_NE(g_seen.system_buffer, nullptr);
    EXPECT_NE(g_seen.system_buffer, out) << "DO_BUFFERED_IO: a SystemBuffer of its own";
    EXPECT_EQ(std::string(out), "buffered") << "copied back on completion";
    EXPECT_EQ(iosb.Information, 8u);

    PDEVICE_OBJECT direct = target(DO_DIRECT_IO);
    g_seen = Seen{};
    g_reply.data = "direct";
    char out2[16] = {};
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, direct, out2, sizeof(out2), &offset, &event, &iosb);
    EXPECT_EQ(IoCallDriver(direct, irp), STATUS_SUCCESS);
    EXPECT_EQ(g_seen.mdl_address, out2) << "DO_DIRECT_IO: an MDL for the caller's buffer";
    EXPECT_EQ(std::string(out2), "direct");

    PDEVICE_OBJECT neither = target(0);
    g_seen = Seen{};
    g_reply.data = "neither";
    char out3[16] = {};
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildSynchronousFsdRequest(IRP_MJ_READ, neither, out3, sizeof(out3), &offset, &event, &iosb);
    EXPECT_EQ(IoCallDriver(neither, irp), STATUS_SUCCESS);
    EXPECT_EQ(g_seen.user_buffer, out3) << "neither flag: the raw address";
    EXPECT_EQ(g_seen.system_buffer, nullptr);
    EXPECT_EQ(g_seen.mdl, nullptr);
}

TEST_F(IrpBuild, SynchronousFsdWriteCopiesTheDataInAndFlushAndShutdownCarryNone)
{
    PDEVICE_OBJECT buffered = target(DO_BUFFERED_IO);
    IO_STATUS_BLOCK iosb{};
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    char data[] = "to the device";
    LARGE_INTEGER offset{};
    PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_WRITE, buffered, data, sizeof(data) - 1, &offset, &event, &iosb);
    EXPECT_EQ(IoCallDriver(buffered, irp), STATUS_SUCCESS);
    EXPECT_EQ(g_seen.major, IRP_MJ_WRITE);
    EXPECT_EQ(g_seen.system_data, "to the device");
    EXPECT_EQ(g_seen.flags & IRP_INPUT_OPERATION, 0u) << "nothing to copy back for a write";

    for (ULONG major : {IRP_MJ_FLUSH_BUFFERS, IRP_MJ_SHUTDOWN}) {
        g_seen = Seen{};
        KeInitializeEvent(&event, NotificationEvent, FALSE);
        irp = IoBuildSynchronousFsdRequest(major, buffered, nullptr, 0, nullptr, &event, &iosb);
        ASSERT_NE(irp, nullptr);
        EXPECT_EQ(IoCallDriver(buffered, irp), STATUS_SUCCESS);
        EXPECT_EQ(g_seen.major, major);
        EXPECT_EQ(g_seen.system_buffer, nullptr);
        EXPECT_EQ(g_seen.mdl, nullptr);
        EXPECT_EQ(KeReadStateEvent(&event), 1);
    }
}

TEST_F(IrpBuild, FsdBuildersRefuseOtherMajorFunctions)
{
    PDEVICE_OBJECT device = target();
    IO_STATUS_BLOCK iosb{};
    EXPECT_EQ(IoBuildAsynchronousFsdRequest(IRP_MJ_DEVICE_CONTROL, device, nullptr, 0, nullptr, &iosb), nullptr);
    EXPECT_TRUE(has_finding("IRP_BUILDER_BAD_MAJOR"));
}

TEST_F(IrpBuild, ABufferTheBuilderCannotUseIsVerifierViolation08Or09)
{
    PDEVICE_OBJECT device = target(DO_BUFFERED_IO);
    IO_STATUS_BLOCK iosb{};
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    LARGE_INTEGER offset{};
    auto stop = catch_bugcheck(
        [&] { IoBuildSynchronousFsdRequest(IRP_MJ_WRITE, device, nullptr, 16, &offset, &event, &iosb); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x08u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(device));
    EXPECT_EQ(stop->parameters[2], static_cast<ULONG_PTR>(IRP_MJ_WRITE));
}

TEST_F(IrpBuild, ABadDeviceControlBufferIsVerifierViolation09)
{
    PDEVICE_OBJECT device = target();
    IO_STATUS_BLOCK iosb{};
    auto stop = catch_bugcheck(
        [&] { IoBuildDeviceIoControlRequest(kBuffered, device, nullptr, 8, nullptr, 0, FALSE, nullptr, &iosb); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x09u);
    EXPECT_EQ(stop->parameters[2], static_cast<ULONG_PTR>(kBuffered));
}

TEST_F(IrpBuild, FreeingAThreadedIrpIsBugCheckC9_02NamingTheDriverLine)
{
    PDEVICE_OBJECT device = target();
    auto free_threaded = symbol<void(PDEVICE_OBJECT, ULONG)>(u"builder_client", "BuilderFreeThreaded");
    ASSERT_NE(free_threaded, nullptr);
    auto stop = catch_bugcheck([&] { free_threaded(device, kBuffered); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x02u);
    EXPECT_THAT(stop->location, HasSubstr("builder_client.c:"));
    EXPECT_THAT(stop->reason, HasSubstr("IoBuildDeviceIoControlRequest"));
}

namespace {
DRIVER_DISPATCH FreeingDispatch;
NTSTATUS FreeingDispatch(PDEVICE_OBJECT, PIRP Irp)
{
    IoFreeIrp(Irp);  // the mistake: this IRP belongs to the I/O manager
    return STATUS_SUCCESS;
}
}  // namespace

TEST_F(IrpBuild, FreeingAnIrpTheDriverDidNotAllocateIsBugCheckC9_02)
{
    target(0, u"\\Device\\StackFreeing");
    UNICODE_STRING link = us(u"\\??\\StackFreeing");
    UNICODE_STRING name = us(u"\\Device\\StackFreeing");
    ASSERT_EQ(IoCreateSymbolicLink(&link, &name), STATUS_SUCCESS);
    enter_app();
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\StackFreeing"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    unit->MajorFunction[IRP_MJ_DEVICE_CONTROL] = FreeingDispatch;
    DWORD n = 0;
    auto stop = catch_bugcheck([&] { DeviceIoControl(h, kBuffered, nullptr, 0, nullptr, 0, &n, nullptr); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_EQ(stop->parameters[0], 0x02u);
    EXPECT_THAT(stop->reason, HasSubstr("the I/O manager built for a system service"));
}

TEST_F(IrpBuild, AnAsynchronousIrpIsFreedByTheDriversCompletionRoutine)
{
    PDEVICE_OBJECT device = target(DO_DIRECT_IO);
    auto async_write = symbol<NTSTATUS(PDEVICE_OBJECT, PVOID, ULONG, BOOLEAN, PBOOLEAN, PULONG_PTR, PBOOLEAN)>(
        u"builder_client", "BuilderAsyncWrite");
    ASSERT_NE(async_write, nullptr);
    g_reply.information = 5;
    char data[] = "bytes";
    BOOLEAN ran = FALSE, had_mdl = FALSE;
    ULONG_PTR information = 0;
    EXPECT_EQ(async_write(device, data, 5, FALSE, &ran, &information, &had_mdl), STATUS_SUCCESS);
    EXPECT_TRUE(ran);
    EXPECT_TRUE(had_mdl) << "DO_DIRECT_IO: the builder described the buffer with an MDL";
    EXPECT_EQ(information, 5u);
    EXPECT_EQ(g_seen.mode, KernelMode);
    EXPECT_TRUE(freed(g_seen.irp));
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(IrpBuild, FreeingAnIrpThatStillHoldsAnMdlIsReported)
{
    PDEVICE_OBJECT device = target(DO_DIRECT_IO);
    auto async_write = symbol<NTSTATUS(PDEVICE_OBJECT, PVOID, ULONG, BOOLEAN, PBOOLEAN, PULONG_PTR, PBOOLEAN)>(
        u"builder_client", "BuilderAsyncWrite");
    char data[] = "bytes";
    BOOLEAN ran = FALSE, had_mdl = FALSE;
    ULONG_PTR information = 0;
    async_write(device, data, 5, TRUE, &ran, &information, &had_mdl);
    ASSERT_TRUE(has_finding("IRP_FREED_WITH_MDL"));
    for (const auto& f : machine.system().findings())
        if (f.code == "IRP_FREED_WITH_MDL")
            EXPECT_THAT(f.location, HasSubstr("builder_client.c:"));
}

TEST_F(IrpBuild, AnAsynchronousIrpNobodyKeptIsFinishedByTheIoManager)
{
    PDEVICE_OBJECT device = target(DO_BUFFERED_IO);
    g_reply.data = "async";
    g_reply.information = 5;
    char out[8] = {};
    IO_STATUS_BLOCK iosb{};
    LARGE_INTEGER offset{};
    PIRP irp = IoBuildAsynchronousFsdRequest(IRP_MJ_READ, device, out, sizeof(out), &offset, &iosb);
    EXPECT_EQ(IoCallDriver(device, irp), STATUS_SUCCESS);
    EXPECT_TRUE(freed(irp));
    EXPECT_EQ(std::string(out), "async");
    EXPECT_EQ(iosb.Information, 5u);
}

TEST_F(IrpBuild, ACompletionRoutineMayKeepAThreadedIrpAndCompleteItAgain)
{
    PDEVICE_OBJECT device = target();
    g_reply.information = 7;
    auto keep = symbol<NTSTATUS(PDEVICE_OBJECT, ULONG, PIO_STATUS_BLOCK, PULONG_PTR, PBOOLEAN)>(
        u"builder_client", "BuilderKeepAndRecomplete");
    ASSERT_NE(keep, nullptr);
    IO_STATUS_BLOCK iosb{};
    ULONG_PTR seen = 0;
    BOOLEAN written_early = TRUE;
    EXPECT_EQ(keep(device, kBuffered, &iosb, &seen, &written_early), STATUS_SUCCESS);
    EXPECT_EQ(seen, 7u);
    EXPECT_FALSE(written_early) << "while a completion routine keeps the IRP, the I/O manager has not finished it";
    EXPECT_EQ(iosb.Status, STATUS_SUCCESS) << "written when the driver completed it again";
    EXPECT_EQ(iosb.Information, 7u);
    EXPECT_TRUE(freed(g_seen.irp));
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(IrpBuild, ReuseMakesAnAllocatedIrpNewAgain)
{
    PDEVICE_OBJECT device = target();
    PIRP irp = IoAllocateIrp(device->StackSize, FALSE);
    UCHAR allocation = irp->AllocationFlags;
    for (int round = 0; round < 2; ++round) {
        PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
        sp->MajorFunction = IRP_MJ_FLUSH_BUFFERS;
        g_seen = Seen{};
        EXPECT_EQ(IoCallDriver(device, irp), STATUS_SUCCESS);
        EXPECT_EQ(g_seen.major, IRP_MJ_FLUSH_BUFFERS) << "round " << round;
        IoReuseIrp(irp, STATUS_NOT_SUPPORTED);
        EXPECT_EQ(irp->IoStatus.Status, STATUS_NOT_SUPPORTED);
        EXPECT_EQ(irp->CurrentLocation, irp->StackCount + 1);
        EXPECT_EQ(irp->AllocationFlags, allocation);
        EXPECT_EQ(IoGetNextIrpStackLocation(irp)->MajorFunction, 0) << "the stack locations are cleared";
    }
    EXPECT_THAT(io::irp_history_lines(irp), Contains(HasSubstr("reused (IoReuseIrp) with status STATUS_NOT_SUPPORTED")));
    IoFreeIrp(irp);
    EXPECT_TRUE(machine.system().findings().empty());
}

namespace {
IO_COMPLETION_ROUTINE KeepOwnIrp;
NTSTATUS KeepOwnIrp(PDEVICE_OBJECT, PIRP, PVOID Context)
{
    *static_cast<bool*>(Context) = true;
    return STATUS_MORE_PROCESSING_REQUIRED;
}
}  // namespace

TEST_F(IrpBuild, InitializeIrpSetsUpAnIrpInTheDriversOwnMemory)
{
    PDEVICE_OBJECT device = target();
    USHORT size = IoSizeOfIrp(device->StackSize);
    auto* irp = static_cast<PIRP>(ExAllocatePoolWithTag(NonPagedPool, size, 'tIrP'));
    std::memset(irp, 0xCC, size);
    IoInitializeIrp(irp, size, device->StackSize);
    EXPECT_EQ(irp->Type, IO_TYPE_IRP);
    EXPECT_EQ(irp->Size, size);
    EXPECT_EQ(irp->StackCount, device->StackSize);
    EXPECT_EQ(irp->CurrentLocation, device->StackSize + 1);
    EXPECT_EQ(irp->Flags, 0u);
    bool kept = false;
    IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_FLUSH_BUFFERS;
    IoSetCompletionRoutine(irp, KeepOwnIrp, &kept, TRUE, TRUE, TRUE);
    EXPECT_EQ(IoCallDriver(device, irp), STATUS_SUCCESS);
    EXPECT_TRUE(kept);
    EXPECT_THAT(io::irp_history_lines(irp), Contains(HasSubstr("initialized by IoInitializeIrp")));

    // IoFreeIrp is for IoAllocateIrp's IRPs only.
    auto stop = catch_bugcheck([&] { IoFreeIrp(irp); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_THAT(stop->reason, HasSubstr("ExFreePool"));
    ExFreePoolWithTag(irp, 'tIrP');
}

TEST_F(IrpBuild, InitializeIrpOnAnAllocatedIrpIsReportedAndReusesIt)
{
    PIRP irp = IoAllocateIrp(2, FALSE);
    IoInitializeIrp(irp, IoSizeOfIrp(2), 2);
    EXPECT_TRUE(has_finding("IRP_INITIALIZED_AFTER_ALLOCATE"));
    EXPECT_TRUE(io::is_live_irp(irp));
    IoFreeIrp(irp);  // still IoAllocateIrp's: freeing it is right
}

TEST_F(IrpBuild, InitializeIrpIntoTooSmallAPacketIsABugCheck)
{
    alignas(16) char memory[sizeof(IRP)] = {};
    auto stop = catch_bugcheck([&] { IoInitializeIrp(reinterpret_cast<PIRP>(memory), sizeof(memory), 2); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(DRIVER_VERIFIER_IOMANAGER_VIOLATION));
    EXPECT_THAT(stop->reason, HasSubstr("IoSizeOfIrp(2)"));
}
