#!/usr/bin/env bash
# Runs every test of a build with ctest and keeps the output short: the full
# log goes to BUILD/ctest.log; printed are the summary, every test that did
# not pass or was skipped, and on failure the end of the log (the failing
# tests' own output). A run stopped by a signal says so.
#   scripts/run-tests.sh BUILD_DIR JOBS
set -uo pipefail
build=$1
jobs=${2:-2}
log="$build/ctest.log"
echo "run-tests: ctest -j $jobs in $build (full log: $log)"
(cd "$build" && exec ctest --output-on-failure -j "$jobs") >"$log" 2>&1
rc=$?
if [ "$rc" -gt 128 ]; then
  echo "run-tests: ctest was stopped by signal $((rc - 128)); the end of its log:"
  tail -n 40 "$log"
  exit "$rc"
fi
if [ "$rc" -ne 0 ]; then
  echo "run-tests: FAILED (exit $rc); the end of the log:"
  tail -c 40000 "$log"
  exit "$rc"
fi
# The summary: from the pass rate to the end (skipped tests are listed there).
sed -n '/tests passed, /,$p' "$log"
