// expect.cpp - expectations: each compares one fact of the machine or of the last
// request/run with what the script says, prints "ok" or the expected and actual values
// (and, when a request's IRP was involved, that IRP's lines from the trace).
#include <fmt/format.h>

#include "lang/lexer.h"
#include "lang/names.h"
#include "lang/session_impl.h"
#include "ob/object.h"
#include "win32/win32.h"

namespace iosim::lang {

namespace {

std::string describe_bytes(std::string_view bytes)
{
    std::string text = fmt::format("{} byte(s)", bytes.size());
    if (bytes.empty())
        return text;
    if (mostly_text(bytes))
        text += " " + quote(bytes);
    std::string hex;
    for (size_t i = 0; i < bytes.size() && i < 48; ++i)
        hex += fmt::format(" {:02x}", static_cast<unsigned char>(bytes[i]));
    return text + ": hex" + hex + (bytes.size() > 48 ? " ..." : "");
}

std::string findings_text(const std::vector<Finding>& findings)
{
    std::string text;
    for (const auto& f : findings)
        text += fmt::format("    {}: {}{}\n", f.code, f.message, f.location.empty() ? "" : " (" + f.location + ")");
    return text;
}

bool object_exists(System& system, const std::string& path)
{
    auto found = system.ns().lookup(win32::widen(path.c_str()), /*open_link=*/true);
    if (found.object != nullptr)
        ob::dereference(found.object);
    return NT_SUCCESS(found.status) && found.object != nullptr && found.remaining.empty();
}

}  // namespace

void Session::Impl::expectation_met(std::string_view text) { line("expect", fmt::format("ok: {}", text)); }

Outcome Session::Impl::expectation_failed(const Command& command, std::string_view expected, std::string_view actual,
                                          bool show_irps, std::string_view details)
{
    std::string text = format_error(command.where, "expectation failed: " + command.source) + "\n";
    text.replace(text.find("error: "), 7, "");
    text += fmt::format("  expected: {}\n  actual:   {}\n", expected, actual);
    text += details;
    if (show_irps && last.valid) {
        text += fmt::format("  the last request: {} at {}:{}\n", last.what, last.where.file, last.where.line);
        std::vector<std::string> lines = irp_lines(last.irps);
        if (lines.empty())
            text += "  (it made no IRP: it failed before reaching a driver)\n";
        for (const auto& l : lines)
            text += "    " + l + "\n";
    }
    err(text);
    return Outcome::ExpectationFailed;
}

Outcome Session::Impl::do_expect(const Command& command)
{
    auto need_request = [&](const char* what) -> bool {
        if (last.valid)
            return true;
        error_at(command.where, fmt::format("'expect {}' needs a request before it (open, close, read, write, ioctl, "
                                            "load or unload)",
                                            what));
        return false;
    };
    switch (command.expect) {
    case Expectation::Status: {
        if (!need_request("status"))
            return Outcome::BadScript;
        std::string expected = status_display(static_cast<uint32_t>(command.number));
        if (last.status != command.number)
            return expectation_failed(command, expected, status_display(last.status), true);
        expectation_met("status " + expected);
        return Outcome::Ok;
    }
    case Expectation::Bytes: {
        if (!need_request("bytes"))
            return Outcome::BadScript;
        if (!last.bytes && !last.still_out.empty())
            return error_at(command.where, fmt::format("'expect bytes': request '{}' is still out (STATUS_PENDING, no "
                                                       "bytes yet); 'wait {}' first",
                                                       last.still_out, last.still_out));
        if (!last.bytes)
            return error_at(command.where, fmt::format("'expect bytes' needs a read, write or ioctl; the last request "
                                                       "was {}",
                                                       last.what));
        if (*last.bytes != command.number)
            return expectation_failed(command, fmt::format("{} byte(s)", command.number),
                                      fmt::format("{} byte(s)", *last.bytes), true);
        expectation_met(fmt::format("{} byte(s)", command.number));
        return Outcome::Ok;
    }
    case Expectation::Data: {
        if (!need_request("data"))
            return Outcome::BadScript;
        if (!last.data && !last.still_out.empty())
            return error_at(command.where, fmt::format("'expect data': request '{}' is still out (STATUS_PENDING, no "
                                                       "data yet); 'wait {}' first",
                                                       last.still_out, last.still_out));
        if (!last.data)
            return error_at(command.where, fmt::format("'expect data' needs a read or an ioctl; the last request was "
                                                       "{}",
                                                       last.what));
        if (*last.data != *command.data)
            return expectation_failed(command, describe_bytes(*command.data), describe_bytes(*last.data), true);
        expectation_met("data " + describe_bytes(*command.data));
        return Outcome::Ok;
    }
    case Expectation::LastError: {
        if (!need_request("last-error"))
            return Outcome::BadScript;
        std::string expected = dos_error_display(static_cast<uint32_t>(command.number));
        if (last.last_error != command.number)
            return expectation_failed(command, "GetLastError() = " + expected,
                                      "GetLastError() = " + dos_error_display(last.last_error), true);
        expectation_met("GetLastError() = " + expected);
        return Outcome::Ok;
    }
    case Expectation::BugCheck: {
        std::string expected = "bug check " + bugcheck_display(static_cast<uint32_t>(command.number));
        if (!bugcheck)
            return expectation_failed(command, expected, "no bug check: the machine is running", false);
        if (bugcheck->code != command.number)
            return expectation_failed(command, expected, "bug check " + bugcheck_display(bugcheck->code), false);
        bugcheck_expected = true;
        expectation_met(expected + " (the machine is dead from here on)");
        return Outcome::Ok;
    }
    case Expectation::Clean: {
        auto findings = machine.system().findings();
        if (!findings.empty())
            return expectation_failed(command, "no findings", fmt::format("{} finding(s)", findings.size()), false,
                                      findings_text(findings));
        expectation_met("no findings");
        return Outcome::Ok;
    }
    case Expectation::Finding: {
        auto findings = machine.system().findings();
        for (const auto& f : findings)
            if (f.code == command.name) {
                expectation_met(fmt::format("finding {}: {}", f.code, f.message));
                return Outcome::Ok;
            }
        return expectation_failed(command, "a finding " + command.name,
                                  findings.empty() ? std::string("no findings")
                                                   : fmt::format("{} other finding(s):", findings.size()),
                                  false, findings_text(findings));
    }
    case Expectation::TraceContains: {
        auto events = machine.system().trace().events();
        for (const auto& e : events)
            if (e.text.find(command.name) != std::string::npos) {
                expectation_met(fmt::format("trace event {}: {}", e.seq, e.text));
                return Outcome::Ok;
            }
        return expectation_failed(command, "an event containing " + quote(command.name),
                                  fmt::format("none of the {} event(s) recorded contains it", events.size()), false);
    }
    case Expectation::Object: {
        bool exists = object_exists(machine.system(), command.name);
        if (exists != command.exists)
            return expectation_failed(command, fmt::format("{} {}", command.name, command.exists ? "exists" : "absent"),
                                      fmt::format("{} {}", command.name, exists ? "exists" : "is absent"), false);
        expectation_met(fmt::format("{} {}", command.name, exists ? "exists" : "is absent"));
        return Outcome::Ok;
    }
    case Expectation::OutputContains:
    case Expectation::Exit: {
        if (!last_run.valid)
            return error_at(command.where, "'expect output' and 'expect exit' need a 'run' before them");
        if (command.expect == Expectation::Exit) {
            auto expected = static_cast<int32_t>(static_cast<uint32_t>(command.number));
            if (last_run.exit_code != expected)
                return expectation_failed(command, fmt::format("{} exits with code {}", last_run.app, expected),
                                          fmt::format("exit code {}", last_run.exit_code), false);
            expectation_met(fmt::format("{} exited with code {}", last_run.app, expected));
            return Outcome::Ok;
        }
        if (last_run.output.find(command.name) == std::string::npos) {
            std::string output;
            for (size_t start = 0; start < last_run.output.size();) {
                size_t end = last_run.output.find('\n', start);
                if (end == std::string::npos)
                    end = last_run.output.size();
                output += "    | " + last_run.output.substr(start, end - start) + "\n";
                start = end + 1;
            }
            return expectation_failed(command, "output of " + last_run.app + " containing " + quote(command.name),
                                      last_run.output.empty() ? std::string("no output") : "its output was:", false,
                                      output);
        }
        expectation_met("output contains " + quote(command.name));
        return Outcome::Ok;
    }
    }
    return Outcome::Ok;
}

}  // namespace iosim::lang
