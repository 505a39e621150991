// eventnotify_test.cpp - reverse communication through drivers/eventnotify: an app's event
// referenced with ObReferenceObjectByHandle and set from a timer DPC, ObReferenceObjectByHandle's
// handle rules, the inverted call (IOCTLs kept pending, one completed per notification), and
// the eventnotify_client and iocp_client sample apps.
#include "async_test_support.h"
#include "eventnotify_public.h"

using namespace async_test;

namespace {

class EventNotify : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        std::string message;
        ASSERT_EQ(machine.load_driver("eventnotify", "eventnotify.sys", &message), STATUS_SUCCESS) << message;
        h = OpenEn(false);
    }
    void TearDown() override
    {
        if (!system().dead() && h != INVALID_HANDLE_VALUE)
            CloseHandle(h);
        AsyncTest::TearDown();
    }

    HANDLE OpenEn(bool overlapped)
    {
        return CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\EventNotify"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, nullptr);
    }

    BOOL Control(DWORD code, void* in, DWORD in_size, void* out = nullptr, DWORD out_size = 0)
    {
        DWORD bytes = 0;
        return DeviceIoControl(h, code, in, in_size, out, out_size, &bytes, nullptr);
    }

    BOOL Register(HANDLE event)
    {
        EVENTNOTIFY_REGISTER reg{event};
        return Control(IOCTL_EVENTNOTIFY_REGISTER, &reg, sizeof(reg));
    }

    void Start(ULONG period_ms, ULONG count)
    {
        EVENTNOTIFY_START start{period_ms, count};
        ASSERT_TRUE(Control(IOCTL_EVENTNOTIFY_START, &start, sizeof(start)));
    }

    EVENTNOTIFY_INFO Last()
    {
        EVENTNOTIFY_INFO info{};
        EXPECT_TRUE(Control(IOCTL_EVENTNOTIFY_GET_LAST, nullptr, 0, &info, sizeof(info)));
        return info;
    }

    HANDLE h = INVALID_HANDLE_VALUE;
};

}  // namespace

// "The driver references the app's event by handle in the app's context and sets it later
// from a DPC, through the pointer."
TEST_F(EventNotify, TheDriverSetsTheAppsEventFromItsTimerDpc)
{
    HANDLE event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    ASSERT_TRUE(Register(event)) << GetLastError();
    ULONGLONG t0 = GetTickCount64();
    Start(100, 2);
    ASSERT_EQ(WaitForSingleObject(event, 1000), static_cast<DWORD>(WAIT_OBJECT_0));
    EXPECT_EQ(GetTickCount64() - t0, 100u);
    EXPECT_EQ(Last().Sequence, 1u);
    ASSERT_EQ(WaitForSingleObject(event, 1000), static_cast<DWORD>(WAIT_OBJECT_0));
    EXPECT_EQ(GetTickCount64() - t0, 200u);
    EXPECT_EQ(Last().Sequence, 2u);
    EXPECT_EQ(WaitForSingleObject(event, 500), static_cast<DWORD>(WAIT_TIMEOUT));  // only two were asked for
    EXPECT_TRUE(Register(nullptr));
    CloseHandle(event);
    EXPECT_TRUE(system().findings().empty()) << FindingsDump();
}

// "ObReferenceObjectByHandle with ObjectType and UserMode: a handle to an object of
// another type fails with STATUS_OBJECT_TYPE_MISMATCH (ERROR_INVALID_HANDLE in Win32)."
TEST_F(EventNotify, ObReferenceObjectByHandleWithTheWrongTypeFailsWithObjectTypeMismatch)
{
    // A file handle (the device's own, here) is no event.
    EXPECT_FALSE(Register(h));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    EXPECT_NE(FirstLine("completed: STATUS_OBJECT_TYPE_MISMATCH"), "") << TraceDump();
}

// "A handle that is not in the caller's handle table fails with STATUS_INVALID_HANDLE."
TEST_F(EventNotify, ObReferenceObjectByHandleWithABadHandleFailsWithInvalidHandle)
{
    EXPECT_FALSE(Register(reinterpret_cast<HANDLE>(static_cast<uintptr_t>(0x7FF0))));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    EXPECT_NE(FirstLine("completed: STATUS_INVALID_HANDLE"), "") << TraceDump();
}

// "A kernel handle (OBJ_KERNEL_HANDLE) is valid only with KernelMode: with UserMode,
// ObReferenceObjectByHandle fails with STATUS_INVALID_HANDLE." And the type check from the
// driver's side: the app's event handle as a file object is STATUS_OBJECT_TYPE_MISMATCH.
TEST_F(EventNotify, AKernelHandleIsInvalidFromUserModeAndValidFromKernelMode)
{
    HANDLE event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    EVENTNOTIFY_REGISTER reg{event};
    EVENTNOTIFY_RULES rules{};
    ASSERT_TRUE(Control(IOCTL_EVENTNOTIFY_CHECK_RULES, &reg, sizeof(reg), &rules, sizeof(rules))) << GetLastError();
    EXPECT_EQ(rules.AsEventUserMode, STATUS_SUCCESS);
    EXPECT_EQ(rules.AsFileUserMode, STATUS_OBJECT_TYPE_MISMATCH);
    EXPECT_EQ(rules.KernelHandleUserMode, STATUS_INVALID_HANDLE);
    EXPECT_EQ(rules.KernelHandleKernelMode, STATUS_SUCCESS);
    CloseHandle(event);
}

