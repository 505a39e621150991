// namespace_test.cpp - the object namespace (sim_kernel/ob/namespace.cpp): \?? and
// \GLOBAL??, symbolic-link reparsing, lookup failures, insertion and permanence, and
// the WinObj-style listing (sim_kernel/ob/listing.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kernel/kernel_test_util.h"
#include "ob/listing.h"
#include "ob/namespace.h"
#include "system.h"
#include "wdm_impl.h"

using namespace iosim;
using kernel_test::is_live;
using kernel_test::u16;
using ::testing::HasSubstr;

namespace {

int g_deletes = 0;
ob::ObjectType g_thing_type{.name = "TestThing", .delete_procedure = [](void*) { ++g_deletes; }};

class NamespaceTest : public ::testing::Test {
protected:
    void SetUp() override { g_deletes = 0; }

    ob::ObjectNamespace& ns() { return sys.ns(); }

    // A named (non-directory) object, kept alive by the namespace (permanent).
    void* make_named(std::u16string_view path)
    {
        void* body = ob::create_object(g_thing_type, 8);
        EXPECT_EQ(ns().insert(path, body, true), STATUS_SUCCESS);
        ob::dereference(body);
        return body;
    }
    void link(std::u16string_view name, std::u16string_view target)
    {
        ASSERT_EQ(ns().create_symbolic_link(name, target, nullptr, nullptr), STATUS_SUCCESS);
    }
    // Looks `path` up and drops the reference, keeping what the test needs.
    ob::ObjectNamespace::Lookup find(std::u16string_view path, bool open_link = false)
    {
        auto result = ns().lookup(path, open_link);
        if (result.object != nullptr)
            ob::dereference(result.object);
        return result;
    }

    System sys;
};

TEST_F(NamespaceTest, StandardDirectoriesExist)
{
    for (auto path : {u"\\Device", u"\\Driver", u"\\GLOBAL??", u"\\ObjectTypes", u"\\KernelObjects", u"\\FileSystem"}) {
        auto found = find(path);
        EXPECT_EQ(found.status, STATUS_SUCCESS) << std::string(path, path + std::char_traits<char16_t>::length(path));
        EXPECT_TRUE(ob::is_object_of_type(found.object, ob::directory_type()));
    }
    EXPECT_EQ(find(u"\\").object, ns().root());
}

TEST_F(NamespaceTest, DosDevicesResolvesToGlobal)
{
    auto dos = find(u"\\??");
    auto global = find(u"\\GLOBAL??");
    ASSERT_EQ(dos.status, STATUS_SUCCESS);
    EXPECT_EQ(dos.object, global.object);
    EXPECT_EQ(ob::ObjectNamespace::expand_dos_devices(u"\\??\\X"), u"\\GLOBAL??\\X");
    EXPECT_EQ(ob::ObjectNamespace::expand_dos_devices(u"\\Device\\X"), u"\\Device\\X");
    EXPECT_EQ(ob::ObjectNamespace::expand_dos_devices(u"\\??X"), u"\\??X");

    // A name inserted through \?? lives in \GLOBAL??.
    void* body = make_named(u"\\??\\ViaDosDevices");
    EXPECT_EQ(ob::full_name(body), u"\\GLOBAL??\\ViaDosDevices");
    EXPECT_EQ(find(u"\\GLOBAL??\\ViaDosDevices").object, body);
    EXPECT_EQ(find(u"\\??\\viadosdevices").object, body);
}

TEST_F(NamespaceTest, LookupIsCaseInsensitiveAndFullNameKeepsSpelling)
{
    void* body = make_named(u"\\KernelObjects\\MixedCaseName");
    auto found = find(u"\\KERNELOBJECTS\\mixedcasename");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, body);
    EXPECT_EQ(ob::full_name(body), u"\\KernelObjects\\MixedCaseName");
}

TEST_F(NamespaceTest, LookupTakesAReference)
{
    void* body = make_named(u"\\KernelObjects\\Referenced");
    long before = ob::pointer_count(body);
    auto found = ns().lookup(u"\\KernelObjects\\Referenced");
    ASSERT_EQ(found.object, body);
    EXPECT_EQ(ob::pointer_count(body), before + 1);
    ob::dereference(body);
    EXPECT_EQ(ob::pointer_count(body), before);
}

