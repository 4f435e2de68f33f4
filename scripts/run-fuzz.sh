#!/usr/bin/env bash
# Runs the loader fuzzer for N seconds, seeded with the shipped workflows and
# the test fixtures. Crashes are written to build-fuzz/crashes/.
set -euo pipefail
bin=$1
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(dirname "$bin")
mkdir -p "$work/corpus" "$work/crashes"
cp "$root"/workflows/*.yaml "$root"/tests/fixtures/*/*.yaml "$work/corpus/" 2>/dev/null || true
echo "fuzzing the loader for ${seconds}s"
"$bin" "$work/corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/crashes/" -print_final_stats=1 2>"$work/fuzz.log" || {
  tail -50 "$work/fuzz.log"; echo "fuzzer found a problem (see $work/crashes/)"; exit 1; }
grep -E "^stat::number_of_executed_units|Done" "$work/fuzz.log" | tail -2
