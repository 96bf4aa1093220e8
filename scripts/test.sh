#!/usr/bin/env bash
# Runs every test of the project: Rust unit/integration/golden tests, lint, the benchmark in
# its quick smoke mode, the VS Code extension's build and unit tests, the Helix config check
# and the headless Neovim client test. Installs what it needs (idempotent), so it works on a
# fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# Where cargo puts its builds: $CARGO_TARGET_DIR (relative to the repository, as cargo reads
# it from here) or target/.
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")

step() { printf '\n==> %s\n' "$*"; }

step "rust toolchain components"
if command -v rustup >/dev/null; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

step "python venv for the plugin bridge tests (scripts/python-env.sh)"
# Python-dependent tests fail instead of skipping when this venv is missing.
HOMELAB_LSP_PYTHON="$(scripts/python-env.sh)"
export HOMELAB_LSP_PYTHON HOMELAB_LSP_REQUIRE_PYTHON=1

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "cargo test"
# Property tests draw from a fixed seed here, so a CI run is reproducible; a plain local
# `cargo test` draws a new one each time (and PROPTEST_CASES=100000 runs them long).
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-13}"
cargo test --locked --all-targets

step "benchmark smoke (homelab-bench --quick, debug build; fails on errors, never on timings)"
scripts/bench-smoke.sh --no-compare

step "LSP edit-stream fuzzer, CI mode (homelab-fuzz --ci: fixed seed, bounded; fails on any violation)"
# Built by `cargo test --all-targets` (every bin is, for the integration tests).
"$TARGET_DIR/debug/homelab-fuzz" --ci --server "$TARGET_DIR/debug/homelab-lsp"

if [ -x editors/test.sh ]; then
  step "editor integrations"
  editors/test.sh "$TARGET_DIR/debug/homelab-lsp"
fi
