#!/usr/bin/env bash
# Celery 5 + Redis side of the benchmark (the original product's engine).
#
# Installs Celery 5 and redis-py into the python3 on PATH and redis-server
# from Debian if they are missing, starts a private redis-server on a free
# loopback port (no persistence: Redis defaults, no fsync per write) and a
# Celery prefork worker with one process per core, waits for the worker to
# answer a ping, runs driver.py and prints its ONE JSON object on stdout.
# Everything else goes to stderr. The worker, Redis and the temp dir are
# always removed on exit.
#
# Usage: tests/bench/celery/run_celery.sh
# Environment: PYTHON (default python3), CELERY_BENCH_CONCURRENCY (default
# nproc), CELERY_BENCH_DRIVER_TIMEOUT (seconds, default 240).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${PYTHON:-python3}"
concurrency="${CELERY_BENCH_CONCURRENCY:-$(nproc)}"
driver_timeout="${CELERY_BENCH_DRIVER_TIMEOUT:-240}"

log() { printf '[celery-bench] %s\n' "$*" >&2; }

# --- dependencies -----------------------------------------------------------
if ! "$py" -c 'import sys, celery, redis; sys.exit(0 if celery.VERSION[0] == 5 else 1)' 2>/dev/null; then
  log "installing celery>=5,<6 and redis-py into $("$py" -c 'import sys; print(sys.executable)')"
  if ! "$py" -m pip install --quiet "celery>=5,<6" redis >&2; then
    # Debian's own python3 refuses pip installs without this flag (PEP 668).
    "$py" -m pip install --quiet --break-system-packages "celery>=5,<6" redis >&2
  fi
fi
if ! command -v redis-server >/dev/null; then
  log "installing redis-server"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q redis-server >&2; then
    apt-get update -q >&2
    apt-get install -y -q redis-server >&2
  fi
fi

# --- cleanup ----------------------------------------------------------------
tmp="$(mktemp -d -t celery-bench.XXXXXX)"
redis_pid=""
worker_pid=""
driver_pid=""

# Sends TERM to a process group, waits up to $2 seconds, then KILLs it.
stop_group() {
  local pgid="$1" grace="$2" i
  kill -TERM -- "-$pgid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 -- "-$pgid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$driver_pid" ]]; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  if [[ -n "$worker_pid" ]]; then
    stop_group "$worker_pid" 15
    wait "$worker_pid" 2>/dev/null || true
  fi
  if [[ -n "$redis_pid" ]]; then
    stop_group "$redis_pid" 5
    wait "$redis_pid" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 ]]; then
    for f in "$tmp/worker.log" "$tmp/redis.log"; do
      [[ -s "$f" ]] && { log "last lines of $(basename "$f"):"; tail -n 30 "$f" >&2; }
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- redis ------------------------------------------------------------------
free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

redis_ping() {
  if command -v redis-cli >/dev/null; then
    [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == "PONG" ]]
  else
    "$py" -c 'import sys, redis; sys.exit(0 if redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=1).ping() else 1)' "$1" 2>/dev/null
  fi
}

# The port is free when picked but could be taken before redis binds it:
# try a few ports, each with a bounded wait.
port=""
for attempt in 1 2 3; do
  candidate="$(free_port)"
  # setsid: own process group, so cleanup can stop it by its id.
  setsid redis-server --bind 127.0.0.1 --port "$candidate" --dir "$tmp" \
    --save '' --appendonly no --protected-mode yes --daemonize no \
    --logfile "$tmp/redis.log" </dev/null >/dev/null 2>&1 &
  redis_pid=$!
  deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)) && kill -0 "$redis_pid" 2>/dev/null; do
    if redis_ping "$candidate"; then port="$candidate"; break; fi
    sleep 0.1
  done
  [[ -n "$port" ]] && break
  log "redis-server did not come up on port $candidate (attempt $attempt)"
  stop_group "$redis_pid" 2
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=""
done
[[ -n "$port" ]] || { log "could not start redis-server"; exit 1; }
log "redis $(redis-server --version | awk '{sub("v=", "", $3); print $3}') on 127.0.0.1:$port"

export BENCH_REDIS_URL="redis://127.0.0.1:$port"
export BENCH_CONCURRENCY="$concurrency"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1  # leave no __pycache__ in the source tree

# --- celery worker ----------------------------------------------------------
setsid "$py" -m celery -A tasks worker \
  --pool=prefork --concurrency="$concurrency" -O fair --prefetch-multiplier=1 \
  --hostname="bench@%h" --loglevel=WARNING --logfile="$tmp/worker.log" \
  </dev/null >>"$tmp/worker.log" 2>&1 &
worker_pid=$!

ready=""
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  kill -0 "$worker_pid" 2>/dev/null || { log "celery worker exited during start-up"; exit 1; }
  if timeout 10 "$py" "$here/driver.py" --ping 2>/dev/null; then ready=1; break; fi
  sleep 0.2
done
[[ -n "$ready" ]] || { log "celery worker did not answer a ping within 60 s"; exit 1; }
log "celery worker ready (prefork, concurrency $concurrency)"

# --- driver -----------------------------------------------------------------
# In the background so that a signal to this script is handled at once
# (bash runs traps only between foreground commands; wait is interruptible).
timeout "$driver_timeout" "$py" "$here/driver.py" >"$tmp/result.json" &
driver_pid=$!
wait "$driver_pid"
driver_pid=""
"$py" -c 'import json, sys; json.loads(open(sys.argv[1]).read())' "$tmp/result.json" \
  || { log "driver printed no valid JSON"; exit 1; }
cat "$tmp/result.json"
