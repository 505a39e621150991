// commands_test.cpp - the command table, errors, !poolused, !timer/!dpcs and the C entry point.
#include <cstring>

#include "inspect_support.h"
#include "wdm_impl.h"

using namespace iosim;
using namespace inspect_test;

namespace {
const char* const kNames = "!drvobj, !devobj, !devstack, !devnode, !irp, !object, !handle, !poolused, !process, !thread, !irql, "
                           "!timer, !dpcs";
}

TEST(InspectCommands, EveryCommandHasAOneLineHelp)
{
    auto commands = inspect::commands();
    std::string names;
    for (const auto& [name, help] : commands) {
        names += (names.empty() ? "" : ", ") + name;
        EXPECT_TRUE(help.starts_with(name)) << help;
        EXPECT_EQ(help.find('\n'), std::string::npos) << help;
    }
    EXPECT_EQ(names, kNames);
}

TEST(InspectCommands, WithoutAMachineEveryCommandSaysSo)
{
    ASSERT_EQ(System::current(), nullptr);
    for (const auto& [name, help] : inspect::commands())
        EXPECT_EQ(fails(name), "no simulated machine is running") << name;
    EXPECT_STREQ(iosim_inspect("!process"), "error: no simulated machine is running\n");
}

TEST(InspectCommands, UnknownCommandsAndEmptyLinesNameTheCommands)
{
    Machine machine{quiet()};
    EXPECT_EQ(fails("!bogus"), std::string("unknown command \"!bogus\": expected one of ") + kNames);
    EXPECT_EQ(fails("   "), std::string("expected a command: one of ") + kNames);
    EXPECT_EQ(fails("!object \"\\BaseNamedObjects"), "unbalanced quotes: expected a closing \"");
    EXPECT_EQ(fails("!irp xyz"), "!irp: expected an IRP address (0x...) or nothing");
    EXPECT_EQ(fails("!irp 0x1 0x2"), "!irp: expected an IRP address (0x...) or nothing");
    EXPECT_EQ(fails("!irp 0x10"), "!irp: 0x0000000000000010 is not an IRP being dispatched (iosim shows the IRPs on "
                                  "threads' driver-call stacks; see !irp without an address)");
    EXPECT_EQ(fails("!poolused Kbuf"), "!poolused: expected no arguments");
    EXPECT_EQ(fails("!process x"), "!process: expected a process id (decimal, or hex with 0x) or nothing");
    EXPECT_EQ(fails("!thread x"), "!thread: expected a thread id (decimal, or hex with 0x) or nothing");
    // The '!' is optional and case does not matter.
    EXPECT_EQ(ok("TIMER"), ok("!timer"));
}

TEST(InspectCommands, TimersAndDpcsSayWhatIsTrue)
{
    Machine machine{quiet()};
    EXPECT_EQ(ok("!timer"), "no timers are set\n");
    EXPECT_EQ(ok("!dpcs"),
              "no DPCs are queued (a queued DPC runs as soon as its CPU's IRQL drops below DISPATCH_LEVEL)\n");
    EXPECT_EQ(fails("!timer 1"), "!timer: expected no arguments");
    EXPECT_EQ(fails("!dpcs 1"), "!dpcs: expected no arguments");
}

namespace {
void InspectTestDeferred(PKDPC, PVOID, PVOID, PVOID) {}
}  // namespace

TEST(InspectCommands, TimerListsASetTimerWithItsDueTimePeriodAndDpc)
{
    Machine machine{quiet()};
    KTIMER timer;
    KDPC dpc;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, InspectTestDeferred, nullptr);
    LARGE_INTEGER due;
    due.QuadPart = -20 * 10'000;  // 20 ms from now
    KeSetTimerEx(&timer, due, 5, &dpc);
    std::string listing = ok("!timer");
    EXPECT_NE(listing.find("1 timer(s) set"), std::string::npos) << listing;
    EXPECT_NE(listing.find("due in 20.000 ms, periodic every 5 ms"), std::string::npos) << listing;
    EXPECT_NE(listing.find("InspectTestDeferred"), std::string::npos) << listing;
    KeCancelTimer(&timer);
    EXPECT_EQ(ok("!timer"), "no timers are set\n");
}

TEST(InspectCommands, DpcsListsAQueuedDpcWithItsCpuAndRoutine)
{
    Machine machine{quiet()};
    KDPC dpc;
    KeInitializeDpc(&dpc, InspectTestDeferred, nullptr);
    KIRQL old = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);  // queued DPCs wait until the IRQL drops
    ASSERT_TRUE(KeInsertQueueDpc(&dpc, nullptr, nullptr));
    std::string listing = ok("!dpcs");
    KeLowerIrql(old);
    EXPECT_NE(listing.find("1 DPC(s) queued:"), std::string::npos) << listing;
    EXPECT_NE(listing.find("InspectTestDeferred"), std::string::npos) << listing;
    EXPECT_EQ(ok("!dpcs"),
              "no DPCs are queued (a queued DPC runs as soon as its CPU's IRQL drops below DISPATCH_LEVEL)\n");
}

TEST(InspectCommands, PoolusedCountsByTagWithTheOwningDriver)
{
    Machine machine{quiet()};
    EXPECT_EQ(ok("!poolused"), "no pool is allocated\n");
    std::string message;
    // kbuffer keeps its 512-byte "disk" in non-paged pool tagged 'Kbuf'.
    ASSERT_EQ(machine.load_driver("kbuffer", "kbuffer.sys", &message), STATUS_SUCCESS) << message;
    const ULONG test_tag = 0x74736554;  // 'tseT': "Test" in a listing
    void* a = ExAllocatePoolWithTag(PagedPool, 100, test_tag);
    void* b = ExAllocatePoolWithTag(PagedPool, 28, test_tag);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(ok("!poolused"), "Tag   Type      Allocs     Bytes  Owner\n"
                               "Kbuf  NonPaged       1       512  kbuffer.sys\n"
                               "Test  Paged          2       128  -\n"
                               "Total: 3 allocation(s), 640 bytes (NonPaged 512, Paged 128)\n");
    ExFreePoolWithTag(a, test_tag);
    ExFreePoolWithTag(b, test_tag);
    EXPECT_EQ(ok("!poolused"), "Tag   Type      Allocs     Bytes  Owner\n"
                               "Kbuf  NonPaged       1       512  kbuffer.sys\n"
                               "Total: 1 allocation(s), 512 bytes (NonPaged 512, Paged 0)\n");
}

TEST(InspectCommands, TheCEntryPointReturnsTheTextOrAnError)
{
    Machine machine{quiet()};
    std::string expected = ok("!object \\Driver");
    const char* text = iosim_inspect("!object \\Driver");
    EXPECT_EQ(std::string(text), expected);
    EXPECT_STREQ(iosim_inspect("!nope"), (std::string("error: unknown command \"!nope\": expected one of ") + kNames + "\n").c_str());
    EXPECT_STREQ(iosim_inspect(nullptr), "error: expected a command line\n");
}
