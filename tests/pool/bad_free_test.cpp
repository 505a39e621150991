// bad_free_test.cpp - BAD_POOL_CALLER (0xC2): each parameter-1 subcode iosim gives for a bad
// free, with the parameters its documentation lists, and the driver line in the report.
//   0x07 already freed      p3 pool header contents, p4 the block
//   0x0A wrong tag          p2 the block, p3 the allocator's tag, p4 the tag used
//   0x40 user-mode address  p2 the address, p3 the start of system space
//   0x42 never in any pool  p2 the address
//   0x46 invalid pool address (not the start of a block)  p2 the address
//   0x41286 inside a paged-pool block   p4 offset in pages from the start of paged pool
//   0x9A must-succeed pool  p2 pool type, p3 bytes, p4 tag
#include <gtest/gtest.h>

#include "e2e/e2e_support.h"
#include "mm/memory_manager.h"
#include "pool/pool_test_support.h"
#include "system.h"
#include "windows.h"

using namespace iosim;
using pool_test::catch_bugcheck;
using pool_test::DriverLine;
using pool_test::Tag;

namespace {

constexpr ULONG kTag = Tag("Bad1");
constexpr ULONG kOther = Tag("Oth2");

using AllocateFn = PVOID(POOL_TYPE, SIZE_T, ULONG);
using FreeFn = void(PVOID);
using FreeWithTagFn = void(PVOID, ULONG);

class BadFreeTest : public pool_test::PoolDriverTest {
protected:
    void* allocate(POOL_TYPE type, SIZE_T size, ULONG tag = kTag)
    {
        return symbol<AllocateFn>("PoolTestAllocate")(type, size, tag);
    }
    void free(void* p) { symbol<FreeFn>("PoolTestFree")(p); }
    void free_with_tag(void* p, ULONG tag) { symbol<FreeWithTagFn>("PoolTestFreeWithTag")(p, tag); }