// "UserMode checks the handle's granted access: an event handle without EVENT_MODIFY_STATE
// gives STATUS_ACCESS_DENIED."
TEST_F(EventNotify, ObReferenceObjectByHandleChecksTheGrantedAccessForUserMode)
{
    HANDLE event = CreateEventW(nullptr, FALSE, FALSE, reinterpret_cast<LPCWSTR>(u"EnTestEvent"));
    HANDLE wait_only = OpenEventW(SYNCHRONIZE, FALSE, reinterpret_cast<LPCWSTR>(u"EnTestEvent"));
    ASSERT_NE(wait_only, nullptr) << GetLastError();
    EXPECT_FALSE(Register(wait_only));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    CloseHandle(wait_only);
    CloseHandle(event);
}

// "Closing the handle that registered the event makes the driver drop its reference
// (IRP_MJ_CLEANUP): the event object outlives it only as long as the app keeps a handle."
TEST_F(EventNotify, CleanupDropsTheRegistration)
{
    HANDLE event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    ASSERT_TRUE(Register(event));
    CloseHandle(h);
    h = OpenEn(false);
    Start(50, 1);
    EXPECT_EQ(WaitForSingleObject(event, 200), static_cast<DWORD>(WAIT_TIMEOUT));
    EXPECT_EQ(Last().Sequence, 1u);
    CloseHandle(event);
}

// "The inverted call: requests kept pending are completed one per notification, in order;
// a notification with none pending is dropped."
TEST_F(EventNotify, InvertedCallCompletesOnePendingRequestPerNotification)
{
    HANDLE ho = OpenEn(true);
    OVERLAPPED ov[2]{};
    EVENTNOTIFY_INFO info[2]{};
    for (int i = 0; i < 2; ++i) {
        ov[i].hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
        EXPECT_FALSE(DeviceIoControl(ho, IOCTL_EVENTNOTIFY_WAIT, nullptr, 0, &info[i], sizeof(info[i]), nullptr, &ov[i]));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
    }
    Start(30, 3);
    DWORD n = 0;
    ASSERT_TRUE(GetOverlappedResult(ho, &ov[0], &n, TRUE));
    EXPECT_EQ(n, sizeof(EVENTNOTIFY_INFO));
    EXPECT_EQ(info[0].Sequence, 1u);
    ASSERT_TRUE(GetOverlappedResult(ho, &ov[1], &n, TRUE));
    EXPECT_EQ(info[1].Sequence, 2u);
    Sleep(100);
    EVENTNOTIFY_INFO last = Last();
    EXPECT_EQ(last.Sequence, 3u);
    EXPECT_EQ(last.Dropped, 1u);
    for (auto& o : ov)
        CloseHandle(o.hEvent);
    CloseHandle(ho);
}

namespace {

iosim::Machine::AppResult RunSample(const char* app)
{
    iosim::Machine machine{iosim::Machine::Options{.trace = true,
                                                   .app_output = [](uint32_t, const std::string&, std::string_view) {},
                                                   .debug_output = [](std::string_view, std::string_view) {}}};
    std::string message;
    EXPECT_EQ(machine.load_driver("eventnotify", "eventnotify.sys", &message), STATUS_SUCCESS) << message;
    auto result = machine.run_app(app);
    EXPECT_TRUE(machine.system().findings().empty());
    std::string message2;
    EXPECT_EQ(machine.unload_driver("eventnotify", &message2), STATUS_SUCCESS) << message2;
    EXPECT_TRUE(machine.system().findings().empty());
    return result;
}

}  // namespace

TEST(EventNotifySample, ClientIsCalledBackByEventAndByInvertedCall)
{
    auto result = RunSample("eventnotify_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("[100 ms] event set by the driver: notification 1 (at 100 ms)"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("[300 ms] event set by the driver: notification 3 (at 300 ms)"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("(kernel handle, UserMode): 0xC0000008 (STATUS_INVALID_HANDLE)"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("request 3 completed by the driver: notification 7"), std::string::npos)
        << result.output;
}

TEST(IocpSample, FourRequestsOutstandingOnACompletionPort)
{
    auto result = RunSample("iocp_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("[50 ms] packet: key 7, 12 bytes, request 0: notification 1"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("[300 ms] packet: key 7, 12 bytes, request 1: notification 6"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("failed with error 995"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("the port is empty (WAIT_TIMEOUT)"), std::string::npos) << result.output;
}
