#!/usr/bin/env bash
# test.sh - README command (b): install what is missing, build, and run every test (ctest).
#
# Usage: tools/test.sh [--preset NAME]...     default: dev; CI runs dev and asan-ubsan
#   e.g. tools/test.sh --preset dev --preset asan-ubsan --preset clang
set -euo pipefail
cd "$(dirname "$0")/.."
presets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) presets+=("$2"); shift 2 ;;
    *) echo "usage: tools/test.sh [--preset NAME]..." >&2; exit 2 ;;
  esac
done
[ ${#presets[@]} -gt 0 ] || presets=(dev)
tools/setup.sh
jobs=$(nproc)
for preset in "${presets[@]}"; do
  echo "== iosim: building and testing preset '$preset'"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done
