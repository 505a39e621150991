// win32_thread_test.cpp - CreateThread and friends on the scheduler.
#include <gtest/gtest.h>

#include "machine.h"
#include "mm/memory_manager.h"
#include "system.h"
#include "windows.h"

using namespace iosim;

namespace {

struct Win32Thread : ::testing::Test {
    Machine machine{Machine::Options{.trace = true}};
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

struct Shared {
    HANDLE go;
    HANDLE done;
    int value = 0;
    void* stack_address = nullptr;
    DWORD tid = 0;
};

DWORD WINAPI worker(LPVOID parameter)
{
    auto* shared = static_cast<Shared*>(parameter);
    int local = 0;
    shared->stack_address = &local;
    shared->tid = GetCurrentThreadId();
    WaitForSingleObject(shared->go, INFINITE);
    shared->value = 42;
    SetEvent(shared->done);
    return 7;
}

}  // namespace

TEST_F(Win32Thread, ACreatedThreadRunsWhenTheCreatorWaitsAndItsHandleSignalsAtTheEnd)
{
    Shared shared{CreateEventW(nullptr, TRUE, FALSE, nullptr), CreateEventW(nullptr, TRUE, FALSE, nullptr)};
    DWORD tid = 0;
    HANDLE thread = CreateThread(nullptr, 0, worker, &shared, 0, &tid);
    ASSERT_NE(thread, nullptr);
    DWORD code = 0;
    EXPECT_TRUE(GetExitCodeThread(thread, &code));
    EXPECT_EQ(code, STILL_ACTIVE);
    EXPECT_EQ(shared.value, 0) << "it has not run yet: only one thread runs at a time";
    SetEvent(shared.go);
    EXPECT_EQ(WaitForSingleObject(shared.done, INFINITE), WAIT_OBJECT_0);
    EXPECT_EQ(shared.value, 42);
    EXPECT_EQ(WaitForSingleObject(thread, INFINITE), WAIT_OBJECT_0);
    EXPECT_TRUE(GetExitCodeThread(thread, &code));
    EXPECT_EQ(code, 7u);
    EXPECT_EQ(shared.tid, tid);
    mm::AddressInfo info = machine.system().memory().classify(shared.stack_address);
    EXPECT_EQ(info.region, mm::Region::User);
    EXPECT_EQ(info.owner, app) << "its stack is user memory of its process";
    CloseHandle(thread);
    CloseHandle(shared.go);
    CloseHandle(shared.done);
}

TEST_F(Win32Thread, ASuspendedThreadWaitsForResumeThread)
{
    Shared shared{CreateEventW(nullptr, TRUE, TRUE, nullptr), CreateEventW(nullptr, TRUE, FALSE, nullptr)};
    HANDLE thread = CreateThread(nullptr, 0, worker, &shared, CREATE_SUSPENDED, nullptr);
    EXPECT_EQ(WaitForSingleObject(shared.done, 100), WAIT_TIMEOUT) << "suspended: it cannot run";
    ResumeThread(thread);
    EXPECT_EQ(WaitForSingleObject(shared.done, INFINITE), WAIT_OBJECT_0);
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    CloseHandle(shared.go);
    CloseHandle(shared.done);
}

TEST_F(Win32Thread, ThreadsStillRunningAtProcessExitAreTerminated)
{
    static Shared shared;
    shared = Shared{CreateEventW(nullptr, TRUE, FALSE, nullptr), CreateEventW(nullptr, TRUE, FALSE, nullptr)};
    HANDLE thread = CreateThread(nullptr, 0, worker, &shared, 0, nullptr);
    Sleep(10);  // it runs and blocks on `go`, which nobody sets
    EXPECT_NE(shared.tid, 0u);
    CloseHandle(thread);
    // TearDown ends the process: the blocked thread is terminated and joined.
}
