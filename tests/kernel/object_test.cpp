// object_test.cpp - object headers and reference counting (sim_kernel/ob/object.cpp) and
// object directories (sim_kernel/ob/directory.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernel/kernel_test_util.h"
#include "ob/directory.h"
#include "ob/namespace.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;
using kernel_test::is_live;

namespace {

std::vector<void*> g_deleted;  // bodies whose delete procedure ran, in order

void record_delete(void* body) { g_deleted.push_back(body); }

ob::ObjectType g_widget_type{.name = "TestWidget", .delete_procedure = &record_delete};

long deletes_of(void* body) { return std::count(g_deleted.begin(), g_deleted.end(), body); }

class ObjectTest : public ::testing::Test {
protected:
    void SetUp() override { g_deleted.clear(); }
    System sys;
};

TEST_F(ObjectTest, NewObjectHasOneReferenceAndAZeroedBody)
{
    void* body = ob::create_object(g_widget_type, 64);
    EXPECT_EQ(ob::pointer_count(body), 1);
    EXPECT_EQ(ob::handle_count(body), 0);
    EXPECT_TRUE(ob::is_object(body));
    EXPECT_TRUE(ob::is_object_of_type(body, g_widget_type));
    EXPECT_FALSE(ob::is_object_of_type(body, ob::directory_type()));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(body) % 16, 0u);
    const auto* bytes = static_cast<const unsigned char*>(body);
    EXPECT_TRUE(std::all_of(bytes, bytes + 64, [](unsigned char b) { return b == 0; }));
    ob::dereference(body);
}

TEST_F(ObjectTest, ObjectDiesAtLastDereference)
{
    void* body = ob::create_object(g_widget_type, 16);
    long live_before = g_widget_type.live_count.load();
    EXPECT_EQ(ob::reference(body), 2);
    EXPECT_EQ(ObfReferenceObject(body), 3);
    EXPECT_EQ(ob::dereference(body), 2);
    EXPECT_EQ(ObfDereferenceObject(body), 1);
    EXPECT_EQ(deletes_of(body), 0) << "the object died while still referenced";
    EXPECT_TRUE(is_live(body));

    EXPECT_EQ(ob::dereference(body), 0);
    EXPECT_EQ(deletes_of(body), 1);
    EXPECT_FALSE(is_live(body));
    EXPECT_EQ(g_widget_type.live_count.load(), live_before - 1);
}

TEST_F(ObjectTest, DeleteProcedureRunsOnceEvenWithManyReferences)
{
    void* body = ob::create_object(g_widget_type, 16);
    for (int i = 0; i < 10; ++i)
        ObfReferenceObject(body);
    for (int i = 0; i < 10; ++i)
        ObfDereferenceObject(body);
    EXPECT_EQ(deletes_of(body), 0);
    ObfDereferenceObject(body);
    EXPECT_EQ(deletes_of(body), 1);
    EXPECT_EQ(g_deleted.size(), 1u);
}

TEST_F(ObjectTest, LiveObjectsListsInCreationOrder)
{
    std::vector<void*> made;
    for (int i = 0; i < 4; ++i)
        made.push_back(ob::create_object(g_widget_type, 8));
    // Free one in the middle: the rest keep their order.
    ob::dereference(made[1]);
    made.erase(made.begin() + 1);

    std::vector<void*> listed;
    uint64_t last_serial = 0;
    bool increasing = true;
    for (const auto& object : ob::live_objects()) {
        increasing = increasing && object.serial > last_serial;
        last_serial = object.serial;
        if (object.type == &g_widget_type)
            listed.push_back(object.body);
    }
    EXPECT_TRUE(increasing) << "live_objects is not sorted by creation serial";
    EXPECT_EQ(listed, made);
    for (void* body : made)
        ob::dereference(body);
}

TEST_F(ObjectTest, LiveObjectsReportsCountsAndName)
{
    void* body = ob::create_object(g_widget_type, 8);
    ASSERT_EQ(sys.ns().insert(u"\\KernelObjects\\CountedWidget", body, false), STATUS_SUCCESS);
    ob::reference(body);
    for (const auto& object : ob::live_objects())
        if (object.body == body) {
            EXPECT_EQ(object.pointers, 2);
            EXPECT_EQ(object.handles, 0);
            EXPECT_EQ(object.name, u"CountedWidget");
        }
    ob::dereference(body);
    ob::dereference(body);
    EXPECT_FALSE(is_live(body));
}

