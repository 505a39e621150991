// console.h - how the iosim command shows a running machine: one labelled line per event.
//
//   app   | text the app printed
//   dbg   | [driver.sys] DbgPrint text
//   irp   | IRP#3 IRP_MJ_DEVICE_CONTROL -> \Device\X [\Driver\x] stack location 1 of 1: x!Dispatch
//   ...
// Each label is padded to the same width so the flow reads top to bottom.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "machine.h"

namespace iosim::cli {

struct ConsoleOptions {
    bool show_trace = true;   // IRP, object and driver events
    bool show_debug = true;   // DbgPrint
    bool quiet = false;       // only the apps' own output
    bool verbose = false;     // prefix trace lines with sequence, process:thread and IRQL
    std::FILE* trace_file = nullptr;  // every trace line, numbered, also goes here
    std::vector<trace::Event>* collected = nullptr;  // events of all machines, renumbered in order
    uint64_t seed = 0;        // the scheduler's seed for every machine (--seed)
    bool free_running = false;  // the host picks among ready threads instead (--free-running)
};

class Console {
public:
    explicit Console(ConsoleOptions options) : options_(options) {}

    // Machine options wired to this console.
    Machine::Options machine_options(bool trace);
    // Prints trace events as they are recorded.
    void attach(Machine& machine);

    void say(std::string_view text);          // narration, as is
    void line(std::string_view label, std::string_view text);
    void flush_app_output();

private:
    void app_text(std::string_view text);

    ConsoleOptions options_;
    std::string partial_;  // app output not yet ended by a newline
};

}  // namespace iosim::cli
