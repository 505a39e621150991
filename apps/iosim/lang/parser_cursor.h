// parser_cursor.h - the parser's walk over one line's tokens (internal to the parser).
//
// Every error names what was expected and what was found, at the found token's column
// (or just after the last token for "got end of line"), e.g.
//   expected a handle variable after 'close', got "42"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lang/command.h"
#include "lang/lexer.h"

namespace iosim::lang {

class Cursor {
public:
    Cursor(std::vector<Token> tokens, Location where) : tokens_(std::move(tokens)), where_(std::move(where)) {}

    const Token* peek() const { return at_ < tokens_.size() ? &tokens_[at_] : nullptr; }
    const Token* next() { return at_ < tokens_.size() ? &tokens_[at_++] : nullptr; }
    bool at_end() const { return at_ >= tokens_.size(); }
    // The token just consumed (for "after 'x'").
    const Token* previous() const { return at_ > 0 ? &tokens_[at_ - 1] : nullptr; }
    bool peek_word(std::string_view word) const
    {
        const Token* t = peek();
        return t != nullptr && t->kind == TokenKind::Word && t->text == word;
    }
    // Consumes the next token if it is the bare word `word`.
    bool accept(std::string_view word)
    {
        if (!peek_word(word))
            return false;
        ++at_;
        return true;
    }

    Location location_of(const Token* token) const;
    // "expected WHAT after 'PREV', got TOKEN" at the next token.
    [[noreturn]] void expected(std::string_view what) const;
    [[noreturn]] void fail_at(const Token* token, std::string message) const;

    // A word or a string (a name, a path, a module): its text.
    std::string text(std::string_view what);
    // A string in double quotes.
    std::string string(std::string_view what);
    uint64_t number(std::string_view what);
    // A variable of the given kind, defined before.
    std::string variable(const Scope& scope, Scope::Kind kind);
    // Nothing may follow.
    void end() const;

    const Location& where() const { return where_; }

private:
    std::vector<Token> tokens_;
    size_t at_ = 0;
    Location where_;
};

// parser_values.cpp: the argument forms shared by several commands.
std::string parse_data(Cursor& cursor, const std::string& base_folder);            // "text" | hex .. | file ".."
uint64_t parse_duration(Cursor& cursor);                                           // 100ms -> 100 ns units
uint32_t parse_control_code(Cursor& cursor);                                       // NUMBER | ctl D F M A
uint32_t parse_status(Cursor& cursor);                                             // STATUS_X | number
void parse_expectation(Cursor& cursor, Command& command, const std::string& base_folder);
void parse_wait(Cursor& cursor, Command& command, const Scope& scope);              // REQ [timeout DURATION]
void parse_cancel(Cursor& cursor, Command& command, const Scope& scope);            // REQ | VAR

}  // namespace iosim::lang
