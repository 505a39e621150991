// irp_test.cpp - !irp, !thread, !handle, !process and !irql while requests are in flight.
//
// A trace listener runs inside the request: the "Completed" event is recorded by
// IoCompleteRequest, called from the driver's dispatch routine, so the IRP is then on the
// app thread's driver-call stack. (The "Dispatched" event comes just before the dispatch
// routine is entered, when the IRP is not on that stack yet.)
#include <fmt/format.h>

#include "../../drivers/ioctl_buffered/ioctl_buffered_public.h"
#include "driver.h"
#include "inspect_support.h"
#include "wdm_impl.h"
#include "windows.h"
#include "winioctl.h"

using namespace iosim;
using namespace inspect_test;

namespace {

class InFlight : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string message;
        ASSERT_EQ(machine.load_driver("hello", "hello.sys", &message), STATUS_SUCCESS) << message;
        ASSERT_EQ(machine.load_driver("ioctl_buffered", "ioctl_buffered.sys", &message), STATUS_SUCCESS) << message;
        app = machine.create_process("inspect_app.exe");
    }
    void TearDown() override
    {
        machine.system().trace().set_listener(nullptr);
        machine.end_process(app);
    }

    // Runs `command` whenever an IRP of `major` is completed; collects the outputs.
    void inspect_on_completion(UCHAR major, std::vector<std::string> commands)
    {
        machine.system().trace().set_listener([this, major, commands](const trace::Event& event) {
            if (event.kind != trace::Kind::Irp || event.info.phase != trace::IrpPhase::Completed || event.info.major != major)
                return;
            for (const std::string& command : commands)
                seen.push_back(ok(command));
        });
    }

    HANDLE open(const char16_t* name, DWORD access = GENERIC_READ)
    {
        return CreateFileW(reinterpret_cast<LPCWSTR>(name), access, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    }

    Machine machine{quiet(/*trace=*/true)};
    Process* app = nullptr;
    std::vector<std::string> seen;
};

}  // namespace

TEST_F(InFlight, IrpInsideADispatchRoutineShowsTheCurrentStackLocationAndHistory)
{
    ThreadSwitch in(machine.system().main_thread(app));
    uint32_t tid = machine.system().main_thread(app)->tid();
    inspect_on_completion(IRP_MJ_CREATE, {"!irp"});
    HANDLE h = open(u"\\\\.\\IosimHello");
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    machine.system().trace().set_listener(nullptr);
    ASSERT_EQ(seen.size(), 1u);
    const std::string& out = seen[0];

    auto lines = lines_of(out);
    ASSERT_GE(lines.size(), 3u) << out;
    EXPECT_EQ(lines[0], fmt::format("Thread {}, tid {} of process {} (inspect_app.exe), is inside:",
                                    address_after(out, "Thread "), tid, app->pid()));
    EXPECT_TRUE(lines[1].starts_with("  dispatch 0x") && lines[1].ends_with("  hello!HelloCreateClose")) << lines[1];
    EXPECT_TRUE(lines[2].starts_with("Irp is active with 1 stacks 1 is current (= 0x")) << lines[2];
    EXPECT_NE(line_with(out, "IRP#").find(", built by the I/O manager for a system service; IoCompleteRequest has been called"),
              std::string::npos)
        << out;
    EXPECT_TRUE(has_line(out, "  Flags: 0x00000084 (IRP_SYNCHRONOUS_API | IRP_CREATE_OPERATION)")) << out;
    EXPECT_TRUE(has_line(out, "  IoStatus: Status STATUS_SUCCESS (0x00000000), Information 0"));
    EXPECT_TRUE(has_line(out, "  RequestorMode: UserMode  PendingReturned: FALSE  Cancel: FALSE  CancelRoutine: 00000000"));
    EXPECT_TRUE(line_with(out, "  Thread: 0x").ends_with(fmt::format(", tid {} of process {} (inspect_app.exe)", tid, app->pid())));
    EXPECT_TRUE(has_line(out, ">[1] IRP_MJ_CREATE (0x00), minor 0x00")) << out;
    EXPECT_TRUE(has_line(out, "      Flags: 0x00000000 (none)  Control: 0x00000000 (none)"));
    EXPECT_TRUE(line_with(out, "      Device: 0x").ends_with(" \\Device\\IosimHello [\\Driver\\hello]")) << out;
    EXPECT_TRUE(line_with(out, "      File: 0x").ends_with(" \\Device\\IosimHello")) << out;
    EXPECT_TRUE(has_line(out, "      Completion: none"));
    EXPECT_TRUE(has_line(out, "History:"));
    EXPECT_TRUE(line_with(out, " allocated with 1 stack location(s)").starts_with("  IRP#"));
    EXPECT_NE(line_with(out, " IRP_MJ_CREATE sent to \\Device\\IosimHello at stack location 1 by the I/O manager"), "");
    EXPECT_NE(line_with(out, " completed with STATUS_SUCCESS (0x00000000), Information 0 at hello.cpp:"), "");

    // After the request, nothing is being dispatched, and the old address is refused unread.
    std::string irp_address = address_after(line_with(out, "IRP#"), " at ");
    EXPECT_EQ(ok("!irp"), "no IRP is being dispatched\n");
    EXPECT_EQ(fails("!irp " + irp_address),
              "!irp: " + irp_address +
                  " is not an IRP being dispatched (iosim shows the IRPs on threads' driver-call stacks; see !irp without "
                  "an address)");
    CloseHandle(h);
}

