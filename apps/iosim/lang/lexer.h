// lexer.h - splitting one line of the command language into tokens.
//
//   h = open "\\.\IosimHello" access read     # a comment
//   ^ ^ ^    ^                 ^      ^
//   Word Equals Word String    Word   Word
//
// Tokens are separated by blanks. A string is in double quotes with the escapes \n \r \t
// \\ \" and \xHH; a bare word runs to the next blank, '"', '=' or '#'. '#' outside a
// string starts a comment. Two places take the rest of the line as it is written (a Raw
// token): a line whose first word starts with '!' (an inspection command), and the text
// after the word 'do' on a 'break' line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lang/diagnostic.h"

namespace iosim::lang {

enum class TokenKind { Word, String, Equals, Raw };

struct Token {
    TokenKind kind = TokenKind::Word;
    std::string text;    // a string's decoded bytes; a word or raw text as written
    std::string source;  // exactly as written, quotes and escapes included
    int column = 0;      // 1-based column of the first character
};

// Throws ScriptError for an unterminated string or a bad escape, at its column.
std::vector<Token> tokenize(std::string_view line, const Location& where);

// How an error message names a token: "\"42\"", "the string \"x\"", "end of line".
std::string describe(const Token* token);

// Escapes bytes for display inside double quotes: "a\n\x01".
std::string quote(std::string_view bytes);

}  // namespace iosim::lang
