#!/usr/bin/env bash
# Runs the libFuzzer target of the record decoders for DUROXIDE_FUZZ_SECONDS (default 60) in a
# clang build with AddressSanitizer and UndefinedBehaviorSanitizer (build-fuzz/). Installs
# clang and its fuzzer runtime if they are missing. Exits 0 and says so if they cannot be had.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${DUROXIDE_FUZZ_SECONDS:-60}

packages=(clang libclang-rt-dev)
. scripts/install_missing.sh
. scripts/werror.sh
install_missing "${packages[@]}" >/dev/null 2>&1 || echo "could not install ${packages[*]}"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }\n' \
  >"$probe/probe.cpp"
if ! clang++ -fsanitize=fuzzer "$probe/probe.cpp" -o "$probe/probe" >/dev/null 2>&1; then
  echo "libFuzzer is not available (clang with its fuzzer runtime): the fuzz run is skipped"
  exit 0
fi

if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++ meson setup "$build" --wrap-mode=nodownload -Dwerror=true -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
else
  werror_on "$build" || exit 1
fi
meson configure "$build" -Dfuzz_seconds="$seconds" >/dev/null || exit 1
# Only the fuzzer and its seed writer: the rest of the project is tested by the other builds.
if ! build_log=$(ninja -C "$build" test/fuzz/decode_fuzz test/fuzz/seed_corpus 2>&1); then
  echo "$build_log" | tail -n 30
  echo "the fuzz build failed"
  exit 1
fi
meson test -C "$build" --no-rebuild --print-errorlogs --suite libfuzzer || exit 1
grep -h "stat::number_of_executed_units" "$build/meson-logs/testlog.txt" | tail -1
