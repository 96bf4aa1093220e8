#!/usr/bin/env bash
# What .github/workflows/release.yml publishes, for what this machine can build:
# the Linux x86_64 release archive with its checksum and the linux-x64 .vsix
# with that binary bundled. Then checks them as a user's tools would see them:
# the checksum file verifies, the archive holds the binaries where
# Cargo.toml's [package.metadata.binstall] says, the binary runs and reports
# the crate's version, and the .vsix bundles it executable.
#
#   scripts/release-dry-run.sh [OUTDIR]     (default: release-dry-run in the cargo target dir)
#
# Slow (a release build); not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
out=$(realpath -m "${1:-$target_dir/release-dry-run}")
triple=x86_64-unknown-linux-gnu
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "this dry run builds $triple: run it on Linux x86_64" >&2; exit 2; }
version=$(cargo metadata --format-version 1 --no-deps --offline | python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["version"])')
step() { printf '\n==> %s\n' "$*"; }

rm -rf "$out"
mkdir -p "$out"

step "cargo build --release --locked --bins ($triple, version $version)"
t0=$SECONDS
cargo build --release --locked --bins
echo "built in $((SECONDS - t0))s"

step "release archive"
scripts/release-package.sh "$triple" "$target_dir/release" "$out"

step "the .vsix for linux-x64 with the server bundled"
(cd editors/vscode && { [ -d node_modules ] || npm ci --no-audit --no-fund --prefer-offline; } &&
  ./package-platform.sh linux-x64 "$target_dir/release/homelab-lsp" "$out/homelab-lsp-linux-x64-$version.vsix" </dev/null) | tail -n 2
(cd "$out" && sha256sum "homelab-lsp-linux-x64-$version.vsix" >"homelab-lsp-linux-x64-$version.vsix.sha256")

step "SHA256SUMS (as the release job writes it)"
(cd "$out" && cat ./*.sha256 >SHA256SUMS && sha256sum -c SHA256SUMS)

step "checks"
python3 - "$out" "$triple" "$version" "$root/Cargo.toml" <<'PY'
import os, subprocess, sys, tarfile, tempfile, tomllib, zipfile
out, triple, version, cargo_toml = sys.argv[1:]
meta = tomllib.load(open(cargo_toml, "rb"))["package"]["metadata"]["binstall"]
vars = {"name": "homelab-lsp", "target": triple, "version": version, "archive-suffix": ".tar.gz", "binary-ext": ""}
def fill(t, **more):
    for k, v in {**vars, **more}.items():
        t = t.replace("{ %s }" % k, v)
    return t
asset = fill(meta["pkg-url"], repo="REPO").rsplit("/", 1)[1]
assert meta["pkg-fmt"] == "tgz", meta
archive = os.path.join(out, asset)
assert os.path.exists(archive), "binstall's pkg-url names %s, which the release does not have" % asset
work = tempfile.mkdtemp()
with tarfile.open(archive) as t:
    names = t.getnames()
    t.extractall(work, filter="data")
for b in ("homelab-lsp", "homelab-bench"):
    path = fill(meta["bin-dir"], bin=b)
    assert path in names, "binstall's bin-dir %s is not in %s (%s)" % (path, asset, names)
    assert os.access(os.path.join(work, path), os.X_OK), path + " is not executable"
got = subprocess.run([os.path.join(work, fill(meta["bin-dir"], bin="homelab-lsp")), "--version"], capture_output=True, text=True, check=True).stdout.strip()
assert got == "homelab-lsp " + version, got
print("binstall layout ok: %s -> %s; %s" % (asset, ", ".join(fill(meta["bin-dir"], bin=b) for b in ("homelab-lsp", "homelab-bench")), got))
vsix = os.path.join(out, "homelab-lsp-linux-x64-%s.vsix" % version)
z = zipfile.ZipFile(vsix)
info = z.getinfo("extension/server/homelab-lsp")
assert (info.external_attr >> 16) & 0o111, "not executable in the .vsix"
assert 'TargetPlatform="linux-x64"' in z.read("extension.vsixmanifest").decode()
print("vsix ok: %s bundles server/homelab-lsp (%d bytes, mode %o)" % (os.path.basename(vsix), info.file_size, info.external_attr >> 16 & 0o777))
PY

step "assets"
(cd "$out" && for f in *.tar.gz *.vsix SHA256SUMS; do printf '%-48s %10s bytes\n' "$f" "$(stat -c %s "$f")"; done && cat SHA256SUMS)
