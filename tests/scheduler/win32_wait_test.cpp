// win32_wait_test.cpp - kernel32's waits on events, Sleep and the simulated clock.
#include <gtest/gtest.h>

#include "machine.h"
#include "system.h"
#include "windows.h"

using namespace iosim;

namespace {

struct Win32Wait : ::testing::Test {
    Machine machine;
    Process* app = nullptr;
    std::unique_ptr<ThreadSwitch> in_app;
    void SetUp() override
    {
        app = machine.create_process("app.exe");
        in_app = std::make_unique<ThreadSwitch>(machine.system().main_thread(app));
    }
    void TearDown() override
    {
        in_app.reset();
        machine.end_process(app);
    }
};

}  // namespace

TEST_F(Win32Wait, ASignalledEventSatisfiesTheWaitAtOnce)
{
    HANDLE event = CreateEventW(nullptr, TRUE, TRUE, nullptr);
    EXPECT_EQ(WaitForSingleObject(event, INFINITE), WAIT_OBJECT_0);
    EXPECT_EQ(GetTickCount64(), 0u) << "no time passed";
    CloseHandle(event);
}

TEST_F(Win32Wait, AnUnsignalledEventTimesOutAfterTheSimulatedTimeout)
{
    HANDLE event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    EXPECT_EQ(WaitForSingleObject(event, 250), WAIT_TIMEOUT);
    EXPECT_EQ(GetTickCount64(), 250u);
    EXPECT_EQ(WaitForSingleObject(event, 0), WAIT_TIMEOUT) << "a zero timeout tests the state";
    EXPECT_EQ(GetTickCount64(), 250u);
    CloseHandle(event);
}

TEST_F(Win32Wait, AnAutoResetEventSatisfiesOneWaitThenResets)
{
    HANDLE event = CreateEventW(nullptr, FALSE, TRUE, nullptr);
    EXPECT_EQ(WaitForSingleObject(event, 0), WAIT_OBJECT_0);
    EXPECT_EQ(WaitForSingleObject(event, 0), WAIT_TIMEOUT);
    CloseHandle(event);
}

TEST_F(Win32Wait, WaitForMultipleObjectsReportsTheFirstSignalledIndexOrWaitsForAll)
{
    HANDLE events[3] = {CreateEventW(nullptr, TRUE, FALSE, nullptr), CreateEventW(nullptr, TRUE, TRUE, nullptr),
                        CreateEventW(nullptr, TRUE, TRUE, nullptr)};
    EXPECT_EQ(WaitForMultipleObjects(3, events, FALSE, 0), WAIT_OBJECT_0 + 1);
    EXPECT_EQ(WaitForMultipleObjects(3, events, TRUE, 10), WAIT_TIMEOUT);
    SetEvent(events[0]);
    EXPECT_EQ(WaitForMultipleObjects(3, events, TRUE, 10), WAIT_OBJECT_0);
    for (HANDLE e : events)
        CloseHandle(e);
}

TEST_F(Win32Wait, BadHandlesAndCountsFailAsWindowsSays)
{
    EXPECT_EQ(WaitForSingleObject(reinterpret_cast<HANDLE>(0x1234), 0), WAIT_FAILED);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    HANDLE event = CreateEventW(nullptr, TRUE, TRUE, nullptr);
    EXPECT_EQ(WaitForMultipleObjects(0, &event, FALSE, 0), WAIT_FAILED);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    CloseHandle(event);
}

TEST_F(Win32Wait, SleepMovesTheSimulatedClock)
{
    Sleep(3000);
    EXPECT_EQ(GetTickCount64(), 3000u);
    Sleep(0);
    EXPECT_EQ(GetTickCount64(), 3000u);
}

TEST_F(Win32Wait, WaitingForeverOnAnEventNobodySetsIsADeadlockReport)
{
    HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    try {
        WaitForSingleObject(event, INFINITE);
        FAIL() << "expected a deadlock report";
    } catch (const BugCheck& stop) {
        EXPECT_EQ(stop.info().code, DRIVER_VERIFIER_DETECTED_VIOLATION);
        EXPECT_NE(stop.info().reason.find("WaitForSingleObject"), std::string::npos) << stop.info().reason;
    }
    CloseHandle(event);
}
