#!/usr/bin/env bash
# Packs one release binary the way the release workflow publishes it, and the
# way `cargo binstall` and the GitHub Action (action.yml) look for it:
#
#   scripts/release-package.sh TARGET BINDIR OUTDIR
#
#   TARGET  a Rust target triple, e.g. x86_64-unknown-linux-gnu
#   BINDIR  where `cargo build --release --locked --bins --target TARGET` put
#           homelab-lsp and homelab-bench (target/TARGET/release)
#   OUTDIR  where homelab-lsp-TARGET.tar.gz and its .sha256 go
#
# The archive holds homelab-lsp-TARGET/{homelab-lsp,homelab-bench,README.md,LICENSE}
# (both binaries, as `cargo install` installs both and `cargo binstall` wants
# every bin of the crate); the asset names carry no version, so
# .../releases/latest/download/NAME works. Cargo.toml's
# [package.metadata.binstall] names the same layout.
set -euo pipefail
if [ "$#" -ne 3 ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=$1
bindir=$2
out=$(realpath -m "$3")
for b in homelab-lsp homelab-bench; do
  [ -f "$bindir/$b" ] && [ -x "$bindir/$b" ] || { echo "not an executable: $bindir/$b" >&2; exit 2; }
done
name="homelab-lsp-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$out"
install -m 0755 "$bindir/homelab-lsp" "$bindir/homelab-bench" "$stage/$name/"
cp "$root/README.md" "$stage/$name/"
cp "$root/editors/vscode/LICENSE" "$stage/$name/LICENSE"
# Reproducible: fixed order, owner and mtime (the commit's).
mtime=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "$out/$name.tar.gz"
