#!/usr/bin/env bash
# Cluster benchmark (issue: cluster and high availability), release build,
# all nodes on this machine (loopback):
#   - the engine shapes (tests/bench/run.sh) on a fresh single node and on a
#     fresh 3-node cluster (deploy/local/cluster.sh, driven through the leader);
#   - failover time: TRIALS times, SIGKILL the leader and time until a write
#     (POST /configurations) through a surviving node succeeds; the killed
#     node is restarted and the cluster is healthy again before the next trial.
#     `refused` counts the answers other than success the writer got while
#     waiting (it sends the write again 10 ms after each).
# FAILOVER_ONLY=1 skips the engine shapes; BIN_DIR=DIR uses the isnode and
# is-bench binaries in DIR instead of building them (another build's, say).
# Prints one JSON object.
set -euo pipefail
cd "$(dirname "$0")/../.."
trials=${TRIALS:-20}

. tests/bench/lib.sh
if [ -n "${BIN_DIR:-}" ]; then
  bin="$(cd "$BIN_DIR" && pwd)"
else
  build_release
fi
export ISNODE="$bin/isnode"
export IS_ADMIN_PASSWORD="bench-$$"

single=null
if [ "${FAILOVER_ONLY:-0}" != 1 ]; then
  start_node
  single=$("$bin/is-bench" engine --port "$port" --password "$IS_ADMIN_PASSWORD")
  kill $node; wait $node 2>/dev/null || true
fi

cdir="$(mktemp -d)"
trap 'deploy/local/cluster.sh "$cdir" down >/dev/null 2>&1 || true; rm -rf "$cdir" "${dir:-}"' EXIT
base=$(python3 -c 'import random; print(random.randrange(10000, 22000))')
deploy/local/cluster.sh "$cdir" up 3 "$base" >/dev/null
leader=$(deploy/local/cluster.sh "$cdir" leader)
cluster=null
if [ "${FAILOVER_ONLY:-0}" != 1 ]; then
  cluster=$("$bin/is-bench" engine --port $((base + leader)) --password "$IS_ADMIN_PASSWORD")
fi

healthy() {
  local l
  l=$(deploy/local/cluster.sh "$cdir" leader 2>/dev/null) || return 1
  curl -sf -m 2 -u "isadmin:$IS_ADMIN_PASSWORD" "http://127.0.0.1:$((base + l))/api/v1/cluster" | python3 -c '
import json, sys
c = json.load(sys.stdin)
sys.exit(0 if all(m["voter"] and m["health"] == "up" for m in c["members"]) and len(c["members"]) == 3 else 1)'
}

times=()
refused=0
for t in $(seq 1 "$trials"); do
  until healthy; do sleep 0.1; done
  l=$(deploy/local/cluster.sh "$cdir" leader)
  s=$((l % 3 + 1))
  t0=$(date +%s.%N)
  deploy/local/cluster.sh "$cdir" kill "$l"
  # A write may now wait for the next leader (leader_wait_seconds, 10 s).
  until curl -sf -m 15 -o /dev/null -u "isadmin:$IS_ADMIN_PASSWORD" -H 'content-type: application/json' \
      -d "{\"name\": \"failover-$t\", \"configuration_data\": []}" \
      "http://127.0.0.1:$((base + s))/api/v1/configurations"; do
    refused=$((refused + 1))
    sleep 0.01
  done
  t1=$(date +%s.%N)
  times+=("$(python3 -c "print(round(($t1 - $t0) * 1000))")")
  echo "[cluster-bench] failover trial $t: ${times[-1]} ms" >&2
  deploy/local/cluster.sh "$cdir" start "$l"
done

failover=$(printf '%s\n' "${times[@]}" | python3 -c '
import json, sys
v = sorted(int(x) for x in sys.stdin.read().split())
pick = lambda p: v[min(len(v) - 1, round((len(v) - 1) * p))]
print(json.dumps({"trials": len(v), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": v[-1], "min_ms": v[0], "all_ms": v}))')
failover=$(python3 -c "import json, sys; d = json.loads(sys.argv[1]); d['refused'] = $refused; print(json.dumps(d))" "$failover")

echo "{\"single_node\": $single, \"three_nodes\": $cluster, \"failover\": $failover}"
