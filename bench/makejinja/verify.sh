#!/usr/bin/env bash
# Render the shared corpora with the real makejinja and compare them with the
# golden output (<corpus>.rendered/).
#
# Usage:
#   verify.sh [NAME|all]...            render + diff (default: all corpora)
#   verify.sh --render-only OUT NAME   render NAME into OUT (must not exist or be empty), no diff
#   verify.sh --prepare DIR NAME       only build the working copy in DIR (corpus + data + plugin)
#                                      and print the makejinja command; for timing makejinja alone
#   verify.sh --list                   list the corpus names
#   verify.sh --print-makejinja        create the venv if missing and print its makejinja path
#                                      (bench/run.sh uses it)
#
# Environment:
#   HOMELAB_LSP_CORPORA   corpora directory (default: <repo>/../shared/corpora)
#   HOMELAB_LSP_MJVENV    Python venv holding makejinja (created if missing;
#                         default: ${XDG_CACHE_HOME:-~/.cache}/homelab-lsp/makejinja-venv)
#   PYTHON                interpreter used to create the venv (default: python3)
#
# The working copy is: the corpus tree, overlaid with tests/corpora-data/NAME/
# (the data and key files), plus bench/makejinja/plugins/NAME/plugin.py copied
# into the first `import_paths` entry of the corpus's makejinja.toml.
# makejinja runs with that copy as working directory and `--output OUT`, so
# nothing is written into the repo or into the corpora.
#
# Differences are tolerated only inside bcrypt hashes ($2a$/$2b$/$2y$...),
# which use a random salt.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CORPORA="${HOMELAB_LSP_CORPORA:-$REPO_ROOT/../shared/corpora}"
DATA_ROOT="$REPO_ROOT/tests/corpora-data"
PLUGIN_ROOT="$SCRIPT_DIR/plugins"
VENV="${HOMELAB_LSP_MJVENV:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab-lsp/makejinja-venv}"
PYTHON="${PYTHON:-python3}"
ALL_CORPORA=(cluster-template-bootstrap cluster-template-bootstrap-k3s cluster-template-yaml)
BCRYPT_RE='\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}'

die() { echo "verify.sh: $*" >&2; exit 2; }

ensure_venv() {
  if [[ ! -x "$VENV/bin/makejinja" ]]; then
    echo "Creating makejinja venv in $VENV" >&2
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$SCRIPT_DIR/requirements.txt" >&2
  fi
}

check_corpus() {
  local name="$1"
  [[ -d "$CORPORA/$name" ]] || die "no corpus '$name' in $CORPORA"
  [[ -f "$CORPORA/$name/makejinja.toml" ]] || die "$CORPORA/$name has no makejinja.toml"
  [[ -f "$PLUGIN_ROOT/$name/plugin.py" ]] || die "no plugin at $PLUGIN_ROOT/$name/plugin.py"
  [[ -d "$DATA_ROOT/$name" ]] || die "no data at $DATA_ROOT/$name"
}

# prepare NAME DIR: build the working copy in DIR
prepare() {
  local name="$1" dir="$2" import_path
  check_corpus "$name"
  mkdir -p "$dir"
  cp -R "$CORPORA/$name/." "$dir/"
  chmod -R u+w "$dir"
  cp -R "$DATA_ROOT/$name/." "$dir/"
  import_path="$("$VENV/bin/python" -c '
import sys, tomllib
with open(sys.argv[1], "rb") as fp:
    paths = tomllib.load(fp)["makejinja"].get("import_paths", ["."])
print(paths[0])
' "$dir/makejinja.toml")"
  mkdir -p "$dir/$import_path"
  cp "$PLUGIN_ROOT/$name/plugin.py" "$dir/$import_path/plugin.py"
}

# render WORKDIR OUT: run makejinja from WORKDIR into OUT
render() {
  local dir="$1" out="$2"
  (cd "$dir" && "$VENV/bin/makejinja" --quiet --output "$out")
}

abspath() { mkdir -p "$1" && (cd "$1" && pwd); }

normalize() { sed -E "s|$BCRYPT_RE|<bcrypt>|g" "$1"; }

