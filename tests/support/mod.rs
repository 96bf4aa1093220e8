//! Shared helpers for integration tests: locating the corpora, copying trees, writing
//! fixture repos from one string, and comparing trees.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CORPORA: [&str; 3] = ["cluster-template-bootstrap", "cluster-template-bootstrap-k3s", "cluster-template-yaml"];

/// The corpora directory: `HOMELAB_LSP_CORPORA`, else `../shared/corpora`. `None` (with a
/// notice) when neither exists.
pub fn corpora_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("HOMELAB_LSP_CORPORA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("NOTICE: corpora not found at {} (set HOMELAB_LSP_CORPORA); skipping corpus tests", dir.display());
        None
    }
}

/// The shared schema store (`HOST/PATH` files): `HOMELAB_LSP_SCHEMAS`, else `../shared/schemas`.
pub fn schemas_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("HOMELAB_LSP_SCHEMAS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas"),
    };
    dir.is_dir().then_some(dir)
}

/// Tests never reach the network, nor the user's cache: by default every `https://` schema
/// is 404 (a mirror onto a folder that does not exist), so tests of other rules see no
/// schema findings on their partial manifests.
pub fn schema_env(cmd: &mut std::process::Command) {
    cmd.env("HOMELAB_LSP_SCHEMA_MIRROR", "https://=file:///nonexistent-schema-store/")
        .env("HOMELAB_LSP_SCHEMA_CACHE", std::env::temp_dir().join("homelab-lsp-test-schemas"));
}

/// The mirror onto the shared schema store (absent there = 404 = no schema), as an
/// environment entry for tests that validate against real schemas.
pub fn store_mirror_env() -> (String, String) {
    let mirror = match schemas_dir() {
        Some(d) => format!("https://=file://{}/", d.display()),
        None => "https://=file:///nonexistent-schema-store/".to_string(),
    };
    ("HOMELAB_LSP_SCHEMA_MIRROR".to_string(), mirror)
}

/// [`run_cli`] with every `https://` schema read from the shared store.
pub fn run_cli_with_schemas(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_homelab-lsp"));
    schema_env(&mut cmd);
    let (k, v) = store_mirror_env();
    let out = cmd.env(k, v).args(args).current_dir(cwd).output().expect("run homelab-lsp");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Copies `src` into `dst` recursively (dst is created).
pub fn copy_tree(src: &Path, dst: &Path) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(src).unwrap();
        let target = dst.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            // The corpora are read-only; the copies must be writable for tests.
            let mut perm = std::fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&target, perm).unwrap();
        }
    }
}

/// A writable copy of a corpus with its reconstructed data files laid in.
pub fn corpus_copy(corpora: &Path, name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&corpora.join(name), tmp.path());
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora-data").join(name);
    copy_tree(&data, tmp.path());
    tmp
}

/// Every file under `root`, by `/`-separated relative path.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(rel, std::fs::read(entry.path()).unwrap());
        }
    }
    out
}

