// worker_driver_test.cpp - the worker sample driver and worker_client end to end: a system
// thread and a work item doing a client's work, a clean unload, and the three mistakes the
// driver can be asked to make.
#include <gtest/gtest.h>

#include "e2e/e2e_support.h"
#include "threads/threads_support.h"
#include "../../drivers/worker/worker_public.h"

using namespace iosim;
using e2e::InOrder;
using threads::Stop;

namespace {

struct WorkerDriver : ::testing::Test {
    e2e::Rig rig;
    void SetUp() override
    {
        std::string message;
        ASSERT_EQ(rig.machine.load_driver("worker", "worker.sys", &message), STATUS_SUCCESS) << message;
    }
    // Sends `code` from a process of its own; the bug check it stopped with (0: none).
    BugCheckInfo Send(DWORD code)
    {
        e2e::Win32Process app(rig.machine);
        BugCheckInfo stop = Stop([&] {
            app.Run([&] {
                HANDLE device = e2e::OpenDevice(u"\\\\.\\IosimWorker", GENERIC_READ | GENERIC_WRITE);
                ASSERT_NE(device, INVALID_HANDLE_VALUE);
                DWORD returned = 0;
                EXPECT_TRUE(DeviceIoControl(device, code, nullptr, 0, nullptr, 0, &returned, nullptr));
                Sleep(10);  // the worker threads run meanwhile
                CloseHandle(device);
            });
        });
        if (stop.code != 0)
            app.Abandon();
        return stop;
    }
};

}  // namespace

TEST_F(WorkerDriver, TheClientsWorkIsDoneByTheSystemThreadAndAWorkerThread)
{
    auto result = rig.machine.run_app("worker_client.exe");
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    std::vector<std::string> lines = e2e::SplitLines(result.output);
    ASSERT_EQ(lines.size(), 5u) << result.output;
    EXPECT_NE(lines[0].find("client is thread"), std::string::npos);
    EXPECT_NE(lines[0].find("of process"), std::string::npos);
    // The system thread made at DriverEntry, and a worker thread: both in the System process.
    EXPECT_NE(lines[1].find("system thread: round 1 done by thread"), std::string::npos) << lines[1];
    EXPECT_NE(lines[2].find("work item: round 2 done by thread"), std::string::npos) << lines[2];
    for (size_t i = 1; i < 5; ++i)
        EXPECT_NE(lines[i].find("of process 4 at IRQL 0"), std::string::npos) << lines[i];
    auto who = [](const std::string& line) { return line.substr(line.find(" by thread")); };
    EXPECT_EQ(who(lines[1]), who(lines[3])) << "the same system thread did both of its rounds";
    EXPECT_NE(who(lines[1]), who(lines[2])) << "the work item ran in another thread";
    EXPECT_TRUE(InOrder(rig.debug, {"worker: system thread started", "round 1 by the system thread",
                                    "round 2 by the work item", "round 3 by the system thread",
                                    "round 4 by the work item"}));
    std::string message;
    EXPECT_EQ(rig.machine.unload_driver("worker", &message), STATUS_SUCCESS) << message;
    EXPECT_TRUE(InOrder(rig.debug, {"worker: system thread stopping", "system thread ended, 4 round(s) done"}));
    EXPECT_TRUE(rig.FindingCodes().empty()) << rig.FindingsDump();
}

TEST_F(WorkerDriver, UnloadingWithoutStoppingTheThreadIsDriverUnloadedWithoutCancellingPendingOperations)
{
    EXPECT_EQ(Send(IOCTL_WORKER_FORGET_TO_STOP).code, 0u);
    BugCheckInfo stop = Stop([&] { rig.machine.unload_driver("worker"); });
    EXPECT_EQ(stop.code, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS);
    EXPECT_NE(stop.reason.find("system thread worker!WorkerThread"), std::string::npos) << stop.reason;
    EXPECT_NE(stop.reason.find("still running"), std::string::npos) << stop.reason;
}

TEST_F(WorkerDriver, AWorkItemReturningAtDispatchLevelIsWorkerThreadReturnedAtBadIrql)
{
    BugCheckInfo stop = Send(IOCTL_WORKER_BAD_IRQL_ITEM);
    EXPECT_EQ(stop.code, WORKER_THREAD_RETURNED_AT_BAD_IRQL);
    EXPECT_EQ(stop.parameters[1], DISPATCH_LEVEL);
    EXPECT_NE(stop.reason.find("WorkerBadIrqlRoutine"), std::string::npos) << stop.reason;
}

TEST_F(WorkerDriver, FreeingAQueuedWorkItemIsWorkerInvalid)
{
    BugCheckInfo stop = Send(IOCTL_WORKER_FREE_QUEUED);
    EXPECT_EQ(stop.code, WORKER_INVALID);
    EXPECT_EQ(stop.parameters[0], 2u) << "a queued I/O worker item was freed";
    EXPECT_NE(stop.location.find("worker.c"), std::string::npos) << stop.location;
}
