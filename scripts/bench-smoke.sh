#!/usr/bin/env bash
# CI smoke test of the benchmark: `homelab-bench --quick` against a DEBUG build, so CI needs
# no release build. It fails only on errors (a server crash or timeout, a failed render or
# check, a generated repo makejinja cannot render), never on timings. makejinja and
# yaml-language-server are compared when installed (see bench/run.sh) and skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

# --all-targets: the same feature set as `cargo test --all-targets` (dev-dependencies
# unify features of shared crates), so after the tests this builds nothing; building only
# the two bins recompiled the library and three dependencies (42 s of a cold CI run).
cargo build --locked --all-targets
out="${TMPDIR:-/tmp}/homelab-bench-smoke.$$.json"
trap 'rm -f "$out"' EXIT
bin="${CARGO_TARGET_DIR:-target}/debug"
"$bin/homelab-bench" --quick --server "$bin/homelab-lsp" --json "$out" "$@"
test -s "$out"
echo "bench smoke: OK"
