// pool_test_support.h - what the pool tests share: a Machine with pool_test_driver.sys
// loaded, typed access to the driver's exported helpers, and small helpers.
//
// The test binary is iosim's own code: calling ExAllocatePoolWithTag directly makes blocks
// with no owner driver. Tests that need a driver's blocks (special pool for one driver,
// leaks at unload, reports naming a driver line) call the driver's helpers instead.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "ex/pool.h"
#include "ke/bugcheck.h"
#include "support/kernel_support.h"
#include "ldr/module.h"
#include "machine.h"
#include "wdm_impl.h"

namespace pool_test {

constexpr ULONG Tag(const char (&text)[5])
{
    return static_cast<ULONG>(static_cast<unsigned char>(text[0])) |
           (static_cast<ULONG>(static_cast<unsigned char>(text[1])) << 8) |
           (static_cast<ULONG>(static_cast<unsigned char>(text[2])) << 16) |
           (static_cast<ULONG>(static_cast<unsigned char>(text[3])) << 24);
}

using iosim_test::catch_bugcheck;

inline bool all_bytes(const void* p, size_t n, unsigned char value)
{
    const auto* bytes = static_cast<const unsigned char*>(p);
    return std::all_of(bytes, bytes + n, [value](unsigned char b) { return b == value; });
}

// "pool_test_driver.c:NN" for the line of the driver source carrying `marker`.
inline std::string DriverLine(const std::string& marker)
{
    std::filesystem::path path = std::filesystem::path(__FILE__).parent_path() / "drivers" / "pool_test_driver.c";
    std::ifstream in(path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number)
        if (line.find("LINE:" + marker + " ") != std::string::npos)
            return "pool_test_driver.c:" + std::to_string(number);
    return "(marker " + marker + " not found)";
}

class PoolDriverTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string message;
        ASSERT_EQ(machine.load_driver("pool_test", "pool_test_driver.sys", &message), STATUS_SUCCESS) << message;
        for (iosim::ldr::Module* m : iosim::ldr::loaded_modules())
            if (m->name == "pool_test_driver.sys")
                module = m;
        ASSERT_NE(module, nullptr);
    }

    // The driver's exported routine or variable `name`.
    template <class T>
    T* symbol(const char* name)
    {
        void* address = iosim::ldr::symbol(module, name);
        EXPECT_NE(address, nullptr) << name;
        return reinterpret_cast<T*>(address);
    }

    iosim::System& sys() { return machine.system(); }
    iosim::ex::PoolTracker& pool() { return machine.system().pool(); }
    std::vector<std::string> finding_codes()
    {
        std::vector<std::string> codes;
        for (const auto& finding : sys().findings())
            codes.push_back(finding.code);
        return codes;
    }

    iosim::Machine machine{iosim::Machine::Options{.debug_output = [](std::string_view, std::string_view) {}}};
    iosim::ldr::Module* module = nullptr;
};

}  // namespace pool_test
