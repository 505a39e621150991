// seed_listings_test.cpp - the seed documents' listings do what their text says.
//
// Each listing of ../shared/seeds named in tests/seeds/manifest.json is extracted
// unchanged (page-layout repairs only, see docs/seeds.md) and built as seed_<id>.sys or
// seed_<id>.exe (tests/seeds/CMakeLists.txt). Each test below runs one listing, or a
// driver with its app, on a fresh Machine and checks the claim the text makes about it:
// the console output, the DbgPrint lines (captured as "module, text") and the findings
// reported at unload. Tests are named after the claim.
#include <gtest/gtest.h>

#ifndef IOSIM_SEED_LISTINGS

// ../shared/seeds was not there at configure time: nothing was extracted or built.
TEST(SeedListings, Skipped)
{
    GTEST_SKIP() << IOSIM_SEED_SKIP_REASON;
}

#else

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "machine.h"
#include "rtl/status_names.h"  // RtlNtStatusToDosErrorNoTeb
#include "winerror.h"

using namespace iosim;

namespace {

// A fresh simulated machine with tracing on, capturing DbgPrint lines and app output.
class SeedMachine {
public:
    SeedMachine()
        : machine_({.trace = true,
                    .app_output = [](uint32_t, const std::string&, std::string_view) {},
                    .debug_output = [this](std::string_view module, std::string_view text) {
                        debug_.push_back(std::string(module) + ", " + std::string(text));
                    }})
    {
    }

    // IOSIM_SEED_TEST_VERBOSE=1: print what happened, also when the test passes.
    ~SeedMachine()
    {
        if (std::getenv("IOSIM_SEED_TEST_VERBOSE") != nullptr)
            std::printf("%s--- app output:\n%s\n", dump().c_str(), output_.c_str());
    }

    Machine& machine() { return machine_; }
    System& system() { return machine_.system(); }
    const std::vector<std::string>& debug() const { return debug_; }

    // Loads a driver module as service `service` (DriverEntry runs); false on failure.
    bool load(const std::string& service, const std::string& module)
    {
        std::string message;
        NTSTATUS status = machine_.load_driver(service, module, &message);
        EXPECT_EQ(status, STATUS_SUCCESS) << module << ": " << message;
        return status == STATUS_SUCCESS;
    }

    NTSTATUS unload(const std::string& service)
    {
        std::string message;
        NTSTATUS status = machine_.unload_driver(service, &message);
        EXPECT_EQ(status, STATUS_SUCCESS) << service << ": " << message;
        return status;
    }

    Machine::AppResult run(const std::string& module, const std::string& input = "")
    {
        Machine::AppResult result = machine_.run_app(module, {}, input);
        output_ += result.output;
        EXPECT_TRUE(result.started) << module << ": " << result.error;
        return result;
    }

    size_t count_debug(const std::string& line) const
    {
        return static_cast<size_t>(std::count(debug_.begin(), debug_.end(), line));
    }
    bool has_debug(const std::string& line) const { return count_debug(line) > 0; }

    std::vector<std::string> finding_codes() const
    {
        std::vector<std::string> codes;
        for (const Finding& f : machine_.system().findings())
            codes.push_back(f.code);
        return codes;
    }

    // Everything worth seeing when an assertion fails.
    std::string dump() const
    {
        std::string text = "--- DbgPrint:\n";
        for (const auto& d : debug_)
            text += "  " + d + "\n";
        text += "--- findings:\n";
        for (const Finding& f : machine_.system().findings())
            text += "  " + f.code + ": " + f.message + "\n";
        text += "--- trace:\n";
        for (const auto& e : machine_.system().trace().events())
            text += trace::Trace::format(e) + "\n";
        return text;
    }

    const Finding* finding(const std::string& code) const
    {
        findings_ = machine_.system().findings();
        for (const Finding& f : findings_)
            if (f.code == code)
                return &f;
        return nullptr;
    }

