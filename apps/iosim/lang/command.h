// command.h - one parsed line of the command language, and what the parser knows about
// the variables defined so far.
//
// A Command is a plain record: `verb` says which fields mean something (see the comments
// on each field). The parser fills it (parser.h); the session runs it (session.h). The
// grammar is in docs/command-language.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lang/diagnostic.h"

namespace iosim::lang {

enum class Verb : uint8_t {
    Empty,    // a blank line or a comment
    Include,  // include "file"                       name = file (resolved path)
    Load,     // load MODULE [as SERVICE]               name = module, service
    Unload,   // unload SERVICE                         name = service
    Process,  // process NAME                           variable = name
    In,       // in NAME                                variable = process
    Exit,     // exit [NAME]                            variable = process ("" current)
    Run,      // run APP [ARGS...] [input "text"]       name = app, args, input
    Open,     // VAR = open PATH [access A] [share S] [overlapped]
              //                                        variable, name = path, access, share, overlapped
    Close,    // close VAR                              variable
    // read/write/ioctl: `REQ = read ...` on an overlapped handle names the request (request)
    Read,     // [REQ =] read VAR LENGTH [offset N]     variable, number = length, offset
    Write,    // [REQ =] write VAR DATA [offset N]      variable, data, offset
    Ioctl,    // [REQ =] ioctl VAR CODE [in DATA] [out LENGTH]  variable, number = code, data, out_length
    Wait,     // wait REQ [timeout DURATION]            request, timeout (100 ns units)
    Cancel,   // cancel REQ|VAR                         request (CancelIoEx) or variable (CancelIo)
    Attach,   // attach SERVICE to DEVICE               service, name = device (filter_commands.cpp)
    Detach,   // detach SERVICE from DEVICE             service, name = device
    Advance,  // advance DURATION                       number = 100 ns units
    Seed,     // seed N                                 number
    Break,    // break IRP_MJ_X [at DEVICE] [do CMDS]   major, name = device, args = commands
    Delete,   // delete N                               number = breakpoint
    Inspect,  // !command ...                           name = the whole line
    Expect,   // expect WHAT ...                        expect, and see Expectation
    Print,    // print "text"                           name = text
    // PnP (pnp_commands.cpp)
    DeviceDeclare,  // device declare HWID function SERVICE [upper S...] [lower S...]
                    //                                  name = hwid, service = function, args = upper, lower
    Plug,     // plug HWID                              name = hwid
    Unplug,   // unplug DEVICE [surprise]               name = instance path or hwid, number = 1 if surprise
    Sleep,    // sleep [S1|S2|S3|S4]                    number = SYSTEM_POWER_STATE (default S3)
    Wake,     // wake
    // Driver Verifier (pool)
    Verifier,  // verifier special-pool [MODULE]        name = module ("" = every driver)
};

enum class Expectation : uint8_t {
    Status,          // number = NTSTATUS
    Bytes,           // number
    Data,            // data
    LastError,       // number = Win32 error
    BugCheck,        // number = code
    Clean,           // (no findings)
    Finding,         // name = finding code
    TraceContains,   // name = text
    Object,          // name = path, exists
    OutputContains,  // name = text
    Exit,            // number = exit code (signed, as a 32-bit value)
};

struct Command {
    Verb verb = Verb::Empty;
    Location where;      // the first token
    std::string source;  // the line as written, without its comment and trailing blanks
    std::string variable;
    std::string name;
    std::string service;
    std::vector<std::string> args;
    std::optional<std::string> input;
    uint64_t number = 0;
    std::optional<uint64_t> offset;
    std::optional<uint32_t> out_length;
    std::optional<std::string> data;
    uint32_t access = 0;
    uint32_t share = 0;
    uint8_t major = 0;
    Expectation expect = Expectation::Status;
    bool exists = true;
    int name_column = 0;  // include: the column of the file name (errors point at it)
    std::vector<std::string> lower;  // device declare: the lower filters (args holds the upper ones)
    bool overlapped = false;            // open: FILE_FLAG_OVERLAPPED
    std::string request;                // read/write/ioctl/wait/cancel: the request variable
    std::optional<uint64_t> timeout;    // wait: 100 ns units (none: INFINITE)
};

// The variables a script has defined so far (parsing checks every use).
struct Scope {
    enum class Kind { Handle, Process, Request };
    std::map<std::string, Kind, std::less<>> variables;
    // The handle variables whose latest open is overlapped (only they can name requests).
    std::set<std::string, std::less<>> overlapped;
};

// The command words, for completion, help and the documentation test.
struct CommandInfo {
    const char* word;    // "open" (for an assignment, the word after '=')
    const char* syntax;  // "VAR = open PATH [access read|write|readwrite|none] [share ...]"
    const char* what;    // one line
};
const std::vector<CommandInfo>& command_table();
// The words the parser recognises but iosim cannot run yet, and why.
struct UnsupportedInfo {
    const char* word;
    const char* reason;  // "is not in the command language yet: ..."
};
const std::vector<UnsupportedInfo>& unsupported_table();
// The words after 'expect'.
const std::vector<std::string>& expectation_words();

}  // namespace iosim::lang
