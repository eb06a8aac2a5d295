#!/usr/bin/env bash
# Content write latency: 1,000 sequential POST /configurations through Raft
# (each fsynced) against a fresh embedded-default node, release build.
# Prints one JSON object. Usage: tests/bench/content_writes.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-1000}"
cargo build --release -q -p is-node -p is-tests --bin isnode --bin is-bench
bin="${CARGO_TARGET_DIR:-target}/release"
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export IS_ADMIN_PASSWORD="bench-$$"
"$bin/isnode" --data-dir "$dir/data" --listen "127.0.0.1:$port" >"$dir/node.log" 2>&1 &
node=$!
trap 'kill $node 2>/dev/null; wait $node 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do
  curl -sf -u "isadmin:$IS_ADMIN_PASSWORD" "http://127.0.0.1:$port/api/v1/about" >/dev/null && break
  sleep 0.1
done
"$bin/is-bench" content-writes --port "$port" --password "$IS_ADMIN_PASSWORD" --count "$count"
echo "idle RSS of the node after the run: $(awk '/VmRSS/{print $2, $3}' /proc/$node/status)" >&2
