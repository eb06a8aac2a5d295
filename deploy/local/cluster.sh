#!/usr/bin/env bash
# A cluster of local isnode processes, for development and tests. All state
# (data directories, logs, pids, the cluster secret) lives under DIR.
#
#   cluster.sh DIR up N BASE_PORT   start N nodes; node i serves 127.0.0.1:BASE_PORT+i;
#                                   returns once all N vote and each is ready (GET /ready);
#                                   prints one URL per node
#   cluster.sh DIR kill I           SIGKILL node I
#   cluster.sh DIR stop I           SIGTERM node I and wait for it to exit
#   cluster.sh DIR start I          start node I again on its data (it rejoins)
#   cluster.sh DIR leader           print the index of the current leader
#   cluster.sh DIR down             stop every node (SIGTERM, then SIGKILL)
#
# Every node gets the administrator password $IS_ADMIN_PASSWORD (required).
# With CLUSTER_TLS=1 at `up`, the cluster serves TLS (clients and between
# nodes): node 1 generates a self-signed certificate, copied to
# DIR/tls-cert.pem and DIR/tls-key.pem, which every node then serves (and
# verifies its peers with); URLs are https; trust DIR/tls-cert.pem
# (iscli --ca DIR/tls-cert.pem, curl --cacert DIR/tls-cert.pem).
# The isnode binary is $ISNODE, else target/release/isnode or
# target/debug/isnode of this repository, else isnode on the PATH.
set -euo pipefail

usage() {
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 2 ] || usage
dir=$1
cmd=$2
shift 2

repo="$(cd "$(dirname "$0")/../.." && pwd)"
isnode() {
  if [ -n "${ISNODE:-}" ]; then echo "$ISNODE"
  elif [ -x "$repo/target/release/isnode" ]; then echo "$repo/target/release/isnode"
  elif [ -x "$repo/target/debug/isnode" ]; then echo "$repo/target/debug/isnode"
  elif command -v isnode >/dev/null; then command -v isnode
  else echo "cluster.sh: no isnode binary (build it, or set ISNODE)" >&2; exit 1
  fi
}

need_password() {
  if [ -z "${IS_ADMIN_PASSWORD:-}" ]; then
    echo "cluster.sh: set IS_ADMIN_PASSWORD (the administrator password of every node)" >&2
    exit 2
  fi
}

load() {
  if [ ! -f "$dir/cluster.env" ]; then
    echo "cluster.sh: $dir holds no cluster (run: cluster.sh $dir up N BASE_PORT)" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  . "$dir/cluster.env"
}

check_index() {
  case "$1" in
    ''|*[!0-9]*) echo "cluster.sh: node index must be a number, got '$1'" >&2; exit 2 ;;
  esac
  if [ "$1" -lt 1 ] || [ "$1" -gt "$N" ]; then
    echo "cluster.sh: node index must be 1..$N, got $1" >&2
    exit 2
  fi
}

addr() { echo "127.0.0.1:$((BASE_PORT + $1))"; }

scheme() { if [ "${TLS:-0}" = 1 ]; then echo https; else echo http; fi; }

# The TLS settings of a node (into the array tls_env): the shared
# certificate once node 1 made it.
set_tls_env() {
  tls_env=()
  [ "${TLS:-0}" = 1 ] || return 0
  if [ -f "$dir/tls-cert.pem" ]; then
    tls_env=("IS_TLS_CERT_FILE=$dir/tls-cert.pem" "IS_TLS_KEY_FILE=$dir/tls-key.pem")
  else
    tls_env=(IS_TLS=self-signed)
  fi
}