TEST_F(InFlight, IrpByAddressDecodesABufferedDeviceIoControl)
{
    ThreadSwitch in(machine.system().main_thread(app));
    HANDLE h = open(u"\\\\.\\IosimIoctl", GENERIC_READ | GENERIC_WRITE);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    std::string by_address;
    machine.system().trace().set_listener([&](const trace::Event& event) {
        if (event.kind != trace::Kind::Irp || event.info.phase != trace::IrpPhase::Completed ||
            event.info.major != IRP_MJ_DEVICE_CONTROL)
            return;
        std::string all = ok("!irp");
        std::string address = address_after(line_with(all, "IRP#"), " at ");
        by_address = ok("!irp " + address);
        // The address form prints the IRP alone, exactly as in the list.
        EXPECT_NE(all.find(by_address), std::string::npos);
    });
    char in_buffer[] = "hello";
    char out_buffer[64] = {};
    DWORD returned = 0;
    ASSERT_TRUE(DeviceIoControl(h, IOCTL_IOSIM_ECHO, in_buffer, 5, out_buffer, sizeof(out_buffer), &returned, nullptr));
    machine.system().trace().set_listener(nullptr);
    ASSERT_FALSE(by_address.empty());
    EXPECT_TRUE(by_address.starts_with("Irp is active with 1 stacks 1 is current")) << by_address;
    EXPECT_NE(line_with(by_address, "  Flags: 0x").find("IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION"),
              std::string::npos)
        << by_address;
    EXPECT_FALSE(line_with(by_address, "  SystemBuffer: 0x").starts_with("  SystemBuffer: 0x0000000000000000")) << by_address;
    EXPECT_TRUE(has_line(by_address, ">[1] IRP_MJ_DEVICE_CONTROL (0x0e), minor 0x00")) << by_address;
    EXPECT_TRUE(has_line(by_address,
                         "      DeviceIoControl: IoControlCode 0x00222000 (DeviceType 0x22, Function 0x800, METHOD_BUFFERED, "
                         "FILE_ANY_ACCESS), InputBufferLength 5, OutputBufferLength 64, Type3InputBuffer " +
                             address_after(line_with(by_address, "Type3InputBuffer "), "Type3InputBuffer ")))
        << by_address;
    CloseHandle(h);
}

