#!/usr/bin/env bash
# Runs the benchmark (BENCHMARKS.md): builds the release binaries, installs the comparison
# tools when missing (makejinja in a venv via bench/makejinja/verify.sh, yaml-language-server
# from npm into bench/.yls), runs homelab-bench and writes bench/results.json.
#
# Usage:
#   bench/run.sh [--quick] [homelab-bench options...]
#     --quick             the CI-sized run (500-file repo, fewer requests)
#     --json PATH         where to write the results (default: bench/results.json)
#     anything else is passed to homelab-bench (see `homelab-bench --help`)
#
# Environment: HOMELAB_LSP_CORPORA (corpora directory), HOMELAB_LSP_MJVENV (makejinja venv),
# YLS_VERSION (yaml-language-server version, default below).
#
# The machine is measured as it is: close other work first. Installing needs the package
# registries (PyPI, npm) once; without them the comparisons are skipped, not failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# 1.25.0 is the newest release that runs on Node 20 (2.x needs Node >= 22.13).
YLS_VERSION="${YLS_VERSION:-1.25.0}"
YLS_DIR="$ROOT/bench/.yls"
YLS_JS="$YLS_DIR/node_modules/yaml-language-server/bin/yaml-language-server"

json="$ROOT/bench/results.json"
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --json) json="${2:?--json needs a path}"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

echo "==> cargo build --release" >&2
cargo build --release --locked --bin homelab-lsp --bin homelab-bench

echo "==> makejinja" >&2
mj_args=()
if mj=$(bench/makejinja/verify.sh --print-makejinja 2>/dev/null) && [[ -x "$mj" ]]; then
  mj_args=(--makejinja "$mj")
  echo "    $mj" >&2
else
  echo "    could not set up the makejinja venv (python3 -m venv + pip); the makejinja comparison is skipped" >&2
fi

echo "==> yaml-language-server $YLS_VERSION" >&2
yls_args=()
have_version() {
  [[ -f "$YLS_DIR/node_modules/yaml-language-server/package.json" ]] &&
    grep -q "\"version\": \"$YLS_VERSION\"" "$YLS_DIR/node_modules/yaml-language-server/package.json"
}
if ! have_version && command -v npm >/dev/null; then
  mkdir -p "$YLS_DIR"
  npm install --prefix "$YLS_DIR" --no-audit --no-fund --silent "yaml-language-server@$YLS_VERSION" >&2 || true
fi
if have_version && command -v node >/dev/null; then
  yls_args=(--yls "$YLS_JS")
  echo "    $YLS_JS" >&2
else
  echo "    yaml-language-server $YLS_VERSION is not installed (needs node and npm); the comparison is skipped" >&2
fi

echo "==> homelab-bench ${args[*]:-}" >&2
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release"
"$bin/homelab-bench" --server "$bin/homelab-lsp" ${mj_args[@]+"${mj_args[@]}"} ${yls_args[@]+"${yls_args[@]}"} \
  --json "$json" ${args[@]+"${args[@]}"}