# compare GOLDEN OUT: prints differences; fails when there is any
compare() {
  local golden="$1" out="$2" rel bad=0 tmp
  tmp="$(mktemp)"
  (cd "$golden" && find . -mindepth 1 | LC_ALL=C sort) >"$tmp.g"
  (cd "$out" && find . -mindepth 1 | LC_ALL=C sort) >"$tmp.o"
  while IFS= read -r rel; do
    echo "  missing (in golden, not rendered): ${rel#./}"
    bad=$((bad + 1))
  done < <(LC_ALL=C comm -23 "$tmp.g" "$tmp.o")
  while IFS= read -r rel; do
    echo "  extra (rendered, not in golden): ${rel#./}"
    bad=$((bad + 1))
  done < <(LC_ALL=C comm -13 "$tmp.g" "$tmp.o")
  while IFS= read -r rel; do
    [[ -f "$golden/$rel" && -f "$out/$rel" ]] || continue
    if ! cmp -s "$golden/$rel" "$out/$rel"; then
      if cmp -s <(normalize "$golden/$rel") <(normalize "$out/$rel"); then
        continue # only bcrypt hashes differ
      fi
      echo "  differs: ${rel#./}"
      diff -u --label "golden/${rel#./}" --label "rendered/${rel#./}" \
        <(normalize "$golden/$rel") <(normalize "$out/$rel") | sed 's/^/    /' | head -n 60 || true
      bad=$((bad + 1))
    fi
  done < <(LC_ALL=C comm -12 "$tmp.g" "$tmp.o")
  rm -f "$tmp" "$tmp.g" "$tmp.o"
  [[ $bad -eq 0 ]]
}

verify_one() {
  local name="$1" work out golden nfiles rc=0
  golden="$CORPORA/$name.rendered"
  [[ -d "$golden" ]] || die "no golden output $golden"
  work="$(mktemp -d "${TMPDIR:-/tmp}/mjverify.$name.XXXXXX")"
  out="$work/out"
  prepare "$name" "$work/repo"
  if ! render "$work/repo" "$out" >"$work/makejinja.log" 2>&1; then
    echo "FAIL  $name: makejinja failed:"
    sed 's/^/    /' "$work/makejinja.log" | tail -n 30
    rm -rf "$work"
    return 1
  fi
  nfiles="$(find "$golden" -type f | wc -l)"
  if compare "$golden" "$out" >"$work/report"; then
    echo "OK    $name: $nfiles files match the golden output"
  else
    rc=1
    echo "FAIL  $name: $(grep -cE '^  (missing|extra|differs)' "$work/report") differing path(s)"
    cat "$work/report"
  fi
  rm -rf "$work"
  [[ $rc -eq 0 ]]
}

main() {
  local mode=verify out="" names=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --render-only) mode=render; out="${2:?--render-only needs OUT}"; shift 2 ;;
      --prepare) mode=prepare; out="${2:?--prepare needs DIR}"; shift 2 ;;
      --list) printf '%s\n' "${ALL_CORPORA[@]}"; exit 0 ;;
      --print-makejinja) ensure_venv; echo "$VENV/bin/makejinja"; exit 0 ;;
      -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      all) names+=("${ALL_CORPORA[@]}"); shift ;;
      -*) die "unknown option $1" ;;
      *) names+=("$1"); shift ;;
    esac
  done
  [[ ${#names[@]} -gt 0 ]] || names=("${ALL_CORPORA[@]}")
  [[ -d "$CORPORA" ]] || die "corpora directory not found: $CORPORA (set HOMELAB_LSP_CORPORA)"
  CORPORA="$(cd "$CORPORA" && pwd)"
  ensure_venv

  case "$mode" in
    render|prepare)
      [[ ${#names[@]} -eq 1 ]] || die "--render-only/--prepare take exactly one corpus name"
      if [[ -e "$out" && -n "$(ls -A "$out" 2>/dev/null)" ]]; then
        die "$out exists and is not empty"
      fi
      out="$(abspath "$out")"
      if [[ $mode == prepare ]]; then
        prepare "${names[0]}" "$out"
        echo "cd '$out' && '$VENV/bin/makejinja' --quiet --output OUTPUT_DIR"
      else
        local work
        work="$(mktemp -d "${TMPDIR:-/tmp}/mjrender.${names[0]}.XXXXXX")"
        prepare "${names[0]}" "$work"
        render "$work" "$out"
        rm -rf "$work"
      fi
      ;;
    verify)
      local failed=0 name
      for name in "${names[@]}"; do
        verify_one "$name" || failed=$((failed + 1))
      done
      echo "---"
      if [[ $failed -eq 0 ]]; then
        echo "All ${#names[@]} corpora match the golden output."
      else
        echo "$failed of ${#names[@]} corpora differ from the golden output."
        exit 1
      fi
      ;;
  esac
}

main "$@"
