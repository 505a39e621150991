// mdl_reports_test.cpp - MDLs left locked or mapped: at completion (documented cleanup, and
// what it cannot clean), at process exit (PROCESS_HAS_LOCKED_PAGES, 0x76), at unload
// (findings naming the driver line), and !irp's view of an IRP's MDL.
#include "inspect/inspect.h"
#include "mdl_test_support.h"

using namespace mdl_test;

namespace {

std::string Where(const char* marker) { return "mdl_probe.c:" + std::to_string(SourceLine(marker)); }

}  // namespace

TEST(MdlAtCompletion, TheIoManagersMdlIsUnlockedUnmappedAndFreed)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(ReadFile(h, buffer, 64, &bytes, nullptr));
        CloseHandle(h);
    });
    const MDL_OBSERVATION& seen = rig.seen();
    EXPECT_FALSE(rig.system().pool().block_at(seen.MdlAddress).has_value()) << "the MDL went back to the pool";
    EXPECT_EQ(rig.memory().physical().refs(rig.FrameOf(buffer)), 1u);
    EXPECT_FALSE(rig.memory().system_space().lookup(seen.SystemAddress).reserved);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(MdlAtCompletion, ADriverMdlChainedAsASecondaryBufferIsFreedWithoutComplaint)
{
    // "When the IRP is completed, the system unlocks and frees all the MDLs that are
    // associated with the IRP" (Using MDLs).
    MdlRig rig;
    char* input = rig.Pages(1);
    char* output = rig.Pages(1);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_SECONDARY, input, 32, output, 32, &bytes, nullptr));
        CloseHandle(h);
    });
    ASSERT_NE(rig.seen().UserView, nullptr);  // the driver's chained MDL
    EXPECT_FALSE(rig.system().pool().block_at(rig.seen().UserView).has_value());
    EXPECT_EQ(rig.memory().physical().refs(rig.FrameOf(output)), 1u);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(MdlAtCompletion, ReplacingTheIoManagersMdlIsReportedAndTheUsersPagesAreReleased)
{
    MdlRig rig;
    char* input = rig.Pages(1);
    char* output = rig.Pages(1);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_REPLACE, input, 32, output, 32, &bytes, nullptr));
        CloseHandle(h);
    });
    const Finding* finding = rig.FindingOf("IRP_MDL_REPLACED");
    ASSERT_NE(finding, nullptr) << rig.FindingsDump();
    EXPECT_NE(finding->location.find(Where("MARK: replace")), std::string::npos) << finding->location;
    EXPECT_NE(finding->message.find("SecondaryBuffer TRUE"), std::string::npos);
    EXPECT_EQ(rig.memory().physical().refs(rig.FrameOf(output)), 1u) << "the caller's page is not left locked";
}

TEST(MdlAtCompletion, AUserModeMappingLeftInPlaceIsReported)
{
    MdlRig rig;
    char* output = rig.Pages(1);
    rig.In([&] {
        std::strcpy(output, "window");
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_MAP_TO_USER_AND_LEAVE, nullptr, 0, output, 64, &bytes, nullptr));
        CloseHandle(h);
        ASSERT_NE(rig.seen().UserView, nullptr);
        EXPECT_NE(rig.seen().UserView, static_cast<void*>(output));
        EXPECT_STREQ(static_cast<char*>(rig.seen().UserView), "window") << "a second view of the same page";
    });
    const Finding* finding = rig.FindingOf("MDL_USER_MAPPING_AT_COMPLETION");
    ASSERT_NE(finding, nullptr) << rig.FindingsDump();
    EXPECT_NE(finding->location.find(Where("MARK: user view left")), std::string::npos) << finding->location;
    EXPECT_NE(finding->message.find("MmUnmapLockedPages"), std::string::npos);
}

TEST(MdlAtExit, AProcessExitingWithPagesADriverLockedBugChecksProcessHasLockedPages)
{
    MdlRig rig;
    char* buffer = rig.Pages(2);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_KEEP_LOCKED, nullptr, 0, buffer, 8192, &bytes, nullptr));
        CloseHandle(h);
    });
    try {
        rig.machine.end_process(rig.app);
        FAIL() << "no bug check";
    } catch (const BugCheck& stop) {
        rig.ended = true;
        const BugCheckInfo& info = stop.info();
        EXPECT_EQ(info.code, 0x76u);
        EXPECT_EQ(info.name, "PROCESS_HAS_LOCKED_PAGES");
        EXPECT_EQ(info.parameters[0], 0u) << "0: the process being terminated has locked pages";
        EXPECT_EQ(info.parameters[1], reinterpret_cast<ULONG_PTR>(rig.app));
        EXPECT_EQ(info.parameters[2], 2u) << "two pages locked";
        EXPECT_NE(info.location.find(Where("MARK: kept locked")), std::string::npos) << info.report;
    }
}

