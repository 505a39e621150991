// script.h - reading a script file: its lines parsed, its includes expanded in place.
//
// A file is parsed completely before anything runs, so a typo on line 40 is reported
// before line 1 loads a driver. `include "x.iosim"` names a file relative to the including
// file; a file that includes itself, directly or through others, is an error.
#pragma once

#include <string>
#include <vector>

#include "lang/command.h"

namespace iosim::lang {

// The commands of `path` and of the files it includes, in order (blank lines and
// comments dropped, include lines replaced by the included commands). `scope` gains the
// variables defined. `stack` holds the files being read (outermost first), for cycles.
// Throws ScriptError.
std::vector<Command> load_script(const std::string& path, Scope& scope, std::vector<std::string>& stack);

// Expands one `include` command already parsed (the shell's run_line uses this).
std::vector<Command> load_include(const Command& include, Scope& scope, std::vector<std::string>& stack);

}  // namespace iosim::lang
