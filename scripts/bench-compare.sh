#!/usr/bin/env bash
# Compares duroxide-cpp with the peer engines (duroxide on SQLite through Node, DBOS Transact on
# PostgreSQL) on workloads W1-W4, and prints duroxide-cpp's advantage over each peer per metric.
#
# usage: scripts/bench-compare.sh
# environment:
#   BUILD_DIR      build directory holding test/bench/duroxide-bench (default: build; built with
#                  scripts/setup.sh -Dbuildtype=release if it is not configured yet)
#   RUNS           passes of duroxide-bench per workload, the median is reported (default 3)
#   BENCH_ARGS     extra options for duroxide-bench, e.g. "--durability=nosync --threads=2"
#   PEERS_DIR      the peer harness (default: ../shared/bench/peers)
#   PEERS_TIMEOUT  seconds the peer run may take before it counts as failed (default 900)
#   SKIP_PEERS=1   do not run the peers: compare with their recorded medians
#
# The peers are run with their own harness, PEERS_DIR/run.sh, which installs Node packages
# with npm and a PostgreSQL cluster. When that fails (on a machine without access to the npm
# registry it does), the comparison falls back to the medians recorded in PEERS_DIR/results/
# (see PEERS_DIR/RESULTS.md) and every such figure is labelled "recorded", not "measured".
#
# duroxide-cpp runs the peers' sizes: W1 with 1,000 instances (the peers' count; duroxide-bench
# defaults to 10,000), W2 1,000 activities, W3 200 steps, W4 500 timers of 100 ms. W1 runs twice:
# with one client thread (--clients=1), the peers' shape, where each start is durable before the
# next one is made, which is what the table compares; and with duroxide-bench's default of 32
# client threads, whose figures follow the table as "hello-concurrent".
#
# Output (stdout): one table row per workload, metric and peer. "advantage" is how many times
# better duroxide-cpp's figure is (peer / duroxide-cpp for times, latencies and sizes,
# duroxide-cpp / peer for throughput); below 1 means the peer is better.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
runs=${RUNS:-3}
peers_dir=${PEERS_DIR:-../shared/bench/peers}
peers_timeout=${PEERS_TIMEOUT:-900}
bench="$build/test/bench/duroxide-bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log() { echo "[bench-compare] $*" >&2; }

# ------------------------------------------------------------------------ peers ---
measured="$work/peers.txt"
: > "$measured"
if [ "${SKIP_PEERS:-0}" = 1 ]; then
  log "SKIP_PEERS=1: the peers are not run; their figures below are the recorded medians"
elif [ ! -x "$peers_dir/run.sh" ]; then
  log "no peer harness at $peers_dir/run.sh; the peer figures below are the recorded medians"
else
  log "running the peers: $peers_dir/run.sh (log: stderr of this script)"
  if timeout "$peers_timeout" "$peers_dir/run.sh" > "$measured" 2> "$work/peers.err"; then
    log "peer run finished"
  else
    rc=$?
    log "the peer run FAILED (exit $rc); last lines of its log:"
    tail -n 8 "$work/peers.err" | sed 's/^/    /' >&2
    if grep -qiE 'npm (ERR|error)|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|network' "$work/peers.err"; then
      log "npm could not install the peer packages (no access to the npm registry)"
    fi
    log "falling back to the peer medians RECORDED in $peers_dir/results/run-*.txt" \
      "($(grep -m1 '^# date' "$peers_dir/results/run-1.txt" | cut -d' ' -f3)), NOT measured now"
    : > "$measured"
  fi
fi

# ----------------------------------------------------------------- duroxide-cpp ---
if [ ! -x "$bench" ]; then
  if [ ! -f "$build/build.ninja" ]; then
    log "building $bench: scripts/setup.sh -Dbuildtype=release"
    BUILD_DIR="$build" scripts/setup.sh -Dbuildtype=release >&2
  else
    log "building $bench"
    ninja -C "$build" test/bench/duroxide-bench >&2
  fi
