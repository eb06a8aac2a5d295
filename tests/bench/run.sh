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

. tests/bench/lib.sh
build_release
start_node
ours=$("$bin/is-bench" engine --port "$port" --password "$IS_ADMIN_PASSWORD")
kill $node; wait $node 2>/dev/null || true

if $celery; then
  theirs=$(tests/bench/celery/run_celery.sh)
  echo "{\"integration_service\": $ours, \"celery\": $theirs}"
else
  echo "$ours"
fi
