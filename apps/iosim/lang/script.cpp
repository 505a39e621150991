// script.cpp - script files: reading, parsing line by line, includes and include cycles.
#include "lang/script.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "lang/parser.h"

namespace iosim::lang {

namespace fs = std::filesystem;

namespace {

std::string identity(const std::string& path)
{
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(fs::path(path), ec);
    return ec ? path : canonical.string();
}

std::vector<Command> read_and_parse(const std::string& path, std::ifstream& in, Scope& scope,
                                    std::vector<std::string>& stack)
{
    stack.push_back(path);
    std::vector<Command> commands;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        Command command = parse_line(line, Location{path, number, 0}, scope);
        if (command.verb == Verb::Empty)
            continue;
        if (command.verb == Verb::Include) {
            std::vector<Command> included = load_include(command, scope, stack);
            commands.insert(commands.end(), std::make_move_iterator(included.begin()),
                            std::make_move_iterator(included.end()));
            continue;
        }
        commands.push_back(std::move(command));
    }
    stack.pop_back();
    return commands;
}

}  // namespace

std::vector<Command> load_script(const std::string& path, Scope& scope, std::vector<std::string>& stack)
{
    std::ifstream in(path);
    if (!in)
        throw ScriptError(Location{path, 0, 0}, fmt::format("cannot open script file: {}", std::strerror(errno)));
    return read_and_parse(path, in, scope, stack);
}

std::vector<Command> load_include(const Command& include, Scope& scope, std::vector<std::string>& stack)
{
    Location at = include.where;
    at.column = include.name_column;
    const std::string& path = include.name;
    std::string id = identity(path);
    for (size_t i = 0; i < stack.size(); ++i) {
        if (identity(stack[i]) != id)
            continue;
        std::string chain;
        for (size_t j = i; j < stack.size(); ++j)
            chain += stack[j] + " -> ";
        throw ScriptError(at, fmt::format("include cycle: {}{}", chain, path));
    }
    std::ifstream in(path);
    if (!in) {
        std::error_code ec;
        throw ScriptError(at, fmt::format("cannot open include file \"{}\" (looked for {})", path,
                                          fs::absolute(path, ec).lexically_normal().string()));
    }
    return read_and_parse(path, in, scope, stack);
}

}  // namespace iosim::lang
