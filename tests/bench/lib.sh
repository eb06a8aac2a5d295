# Shared by the benchmark scripts: build the release binaries, start a fresh
# node on a free loopback port (it binds port 0 and writes the port it got
# to DATA_DIR/listen-address), and stop it (and remove its data) on exit.
# After `start_node [ENV=VALUE...]`: $bin, $port, $url, $node and
# IS_ADMIN_PASSWORD are set.

build_release() {
  cargo build --release -q -p is-node -p is-tests --bin isnode --bin is-bench
  bin="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)"
}

start_node() {
  dir="$(mktemp -d)"
  export IS_ADMIN_PASSWORD="bench-$$"
  env "$@" "$bin/isnode" --data-dir "$dir/data" --listen 127.0.0.1:0 >"$dir/node.log" 2>&1 &
  node=$!
  # The scripts stop the node themselves once measured; under `set -e` a
  # failing kill here would turn a finished benchmark into exit status 1.
  trap 'kill $node 2>/dev/null || true; wait $node 2>/dev/null || true; rm -rf "$dir"' EXIT
  # The file appears whole (written elsewhere, then renamed).
  for _ in $(seq 1 300); do
    [ -f "$dir/data/listen-address" ] && break
    kill -0 "$node" 2>/dev/null || break
    sleep 0.1
  done
  port="$(sed 's/.*://' "$dir/data/listen-address" 2>/dev/null)" || port=""
  if [ -z "$port" ]; then
    echo "the node wrote no listen-address; its log:" >&2
    cat "$dir/node.log" >&2
    return 1
  fi
  url="http://127.0.0.1:$port/api/v1"
  for _ in $(seq 1 300); do
    curl -sf -u "isadmin:$IS_ADMIN_PASSWORD" "$url/about" >/dev/null && return 0
    sleep 0.1
  done
  echo "the node did not start; its log:" >&2
  cat "$dir/node.log" >&2
  return 1
}
