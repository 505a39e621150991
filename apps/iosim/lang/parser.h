// parser.h - one line of text to one Command (the grammar: docs/command-language.md).
//
// The parser checks everything it can without running anything: the command word, the
// number and kind of arguments, numbers, names (STATUS_..., ERROR_..., IRP_MJ_..., bug
// check names), escapes, and that every variable used was defined before as the right
// kind (a handle after 'close', a process after 'in', a request after 'wait'). Words
// iosim reserves but cannot run yet (unsupported_table(), empty today) are rejected here,
// with the reason.
#pragma once

#include <string_view>

#include "lang/command.h"

namespace iosim::lang {

// Parses `line` (one line, without its newline) found at `where` (file and line; the
// column is ignored). `scope` gains the variables the line defines. Relative paths in
// `include` and in `file "..."` data are resolved against the folder of where.file (the
// current folder when where.file is empty); data files are read now.
// Throws ScriptError, located at the offending token.
Command parse_line(std::string_view line, const Location& where, Scope& scope);

// True if `word` can name a variable: a letter or '_', then letters, digits and '_',
// and not a command word.
bool is_variable_name(std::string_view word);

// "0x1F", "31" -> 31; nullopt if not a number or too large for 64 bits.
std::optional<uint64_t> parse_number(std::string_view text);

}  // namespace iosim::lang
