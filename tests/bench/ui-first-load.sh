#!/usr/bin/env bash
# Web UI benchmark (issue 14), release build, fresh node with default
# settings: APPS (default 500) applications, each a chain of three no-op
# steps with a friendly name and a description, and RUNS (default 100)
# finished runs of the first of them. Then tests/bench/ui-first-load.mjs,
# in Debian's Chromium through Playwright (tests/e2e's packages):
#   - LOADS (default 10) first loads of /integrations, each in a new browser
#     context (empty cache; the session token put in sessionStorage, as the
#     sign-in page leaves it): navigation start -> the first row of the
#     application table in the page, DOMContentLoaded, bytes transferred,
#     and how many applications the page fetched;
#   - CLICKS (default 5) Run clicks on the page of an application that has
#     not run yet: the click -> the first step of the flowchart showing a
#     live state (STARTED or SUCCESS).
# Prints one JSON object; progress goes to stderr.
# Usage: [APPS=N] [RUNS=N] [LOADS=N] [CLICKS=N] tests/bench/ui-first-load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
apps="${APPS:-500}"
runs="${RUNS:-100}"
loads="${LOADS:-10}"
clicks="${CLICKS:-5}"
[ -f tests/e2e/node_modules/playwright-core/package.json ] \
  || { echo "tests/e2e/node_modules is missing: cd tests/e2e && npm ci" >&2; exit 1; }
. tests/bench/lib.sh
build_release
log() { printf '[ui-first-load] %s\n' "$*" >&2; }

start_node
log "node on port $port; uploading $apps applications and $runs runs"
python3 - "$url" "isadmin:$IS_ADMIN_PASSWORD" "$apps" "$runs" <<'PY'
import base64, json, sys, urllib.request
url, auth, apps, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode(),
           "Content-Type": "application/json"}
def post(path, doc):
    req = urllib.request.Request(url + path, data=json.dumps(doc).encode(), headers=headers)
    return json.loads(urllib.request.urlopen(req).read() or b"null")
post("/steps", {"name": "Noop", "data": open("tests/fixtures/steps/bench/Noop.py").read()})
for i in range(apps):
    post("/applications", {
        "name": f"bench_app_{i:03d}",
        "friendly_name": f"Bench application {i}",
        "description": f"Three no-op steps in a chain (application {i} of {apps})",
        "steps": [{"name": "fetch", "file": "Noop", "output_to": ["transform"]},
                  {"name": "transform", "file": "Noop", "output_to": ["store"]},
                  {"name": "store", "file": "Noop"}],
    })
for i in range(runs):
    status = post("/applications/run?wait=30", {"name": f"bench_app_{i % apps:03d}"})
    assert status["state"] == "SUCCESS", status
PY
# The Run clicks use the last applications, which have not run.
log "measuring in Chromium"
node tests/bench/ui-first-load.mjs "http://127.0.0.1:$port" "$IS_ADMIN_PASSWORD" "$loads" "$clicks" "$apps"
