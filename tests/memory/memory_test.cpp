// memory_test.cpp - the memory manager: frames, address spaces, hiding, attaching, app memory.
#include <gtest/gtest.h>

#include <cstring>
#include <regex>
#include <set>

#include "machine.h"
#include "mm/memory_manager.h"
#include "wdm_impl.h"

using namespace iosim;

namespace {

struct Memory : ::testing::Test {
    Machine machine;
    mm::MemoryManager& mm() { return machine.system().memory(); }
    Thread* main_of(Process* p) { return machine.system().main_thread(p); }
};

std::string line_of(const std::string& output, const std::string& key)
{
    size_t at = output.find(key + " ");
    if (at == std::string::npos)
        return {};
    return output.substr(at, output.find('\n', at) - at);
}

}  // namespace

TEST_F(Memory, ContiguousVirtualPagesLandOnScatteredFrames)
{
    Process* app = machine.create_process("app.exe");
    ThreadSwitch in_app(main_of(app));
    auto* base = static_cast<char*>(app->memory->space->allocate(8, "VirtualAlloc"));
    ASSERT_NE(base, nullptr);
    std::set<mm::Pfn> frames;
    int adjacent = 0;
    for (int i = 0; i < 8; ++i) {
        auto pfn = app->memory->space->pfn_of(base + i * 4096);
        ASSERT_TRUE(pfn.has_value());
        frames.insert(*pfn);
        if (i > 0 && *pfn == *app->memory->space->pfn_of(base + (i - 1) * 4096) + 1)
            ++adjacent;
    }
    EXPECT_EQ(frames.size(), 8u) << "each page has its own frame";
    EXPECT_LT(adjacent, 7) << "eight consecutive pages are not eight consecutive frames";
    machine.end_process(app);
}

TEST_F(Memory, MmGetPhysicalAddressGivesTheFrameInTheRightContextOnly)
{
    Process* a = machine.create_process("a.exe");
    Process* b = machine.create_process("b.exe");
    char* buffer;
    {
        ThreadSwitch in_a(main_of(a));
        buffer = static_cast<char*>(a->memory->heap->allocate(100, true));
        PHYSICAL_ADDRESS pa = MmGetPhysicalAddress(buffer + 3);
        auto pfn = a->memory->space->pfn_of(buffer);
        ASSERT_TRUE(pfn.has_value());
        EXPECT_EQ(static_cast<uint64_t>(pa.QuadPart), (*pfn << 12) | ((mm::addr(buffer) + 3) & 0xFFF));
        EXPECT_TRUE(MmIsAddressValid(buffer));
    }
    {
        ThreadSwitch in_b(main_of(b));
        EXPECT_EQ(MmGetPhysicalAddress(buffer).QuadPart, 0) << "no translation in another process";
        EXPECT_FALSE(MmIsAddressValid(buffer));
    }
    machine.end_process(a);
    machine.end_process(b);
}

TEST_F(Memory, ASecondMappingOfTheSameFramesAliasesTheUserBuffer)
{
    Process* app = machine.create_process("app.exe");
    ThreadSwitch in_app(main_of(app));
    auto* user = static_cast<char*>(app->memory->space->allocate(2, "VirtualAlloc"));
    mm::Pfn pfns[2] = {*app->memory->space->pfn_of(user), *app->memory->space->pfn_of(user + 4096)};
    auto* system = static_cast<char*>(mm().system_space().map(pfns, 2, "MDL system mapping"));
    ASSERT_NE(system, nullptr);
    EXPECT_NE(system, user);
    std::strcpy(system + 4090, "hello, driver");
    EXPECT_STREQ(user + 4090, "hello, driver") << "a write through the system address is seen by the app";
    EXPECT_EQ(mm().classify(system).region, mm::Region::System);
    EXPECT_EQ(mm().classify(user).region, mm::Region::User);
    EXPECT_EQ(mm().classify(user).owner, app);
    // Releasing the user range keeps the frames alive while the system mapping holds them.
    app->memory->space->release(user);
    EXPECT_STREQ(system + 4090, "hello, driver");
    mm().system_space().release(system);
    machine.end_process(app);
}

TEST_F(Memory, AnotherProcessBecomingCurrentHidesTheFirstOnesPages)
{
    Process* a = machine.create_process("a.exe");
    Process* b = machine.create_process("b.exe");
    char* buffer;
    {
        ThreadSwitch in_a(main_of(a));
        buffer = static_cast<char*>(a->memory->heap->allocate(64, false));
        std::strcpy(buffer, "mine");
        EXPECT_FALSE(a->memory->space->hidden());
        EXPECT_TRUE(mm().classify(buffer).accessible_now);
        {
            ThreadSwitch in_b(main_of(b));
            EXPECT_TRUE(a->memory->space->hidden());
            EXPECT_FALSE(b->memory->space->hidden());
            mm::AddressInfo info = mm().classify(buffer);
            EXPECT_EQ(info.owner, a);
            EXPECT_FALSE(info.accessible_now) << "touching it now would fault";
        }
        EXPECT_FALSE(a->memory->space->hidden());
        EXPECT_STREQ(buffer, "mine") << "the data survives being hidden";
    }
    machine.end_process(a);
    machine.end_process(b);
}

