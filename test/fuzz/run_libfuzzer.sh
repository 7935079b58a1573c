#!/usr/bin/env bash
# Runs the libFuzzer target over a fresh seed corpus for a bounded time and prints how many
# inputs it executed. Usage: run_libfuzzer.sh FUZZER SEED_CORPUS_PROGRAM SECONDS
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=$3
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
"$seeds" "$corpus"
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="${TMPDIR:-/tmp}/duroxide-fuzz-" "$corpus" 2>"$corpus.log" ||
  { tail -50 "$corpus.log"; rm -f "$corpus.log"; exit 1; }
grep -E "^stat::number_of_executed_units|^Done" "$corpus.log" || true
rm -f "$corpus.log"