    static bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
};

TEST_F(BadFreeTest, DoubleFreeIs07NamingTheLineThatFreedFirst)
{
    void* p = allocate(NonPagedPoolNx, 40);
    free(p);
    auto stop = catch_bugcheck([&] { free(p); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
    EXPECT_EQ(stop->parameters[0], 0x07u);
    EXPECT_EQ(stop->parameters[3], reinterpret_cast<ULONG_PTR>(p)) << "parameter 4 is the block being freed";
    EXPECT_EQ(stop->parameters[2] >> 32, kTag) << "parameter 3 is the pool header: its tag in the high half";
    EXPECT_TRUE(contains(stop->location, DriverLine("free"))) << stop->location;
    EXPECT_TRUE(contains(stop->reason, "already freed at " + DriverLine("free"))) << stop->reason;
    EXPECT_TRUE(contains(stop->reason, "allocated at " + DriverLine("allocate"))) << stop->reason;
    EXPECT_EQ(stop->driver, "pool_test_driver.sys");
}

TEST_F(BadFreeTest, WrongTagIs0AAndLeavesTheBlockAllocated)
{
    void* p = allocate(PagedPool, 24);
    auto stop = catch_bugcheck([&] { free_with_tag(p, kOther); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x0Au);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(p));
    EXPECT_EQ(stop->parameters[2], kTag);
    EXPECT_EQ(stop->parameters[3], kOther);
    EXPECT_TRUE(contains(stop->location, DriverLine("free-with-tag"))) << stop->location;
    EXPECT_TRUE(pool().block_at(p).has_value());
}

TEST_F(BadFreeTest, TheProtectedPoolBitDoesNotTakePartInTheTagCheck)
{
    void* p = allocate(PagedPool, 24, kTag | PROTECTED_POOL);
    auto stop = catch_bugcheck([&] { free_with_tag(p, kTag); });
    EXPECT_FALSE(stop.has_value()) << stop->report;
    void* q = allocate(PagedPool, 24, kTag);
    stop = catch_bugcheck([&] { free_with_tag(q, kTag | PROTECTED_POOL); });
    EXPECT_FALSE(stop.has_value()) << stop->report;
}

TEST_F(BadFreeTest, AHostOrStackAddressIs40)
{
    alignas(16) char on_stack[32];
    auto stop = catch_bugcheck([&] { free(on_stack); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x40u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(on_stack));
    EXPECT_EQ(stop->parameters[2], sys().memory().system_space().base()) << "parameter 3: start of system space";
    EXPECT_EQ(stop->parameters[3], 0u);
}

TEST_F(BadFreeTest, AUserSpaceAddressIs40)
{
    Process* process = machine.create_process("user.exe");
    void* user = process->memory->space->allocate(1, "test");
    ASSERT_NE(user, nullptr);
    ASSERT_EQ(sys().memory().classify(user).region, mm::Region::User);
    auto stop = catch_bugcheck([&] { free(user); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x40u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(user));
    EXPECT_TRUE(contains(stop->reason, "user space")) << stop->reason;
}

TEST_F(BadFreeTest, NullIs40)
{
    auto stop = catch_bugcheck([&] { free(nullptr); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x40u);
    EXPECT_EQ(stop->parameters[1], 0u);
    EXPECT_TRUE(contains(stop->reason, "NULL")) << stop->reason;
}

TEST_F(BadFreeTest, ADriverGlobalIs42)
{
    void* global = symbol<void>("PoolTestContext");
    auto stop = catch_bugcheck([&] { free(global); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x42u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(global));
    EXPECT_TRUE(contains(stop->reason, "driver image")) << stop->reason;
}

TEST_F(BadFreeTest, ASystemAddressOutsideThePoolRangesIs42)
{
    void* mapping = sys().memory().system_space().allocate(1, "test mapping");
    ASSERT_NE(mapping, nullptr);
    auto stop = catch_bugcheck([&] { free(mapping); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x42u);
}

TEST_F(BadFreeTest, TheMiddleOfANonPagedBlockIs46)
{
    auto* p = static_cast<char*>(allocate(NonPagedPoolNx, 64));
    auto stop = catch_bugcheck([&] { free(p + 16); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x46u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(p + 16));
    EXPECT_TRUE(contains(stop->reason, "16 byte(s) into the 64-byte block")) << stop->reason;
}

TEST_F(BadFreeTest, TheMiddleOfAPagedBlockIs41286)
{
    auto* p = static_cast<char*>(allocate(PagedPool, 3 * 4096));
    char* inside = p + 4096 + 8;
    auto stop = catch_bugcheck([&] { free(inside); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x41286u);
    EXPECT_EQ(stop->parameters[3], (mm::addr(inside) - pool().range(true).base) / 4096)
        << "parameter 4: offset in pages from the start of paged pool";
}

TEST_F(BadFreeTest, APoolAddressWhereNoBlockEverStartedIs46)
{
    void* some = allocate(NonPagedPoolNx, 8);  // the pool ranges exist from the first allocation
    auto range = pool().range(false);
    ASSERT_NE(range.base, 0u);
    ASSERT_EQ(pool().range_of(some), "nonpaged pool");
    auto* never = reinterpret_cast<void*>(range.base + range.bytes / 2 + 48);
    auto stop = catch_bugcheck([&] { free(never); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->parameters[0], 0x46u);
    EXPECT_EQ(stop->parameters[1], reinterpret_cast<ULONG_PTR>(never));
}

TEST_F(BadFreeTest, MustSucceedPoolIs9A)
{
    auto stop = catch_bugcheck([&] { allocate(NonPagedPoolMustSucceed, 8); });
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
    EXPECT_EQ(stop->parameters[0], 0x9Au);
    EXPECT_EQ(stop->parameters[1], static_cast<ULONG_PTR>(NonPagedPoolMustSucceed));
    EXPECT_EQ(stop->parameters[2], 8u);
    EXPECT_EQ(stop->parameters[3], kTag);
    EXPECT_TRUE(contains(stop->location, DriverLine("allocate"))) << stop->location;
}

// Freeing Irp->AssociatedIrp.SystemBuffer is a classic bug: the buffer is pool, so the
// free itself goes through, and the I/O manager's own free at completion is the double
// free. The report names the driver's line, not the I/O manager's.
TEST_F(BadFreeTest, ADriverFreeingTheSystemBufferIsADoubleFreeAtCompletion)
{
    constexpr DWORD kFreeSystemBuffer = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS);
    e2e::Win32Process app(machine);
    std::optional<BugCheckInfo> stop;
    app.Run([&] {
        HANDLE h = e2e::OpenDevice(u"\\\\.\\PoolTest", GENERIC_READ | GENERIC_WRITE);
        ASSERT_NE(h, INVALID_HANDLE_VALUE);
        char in[16] = "input";
        DWORD n = 0;
        stop = catch_bugcheck([&] { DeviceIoControl(h, kFreeSystemBuffer, in, sizeof(in), nullptr, 0, &n, nullptr); });
    });
    app.Abandon();
    ASSERT_TRUE(stop.has_value());
    EXPECT_EQ(stop->code, static_cast<ULONG>(BAD_POOL_CALLER));
    EXPECT_EQ(stop->parameters[0], 0x07u);
    EXPECT_TRUE(contains(stop->location, DriverLine("free-system-buffer"))) << stop->location;
    EXPECT_TRUE(contains(stop->reason, "SystemBuffer belongs to the I/O manager")) << stop->reason;
}

}  // namespace
