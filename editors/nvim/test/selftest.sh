#!/usr/bin/env bash
# Checks the Neovim files and the client-test harness without homelab-lsp:
#   1. smoke.lua: every Lua file loads, config/filetype/syntax/commands work;
#   2. run.sh against mock_server.py (a crude stand-in that follows the server
#      contract) on each corpus: every check must pass;
#   3. run.sh against the stand-in with one feature broken: that check, and only
#      that one, must fail, with exit status 1.
# This proves the harness, not the server: run run.sh with the real binary for that.
#
#   editors/nvim/test/selftest.sh NVIM [CORPORA_DIR]
set -uo pipefail

nvim_bin=${1:?usage: selftest.sh NVIM [CORPORA_DIR]}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
corpora=${2:-$(cd "$here/../../../.." && pwd)/shared/corpora}
mock="$here/mock_server.py"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "PASS $*"; }
ko() { failed=$((failed + 1)); echo "FAIL $*"; }

state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
if XDG_STATE_HOME="$state" "$nvim_bin" --headless -u NONE -i NONE -l "$here/smoke.lua" >"$state/smoke.out" 2>&1; then
  ok "smoke.lua ($(tail -n 1 "$state/smoke.out"))"
else
  ko "smoke.lua:"; sed 's/^/    /' "$state/smoke.out"
fi

for corpus in "$corpora"/*/; do
  corpus=${corpus%/}
  case "$corpus" in *.rendered) continue ;; esac
  [ -f "$corpus/makejinja.toml" ] || continue
  name=$(basename "$corpus")
  if "$here/run.sh" "$nvim_bin" "$mock" "$corpus" >"$state/run.out" 2>&1; then
    ok "run.sh on $name with the stand-in ($(tail -n 1 "$state/run.out"))"
  else
    ko "run.sh on $name with the stand-in:"; sed 's/^/    /' "$state/run.out"
  fi
done

first=$(ls -d "$corpora"/*/ | grep -v '\.rendered/$' | head -n 1)
for feature in completion hover definition diagnostics progress preview; do
  status=0
  HOMELAB_TEST_INDEX_MS=1500 HOMELAB_TEST_DIAGNOSTIC_MS=1500 MOCK_BREAK=$feature \
    "$here/run.sh" "$nvim_bin" "$mock" "${first%/}" >"$state/run.out" 2>&1 || status=$?
  fails=$(grep -c '^FAIL ' "$state/run.out" || true)
  if [ "$status" -eq 1 ] && [ "$fails" -eq 1 ] && tail -n 1 "$state/run.out" | grep -q ' 1 failed$'; then
    ok "a broken $feature is reported: $(grep '^FAIL ' "$state/run.out" | cut -c1-110)"
  else
    ko "a broken $feature should fail exactly one check (exit $status, $fails FAIL lines):"; sed 's/^/    /' "$state/run.out"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
