// shell.h - `iosim shell`: the command language, typed line by line.
#pragma once

#include "lang/session.h"

namespace iosim::cli {

struct ShellOptions {
    lang::Session::Options session;
    std::string history_file;  // "" : ~/.iosim_history
};

// Runs the interactive shell until `quit` or end of input; returns 0, or 3 if the machine
// bug-checked (mistyped lines are reported and forgotten).
int run_shell(ShellOptions options);

}  // namespace iosim::cli
