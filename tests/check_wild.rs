//! `homelab-lsp check` over the six real repos in `../shared/corpora-wild` (or
//! `$HOMELAB_LSP_CORPORA_WILD`), as a new user would run it: a reviewed snapshot of what the
//! secret and reference rules report, each entry with one line saying why it is right. An
//! empty list is a reviewed result: on these repos every finding those rules used to make
//! was a false positive (see issue 9). The other rules join the snapshot as their own
//! precision work lands.

mod support;

use std::path::{Path, PathBuf};
use support::*;

/// The rules this snapshot covers.
const RULES: &[&str] = &["inline-credential", "unknown-secret-ref", "plaintext-secret", "unknown-gateway", "committed-secret"];

/// (path, line, severity, code, why it is right).
type Entry = (&'static str, usize, &'static str, &'static str, &'static str);

fn wild_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("HOMELAB_LSP_CORPORA_WILD") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora-wild"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("NOTICE: wild corpora not found at {} (set HOMELAB_LSP_CORPORA_WILD); skipping", dir.display());
        None
    }
}

/// The one place `check` is invoked for the wild repos (so its options change in one spot).
fn run_check(repo: &Path) -> (i32, String, String) {
    run_cli(&["check", "--root", repo.to_str().unwrap(), "--format", "json"], repo)
}

/// A temp copy of the export, made a git checkout with everything committed (what a user
/// who clones it has; the export itself has no `.git`). Without git the copy stays an export.
fn checkout(src: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(src, tmp.path());
    if !git_commit_all(tmp.path(), true) {
        eprintln!("NOTICE: git not available; checking {} as an export", src.display());
    }
    tmp
}

fn assert_snapshot(name: &str, expected: &[Entry]) {
    let Some(wild) = wild_dir() else { return };
    let src = wild.join(name);
    if !src.is_dir() {
        eprintln!("NOTICE: {} missing; skipping", src.display());
        return;
    }
    let repo = checkout(&src);
    let (code, stdout, stderr) = run_check(repo.path());
    // Exit 2: the repo is not recognised as a project yet (nothing is checked, so nothing
    // of these rules is reported, which the snapshot then says).
    let reports = if code == 2 { Vec::new() } else { report_tuples(&stdout) };
    assert!(code != 2 || stdout.trim().is_empty(), "{name}: {stderr}");
    let got: Vec<_> = reports.into_iter().filter(|(_, _, _, c)| RULES.contains(&c.as_str())).collect();
    let want: Vec<(String, usize, String, String)> =
        expected.iter().map(|(p, l, s, c, _)| (p.to_string(), *l, s.to_string(), c.to_string())).collect();
    assert_eq!(got, want, "{name}: the secret/reference findings changed; review each against the repo");
}

// Before (issue 9): unknown-secret-ref 170, inline-credential 17, plaintext-secret 8. The
// refs were to `sops-age` / `cluster-secrets` defined by committed `*.sops.yaml` outputs of
// templates that cannot render without the gitignored data; the credentials were
// `!env_var`, `@@VAR@@`, enums (`client_secret_post`), algorithms, key names; the plaintext
// ones `*.sops.yaml.j2` templates, whose outputs are committed encrypted.
#[test]
fn wild_christfriedbalizou_homelab() {
    assert_snapshot("christfriedbalizou--homelab", &[]);
}

// Before: unknown-gateway 7 (errors), unknown-secret-ref 1, inline-credential 1,
// plaintext-secret 1. The Gateways and the tunnel Secret are in committed output of
// templates that cannot render; the credential was a mosquitto password-hash file; the
// plaintext one a `*.sops.yaml.j2` template.
#[test]
fn wild_enicky_cluster_template2() {
    assert_snapshot("enicky--cluster-template2", &[]);
}

// Before: inline-credential 191 (LiteLLM `os.environ/…`, `*_cost_per_token` prices, Kometa
// `<<VAR>>`, key names like `secretKey: api-key`, dummy keys naming the local service),
// unknown-secret-ref 4 (CloudNativePG `<cluster>-app` Secrets of a `${APP}` Cluster).
#[test]
fn wild_joryirving_home_ops() {
    assert_snapshot("joryirving--home-ops", &[]);
}

// Before: inline-credential 3, all recyclarr `!env_var NAME`.
#[test]
fn wild_szinn_k8s_homelab() {
    assert_snapshot("szinn--k8s-homelab", &[]);
}

// Before (as a git checkout): plaintext-secret 4 errors on Secrets holding 1Password
// `op://` references, inline-credential 2 (recyclarr `!env_var`).
#[test]
fn wild_onedr0p_home_ops() {
    assert_snapshot("onedr0p--home-ops", &[]);
}

// Before (recognised as a plain repo): inline-credential 6 (key names, Authelia durations,
// a PEM header around a `{{ secret }}`), unknown-secret-ref 3 (Secrets the bootstrap task
// renders from `*.yaml.j2` outside any input).
#[test]
fn wild_kadaan_homelab() {
    assert_snapshot("kadaan--homelab", &[]);
}
