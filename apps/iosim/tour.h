// tour.h - the guided tour: iosim's main job, run by `iosim` with no arguments.
#pragma once

#include "console.h"

namespace iosim::cli {

// Runs the tour; returns an exit code (exit_codes.h).
int run_tour(ConsoleOptions options);

}  // namespace iosim::cli