    bool trace_contains(const std::string& text) const
    {
        for (const auto& e : machine_.system().trace().events())
            if (e.text.find(text) != std::string::npos)
                return true;
        return false;
    }

private:
    std::vector<std::string> debug_;
    std::string output_;
    mutable Machine machine_;
    mutable std::vector<Finding> findings_;
};

std::string repeat(const std::string& piece, int times)
{
    std::string s;
    for (int i = 0; i < times; ++i)
        s += piece;
    return s;
}

// The rest of the nth line of `text` that starts with `prefix` ("" if there is none).
std::string line_value(const std::string& text, const std::string& prefix, size_t nth = 0)
{
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(start, end - start);
        if (line.rfind(prefix, 0) == 0 && nth-- == 0)
            return line.substr(prefix.size());
        start = end + 1;
    }
    return "";
}

}  // namespace

// ---- 000 section 2: the empty driver -------------------------------------------------

TEST(Seed000EmptyDriver, LoadsPrintsDriverEntryAndUnloadsPrintingDriverUnload)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("mydriver", "seed_000_empty_driver.sys"));
    EXPECT_TRUE(m.has_debug("seed_000_empty_driver.sys, DriverEntry")) << m.dump();
    EXPECT_FALSE(m.has_debug("seed_000_empty_driver.sys, DriverUnload")) << m.dump();
    m.unload("mydriver");
    EXPECT_EQ(m.debug(), (std::vector<std::string>{"seed_000_empty_driver.sys, DriverEntry",
                                                   "seed_000_empty_driver.sys, DriverUnload"}))
        << m.dump();
    EXPECT_TRUE(m.finding_codes().empty()) << m.dump();
}

// ---- 000 section 6: device + symbolic link, and the app that opens it ----------------

TEST(Seed000LinkDriver, OpenAppShowsMessageBoxWithoutTheDriver)
{
    SeedMachine m;
    auto result = m.run("seed_000_link_open_app.exe");
    EXPECT_EQ(result.output, "[MessageBox] 错误: 打开设备失败\n") << m.dump();
    EXPECT_EQ(result.exit_code, 0);
}

TEST(Seed000LinkDriver, OpenSucceedsWithDriverAndDispatchRoutineRunsTwice)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("MyDevice1", "seed_000_link_driver.sys"));
    EXPECT_TRUE(m.has_debug("seed_000_link_driver.sys, DriverEntry")) << m.dump();
    auto result = m.run("seed_000_link_open_app.exe");
    EXPECT_EQ(result.output.find("[MessageBox]"), std::string::npos) << result.output;
    EXPECT_EQ(result.output, "");
    EXPECT_EQ(result.exit_code, 0);
    // "驱动程序的派遣函数被调用了2次": once for IRP_MJ_CREATE (CreateFileA), once for
    // IRP_MJ_CLOSE (CloseHandle).
    EXPECT_EQ(m.count_debug("seed_000_link_driver.sys, DispatchRoutine"), 2u) << m.dump();
    m.unload("MyDevice1");
    EXPECT_TRUE(m.has_debug("seed_000_link_driver.sys, DriverUnload")) << m.dump();
    EXPECT_TRUE(m.finding_codes().empty()) << m.dump();
}

// ---- 000 section 7: DeviceIoControl, METHOD_BUFFERED --------------------------------

TEST(Seed000Ioctl, IoctlFillsOutputWith0xF1)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("MyDevice1", "seed_000_ioctl_driver.sys"));
    auto result = m.run("seed_000_ioctl_app.exe");
    // 49 bytes of output buffer, all 0xF1, and Information = 49.
    EXPECT_EQ(result.output, "len: 49\n" + repeat("0xF1 ", 49)) << m.dump();
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_TRUE(m.has_debug("seed_000_ioctl_driver.sys, Enter IoctlDispatchRoutine")) << m.dump();
    EXPECT_TRUE(m.has_debug("seed_000_ioctl_driver.sys, ====Get ioctl code 1")) << m.dump();
    // DbgPrint((PCSTR)buffer): the input text "hello, driver\r\n" (line end dropped).
    EXPECT_TRUE(m.has_debug("seed_000_ioctl_driver.sys, hello, driver")) << m.dump();
    // Create and close go to DefDispatchRoutine.
    EXPECT_EQ(m.count_debug("seed_000_ioctl_driver.sys, Enter DefDispatchRoutine"), 2u) << m.dump();
    m.unload("MyDevice1");
    EXPECT_TRUE(m.finding_codes().empty()) << m.dump();
}

