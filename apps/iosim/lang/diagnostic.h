// diagnostic.h - where a script line came from, what running it gave, and how a bad line
// is reported.
//
//   lab1.iosim:3:7: error: expected a handle variable after 'close', got "42"
//
// Locations are 1-based; a column counts bytes from the start of the line. Outcomes are
// ordered by severity, and their values are the exit codes of `iosim run`
// (docs/iosim-command.md): the worst outcome of a run is its exit status.
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace iosim::lang {

struct Location {
    std::string file;  // as the user named it ("scenarios/hello.iosim"); "" for typed lines
    int line = 0;      // 0: the whole file
    int column = 0;    // 0: the whole line
};

// Result of running a script or a line. Larger is worse.
enum class Outcome { Ok = 0, ExpectationFailed = 1, BadScript = 2, BugCheck = 3, InternalError = 4 };

inline Outcome worse(Outcome a, Outcome b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }
const char* outcome_name(Outcome outcome);  // "ok", "expectation failed", ...

// "file:line:column: error: message"; unknown parts (line or column 0, no file) are left out.
std::string format_error(const Location& where, std::string_view message);

// A malformed line (or an include that cannot be read): the parser's only exception.
class ScriptError : public std::exception {
public:
    ScriptError(Location where, std::string message)
        : where_(std::move(where)), message_(std::move(message)), text_(format_error(where_, message_))
    {
    }
    const Location& where() const { return where_; }
    const std::string& message() const { return message_; }  // without the location
    const char* what() const noexcept override { return text_.c_str(); }

private:
    Location where_;
    std::string message_;
    std::string text_;
};

}  // namespace iosim::lang
