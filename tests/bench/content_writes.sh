#!/usr/bin/env bash
# Content write latency: COUNT (default 1,000) sequential POST /configurations
# through Raft (each fsynced) against a fresh embedded-default node, release
# build. Prints one JSON object. Usage: tests/bench/content_writes.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh
build_release
start_node
"$bin/is-bench" content-writes --port "$port" --password "$IS_ADMIN_PASSWORD" --count "${1:-1000}"
echo "RSS of the node after the run: $(awk '/VmRSS/{print $2, $3}' /proc/$node/status)" >&2
