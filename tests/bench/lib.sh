# Shared by the benchmark scripts: build the release binaries, start a fresh
# node on a free loopback port, and stop it (and remove its data) on exit.
# After `start_node [ENV=VALUE...]`: $bin, $port, $url, $node and
# IS_ADMIN_PASSWORD are set.

build_release() {
  cargo build --release -q -p is-node -p is-tests --bin isnode --bin is-bench
  bin="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)"
}

start_node() {
  dir="$(mktemp -d)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  url="http://127.0.0.1:$port/api/v1"
  export IS_ADMIN_PASSWORD="bench-$$"
  env "$@" "$bin/isnode" --data-dir "$dir/data" --listen "127.0.0.1:$port" >"$dir/node.log" 2>&1 &
  node=$!
  trap 'kill $node 2>/dev/null; wait $node 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 1 300); do
    curl -sf -u "isadmin:$IS_ADMIN_PASSWORD" "$url/about" >/dev/null && return 0
    sleep 0.1
  done
  echo "the node did not start; its log:" >&2
  cat "$dir/node.log" >&2
  return 1
}
