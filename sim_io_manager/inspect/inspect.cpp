// inspect.cpp - the inspection command table: parsing a command line and routing it.
//
// A command line is words separated by blanks; a word in double quotes may hold blanks
// ("!object \"\\BaseNamedObjects\\My Event\""). The first word names the command, with
// or without its '!', in any case. Unknown commands and a missing machine are refused
// here; each command checks its own arguments (see commands.h, one file per command).
// iosim_inspect is the C entry point for debuggers: gdb's `call iosim_inspect("!irp")`
// or the iosim gdb extension, which prints the text it returns.
#include "inspect/inspect.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "inspect/commands.h"
#include "system.h"

namespace iosim::inspect {

namespace {

struct Command {
    const char* name;
    const char* help;
    detail::Handler handler;
};

const Command kCommands[] = {
    {"!drvobj", "!drvobj <driver|\\Driver\\name|0xaddr> [flags]: a driver object; flags 2 adds the dispatch table, 4 its devices",
     &detail::drvobj},
    {"!devobj", "!devobj <\\Device\\name|0xaddr>: a device object, flags and extension decoded", &detail::devobj},
    {"!devstack", "!devstack <\\Device\\name|0xaddr>: the device stack, top first, > marking the device", &detail::devstack},
    {"!devnode", "!devnode [0 1|instance path|0xaddr]: the PnP device tree, or one device node in detail",
     &detail::devnode},
    {"!irp", "!irp [0xaddr]: the IRPs being dispatched now (or one): stack locations and history", &detail::irp},
    {"!object", "!object [path|0xaddr]: the namespace as a tree (default \\), or one object", &detail::object},
    {"!handle", "!handle [pid]: each process's handles: value, type, name, granted access", &detail::handle},
    {"!poolused", "!poolused: pool in use by tag: allocations, bytes, paged/non-paged, owner", &detail::poolused},
    {"!process", "!process [pid]: processes: pid, image, handle count, thread ids", &detail::process},
    {"!thread", "!thread [tid]: a thread (default: current): IRQL, last error, driver routines it is inside",
     &detail::thread},
    {"!irql", "!irql: the current thread's IRQL", &detail::irql},
    {"!timer", "!timer: the set timers, soonest first, with their DPCs", &detail::timer},
    {"!dpcs", "!dpcs: the queued DPCs, by CPU", &detail::dpcs},
};

// Splits on blanks; double quotes group words (no escapes: backslashes are path separators).
bool split(const std::string& line, std::vector<std::string>& words)
{
    std::string word;
    bool in_word = false, quoted = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
            in_word = true;
        } else if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
            if (in_word)
                words.push_back(word);
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word)
        words.push_back(word);
    return !quoted;
}

std::string names()
{
    std::string out;
    for (const Command& command : kCommands)
        out += (out.empty() ? "" : ", ") + std::string(command.name);
    return out;
}

}  // namespace

bool run(const std::string& command_line, std::string& output, std::string& error)
{
    output.clear();
    error.clear();
    std::vector<std::string> words;
    if (!split(command_line, words)) {
        error = "unbalanced quotes: expected a closing \"";
        return false;
    }
    if (words.empty()) {
        error = "expected a command: one of " + names();
        return false;
    }
    std::string name = words[0];
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name[0] != '!')
        name = "!" + name;
    const Command* command = nullptr;
    for (const Command& c : kCommands)
        if (name == c.name)
            command = &c;
    if (command == nullptr) {
        error = fmt::format("unknown command \"{}\": expected one of {}", words[0], names());
        return false;
    }
    if (System::current() == nullptr) {
        error = "no simulated machine is running";
        return false;
    }
    words.erase(words.begin());
    if (!command->handler(words, output, error)) {
        output.clear();
        return false;
    }
    return true;
}

std::vector<std::pair<std::string, std::string>> commands()
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const Command& command : kCommands)
        out.emplace_back(command.name, command.help);
    return out;
}

}  // namespace iosim::inspect

extern "C" const char* iosim_inspect(const char* command_line)
{
    static std::mutex lock;
    static std::string buffer;
    std::lock_guard guard(lock);
    std::string output, error;
    if (command_line == nullptr)
        buffer = "error: expected a command line\n";
    else if (iosim::inspect::run(command_line, output, error))
        buffer = std::move(output);
    else
        buffer = "error: " + error + "\n";
    return buffer.c_str();
}
