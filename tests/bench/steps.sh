#!/usr/bin/env bash
# Step runtime benchmark (release build, fresh node with 2 workers):
# runner cold start, per-step overhead of a no-op step through
# POST /steps/run (p50/p99 over COUNT sequential runs), steps/s with all
# runners busy (8 concurrent clients), and the memory of the node and its
# runners. Prints one JSON object. Usage: tests/bench/steps.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-1000}"
. tests/bench/lib.sh
build_release
auth="isadmin:bench-$$"
cold=$("$bin/is-bench" runner-start --exe "$bin/isnode" --count 20)

start_node IS_WORKERS=2
python3 - "$url" "$auth" <<'PY'
import base64, json, sys, urllib.request
url, auth = sys.argv[1], sys.argv[2]
src = open("tests/fixtures/steps/bench/Noop.py").read()
req = urllib.request.Request(url + "/steps", data=json.dumps({"name": "Noop", "data": src}).encode(),
                             headers={"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()})
urllib.request.urlopen(req).read()
PY
latency=$("$bin/is-bench" step-latency --port "$port" --password "$IS_ADMIN_PASSWORD" --count "$count")
throughput=$("$bin/is-bench" step-throughput --port "$port" --password "$IS_ADMIN_PASSWORD" --count $((count * 2)) --clients 8)

rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
node_kb=$(rss_kb "$node")
runners_kb=0; runners=0
for pid in $(pgrep -P "$node" -f "isnode runner"); do
  runners_kb=$((runners_kb + $(rss_kb "$pid"))); runners=$((runners + 1))
done
rss=$(awk -v n="$node_kb" -v r="$runners_kb" -v c="$runners" \
  'BEGIN { printf "{\"node_mb\":%.1f,\"runners\":%d,\"runners_mb\":%.1f,\"total_mb\":%.1f}", n/1024, c, r/1024, (n+r)/1024 }')
echo "{\"runner_cold_start\":$cold,\"noop_step_via_rest\":$latency,\"all_runners_busy\":$throughput,\"rss\":$rss}"
