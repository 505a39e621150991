// session.h - one simulated machine driven by the command language: what `iosim run` does
// for each script, and what the interactive shell will do for each typed line.
//
//   iosim::lang::Session session({});             // a fresh Machine, tracing on
//   session.run_file("scenarios/hello.iosim");    // Outcome::Ok when every expectation held
//   session.run_line("h = open \\\\.\\IosimHello", {"<shell>", 1, 0});
//   session.complete("close ");                   // handle variables
//
// Output (echoed commands, the labelled trace, app and driver output, results) goes to
// Options::out; errors, failed expectations and bug check reports go to Options::err.
// Only one Session (one Machine) may exist at a time. A script is a saved shell session:
// run_file parses the whole file (and its includes) first, then runs it line by line.
// After a bug check the machine is dead: only expectations, print, breakpoints and
// inspection still run (docs/command-language.md, "Bug checks").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/diagnostic.h"
#include "machine.h"
#include "trace/trace.h"

namespace iosim::lang {

class Session {
public:
    struct Options {
        bool trace = true;     // show trace events (IRPs, objects, drivers) as they happen
        bool quiet = false;    // show only what apps print and the script's print lines
        bool verbose = false;  // events with sequence number, process:thread and IRQL; echo the seed
        std::function<void(std::string_view)> out;  // command output (default: standard output)
        std::function<void(std::string_view)> err;  // diagnostics (default: standard error)
        std::vector<std::string> module_path;       // empty: the default search path
        std::optional<uint64_t> seed;               // from the command line (a script's 'seed' overrides)
        // --free-running: the host picks among ready threads; a script's 'seed' is then ignored.
        bool free_running = false;
        // Called for every trace event after the session has shown it (the shell's
        // single-stepping stops here, while the event's IRP is still in flight).
        std::function<void(const trace::Event&)> on_event;
    };

    explicit Session(Options options);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Runs a script file (includes resolve relative to the including file). The outcome is
    // the worst of its lines; a bug check the script expected ('expect bugcheck') is not
    // counted, one it did not expect is.
    Outcome run_file(const std::string& path);
    // Runs one line (the shell calls this). A line that bug-checks returns BugCheck.
    Outcome run_line(std::string_view line, const Location& where);
    // Candidates for the last word of `prefix` (the line typed so far): command words,
    // variables, expectation words, IRP_MJ_/STATUS_ names, object names (\Device\...,
    // \GLOBAL??\..., \\.\...) and inspection commands, each a whole word, sorted.
    std::vector<std::string> complete(std::string_view prefix);

    Machine& machine();
    // The worst outcome of everything run so far (an expected bug check not counted).
    Outcome outcome() const;
    // The seed recorded by --seed or the script's 'seed' command.
    std::optional<uint64_t> seed() const;

    // Ends the machine now (unloads drivers, ends processes) and prints the objects still
    // alive; returns those lines. The trace stays readable afterwards. Also done by the
    // destructor.
    std::vector<std::string> shutdown();

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace iosim::lang
