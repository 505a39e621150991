// parser.cpp - the command words and their arguments (the argument forms shared by several
// commands, and 'expect', are in parser_values.cpp).
#include "lang/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "inspect/inspect.h"
#include "lang/names.h"
#include "lang/parser_cursor.h"
#include "wdm_impl.h"

namespace iosim::lang {

namespace fs = std::filesystem;

// ---- Cursor ------------------------------------------------------------------------------

Location Cursor::location_of(const Token* token) const
{
    Location where = where_;
    if (token != nullptr) {
        where.column = token->column;
    } else if (!tokens_.empty()) {
        const Token& last = tokens_.back();
        where.column = last.column + static_cast<int>(last.source.size());
    } else {
        where.column = 1;
    }
    return where;
}

void Cursor::fail_at(const Token* token, std::string message) const
{
    throw ScriptError(location_of(token), std::move(message));
}

void Cursor::expected(std::string_view what) const
{
    const Token* prev = previous();
    std::string after = prev != nullptr ? fmt::format(" after '{}'", prev->source) : std::string();
    fail_at(peek(), fmt::format("expected {}{}, got {}", what, after, describe(peek())));
}

std::string Cursor::text(std::string_view what)
{
    const Token* t = peek();
    if (t == nullptr || (t->kind != TokenKind::Word && t->kind != TokenKind::String))
        expected(what);
    ++at_;
    return t->text;
}

std::string Cursor::string(std::string_view what)
{
    const Token* t = peek();
    if (t == nullptr || t->kind != TokenKind::String)
        expected(what);
    ++at_;
    return t->text;
}

uint64_t Cursor::number(std::string_view what)
{
    const Token* t = peek();
    std::optional<uint64_t> value;
    if (t != nullptr && t->kind == TokenKind::Word)
        value = parse_number(t->text);
    if (!value)
        expected(fmt::format("{} (a number, decimal or 0x hex)", what));
    ++at_;
    return *value;
}

namespace {

const char* kind_article(Scope::Kind kind)  // "a handle variable"
{
    switch (kind) {
    case Scope::Kind::Handle: return "a handle variable";
    case Scope::Kind::Process: return "a process name";
    case Scope::Kind::Request: return "a request variable";
    }
    return "?";
}

const char* kind_plural(Scope::Kind kind)  // "handle variables"
{
    switch (kind) {
    case Scope::Kind::Handle: return "handle variables";
    case Scope::Kind::Process: return "processes";
    case Scope::Kind::Request: return "request variables";
    }
    return "?";
}

const char* kind_noun(Scope::Kind kind)  // "which is a handle variable"
{
    switch (kind) {
    case Scope::Kind::Handle: return "handle variable";
    case Scope::Kind::Process: return "process";
    case Scope::Kind::Request: return "request variable";
    }
    return "?";
}

}  // namespace

std::string Cursor::variable(const Scope& scope, Scope::Kind kind)
{
    const char* what = kind_article(kind);
    const Token* t = peek();
    if (t == nullptr || t->kind != TokenKind::Word || !is_variable_name(t->text))
        expected(what);
    auto found = scope.variables.find(t->text);
    if (found == scope.variables.end()) {
        std::vector<std::string> same_kind;
        for (const auto& [name, k] : scope.variables)
            if (k == kind)
                same_kind.push_back(name);
        std::string known = same_kind.empty() ? "none defined yet" : fmt::format("{}", fmt::join(same_kind, ", "));
        fail_at(t, fmt::format("unknown variable '{}' ({}: {})", t->text, kind_plural(kind), known));
    }
    if (found->second != kind)
        fail_at(t, fmt::format("expected {} after '{}', got '{}', which is a {}", what, previous()->source, t->text,
                               kind_noun(found->second)));
    ++at_;
    return t->text;
}

void Cursor::end() const
{
    if (const Token* t = peek()) {
        const Token* prev = previous();
        fail_at(t, fmt::format("expected end of line after '{}', got {}", prev != nullptr ? prev->source : std::string(),
                               describe(t)));
    }
}

// ---- helpers -----------------------------------------------------------------------------

namespace {

std::string folder_of(const std::string& file)
{
    if (file.empty())
        return {};
    return fs::path(file).parent_path().string();
}

// "hello.sys" -> "hello"; "/x/y/my.drv.sys" -> "my"
std::string service_of(const std::string& module)
{
    std::string name = fs::path(module).filename().string();
    return name.substr(0, name.find('.'));
}

// An inspection command must name one inspect::commands() knows; its arguments are
// checked when it runs.
void check_inspection(const Location& where, std::string_view line)
{
    std::string_view word = line.substr(0, line.find_first_of(" \t"));
    std::vector<std::string> names;
    for (const auto& [name, help] : inspect::commands()) {
        if (word == name)
            return;
        names.push_back(name);
    }
    std::string near = nearest(word, names);
    throw ScriptError(where, fmt::format("unknown inspection command '{}' ({}{})", word,
                                         near.empty() ? "" : "did you mean " + near + "? ",
                                         fmt::format("commands: {}", fmt::join(names, " "))));
}

const UnsupportedInfo* unsupported(std::string_view word)
{
    for (const auto& info : unsupported_table())
        if (word == info.word)
            return &info;
    return nullptr;
}

[[noreturn]] void reject_unsupported(const Cursor& cursor, const Token* token, const UnsupportedInfo& info)
{
    cursor.fail_at(token, fmt::format("'{}' {}", info.word, info.reason));
}

uint32_t access_of(Cursor& cursor)
{
    static const std::pair<const char*, uint32_t> kinds[] = {
        {"read", GENERIC_READ}, {"write", GENERIC_WRITE}, {"readwrite", GENERIC_READ | GENERIC_WRITE}, {"none", 0}};
    for (const auto& [word, value] : kinds)
        if (cursor.accept(word))
            return value;
    cursor.expected("read, write, readwrite or none");
}

uint32_t share_of(Cursor& cursor)
{
    static const std::pair<const char*, uint32_t> kinds[] = {{"none", 0},
                                                             {"read", FILE_SHARE_READ},
                                                             {"write", FILE_SHARE_WRITE},
                                                             {"readwrite", FILE_SHARE_READ | FILE_SHARE_WRITE}};
    for (const auto& [word, value] : kinds)
        if (cursor.accept(word))
            return value;
    cursor.expected("none, read, write or readwrite");
}

void parse_open(Cursor& cursor, Command& command)
{
    command.name = cursor.text("a path to open (\\\\.\\Name, or an NT path such as \\Device\\Name)");
    command.access = GENERIC_READ | GENERIC_WRITE;
    bool seen_access = false;
    bool seen_share = false;
    while (const Token* t = cursor.peek()) {
        if (!seen_access && cursor.accept("access")) {
            command.access = access_of(cursor);
            seen_access = true;
        } else if (!seen_share && cursor.accept("share")) {
            command.share = share_of(cursor);
            seen_share = true;
        } else if (!command.overlapped && cursor.accept("overlapped")) {
            command.overlapped = true;  // FILE_FLAG_OVERLAPPED: no FILE_SYNCHRONOUS_IO_* option
        } else {
            cursor.fail_at(t, fmt::format("unexpected {} in 'open': expected access, share, overlapped or end of "
                                          "line",
                                          describe(t)));
        }
    }
}

// A buffer length: at most 16 MiB.
uint64_t length(Cursor& cursor, std::string_view what);

// read/write/ioctl after their word. `request`: the REQ of `REQ = read ...` ("" none).
void parse_transfer(Cursor& cursor, Command& command, std::string_view word, const Scope& scope,
                    const std::string& base)
{
    const Token* handle_token = cursor.peek();
    command.variable = cursor.variable(scope, Scope::Kind::Handle);
    if (!command.request.empty() && scope.overlapped.count(command.variable) == 0)
        cursor.fail_at(handle_token, fmt::format("'{} = {}' names an overlapped request, but '{}' was not opened "
                                                 "overlapped (add 'overlapped' to its open)",
                                                 command.request, word, command.variable));
    if (word == "read") {
        command.verb = Verb::Read;
        command.number = length(cursor, "a length");
        if (cursor.accept("offset"))
            command.offset = cursor.number("an offset");
    } else if (word == "write") {
        command.verb = Verb::Write;
        command.data = parse_data(cursor, base);
        if (cursor.accept("offset"))
            command.offset = cursor.number("an offset");
    } else {
        command.verb = Verb::Ioctl;
        command.number = parse_control_code(cursor);
        if (cursor.accept("in"))
            command.data = parse_data(cursor, base);
        if (cursor.accept("out"))
            command.out_length = static_cast<uint32_t>(length(cursor, "an output length"));
    }
}

void parse_break(Cursor& cursor, Command& command)
{
    const Token* t = cursor.peek();
    std::optional<uint8_t> major;
    if (t != nullptr && t->kind == TokenKind::Word)
        major = major_value(t->text);
    if (!major) {
        if (t != nullptr && t->kind == TokenKind::Word && t->text.rfind("IRP_MJ_", 0) == 0) {
            std::string near = nearest(t->text, major_names());
            cursor.fail_at(t, fmt::format("unknown IRP major function '{}'{}", t->text,
                                          near.empty() ? "" : " (did you mean " + near + "?)"));
        }
        cursor.expected("an IRP major function such as IRP_MJ_WRITE");
    }
    cursor.next();
    command.major = *major;
    if (cursor.accept("at"))
        command.name = cursor.text("a device name such as \\Device\\IosimHello");
    if (cursor.accept("do")) {
        const Token* raw = cursor.peek();
        if (raw == nullptr || raw->kind != TokenKind::Raw)
            cursor.expected("inspection commands such as !irp");
        size_t start = 0;
        const std::string& text = raw->text;
        while (start <= text.size()) {
            size_t end = text.find(';', start);
            if (end == std::string::npos)
                end = text.size();
            std::string one = text.substr(start, end - start);
            one.erase(0, one.find_first_not_of(" \t"));
            one.erase(one.find_last_not_of(" \t") + 1);
            if (one.empty() || one[0] != '!') {
                Location where = cursor.location_of(raw);
                where.column += static_cast<int>(one.empty() ? start : text.find(one, start));
                throw ScriptError(where, fmt::format("expected an inspection command starting with '!' after 'do', "
                                                     "got {}",
                                                     one.empty() ? std::string("nothing") : "\"" + one + "\""));
            }
            Location where = cursor.location_of(raw);
            where.column += static_cast<int>(text.find(one, start));
            check_inspection(where, one);
            command.args.push_back(one);
            start = end + 1;
        }
        cursor.next();
    }
}

// A buffer length: at most 16 MiB.
uint64_t length(Cursor& cursor, std::string_view what)
{
    const Token* t = cursor.peek();
    uint64_t value = cursor.number(what);
    if (value > (16u << 20))
        cursor.fail_at(t, fmt::format("{} {} is too large (at most 16 MiB)", what.substr(what.find(' ') + 1), value));
    return value;
}

void parse_run(Cursor& cursor, Command& command)
{
    command.name = cursor.text("an app module such as hello_open.exe");
    while (const Token* t = cursor.peek()) {
        if (cursor.accept("input")) {
            command.input = cursor.text("the app's input (a string)");
            break;
        }
        command.args.push_back(cursor.text("an argument for the app"));
        (void)t;
    }
}

// ---- PnP --------------------------------------------------------------------------------

bool is_device_keyword(const Token* t)
{
    return t != nullptr && t->kind == TokenKind::Word && (t->text == "function" || t->text == "upper" || t->text == "lower");
}

// One or more service names, up to the next keyword.
void services(Cursor& cursor, std::vector<std::string>& out, std::string_view what)
{
    out.push_back(cursor.text(what));
    while (cursor.peek() != nullptr && !is_device_keyword(cursor.peek()))
        out.push_back(cursor.text(what));
}

// device declare HARDWARE_ID function SERVICE [upper SERVICE...] [lower SERVICE...]
void parse_device(Cursor& cursor, Command& command)
{
    if (!cursor.accept("declare"))
        cursor.expected("'declare' (device declare HARDWARE_ID function SERVICE ...)");
    command.name = cursor.text("a hardware id such as TOYBUS\\CHILD");
    bool seen_function = false, seen_upper = false, seen_lower = false;
    while (const Token* t = cursor.peek()) {
        if (!seen_function && cursor.accept("function")) {
            command.service = cursor.text("the function driver's service name");
            seen_function = true;
        } else if (!seen_upper && cursor.accept("upper")) {
            services(cursor, command.args, "an upper filter's service name");
            seen_upper = true;
        } else if (!seen_lower && cursor.accept("lower")) {
            services(cursor, command.lower, "a lower filter's service name");
            seen_lower = true;
        } else {
            cursor.fail_at(t, fmt::format("unexpected {} in 'device declare': expected function, upper, lower or end "
                                          "of line",
                                          describe(t)));
        }
    }
    if (!seen_function)
        cursor.expected("'function SERVICE' (a declared device names its function driver)");
}

uint64_t sleep_state(Cursor& cursor)
{
    static const std::pair<const char*, SYSTEM_POWER_STATE> states[] = {
        {"S1", PowerSystemSleeping1}, {"S2", PowerSystemSleeping2}, {"S3", PowerSystemSleeping3},
        {"S4", PowerSystemHibernate}};
    if (cursor.at_end())
        return PowerSystemSleeping3;
    for (const auto& [word, value] : states)
        if (cursor.accept(word))
            return value;
    cursor.expected("a sleeping state: S1, S2, S3 or S4 (hibernate)");
}

}  // namespace

// ---- the line ----------------------------------------------------------------------------

bool is_variable_name(std::string_view word)
{
    if (word.empty() || !(std::isalpha(static_cast<unsigned char>(word[0])) || word[0] == '_'))
        return false;
    for (char c : word)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
            return false;
    for (const auto& info : command_table())
        if (word == info.word)
            return false;
    return word != "expect" && unsupported(word) == nullptr;
}

std::optional<uint64_t> parse_number(std::string_view text)
{
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty())
        return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        int digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            return std::nullopt;
        if (value > (UINT64_MAX - static_cast<uint64_t>(digit)) / static_cast<uint64_t>(base))
            return std::nullopt;
        value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
    }
    return value;
}

