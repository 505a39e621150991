// stack_depth_bench.cpp - what a request costs against the depth of the device stack.
//
//   BM_StackDepth/N   a null DeviceIoControl (the system service, as in null_ioctl_bench)
//                     to \Device\IosimBench with N pass-through filters attached on top
//                     (bench_filter.sys): N = 0, 1, 2, 4, 8, 16.
// Each filter only skips its stack location and calls the driver below, so the growth
// per layer is the I/O manager's price of one IoCallDriver (one stack location more; past
// 8 locations the IRP no longer comes from the per-thread cache). Tracing is off.
// Part of bench_io (null_ioctl_bench.cpp holds main). Results and the per-layer cost:
// docs/performance.md (tools/bench.sh refreshes it).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "driver.h"
#include "io_api.h"
#include "machine.h"
#include "windows.h"

using namespace iosim;

namespace {

constexpr ULONG kIoctlNull = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS);
constexpr ULONG kIoctlAddFilters = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS);

HANDLE open_device(const char16_t* name)
{
    return CreateFileW(reinterpret_cast<LPCWSTR>(name), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0,
                       nullptr);
}

struct DepthFixture {
    std::unique_ptr<Machine> machine;
    Process* process = nullptr;
    std::unique_ptr<ThreadSwitch> in_process;
    HANDLE handle = nullptr;

    explicit DepthFixture(ULONG filters)
    {
        machine = std::make_unique<Machine>();
        std::string message;
        if (machine->load_driver("bench", "bench_null.sys", &message) != STATUS_SUCCESS ||
            machine->load_driver("bench_filter", "bench_filter.sys", &message) != STATUS_SUCCESS) {
            std::fprintf(stderr, "bench: cannot load the benchmark drivers: %s\n", message.c_str());
            std::abort();
        }
        process = machine->create_process("bench.exe");
        in_process = std::make_unique<ThreadSwitch>(machine->system().main_thread(process));
        HANDLE control = open_device(u"\\\\.\\IosimBenchFilter");
        DWORD n = 0;
        if (control == INVALID_HANDLE_VALUE ||
            !DeviceIoControl(control, kIoctlAddFilters, &filters, sizeof(filters), nullptr, 0, &n, nullptr)) {
            std::fprintf(stderr, "bench: cannot attach %lu filter(s)\n", static_cast<unsigned long>(filters));
            std::abort();
        }
        CloseHandle(control);
        handle = open_device(u"\\\\.\\IosimBench");
        DEVICE_OBJECT* bottom = io::find_driver(u"bench")->DeviceObject;
        if (IoGetAttachedDevice(bottom)->StackSize != static_cast<CCHAR>(filters + 1)) {
            std::fprintf(stderr, "bench: the stack is not %lu deep\n", static_cast<unsigned long>(filters + 1));
            std::abort();
        }
    }
    ~DepthFixture()
    {
        CloseHandle(handle);
        in_process.reset();
        machine->end_process(process);
        machine->unload_driver("bench_filter");
        machine.reset();
    }
};

void BM_StackDepth(benchmark::State& state)
{
    DepthFixture f(static_cast<ULONG>(state.range(0)));
    for (auto _ : state) {
        IO_STATUS_BLOCK iosb;
        benchmark::DoNotOptimize(
            io::device_io_control(f.handle, kIoctlNull, nullptr, 0, nullptr, 0, false, UserMode, &iosb));
    }
    state.counters["layers"] = static_cast<double>(state.range(0) + 1);
}
BENCHMARK(BM_StackDepth)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16);

}  // namespace
