// virt2phys_test.cpp - the VirtToPhys sample (seed 001): physical addresses of an app's pages.
//
// The driver prints each translation while it makes it; the tests check, at that moment
// (the app's process is alive and current), that the physical address is the frame the
// memory manager gave that page, that the app prints the same numbers, that neighbouring
// virtual pages are not all neighbouring frames, that a second run prints the same, and
// that the same question asked from another process gets no translation.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <regex>

#include "support/sanitizer.h"
#include "samples_support.h"
#include "virt2phys/virt2phys_public.h"
#include "winioctl.h"

using namespace iosim;
using samples::Hex;
using samples::Ptr;

namespace {

struct Translation {
    uint64_t virtual_address = 0;
    uint64_t physical_address = 0;  // what the driver answered
    uint64_t frame_address = 0;     // what the memory manager says: pfn << 12 | offset
    mm::Region region = mm::Region::Unknown;
    std::string owner;              // image name of the owning process
    std::string purpose;            // the VAD's purpose
};

// Runs virt2phys_client.exe on a fresh machine and checks every translation as it happens.
struct ClientRun {
    Machine::AppResult result;
    std::vector<Translation> translations;
    std::vector<std::string> debug;
};

ClientRun RunClient()
{
    ClientRun run;
    samples::Rig rig;
    std::regex page_line(R"(virt2phys: page \d+: virtual ([0-9A-F]+) -> physical ([0-9A-F]+))");
    rig.on_debug = [&](const std::string& text) {
        std::smatch m;
        if (!std::regex_search(text, m, page_line))
            return;
        Translation t;
        t.virtual_address = Hex(m[1]);
        t.physical_address = Hex(m[2]);
        mm::AddressInfo info = rig.memory().classify(Ptr(t.virtual_address));
        if (auto pfn = rig.memory().pfn_of(Ptr(t.virtual_address)))
            t.frame_address = (*pfn << mm::kPageShift) | (t.virtual_address & (mm::kPageSize - 1));
        t.region = info.region;
        t.owner = info.owner != nullptr ? info.owner->image_name() : "";
        t.purpose = info.page.vad.purpose;
        run.translations.push_back(t);
    };
    EXPECT_EQ(rig.machine.load_driver("virt2phys", "virt2phys.sys"), STATUS_SUCCESS);
    run.result = rig.machine.run_app("virt2phys_client.exe");
    EXPECT_EQ(rig.machine.unload_driver("virt2phys"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.Findings();
    run.debug = rig.debug;
    return run;
}

// Number of pages whose frame directly follows the previous page's frame.
int PhysicallyConsecutive(const std::vector<Translation>& pages)
{
    int n = 0;
    for (size_t i = 1; i < pages.size(); ++i)
        n += (pages[i].physical_address & ~uint64_t{0xFFF}) == (pages[i - 1].physical_address & ~uint64_t{0xFFF}) + 0x1000;
    return n;
}

}  // namespace

TEST(Virt2PhysSample, EachPhysicalAddressIsTheFrameTheMemoryManagerGaveThatPage)
{
    ClientRun run = RunClient();
    ASSERT_TRUE(run.result.started) << run.result.error;
    ASSERT_EQ(run.result.exit_code, 0) << run.result.output;
    ASSERT_EQ(run.translations.size(), 8u) << "4 VirtualAlloc pages, then a 3-page stack array spanning 4";
    for (size_t i = 0; i < run.translations.size(); ++i) {
        const Translation& t = run.translations[i];
        SCOPED_TRACE(fmt::format("page {} at {:016X}", i, t.virtual_address));
        EXPECT_NE(t.frame_address, 0u) << "the page has a frame";
        EXPECT_EQ(t.physical_address, t.frame_address) << "MmGetPhysicalAddress = pfn << 12 | byte offset";
        EXPECT_EQ(t.region, mm::Region::User);
        EXPECT_EQ(t.owner, "virt2phys_client.exe") << "the app's own memory";
        EXPECT_EQ(t.purpose, i < 4 ? "VirtualAlloc" : "stack");
        // The app prints the same pair.
        EXPECT_NE(run.result.output.find(
                      fmt::format("virtual {:016X}  physical {:016X}", t.virtual_address, t.physical_address)),
                  std::string::npos)
            << run.result.output;
    }
    // The stack array does not start on a page boundary: the offset shows in both addresses.
    EXPECT_NE(run.translations[4].virtual_address & 0xFFF, 0u);
    EXPECT_EQ(run.translations[4].physical_address & 0xFFF, run.translations[4].virtual_address & 0xFFF);
}

TEST(Virt2PhysSample, NeighbouringVirtualPagesAreNotAllNeighbouringFrames)
{
    ClientRun run = RunClient();
    ASSERT_EQ(run.translations.size(), 8u) << run.result.output;
    std::vector<Translation> region(run.translations.begin(), run.translations.begin() + 4);
    std::vector<Translation> stack(run.translations.begin() + 4, run.translations.end());
    for (size_t i = 1; i < 4; ++i)
        EXPECT_EQ(region[i].virtual_address, region[i - 1].virtual_address + 0x1000) << "one virtual block";
    int region_consecutive = PhysicallyConsecutive(region);
    int stack_consecutive = PhysicallyConsecutive(stack);
    EXPECT_LT(region_consecutive, 3) << "four virtual pages are not four consecutive frames";
    EXPECT_LT(stack_consecutive, 3);
    // The app's verdicts agree with the numbers.
    EXPECT_NE(run.result.output.find(fmt::format("  {} of 3 neighbouring pages are neighbours in physical memory too",
                                                 region_consecutive)),
              std::string::npos)
        << run.result.output;
    EXPECT_NE(run.result.output.find("does not follow page"), std::string::npos) << run.result.output;
}

TEST(Virt2PhysSample, ASecondRunPrintsExactlyTheSame)
{
    IOSIM_SKIP_UNDER_TSAN_LAYOUT();
    ClientRun first = RunClient();
    ClientRun second = RunClient();
    ASSERT_FALSE(first.result.output.empty());
    EXPECT_EQ(first.result.output, second.result.output) << "addresses and frames are deterministic";
    EXPECT_EQ(first.debug, second.debug);
}

// MmGetPhysicalAddress translates through the current process's page tables: another
// process's address has no translation there.
TEST(Virt2PhysSample, AnotherProcesssAddressHasNoTranslationInTheRequestersContext)
{
    samples::Rig rig;
    ASSERT_EQ(rig.machine.load_driver("virt2phys", "virt2phys.sys"), STATUS_SUCCESS);
    e2e::Win32Process owner(rig.machine, "owner.exe");
    e2e::Win32Process other(rig.machine, "other.exe");
    char* buffer = owner.Run([] {
        auto* p = static_cast<char*>(VirtualAlloc(nullptr, 2 * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
        p[0] = 1;
        p[4096] = 2;
        return p;
    });
    ASSERT_NE(buffer, nullptr);
    auto query = [&](std::vector<VIRT2PHYS_PAGE>& pages) {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\IosimVirtToPhys", GENERIC_READ | GENERIC_WRITE);
        EXPECT_NE(h, INVALID_HANDLE_VALUE);
        VIRT2PHYS_REQUEST request{reinterpret_cast<ULONG_PTR>(buffer), 2 * 4096, 0};
        pages.assign(2, VIRT2PHYS_PAGE{});
        DWORD returned = 0;
        BOOL ok = DeviceIoControl(h, IOCTL_VIRT2PHYS_QUERY, &request, sizeof(request), pages.data(),
                                  static_cast<DWORD>(pages.size() * sizeof(VIRT2PHYS_PAGE)), &returned, nullptr);
        EXPECT_TRUE(ok) << GetLastError();
        EXPECT_EQ(returned, 2 * sizeof(VIRT2PHYS_PAGE));
        CloseHandle(h);
    };
    std::vector<VIRT2PHYS_PAGE> mine, theirs;
    owner.Run([&] { query(mine); });
    other.Run([&] { query(theirs); });
    for (int i = 0; i < 2; ++i) {
        auto pfn = owner.process()->memory->space->pfn_of(buffer + i * 4096);
        ASSERT_TRUE(pfn.has_value());
        EXPECT_EQ(mine[i].PhysicalAddress, *pfn << 12) << "in the owner's context: its frame";
        EXPECT_EQ(theirs[i].VirtualAddress, mine[i].VirtualAddress);
        EXPECT_EQ(theirs[i].PhysicalAddress, 0u) << "in another process's context: no translation";
    }
    owner.End();
    other.End();
    EXPECT_EQ(rig.machine.unload_driver("virt2phys"), STATUS_SUCCESS);
}
