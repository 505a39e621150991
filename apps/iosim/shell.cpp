// shell.cpp - the interactive shell: readline with history and tab completion.
//
// Every line is one command of the language `iosim run` reads (docs/command-language.md),
// so a shell session saved to a file is a script. Completion asks the Session for
// candidates: command words, variables, IRP_MJ_ and STATUS_ names, inspection commands and
// the names of objects in the namespace (\Device\..., \GLOBAL??\...). History persists in
// ~/.iosim_history. Shell-only words: `help`, `quit` (or end of input).
// `step` makes every following event stop at a nested prompt, where inspection commands
// (!irp, !devstack, ...) show the request in flight; `next` (or an empty line) goes on to
// the next event, `continue` stops stepping.
#include "shell.h"

#include <fmt/format.h>
#include <readline/history.h>
#include <readline/readline.h>

#include <cstdlib>
#include <cstring>

#include "inspect/inspect.h"
#include "trace/trace.h"

namespace iosim::cli {

namespace {

lang::Session* g_session = nullptr;  // readline's completion callbacks take no context
std::vector<std::string> g_matches;

char* next_match(const char* text, int state)
{
    static size_t index;
    if (state == 0)
        index = 0;
    while (index < g_matches.size()) {
        const std::string& candidate = g_matches[index++];
        if (candidate.compare(0, std::strlen(text), text) == 0)
            return strdup(candidate.c_str());
    }
    return nullptr;
}

char** complete(const char* text, int start, int end)
{
    rl_attempted_completion_over = 1;  // no file-name completion
    std::string line(rl_line_buffer, static_cast<size_t>(end));
    g_matches = g_session != nullptr ? g_session->complete(line) : std::vector<std::string>{};
    return rl_completion_matches(text, next_match);
}

std::string history_path(const ShellOptions& options)
{
    if (!options.history_file.empty())
        return options.history_file;
    const char* home = std::getenv("HOME");
    return home != nullptr ? std::string(home) + "/.iosim_history" : std::string(".iosim_history");
}

const char* kHelp =
    "Type commands of the iosim language (docs/command-language.md), for example:\n"
    "  load hello.sys\n"
    "  h = open \\\\.\\IosimHello\n"
    "  !devstack \\Device\\IosimHello\n"
    "  close h\n"
    "Shell words: help, step (stop at every event), next, continue, quit.\n"
    "Tab completes commands, variables and object names; Up/Down walk the history.\n";

}  // namespace

int run_shell(ShellOptions options)
{
    bool stepping = false;
    auto user_event = options.session.on_event;
    options.session.on_event = [&](const trace::Event& event) {
        if (user_event)
            user_event(event);
        if (!stepping || event.kind == trace::Kind::DebugPrint)
            return;
        // A nested prompt inside the event: the request is in flight, so inspection shows it.
        for (;;) {
            char* raw = readline("(step) ");
            if (raw == nullptr) {
                stepping = false;
                return;
            }
            std::string line(raw);
            std::free(raw);
            if (line.empty() || line == "next" || line == "step")
                return;
            if (line == "continue") {
                stepping = false;
                return;
            }
            add_history(line.c_str());
            std::string out, error;
            if (!line.empty() && line[0] == '!') {
                if (inspect::run(line, out, error))
                    std::fputs(out.c_str(), stdout);
                else
                    std::fprintf(stderr, "error: %s\n", error.c_str());
            } else {
                std::fputs("while stepping: inspection commands (!irp, !devstack, ...), next, continue\n", stderr);
            }
        }
    };

    lang::Session session(options.session);
    g_session = &session;
    rl_readline_name = "iosim";
    rl_attempted_completion_function = complete;
    rl_basic_word_break_characters = const_cast<char*>(" \t\"=");
    std::string history = history_path(options);
    using_history();
    read_history(history.c_str());

    std::printf("iosim shell: type help for help, quit to leave.\n");
    int line_number = 0;
    for (;;) {
        char* raw = readline("iosim> ");
        if (raw == nullptr) {
            std::printf("\n");
            break;
        }
        std::string line(raw);
        std::free(raw);
        ++line_number;
        if (line.find_first_not_of(" \t") == std::string::npos)
            continue;
        add_history(line.c_str());
        if (line == "quit")
            break;
        if (line == "help") {
            std::fputs(kHelp, stdout);
            continue;
        }
        if (line == "step") {
            stepping = true;
            std::printf("stepping: the next event stops at a (step) prompt\n");
            continue;
        }
        session.run_line(line, lang::Location{"<shell>", line_number, 1});
        std::fflush(stdout);
    }
    write_history(history.c_str());
    history_truncate_file(history.c_str(), 1000);
    g_session = nullptr;
    session.shutdown();
    // A mistyped line is the shell's normal life, not a failure: only a bug check shows
    // in the exit status.
    return session.outcome() == lang::Outcome::BugCheck ? static_cast<int>(lang::Outcome::BugCheck) : 0;
}

}  // namespace iosim::cli
