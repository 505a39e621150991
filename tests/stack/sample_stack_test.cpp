// sample_stack_test.cpp - the stack samples in drivers/: the four-layer stack
// (stack_bottom, lowerfilter, stack_function, upperfilter) and the run-time attachfilter.
// What an IRP visits, in which order, and what its completion routines see on the way up.
#include <gmock/gmock.h>

#include <cstring>

#include "attachfilter/attachfilter_public.h"
#include "stack/stack_test_support.h"
#include "windows.h"

using namespace iosim;
using namespace stack_test;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

constexpr DWORD kStackPath = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);

class SampleStack : public StackTest {
protected:
    // Loads the layers in the order PnP would: bottom (PDO), lower filter, function, upper.
    void load_stack()
    {
        load("stack_bottom", "stack_bottom.sys");
        load("lowerfilter", "lowerfilter.sys");
        load("stack_function", "stack_function.sys");
        load("upperfilter", "upperfilter.sys");
    }

    void unload_stack()
    {
        for (const char* service : {"upperfilter", "stack_function", "lowerfilter", "stack_bottom"}) {
            std::string message;
            EXPECT_EQ(machine.unload_driver(service, &message), STATUS_SUCCESS) << service << ": " << message;
        }
    }

    HANDLE open_stack()
    {
        enter_app();
        return CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimStack"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, 0, nullptr);
    }

    // The layer each debug line came from, for lines that mention `what`.
    std::vector<std::string> layers_seeing(const std::string& what)
    {
        std::vector<std::string> out;
        for (const auto& line : debug)
            if (line.find(what) != std::string::npos)
                out.push_back(line.substr(0, line.find(':')));
        return out;
    }
};

}  // namespace

