// direct_test.cpp - the direct I/O sample: the driver sees the app's buffer through an MDL.
#include <gtest/gtest.h>

#include <regex>

#include "machine.h"
#include "mm/memory_manager.h"

using namespace iosim;

TEST(DirectSample, MdlDescribesTheAppsOwnBufferAndEmptyTransfersHaveNone)
{
    std::vector<std::string> debug;
    Machine machine({.trace = true, .debug_output = [&](std::string_view, std::string_view t) { debug.emplace_back(t); }});
    ASSERT_EQ(machine.load_driver("direct", "direct.sys"), STATUS_SUCCESS);
    auto result = machine.run_app("direct_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(result.output, m, std::regex("write buffer at ([0-9A-F]{16})"))) << result.output;
    std::string write_buffer = m[1];
    ASSERT_TRUE(std::regex_search(result.output, m, std::regex("read buffer at ([0-9A-F]{16})"))) << result.output;
    std::string read_buffer = m[1];
    EXPECT_NE(result.output.find("read 32 bytes at offset 16: \"through an MDL\""), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("an empty write succeeds with 0 bytes"), std::string::npos);
    EXPECT_NE(result.output.find("GetLastError() = 87"), std::string::npos) << "STATUS_INVALID_PARAMETER -> 87";
    ASSERT_GE(debug.size(), 3u);
    EXPECT_NE(debug[0].find("MDL virtual address " + write_buffer), std::string::npos) << debug[0];
    EXPECT_NE(debug[0].find("byte count 14"), std::string::npos) << debug[0];
    EXPECT_NE(debug[1].find("MDL virtual address " + read_buffer), std::string::npos) << debug[1];
    EXPECT_NE(debug[2].find("MdlAddress is 0000000000000000"), std::string::npos) << debug[2];
    // The system address is a second mapping of the buffer's frames: another address, in
    // system space, with the buffer's offset into its page.
    for (int i = 0; i < 2; ++i) {
        const std::string& user = i == 0 ? write_buffer : read_buffer;
        ASSERT_TRUE(std::regex_search(debug[i], m, std::regex("frame 0x([0-9A-F]+).*system address ([0-9A-F]{16})")))
            << debug[i];
        std::string system = m[2];
        EXPECT_NE(system, user) << debug[i];
        EXPECT_EQ(system.substr(13), user.substr(13)) << "same byte offset in the page: " << debug[i];
        uintptr_t address = std::stoull(system, nullptr, 16);
        EXPECT_EQ(machine.system().memory().classify(reinterpret_cast<void*>(address)).region, mm::Region::System)
            << debug[i];
    }
    EXPECT_EQ(machine.unload_driver("direct"), STATUS_SUCCESS);
    EXPECT_TRUE(machine.system().findings().empty());
}
