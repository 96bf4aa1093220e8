#!/usr/bin/env bash
# Runs editors/nvim/test/run.lua: a headless Neovim drives homelab-lsp through
# its own LSP client on a scratch copy of a corpus.
#
#   editors/nvim/test/run.sh NVIM HOMELAB_LSP CORPUS_DIR [TEMPLATE]
#
#   NVIM         Neovim 0.11+ binary
#   HOMELAB_LSP  the server binary (e.g. target/debug/homelab-lsp)
#   CORPUS_DIR   a repository with makejinja.toml, e.g. ../shared/corpora/cluster-template-bootstrap
#   TEMPLATE     optional template path relative to CORPUS_DIR
#
# The scratch repository is CORPUS_DIR, then the data files of
# tests/corpora-data/NAME/ (NAME = the corpus folder's name: config.yaml,
# cluster.yaml, nodes.yaml, key files; the corpora ship without them) on top,
# then the generated output CORPUS_DIR.rendered/ on top. The corpus itself is
# never modified. Set HOMELAB_TEST_KEEP=1 to keep the scratch directory,
# HOMELAB_TEST_TOTAL_S to change the overall time limit (600 s).
# Exit status: 0 all checks passed, 1 a check failed, 2 could not run, 124 timed out.
set -euo pipefail

if [ "$#" -lt 3 ] || [ "$#" -gt 4 ]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  echo "0 passed, 1 failed"
  exit 2
fi

nvim_bin=$1
server_bin=$2
corpus=${3%/}
template=${4:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
  echo "ERROR: $*" >&2
  echo "0 passed, 1 failed"
  exit 2
}

command -v "$nvim_bin" >/dev/null 2>&1 || die "Neovim not found: $nvim_bin"
command -v "$server_bin" >/dev/null 2>&1 || die "homelab-lsp binary not found or not executable: $server_bin"
[ -f "$corpus/makejinja.toml" ] || die "not a corpus (no makejinja.toml): $corpus"

# Absolute paths: the test runs from inside the scratch repository.
abspath() {
  local p
  p=$(command -v "$1")
  echo "$(cd "$(dirname "$p")" && pwd)/$(basename "$p")"
}
nvim_bin=$(abspath "$nvim_bin")
server_bin=$(abspath "$server_bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/homelab-lsp-nvim-test.XXXXXX")
cleanup() {
  if [ "${HOMELAB_TEST_KEEP:-0}" = "1" ]; then
    echo "scratch directory kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

repo="$work/repo"
mkdir -p "$repo"
cp -R "$corpus/." "$repo/"
name=$(basename "$corpus")
data_dir="$here/../../../tests/corpora-data/$name"
if [ -d "$data_dir" ]; then
  cp -R "$data_dir/." "$repo/"
else
  echo "note: no data files for $name in tests/corpora-data/$name"
fi
if [ -d "$corpus.rendered" ]; then
  cp -R "$corpus.rendered/." "$repo/"
else
  echo "note: no generated output $corpus.rendered; the generated-file checks will fail"
fi
chmod -R u+w "$repo"

# Every data file makejinja.toml names must now exist.
data_line=$(grep -E '^[[:space:]]*data[[:space:]]*=' "$repo/makejinja.toml" || true)
for f in $(printf '%s\n' "$data_line" | grep -oE '"[^"]+"' | tr -d '"'); do
  f=${f#./}
  [ -e "$repo/$f" ] || die "data file $f (from makejinja.toml) is neither in $corpus nor in tests/corpora-data/$name"
done

# A private Neovim: no user config, fresh LSP log under the scratch directory.
export XDG_CONFIG_HOME="$work/xdg/config"
export XDG_DATA_HOME="$work/xdg/data"
export XDG_STATE_HOME="$work/xdg/state"
export XDG_CACHE_HOME="$work/xdg/cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"

args=("$repo" "$server_bin")
if [ -n "$template" ]; then
  args+=("$template")
fi

limit=${HOMELAB_TEST_TOTAL_S:-600}
status=0
cd "$repo"
if command -v timeout >/dev/null 2>&1; then
  timeout --kill-after=10 "$limit" "$nvim_bin" --headless -u NONE -i NONE -l "$here/run.lua" "${args[@]}" </dev/null || status=$?
else
  "$nvim_bin" --headless -u NONE -i NONE -l "$here/run.lua" "${args[@]}" </dev/null || status=$?
fi
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "ERROR: the Neovim client test did not finish within ${limit}s"
  echo "0 passed, 1 failed"
  exit 124
fi
exit "$status"