TEST_F(NamespaceTest, SymbolicLinkIsFollowed)
{
    void* target = make_named(u"\\KernelObjects\\Target");
    link(u"\\??\\Link", u"\\KernelObjects\\Target");
    auto found = find(u"\\??\\Link");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, target);
    EXPECT_EQ(found.reparses, 1);
    EXPECT_TRUE(found.remaining.empty());
}

TEST_F(NamespaceTest, ChainOfLinksIsFollowedToTheEnd)
{
    void* target = make_named(u"\\KernelObjects\\ChainEnd");
    link(u"\\??\\ChainA", u"\\??\\ChainB");
    link(u"\\??\\ChainB", u"\\GLOBAL??\\ChainC");
    link(u"\\??\\ChainC", u"\\KernelObjects\\ChainEnd");
    auto found = find(u"\\??\\ChainA");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, target);
    EXPECT_EQ(found.reparses, 3);
}

TEST_F(NamespaceTest, PathContinuesAfterTheLink)
{
    void* target = make_named(u"\\KernelObjects\\Leaf");
    link(u"\\??\\Link", u"\\KernelObjects\\Leaf");
    auto found = find(u"\\??\\Link\\rest");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, target);
    EXPECT_EQ(found.remaining, u"\\rest");

    auto deeper = find(u"\\??\\Link\\rest\\more.txt");
    EXPECT_EQ(deeper.object, target);
    EXPECT_EQ(deeper.remaining, u"\\rest\\more.txt");
}

TEST_F(NamespaceTest, PathContinuesAfterANonDirectoryObject)
{
    void* target = make_named(u"\\KernelObjects\\Device0");
    auto found = find(u"\\KernelObjects\\Device0\\sub\\file");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, target);
    EXPECT_EQ(found.remaining, u"\\sub\\file");
}

TEST_F(NamespaceTest, LinkToADirectoryContinuesTheWalk)
{
    void* leaf = make_named(u"\\KernelObjects\\InsideDir");
    link(u"\\??\\DirLink", u"\\KernelObjects");
    auto found = find(u"\\??\\DirLink\\InsideDir");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, leaf);
    EXPECT_TRUE(found.remaining.empty());
    EXPECT_EQ(find(u"\\??\\DirLink\\Missing").status, STATUS_OBJECT_NAME_NOT_FOUND);
}

TEST_F(NamespaceTest, OpenLinkReturnsTheLinkItself)
{
    make_named(u"\\KernelObjects\\Pointee");
    void* link_object = nullptr;
    ASSERT_EQ(ns().create_symbolic_link(u"\\??\\Self", u"\\KernelObjects\\Pointee", nullptr, &link_object),
              STATUS_SUCCESS);
    auto found = find(u"\\??\\Self", /*open_link=*/true);
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    EXPECT_EQ(found.object, link_object);
    EXPECT_TRUE(ob::is_object_of_type(found.object, ob::symbolic_link_type()));
    EXPECT_EQ(static_cast<ob::SymbolicLink*>(link_object)->target, u"\\KernelObjects\\Pointee");
    EXPECT_EQ(found.reparses, 0);
}

TEST_F(NamespaceTest, LinkLoopGivesReparsePointNotResolved)
{
    link(u"\\??\\LoopA", u"\\??\\LoopB");
    link(u"\\??\\LoopB", u"\\??\\LoopA");
    auto found = find(u"\\??\\LoopA");
    EXPECT_EQ(found.status, STATUS_REPARSE_POINT_NOT_RESOLVED);
    EXPECT_EQ(found.object, nullptr);

    link(u"\\??\\SelfLoop", u"\\GLOBAL??\\SelfLoop");
    EXPECT_EQ(find(u"\\??\\SelfLoop\\tail").status, STATUS_REPARSE_POINT_NOT_RESOLVED);
}

