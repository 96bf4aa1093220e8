#!/usr/bin/env bash
# Creates (once) the Python venv the plugin-bridge tests run against: makejinja and what the
# test fixtures' plugins import. Idempotent; prints the venv's python path on stdout.
#
# Usage: scripts/python-env.sh            # venv in .cache/python-venv
# Environment: PYTHON (interpreter that creates the venv, default python3),
#              HOMELAB_LSP_PYVENV (where the venv lives).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${HOMELAB_LSP_PYVENV:-$(pwd)/.cache/python-venv}"
PYTHON="${PYTHON:-python3}"
# pydantic: the bridge tests' fixture plugin; passlib: christfriedbalizou--homelab's plugin
# (so the fuzzer's plugin rounds run a wild repo's plugin to the end, not to an ImportError).
EXTRA=(pydantic==2.12.5 passlib==1.7.4)
REQS=(-r bench/makejinja/requirements.txt "${EXTRA[@]}")
STAMP="$VENV/.requirements"
want="$(cat bench/makejinja/requirements.txt; printf '%s\n' "${EXTRA[@]}")"
if [[ ! -x "$VENV/bin/python" ]] || [[ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
  echo "python-env: installing makejinja and plugin dependencies into $VENV" >&2
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQS[@]}" >&2
  printf '%s' "$want" >"$STAMP"
fi
"$VENV/bin/python" -c 'import makejinja, pydantic, passlib' >&2
echo "$VENV/bin/python"