TEST_F(SampleStack, LayersStackInLoadOrderWithGrowingStackSize)
{
    load_stack();
    DEVICE_OBJECT* bottom = driver(u"stack_bottom")->DeviceObject;
    DEVICE_OBJECT* lower = driver(u"lowerfilter")->DeviceObject;
    DEVICE_OBJECT* function = driver(u"stack_function")->DeviceObject;
    DEVICE_OBJECT* upper = driver(u"upperfilter")->DeviceObject;
    EXPECT_EQ(bottom->AttachedDevice, lower);
    EXPECT_EQ(lower->AttachedDevice, function);
    EXPECT_EQ(function->AttachedDevice, upper);
    EXPECT_EQ(IoGetAttachedDevice(bottom), upper);
    EXPECT_EQ(upper->StackSize, 4);
    EXPECT_TRUE((upper->Flags & DO_BUFFERED_IO) != 0) << "each filter copied the transfer flags of the device below";
    unload_stack();
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(SampleStack, AnIrpVisitsUpperFilterFunctionDriverAndLowerFilterInOrder)
{
    load_stack();
    HANDLE h = open_stack();
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    debug.clear();
    char data[] = "through four layers";
    DWORD n = 0;
    ASSERT_TRUE(WriteFile(h, data, sizeof(data) - 1, &n, nullptr));
    EXPECT_EQ(n, sizeof(data) - 1);
    // Each dispatch routine prints "<layer>: major 0x04 at stack location L of 4". The
    // upper filter and the function driver copy their location to the next one; the lower
    // filter skips, so the bottom driver works in the lower filter's location (2).
    EXPECT_THAT(layers_seeing("major 0x04 at"),
                ElementsAre("upperfilter", "stack_function", "lowerfilter", "stack_bottom"));
    EXPECT_THAT(debug_lines("upperfilter: major 0x04 at"), ElementsAre(HasSubstr("stack location 4 of 4")));
    EXPECT_THAT(debug_lines("stack_function: major 0x04 at"), ElementsAre(HasSubstr("stack location 3 of 4")));
    EXPECT_THAT(debug_lines("lowerfilter: major 0x04 at"), ElementsAre(HasSubstr("stack location 2 of 4")));
    EXPECT_THAT(debug_lines("stack_bottom: major 0x04"), ElementsAre(HasSubstr("stack location 2 of 4")));
    // Completion goes back up: the function driver's routine runs before the upper filter's.
    std::vector<std::string> completions = layers_seeing("complet");
    EXPECT_THAT(completions, ElementsAre("stack_function", "upperfilter"));
    char back[32] = {};
    ASSERT_TRUE(ReadFile(h, back, sizeof(back), &n, nullptr));
    EXPECT_EQ(std::string(back, n), "through four layers");
    CloseHandle(h);
    unload_stack();
}

TEST_F(SampleStack, SkipLetsTheLowerDriverReuseTheFiltersStackLocation)
{
    load_stack();
    HANDLE h = open_stack();
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    debug.clear();
    char data[4] = {};
    DWORD n = 0;
    ASSERT_TRUE(ReadFile(h, data, sizeof(data), &n, nullptr));
    // The lower filter skips reads: the bottom driver gets the filter's own location (2),
    // and location 1 is never used. (The other layers copy: each gets the next one.)
    EXPECT_THAT(debug_lines("lowerfilter: major 0x03"), ElementsAre(HasSubstr("stack location 2 of 4")));
    EXPECT_THAT(debug_lines("stack_bottom: major 0x03"), ElementsAre(HasSubstr("stack location 2 of 4")));
    CloseHandle(h);
    unload_stack();
}

TEST_F(SampleStack, CompletionRunsBottomUpAndEachRoutineSeesTheResult)
{
    load_stack();
    HANDLE h = open_stack();
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    char out[128] = {};
    DWORD n = 0;
    ASSERT_TRUE(DeviceIoControl(h, kStackPath, const_cast<char*>(""), 1, out, sizeof(out), &n, nullptr));
    EXPECT_STREQ(out, "upper function lower bottom <lower <function <upper");
    EXPECT_EQ(n, std::strlen(out) + 1);
    CloseHandle(h);
    unload_stack();
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(SampleStack, ARequestTheFunctionDriverRefusesNeverReachesTheLayersBelow)
{
    load_stack();
    HANDLE h = open_stack();
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    debug.clear();
    char big[40] = {};
    DWORD n = 123;
    EXPECT_FALSE(WriteFile(h, big, sizeof(big), &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(RtlNtStatusToDosError(STATUS_INVALID_BUFFER_SIZE)));
    EXPECT_THAT(layers_seeing("major 0x04 at"), ElementsAre("upperfilter", "stack_function"));
    EXPECT_THAT(debug_lines("upperfilter: major 0x04 completed"), ElementsAre(HasSubstr("0xC0000206")))
        << "the upper filter's completion routine still sees the refusal";
    CloseHandle(h);
    unload_stack();
}

TEST_F(SampleStack, TheLoadOrderMattersAFilterLoadedLastIsOnTop)
{
    // Loaded after the function driver, "lowerfilter" is no longer a lower filter.
    load("stack_bottom", "stack_bottom.sys");
    load("stack_function", "stack_function.sys");
    load("lowerfilter", "lowerfilter.sys");
    DEVICE_OBJECT* bottom = driver(u"stack_bottom")->DeviceObject;
    EXPECT_EQ(IoGetAttachedDevice(bottom), driver(u"lowerfilter")->DeviceObject);
    for (const char* service : {"lowerfilter", "stack_function", "stack_bottom"})
        EXPECT_EQ(machine.unload_driver(service), STATUS_SUCCESS);
}

TEST_F(SampleStack, AttachFilterJoinsANamedStackAtRunTimeAndLeavesCleanly)
{
    load("hello", "hello.sys");
    load("attachfilter", "attachfilter.sys");
    enter_app();
    HANDLE control = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimAttachFilter"), GENERIC_READ | GENERIC_WRITE, 0,
                                 nullptr, OPEN_EXISTING, 0, nullptr);
    ASSERT_NE(control, INVALID_HANDLE_VALUE);
    std::u16string target = u"\\Device\\IosimHello";
    DWORD target_bytes = static_cast<DWORD>(target.size() * sizeof(char16_t));
    DWORD n = 0;
    ASSERT_TRUE(DeviceIoControl(control, IOCTL_ATTACHFILTER_ATTACH, target.data(), target_bytes, nullptr, 0, &n, nullptr));
    DEVICE_OBJECT* hello = driver(u"hello")->DeviceObject;
    ASSERT_NE(hello->AttachedDevice, nullptr);
    EXPECT_EQ(hello->AttachedDevice->DriverObject, driver(u"attachfilter"));

    // Opening and closing \\.\IosimHello now passes through the filter: CREATE, CLEANUP, CLOSE.
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimHello"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    CloseHandle(h);
    ULONG seen = 0;
    ASSERT_TRUE(DeviceIoControl(control, IOCTL_ATTACHFILTER_COUNT, target.data(), target_bytes, &seen, sizeof(seen), &n,
                                nullptr));
    EXPECT_EQ(seen, 3u);
    EXPECT_THAT(layers_seeing("IRP_MJ_CREATE"), ElementsAre("hello")) << "hello still completes the create";
    EXPECT_EQ(debug_lines("attachfilter: major 0x00 for \\Device\\IosimHello").size(), 1u);

    // A second attach to the same name is refused; a name that does not exist fails.
    EXPECT_FALSE(DeviceIoControl(control, IOCTL_ATTACHFILTER_ATTACH, target.data(), target_bytes, nullptr, 0, &n, nullptr));
    std::u16string missing = u"\\Device\\IosimNothingHere";
    EXPECT_FALSE(DeviceIoControl(control, IOCTL_ATTACHFILTER_ATTACH, missing.data(),
                                 static_cast<DWORD>(missing.size() * sizeof(char16_t)), nullptr, 0, &n, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));

    ASSERT_TRUE(DeviceIoControl(control, IOCTL_ATTACHFILTER_DETACH, target.data(), target_bytes, nullptr, 0, &n, nullptr));
    EXPECT_EQ(hello->AttachedDevice, nullptr);
    CloseHandle(control);
    EXPECT_EQ(machine.unload_driver("attachfilter"), STATUS_SUCCESS);
    EXPECT_EQ(machine.unload_driver("hello"), STATUS_SUCCESS);
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(SampleStack, AttachFilterOnTopOfTheSampleStackAndItsUnloadDetaches)
{
    load_stack();
    load("attachfilter", "attachfilter.sys");
    enter_app();
    HANDLE control = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimAttachFilter"), GENERIC_READ | GENERIC_WRITE, 0,
                                 nullptr, OPEN_EXISTING, 0, nullptr);
    ASSERT_NE(control, INVALID_HANDLE_VALUE);
    std::u16string target = u"\\Device\\IosimStack";
    DWORD n = 0;
    ASSERT_TRUE(DeviceIoControl(control, IOCTL_ATTACHFILTER_ATTACH, target.data(),
                                static_cast<DWORD>(target.size() * sizeof(char16_t)), nullptr, 0, &n, nullptr));
    CloseHandle(control);
    DEVICE_OBJECT* upper = driver(u"upperfilter")->DeviceObject;
    EXPECT_EQ(upper->AttachedDevice->DriverObject, driver(u"attachfilter"));
    EXPECT_EQ(upper->AttachedDevice->StackSize, 5);

    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimStack"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    char out[128] = {};
    ASSERT_TRUE(DeviceIoControl(h, kStackPath, const_cast<char*>(""), 1, out, sizeof(out), &n, nullptr));
    EXPECT_STREQ(out, "upper function lower bottom <lower <function <upper") << "the skipping filter adds nothing";
    CloseHandle(h);

    EXPECT_EQ(machine.unload_driver("attachfilter"), STATUS_SUCCESS);
    EXPECT_EQ(upper->AttachedDevice, nullptr) << "DriverUnload detached the filter";
    unload_stack();
    EXPECT_TRUE(machine.system().findings().empty());
}
