// handle_table_test.cpp - a process's handle table (sim_kernel/ob/handle_table.cpp) and
// ObReferenceObjectByHandle (sim_kernel/ob/ob_exports.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "kernel/kernel_test_util.h"
#include "ob/handle_table.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;
using kernel_test::is_live;

namespace {

struct CloseCall {
    Process* process;
    void* body;
    long handles_left;  // the handle count the close procedure saw
};
std::vector<CloseCall> g_closes;
std::vector<void*> g_deletes;

ob::ObjectType g_item_type{
    .name = "TestItem",
    .close_procedure = [](Process* process, void* body) { g_closes.push_back({process, body, ob::handle_count(body)}); },
    .delete_procedure = [](void* body) { g_deletes.push_back(body); }};
ob::ObjectType g_other_type{.name = "TestOther"};

HANDLE h(uintptr_t value) { return reinterpret_cast<HANDLE>(value); }
uintptr_t v(HANDLE handle) { return reinterpret_cast<uintptr_t>(handle); }

class HandleTableTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        g_closes.clear();
        g_deletes.clear();
    }
    void TearDown() override
    {
        table.close_all(owner);
        for (void* body : owned)
            ob::dereference(body);
    }
    // An object the test holds one reference to (dropped at TearDown).
    void* make(ob::ObjectType& type = g_item_type)
    {
        owned.push_back(ob::create_object(type, 8));
        return owned.back();
    }

    System sys;
    Process* owner = sys.system_process();
    ob::HandleTable table;
    std::vector<void*> owned;
};

TEST_F(HandleTableTest, HandleValuesAreMultiplesOfFourFromFour)
{
    void* object = make();
    EXPECT_EQ(v(table.insert(object, 0)), 4u);
    EXPECT_EQ(v(table.insert(object, 0)), 8u);
    EXPECT_EQ(v(table.insert(object, 0)), 12u);
    EXPECT_EQ(table.count(), 3u);
}

TEST_F(HandleTableTest, LowestFreedHandleValueIsReused)
{
    void* object = make();
    for (int i = 0; i < 5; ++i)
        table.insert(object, 0);  // 4, 8, 12, 16, 20
    ASSERT_EQ(table.close(owner, h(12)), STATUS_SUCCESS);
    ASSERT_EQ(table.close(owner, h(8)), STATUS_SUCCESS);
    EXPECT_EQ(v(table.insert(object, 0)), 8u);
    EXPECT_EQ(v(table.insert(object, 0)), 12u);
    EXPECT_EQ(v(table.insert(object, 0)), 24u);
}

TEST_F(HandleTableTest, HandleHoldsAReferenceAndAHandleCount)
{
    void* object = make();
    HANDLE handle = table.insert(object, FILE_READ_DATA);
    EXPECT_EQ(ob::pointer_count(object), 2);
    EXPECT_EQ(ob::handle_count(object), 1);
    ASSERT_EQ(table.close(owner, handle), STATUS_SUCCESS);
    EXPECT_EQ(ob::pointer_count(object), 1);
    EXPECT_EQ(ob::handle_count(object), 0);
}

TEST_F(HandleTableTest, ObjectLivesWhileOnlyAHandleRefersToIt)
{
    void* object = ob::create_object(g_item_type, 8);
    HANDLE handle = table.insert(object, 0);
    ob::dereference(object);  // the creator lets go; the handle keeps it
    EXPECT_TRUE(g_deletes.empty());
    EXPECT_TRUE(is_live(object));
    ASSERT_EQ(table.close(owner, handle), STATUS_SUCCESS);
    ASSERT_EQ(g_deletes.size(), 1u);
    EXPECT_EQ(g_deletes[0], object);
    ASSERT_EQ(g_closes.size(), 1u);
    EXPECT_EQ(g_closes[0].body, object) << "close procedure must run before the object is freed";
}

TEST_F(HandleTableTest, ReferenceReturnsObjectAndGrantedAccess)
{
    void* object = make();
    HANDLE handle = table.insert(object, FILE_READ_DATA | SYNCHRONIZE);
    void* found = nullptr;
    ACCESS_MASK granted = 0;
    ASSERT_EQ(table.reference(handle, &g_item_type, &found, &granted), STATUS_SUCCESS);
    EXPECT_EQ(found, object);
    EXPECT_EQ(granted, static_cast<ACCESS_MASK>(FILE_READ_DATA | SYNCHRONIZE));
    EXPECT_EQ(ob::pointer_count(object), 3) << "reference() must return a new reference";
    ob::dereference(found);
    ASSERT_EQ(table.reference(handle, nullptr, &found), STATUS_SUCCESS) << "a null type accepts any object";
    ob::dereference(found);
}

TEST_F(HandleTableTest, TypeMismatchIsObjectTypeMismatch)
{
    void* object = make();
    HANDLE handle = table.insert(object, 0);
    void* found = nullptr;
    long before = ob::pointer_count(object);
    EXPECT_EQ(table.reference(handle, &g_other_type, &found), STATUS_OBJECT_TYPE_MISMATCH);
    EXPECT_EQ(found, nullptr);
    EXPECT_EQ(ob::pointer_count(object), before) << "a refused reference must not count";
}

