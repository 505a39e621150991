// async_bench.cpp - what asynchronous completion costs, against a plain hand-off between
// two host threads.
//
//   BM_CondVarRoundTrip        baseline: one request and its answer passed between two
//                              std::threads with a mutex and a std::condition_variable
//   BM_AsyncRoundTrip          an overlapped DeviceIoControl pended by bench_pend.sys,
//                              completed by the driver's system thread (the other simulated
//                              CPU's work), the app woken in GetOverlappedResult
//   BM_CondVarThroughput/N     baseline: N requests queued at once, N answers awaited
//   BM_OverlappedThroughput/N  N overlapped IOCTLs outstanding at once, then all awaited
//
// The simulated round trip is two context switches (app -> worker -> app: each a baton
// hand-off between host threads, so a condition-variable wake each) plus the I/O path and
// the requester's side of completion as a kernel APC. Tracing is off; seed 0. Part of
// bench_io (null_ioctl_bench.cpp holds main); tools/bench.sh writes docs/performance.md.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "machine.h"
#include "windows.h"

using namespace iosim;

namespace {

constexpr ULONG kIoctlPend = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS);

struct PendFixture {
    std::unique_ptr<Machine> machine;
    Process* process = nullptr;
    std::unique_ptr<ThreadSwitch> in_process;
    HANDLE handle = nullptr;

    PendFixture()
    {
        machine = std::make_unique<Machine>();
        std::string message;
        if (machine->load_driver("bench_pend", "bench_pend.sys", &message) != STATUS_SUCCESS) {
            std::fprintf(stderr, "bench: cannot load bench_pend.sys: %s\n", message.c_str());
            std::abort();
        }
        process = machine->create_process("bench_async.exe");
        in_process = std::make_unique<ThreadSwitch>(machine->system().main_thread(process));
        handle = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimBenchPend"), GENERIC_READ | GENERIC_WRITE, 0,
                             nullptr, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
        if (handle == INVALID_HANDLE_VALUE) {
            std::fprintf(stderr, "bench: cannot open \\\\.\\IosimBenchPend: error %lu\n",
                         static_cast<unsigned long>(GetLastError()));
            std::abort();
        }
    }
    ~PendFixture()
    {
        CloseHandle(handle);
        in_process.reset();
        machine->end_process(process);
        std::string message;
        machine->unload_driver("bench_pend", &message);
        machine.reset();
    }
};

void BM_AsyncRoundTrip(benchmark::State& state)
{
    PendFixture f;
    OVERLAPPED ov{};
    ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    for (auto _ : state) {
        DWORD bytes = 0;
        if (DeviceIoControl(f.handle, kIoctlPend, nullptr, 0, nullptr, 0, nullptr, &ov) ||
            GetLastError() != ERROR_IO_PENDING) {
            state.SkipWithError("the request did not pend");
            break;
        }
        if (!GetOverlappedResult(f.handle, &ov, &bytes, TRUE)) {
            state.SkipWithError("the request failed");
            break;
        }
    }
    CloseHandle(ov.hEvent);
}
BENCHMARK(BM_AsyncRoundTrip);

void BM_OverlappedThroughput(benchmark::State& state)
{
    PendFixture f;
    const auto n = static_cast<size_t>(state.range(0));
    std::vector<OVERLAPPED> ovs(n);
    for (auto& ov : ovs)
        ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    for (auto _ : state) {
        for (auto& ov : ovs)
            if (DeviceIoControl(f.handle, kIoctlPend, nullptr, 0, nullptr, 0, nullptr, &ov) ||
                GetLastError() != ERROR_IO_PENDING)
                state.SkipWithError("a request did not pend");
        for (auto& ov : ovs) {
            DWORD bytes = 0;
            if (!GetOverlappedResult(f.handle, &ov, &bytes, TRUE))
                state.SkipWithError("a request failed");
        }
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
    for (auto& ov : ovs)
        CloseHandle(ov.hEvent);
}
BENCHMARK(BM_OverlappedThroughput)->Arg(1)->Arg(8)->Arg(64);

// The baseline server: a host thread that answers each queued request.
class HandOff {
public:
    HandOff() : server_([this] { serve(); }) {}
    ~HandOff()
    {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        requests_cv_.notify_one();
        server_.join();
    }
    void post(size_t count)
    {
        {
            std::lock_guard lock(mutex_);
            pending_ += count;
        }
        requests_cv_.notify_one();
    }
    void await(size_t count)
    {
        std::unique_lock lock(mutex_);
        answers_cv_.wait(lock, [&] { return answered_ >= count; });
        answered_ -= count;
    }

private:
    void serve()
    {
        std::unique_lock lock(mutex_);
        for (;;) {
            requests_cv_.wait(lock, [&] { return stop_ || pending_ > 0; });
            if (stop_)
                return;
            --pending_;
            ++answered_;
            answers_cv_.notify_one();
        }
    }

    std::mutex mutex_;
    std::condition_variable requests_cv_, answers_cv_;
    size_t pending_ = 0, answered_ = 0;
    bool stop_ = false;
    std::thread server_;
};

void BM_CondVarRoundTrip(benchmark::State& state)
{
    HandOff hand_off;
    for (auto _ : state) {
        hand_off.post(1);
        hand_off.await(1);
    }
}
BENCHMARK(BM_CondVarRoundTrip);

void BM_CondVarThroughput(benchmark::State& state)
{
    HandOff hand_off;
    const auto n = static_cast<size_t>(state.range(0));
    for (auto _ : state) {
        hand_off.post(n);
        hand_off.await(n);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}
BENCHMARK(BM_CondVarThroughput)->Arg(1)->Arg(8)->Arg(64);

}  // namespace