/// Every directory under `root` (relative), for comparing empty-directory handling.
pub fn read_dirs(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .map(|e| e.path().strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"))
        .collect()
}

fn is_bcrypt_line(line: &str) -> bool {
    line.find("$2b$").or_else(|| line.find("$2a$")).is_some_and(|i| {
        let h = &line[i..];
        h.len() >= 60 && h.as_bytes()[4..6].iter().all(u8::is_ascii_digit) && h.as_bytes()[6] == b'$'
    })
}

/// Byte equality, except lines that are bcrypt hashes on both sides (random salts).
pub fn same_modulo_bcrypt(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else {
        return false;
    };
    let (la, lb): (Vec<_>, Vec<_>) = (a.split('\n').collect(), b.split('\n').collect());
    la.len() == lb.len() && la.iter().zip(&lb).all(|(x, y)| x == y || (is_bcrypt_line(x) && is_bcrypt_line(y)))
}

/// A short unified-ish diff of the first differing lines, for failure messages.
pub fn first_difference(expected: &[u8], got: &[u8]) -> String {
    let e = String::from_utf8_lossy(expected);
    let g = String::from_utf8_lossy(got);
    for (i, (a, b)) in e.split('\n').zip(g.split('\n')).enumerate() {
        if a != b {
            return format!("line {}:\n  expected: {a:?}\n  got:      {b:?}", i + 1);
        }
    }
    format!("lengths differ: expected {} lines, got {}", e.split('\n').count(), g.split('\n').count())
}

/// Splits a fixture string into files: `//- /path` headers start each file. Returns
/// (path without the leading `/`, text) in order.
pub fn parse_fixture(fixture: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in fixture.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("//- ") {
            files.push((path.trim().trim_start_matches('/').to_string(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        }
    }
    files
}

/// Writes a fixture repo from one string: `//- /path` headers start each file.
pub fn write_fixture(root: &Path, fixture: &str) {
    for (path, text) in parse_fixture(fixture) {
        let target = root.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
}

/// Runs the real binary; returns (exit code, stdout, stderr).
pub fn run_cli(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_homelab-lsp"));
    schema_env(&mut cmd);
    let out = cmd.args(args).current_dir(cwd).output().expect("run homelab-lsp");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A Gateway (gateway.networking.k8s.io) with one HTTP listener; `metadata.name` is on
/// line 4 (1-based).
pub fn gateway_yaml(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  gatewayClassName: cilium\n  listeners:\n    - {{name: http, protocol: HTTP, port: 80}}\n"
    )
}

/// A Flux HelmRepository; `metadata.name` is on line 4 (1-based).
pub fn helm_repository_yaml(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  url: https://bjw-s-labs.github.io/helm-charts\n"
    )
}

/// One file of a fixture string: its `//- /path` header and text.
pub fn fixture_file(path: &str, text: &str) -> String {
    format!("//- {path}\n{text}")
}

/// A Flux repository without templates: `kubernetes/` beside `.sops.yaml`, a route that
/// never routes (no `parentRefs`) at `kubernetes/apps/echo/route.yaml` and a literal
/// password at `kubernetes/apps/echo/config.yaml` line 6.
pub const PLAIN_REPO: &str = "//- /.sops.yaml
creation_rules: []
//- /kubernetes/apps/echo/route.yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: echo
spec:
  hostnames: [echo.example.com]
//- /kubernetes/apps/echo/config.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: echo
data:
  password: hunter2
";

/// The Python (with makejinja) that plugin-bridge tests run against: `HOMELAB_LSP_PYTHON`
/// (scripts/python-env.sh sets it up). Without it the test is skipped with a notice, unless
/// `HOMELAB_LSP_REQUIRE_PYTHON=1` (CI), where a missing Python fails the test.
pub fn python() -> Option<PathBuf> {
    let required = std::env::var("HOMELAB_LSP_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let python = std::env::var_os("HOMELAB_LSP_PYTHON").map(PathBuf::from).filter(|p| p.is_file());
    match python {
        Some(p) => Some(p),
        None if required => {
            panic!("HOMELAB_LSP_REQUIRE_PYTHON=1 but HOMELAB_LSP_PYTHON does not name a Python (run scripts/python-env.sh)")
        }
        None => {
            eprintln!("NOTICE: HOMELAB_LSP_PYTHON not set (scripts/python-env.sh prints one); skipping a plugin-bridge test");
            None
        }
    }
}

/// Runs the real makejinja (`python -m makejinja`) in `root` into `out`; returns (exit code, stderr).
pub fn run_makejinja(python: &Path, root: &Path, out: &Path) -> (i32, String) {
    let o = std::process::Command::new(python)
        .args(["-m", "makejinja", "--quiet", "--output"])
        .arg(out)
        .current_dir(root)
        .output()
        .expect("run makejinja");
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The cluster-template delimiters (`#% %#`, `#{ }#`, `#| #|`), as a `makejinja.toml` section.
pub const HASH_DELIMS: &str = r##"[makejinja.delimiter]
block_start = "#%"
block_end = "%#"
comment_start = "#|"
comment_end = "#|"
variable_start = "#{"
variable_end = "}#"
"##;

/// A `makejinja.toml` fixture file: `./templates` into the root, `./config.yaml` as data,
/// chainable undefined and the cluster-template `#{ }#` delimiters.
pub const MAKEJINJA_TOML: &str = r##"//- /makejinja.toml
[makejinja]
inputs = ["./templates"]
output = "./"
data = ["./config.yaml"]
jinja_suffix = ".j2"
undefined = "chainable"
[makejinja.delimiter]
block_start = "#%"
block_end = "%#"
comment_start = "#|"
comment_end = "#|"
variable_start = "#{"
variable_end = "}#"
"##;

/// `check --format json` output as (path, line, severity, code) tuples.
pub fn report_tuples(stdout: &str) -> Vec<(String, usize, String, String)> {
    let reports: serde_json::Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{stdout}"));
    reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap() as usize,
                r["severity"].as_str().unwrap().to_string(),
                r["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Makes `root` a git checkout with its files committed (gitignored ones too when
/// `include_ignored`: an export holds only committed files); false when git cannot run.
pub fn git_commit_all(root: &Path, include_ignored: bool) -> bool {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(root)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let add: &[&str] = if include_ignored { &["add", "-A", "-f"] } else { &["add", "-A"] };
    git(&["init", "-q"]) && git(add) && git(&["commit", "-qm", "fixture"])
}
