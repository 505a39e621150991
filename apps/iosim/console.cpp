// console.cpp - labelled, line-by-line display of apps, drivers and the IRP flow.
#include "console.h"

#include <fmt/format.h>

namespace iosim::cli {

Machine::Options Console::machine_options(bool trace)
{
    Machine::Options options;
    options.trace = trace || options_.trace_file != nullptr || options_.collected != nullptr;
    options.seed = options_.seed;
    options.free_running = options_.free_running;
    options.app_output = [this](uint32_t, const std::string&, std::string_view text) { app_text(text); };
    options.debug_output = [this](std::string_view module, std::string_view text) {
        if (options_.show_debug && !options_.quiet) {
            flush_app_output();
            line("dbg", fmt::format("[{}] {}", module, text));
        }
    };
    return options;
}

void Console::attach(Machine& machine)
{
    machine.system().trace().set_listener([this](const trace::Event& event) {
        if (options_.trace_file != nullptr)
            std::fprintf(options_.trace_file, "%s\n", trace::Trace::format(event).c_str());
        if (options_.collected != nullptr) {
            // The tour runs several machines; their events are numbered on in one sequence.
            trace::Event copy = event;
            copy.seq = options_.collected->size() + 1;
            options_.collected->push_back(std::move(copy));
        }
        if (options_.quiet || !options_.show_trace || event.kind == trace::Kind::DebugPrint)
            return;
        // Every spin lock is two IRQL changes: shown with --verbose, always in --trace files.
        if (event.kind == trace::Kind::Irql && !options_.verbose)
            return;
        flush_app_output();
        const char* label = "trace";
        switch (event.kind) {
        case trace::Kind::Irp: label = "irp"; break;
        case trace::Kind::Driver: label = "driver"; break;
        case trace::Kind::Object: label = "object"; break;
        case trace::Kind::Process: label = "process"; break;
        case trace::Kind::Win32: label = "win32"; break;
        case trace::Kind::Finding: label = "REPORT"; break;
        case trace::Kind::Irql: label = "irql"; break;
        default: break;
        }
        line(label, options_.verbose ? trace::Trace::format(event) : event.text);
    });
}

void Console::say(std::string_view text)
{
    flush_app_output();
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

void Console::line(std::string_view label, std::string_view text)
{
    std::string out = fmt::format("  {:<7}| {}\n", label, text);
    std::fwrite(out.data(), 1, out.size(), stdout);
}

void Console::app_text(std::string_view text)
{
    partial_.append(text);
    size_t newline;
    while ((newline = partial_.find('\n')) != std::string::npos) {
        std::string piece = partial_.substr(0, newline);
        if (!piece.empty() && piece.back() == '\r')
            piece.pop_back();
        partial_.erase(0, newline + 1);
        if (options_.quiet)
            std::printf("%s\n", piece.c_str());
        else
            line("app", piece);
    }
}

void Console::flush_app_output()
{
    if (partial_.empty())
        return;
    std::string piece;
    piece.swap(partial_);
    if (options_.quiet)
        std::printf("%s\n", piece.c_str());
    else
        line("app", piece);
}

}  // namespace iosim::cli
