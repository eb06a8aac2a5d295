#!/usr/bin/env bash
# Runs the whole test suite: the format and lint gates, then installs the
# browser tests' npm packages if needed, builds the binaries the
# multi-process tests start (isnode, iscli), runs every Rust test of the
# workspace (the browser tests among them), then the Python unit suite of
# the step API.
set -euo pipefail
cd "$(dirname "$0")/.."

# Gates: formatting, and clippy with warnings as errors (the workspace lints
# in Cargo.toml: unreachable_pub, unwrap_used outside tests).
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The browser tests of the web UI (tests/tests/web_ui.rs) run Playwright
# from tests/e2e: its packages are installed once, and again only when
# package-lock.json is newer than the last install (npm writes
# node_modules/.package-lock.json). Playwright's browser download is skipped:
# the tests drive Debian's Chromium.
if [ ! -f tests/e2e/node_modules/.package-lock.json ] \
  || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# `cargo test` does not build other packages' binaries, so build them first
# (same profile as the tests, so the build is reused).
cargo build --workspace --bins --locked
# Tests that need something of the machine (root and network namespaces,
# port 8080 free) are #[ignore] for a plain `cargo test`; here they run
# too, and fail if what they need is missing.
cargo test --workspace --locked -- --include-ignored

# The Python step API (ipaascore/ipaascommon) against a fake host module.
python3 -m pytest -q node/src/python/py_tests

# The web UI's unit tests (Vitest, pure logic without a browser: the editor's
# model, undo history and values, the graph, schedules). The cargo build above
# installed node/ui's packages (node/build.rs runs npm ci).
npm test --prefix node/ui
