// exit_codes.h - what the iosim command's exit status means (documented in docs/iosim-command.md).
#pragma once

namespace iosim::cli {

enum ExitCode : int {
    kOk = 0,              // everything ran; the app (exec) exited with 0
    kFailed = 1,          // the app exited non-zero, or a finding was reported with --strict
    kBadUsage = 2,        // bad command line (or, later, a bad script)
    kBugCheck = 3,        // the simulated machine bug-checked; the report was printed
    kInternalError = 4,   // a module could not be found or loaded, or iosim itself failed
};

}  // namespace iosim::cli