# Whether PID runs: a killed node whose parent is gone stays a zombie until
# init reaps it, and a zombie is not running.
alive() {
  [ -r "/proc/$1/stat" ] || return 1
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

pid_of() {
  local f="$dir/node$1.pid"
  [ -f "$f" ] && alive "$(cat "$f")" && cat "$f"
}

# Starts node I; JOIN lists the members it asks to join when its data
# directory is new (empty for the node that founds the cluster).
launch() {
  local i=$1 join=$2
  if pid_of "$i" >/dev/null; then
    echo "cluster.sh: node $i is already running (pid $(pid_of "$i"))" >&2
    return 1
  fi
  # Every node gets the same key-encryption key (it seals the cluster key).
  set_tls_env
  env ${tls_env[@]+"${tls_env[@]}"} IS_NODE_ID="$i" IS_CLUSTER_SECRET="$SECRET" IS_KEY_FILE="$dir/cluster.kek" IS_JOIN="$join" \
    IS_WORKERS="${IS_WORKERS:-2}" setsid "$(isnode)" --data-dir "$dir/node$i" --listen "$(addr "$i")" \
    >>"$dir/node$i.log" 2>&1 </dev/null &
  echo $! >"$dir/node$i.pid"
}

others() {
  local i=$1 j list=""
  for j in $(seq 1 "$N"); do
    [ "$j" = "$i" ] || list="$list${list:+,}$(addr "$j")"
  done
  echo "$list"
}

cluster_json() {
  local tls=()
  [ "${TLS:-0}" = 1 ] && tls=(--cacert "$dir/tls-cert.pem")
  curl -sf -m 2 ${tls[@]+"${tls[@]}"} -u "isadmin:$IS_ADMIN_PASSWORD" "$(scheme)://$(addr "$1")/api/v1/cluster" 2>/dev/null
}

# The leader's index as node I sees it, if I knows one and it is a member.
leader_seen_by() {
  cluster_json "$1" | python3 -c '
import json, sys
c = json.load(sys.stdin)
if c.get("leader") is not None:
    print(c["leader"])
' 2>/dev/null
}

# Whether node I answers GET /ready with 200: bootstrapped, a member
# knowing a leader, its workers running (no credentials needed).
ready() {
  local tls=()
  [ "${TLS:-0}" = 1 ] && tls=(--cacert "$dir/tls-cert.pem")
  curl -sf -m 2 -o /dev/null ${tls[@]+"${tls[@]}"} "$(scheme)://$(addr "$1")/ready" 2>/dev/null
}

wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "cluster.sh: timed out after ${seconds}s waiting for $what; logs are in $dir/node*.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

all_voters() {
  local l
  l=$(leader_seen_by 1) || return 1
  [ -n "$l" ] || return 1
  cluster_json "$l" | python3 -c '
import json, sys
c = json.load(sys.stdin)
voters = [m for m in c["members"] if m["voter"]]
sys.exit(0 if len(voters) == int(sys.argv[1]) and c.get("leader") is not None else 1)
' "$N" 2>/dev/null
}

case "$cmd" in
  up)
    [ $# -eq 2 ] || usage
    need_password
    N=$1
    BASE_PORT=$2
    mkdir -p "$dir"
    if [ -f "$dir/cluster.env" ]; then
      echo "cluster.sh: $dir already holds a cluster (use start, or down and remove it)" >&2
      exit 1
    fi
    SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    TLS=${CLUSTER_TLS:-0}
    case "$TLS" in
      0|1) ;;
      *) echo "cluster.sh: CLUSTER_TLS must be 1 (TLS) or 0 (plain), got '$TLS'" >&2; exit 2 ;;
    esac
    printf 'N=%s\nBASE_PORT=%s\nSECRET=%s\nTLS=%s\n' "$N" "$BASE_PORT" "$SECRET" "$TLS" >"$dir/cluster.env"
    chmod 600 "$dir/cluster.env"
    (umask 077; head -c 32 /dev/urandom | base64 >"$dir/cluster.kek")
    launch 1 ""
    if [ "$TLS" = 1 ]; then
      # Node 1 writes its certificate before it listens; every node shares it.
      wait_for "node 1's certificate" 60 test -f "$dir/node1/tls-cert.pem"
      (umask 077; cp "$dir/node1/tls-key.pem" "$dir/tls-key.pem")
      cp "$dir/node1/tls-cert.pem" "$dir/tls-cert.pem"
    fi
    wait_for "node 1 to be ready" 60 ready 1
    for i in $(seq 2 "$N"); do
      launch "$i" "$(addr 1)"
    done
    wait_for "all $N nodes to be voters" 120 all_voters
    for i in $(seq 2 "$N"); do
      wait_for "node $i to be ready" 60 ready "$i"
    done
    for i in $(seq 1 "$N"); do
      echo "$(scheme)://$(addr "$i")"
    done
    ;;
  kill)
    [ $# -eq 1 ] || usage
    load; check_index "$1"
    if pid=$(pid_of "$1"); then
      kill -9 "$pid"
      while alive "$pid"; do sleep 0.01; done
    fi
    ;;
  stop)
    [ $# -eq 1 ] || usage
    load; check_index "$1"
    if pid=$(pid_of "$1"); then
      kill -TERM "$pid"
      while alive "$pid"; do sleep 0.05; done
    fi
    ;;
  start)
    [ $# -eq 1 ] || usage
    need_password
    load; check_index "$1"
    launch "$1" "$(others "$1")"
    ;;
  leader)
    [ $# -eq 0 ] || usage
    need_password
    load
    for i in $(seq 1 "$N"); do
      if pid_of "$i" >/dev/null; then
        l=$(leader_seen_by "$i") || continue
        if [ -n "$l" ]; then echo "$l"; exit 0; fi
      fi
    done
    echo "cluster.sh: no running node knows a leader" >&2
    exit 1
    ;;
  down)
    [ $# -eq 0 ] || usage
    load
    for i in $(seq 1 "$N"); do
      if pid=$(pid_of "$i"); then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for i in $(seq 1 "$N"); do
      if pid=$(pid_of "$i"); then
        for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$dir/node$i.pid"
    done
    ;;
  *)
    usage
    ;;
esac