TEST_F(Memory, KeStackAttachProcessRunsTheThreadInAnotherAddressSpaceUntilDetach)
{
    Process* a = machine.create_process("a.exe");
    Process* b = machine.create_process("b.exe");
    ThreadSwitch in_b(main_of(b));
    KAPC_STATE outer{};
    KAPC_STATE inner{};
    KeStackAttachProcess(reinterpret_cast<PRKPROCESS>(a), &outer);
    EXPECT_EQ(current_process(), a);
    EXPECT_FALSE(a->memory->space->hidden());
    EXPECT_TRUE(b->memory->space->hidden());
    KeStackAttachProcess(reinterpret_cast<PRKPROCESS>(machine.system().system_process()), &inner);
    EXPECT_EQ(current_process(), machine.system().system_process());
    EXPECT_TRUE(a->memory->space->hidden()) << "System has no user space: none is visible";
    KeUnstackDetachProcess(&inner);
    EXPECT_EQ(current_process(), a);
    KeUnstackDetachProcess(&outer);
    EXPECT_EQ(current_process(), b);
    EXPECT_FALSE(b->memory->space->hidden());
    EXPECT_EQ(current_thread()->attached_process, nullptr);
}

TEST_F(Memory, DetachWithAStateNoAttachFilledIsABugCheck)
{
    KAPC_STATE never{};
    try {
        KeUnstackDetachProcess(&never);
        FAIL() << "expected a bug check";
    } catch (const BugCheck& stop) {
        EXPECT_EQ(stop.info().code, INVALID_PROCESS_DETACH_ATTEMPT);
    }
}

TEST_F(Memory, UserHeapBlocksReallocateAndRefuseForeignPointers)
{
    Process* app = machine.create_process("app.exe");
    ThreadSwitch in_app(main_of(app));
    mm::UserHeap& heap = *app->memory->heap;
    auto* small = static_cast<char*>(heap.allocate(10, true));
    auto* large = static_cast<char*>(heap.allocate(200000, false));
    ASSERT_NE(small, nullptr);
    ASSERT_NE(large, nullptr);
    EXPECT_EQ(heap.size_of(small), 10u);
    EXPECT_EQ(heap.size_of(large), 200000u);
    std::strcpy(small, "abc");
    auto* grown = static_cast<char*>(heap.reallocate(small, 5000, false));
    EXPECT_STREQ(grown, "abc");
    int local = 0;
    EXPECT_FALSE(heap.free(&local));
    EXPECT_TRUE(heap.free(grown));
    EXPECT_FALSE(heap.free(grown)) << "a block freed twice is not a live block";
    EXPECT_TRUE(heap.free(large));
    EXPECT_EQ(heap.live_blocks(), 0u);
    machine.end_process(app);
}

TEST_F(Memory, AProcessThatEndsGivesItsFramesBack)
{
    size_t before = mm().physical().frames_in_use();
    Process* app = machine.create_process("app.exe");
    {
        ThreadSwitch in_app(main_of(app));
        app->memory->space->allocate(32, "VirtualAlloc");
        app->memory->heap->allocate(100000, false);
    }
    EXPECT_GT(mm().physical().frames_in_use(), before + 32);
    machine.end_process(app);
    EXPECT_EQ(mm().physical().frames_in_use(), before);
}

TEST_F(Memory, AnAppsStackHeapAndVirtualAllocAreItsOwnPrivateCommittedMemory)
{
    auto result = machine.run_app("mem_probe.exe");
    ASSERT_TRUE(result.started) << result.error;
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const std::string& out = result.output;
    for (const char* what : {"stack", "malloc", "heapalloc", "virtualalloc", "committed", "realloc"})
        EXPECT_NE(line_of(out, what).find(" commit private "), std::string::npos) << what << ": " << out;
    EXPECT_NE(line_of(out, "virtualalloc-aligned").find(" 1"), std::string::npos) << out;
    EXPECT_NE(line_of(out, "heapalloc-zeroed").find(" 1"), std::string::npos) << out;
    EXPECT_NE(line_of(out, "reserved").find(" reserve "), std::string::npos) << out;
    EXPECT_NE(line_of(out, "commit-middle").find(" 1"), std::string::npos) << out;
    EXPECT_NE(line_of(out, "still-reserved").find(" reserve "), std::string::npos) << out;
    EXPECT_NE(line_of(out, "protect").find("protect 1 old=4"), std::string::npos) << out;
    // VirtualFree(MEM_RELEASE) needs the base and a size of 0 (ERROR_INVALID_PARAMETER 87,
    // ERROR_INVALID_ADDRESS 487 otherwise).
    EXPECT_NE(line_of(out, "release-with-size").find("0 error=87"), std::string::npos) << out;
    EXPECT_NE(line_of(out, "release-not-base").find("0 error=487"), std::string::npos) << out;
    EXPECT_NE(line_of(out, "decommit").find(" 1"), std::string::npos) << out;
    EXPECT_NE(line_of(out, "decommitted").find(" reserve "), std::string::npos) << out;
    EXPECT_NE(line_of(out, "released").find(" free "), std::string::npos) << out;
    EXPECT_NE(line_of(out, "heapfree-bad").find("0 error=87"), std::string::npos) << out;
    // Every address the app saw lies in one user space (the stack's too).
    std::regex address(R"((stack|malloc|virtualalloc) (0x[0-9a-fA-F]+|[0-9a-fA-F]+))");
    std::set<std::string> seen;
    for (std::sregex_iterator it(out.begin(), out.end(), address), end; it != end; ++it)
        seen.insert((*it)[1]);
    EXPECT_EQ(seen.size(), 3u) << out;
}
