#!/usr/bin/env bash
# The node under attack (issue 13), release build, fresh node each:
# (a) a login burst: the node is restarted (nothing remembered), then COUNT
#     (default 200) concurrent correct logins on fresh connections: time to
#     the last answer, the answers, and the node's peak RSS;
# (b) an idle flood: the file limit of the node lowered to 1,024 and
#     FLOOD (default 1,100) connections opened that send nothing; whether
#     the node still answers an authenticated request while they are open,
#     and how many it still holds after its 10 s header-read timeout.
# With BASELINE_ISNODE=path/to/isnode, (a) and (b) also run on that build
# in the same run. Prints one JSON object per build.
# Usage: tests/bench/attack.sh [COUNT] [FLOOD]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
build_release
count="${1:-200}"
flood="${2:-1100}"
bench="$bin/is-bench"

measure() {
  local isnode="$1"
  bin="$(dirname "$isnode")"
  start_node
  # A restart: the burst meets a node that has verified no password yet.
  kill "$node"; wait "$node" 2>/dev/null || true
  "$isnode" --data-dir "$dir/data" --listen "127.0.0.1:$port" >>"$dir/node.log" 2>&1 &
  node=$!
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.05
  done
  burst="$("$bench" login-burst --port "$port" --password "$IS_ADMIN_PASSWORD" --pid "$node" --count "$count")"
  kill "$node"; wait "$node" 2>/dev/null || true
  # The flood against a node limited to 1,024 descriptors (prlimit), as
  # the issue measured it.
  prlimit --nofile=1024:1024 "$isnode" --data-dir "$dir/data" --listen "127.0.0.1:$port" >>"$dir/node.log" 2>&1 &
  node=$!
  for _ in $(seq 1 300); do
    curl -sf -u "isadmin:$IS_ADMIN_PASSWORD" "$url/about" >/dev/null && break
    sleep 0.1
  done
  flood_out="$(ulimit -n 4096; "$bench" idle-flood --port "$port" --password "$IS_ADMIN_PASSWORD" --count "$flood")"
  kill "$node"; wait "$node" 2>/dev/null || true
  rm -rf "$dir"
  echo "{\"isnode\": \"$isnode\", \"login_burst\": $burst, \"idle_flood\": $flood_out}"
}

release_bin="$bin"
measure "$release_bin/isnode"
if [ -n "${BASELINE_ISNODE:-}" ]; then
  bench="$release_bin/is-bench"
  measure "$BASELINE_ISNODE"
fi
