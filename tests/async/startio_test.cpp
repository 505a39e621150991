// startio_test.cpp - system-queued StartIo (sim_io_manager/startio.cpp), device queues
// (sim_kernel/ke/device_queue.cpp) and the per-device I/O timer (io_timer.cpp), through the
// startio_test driver (drivers/startio_test.c): packets one at a time in arrival order, by
// key, cancelled in the queue or as the current IRP, IoSetStartIoAttributes, and IoTimer
// calls once per simulated second at DISPATCH_LEVEL.
#include "async_test_support.h"
#include "startio_test_public.h"

using namespace async_test;

namespace {

class StartIo : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        std::string message;
        ASSERT_EQ(machine.load_driver("startio_test", "startio_test.sys", &message), STATUS_SUCCESS) << message;
        device = OpenSi(true);
    }
    void TearDown() override
    {
        if (device != INVALID_HANDLE_VALUE && !system().dead())
            CloseHandle(device);
        for (HANDLE e : events)
            CloseHandle(e);
        AsyncTest::TearDown();
    }

    HANDLE OpenSi(bool overlapped)
    {
        return CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\StartIoTest"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, overlapped ? FILE_FLAG_OVERLAPPED : 0, nullptr);
    }

    // A control request on a synchronous handle of its own.
    BOOL Control(DWORD code, const void* in, DWORD in_size, void* out = nullptr, DWORD out_size = 0)
    {
        HANDLE h = OpenSi(false);
        DWORD bytes = 0;
        BOOL ok = DeviceIoControl(h, code, const_cast<void*>(in), in_size, out, out_size, &bytes, nullptr);
        DWORD error = GetLastError();
        CloseHandle(h);
        SetLastError(error);
        return ok;
    }

    void Configure(ULONG deferred, ULONG non_cancelable, ULONG by_key)
    {
        SI_CONFIG config{deferred, non_cancelable, by_key};
        ASSERT_TRUE(Control(IOCTL_SI_CONFIG, &config, sizeof(config)));
    }

    SI_LOG Log()
    {
        SI_LOG log{};
        EXPECT_TRUE(Control(IOCTL_SI_LOG, nullptr, 0, &log, sizeof(log)));
        return log;
    }

    BOOL Release() { return Control(IOCTL_SI_RELEASE, nullptr, 0); }

    void Timer(ULONG op) { ASSERT_TRUE(Control(IOCTL_SI_TIMER, &op, sizeof(op))); }

    // Sends a packet on the overlapped handle; it pends (IoMarkIrpPending + IoStartPacket).
    OVERLAPPED* Send(SI_PACKET packet)
    {
        auto* ov = &overlapped[sent++];
        *ov = OVERLAPPED{};
        ov->hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
        events.push_back(ov->hEvent);
        packets[sent - 1] = packet;
        EXPECT_FALSE(DeviceIoControl(device, IOCTL_SI_PACKET, &packets[sent - 1], sizeof(SI_PACKET), nullptr, 0,
                                     nullptr, ov));
        EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_IO_PENDING));
        return ov;
    }

    // Waits for a packet; returns its Win32 error (0 on success).
    DWORD Result(OVERLAPPED* ov)
    {
        DWORD n = 0;
        return GetOverlappedResult(device, ov, &n, TRUE) ? 0 : GetLastError();
    }

    static SI_PACKET Packet(ULONG key, ULONG hold = 0, ULONG cancelable = 0, ULONG use_key = 0, ULONG delay_ms = 0)
    {
        return SI_PACKET{key, use_key, cancelable, hold, delay_ms};
    }

    static std::vector<ULONG> Keys(const SI_LOG& log)
    {
        return std::vector<ULONG>(log.Keys, log.Keys + std::min<ULONG>(log.Count, SI_LOG_MAX));
    }

    HANDLE device = INVALID_HANDLE_VALUE;
    OVERLAPPED overlapped[SI_LOG_MAX]{};
    SI_PACKET packets[SI_LOG_MAX]{};
    int sent = 0;
    std::vector<HANDLE> events;
};

using KeyList = std::vector<ULONG>;

}  // namespace

