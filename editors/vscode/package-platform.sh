#!/usr/bin/env bash
# Packages a platform-specific .vsix that bundles the server (as rust-analyzer
# does): BIN is copied to server/homelab-lsp inside the extension, and the
# extension starts it when homelabLsp.server.path is not set.
#
#   editors/vscode/package-platform.sh TARGET BIN [OUT.vsix]
#
#   TARGET  a VS Code platform: linux-x64, linux-arm64, darwin-x64, darwin-arm64, ...
#   BIN     the homelab-lsp binary built for that platform
#   OUT     default: homelab-lsp-TARGET-VERSION.vsix in editors/vscode
#
# Needs `npm ci` done (vsce and esbuild come from devDependencies).
set -euo pipefail
if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
target=$1
bin=$(realpath "$2")
[ -f "$bin" ] && [ -x "$bin" ] || { echo "not an executable: $2" >&2; exit 2; }
version=$(node -p "require('$here/package.json').version")
out=$(realpath -m "${3:-$here/homelab-lsp-$target-$version.vsix}")
exe=homelab-lsp
case "$target" in win32-*) exe=homelab-lsp.exe ;; esac

cd "$here"
rm -rf server
mkdir server
trap 'rm -rf "$here/server"' EXIT
install -m 0755 "$bin" "server/$exe"
npx vsce package --target "$target" --no-dependencies --allow-missing-repository -o "$out" </dev/null
echo "$out"