// ---- 000 section 3: the SCM loader ----------------------------------------------------

TEST(Seed000ScmLoader, LoadsAndStopsMydriverSysAfterSleep3000)
{
    SeedMachine m;
    int64_t before = m.system().interrupt_time();
    // Empty standard input: the final getchar() reads EOF and the app ends.
    auto result = m.run("seed_000_scm_loader.exe", "");
    EXPECT_EQ(result.output, "驱动已经加载\n驱动已经停止\n") << m.dump();
    EXPECT_EQ(result.exit_code, 0);
    // C:\mydriver.sys is the section 2 empty driver, built again as mydriver.sys.
    EXPECT_EQ(m.debug(), (std::vector<std::string>{"mydriver.sys, DriverEntry", "mydriver.sys, DriverUnload"}))
        << m.dump();
    // Sleep(3000) advanced the simulated clock by 3 s (100 ns units) instead of waiting.
    EXPECT_EQ(m.system().interrupt_time() - before, 30000000) << m.dump();
    EXPECT_TRUE(m.trace_contains("StartService(mydriver): binary \"C:\\mydriver.sys\" -> mydriver.sys")) << m.dump();
    EXPECT_TRUE(m.finding_codes().empty()) << m.dump();
}

// ---- 000 section 10: direct I/O and the MDL -------------------------------------------

TEST(Seed000DirectIo, WriteBeyondTheDriverBufferFailsWithErrorFileInvalid)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("MyDevice1", "seed_000_direct_io_driver.sys"));
    auto result = m.run("seed_000_direct_io_app.exe");
    // Test 1: WriteFile of 1000 bytes; 0 + 1000 > BUFFER_LENGTH (512), so the driver
    // completes the IRP with STATUS_FILE_INVALID and WriteFile fails ("当然会失败").
    EXPECT_EQ(line_value(result.output, "1: ", 1), "failed") << result.output;
    EXPECT_TRUE(m.has_debug("seed_000_direct_io_driver.sys, WriteLength: 1000\r\nWriteOffset: 0")) << m.dump();
    EXPECT_TRUE(m.has_debug("seed_000_direct_io_driver.sys, E: The size of the data is too long.")) << m.dump();
    EXPECT_TRUE(m.trace_contains("completed: STATUS_FILE_INVALID")) << m.dump();
    // ... which GetLastError reports as ERROR_FILE_INVALID (the app does not print it).
    EXPECT_EQ(RtlNtStatusToDosErrorNoTeb(STATUS_FILE_INVALID), static_cast<ULONG>(ERROR_FILE_INVALID));
}

TEST(Seed000DirectIo, WritesHelloDriverAtOffset5ReadsItBackAndReportsUsed20)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("MyDevice1", "seed_000_direct_io_driver.sys"));
    auto result = m.run("seed_000_direct_io_app.exe");
    EXPECT_EQ(result.exit_code, 0);
    // The buffer addresses differ from run to run; everything else is fixed.
    std::string buffer1 = line_value(result.output, "1: buffer_addr: ");
    std::string buffer2 = line_value(result.output, "2: buffer_addr: ", 1);
    ASSERT_FALSE(buffer1.empty()) << result.output;
    ASSERT_FALSE(buffer2.empty()) << result.output;
    // Test 3 reads bytes 0..48 (the I/O manager leaves the file position at 0): five zero
    // bytes, "hello, driver\r\n" written at offset 5 by test 2, then zeros.
    unsigned char expected[49] = {0};
    std::memcpy(expected + 5, "hello, driver\r\n", 15);
    std::string bytes;
    for (unsigned char b : expected) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X ", b);
        bytes += hex;
    }
    EXPECT_EQ(result.output, "1: buffer_addr: " + buffer1 + "\n"
                             "1: failed\n"
                             "2: buffer_addr: " + buffer1 + "\n"
                             "2: len: 15\n"
                             "2: buffer_addr: " + buffer2 + "\n"
                             "3: len: 49\n" + bytes + "\n"
                             "used: 20\n")
        << m.dump();
    EXPECT_TRUE(m.has_debug("seed_000_direct_io_driver.sys, WriteLength: 15\r\nWriteOffset: 5")) << m.dump();
    EXPECT_TRUE(m.has_debug("seed_000_direct_io_driver.sys, ReadLength: 49\r\nReadOffset: 0")) << m.dump();
    // GetFileSize: IRP_MJ_QUERY_INFORMATION, FileStandardInformation.EndOfFile = 5 + 15.
    EXPECT_TRUE(m.has_debug("seed_000_direct_io_driver.sys, QueryInfomationDispatchRoutine")) << m.dump();
}

