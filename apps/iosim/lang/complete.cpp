// complete.cpp - completion for the shell: what may come next where the cursor is.
//
// Only the last word of the line is completed; the candidates depend on the words before
// it (a handle after 'close', an IRP_MJ_ name after 'break', ...), and a word that starts
// with '\' or '!' is an object name or an inspection command wherever it is.
#include <algorithm>
#include <set>

#include "inspect/inspect.h"
#include "lang/lexer.h"
#include "lang/names.h"
#include "lang/session_impl.h"
#include "ob/listing.h"
#include "pnp/pnp.h"

namespace iosim::lang {

namespace {

std::vector<std::string> words_of(std::string_view line)
{
    std::vector<std::string> words;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start)
            words.emplace_back(line.substr(start, i - start));
    }
    if (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
        words.emplace_back();  // completing a new, empty word
    if (words.empty())
        words.emplace_back();
    return words;
}

std::vector<std::string> object_names(System& system)
{
    std::vector<std::string> names;
    for (const auto& item : ob::list_directory(system.ns(), "\\", true)) {
        names.push_back(item.path);
        const std::string globals = "\\GLOBAL??\\";
        if (item.path.rfind(globals, 0) == 0)
            names.push_back("\\\\.\\" + item.path.substr(globals.size()));  // the Win32 name
    }
    return names;
}

}  // namespace

std::vector<std::string> Session::complete(std::string_view prefix)
{
    Impl& s = *impl_;
    std::vector<std::string> words = words_of(prefix);
    const std::string& word = words.back();
    const std::string first = words.size() > 1 ? words[0] : std::string();
    const std::string before = words.size() > 1 ? words[words.size() - 2] : std::string();
    std::vector<std::string> pool;
    auto variables = [&](Scope::Kind kind) {
        for (const auto& [name, k] : s.scope.variables)
            if (k == kind)
                pool.push_back(name);
    };

    if (!word.empty() && word[0] == '\\') {
        pool = object_names(s.machine.system());
    } else if (!word.empty() && word[0] == '!') {
        for (const auto& [name, help] : inspect::commands())
            pool.push_back(name.rfind('!', 0) == 0 ? name : "!" + name);
    } else if (words.size() == 1) {
        for (const auto& info : command_table())
            if (std::string_view(info.word) != "!" && std::string_view(info.word) != "open")
                pool.push_back(info.word);
        variables(Scope::Kind::Handle);   // the start of "h = open ..."
        variables(Scope::Kind::Request);  // the start of "r = read ..."
    } else if (before == "=") {
        pool = {"open", "read", "write", "ioctl"};
    } else if (words.size() == 2 && (first == "close" || first == "read" || first == "write" || first == "ioctl")) {
        variables(Scope::Kind::Handle);
    } else if (words.size() == 4 && words[1] == "=" && (words[2] == "read" || words[2] == "write" || words[2] == "ioctl")) {
        pool.assign(s.scope.overlapped.begin(), s.scope.overlapped.end());  // a named request: an overlapped handle
    } else if (words.size() == 2 && first == "wait") {
        variables(Scope::Kind::Request);
    } else if (words.size() == 2 && first == "cancel") {
        variables(Scope::Kind::Request);
        variables(Scope::Kind::Handle);
    } else if (words.size() == 3 && first == "wait") {
        pool = {"timeout"};
    } else if (words.size() == 3 && (first == "attach" || first == "detach")) {
        pool = {first == "attach" ? "to" : "from"};
    } else if (words.size() == 2 && (first == "in" || first == "exit")) {
        variables(Scope::Kind::Process);
    } else if (words.size() == 2 && first == "break") {
        pool = major_names();
    } else if (words.size() == 2 && first == "expect") {
        pool = expectation_words();
    } else if (first == "expect" && words.size() == 3) {
        if (before == "status")
            pool = status_names();
        else if (before == "last-error")
            pool = dos_error_names();
        else if (before == "bugcheck")
            pool = bugcheck_names();
        else if (before == "trace" || before == "output")
            pool = {"contains"};
        else if (before == "finding")
            for (const auto& f : s.machine.system().findings())
                pool.push_back(f.code);
    } else if (first == "expect" && words.size() == 4 && words[1] == "object") {
        pool = {"exists", "absent"};
    } else if (before == "access") {
        pool = {"read", "write", "readwrite", "none"};
    } else if (before == "share") {
        pool = {"none", "read", "write", "readwrite"};
    } else if (words.size() >= 4 && words[1] == "=" && words[2] == "open") {
        pool = {"access", "share", "overlapped"};
    } else if (words.size() == 2 && first == "device") {  // PnP
        pool = {"declare"};
    } else if (words.size() >= 4 && first == "device") {
        pool = {"function", "upper", "lower"};
    } else if (words.size() == 2 && first == "plug") {
        for (const auto& [id, config] : io::pnp::declarations())
            pool.push_back(id);
    } else if (words.size() == 2 && first == "unplug") {
        for (const auto& line : io::pnp::describe_tree())
            if (line.rfind("  ", 0) == 0 && line.rfind("   ", 0) != 0)  // the root bus's children
                pool.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (words.size() == 3 && first == "unplug") {
        pool = {"surprise"};
    } else if (words.size() == 2 && first == "sleep") {
        pool = {"S1", "S2", "S3", "S4"};
    }

    std::set<std::string> out;
    for (const auto& candidate : pool)
        if (candidate.compare(0, word.size(), word) == 0)
            out.insert(candidate);
    return {out.begin(), out.end()};
}

}  // namespace iosim::lang
