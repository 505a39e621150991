#!/usr/bin/env bash
# bench.sh - build the release preset, run the benchmarks and rewrite docs/performance.md.
#
# Usage: tools/bench.sh [--min-time SECONDS]
# Every figure in the document comes from one run of bench_io, so each ratio compares
# numbers measured side by side on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
min_time=0.5
[ "${1:-}" = "--min-time" ] && min_time="$2"
tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target bench_io
json=$(mktemp)
build/release/bin/bench_io --benchmark_min_time="$min_time" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json >"$json"
python3 tools/perf_report.py "$json" docs/performance.md
rm -f "$json"
echo "docs/performance.md updated"
