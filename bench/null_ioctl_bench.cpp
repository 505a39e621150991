// null_ioctl_bench.cpp - what the I/O path costs: a null DeviceIoControl, end to end,
// against calling the driver's dispatch routine directly.
//
//   BM_DirectDispatch      the baseline: the dispatch routine called on a reused IRP
//   BM_NtDeviceIoControl   the system service (handle lookup, IRP, IoCallDriver, completion)
//   BM_Win32DeviceIoControl the whole path an app takes, from kernel32's DeviceIoControl
// All three run the same driver code (bench_null.sys: complete at once, no data) with
// tracing off. Results and ratios: docs/performance.md (tools/bench.sh refreshes it).
#include <benchmark/benchmark.h>

#include <memory>

#include "driver.h"
#include "irp.h"
#include "io_api.h"
#include "machine.h"
#include "windows.h"

using namespace iosim;

namespace {

constexpr ULONG kIoctlNull = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS);

struct Fixture {
    std::unique_ptr<Machine> machine;
    Process* process = nullptr;
    std::unique_ptr<ThreadSwitch> in_process;
    HANDLE handle = nullptr;
    DEVICE_OBJECT* device = nullptr;

    Fixture()
    {
        machine = std::make_unique<Machine>();
        std::string message;
        if (machine->load_driver("bench", "bench_null.sys", &message) != STATUS_SUCCESS) {
            std::fprintf(stderr, "bench: cannot load bench_null.sys: %s\n", message.c_str());
            std::abort();
        }
        process = machine->create_process("bench.exe");
        in_process = std::make_unique<ThreadSwitch>(machine->system().main_thread(process));
        handle = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimBench"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                             OPEN_EXISTING, 0, nullptr);
        device = io::find_driver(u"bench")->DeviceObject;
    }
    ~Fixture()
    {
        CloseHandle(handle);
        in_process.reset();
        machine->end_process(process);
        machine.reset();
    }
};

void BM_DirectDispatch(benchmark::State& state)
{
    Fixture f;
    PDRIVER_DISPATCH dispatch = f.device->DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL];
    IRP* irp = io::allocate_irp(1, false);
    IO_STACK_LOCATION* last = IoGetNextIrpStackLocation(irp);
    for (auto _ : state) {
        // Reset the IRP to "sent to the device" without going through the I/O manager.
        io::private_of(irp)->completed = false;
        irp->CurrentLocation = 1;
        irp->Tail.Overlay.CurrentStackLocation = last;
        last->MajorFunction = IRP_MJ_DEVICE_CONTROL;
        last->Parameters.DeviceIoControl.IoControlCode = kIoctlNull;
        benchmark::DoNotOptimize(dispatch(f.device, irp));
    }
    io::free_irp(irp);
}
BENCHMARK(BM_DirectDispatch);

void BM_NtDeviceIoControl(benchmark::State& state)
{
    Fixture f;
    for (auto _ : state) {
        IO_STATUS_BLOCK iosb;
        benchmark::DoNotOptimize(
            io::device_io_control(f.handle, kIoctlNull, nullptr, 0, nullptr, 0, false, UserMode, &iosb));
    }
}
BENCHMARK(BM_NtDeviceIoControl);

void BM_Win32DeviceIoControl(benchmark::State& state)
{
    Fixture f;
    for (auto _ : state) {
        DWORD bytes = 0;
        benchmark::DoNotOptimize(DeviceIoControl(f.handle, kIoctlNull, nullptr, 0, nullptr, 0, &bytes, nullptr));
    }
}
BENCHMARK(BM_Win32DeviceIoControl);

}  // namespace

BENCHMARK_MAIN();