// "IoStartPacket calls StartIo at once when the device is idle and queues the IRP when it is
// busy; IoStartNextPacket hands StartIo the next one: one at a time, in arrival order, at
// DISPATCH_LEVEL."
TEST_F(StartIo, PacketsReachStartIoOneAtATimeInArrivalOrderAtDispatchLevel)
{
    OVERLAPPED* ov[4];
    for (ULONG i = 0; i < 4; ++i)
        ov[i] = Send(Packet(i, 0, 0, 0, 20));  // each completed by a timer DPC 20 ms later
    SI_LOG log = Log();
    EXPECT_EQ(log.Count, 1u);  // the first is in StartIo; three wait in the device queue
    EXPECT_EQ(log.Busy, 1u);
    for (auto* o : ov)
        EXPECT_EQ(Result(o), 0u);
    log = Log();
    EXPECT_EQ(Keys(log), (KeyList{0, 1, 2, 3}));
    EXPECT_EQ(log.Overlaps, 0u);
    EXPECT_EQ(log.NotAtDispatch, 0u);
    EXPECT_EQ(log.Busy, 0u);  // the last IoStartNextPacket found the queue empty
    EXPECT_EQ(log.CurrentIrpSet, 0u);
    EXPECT_NE(FirstLine("IoStartPacket: the device is busy, queued in its device queue"), "") << TraceDump();
    EXPECT_NE(FirstLine("taken from the device queue by IoStartNextPacket"), "") << TraceDump();
    EXPECT_TRUE(system().findings().empty()) << FindingsDump();
}

// "KeInsertByKeyDeviceQueue keeps entries in ascending key order; KeRemoveByKeyDeviceQueue
// takes the first whose key is >= the given one, or the head when there is none."
TEST_F(StartIo, ByKeyPacketsAreStartedInKeyOrderWrappingToTheHead)
{
    Configure(0, 0, 1);  // the next packet by key: the current key + 1
    OVERLAPPED* first = Send(Packet(15, 1, 0, 1));
    OVERLAPPED* rest[3] = {Send(Packet(30, 0, 0, 1)), Send(Packet(10, 0, 0, 1)), Send(Packet(20, 0, 0, 1))};
    EXPECT_TRUE(Release());
    EXPECT_EQ(Result(first), 0u);
    for (auto* o : rest)
        EXPECT_EQ(Result(o), 0u);
    EXPECT_EQ(Keys(Log()), (KeyList{15, 20, 30, 10}));
    EXPECT_NE(FirstLine("IoStartNextPacketByKey (key 16)"), "") << TraceDump();
}

