// run.cpp - `iosim run`: scripts of the command language, one simulated machine each.
#include "run.h"

#include <fmt/format.h>

#include <cstdio>

#include "exit_codes.h"
#include "lang/session.h"

namespace iosim::cli {

int run_scripts(const RunOptions& options)
{
    std::FILE* trace_out = nullptr;
    if (!options.trace_path.empty()) {
        trace_out = std::fopen(options.trace_path.c_str(), "w");
        if (trace_out == nullptr) {
            std::fprintf(stderr, "iosim run: cannot write %s\n", options.trace_path.c_str());
            return kBadUsage;
        }
    }
    lang::Outcome worst = lang::Outcome::Ok;
    std::vector<trace::Event> events;
    for (const auto& script : options.scripts) {
        lang::Session::Options session_options;
        session_options.trace = options.show_trace;
        session_options.quiet = options.quiet;
        session_options.verbose = options.verbose;
        session_options.seed = options.seed;
        session_options.free_running = options.free_running;
        if (!options.quiet && options.scripts.size() > 1)
            std::printf("=== %s\n", script.c_str());
        lang::Outcome outcome;
        uint64_t used_seed = 0;
        {
            lang::Session session(session_options);
            outcome = session.run_file(script);
            used_seed = session.seed().value_or(0);
            session.shutdown();
            if (trace_out != nullptr) {
                auto mine = session.machine().system().trace().events();
                events.insert(events.end(), mine.begin(), mine.end());
            }
        }
        std::fflush(stdout);
        if (outcome == lang::Outcome::Ok) {
            if (!options.quiet)
                std::printf("iosim run: %s: ok\n", script.c_str());
        } else if (options.free_running) {
            // The host decided the interleaving: nothing replays it.
            std::fprintf(stderr, "iosim run: %s: %s (exit code %d; free-running: this run cannot be replayed)\n",
                         script.c_str(), lang::outcome_name(outcome), static_cast<int>(outcome));
        } else {
            // The seed decides the interleaving of threads: with it the failure replays.
            std::fprintf(stderr, "iosim run: %s: %s (exit code %d; seed %llu: --seed %llu replays this run)\n",
                         script.c_str(), lang::outcome_name(outcome), static_cast<int>(outcome),
                         static_cast<unsigned long long>(used_seed), static_cast<unsigned long long>(used_seed));
        }
        worst = lang::worse(worst, outcome);
    }
    if (trace_out != nullptr) {
        std::string text = trace::render(options.trace_format, events);
        std::fwrite(text.data(), 1, text.size(), trace_out);
        std::fclose(trace_out);
    }
    return static_cast<int>(worst);
}

}  // namespace iosim::cli