TEST_F(HandleTableTest, BadHandleIsInvalidHandle)
{
    void* object = make();
    HANDLE handle = table.insert(object, 0);
    void* found = nullptr;
    EXPECT_EQ(table.reference(nullptr, nullptr, &found), STATUS_INVALID_HANDLE);
    EXPECT_EQ(table.reference(h(6), nullptr, &found), STATUS_INVALID_HANDLE);      // not a multiple of 4
    EXPECT_EQ(table.reference(h(4000), nullptr, &found), STATUS_INVALID_HANDLE);   // beyond the table
    EXPECT_EQ(table.reference(h(~uintptr_t{0}), nullptr, &found), STATUS_INVALID_HANDLE);  // NtCurrentProcess
    EXPECT_EQ(table.close(owner, h(4000)), STATUS_INVALID_HANDLE);
    ASSERT_EQ(table.close(owner, handle), STATUS_SUCCESS);
    EXPECT_EQ(table.reference(handle, nullptr, &found), STATUS_INVALID_HANDLE) << "a closed handle is invalid";
    EXPECT_EQ(table.close(owner, handle), STATUS_INVALID_HANDLE) << "closing twice must fail the second time";
    EXPECT_EQ(found, nullptr);
}

TEST_F(HandleTableTest, CloseProcedureRunsExactlyWhenTheLastHandleCloses)
{
    void* object = make();
    HANDLE first = table.insert(object, 0);
    HANDLE second = table.insert(object, 0);
    HANDLE third = table.insert(object, 0);
    EXPECT_EQ(ob::handle_count(object), 3);
    table.close(owner, second);
    table.close(owner, first);
    EXPECT_TRUE(g_closes.empty()) << "close procedure ran while a handle was still open";
    table.close(owner, third);
    ASSERT_EQ(g_closes.size(), 1u);
    EXPECT_EQ(g_closes[0].body, object);
    EXPECT_EQ(g_closes[0].process, owner);
    EXPECT_EQ(g_closes[0].handles_left, 0);
    EXPECT_TRUE(g_deletes.empty()) << "the test's own reference keeps the object";
}

TEST_F(HandleTableTest, ExtraReferenceDoesNotDelayTheCloseProcedure)
{
    void* object = make();
    HANDLE handle = table.insert(object, 0);
    ob::reference(object);
    table.close(owner, handle);
    EXPECT_EQ(g_closes.size(), 1u) << "the close procedure follows handles, not references";
    ob::dereference(object);
}

TEST_F(HandleTableTest, CloseAllClosesEveryHandleLowestFirst)
{
    void* a = make();
    void* b = make();
    void* c = make();
    table.insert(a, 0);  // 4
    table.insert(b, 0);  // 8
    table.insert(c, 0);  // 12
    table.insert(a, 0);  // 16
    table.close(owner, h(4));
    table.insert(c, 0);  // 4 again
    table.close_all(owner);
    EXPECT_EQ(table.count(), 0u);
    EXPECT_TRUE(table.list().empty());
    // Lowest handle first: 4 (c, not its last), 8 (b, last), 12 (c, last), 16 (a, last).
    ASSERT_EQ(g_closes.size(), 3u);
    EXPECT_EQ(g_closes[0].body, b);
    EXPECT_EQ(g_closes[1].body, c);
    EXPECT_EQ(g_closes[2].body, a);
    for (void* body : {a, b, c})
        EXPECT_EQ(ob::handle_count(body), 0);
}

TEST_F(HandleTableTest, ListShowsHandlesWithTheirEntries)
{
    void* a = make();
    void* b = make();
    table.insert(a, FILE_READ_DATA);
    HANDLE hb = table.insert(b, FILE_WRITE_DATA, 0x2);
    table.close(owner, h(4));
    auto listed = table.list();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].handle, hb);
    EXPECT_EQ(listed[0].entry.object, b);
    EXPECT_EQ(listed[0].entry.granted, static_cast<ACCESS_MASK>(FILE_WRITE_DATA));
    EXPECT_EQ(listed[0].entry.attributes, 0x2u);
}

// ---- ObReferenceObjectByHandle, through the current process's table ----

TEST_F(HandleTableTest, ObReferenceObjectByHandleUsesTheCurrentProcess)
{
    Process* process = current_process();
    ASSERT_EQ(process, sys.system_process());
    void* object = make();
    HANDLE handle = process->handles().insert(object, FILE_READ_DATA);
    PVOID found = nullptr;
    OBJECT_HANDLE_INFORMATION info{};
    ASSERT_EQ(ObReferenceObjectByHandle(handle, FILE_READ_DATA, nullptr, UserMode, &found, &info), STATUS_SUCCESS);
    EXPECT_EQ(found, object);
    EXPECT_EQ(info.GrantedAccess, static_cast<ACCESS_MASK>(FILE_READ_DATA));
    ObfDereferenceObject(found);

    // User mode asking for more than the handle grants is refused; kernel mode is not checked.
    found = nullptr;
    EXPECT_EQ(ObReferenceObjectByHandle(handle, FILE_WRITE_DATA, nullptr, UserMode, &found, nullptr),
              STATUS_ACCESS_DENIED);
    EXPECT_EQ(found, nullptr);
    ASSERT_EQ(ObReferenceObjectByHandle(handle, FILE_WRITE_DATA, nullptr, KernelMode, &found, nullptr), STATUS_SUCCESS);
    ObfDereferenceObject(found);

    EXPECT_EQ(ObReferenceObjectByHandle(handle, 0, reinterpret_cast<POBJECT_TYPE>(&g_other_type), KernelMode, &found,
                                        nullptr),
              STATUS_OBJECT_TYPE_MISMATCH);
    EXPECT_EQ(ObReferenceObjectByHandle(h(0x400), 0, nullptr, KernelMode, &found, nullptr), STATUS_INVALID_HANDLE);
    process->handles().close(process, handle);
}

}  // namespace
