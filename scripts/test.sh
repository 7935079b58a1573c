#!/usr/bin/env bash
# Builds if needed and runs every test suite; ends with the line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
meson test -C "$build" --print-errorlogs --num-processes 1
status=$?
python3 scripts/count_results.py "$build/meson-logs/testlog.json" || status=1
exit $status
