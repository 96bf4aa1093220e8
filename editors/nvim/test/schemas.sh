#!/usr/bin/env bash
# Runs editors/nvim/test/schemas.lua: headless Neovim's own LSP client against
# homelab-lsp on a small repository whose template breaks its JSON schema.
#
#   editors/nvim/test/schemas.sh NVIM HOMELAB_LSP SCHEMA_STORE
#
#   SCHEMA_STORE  a folder laid out as HOST/PATH (../shared/schemas): every
#                 https:// schema is read from it through a file:// mirror, so
#                 the test never reaches the network; the cache is a scratch one.
# Exit status: 0 all checks passed, 1 a check failed, 2 could not run.
set -euo pipefail

if [ "$#" -ne 3 ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  echo "0 passed, 1 failed"
  exit 2
fi
nvim_bin=$(command -v "$1") || { echo "ERROR: Neovim not found: $1"; echo "0 passed, 1 failed"; exit 2; }
server_bin=$(command -v "$2") || { echo "ERROR: server not found: $2"; echo "0 passed, 1 failed"; exit 2; }
store=$(cd "$3" && pwd) || { echo "ERROR: no schema store at $3"; echo "0 passed, 1 failed"; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Absolute paths: the test runs from inside the scratch repository.
nvim_bin="$(cd "$(dirname "$nvim_bin")" && pwd)/$(basename "$nvim_bin")"
server_bin="$(cd "$(dirname "$server_bin")" && pwd)/$(basename "$server_bin")"

work=$(mktemp -d "${TMPDIR:-/tmp}/homelab-lsp-nvim-schemas.XXXXXX")
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo/bootstrap/templates/kubernetes/flux"
cat >"$repo/makejinja.toml" <<'TOML'
[makejinja]
inputs = ["./bootstrap/templates"]
output = "./"
data = ["./config.yaml"]
jinja_suffix = ".j2"
force = true
undefined = "chainable"

[makejinja.delimiter]
block_start = "#%"
block_end = "%#"
comment_start = "#|"
comment_end = "#|"
variable_start = "#{"
variable_end = "}#"
TOML
echo "cluster_name: home" >"$repo/config.yaml"
cat >"$repo/bootstrap/templates/kubernetes/flux/ks.yaml.j2" <<'YAML'
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: #{ cluster_name }#
spec:
  interval: 1h
  prune: sometimes
  path: ./kubernetes
  sourceRef:
    kind: GitRepository
    name: flux-system
YAML

export HOMELAB_LSP_SCHEMA_MIRROR="https://=file://$store/"
export HOMELAB_LSP_SCHEMA_CACHE="$work/schema-cache"
export XDG_CONFIG_HOME="$work/xdg/config" XDG_DATA_HOME="$work/xdg/data" XDG_STATE_HOME="$work/xdg/state" XDG_CACHE_HOME="$work/xdg/cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"
cd "$repo"
timeout --kill-after=10 120 "$nvim_bin" --headless -u NONE -i NONE -l "$here/schemas.lua" "$repo" "$server_bin" </dev/null