// "The CancelFunction given to IoStartPacket cancels a queued packet: the driver takes it out
// with KeRemoveEntryDeviceQueue; it never reaches StartIo."
TEST_F(StartIo, CancellingAQueuedPacketRemovesItFromTheDeviceQueue)
{
    OVERLAPPED* held = Send(Packet(0, 1, 1));
    OVERLAPPED* queued = Send(Packet(1, 0, 1));
    OVERLAPPED* last = Send(Packet(2, 0, 1));
    EXPECT_TRUE(CancelIoEx(device, queued));
    EXPECT_EQ(Result(queued), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    EXPECT_TRUE(Release());
    EXPECT_EQ(Result(held), 0u);
    EXPECT_EQ(Result(last), 0u);
    EXPECT_EQ(Keys(Log()), (KeyList{0, 2}));
    EXPECT_TRUE(system().findings().empty()) << FindingsDump();
}

// "A cancel routine called for DeviceObject->CurrentIrp completes it and starts the next
// packet (IoStartNextPacket from the cancel routine)."
TEST_F(StartIo, CancellingTheCurrentPacketStartsTheNextOne)
{
    OVERLAPPED* held = Send(Packet(0, 1, 1));
    OVERLAPPED* next = Send(Packet(1));
    EXPECT_TRUE(CancelIoEx(device, held));
    EXPECT_EQ(Result(held), static_cast<DWORD>(ERROR_OPERATION_ABORTED));
    EXPECT_EQ(Result(next), 0u);
    SI_LOG log = Log();
    EXPECT_EQ(Keys(log), (KeyList{0, 1}));
    EXPECT_EQ(log.CancelRoutineSet[0], 1u);  // cancelable in StartIo (NonCancelable FALSE)
}

// "IoSetStartIoAttributes(NonCancelable = TRUE): an IRP cannot be cancelled once dequeued
// for StartIo; its cancel routine is gone there, and a cancel request does nothing."
TEST_F(StartIo, NonCancelableTakesTheCancelRoutineAwayBeforeStartIo)
{
    Configure(0, 1, 0);
    OVERLAPPED* first = Send(Packet(0, 0, 1, 0, 10));
    OVERLAPPED* held = Send(Packet(1, 1, 1));  // dequeued by IoStartNextPacket
    EXPECT_EQ(Result(first), 0u);
    EXPECT_TRUE(CancelIoEx(device, held));  // found, but it has no cancel routine
    EXPECT_NE(FirstLine("IoCancelIrp: no cancel routine set"), "") << TraceDump();
    EXPECT_TRUE(Release());
    EXPECT_EQ(Result(held), 0u);
    SI_LOG log = Log();
    EXPECT_EQ(log.CancelRoutineSet[0], 0u);
    EXPECT_EQ(log.CancelRoutineSet[1], 0u);
}

// Without the attribute, StartIo gets the IRP with its cancel routine still set.
TEST_F(StartIo, WithoutNonCancelableStartIoSeesTheCancelRoutine)
{
    OVERLAPPED* first = Send(Packet(0, 0, 1, 0, 10));
    OVERLAPPED* second = Send(Packet(1, 0, 1));
    EXPECT_EQ(Result(first), 0u);
    EXPECT_EQ(Result(second), 0u);
    SI_LOG log = Log();
    EXPECT_EQ(log.CancelRoutineSet[0], 1u);
    EXPECT_EQ(log.CancelRoutineSet[1], 1u);
}

// "Without DeferredStartIo, IoStartNextPacket called inside StartIo calls StartIo again at
// once: the calls nest."
TEST_F(StartIo, StartNextPacketInsideStartIoRecursesWithoutDeferredStartIo)
{
    OVERLAPPED* held = Send(Packet(0, 1));
    OVERLAPPED* sync[3] = {Send(Packet(1)), Send(Packet(2)), Send(Packet(3))};
    EXPECT_TRUE(Release());
    EXPECT_EQ(Result(held), 0u);
    for (auto* o : sync)
        EXPECT_EQ(Result(o), 0u);
    SI_LOG log = Log();
    EXPECT_EQ(Keys(log), (KeyList{0, 1, 2, 3}));
    EXPECT_EQ(log.MaxDepth, 3u);  // StartIo(1) -> StartIo(2) -> StartIo(3)
}

// "DeferredStartIo = TRUE: if StartIo calls IoStartNextPacket, StartIo is not called again
// until the current invocation returns."
TEST_F(StartIo, DeferredStartIoStartsTheNextPacketOnlyAfterStartIoReturns)
{
    Configure(1, 0, 0);
    OVERLAPPED* held = Send(Packet(0, 1));
    OVERLAPPED* sync[3] = {Send(Packet(1)), Send(Packet(2)), Send(Packet(3))};
    EXPECT_TRUE(Release());
    EXPECT_EQ(Result(held), 0u);
    for (auto* o : sync)
        EXPECT_EQ(Result(o), 0u);
    SI_LOG log = Log();
    EXPECT_EQ(Keys(log), (KeyList{0, 1, 2, 3}));
    EXPECT_EQ(log.MaxDepth, 1u);
    EXPECT_EQ(log.Busy, 0u);
}

// "IoStartTimer: the IoTimer routine is called once per second at DISPATCH_LEVEL until
// IoStopTimer; a stopped timer can be started again." On the simulated clock: exactly at
// each second after IoStartTimer.
TEST_F(StartIo, IoTimerRoutineRunsOncePerSimulatedSecondUntilStopped)
{
    ULONGLONG start_ms = GetTickCount64();  // the interrupt-time clock, in ms
    Timer(SI_TIMER_INIT_START);
    Sleep(3500);
    SI_LOG log = Log();
    ASSERT_EQ(log.Ticks, 3u);
    for (ULONG i = 0; i < 3; ++i)
        EXPECT_EQ(log.TickMs[i], start_ms + 1000 * (i + 1)) << i;
    EXPECT_EQ(log.TickNotAtDispatch, 0u);
    Timer(SI_TIMER_STOP);
    Sleep(3000);
    EXPECT_EQ(Log().Ticks, 3u);
    Timer(SI_TIMER_START);
    Timer(SI_TIMER_START);  // already running: no second timer
    Sleep(1500);
    EXPECT_EQ(Log().Ticks, 4u);
    Timer(SI_TIMER_STOP);
}

// "IoDeleteDevice removes the device's timer": unloading with the timer running leaves
// nothing that calls into the unloaded driver.
TEST_F(StartIo, UnloadWithTheTimerRunningRemovesIt)
{
    Timer(SI_TIMER_INIT_START);
    Sleep(1500);
    EXPECT_EQ(Log().Ticks, 1u);
    CloseHandle(device);
    device = INVALID_HANDLE_VALUE;
    std::string message;
    EXPECT_EQ(machine.unload_driver("startio_test", &message), STATUS_SUCCESS) << message;
    Sleep(3000);  // no tick can reach the unloaded image
    EXPECT_FALSE(system().dead());
    EXPECT_TRUE(system().findings().empty()) << FindingsDump();
}
