#!/usr/bin/env bash
# Builds if needed and runs every test suite, then the suites again under AddressSanitizer and
# UndefinedBehaviorSanitizer; ends with the line "N passed, M failed" over both runs (with
# ", K skipped" when tests were skipped). Every build warns as errors (-Dwerror=true).
# Then the storage, engine and api suites under ThreadSanitizer (scripts/tsan.sh) and the
# libFuzzer run of the record decoders (scripts/fuzz.sh).
# DUROXIDE_SANITIZE=0 skips the sanitizer run, DUROXIDE_TSAN=0 the TSan run, DUROXIDE_FUZZ=0
# the fuzz run.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/werror.sh
build=${BUILD_DIR:-build}
sanitize_build=${SANITIZE_BUILD_DIR:-build-sanitize}

if ! scripts/setup.sh; then
  echo "0 passed, 1 failed"
  exit 1
fi
status=0
meson test -C "$build" --print-errorlogs --num-processes 1 || status=1
logs=("$build/meson-logs/testlog.json")

if [ "${DUROXIDE_SANITIZE:-1}" != 0 ]; then
  if [ ! -f "$sanitize_build/build.ninja" ]; then
    meson setup "$sanitize_build" --wrap-mode=nodownload -Dwerror=true \
      -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || status=1
  else
    werror_on "$sanitize_build" || status=1
  fi
  # The install check builds a program without the sanitizer runtime: it runs once, above.
  if ninja -C "$sanitize_build" >/dev/null; then
    meson test -C "$sanitize_build" --print-errorlogs --num-processes 1 --no-suite install ||
      status=1
    logs+=("$sanitize_build/meson-logs/testlog.json")
  else
    echo "sanitizer build failed"
    status=1
  fi
fi

if [ "${DUROXIDE_TSAN:-1}" != 0 ]; then
  tsan_build=${TSAN_BUILD_DIR:-build-tsan}
  TSAN_BUILD_DIR=$tsan_build scripts/tsan.sh || status=1
  [ -f "$tsan_build/meson-logs/testlog.json" ] && logs+=("$tsan_build/meson-logs/testlog.json")
fi

if [ "${DUROXIDE_FUZZ:-1}" != 0 ]; then
  fuzz_build=${FUZZ_BUILD_DIR:-build-fuzz}
  FUZZ_BUILD_DIR=$fuzz_build scripts/fuzz.sh || status=1
  [ -f "$fuzz_build/meson-logs/testlog.json" ] && logs+=("$fuzz_build/meson-logs/testlog.json")
fi

python3 scripts/count_results.py "${logs[@]}" || status=1
[ "$status" -eq 0 ] || echo "the run failed: see the failing step above"
exit $status