TEST_F(InFlight, ThreadShowsTheDriverRoutineItIsInside)
{
    Thread* thread = machine.system().main_thread(app);
    ThreadSwitch in(thread);
    inspect_on_completion(IRP_MJ_CREATE, {"!thread", fmt::format("!thread {}", thread->tid())});
    HANDLE h = open(u"\\\\.\\IosimHello");
    machine.system().trace().set_listener(nullptr);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], seen[1]);
    auto lines = lines_of(seen[0]);
    ASSERT_EQ(lines.size(), 5u) << seen[0];
    EXPECT_TRUE(lines[0].starts_with("THREAD 0x"));
    EXPECT_TRUE(lines[0].ends_with(fmt::format("  tid {} of process {} (inspect_app.exe)  (current)", thread->tid(), app->pid())));
    EXPECT_EQ(lines[1], "    IRQL: 0 (PASSIVE_LEVEL)");
    EXPECT_EQ(lines[2], "    LastError: 0 (ERROR_SUCCESS)");
    EXPECT_EQ(lines[3], "    Inside driver routines (outermost first):");
    EXPECT_TRUE(lines[4].starts_with("      dispatch  0x")) << lines[4];
    EXPECT_NE(lines[4].find("  hello!HelloCreateClose  IRP#"), std::string::npos) << lines[4];

    std::string after = ok("!thread");
    EXPECT_TRUE(has_line(after, "    Not inside any driver routine")) << after;
    CloseHandle(h);
}

TEST_F(InFlight, HandleListsAProcesssOpenDevice)
{
    ThreadSwitch in(machine.system().main_thread(app));
    HANDLE h = open(u"\\\\.\\IosimHello");
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    std::string out = ok(fmt::format("!handle {}", app->pid()));
    auto lines = lines_of(out);
    ASSERT_EQ(lines.size(), 3u) << out;
    EXPECT_TRUE(lines[0].starts_with("PROCESS 0x"));
    EXPECT_TRUE(lines[0].ends_with(fmt::format("  pid {}  Image: inspect_app.exe  HandleCount: 1", app->pid())));
    EXPECT_EQ(lines[1].substr(0, 14), fmt::format("{:04x}: Object: ", reinterpret_cast<uintptr_t>(h)));
    EXPECT_TRUE(lines[1].ends_with("  GrantedAccess: 0x00120089 (FILE_GENERIC_READ)")) << lines[1];
    EXPECT_EQ(lines[2], "      Type: File  Name: \\Device\\IosimHello");
    EXPECT_EQ(ok(fmt::format("!handle 0x{:x}", app->pid())), out);
    // Without a pid, every process: the System process has no handles.
    std::string all = ok("!handle");
    EXPECT_NE(all.find(out), std::string::npos);
    EXPECT_TRUE(has_line(all, "  (no handles)"));
    CloseHandle(h);
    EXPECT_TRUE(has_line(ok(fmt::format("!handle {}", app->pid())), "  (no handles)"));
    EXPECT_EQ(fails("!handle 999"), "!handle: no process with pid 999 (see !process)");
    EXPECT_EQ(fails("!handle abc"), "!handle: expected a process id (decimal, or hex with 0x) or nothing");
}

TEST_F(InFlight, ProcessListsProcessesWithHandlesAndThreads)
{
    Thread* thread = machine.system().main_thread(app);
    ThreadSwitch in(thread);
    HANDLE h = open(u"\\\\.\\IosimHello");
    std::string out = ok(fmt::format("!process {}", app->pid()));
    auto lines = lines_of(out);
    ASSERT_EQ(lines.size(), 3u) << out;
    EXPECT_TRUE(lines[0].starts_with("PROCESS 0x"));
    EXPECT_TRUE(lines[0].ends_with(fmt::format("  pid {}  Image: inspect_app.exe  (current)", app->pid())));
    EXPECT_EQ(lines[1], "    HandleCount: 1");
    EXPECT_EQ(lines[2], fmt::format("    Threads: {}", thread->tid()));
    std::string all = ok("!process");
    EXPECT_NE(all.find("  pid 4  Image: System\n    HandleCount: 0\n    Threads: "), std::string::npos) << all;
    EXPECT_NE(all.find(out), std::string::npos);
    EXPECT_EQ(fails("!process 1000"), "!process: no process with pid 1000");
    EXPECT_EQ(fails("!thread 1000"), "!thread: no thread with tid 1000");
    CloseHandle(h);
}

