#!/usr/bin/env bash
# Scale benchmark (issue 10): how memory, disk, listings and restarts grow
# with history. Release build, fresh single node, default settings.
#   (a) RUNS (default 100,000) one-step runs from 20 clients; every
#       STEP (default 20,000): node RSS, data-directory size and
#       GET /tasks?app=...&limit=50 p50/p99; at the end the restart time.
#   (b) BIG (default 1,000) runs whose step saves 1 MB, on a fresh node:
#       peak node RSS, data-directory size, restart time.
#   (c) the engine shapes of tests/bench/run.sh on a fresh node of this
#       build and, when BASELINE_ISNODE names another build's isnode, on
#       that one too, in the same run.
# Restart time: from starting the process on the existing data directory
# to the first answered GET /about (the node was stopped with SIGTERM).
# Prints one JSON object; progress goes to stderr.
# Usage: [RUNS=N] [STEP=N] [BIG=N] [BASELINE_ISNODE=path] tests/bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-100000}"
step="${STEP:-20000}"
big="${BIG:-1000}"
. tests/bench/lib.sh
build_release
log() { printf '[scale] %s\n' "$*" >&2; }

rss_mb() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$node/status"; }
peak_mb() { awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$node/status"; }
data_mb() { du -sk "$dir/data" | awk '{printf "%.1f", $1/1024}'; }
bench() { "$bin/is-bench" "$@" --port "$port" --password "$IS_ADMIN_PASSWORD"; }

# Stops the node (SIGTERM, drained) and starts it again on the same data
# directory and port; sets restart_s to the seconds from start to the first
# answer. (Not run in $(...): the node must stay this shell's child.)
restart_node() {
  kill -TERM "$node"
  # The node is this shell's child, so wait returns once it has exited.
  wait "$node" 2>/dev/null || true
  local t0 t1
  t0=$(date +%s%N)
  env "$@" "$bin/isnode" --data-dir "$dir/data" --listen "127.0.0.1:$port" >>"$dir/node.log" 2>&1 &
  node=$!
  until curl -sf -u "isadmin:$IS_ADMIN_PASSWORD" "$url/about" >/dev/null; do
    kill -0 "$node" 2>/dev/null || { cat "$dir/node.log" >&2; return 1; }
    sleep 0.01
  done
  t1=$(date +%s%N)
  restart_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
}

# Stops the current node and removes its data (before a fresh one).
drop_node() {
  kill "$node" 2>/dev/null || true
  wait "$node" 2>/dev/null || true
  rm -rf "$dir"
}

# (a) history of small runs
start_node
bench scale-setup >/dev/null
checkpoints=""
done_runs=0
while [ "$done_runs" -lt "$runs" ]; do
  n=$(( runs - done_runs < step ? runs - done_runs : step ))
  submitted=$(bench scale-runs --app scale_one --count "$n" --clients 20)
  done_runs=$(( done_runs + n ))
  listing=$(bench list-latency --app scale_one --count 200)
  point="{\"runs\":$done_runs,\"rss_mb\":$(rss_mb),\"data_mb\":$(data_mb),\"submitted\":$submitted,\"list_tasks_app_limit50\":$listing}"
  log "$point"
  checkpoints="${checkpoints:+$checkpoints,}$point"
done
restart_node
log "restart after $runs runs: ${restart_s} s"
small="{\"checkpoints\":[$checkpoints],\"restart_s\":$restart_s,\"rss_after_restart_mb\":$(rss_mb)}"
drop_node

# (b) history of big results
start_node
bench scale-setup >/dev/null
submitted=$(bench scale-runs --app scale_big --count "$big" --clients 4)
peak=$(peak_mb); data=$(data_mb)
restart_node
big_json="{\"runs\":$big,\"submitted\":$submitted,\"peak_rss_mb\":$peak,\"data_mb\":$data,\"restart_s\":$restart_s,\"rss_after_restart_mb\":$(rss_mb)}"
log "$big_json"
drop_node

# (c) the engine shapes, this build and optionally a baseline build
start_node
engine=$(bench engine)
drop_node
engine_json="{\"this_build\":$engine"
if [ -n "${BASELINE_ISNODE:-}" ]; then
  this_bin="$bin"
  bin="$(dirname "$BASELINE_ISNODE")"
  start_node
  bin="$this_bin"
  baseline=$(bench engine)
  drop_node
  engine_json="$engine_json,\"baseline\":$baseline"
fi
engine_json="$engine_json}"

echo "{\"small_runs\":$small,\"big_results\":$big_json,\"engine\":$engine_json}"
