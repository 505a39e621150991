// lexer.cpp - tokens of one line: words, strings with escapes, '=', raw tails, comments.
#include "lang/lexer.h"

#include <fmt/format.h>

namespace iosim::lang {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

Location at(const Location& where, size_t index) { return {where.file, where.line, static_cast<int>(index) + 1}; }

// Reads the string starting at line[start] == '"'; returns the index after the closing quote.
size_t read_string(std::string_view line, size_t start, const Location& where, Token& token)
{
    size_t i = start + 1;
    while (i < line.size()) {
        char c = line[i];
        if (c == '"') {
            token.source = std::string(line.substr(start, i + 1 - start));
            return i + 1;
        }
        if (c != '\\') {
            token.text.push_back(c);
            ++i;
            continue;
        }
        if (i + 1 >= line.size())
            break;  // a backslash just before the end: unterminated
        char e = line[i + 1];
        switch (e) {
        case 'n': token.text.push_back('\n'); break;
        case 'r': token.text.push_back('\r'); break;
        case 't': token.text.push_back('\t'); break;
        case '\\': token.text.push_back('\\'); break;
        case '"': token.text.push_back('"'); break;
        case 'x': {
            int high = i + 2 < line.size() ? hex_digit(line[i + 2]) : -1;
            int low = i + 3 < line.size() ? hex_digit(line[i + 3]) : -1;
            if (high < 0 || low < 0)
                throw ScriptError(at(where, i), "bad escape in string: \\x needs two hex digits, as in \\x0A");
            token.text.push_back(static_cast<char>(high * 16 + low));
            i += 4;
            continue;
        }
        default:
            throw ScriptError(at(where, i), fmt::format("bad escape '\\{}' in string (use \\n \\r \\t \\\\ \\\" or \\xHH)",
                                                        std::string_view(&line[i + 1], 1)));
        }
        i += 2;
    }
    throw ScriptError(at(where, start), "unterminated string: missing the closing '\"'");
}

std::string_view trim_right(std::string_view text)
{
    while (!text.empty() && is_blank(text.back()))
        text.remove_suffix(1);
    return text;
}

}  // namespace

std::vector<Token> tokenize(std::string_view line, const Location& where)
{
    std::vector<Token> tokens;
    size_t i = 0;
    while (true) {
        while (i < line.size() && is_blank(line[i]))
            ++i;
        if (i >= line.size() || line[i] == '#')
            break;
        Token token;
        token.column = static_cast<int>(i) + 1;
        bool raw_tail = (tokens.empty() && line[i] == '!') ||
                        (!tokens.empty() && tokens.front().kind == TokenKind::Word && tokens.front().text == "break" &&
                         tokens.back().kind == TokenKind::Word && tokens.back().text == "do");
        if (raw_tail) {
            token.kind = TokenKind::Raw;
            token.text = std::string(trim_right(line.substr(i)));
            token.source = token.text;
            tokens.push_back(std::move(token));
            break;
        }
        if (line[i] == '"') {
            token.kind = TokenKind::String;
            i = read_string(line, i, where, token);
        } else if (line[i] == '=') {
            token.kind = TokenKind::Equals;
            token.text = token.source = "=";
            ++i;
        } else {
            size_t start = i;
            while (i < line.size() && !is_blank(line[i]) && line[i] != '"' && line[i] != '=' && line[i] != '#')
                ++i;
            token.text = token.source = std::string(line.substr(start, i - start));
        }
        tokens.push_back(std::move(token));
    }
    return tokens;
}

std::string describe(const Token* token)
{
    if (token == nullptr)
        return "end of line";
    switch (token->kind) {
    case TokenKind::String: return "the string " + token->source;
    case TokenKind::Equals: return "'='";
    default: return "\"" + token->source + "\"";
    }
}

std::string quote(std::string_view bytes)
{
    std::string out = "\"";
    for (char c : bytes) {
        switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
                out += fmt::format("\\x{:02X}", static_cast<unsigned char>(c));
            else
                out.push_back(c);
        }
    }
    return out + "\"";
}

}  // namespace iosim::lang
