// trace.h - one line per event: the record of what the simulated machine did.
//
// Each event gets a logical timestamp (a sequence number: no wall-clock time, so the
// same scenario gives the same trace byte for byte), the simulated time and the CPU it
// happened on (from the scheduler, through the clock System installs), the process,
// thread and IRQL it happened in, and a line of text. IRP events also carry the IRP's
// number, so tools can follow one request. Recording costs nothing when tracing is off.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "nt.h"

namespace iosim::trace {

enum class Kind : uint8_t {
    Irp,        // an IRP event: allocated, dispatched, completed, copied back, freed
    Driver,     // driver loaded, DriverEntry returned, unloaded
    Object,     // device, symbolic link created or deleted
    Process,    // process created, exited
    Win32,      // an app-level API call and its result
    DebugPrint, // DbgPrint output
    Finding,    // something reported (leak, misuse)
    Scheduler,  // context switch, timer expiry, wait released or timed out, DPC
    Note,       // narration
    Irql        // KeRaiseIrql / KeLowerIrql (and the spin locks and fast mutexes built on them)
};

// What an IRP event is about, for tools that draw the flow (JSON, Mermaid).
enum class IrpPhase : uint8_t {
    None,
    Allocated,          // the I/O manager built it for `major`
    Dispatched,         // sent to `device` (driver `driver`) at stack `location` of `stack_count`; `routine`
    Returned,           // the dispatch routine of `device` returned `status`
    Completed,          // IoCompleteRequest with `status` / `information`, at `routine` (file:line)
    CompletionRoutine,  // completion routine `routine` of `device` returned `status`
    CopiedBack,         // `information` bytes copied to the caller's buffer
    Freed,
};

struct IrpInfo {
    IrpPhase phase = IrpPhase::None;
    UCHAR major = 0;
    int location = 0;
    int stack_count = 0;
    NTSTATUS status = 0;
    ULONG_PTR information = 0;
    std::string device;   // "\Device\IosimHello"
    std::string driver;   // "\Driver\hello"
    std::string routine;  // "hello!HelloCreateClose" or "hello.cpp:67 in HelloCreateClose (hello.sys)"
};

struct Event {
    uint64_t seq = 0;
    int64_t time = 0;  // simulated time, 100 ns units since boot (moves only when every thread waits)
    uint32_t cpu = 0;  // the simulated CPU the recording thread was running on
    Kind kind = Kind::Note;
    uint32_t pid = 0;
    uint32_t tid = 0;
    KIRQL irql = 0;
    uint64_t irp = 0;  // IRP number (0: none)
    std::string text;
    IrpInfo info;      // for Kind::Irp events
};

// Where and when an event happened, as the scheduler knows it.
struct Stamp {
    uint32_t cpu = 0;
    int64_t time = 0;
};

class Trace {
public:
    bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
    void set_enabled(bool on) { enabled_.store(on, std::memory_order_relaxed); }

    // Records an event (stamps seq, pid, tid and IRQL from the current thread, CPU and time
    // from the clock).
    void record(Kind kind, uint64_t irp, std::string text, IrpInfo info = {});
    // The same with the CPU and time given (the scheduler's own events, recorded under its lock).
    void record_at(Stamp stamp, Kind kind, std::string text);
    // What stamps the CPU and simulated time of each event (System sets the scheduler's);
    // without one both are 0.
    void set_clock(std::function<Stamp()> clock) { clock_ = std::move(clock); }

    std::vector<Event> events() const;
    void clear();

    // Called for each event as it is recorded (the tour prints them live).
    void set_listener(std::function<void(const Event&)> listener);

    // "  12  0.0000ms cpu1 p8:t12 PASSIVE  text" (time since boot in milliseconds)
    static std::string format(const Event& event);
    // "12.3456ms": simulated time (100 ns units) in milliseconds, exactly.
    static std::string format_time(int64_t time);

private:
    void append(Event event);
    std::function<Stamp()> clock_;
    std::atomic<bool> enabled_{false};
    mutable std::mutex lock_;
    std::vector<Event> events_;
    uint64_t next_seq_ = 1;
    std::function<void(const Event&)> listener_;
};

const char* irql_name(KIRQL irql);

}  // namespace iosim::trace