TEST(Seed000DirectIo, MdlVirtualAddressIsTheAppsBuffer)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("MyDevice1", "seed_000_direct_io_driver.sys"));
    auto result = m.run("seed_000_direct_io_app.exe");
    // The app prints its buffers' addresses ("2: buffer_addr" twice: the seed's own label);
    // the driver logs MmGetMdlVirtualAddress for each write and read, in the same format.
    std::string buffer1 = line_value(result.output, "2: buffer_addr: ", 0);
    std::string buffer2 = line_value(result.output, "2: buffer_addr: ", 1);
    ASSERT_FALSE(buffer1.empty()) << result.output;
    ASSERT_FALSE(buffer2.empty()) << result.output;
    std::vector<std::string> mdl;
    for (const auto& d : m.debug())
        if (d.rfind("seed_000_direct_io_driver.sys, MmGetMdlVirtualAddress :", 0) == 0)
            mdl.push_back(d.substr(d.find(':') + 1));
    // Test 1 (the 1000-byte write), test 2 (the write), test 3 (the read).
    ASSERT_EQ(mdl.size(), 3u) << m.dump();
    EXPECT_EQ(mdl[0], buffer1) << m.dump();
    EXPECT_EQ(mdl[1], buffer1) << m.dump();
    EXPECT_EQ(mdl[2], buffer2) << m.dump();
}

TEST(Seed000DirectIo, SystemAddressIsASecondMappingOfTheAppsPages)
{
    // "用MmGetSystemAddressForMdlSafe得到应用程序提供的用户模式缓冲区映射到的物理内存在内核模式下的
    // 重新映射的地址": the driver's address is another mapping of the same physical pages,
    // so it differs from the app's buffer address but keeps its offset into the page.
    SeedMachine m;
    ASSERT_TRUE(m.load("MyDevice1", "seed_000_direct_io_driver.sys"));
    auto result = m.run("seed_000_direct_io_app.exe");
    std::vector<std::string> mdl, system;
    for (const auto& d : m.debug()) {
        if (d.rfind("seed_000_direct_io_driver.sys, MmGetMdlVirtualAddress :", 0) == 0)
            mdl.push_back(d.substr(d.find(':') + 1));
        if (d.rfind("seed_000_direct_io_driver.sys, MmGetSystemAddressForMdlSafe :", 0) == 0)
            system.push_back(d.substr(d.find(':') + 1));
    }
    ASSERT_EQ(system.size(), 3u) << m.dump();
    ASSERT_EQ(mdl.size(), 3u) << m.dump();
    for (size_t i = 0; i < 3; ++i) {
        // Both printed with "0x%08X": the low 32 bits, "0x" and 8 hex digits, then "\r\n".
        EXPECT_NE(system[i], mdl[i]) << m.dump();
        EXPECT_EQ(system[i].substr(7, 3), mdl[i].substr(7, 3)) << "same offset in the page: " << m.dump();
    }
}

TEST(Seed000DirectIo, UnloadReportsTheNeverFreedPoolBuffer)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("MyDevice1", "seed_000_direct_io_driver.sys"));
    m.run("seed_000_direct_io_app.exe");
    m.unload("MyDevice1");
    // DriverEntry's ExAllocatePool(PagedPool, BUFFER_LENGTH) is never freed.
    const Finding* leak = m.finding("POOL_LEAK");
    ASSERT_NE(leak, nullptr) << m.dump();
    EXPECT_NE(leak->message.find("512 bytes of paged pool"), std::string::npos) << leak->message;
    EXPECT_EQ(m.finding_codes(), std::vector<std::string>{"POOL_LEAK"}) << m.dump();
}