fi
buildtype=$(meson introspect --buildoptions "$build" 2>/dev/null |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' \
  2>/dev/null || echo unknown)
[ "$buildtype" = release ] || log "note: $build is a '$buildtype' build, not release"

ours="$work/ours.txt"
: > "$ours"
for wl in hello hello-concurrent fanout chain timers; do
  case "$wl" in
    hello) args=(--workload=hello --n=1000 --clients=1) ;;
    hello-concurrent) args=(--workload=hello --n=1000) ;;
    *) args=(--workload="$wl") ;;
  esac
  for ((i = 1; i <= runs; i++)); do
    log "duroxide-cpp $wl, pass $i/$runs: $bench ${args[*]} ${BENCH_ARGS:-}"
    # shellcheck disable=SC2086  # BENCH_ARGS is a list of options
    "$bench" "${args[@]}" ${BENCH_ARGS:-} | sed "s/^duroxide-cpp hello /duroxide-cpp $wl /" >> "$ours"
  done
done

# ------------------------------------------------------------------- comparison ---
python3 - "$ours" "$measured" "$peers_dir/results" <<'PY'
import os, re, statistics, sys

ours_file, measured_file, recorded_dir = sys.argv[1:4]
recorded_files = sorted(os.path.join(recorded_dir, f) for f in os.listdir(recorded_dir)
                        if re.fullmatch(r"run-\d+\.txt", f)) if os.path.isdir(recorded_dir) else []

def load(paths):
    values = {}
    for path in paths:
        for line in open(path):
            parts = line.split()
            if line.startswith("#") or len(parts) != 4:
                continue
            try:
                values.setdefault(tuple(parts[:3]), []).append(float(parts[3]))
            except ValueError:
                pass
    return {key: statistics.median(v) for key, v in values.items()}

ours = load([ours_file])
measured = load([measured_file])
recorded = load(recorded_files)
date = next((l.split()[2] for l in open(recorded_files[0]) if l.startswith("# date")), "?") \
    if recorded_files else "?"

def peer_value(peer, workload, metric):
    """The peer's figure for one of our metrics, in our unit, and where it comes from."""
    names = {"rss_mib": ["peak_rss_kb"],
             "store_mib": ["store_bytes_checkpointed" if peer.startswith("duroxide") else "store_bytes"]}
    scale = {"peak_rss_kb": 1 / 1024, "store_bytes_checkpointed": 1 / 2**20, "store_bytes": 1 / 2**20}
    for name in names.get(metric, [metric]):
        for source, table in (("measured", measured), (f"recorded {date}", recorded)):
            if (peer, workload, name) in table:
                return table[(peer, workload, name)] * scale.get(name, 1), source
    return None, None

metrics = [("hello", "orch_per_s"), ("hello", "wall_s"), ("hello", "p50_ms"), ("hello", "p99_ms"),
           ("hello", "rss_mib"), ("hello", "store_mib"),
           ("fanout", "wall_s"), ("fanout", "rss_mib"),
           ("chain", "wall_s"), ("chain", "per_step_ms"), ("chain", "rss_mib"),
           ("timers", "wall_s"), ("timers", "p50_ms"), ("timers", "p99_ms"), ("timers", "rss_mib")]
higher_is_better = {"orch_per_s"}

print("| workload | metric | duroxide-cpp | peer | peer figure | peer source | advantage |")
print("|---|---|---:|---|---:|---|---:|")
for workload, metric in metrics:
    mine = ours.get(("duroxide-cpp", workload, metric))
    for peer in ("duroxide", "duroxide-poll10", "dbos"):
        theirs, source = peer_value(peer, workload, metric)
        if mine is None or theirs is None:
            continue
        if metric in higher_is_better:
            advantage = mine / theirs if theirs else float("inf")
        else:
            advantage = theirs / mine if mine else float("inf")
        print(f"| {workload} | {metric} | {mine:.3f} | {peer} | {theirs:.3f} | {source} "
              f"| {advantage:.1f}x |")
print()
print("duroxide-cpp alone, W1 with 32 client threads (hello-concurrent, medians):")
for metric in ("orch_per_s", "p50_ms", "p99_ms", "rss_mib"):
    value = ours.get(("duroxide-cpp", "hello-concurrent", metric))
    if value is not None:
        print(f"    {metric} {value:.3f}")
print()
print("Notes: peer RSS is the Node process only (DBOS's PostgreSQL server is not counted);")
print("peer store sizes are duroxide's SQLite file after a WAL checkpoint and DBOS's `dbos` schema.")
meta = [l.strip() for l in open(measured_file) if l.startswith("#")]
if meta:
    print("The peers measured now (one pass of run.sh):")
    for line in meta:
        print("    " + line)
PY
