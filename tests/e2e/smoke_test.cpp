// smoke_test.cpp - the hello sample end to end: load, open, close, unload.
#include <gtest/gtest.h>

#include "machine.h"

using namespace iosim;

TEST(Smoke, HelloOpenAndClose)
{
    std::vector<std::string> debug;
    Machine machine({.trace = true, .debug_output = [&](std::string_view m, std::string_view t) {
                         debug.push_back(std::string(m) + ": " + std::string(t));
                     }});
    std::string message;
    ASSERT_EQ(machine.load_driver("hello", "hello.sys", &message), STATUS_SUCCESS) << message;
    auto result = machine.run_app("hello_open.exe");
    EXPECT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    for (auto& e : machine.system().trace().events())
        std::printf("%s\n", trace::Trace::format(e).c_str());
    for (auto& d : debug)
        std::printf("%s\n", d.c_str());
    EXPECT_EQ(machine.unload_driver("hello"), STATUS_SUCCESS);
}
