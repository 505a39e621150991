// session.cpp - running scripts and lines: parsing first, then each command in order, with
// bug checks caught and outcomes combined; the machine-level commands (load, unload,
// process, in, exit, run, advance, seed, print, inspection) and the session's output.
#include "lang/session.h"

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>

#include "inspect/inspect.h"
#include "io_manager.h"
#include "lang/parser.h"
#include "lang/script.h"
#include "lang/session_impl.h"
#include "rtl/status_names.h"

namespace iosim::lang {

// ---- Impl: construction and output ---------------------------------------------------------

Machine::Options Session::Impl::machine_options(Impl* self)
{
    Machine::Options m;
    m.trace = true;  // always recorded: breakpoints, 'expect trace' and failure reports need it
    m.module_path = self->options.module_path;
    m.seed = self->options.seed.value_or(0);
    m.free_running = self->options.free_running;
    m.app_output = [self](uint32_t, const std::string&, std::string_view text) { self->app_text(text); };
    m.debug_output = [self](std::string_view module, std::string_view text) {
        self->flush_app();
        self->line("dbg", fmt::format("[{}] {}", module, text));
    };
    return m;
}

Session::Impl::Impl(Session::Options o) : options(std::move(o)), machine(machine_options(this)), seed(options.seed)
{
    machine.system().trace().set_listener([this](const trace::Event& event) { on_event(event); });
}

Session::Impl::~Impl()
{
    shutdown();
    machine.system().trace().set_listener(nullptr);
}

void Session::Impl::out(std::string_view text)
{
    if (options.out)
        options.out(text);
    else
        std::fwrite(text.data(), 1, text.size(), stdout);
}

void Session::Impl::err(std::string_view text)
{
    flush_app();
    if (options.err) {
        options.err(text);
    } else {
        std::fflush(stdout);
        std::fwrite(text.data(), 1, text.size(), stderr);
    }
}

void Session::Impl::line(std::string_view label, std::string_view text)
{
    if (!options.quiet)
        out(fmt::format("  {:<7}| {}\n", label, text));
}

void Session::Impl::app_text(std::string_view text)
{
    app_partial.append(text);
    size_t newline;
    while ((newline = app_partial.find('\n')) != std::string::npos) {
        std::string piece = app_partial.substr(0, newline);
        if (!piece.empty() && piece.back() == '\r')
            piece.pop_back();
        app_partial.erase(0, newline + 1);
        if (options.quiet)
            out(piece + "\n");
        else
            line("app", piece);
    }
}

void Session::Impl::flush_app()
{
    if (app_partial.empty())
        return;
    app_text("\n");
}

Outcome Session::Impl::error_at(const Location& where, std::string_view message, Outcome outcome)
{
    err(format_error(where, message) + "\n");
    return outcome;
}

void Session::Impl::print_bugcheck(const BugCheckInfo& info)
{
    flush_app();
    if (options.quiet) {
        err(info.report);
        return;
    }
    size_t start = 0;
    while (start < info.report.size()) {
        size_t end = info.report.find('\n', start);
        if (end == std::string::npos)
            end = info.report.size();
        out(fmt::format("  {:<7}| {}\n", "BUGCHECK", std::string_view(info.report).substr(start, end - start)));
        start = end + 1;
    }
}

std::vector<std::string> Session::Impl::shutdown()
{
    std::vector<std::string> alive;
    if (shut_down)
        return alive;
    shut_down = true;
    try {
        alive = machine.shutdown();
    } catch (const BugCheck& stop) {
        print_bugcheck(stop.info());
    }
    flush_app();
    for (const auto& text : alive)
        line("REPORT", text);
    return alive;
}

// ---- running -------------------------------------------------------------------------------

namespace {

// Commands that need a live machine: after a bug check they cannot run.
bool needs_machine(Verb verb)
{
    switch (verb) {
    case Verb::Load: case Verb::Unload: case Verb::Process: case Verb::Exit: case Verb::Run:
    case Verb::Open: case Verb::Close: case Verb::Read: case Verb::Write: case Verb::Ioctl:
    case Verb::Wait: case Verb::Cancel: case Verb::Attach: case Verb::Detach:
    case Verb::DeviceDeclare: case Verb::Plug: case Verb::Unplug: case Verb::Sleep: case Verb::Wake:  // PnP
    case Verb::Verifier:  // pool
        return true;
    default:
        return false;
    }
}

const char* verb_word(const Command& command)
{
    switch (command.verb) {
    case Verb::Load: return "load";
    case Verb::Unload: return "unload";
    case Verb::Process: return "process";
    case Verb::Exit: return "exit";
    case Verb::Run: return "run";
    case Verb::Open: return "open";
    case Verb::Close: return "close";
    case Verb::Read: return "read";
    case Verb::Write: return "write";
    case Verb::Ioctl: return "ioctl";
    case Verb::Wait: return "wait";
    case Verb::Cancel: return "cancel";
    case Verb::Attach: return "attach";
    case Verb::Detach: return "detach";
    case Verb::DeviceDeclare: return "device";  // PnP
    case Verb::Plug: return "plug";
    case Verb::Unplug: return "unplug";
    case Verb::Sleep: return "sleep";
    case Verb::Wake: return "wake";
    case Verb::Verifier: return "verifier";  // pool
    default: return "this command";
    }
}

std::string where_text(const Location& where) { return fmt::format("{}:{}", where.file, where.line); }

}  // namespace

Outcome Session::Impl::run_commands(const std::vector<Command>& commands)
{
    Outcome result = Outcome::Ok;
    bool bugchecked_here = false;
    for (const Command& command : commands) {
        if (bugcheck && needs_machine(command.verb)) {
            if (!bugcheck_expected) {
                err(fmt::format("{}: stopped before '{}': the machine is dead after the bug check at {}\n",
                                where_text(command.where), verb_word(command), where_text(bugcheck_at)));
                result = worse(result, Outcome::BugCheck);
                break;
            }
            result = worse(result, error_at(command.where,
                                            fmt::format("'{}' cannot run: the machine bug-checked at {} and is dead "
                                                        "(only expect, print, break and ! commands run after a bug check)",
                                                        verb_word(command), where_text(bugcheck_at))));
            worst = worse(worst, result);
            break;
        }
        Outcome outcome = execute(command);
        if (outcome == Outcome::BugCheck) {
            bugchecked_here = true;  // counted at the end unless an 'expect bugcheck' accepts it
            continue;
        }
        result = worse(result, outcome);
        if (outcome == Outcome::BadScript || outcome == Outcome::InternalError)
            break;
    }
    if (bugchecked_here && !bugcheck_expected)
        result = worse(result, Outcome::BugCheck);
    return result;
}

Outcome Session::Impl::execute(const Command& command)
{
    if (command.verb != Verb::Print && command.verb != Verb::Empty && !options.quiet)
        out(fmt::format("> {}\n", command.source));
    pending = Outcome::Ok;
    Outcome outcome;
    try {
        outcome = dispatch(command);
    } catch (const BugCheck& stop) {
        collecting = false;
        flush_app();
        bugcheck = stop.info();
        bugcheck_at = command.where;
        bugcheck_expected = false;
        print_bugcheck(stop.info());
        return Outcome::BugCheck;
    } catch (const ScriptError& error) {
        collecting = false;
        outcome = error_at(error.where(), error.message());
    } catch (const std::exception& e) {
        collecting = false;
        outcome = error_at(command.where, fmt::format("internal error: {}", e.what()), Outcome::InternalError);
    }
    flush_app();
    outcome = worse(outcome, pending);
    if (outcome != Outcome::BugCheck)  // a bug check from an include: see Session::outcome
        worst = worse(worst, outcome);
    return outcome;
}

Outcome Session::Impl::dispatch(const Command& command)
{
    switch (command.verb) {
    case Verb::Empty: return Outcome::Ok;
    case Verb::Include: {
        std::vector<Command> commands = load_include(command, scope, include_stack);
        return run_commands(commands);
    }
    case Verb::Load: return do_load(command);
    case Verb::Unload: return do_unload(command);
    case Verb::Process: return do_process(command);
    case Verb::In: return do_in(command);
    case Verb::Exit: return do_exit(command);
    case Verb::Run: return do_run(command);
    case Verb::Open: return do_open(command);
    case Verb::Close: return do_close(command);
    case Verb::Read: return do_read(command);
    case Verb::Write: return do_write(command);
    case Verb::Ioctl: return do_ioctl(command);
    case Verb::Wait: return do_wait(command);
    case Verb::Cancel: return do_cancel(command);
    case Verb::Attach: case Verb::Detach: return do_filter(command);
    case Verb::Advance: return do_advance(command);
    case Verb::Seed:
        if (options.free_running) {
            // --free-running asked for the host's choices: a seed cannot make this run replay.
            if (options.verbose)
                line("seed", fmt::format("{} ignored: this run is free-running (--free-running)", command.number));
            return Outcome::Ok;
        }
        seed = command.number;
        machine.system().scheduler().reseed(command.number);
        if (options.verbose)
            line("seed", fmt::format("{} (iosim is deterministic: the same script gives the same run)", command.number));
        return Outcome::Ok;
    case Verb::Break: return do_break(command);
    case Verb::Delete: return do_delete(command);
    case Verb::Inspect: return do_inspect(command);
    case Verb::Expect: return do_expect(command);
    case Verb::Print: out(command.name + "\n"); return Outcome::Ok;
    case Verb::DeviceDeclare: return do_device_declare(command);  // PnP (pnp_commands.cpp)
    case Verb::Plug: return do_plug(command);
    case Verb::Unplug: return do_unplug(command);
    case Verb::Sleep: return do_sleep(command);
    case Verb::Wake: return do_wake(command);
    case Verb::Verifier:  // Driver Verifier's special pool (sim_kernel/ex/special_pool.h)
        if (command.name.empty())
            machine.system().pool().set_special_pool_for_all(true);
        else
            machine.system().pool().set_special_pool_for(command.name, true);
        line("verifier", fmt::format("special pool for {}: each block ends against an inaccessible page",
                                     command.name.empty() ? "every driver" : command.name));
        return Outcome::Ok;
    }
    return Outcome::Ok;
}

// ---- machine-level commands ----------------------------------------------------------------

Outcome Session::Impl::do_load(const Command& command)
{
    const std::string& module = command.name;
    if (io::find_module(module).empty() &&
        (module.find('.') != std::string::npos || io::find_module(module + ".sys").empty()))
        return error_at(command.where,
                        fmt::format("no driver module {} in the module path ({})", module,
                                    fmt::join(io::module_path(), ":")),
                        Outcome::InternalError);
    begin_request(command, fmt::format("load {} as {}", module, command.service));
    std::string message;
    NTSTATUS status = machine.load_driver(command.service, module, &message);
    collecting = false;
    last.status = static_cast<uint32_t>(status);
    last.win32_ok = NT_SUCCESS(status);
    line("result", fmt::format("load {} as service {}: {}{}", module, command.service, status_text(status),
                               message.empty() ? "" : " - " + message));
    return Outcome::Ok;
}

Outcome Session::Impl::do_unload(const Command& command)
{
    begin_request(command, "unload " + command.name);
    std::string message;
    NTSTATUS status = machine.unload_driver(command.name, &message);
    collecting = false;
    last.status = static_cast<uint32_t>(status);
    last.win32_ok = NT_SUCCESS(status);
    line("result", fmt::format("unload {}: {}{}", command.name, status_text(status),
                               message.empty() ? "" : " - " + message));
    return Outcome::Ok;
}

Outcome Session::Impl::do_process(const Command& command)
{
    auto it = processes.find(command.variable);
    if (it != processes.end() && !it->second.exited)
        return error_at(command.where, fmt::format("process '{}' already exists (created at {}); 'exit {}' first",
                                                   command.variable, where_text(it->second.created_at),
                                                   command.variable));
    ProcessVar var;
    var.process = machine.create_process(command.variable + ".exe");
    var.created_at = command.where;
    processes[command.variable] = var;
    current = command.variable;
    line("result", fmt::format("process {} (pid {}) created; commands act in it", command.variable,
                               var.process->pid()));
    return Outcome::Ok;
}

Outcome Session::Impl::do_in(const Command& command)
{
    auto it = processes.find(command.variable);
    if (it == processes.end())
        return error_at(command.where, fmt::format("no process '{}' (it is created by a later line?)", command.variable));
    if (it->second.exited)
        return error_at(command.where, fmt::format("process '{}' exited at {}", command.variable,
                                                   where_text(it->second.exited_at)));
    current = command.variable;
    return Outcome::Ok;
}

Outcome Session::Impl::do_exit(const Command& command)
{
    std::string name = command.variable.empty() ? current : command.variable;
    auto it = processes.find(name);
    if (name.empty() || it == processes.end())
        return error_at(command.where, "no process to end: create one with 'process NAME' first");
    if (it->second.exited)
        return error_at(command.where,
                        fmt::format("process '{}' already exited at {}", name, where_text(it->second.exited_at)));
    it->second.exited = true;
    it->second.exited_at = command.where;
    for (auto& [var, handle] : handles)
        if (handle.process == name && handle.open) {
            handle.open = false;
            handle.closed_at = command.where;
        }
    machine.end_process(it->second.process, 0);
    it->second.process = nullptr;
    line("result", fmt::format("process {} ended; its handles were closed", name));
    return Outcome::Ok;
}

Process* Session::Impl::current_process(const Command& command, Outcome& failure)
{
    if (current.empty()) {
        // No 'process' yet: an implicit one, named after nothing in particular.
        ProcessVar var;
        var.process = machine.create_process("script.exe");
        var.created_at = command.where;
        processes["script"] = var;
        current = "script";
    }
    ProcessVar& var = processes[current];
    if (var.exited) {
        failure = error_at(command.where, fmt::format("the current process '{}' exited at {}; create another with "
                                                      "'process NAME' or switch with 'in NAME'",
                                                      current, where_text(var.exited_at)));
        return nullptr;
    }
    return var.process;
}

Outcome Session::Impl::do_run(const Command& command)
{
    std::string shown = command.name;
    for (const auto& arg : command.args)
        shown += " " + arg;
    auto result = machine.run_app(command.name, command.args, command.input.value_or(""));
    flush_app();
    if (!result.started)
        return error_at(command.where, fmt::format("cannot run {}: {}", command.name, result.error),
                        Outcome::InternalError);
    last_run = LastRun{true, shown, command.where, result.exit_code, result.output};
    line("result", fmt::format("{} exited with code {}", command.name, result.exit_code));
    return Outcome::Ok;
}

Outcome Session::Impl::do_advance(const Command& command)
{
    // Each timer that comes due runs its DPC at its due time, before the clock moves on
    // (a DPC completing an IRP queues its requester's side to the requesting thread).
    machine.system().advance_time(static_cast<int64_t>(command.number));
    line("clock", fmt::format("advanced by {} x 100ns; interrupt time now {}", command.number,
                              machine.system().interrupt_time()));
    return Outcome::Ok;
}

Outcome Session::Impl::do_inspect(const Command& command)
{
    std::string text;
    std::string error;
    bool ok = inspect::run(command.name, text, error);
    flush_app();
    if (!text.empty())
        out(text.back() == '\n' ? text : text + "\n");
    if (!ok)
        return error_at(command.where, error.empty() ? std::string("inspection failed") : error);
    return Outcome::Ok;
}

// ---- Session -------------------------------------------------------------------------------

namespace {

Session::Options checked(Session::Options options)
{
    if (System::current() != nullptr)
        throw std::logic_error("iosim::lang::Session: a simulated machine already exists (one Session at a time)");
    return options;
}

}  // namespace

Session::Session(Options options) : impl_(std::make_unique<Impl>(checked(std::move(options))))
{
    if (impl_->options.verbose && impl_->options.free_running)
        impl_->line("seed", "none: free-running (the host decides which ready thread runs next; the run cannot be "
                            "replayed)");
    else if (impl_->options.verbose && impl_->seed)
        impl_->line("seed", fmt::format("{} (iosim is deterministic: the same script gives the same run)",
                                        *impl_->seed));
}

Session::~Session() = default;

Outcome Session::run_file(const std::string& path)
{
    std::vector<Command> commands;
    try {
        Scope scope = impl_->scope;  // checked against a copy: a bad file defines nothing
        std::vector<std::string> stack = impl_->include_stack;
        commands = load_script(path, scope, stack);
        impl_->scope = std::move(scope);
    } catch (const ScriptError& error) {
        impl_->err(std::string(error.what()) + "\n");
        impl_->worst = worse(impl_->worst, Outcome::BadScript);
        return Outcome::BadScript;
    }
    impl_->include_stack.push_back(path);
    Outcome outcome = impl_->run_commands(commands);
    impl_->include_stack.pop_back();
    return outcome;
}

Outcome Session::run_line(std::string_view line, const Location& where)
{
    Command command;
    try {
        Scope scope = impl_->scope;
        command = parse_line(line, where, scope);
        impl_->scope = std::move(scope);
    } catch (const ScriptError& error) {
        impl_->err(std::string(error.what()) + "\n");
        impl_->worst = worse(impl_->worst, Outcome::BadScript);
        return Outcome::BadScript;
    }
    if (command.verb == Verb::Empty)
        return Outcome::Ok;
    std::vector<Command> one{std::move(command)};
    return impl_->run_commands(one);
}

Machine& Session::machine() { return impl_->machine; }

Outcome Session::outcome() const
{
    return impl_->bugcheck && !impl_->bugcheck_expected ? worse(impl_->worst, Outcome::BugCheck) : impl_->worst;
}

std::optional<uint64_t> Session::seed() const { return impl_->seed; }

std::vector<std::string> Session::shutdown() { return impl_->shutdown(); }

}  // namespace iosim::lang
