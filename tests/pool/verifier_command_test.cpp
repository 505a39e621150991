// verifier_command_test.cpp - turning special pool on from a script: the command
// language's `verifier special-pool [MODULE]` (apps/iosim/lang). The iosim command's
// `exec --special-pool` and a script whose overrun faults are the pool.cli.* tests
// (tests/pool/CMakeLists.txt).
#include <gtest/gtest.h>

#include "lang/lang_test_support.h"
#include "ldr/module.h"
#include "system.h"

using namespace iosim;
using iosim::lang::Outcome;

namespace {

ldr::Module* loaded(const std::string& name)
{
    for (ldr::Module* m : ldr::loaded_modules())
        if (m->name == name)
            return m;
    return nullptr;
}

TEST(VerifierCommand, ParsesWithOrWithoutAModule)
{
    EXPECT_EQ(langtest::ParseError("verifier special-pool kbuffer.sys"), "");
    EXPECT_EQ(langtest::ParseError("verifier special-pool"), "");
    EXPECT_EQ(langtest::ParseError("verifier pool"),
              "t.iosim:3:10: error: expected special-pool after 'verifier', got \"pool\"");
    EXPECT_EQ(langtest::ParseError("verifier special-pool a.sys b.sys"),
              "t.iosim:3:29: error: expected end of line after 'a.sys', got \"b.sys\"");
}

TEST(VerifierCommand, TurnsSpecialPoolOnForTheNamedDriver)
{
    langtest::Script s;
    ASSERT_EQ(s.Run("verifier special-pool pool_test_driver.sys\n"
                    "load pool_test_driver.sys\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_NE(s.out().find("special pool for pool_test_driver.sys"), std::string::npos) << s.All();
    ldr::Module* module = loaded("pool_test_driver.sys");
    ASSERT_NE(module, nullptr);
    EXPECT_TRUE(System::current()->pool().special_pool_enabled_for(module));
    EXPECT_FALSE(System::current()->pool().special_pool_enabled_for(nullptr));
}

TEST(VerifierCommand, WithoutAModuleItCoversEveryDriver)
{
    langtest::Script s;
    ASSERT_EQ(s.Run("verifier special-pool\n"), Outcome::Ok) << s.All();
    EXPECT_NE(s.out().find("special pool for every driver"), std::string::npos) << s.All();
    EXPECT_TRUE(System::current()->pool().special_pool_enabled_for(nullptr));
}

}  // namespace