TEST_F(InFlight, IrqlIsTheCurrentThreads)
{
    Thread* thread = machine.system().main_thread(app);
    ThreadSwitch in(thread);
    std::string who = fmt::format("(thread tid {} of process {} (inspect_app.exe))", thread->tid(), app->pid());
    EXPECT_EQ(ok("!irql"), "Current IRQL -- 0 (PASSIVE_LEVEL)  " + who + "\n");
    thread->irql = DISPATCH_LEVEL;
    EXPECT_EQ(ok("!irql"), "Current IRQL -- 2 (DISPATCH_LEVEL)  " + who + "\n");
    thread->irql = PASSIVE_LEVEL;
    EXPECT_EQ(fails("!irql 0"), "!irql: expected no arguments (IRQL is per simulated thread; there are no processor numbers)");
}

namespace {

std::vector<std::string>* g_in_completion = nullptr;

// A requester's completion routine that frees its IRP (as drivers do with their own
// IRPs) and then inspects: the frames still name the IRP, which is no longer live.
NTSTATUS free_and_inspect(PDEVICE_OBJECT, PIRP irp, PVOID)
{
    IoFreeIrp(irp);
    g_in_completion->push_back(ok("!irp"));
    g_in_completion->push_back(ok("!thread"));
    return STATUS_MORE_PROCESSING_REQUIRED;
}

}  // namespace

TEST_F(InFlight, ADriversOwnIrpShowsItsCompletionRoutineAndIsNotReadAfterItIsFreed)
{
    DEVICE_OBJECT* device = io::find_driver(u"hello")->DeviceObject;
    PIRP irp = IoAllocateIrp(device->StackSize, FALSE);
    ASSERT_NE(irp, nullptr);
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    next->MajorFunction = IRP_MJ_CLEANUP;
    int context = 0;
    IoSetCompletionRoutine(irp, free_and_inspect, &context, TRUE, TRUE, TRUE);
    inspect_on_completion(IRP_MJ_CLEANUP, {"!irp"});
    std::vector<std::string> in_completion;
    g_in_completion = &in_completion;
    EXPECT_EQ(IoCallDriver(device, irp), STATUS_SUCCESS);
    g_in_completion = nullptr;
    machine.system().trace().set_listener(nullptr);

    // Inside HelloCleanup's IoCompleteRequest: the requester's completion routine is set.
    ASSERT_EQ(seen.size(), 1u);
    const std::string& out = seen[0];
    EXPECT_NE(line_with(out, "IRP#").find(", allocated by a driver (IoAllocateIrp); IoCompleteRequest has been called"),
              std::string::npos)
        << out;
    EXPECT_TRUE(has_line(out, ">[1] IRP_MJ_CLEANUP (0x12), minor 0x00")) << out;
    EXPECT_TRUE(has_line(out, "      Flags: 0x00000000 (none)  Control: 0x000000e0 (SL_INVOKE_ON_CANCEL | "
                              "SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR)"))
        << out;
    std::string completion = line_with(out, "      Completion: 0x");
    EXPECT_NE(completion.find("free_and_inspect, Context " + fmt::format("0x{:016x}", reinterpret_cast<uintptr_t>(&context))),
              std::string::npos)
        << completion;
    EXPECT_TRUE(has_line(out, "      File: none"));
    EXPECT_TRUE(has_line(out, "  Thread: none"));

    // In the completion routine, after IoFreeIrp: two frames still name the IRP; it is
    // recognised as freed and not shown.
    ASSERT_EQ(in_completion.size(), 2u);
    EXPECT_EQ(in_completion[0], "no IRP is being dispatched\n");
    auto lines = lines_of(in_completion[1]);
    ASSERT_EQ(lines.size(), 6u) << in_completion[1];
    EXPECT_TRUE(lines[4].starts_with("      dispatch  0x") && lines[4].ends_with(" (no longer live)")) << lines[4];
    EXPECT_NE(lines[4].find("hello!HelloCleanup  IRP 0x"), std::string::npos) << lines[4];
    EXPECT_TRUE(lines[5].starts_with("      completion routine  0x") && lines[5].ends_with(" (no longer live)")) << lines[5];
}