TEST_F(NamespaceTest, ReparseDepthIsBounded)
{
    constexpr int kMax = ob::ObjectNamespace::kMaxReparse;
    void* target = make_named(u"\\KernelObjects\\DeepTarget");
    // Chain of kMax + 1 links: L0 -> L1 -> ... -> L{kMax} -> target.
    for (int i = 0; i <= kMax; ++i) {
        std::u16string name = u16("\\??\\Deep" + std::to_string(i));
        std::u16string next = i == kMax ? u"\\KernelObjects\\DeepTarget" : u16("\\??\\Deep" + std::to_string(i + 1));
        link(name, next);
    }
    auto at_limit = find(u16("\\??\\Deep1"));  // kMax reparses
    EXPECT_EQ(at_limit.status, STATUS_SUCCESS);
    EXPECT_EQ(at_limit.object, target);
    EXPECT_EQ(at_limit.reparses, kMax);
    auto beyond = find(u16("\\??\\Deep0"));  // kMax + 1 reparses
    EXPECT_EQ(beyond.status, STATUS_REPARSE_POINT_NOT_RESOLVED);
}

TEST_F(NamespaceTest, MissingDirectoryIsPathNotFoundMissingLeafIsNameNotFound)
{
    EXPECT_EQ(find(u"\\Device\\NoSuchDevice").status, STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(find(u"\\NoSuchDirectory\\Leaf").status, STATUS_OBJECT_PATH_NOT_FOUND);
    EXPECT_EQ(find(u"\\NoSuchDirectory").status, STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(find(u"\\Device\\Missing\\Deeper").status, STATUS_OBJECT_PATH_NOT_FOUND);
    // A link whose target does not exist: the failure is that of the target's lookup.
    link(u"\\??\\Dangling", u"\\Device\\Gone");
    EXPECT_EQ(find(u"\\??\\Dangling").status, STATUS_OBJECT_NAME_NOT_FOUND);
    link(u"\\??\\DanglingDir", u"\\Gone\\Device");
    EXPECT_EQ(find(u"\\??\\DanglingDir").status, STATUS_OBJECT_PATH_NOT_FOUND);
}

TEST_F(NamespaceTest, RelativePathIsSyntaxBad)
{
    EXPECT_EQ(find(u"Device\\X").status, STATUS_OBJECT_PATH_SYNTAX_BAD);
    EXPECT_EQ(find(u"").status, STATUS_OBJECT_PATH_SYNTAX_BAD);
    void* body = ob::create_object(g_thing_type, 8);
    EXPECT_EQ(ns().insert(u"NoLeadingSlash", body, false), STATUS_OBJECT_PATH_SYNTAX_BAD);
    ob::dereference(body);
}

TEST_F(NamespaceTest, InsertCollisionIsNameCollision)
{
    void* first = make_named(u"\\KernelObjects\\Taken");
    void* second = ob::create_object(g_thing_type, 8);
    EXPECT_EQ(ns().insert(u"\\KernelObjects\\Taken", second, true), STATUS_OBJECT_NAME_COLLISION);
    EXPECT_EQ(ns().insert(u"\\KERNELOBJECTS\\TAKEN", second, true), STATUS_OBJECT_NAME_COLLISION);
    EXPECT_FALSE(ob::header_of(second)->permanent) << "a refused insert must not make the object permanent";
    EXPECT_EQ(ob::pointer_count(second), 1) << "a refused insert must not take a reference";
    EXPECT_EQ(find(u"\\KernelObjects\\Taken").object, first);
    ob::dereference(second);
    EXPECT_EQ(g_deletes, 1);
}

TEST_F(NamespaceTest, InsertIntoMissingDirectoryIsPathNotFound)
{
    void* body = ob::create_object(g_thing_type, 8);
    EXPECT_EQ(ns().insert(u"\\NoSuchDirectory\\Leaf", body, false), STATUS_OBJECT_PATH_NOT_FOUND);
    // The "directory" is a non-directory object: no place to put a name.
    make_named(u"\\KernelObjects\\NotADirectory");
    EXPECT_EQ(ns().insert(u"\\KernelObjects\\NotADirectory\\Leaf", body, false), STATUS_OBJECT_PATH_NOT_FOUND);
    EXPECT_EQ(ns().insert(u"\\KernelObjects\\", body, false), STATUS_OBJECT_NAME_INVALID);
    ob::dereference(body);
}

TEST_F(NamespaceTest, PermanentObjectOutlivesItsCreatorsReference)
{
    void* body = make_named(u"\\KernelObjects\\Permanent");  // creation reference already dropped
    EXPECT_EQ(g_deletes, 0);
    EXPECT_TRUE(is_live(body));
    EXPECT_TRUE(ob::header_of(body)->permanent);
    EXPECT_EQ(find(u"\\KernelObjects\\Permanent").object, body);
}

TEST_F(NamespaceTest, MakeTemporaryRemovesTheName)
{
    void* body = make_named(u"\\KernelObjects\\Temporary");
    ob::reference(body);  // keep it alive to look at it afterwards
    ns().make_temporary(body);
    EXPECT_EQ(find(u"\\KernelObjects\\Temporary").status, STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_FALSE(ob::header_of(body)->permanent);
    EXPECT_EQ(ob::header_of(body)->parent, nullptr);
    EXPECT_EQ(ob::pointer_count(body), 1) << "make_temporary must drop the namespace's reference";
    EXPECT_EQ(g_deletes, 0);
    ob::dereference(body);
    EXPECT_EQ(g_deletes, 1);
}

TEST_F(NamespaceTest, MakeTemporaryOnLastReferenceDeletesTheObject)
{
    void* body = make_named(u"\\KernelObjects\\ShortLived");
    ObMakeTemporaryObject(body);
    EXPECT_EQ(g_deletes, 1);
    EXPECT_FALSE(is_live(body));
    EXPECT_EQ(find(u"\\KernelObjects\\ShortLived").status, STATUS_OBJECT_NAME_NOT_FOUND);
    // The name can be used again.
    make_named(u"\\KernelObjects\\ShortLived");
}

TEST_F(NamespaceTest, CreateDirectoryAndNestedNames)
{
    ASSERT_EQ(ns().create_directory(u"\\KernelObjects\\Sub"), STATUS_SUCCESS);
    EXPECT_EQ(ns().create_directory(u"\\KernelObjects\\sub"), STATUS_OBJECT_NAME_COLLISION);
    void* body = make_named(u"\\KernelObjects\\Sub\\Nested");
    EXPECT_EQ(ob::full_name(body), u"\\KernelObjects\\Sub\\Nested");
    EXPECT_EQ(find(u"\\kernelobjects\\SUB\\nested").object, body);
}

TEST_F(NamespaceTest, NamespaceTeardownDeletesPermanentObjects)
{
    int before = g_deletes;
    {
        // A second namespace of its own, destroyed at the end of the block.
        ob::ObjectNamespace own;
        void* body = ob::create_object(g_thing_type, 8);
        ASSERT_EQ(own.insert(u"\\KernelObjects\\Owned", body, true), STATUS_SUCCESS);
        ob::dereference(body);
        EXPECT_EQ(g_deletes, before);
    }
    EXPECT_EQ(g_deletes, before + 1);
}

TEST_F(NamespaceTest, ListingShowsTypesAndLinkTargets)
{
    make_named(u"\\KernelObjects\\Listed");
    link(u"\\??\\ListedLink", u"\\KernelObjects\\Listed");
    auto objects = ob::list_directory(ns(), "\\GLOBAL??", false);
    auto it = std::find_if(objects.begin(), objects.end(),
                           [](const ob::ListedObject& o) { return o.path == "\\GLOBAL??\\ListedLink"; });
    ASSERT_NE(it, objects.end());
    EXPECT_EQ(it->type, "SymbolicLink");
    EXPECT_EQ(it->target, "\\KernelObjects\\Listed");
    auto lines = ob::format_listing(objects);
    EXPECT_THAT(lines, ::testing::Contains(HasSubstr("SymbolicLink -> \\KernelObjects\\Listed")));

    auto all = ob::list_directory(ns(), "\\", true);
    auto nested = std::find_if(all.begin(), all.end(),
                               [](const ob::ListedObject& o) { return o.path == "\\KernelObjects\\Listed"; });
    ASSERT_NE(nested, all.end());
    EXPECT_EQ(nested->type, "TestThing");
    EXPECT_EQ(nested->depth, 1);
    EXPECT_TRUE(ob::list_directory(ns(), "\\NoSuchDirectory", true).empty());
}

}  // namespace
