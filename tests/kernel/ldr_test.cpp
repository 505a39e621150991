// ldr_test.cpp - the module loader's import check (sim_kernel/ldr/module.cpp) and the
// symbolizer that names source lines in reports (sim_kernel/ldr/symbolize.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "ldr/module.h"
#include "ldr/symbolize.h"

using namespace iosim;
using ::testing::AnyOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// Targets for the symbolizer: ordinary functions of this test binary.
constexpr int kSymbolizeTargetLine = __LINE__ + 1;
__attribute__((noinline)) int SymbolizeTargetForLdrTest(int x)
{
    asm volatile("" ::: "memory");
    return x * 3 + 1;
}

__attribute__((noinline)) const void* ReturnAddressOfCaller()
{
    asm volatile("" ::: "memory");
    return __builtin_return_address(0);
}

namespace {

namespace fs = std::filesystem;

// The folder holding the test program: build/<preset>/bin, where the modules are.
fs::path bin_dir() { return fs::read_symlink("/proc/self/exe").parent_path(); }

std::string hello_path()
{
    fs::path path = bin_dir() / "hello.sys";
    return path.string();
}

TEST(LdrTest, ListImportsOfHelloNamesTheKernelRoutinesItCalls)
{
    ASSERT_TRUE(fs::exists(hello_path())) << hello_path() << " missing: build the 'hello' target (test_io depends on it)";
    std::string error;
    auto imports = ldr::list_imports(hello_path(), &error);
    EXPECT_EQ(error, "");
    EXPECT_THAT(imports, Contains("IoCreateDevice"));
    EXPECT_THAT(imports, Contains("IoCreateSymbolicLink"));
    EXPECT_THAT(imports, Contains("IoDeleteSymbolicLink"));
    EXPECT_THAT(imports, Contains("IoDeleteDevice"));
    EXPECT_THAT(imports, Contains("IofCompleteRequest"));
    EXPECT_THAT(imports, Contains("DbgPrint"));
    EXPECT_THAT(imports, Not(Contains("DriverEntry"))) << "a symbol the module defines is not an import";
    EXPECT_TRUE(std::is_sorted(imports.begin(), imports.end()));
}

TEST(LdrTest, ListImportsOfANonElfFileFailsWithAMessage)
{
    fs::path path = fs::path(::testing::TempDir()) / ("ldr_test_not_elf_" + std::to_string(getpid()) + ".sys");
    {
        std::ofstream out(path);
        out << "This is a text file pretending to be a driver. It is long enough to have an ELF header's size.\n";
    }
    std::string error;
    auto imports = ldr::list_imports(path.string(), &error);
    EXPECT_TRUE(imports.empty());
    EXPECT_THAT(error, HasSubstr("is not a 64-bit ELF module"));

    ldr::LoadError load_error;
    EXPECT_EQ(ldr::load(path.string(), ldr::ModuleKind::Driver, &load_error), nullptr);
    EXPECT_THAT(load_error.message, HasSubstr("is not a 64-bit ELF module"));
    EXPECT_THAT(load_error.message, HasSubstr(path.filename().string()));
    fs::remove(path);
}

TEST(LdrTest, LoadingAnEmptyFileFailsWithAMessage)
{
    fs::path path = fs::path(::testing::TempDir()) / ("ldr_test_empty_" + std::to_string(getpid()) + ".sys");
    std::ofstream(path).close();
    ldr::LoadError error;
    EXPECT_EQ(ldr::load(path.string(), ldr::ModuleKind::Driver, &error), nullptr);
    EXPECT_THAT(error.message, HasSubstr("is not a module"));
    fs::remove(path);
}

TEST(LdrTest, LoadingAMissingFileFailsWithCannotOpen)
{
    ldr::LoadError error;
    EXPECT_EQ(ldr::load("/nonexistent/iosim/no_such_driver.sys", ldr::ModuleKind::Driver, &error), nullptr);
    EXPECT_THAT(error.message, HasSubstr("cannot open"));
    EXPECT_THAT(error.message, HasSubstr("no_such_driver.sys"));
    EXPECT_TRUE(error.missing.empty());
}

TEST(LdrTest, SymbolizeNamesAFunctionOfTheTestBinary)
{
    ASSERT_EQ(SymbolizeTargetForLdrTest(1), 4);
    ldr::SourceLocation where = ldr::symbolize(reinterpret_cast<const void*>(&SymbolizeTargetForLdrTest));
    EXPECT_EQ(where.function, "SymbolizeTargetForLdrTest");
    EXPECT_EQ(where.file, "ldr_test.cpp");
    EXPECT_THAT(where.line, AnyOf(kSymbolizeTargetLine, kSymbolizeTargetLine + 1));
    EXPECT_TRUE(where.known());
    EXPECT_THAT(ldr::describe_function(reinterpret_cast<const void*>(&SymbolizeTargetForLdrTest)),
                HasSubstr("SymbolizeTargetForLdrTest"));
}

TEST(LdrTest, DescribeCallSiteNamesTheCallingLine)
{
    const int line = __LINE__ + 1;
    const void* return_address = ReturnAddressOfCaller();
    std::string site = ldr::describe_call_site(return_address);
    EXPECT_THAT(site, HasSubstr("ldr_test.cpp:" + std::to_string(line))) << site;
}

__attribute__((noinline)) int AnonymousNamespaceTarget(int x)
{
    asm volatile("" ::: "memory");
    return x + 2;
}

TEST(LdrTest, SymbolizeNamesAFunctionInAnAnonymousNamespace)
{
    ASSERT_EQ(AnonymousNamespaceTarget(1), 3);
    ldr::SourceLocation where = ldr::symbolize(reinterpret_cast<const void*>(&AnonymousNamespaceTarget));
    EXPECT_EQ(where.function, "(anonymous namespace)::AnonymousNamespaceTarget");
    EXPECT_THAT(ldr::describe_function(reinterpret_cast<const void*>(&AnonymousNamespaceTarget)),
                HasSubstr("AnonymousNamespaceTarget"));
}

TEST(LdrTest, UnknownAddressIsDescribedInHex)
{
    EXPECT_FALSE(ldr::symbolize(nullptr).known());
    EXPECT_EQ(ldr::describe_function(reinterpret_cast<const void*>(0x10)), "0x10");
}

TEST(LdrTest, TheTestBinaryIsNotALoadedModule)
{
    EXPECT_EQ(ldr::module_for_address(reinterpret_cast<const void*>(&SymbolizeTargetForLdrTest)), nullptr);
    EXPECT_EQ(ldr::module_for_address(nullptr), nullptr);
}

}  // namespace
