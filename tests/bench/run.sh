#!/usr/bin/env bash
# Engine benchmark (DESIGN 5): release build, fresh single node (embedded
# default, default settings), every state change durable. Prints one JSON
# object with chain100_s, fanout100_join_s, windmill40_s, runs1000_per_s,
# dispatch_p50_ms, dispatch_p99_ms.
#
# With --celery, also runs the same shapes on Celery 5 + Redis (prefork,
# concurrency = cores; installs celery and redis-server if missing) and
# prints both objects: {"integration_service": {...}, "celery": {...}}.
set -euo pipefail
cd "$(dirname "$0")/../.."
celery=false
[ "${1:-}" = "--celery" ] && celery=true

cargo build --release -q -p is-node -p is-tests --bin isnode --bin is-bench
bin="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)"
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
ours=$("$bin/is-bench" engine --port "$port" --password "$IS_ADMIN_PASSWORD")
kill $node; wait $node 2>/dev/null || true

if $celery; then
  theirs=$(tests/bench/celery/run_celery.sh)
  echo "{\"integration_service\": $ours, \"celery\": $theirs}"
else
  echo "$ours"
fi