// ---- 002: the open/close driver and its app -------------------------------------------

TEST(Seed002OpenClose, AppOpensAndClosesAndDriverPrintsCreateAndClose)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("My_Device", "seed_002_open_close_driver.sys"));
    EXPECT_TRUE(m.has_debug("seed_002_open_close_driver.sys, 驱动加载完成...")) << m.dump();
    auto result = m.run("seed_002_open_close_app.exe");
    EXPECT_EQ(result.output, "") << m.dump();  // no "获取驱动句柄失败"
    EXPECT_EQ(result.exit_code, 0);
    // The seed writes "\\n" in DispatchCreate: DbgPrint shows a backslash and an n.
    EXPECT_EQ(m.count_debug("seed_002_open_close_driver.sys, 派遣函数 IRP_MJ_CREATE 成功执行 !\\n"), 1u) << m.dump();
    EXPECT_EQ(m.count_debug("seed_002_open_close_driver.sys, 派遣函数 IRP_MJ_CLOSE 成功执行 !"), 1u) << m.dump();
}

TEST(Seed002OpenClose, UnloadDeletesTheWrongLinkAndLeavesMyDeviceBehind)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("My_Device", "seed_002_open_close_driver.sys"));
    m.run("seed_002_open_close_app.exe");
    m.unload("My_Device");
    EXPECT_TRUE(m.has_debug("seed_002_open_close_driver.sys, 删除设备与符号链接成功...")) << m.dump();
    // It created \??\My_Device but deletes \??\My_Driver.
    const Finding* wrong = m.finding("SYMLINK_DELETE_FAILED");
    ASSERT_NE(wrong, nullptr) << m.dump();
    EXPECT_NE(wrong->message.find("My_Driver"), std::string::npos) << wrong->message;
    const Finding* left = m.finding("SYMLINK_LEFT_BEHIND");
    ASSERT_NE(left, nullptr) << m.dump();
    EXPECT_NE(left->message.find("\\GLOBAL??\\My_Device"), std::string::npos) << left->message;
    EXPECT_NE(left->message.find("pointing at a device that no longer exists"), std::string::npos) << left->message;
    EXPECT_EQ(m.finding_codes(), (std::vector<std::string>{"SYMLINK_DELETE_FAILED", "SYMLINK_LEFT_BEHIND"}))
        << m.dump();
}

// ---- 002: the read driver and its app -------------------------------------------------

TEST(Seed002Read, ReadFileReturnsTenBytesOf0x68)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("My_Device", "seed_002_read_driver.sys"));
    auto result = m.run("seed_002_read_app.exe");
    EXPECT_EQ(result.output, "68686868686868686868") << m.dump();
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_TRUE(m.has_debug("seed_002_read_driver.sys, 应用要读取的长度: 10\\n")) << m.dump();
}

TEST(Seed002Read, UnloadDeletesTheWrongLinkAndLeavesMyDeviceBehind)
{
    SeedMachine m;
    ASSERT_TRUE(m.load("My_Device", "seed_002_read_driver.sys"));
    m.run("seed_002_read_app.exe");
    m.unload("My_Device");
    const Finding* wrong = m.finding("SYMLINK_DELETE_FAILED");
    ASSERT_NE(wrong, nullptr) << m.dump();
    EXPECT_NE(wrong->message.find("My_Driver"), std::string::npos) << wrong->message;
    const Finding* left = m.finding("SYMLINK_LEFT_BEHIND");
    ASSERT_NE(left, nullptr) << m.dump();
    EXPECT_NE(left->message.find("\\GLOBAL??\\My_Device"), std::string::npos) << left->message;
    EXPECT_NE(left->message.find("pointing at a device that no longer exists"), std::string::npos) << left->message;
    EXPECT_EQ(m.finding_codes(), (std::vector<std::string>{"SYMLINK_DELETE_FAILED", "SYMLINK_LEFT_BEHIND"}))
        << m.dump();
}

#endif  // IOSIM_SEED_LISTINGS
