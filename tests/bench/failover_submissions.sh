#!/usr/bin/env bash
# What clients see while the leader dies (issue 15), release build, a local
# 3-node cluster (deploy/local/cluster.sh): CLIENTS (2) clients submit runs
# of a one-step application to one follower, one after another without
# pause; once TOTAL/4 are accepted the leader is SIGKILLed; submissions go on
# until TOTAL (200) are accepted. Counts the submissions refused (any answer
# but 200), and afterwards the runs the cluster lists: more runs than
# accepted submissions means a refused or retried submission started one.
# BIN_DIR=DIR uses the binaries in DIR instead of building them.
# Prints one JSON object.
set -euo pipefail
cd "$(dirname "$0")/../.."
total=${TOTAL:-200}
clients=${CLIENTS:-2}

. tests/bench/lib.sh
if [ -n "${BIN_DIR:-}" ]; then
  bin="$(cd "$BIN_DIR" && pwd)"
else
  build_release
fi
export ISNODE="$bin/isnode"
export IS_ADMIN_PASSWORD="bench-$$"

cdir="$(mktemp -d)"
trap 'deploy/local/cluster.sh "$cdir" down >/dev/null 2>&1 || true; rm -rf "$cdir"' EXIT
base=$(python3 -c 'import random; print(random.randrange(10000, 22000))')
deploy/local/cluster.sh "$cdir" up 3 "$base" >/dev/null
leader=$(deploy/local/cluster.sh "$cdir" leader)

python3 - "$base" "$leader" "$total" "$clients" "$cdir" <<'EOF'
import base64, json, subprocess, sys, threading, urllib.error, urllib.request

base, leader, total, clients, cdir = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
follower = leader % 3 + 1
auth = "Basic " + base64.b64encode(("isadmin:" + __import__("os").environ["IS_ADMIN_PASSWORD"]).encode()).decode()

def call(node, method, path, doc=None):
    req = urllib.request.Request(f"http://127.0.0.1:{base + node}/api/v1{path}", method=method,
                                 data=None if doc is None else json.dumps(doc).encode(),
                                 headers={"authorization": auth, "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null"), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), e.headers
    except Exception as e:
        return 0, str(e), {}

src = open("tests/fixtures/steps/bench/Noop.py").read()
assert call(leader, "POST", "/steps", {"name": "Noop", "data": src})[0] == 200
assert call(leader, "POST", "/applications", {"name": "one", "steps": [{"name": "s0", "file": "Noop"}]})[0] == 200

lock = threading.Lock()
accepted, refused, killed = [], [], threading.Event()

def client():
    while True:
        with lock:
            if len(accepted) >= total:
                return
        status, body, _ = call(follower, "POST", "/applications/run?wait=0", {"name": "one"})
        with lock:
            if status == 200:
                accepted.append(body["id"])
            else:
                refused.append(f"{status} {str(body)[:200]}")
            if len(accepted) >= total // 4 and not killed.is_set():
                killed.set()
                subprocess.run(["deploy/local/cluster.sh", cdir, "kill", str(leader)], check=True)

threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()

runs, cursor = 0, ""
while True:
    status, page, headers = call(follower, "GET", f"/tasks?limit=1000&cursor={cursor}")
    assert status == 200, page
    runs += len(page)
    cursor = headers.get("x-next-cursor")
    if not cursor:
        break
print(json.dumps({"accepted": len(accepted), "distinct_ids": len(set(accepted)), "refused": len(refused),
                  "runs_listed": runs, "duplicated_runs": runs - len(set(accepted)),
                  "first_refusals": refused[:3]}))
EOF
