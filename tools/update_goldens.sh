#!/usr/bin/env bash
# update_goldens.sh - rewrite the golden traces (tests/trace/golden/) from a fresh run.
#
# Usage: tools/update_goldens.sh [--preset NAME]      default: dev
# Builds test_trace and the sample modules, runs the golden-trace tests with
# IOSIM_UPDATE_GOLDENS=1 (they write the files instead of comparing), then lists what
# changed. Review the diff before committing: a golden changes only when a trace does.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
preset=dev
if [ "${1:-}" = "--preset" ]; then
  preset="${2:?--preset needs a name}"
fi

cmake --preset "$preset" >/dev/null
cmake --build "build/$preset" -j2 --target test_trace \
  hello hello_open ioctl_buffered ioctl_client kbuffer kbuffer_client pattern pattern_reader logfilter buggy buggy_client

bin="$root/build/$preset/bin"
(
  cd "$bin"
  IOSIM_UPDATE_GOLDENS=1 IOSIM_MODULE_PATH="$bin" IOSIM_SOURCE_DIR="$root" \
    ./test_trace --gtest_filter='GoldenTrace.*' --gtest_brief=1
)

echo
echo "Golden files changed:"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  changed=$(git diff --stat -- tests/trace/golden)
  added=$(git ls-files --others --exclude-standard -- tests/trace/golden)
  [ -n "$changed" ] && echo "$changed"
  [ -n "$added" ] && echo "$added" | sed 's/^/ (new) /'
  [ -z "$changed$added" ] && echo " (none)"
else
  echo " (not a git checkout: see tests/trace/golden/)"
fi
