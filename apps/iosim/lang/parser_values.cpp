// parser_values.cpp - argument forms shared by several commands (DATA, durations, control
// codes, statuses) and the 'expect' command.
//
//   DATA      "text" | hex 01 02 ff | file "path"
//   DURATION  100ns | 5us | 100ms | 2s              (stored in 100 ns units)
//   CODE      0x222000 | ctl 0x22 0x800 buffered any
//   STATUS    STATUS_ACCESS_DENIED | 0xC0000022
// and the arguments of 'wait' (REQ [timeout DURATION]) and 'cancel' (REQ | VAR).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lang/names.h"
#include "lang/parser.h"
#include "lang/parser_cursor.h"
#include "wdm_impl.h"

namespace iosim::lang {

namespace fs = std::filesystem;

namespace {

bool is_hex_text(std::string_view text)
{
    if (text.empty())
        return false;
    for (char c : text)
        if (!std::isxdigit(static_cast<unsigned char>(c)))
            return false;
    return true;
}

std::string parse_hex(Cursor& cursor)
{
    std::string bytes;
    while (const Token* t = cursor.peek()) {
        if (t->kind != TokenKind::Word || t->text == "offset" || t->text == "in" || t->text == "out")
            break;
        const std::string& text = t->text;
        if (!is_hex_text(text) || (text.size() > 2 && text.size() % 2 != 0))
            cursor.fail_at(t, fmt::format("bad hex byte \"{}\": write bytes as hex digits, like hex 0a ff or hex 0aff",
                                          text));
        for (size_t i = 0; i < text.size(); i += 2)
            bytes.push_back(static_cast<char>(std::stoul(text.substr(i, 2), nullptr, 16)));
        cursor.next();
    }
    if (bytes.empty())
        cursor.expected("hex bytes such as 01 02 ff");
    return bytes;
}

uint32_t named_or_number(Cursor& cursor, std::string_view prefix, std::string_view what,
                         std::optional<uint32_t> (*lookup)(std::string_view), std::vector<std::string> (*all)())
{
    const Token* t = cursor.peek();
    if (t != nullptr && t->kind == TokenKind::Word && !parse_number(t->text)) {
        if (auto value = lookup(t->text)) {
            cursor.next();
            return *value;
        }
        if (t->text.rfind(prefix, 0) == 0) {
            std::string near = all != nullptr ? nearest(t->text, all()) : std::string();
            cursor.fail_at(t, fmt::format("unknown {} name '{}'{}", what, t->text,
                                          near.empty() ? "" : " (did you mean " + near + "?)"));
        }
    }
    if (t == nullptr || t->kind != TokenKind::Word || !parse_number(t->text))
        cursor.expected(fmt::format("a {} (a {} name or a number)", what,
                                    prefix.empty() ? std::string("symbolic") : std::string(prefix) + "..."));
    uint64_t value = cursor.number(what);
    if (value > 0xFFFFFFFFu)
        cursor.fail_at(t, fmt::format("{} {} does not fit in 32 bits", what, t->text));
    return static_cast<uint32_t>(value);
}

std::optional<uint32_t> error_lookup(std::string_view name)
{
    if (name == "NO_ERROR")
        return 0;
    return dos_error_value(name);
}

}  // namespace

std::string parse_data(Cursor& cursor, const std::string& base_folder)
{
    const Token* t = cursor.peek();
    if (t != nullptr && t->kind == TokenKind::String) {
        cursor.next();
        return t->text;
    }
    if (cursor.accept("hex"))
        return parse_hex(cursor);
    if (cursor.accept("file")) {
        const Token* name = cursor.peek();
        std::string file = cursor.text("a file name in double quotes");
        fs::path path = fs::path(file).is_absolute() || base_folder.empty() ? fs::path(file) : fs::path(base_folder) / file;
        std::ifstream in(path, std::ios::binary);
        if (!in)
            cursor.fail_at(name, fmt::format("cannot read data file \"{}\" (looked for {})", file, path.string()));
        std::ostringstream bytes;
        bytes << in.rdbuf();
        return bytes.str();
    }
    cursor.expected("data: \"text\", hex BYTES or file \"path\"");
}

uint64_t parse_duration(Cursor& cursor)
{
    const Token* t = cursor.peek();
    const char* what = "a duration such as 100ms or 2s (units ns, us, ms, s)";
    if (t == nullptr || t->kind != TokenKind::Word)
        cursor.expected(what);
    std::string_view text = t->text;
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
        ++digits;
    auto value = parse_number(text.substr(0, digits));
    std::string_view unit = text.substr(digits);
    uint64_t per_unit = 0;  // in nanoseconds
    if (unit == "ns")
        per_unit = 1;
    else if (unit == "us")
        per_unit = 1000;
    else if (unit == "ms")
        per_unit = 1000000;
    else if (unit == "s")
        per_unit = 1000000000;
    if (digits == 0 || !value || per_unit == 0)
        cursor.expected(what);
    if (*value > UINT64_MAX / per_unit)
        cursor.fail_at(t, fmt::format("duration {} is too long", text));
    uint64_t ns = *value * per_unit;
    if (ns % 100 != 0)
        cursor.fail_at(t, fmt::format("duration {} is not a multiple of 100ns, the clock's unit", text));
    cursor.next();
    return ns / 100;
}

uint32_t parse_control_code(Cursor& cursor)
{
    if (!cursor.accept("ctl")) {
        const Token* t = cursor.peek();
        uint64_t code = cursor.number("a control code (or ctl DEVICE FUNCTION METHOD ACCESS)");
        if (code > 0xFFFFFFFFu)
            cursor.fail_at(t, fmt::format("control code {} does not fit in 32 bits", t->text));
        return static_cast<uint32_t>(code);
    }
    const Token* t = cursor.peek();
    uint64_t device = cursor.number("a device type");
    if (device > 0xFFFF)
        cursor.fail_at(t, "a device type is at most 0xFFFF");
    t = cursor.peek();
    uint64_t function = cursor.number("a function number");
    if (function > 0xFFF)
        cursor.fail_at(t, "a function number is at most 0xFFF");
    static const std::pair<const char*, uint32_t> methods[] = {
        {"buffered", METHOD_BUFFERED},   {"METHOD_BUFFERED", METHOD_BUFFERED},   {"in_direct", METHOD_IN_DIRECT},
        {"METHOD_IN_DIRECT", METHOD_IN_DIRECT}, {"out_direct", METHOD_OUT_DIRECT}, {"METHOD_OUT_DIRECT", METHOD_OUT_DIRECT},
        {"neither", METHOD_NEITHER},     {"METHOD_NEITHER", METHOD_NEITHER}};
    std::optional<uint32_t> method;
    for (const auto& [word, value] : methods)
        if (!method && cursor.accept(word))
            method = value;
    if (!method)
        cursor.expected("a method: buffered, in_direct, out_direct or neither");
    static const std::pair<const char*, uint32_t> accesses[] = {
        {"any", FILE_ANY_ACCESS},        {"FILE_ANY_ACCESS", FILE_ANY_ACCESS},
        {"read", FILE_READ_ACCESS},      {"FILE_READ_ACCESS", FILE_READ_ACCESS},
        {"write", FILE_WRITE_ACCESS},    {"FILE_WRITE_ACCESS", FILE_WRITE_ACCESS},
        {"readwrite", FILE_READ_ACCESS | FILE_WRITE_ACCESS}};
    std::optional<uint32_t> access;
    for (const auto& [word, value] : accesses)
        if (!access && cursor.accept(word))
            access = value;
    if (!access)
        cursor.expected("an access: any, read, write or readwrite");
    return static_cast<uint32_t>(CTL_CODE(device, function, *method, *access));
}

uint32_t parse_status(Cursor& cursor)
{
    return named_or_number(cursor, "STATUS_", "status", status_value, status_names);
}

void parse_expectation(Cursor& cursor, Command& command, const std::string& base_folder)
{
    const Token* t = cursor.peek();
    if (t == nullptr || t->kind != TokenKind::Word)
        cursor.expected(fmt::format("what to expect ({})", fmt::join(expectation_words(), ", ")));
    std::string word = cursor.next()->text;
    if (word == "status") {
        command.expect = Expectation::Status;
        command.number = parse_status(cursor);
    } else if (word == "bytes") {
        command.expect = Expectation::Bytes;
        command.number = cursor.number("a byte count");
    } else if (word == "data") {
        command.expect = Expectation::Data;
        command.data = parse_data(cursor, base_folder);
    } else if (word == "last-error") {
        command.expect = Expectation::LastError;
        command.number = named_or_number(cursor, "ERROR_", "Win32 error", error_lookup, dos_error_names);
    } else if (word == "bugcheck") {
        command.expect = Expectation::BugCheck;
        command.number = named_or_number(cursor, "", "bug check", bugcheck_value, bugcheck_names);
    } else if (word == "clean") {
        command.expect = Expectation::Clean;
    } else if (word == "finding") {
        command.expect = Expectation::Finding;
        command.name = cursor.text("a finding code such as SYMLINK_LEFT_BEHIND");
    } else if (word == "trace" || word == "output") {
        command.expect = word == "trace" ? Expectation::TraceContains : Expectation::OutputContains;
        if (!cursor.accept("contains"))
            cursor.expected("'contains'");
        command.name = cursor.string("the text to look for, in double quotes");
    } else if (word == "object") {
        command.expect = Expectation::Object;
        command.name = cursor.text("an object name such as \\Device\\IosimHello");
        if (cursor.accept("exists"))
            command.exists = true;
        else if (cursor.accept("absent"))
            command.exists = false;
        else
            cursor.expected("'exists' or 'absent'");
    } else if (word == "exit") {
        command.expect = Expectation::Exit;
        const Token* code = cursor.peek();
        bool negative = code != nullptr && code->kind == TokenKind::Word && code->text.size() > 1 && code->text[0] == '-';
        if (negative) {
            auto value = parse_number(std::string_view(code->text).substr(1));
            if (!value || *value > 0x80000000u)
                cursor.expected("an exit code (a number)");
            cursor.next();
            command.number = static_cast<uint32_t>(-static_cast<int64_t>(*value));
        } else {
            uint64_t value = cursor.number("an exit code");
            if (value > 0xFFFFFFFFu)
                cursor.fail_at(code, "an exit code fits in 32 bits");
            command.number = value;
        }
    } else {
        std::string near = nearest(word, expectation_words());
        cursor.fail_at(t, fmt::format("unknown expectation '{}' (expect {}){}", word,
                                      fmt::join(expectation_words(), ", "),
                                      near.empty() ? "" : ", did you mean '" + near + "'?"));
    }
}

// wait REQ [timeout DURATION]: GetOverlappedResultEx takes milliseconds.
void parse_wait(Cursor& cursor, Command& command, const Scope& scope)
{
    command.request = cursor.variable(scope, Scope::Kind::Request);
    if (cursor.accept("timeout")) {
        const Token* t = cursor.peek();
        uint64_t units = parse_duration(cursor);
        if (units % 10000 != 0)
            cursor.fail_at(t, fmt::format("timeout {} is not a whole number of milliseconds (GetOverlappedResultEx "
                                          "waits in ms)",
                                          t->text));
        if (units / 10000 >= 0xFFFFFFFFu)
            cursor.fail_at(t, fmt::format("timeout {} is too long (at most 4294967294ms; leave it out to wait "
                                          "without one)",
                                          t->text));
        command.timeout = units;
    }
}

// cancel REQ (CancelIoEx with its OVERLAPPED) | cancel VAR (CancelIo on the handle).
void parse_cancel(Cursor& cursor, Command& command, const Scope& scope)
{
    const Token* t = cursor.peek();
    const char* what = "a request or handle variable";
    if (t == nullptr || t->kind != TokenKind::Word || !is_variable_name(t->text))
        cursor.expected(what);
    auto found = scope.variables.find(t->text);
    if (found == scope.variables.end()) {
        std::vector<std::string> names;
        for (const auto& [name, k] : scope.variables)
            if (k != Scope::Kind::Process)
                names.push_back(name);
        cursor.fail_at(t, fmt::format("unknown variable '{}' (request and handle variables: {})", t->text,
                                      names.empty() ? std::string("none defined yet")
                                                    : fmt::format("{}", fmt::join(names, ", "))));
    }
    if (found->second == Scope::Kind::Process)
        cursor.fail_at(t, fmt::format("expected {} after 'cancel', got '{}', which is a process", what, t->text));
    if (found->second == Scope::Kind::Request)
        command.request = t->text;
    else
        command.variable = t->text;
    cursor.next();
}

}  // namespace iosim::lang
