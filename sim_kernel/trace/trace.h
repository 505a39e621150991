// trace.h - one line per event: the record of what the simulated machine did.
//
// Each event gets a logical timestamp (a sequence number: no wall-clock time, so the
// same scenario gives the same trace byte for byte), the process, thread and IRQL it
// happened in, and a line of text. IRP events also carry the IRP's number, so tools
// can follow one request. Recording costs nothing when tracing is off.
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
    Note        // narration
};

struct Event {
    uint64_t seq = 0;
    Kind kind = Kind::Note;
    uint32_t pid = 0;
    uint32_t tid = 0;
    KIRQL irql = 0;
    uint64_t irp = 0;  // IRP number (0: none)
    std::string text;
};

class Trace {
public:
    bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
    void set_enabled(bool on) { enabled_.store(on, std::memory_order_relaxed); }

    // Records an event (stamps seq, pid, tid and IRQL from the current thread).
    void record(Kind kind, uint64_t irp, std::string text);

    std::vector<Event> events() const;
    void clear();

    // Called for each event as it is recorded (the tour prints them live).
    void set_listener(std::function<void(const Event&)> listener);

    // "  12  p8:t12 PASSIVE  text"
    static std::string format(const Event& event);

private:
    std::atomic<bool> enabled_{false};
    mutable std::mutex lock_;
    std::vector<Event> events_;
    uint64_t next_seq_ = 1;
    std::function<void(const Event&)> listener_;
};

const char* irql_name(KIRQL irql);

}  // namespace iosim::trace