TEST(MdlAtExit, PagesUnlockedBeforeExitLetTheProcessGo)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_KEEP_LOCKED, nullptr, 0, buffer, 100, &bytes, nullptr));
        EXPECT_EQ(rig.memory().physical().refs(rig.FrameOf(buffer)), 2u);
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_RELEASE_KEPT, nullptr, 0, nullptr, 0, &bytes, nullptr));
        EXPECT_EQ(rig.memory().physical().refs(rig.FrameOf(buffer)), 1u);
        CloseHandle(h);
    });
    EXPECT_NO_THROW(rig.machine.end_process(rig.app));
    rig.ended = true;
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(MdlAtExit, UnlockingAnMdlThatIsNotLockedBugChecksWithParameterOne)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    try {
        rig.In([&] {
            HANDLE h = MdlRig::Open(kDirect);
            DWORD bytes = 0;
            DeviceIoControl(h, IOCTL_MDL_UNLOCK_TWICE, nullptr, 0, buffer, 64, &bytes, nullptr);
        });
        FAIL() << "no bug check";
    } catch (const BugCheck& stop) {
        rig.ended = true;
        EXPECT_EQ(stop.info().code, 0x76u);
        EXPECT_EQ(stop.info().parameters[0], 1u) << "1: unlocking pages that are not locked";
        EXPECT_NE(stop.info().location.find(Where("MARK: second unlock")), std::string::npos) << stop.info().report;
    }
}

TEST(MdlAtUnload, AnMdlTheDriverNeverFreedIsReportedWithTheAllocatingLine)
{
    MdlRig rig;
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        char input[16] = {};
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_LEAK, input, 16, nullptr, 0, &bytes, nullptr));
        CloseHandle(h);
    });
    ASSERT_EQ(rig.machine.unload_driver("mdl_probe"), STATUS_SUCCESS);
    const Finding* finding = rig.FindingOf("MDL_LEAK");
    ASSERT_NE(finding, nullptr) << rig.FindingsDump();
    EXPECT_NE(finding->location.find(Where("MARK: leaked MDL")), std::string::npos) << finding->location;
    EXPECT_NE(finding->message.find("After DriverUnload, \\Driver\\mdl_probe never freed the MDL"), std::string::npos)
        << finding->message;
    EXPECT_NE(finding->message.find("16 bytes"), std::string::npos) << finding->message;
}

TEST(MdlAtUnload, AnMdlStillLockedIsReportedAndTheProcessExitThenBugChecks)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_KEEP_LOCKED, nullptr, 0, buffer, 64, &bytes, nullptr));
        CloseHandle(h);
    });
    ASSERT_EQ(rig.machine.unload_driver("mdl_probe"), STATUS_SUCCESS);
    const Finding* finding = rig.FindingOf("MDL_LEAK");
    ASSERT_NE(finding, nullptr) << rig.FindingsDump();
    EXPECT_NE(finding->message.find("still locked"), std::string::npos) << finding->message;
    // The pages stay locked, as on Windows: the process cannot exit cleanly.
    try {
        rig.machine.end_process(rig.app);
        FAIL() << "no bug check";
    } catch (const BugCheck& stop) {
        rig.ended = true;
        EXPECT_EQ(stop.info().code, 0x76u);
        EXPECT_NE(stop.info().reason.find(Where("MARK: kept locked")), std::string::npos)
            << "the line, kept from before the unload: " << stop.info().report;
    }
}

TEST(MdlAtCompletion, IoFreeMdlTwiceIsADoubleFreeOfPool)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    PMDL mdl = IoAllocateMdl(buffer, 10, FALSE, FALSE, nullptr);
    IoFreeMdl(mdl);
    try {
        IoFreeMdl(mdl);
        FAIL() << "no bug check";
    } catch (const BugCheck& stop) {
        rig.ended = true;
        EXPECT_EQ(stop.info().name, "BAD_POOL_CALLER");
    }
}

TEST(IrpInspection, BangIrpShowsTheMdlItsFlagsFramesAndSystemAddress)
{
    MdlRig rig;
    char* buffer = rig.Pages(1) + 0x40;
    std::string seen_text;
    rig.system().trace().set_listener([&](const trace::Event& event) {
        if (event.kind == trace::Kind::Irp && event.info.phase == trace::IrpPhase::Completed &&
            event.info.major == IRP_MJ_READ) {
            std::string error;
            EXPECT_TRUE(inspect::run("!irp", seen_text, error)) << error;
        }
    });
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        DWORD bytes = 0;
        ASSERT_TRUE(ReadFile(h, buffer, 32, &bytes, nullptr));
        CloseHandle(h);
    });
    rig.system().trace().set_listener(nullptr);
    const MDL_OBSERVATION& seen = rig.seen();
    auto hex = [](const void* p) {
        char text[32];
        std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(Addr(p)));
        return std::string(text);
    };
    EXPECT_NE(seen_text.find("MDL " + hex(seen.MdlAddress) + ": VirtualAddress " + hex(buffer) +
                             ", ByteCount 32, ByteOffset 64"),
              std::string::npos)
        << seen_text;
    EXPECT_NE(seen_text.find("MdlFlags: 0x008b (MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED | MDL_ALLOCATED_FIXED_SIZE | "
                             "MDL_WRITE_OPERATION)"),
              std::string::npos)
        << seen_text;
    char pfn[32];
    std::snprintf(pfn, sizeof pfn, "PFNs: 0x%llx", static_cast<unsigned long long>(seen.Pfns[0]));
    EXPECT_NE(seen_text.find(pfn), std::string::npos) << seen_text;
    EXPECT_NE(seen_text.find("System address: " + hex(seen.SystemAddress) + " (a second mapping of the same frames)"),
              std::string::npos)
        << seen_text;
    EXPECT_NE(seen_text.find("Process: " + std::to_string(rig.app->pid()) + " (mdl_app.exe)"), std::string::npos)
        << seen_text;
}
