// transfer_bench.cpp - a 64 KiB read, buffered against direct.
//
//   BM_Memcpy64K          the baseline: copying 64 KiB once (what buffered I/O adds)
//   BM_BufferedRead64K    ReadFile on a DO_BUFFERED_IO device: SystemBuffer from pool, the
//                         driver fills it, the I/O manager copies it to the app's buffer
//   BM_DirectRead64K      ReadFile on a DO_DIRECT_IO device: an MDL for the app's 16 pages,
//                         probed and locked, mapped a second time in system space for the
//                         driver (MmGetSystemAddressForMdlSafe), unmapped and unlocked at
//                         completion; no copy
// The app's buffer is user memory of the benchmark's process (its heap), as an app's
// would be. Results and ratios: docs/performance.md (tools/bench.sh).
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>

#include "machine.h"
#include "mm/memory_manager.h"
#include "windows.h"

using namespace iosim;

namespace {

constexpr DWORD kLength = 64 * 1024;

struct XferFixture {
    std::unique_ptr<Machine> machine;
    Process* process = nullptr;
    std::unique_ptr<ThreadSwitch> in_process;
    HANDLE handle = nullptr;
    char* buffer = nullptr;

    explicit XferFixture(const char16_t* path)
    {
        machine = std::make_unique<Machine>();
        std::string message;
        if (machine->load_driver("xfer", "bench_xfer.sys", &message) != STATUS_SUCCESS) {
            std::fprintf(stderr, "bench: cannot load bench_xfer.sys: %s\n", message.c_str());
            std::abort();
        }
        process = machine->create_process("bench.exe");
        in_process = std::make_unique<ThreadSwitch>(machine->system().main_thread(process));
        handle = CreateFileW(reinterpret_cast<LPCWSTR>(path), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr);
        buffer = static_cast<char*>(process->memory->heap->allocate(kLength, true));
    }
    ~XferFixture()
    {
        process->memory->heap->free(buffer);
        CloseHandle(handle);
        in_process.reset();
        machine->end_process(process);
        machine.reset();
    }
};

void read_loop(benchmark::State& state, const char16_t* path)
{
    XferFixture f(path);
    for (auto _ : state) {
        DWORD bytes = 0;
        BOOL ok = ReadFile(f.handle, f.buffer, kLength, &bytes, nullptr);
        if (!ok || bytes != kLength)
            state.SkipWithError("ReadFile failed");
        benchmark::DoNotOptimize(f.buffer[kLength - 1]);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kLength);
}

void BM_Memcpy64K(benchmark::State& state)
{
    std::unique_ptr<char[]> from(new char[kLength]());
    std::unique_ptr<char[]> to(new char[kLength]());
    for (auto _ : state) {
        std::memcpy(to.get(), from.get(), kLength);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kLength);
}
BENCHMARK(BM_Memcpy64K);

void BM_BufferedRead64K(benchmark::State& state) { read_loop(state, u"\\\\.\\IosimBenchBuffered"); }
BENCHMARK(BM_BufferedRead64K);

void BM_DirectRead64K(benchmark::State& state) { read_loop(state, u"\\\\.\\IosimBenchDirect"); }
BENCHMARK(BM_DirectRead64K);

}  // namespace
