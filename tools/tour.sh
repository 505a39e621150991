#!/usr/bin/env bash
# tour.sh - README command (a): install what is missing, build, and run the guided tour.
#
# Usage: tools/tour.sh [iosim options...]     e.g. tools/tour.sh --verbose
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev
exec build/dev/bin/iosim "$@"