Command parse_line(std::string_view line, const Location& where, Scope& scope)
{
    Command command;
    command.where = where;
    command.where.column = 1;
    std::vector<Token> tokens = tokenize(line, where);
    if (tokens.empty())
        return command;
    command.where.column = tokens.front().column;
    const Token& last = tokens.back();  // a raw tail's text is already trimmed, as its source
    command.source = std::string(line.substr(tokens.front().column - 1,
                                             last.column + last.source.size() - tokens.front().column));
    const std::string base = folder_of(where.file);
    Cursor cursor(std::move(tokens), where);
    const Token* first = cursor.next();

    if (first->kind == TokenKind::Raw) {
        command.verb = Verb::Inspect;
        command.name = first->text;
        check_inspection(cursor.location_of(first), command.name);
        return command;
    }
    if (first->kind != TokenKind::Word)
        cursor.fail_at(first, fmt::format("expected a command, got {}", describe(first)));

    // VAR = open ...   REQ = read|write|ioctl ...
    if (cursor.peek() != nullptr && cursor.peek()->kind == TokenKind::Equals) {
        if (!is_variable_name(first->text))
            cursor.fail_at(first, fmt::format("'{}' cannot name a variable (a letter or '_', then letters, digits and "
                                              "'_'; not a command word)",
                                              first->text));
        auto existing = scope.variables.find(first->text);
        cursor.next();
        const Token* verb = cursor.peek();
        bool is_transfer = cursor.peek_word("read") || cursor.peek_word("write") || cursor.peek_word("ioctl");
        if (!is_transfer && !cursor.peek_word("open"))
            cursor.expected("'open' (a handle variable) or read, write or ioctl (a request variable)");
        Scope::Kind kind = is_transfer ? Scope::Kind::Request : Scope::Kind::Handle;
        if (existing != scope.variables.end() && existing->second != kind)
            cursor.fail_at(first, fmt::format("'{}' is a {}; choose another name for the {}", first->text,
                                              kind_noun(existing->second), is_transfer ? "request" : "handle"));
        cursor.next();
        if (is_transfer) {
            command.request = first->text;
            parse_transfer(cursor, command, verb->text, scope, base);
            cursor.end();
            scope.variables[command.request] = Scope::Kind::Request;
            return command;
        }
        command.verb = Verb::Open;
        command.variable = first->text;
        parse_open(cursor, command);
        scope.variables[command.variable] = Scope::Kind::Handle;
        if (command.overlapped)
            scope.overlapped.insert(command.variable);
        else
            scope.overlapped.erase(command.variable);
        return command;
    }

    const std::string& word = first->text;
    if (word == "include") {
        command.verb = Verb::Include;
        command.name_column = cursor.peek() != nullptr ? cursor.peek()->column : 0;
        std::string file = cursor.text("a script file name in double quotes");
        command.name = base.empty() ? file : (fs::path(base) / file).lexically_normal().string();
        if (fs::path(file).is_absolute())
            command.name = file;
    } else if (word == "load") {
        command.verb = Verb::Load;
        command.name = cursor.text("a driver module such as hello.sys");
        command.service = cursor.accept("as") ? cursor.text("a service name") : service_of(command.name);
    } else if (word == "unload") {
        command.verb = Verb::Unload;
        command.name = cursor.text("a service name");
    } else if (word == "process") {
        command.verb = Verb::Process;
        const Token* t = cursor.peek();
        if (t == nullptr || t->kind != TokenKind::Word || !is_variable_name(t->text))
            cursor.expected("a process name (letters, digits and '_')");
        auto existing = scope.variables.find(t->text);
        if (existing != scope.variables.end() && existing->second == Scope::Kind::Handle)
            cursor.fail_at(t, fmt::format("'{}' is a handle variable; choose another name for the process", t->text));
        command.variable = cursor.next()->text;
        scope.variables[command.variable] = Scope::Kind::Process;
    } else if (word == "in") {
        command.verb = Verb::In;
        command.variable = cursor.variable(scope, Scope::Kind::Process);
    } else if (word == "exit") {
        command.verb = Verb::Exit;
        if (!cursor.at_end())
            command.variable = cursor.variable(scope, Scope::Kind::Process);
    } else if (word == "run") {
        command.verb = Verb::Run;
        parse_run(cursor, command);
    } else if (word == "open") {
        cursor.fail_at(first, "'open' makes a handle: write it as VAR = open PATH (for example h = open \\\\.\\IosimHello)");
    } else if (word == "close") {
        command.verb = Verb::Close;
        command.variable = cursor.variable(scope, Scope::Kind::Handle);
    } else if (word == "read" || word == "write" || word == "ioctl") {
        parse_transfer(cursor, command, word, scope, base);
    } else if (word == "wait") {
        command.verb = Verb::Wait;
        parse_wait(cursor, command, scope);
    } else if (word == "cancel") {
        command.verb = Verb::Cancel;
        parse_cancel(cursor, command, scope);
    } else if (word == "attach" || word == "detach") {
        bool attach = word == "attach";
        command.verb = attach ? Verb::Attach : Verb::Detach;
        command.service = cursor.text("a filter driver's service name such as attachfilter");
        if (!cursor.accept(attach ? "to" : "from"))
            cursor.expected(attach ? "'to' (attach SERVICE to DEVICE)" : "'from' (detach SERVICE from DEVICE)");
        command.name = cursor.text("a device name such as \\Device\\IosimHello");
    } else if (word == "advance") {
        command.verb = Verb::Advance;
        command.number = parse_duration(cursor);
    } else if (word == "seed") {
        command.verb = Verb::Seed;
        command.number = cursor.number("a seed");
    } else if (word == "break") {
        command.verb = Verb::Break;
        parse_break(cursor, command);
    } else if (word == "delete") {
        command.verb = Verb::Delete;
        command.number = cursor.number("a breakpoint number");
    } else if (word == "expect") {
        command.verb = Verb::Expect;
        parse_expectation(cursor, command, base);
    } else if (word == "print") {
        command.verb = Verb::Print;
        command.name = cursor.string("a string in double quotes");
    } else if (word == "device") {
        command.verb = Verb::DeviceDeclare;
        parse_device(cursor, command);
    } else if (word == "plug") {
        command.verb = Verb::Plug;
        command.name = cursor.text("a hardware id such as ROOT\\IOSIM_TOYBUS");
    } else if (word == "unplug") {
        command.verb = Verb::Unplug;
        command.name = cursor.text("a device: an instance path such as ROOT\\IOSIM_TOYBUS\\0000, or a hardware id");
        command.number = cursor.accept("surprise") ? 1 : 0;
    } else if (word == "sleep") {
        command.verb = Verb::Sleep;
        command.number = sleep_state(cursor);
    } else if (word == "wake") {
        command.verb = Verb::Wake;
    } else if (word == "verifier") {  // Driver Verifier (pool)
        command.verb = Verb::Verifier;
        if (!cursor.accept("special-pool"))
            cursor.expected("special-pool");
        if (!cursor.at_end())
            command.name = cursor.text("a driver module such as kbuffer.sys");
    } else if (const UnsupportedInfo* info = unsupported(word)) {
        reject_unsupported(cursor, first, *info);
    } else {
        std::vector<std::string> words;
        for (const auto& info : command_table())
            if (std::string_view(info.word) != "!")
                words.push_back(info.word);
        words.push_back("expect");
        std::string near = nearest(word, words);
        cursor.fail_at(first, fmt::format("unknown command '{}'{}", word,
                                          near.empty() ? std::string(" (see docs/command-language.md)")
                                                       : " (did you mean '" + near + "'?)"));
    }
    cursor.end();
    return command;
}

}  // namespace iosim::lang