TEST_F(ObjectTest, LastDereferenceRemovesTheName)
{
    void* body = ob::create_object(g_widget_type, 8);
    ASSERT_EQ(sys.ns().insert(u"\\KernelObjects\\Fleeting", body, false), STATUS_SUCCESS);
    EXPECT_EQ(ob::full_name(body), u"\\KernelObjects\\Fleeting");
    auto found = sys.ns().lookup(u"\\KernelObjects\\Fleeting");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, body);
    ob::dereference(found.object);

    ob::dereference(body);  // the only reference: a temporary object's name does not keep it
    EXPECT_EQ(deletes_of(body), 1);
    EXPECT_EQ(sys.ns().lookup(u"\\KernelObjects\\Fleeting").status, STATUS_OBJECT_NAME_NOT_FOUND);
}

TEST_F(ObjectTest, UnnamedObjectHasEmptyFullName)
{
    void* body = ob::create_object(g_widget_type, 8);
    EXPECT_EQ(ob::full_name(body), u"");
    EXPECT_EQ(ob::full_name(sys.ns().root()), u"\\");
    ob::dereference(body);
}

// ---- directories ----

class DirectoryTest : public ObjectTest {
protected:
    void TearDown() override
    {
        for (void* body : bodies) {
            directory.remove_entry(body);
            ob::dereference(body);
        }
    }
    void* make()
    {
        bodies.push_back(ob::create_object(g_widget_type, 8));
        return bodies.back();
    }
    ob::Directory directory;
    std::vector<void*> bodies;
};

TEST_F(DirectoryTest, LookupIgnoresCaseAndKeepsOriginalSpelling)
{
    void* body = make();
    ASSERT_TRUE(directory.insert(u"MyDevice", body));
    EXPECT_EQ(directory.find(u"MyDevice"), body);
    EXPECT_EQ(directory.find(u"MYDEVICE"), body);
    EXPECT_EQ(directory.find(u"mydevice"), body);
    EXPECT_EQ(directory.find(u"mYdEvIcE"), body);
    EXPECT_EQ(directory.find(u"MyDevice2"), nullptr);
    EXPECT_EQ(ob::header_of(body)->name, u"MyDevice");
    auto entries = directory.entries();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].name, u"MyDevice");
    EXPECT_EQ(entries[0].body, body);
}

TEST_F(DirectoryTest, NamesDifferingOnlyInCaseCollide)
{
    void* first = make();
    void* second = make();
    ASSERT_TRUE(directory.insert(u"Widget", first));
    EXPECT_FALSE(directory.insert(u"WIDGET", second));
    EXPECT_EQ(directory.find(u"widget"), first);
    EXPECT_EQ(ob::header_of(second)->parent, nullptr) << "a refused insert must not adopt the object";
}

TEST_F(DirectoryTest, Latin1LettersCompareWithoutCase)
{
    void* body = make();
    ASSERT_TRUE(directory.insert(u"caf\u00e9", body));
    EXPECT_EQ(directory.find(u"CAF\u00c9"), body);
}

TEST_F(DirectoryTest, LettersBeyondLatin1CompareWithoutCase)
{
    void* body = make();
    ASSERT_TRUE(directory.insert(u"\u0434\u0440\u0430\u0439\u0432", body));
    EXPECT_EQ(directory.find(u"\u0414\u0420\u0410\u0419\u0412"), body);
}

TEST_F(DirectoryTest, EntriesAreSortedWithoutRegardToCase)
{
    void* b = make();
    void* a = make();
    void* c = make();
    ASSERT_TRUE(directory.insert(u"beta", b));
    ASSERT_TRUE(directory.insert(u"Alpha", a));
    ASSERT_TRUE(directory.insert(u"GAMMA", c));
    auto entries = directory.entries();
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].name, u"Alpha");
    EXPECT_EQ(entries[1].name, u"beta");
    EXPECT_EQ(entries[2].name, u"GAMMA");
}

TEST_F(DirectoryTest, RemoveEntryForgetsTheName)
{
    void* body = make();
    ASSERT_TRUE(directory.insert(u"Gone", body));
    directory.remove_entry(body);
    EXPECT_EQ(directory.find(u"Gone"), nullptr);
    EXPECT_EQ(ob::header_of(body)->parent, nullptr);
    void* other = make();
    EXPECT_TRUE(directory.insert(u"GONE", other)) << "the freed name must be reusable";
}

}  // namespace
