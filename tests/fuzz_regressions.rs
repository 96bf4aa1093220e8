//! Minimal regression tests for what the edit-stream fuzzer (`homelab-fuzz`, issue 13)
//! found. Each test names the finding it pins.

mod lsp;
mod support;

use lsp::*;
use serde_json::json;

const TOKEN: &str = "Zq81-fuzz-regression-token-Vb3";

fn data() -> String {
    format!("//- /config.yaml\ncluster_name: home\ncloudflare_token: \"{TOKEN}\"\n")
}

/// Published diagnostics carried their quick fixes' edits, and a generated-file fix holds
/// the whole fresh render, secrets included: every edit of a generated Secret pushed the
/// token to the client (and its trace log). Diagnostics now carry only a fix count; the
/// code action computes the edits when asked.
#[test]
fn published_diagnostics_never_carry_rendered_secrets() {
    let f = Fixture::project(&format!(
        "{}\n//- /bootstrap/templates/kubernetes/secret.yaml.j2\nkind: Secret\nstringData:\n  token: #{{ cloudflare_token }}#\n//- /kubernetes/secret.yaml\nkind: Secret\nstringData:\n  token: {TOKEN}\n",
        data()
    ));
    let gen = f.path("kubernetes/secret.yaml");
    let mut c = f.start();
    c.did_open(&gen, f.text("kubernetes/secret.yaml"));
    c.did_change_full(&gen, 2, "kind: Secret\nstringData:\n  token: edited\n");
    let d = c.wait_diagnostics(&uri(&gen), |d| d.iter().any(|x| x["code"] == "generated-file"));
    for n in c.notifications() {
        assert!(!n.to_string().contains(TOKEN), "a notification carries the token: {n}");
    }
    let e = d.iter().find(|x| x["code"] == "generated-file").unwrap().clone();
    let actions =
        c.ok("textDocument/codeAction", json!({"textDocument": {"uri": uri(&gen)}, "range": e["range"], "context": {"diagnostics": [e]}}));
    let restore = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["edit"]["changes"][uri(&gen)][0]["newText"].as_str().is_some_and(|t| t.contains("token:")));
    assert!(restore.is_some(), "the restore fix is still offered: {actions:#}");
}

/// `#% include cloudflare_token %#` reported "tried to include non-existing template
/// '<the token>'": render errors now mask data values.
#[test]
fn render_errors_do_not_quote_data_values() {
    let f = Fixture::project(&format!(
        "{}\n//- /bootstrap/templates/a.yaml.j2\na: 1\n#% include cloudflare_token %#\n//- /bootstrap/templates/b.yaml.j2\nb: #{{ cloudflare_token | int + 1 }}#\n",
        data()
    ));
    let (_, out, err) = support::run_cli(&["check", "--plugins", "emulate"], &f.root);
    assert!(out.contains("missing-include"), "{out}");
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN), "{out}\n{err}");
    let a = f.path("bootstrap/templates/a.yaml.j2");
    let c = f.start();
    let d = c.wait_diagnostics(&uri(&a), |d| d.iter().any(|x| x["code"] == "missing-include"));
    assert!(!format!("{d:?}").contains(TOKEN), "{d:#?}");
}

/// `check` printed the offending line under each finding, so a plaintext-secret finding
/// showed the credential itself in CI logs. The excerpt is masked.
#[test]
fn check_excerpts_mask_credentials() {
    let f = Fixture::new(&format!(
        "//- /.sops.yaml\ncreation_rules: []\n//- /kubernetes/apps/x/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  namespace: default\nstringData:\n  cloudflare_token: \"{TOKEN}\"\n"
    ));
    let (_, out, err) = support::run_cli(&["check"], &f.root);
    assert!(out.contains("plaintext-secret"), "{out}");
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN), "{out}\n{err}");
}

/// While `makejinja.toml` did not parse, a data file's syntax errors were never reported
/// (the project answering was the last good one, holding the data text it had loaded).
#[test]
fn data_syntax_errors_show_while_the_config_is_broken() {
    let f = Fixture::project(&format!("{}\n//- /bootstrap/templates/a.yaml.j2\na: #{{ cluster_name }}#\n", data()));
    let cfg = f.path("makejinja.toml");
    let data = f.path("config.yaml");
    let mut c = f.start();
    let broken = f.text("makejinja.toml").replacen("[makejinja]", "[makejinja", 1);
    c.did_open(&cfg, f.text("makejinja.toml"));
    c.did_change_full(&cfg, 2, &broken);
    c.wait_diagnostics(&uri(&cfg), |d| d.iter().any(|x| x["code"] == "config-error"));
    c.did_open(&data, f.text("config.yaml"));
    c.did_change_full(&data, 2, "cluster_name: [home\n");
    let d = c.wait_diagnostics(&uri(&data), |d| d.iter().any(|x| x["code"] == "data-error"));
    assert_eq!(d.iter().find(|x| x["code"] == "data-error").unwrap()["range"]["start"]["line"], 1, "{d:#?}");
    // Fixed again: the error goes.
    c.did_change_full(&data, 3, "cluster_name: home\n");
    c.wait_diagnostics(&uri(&data), |d| !d.iter().any(|x| x["code"] == "data-error"));
}

/// The diagnostics a fresh server publishes for `path` on the same files, with `open`
/// documents open at the given texts: what an edit stream must end at (issue 13).
fn fresh_diagnostics(f: &Fixture, open: &[(&std::path::Path, &str)], path: &std::path::Path) -> Vec<(String, serde_json::Value)> {
    let mut c = f.start();
    for (p, t) in open {
        c.did_open(p, t);
    }
    c.wait_quiet(std::time::Duration::from_millis(800));
    codes_and_ranges(&c.latest_diagnostics(&uri(path)))
}

fn codes_and_ranges(d: &[serde_json::Value]) -> Vec<(String, serde_json::Value)> {
    let mut v: Vec<(String, serde_json::Value)> = d.iter().map(|x| (x["code"].to_string(), x["range"].clone())).collect();
    v.sort_by_key(|a| format!("{a:?}"));
    v
}

/// Ordering: a template edit raced the re-check after a data edit, and the older run's
/// result (the right errors, then an empty list, or the reverse) could be published last.
/// Whatever order the runs end in, the template ends with what a fresh server publishes.
#[test]
fn a_data_edit_racing_a_template_edit_ends_at_the_fresh_servers_diagnostics() {
    let f = Fixture::project(&format!("{}\n//- /bootstrap/templates/a.yaml.j2\na: #{{ cluster_name }}#\n", data()));
    let (tpl, data_file) = (f.path("bootstrap/templates/a.yaml.j2"), f.path("config.yaml"));
    let mut c = f.start();
    c.did_open(&tpl, f.text("bootstrap/templates/a.yaml.j2"));
    c.did_open(&data_file, f.text("config.yaml"));
    let data_texts = [
        "cluster_name: home\nextra_key: 1\n".to_string(),
        "cluster_name: home\n".to_string(),
        "cluster_name: home\nextra_key: 2\nother: x\n".to_string(),
    ];
    let tpl_texts =
        ["a: #{ extra_key }#\n", "a: #{ cluster_name | nope_filter }#\n#{ undefined_thing }#\n", "a:\n  b: #{ extra_key + 1 }#\n"];
    let mut version = 1;
    // Every order of one data edit and one template edit, with and without a pause between.
    // (The data stays valid: a broken data file is read as its last valid text, which a
    // fresh server never saw.)
    for round in 0..6 {
        version += 1;
        let (d, t) = (&data_texts[round % 3], tpl_texts[(round + 1) % 3]);
        if round % 2 == 0 {
            c.did_change_full(&data_file, version, d);
            c.did_change_full(&tpl, version, t);
        } else {
            c.did_change_full(&tpl, version, t);
            std::thread::sleep(std::time::Duration::from_millis(5 * round as u64));
            c.did_change_full(&data_file, version, d);
        }
        if round % 3 == 2 {
            let (last_tpl, last_data) = (t.to_string(), d.clone());
            c.wait_quiet(std::time::Duration::from_millis(600));
            let got = codes_and_ranges(&c.latest_diagnostics(&uri(&tpl)));
            let want = fresh_diagnostics(&f, &[(&tpl, &last_tpl), (&data_file, &last_data)], &tpl);
            assert_eq!(got, want, "round {round}: template {last_tpl:?}, data {last_data:?}");
        }
    }
}

/// A template open while its project loaded was read from the editor; once closed it was
/// still checked as that editor text (diagnostics on a closed file outside the file on
/// disk, found by the long fuzz run). Closing now reloads it from disk.
#[test]
fn a_closed_template_is_checked_as_the_file_on_disk() {
    let f = Fixture::project(&format!("{}\n//- /bootstrap/templates/a.yaml.j2\na: #{{ cluster_name }}#\n", data()));
    let (tpl, data_file) = (f.path("bootstrap/templates/a.yaml.j2"), f.path("config.yaml"));
    let mut c = f.start();
    c.did_open(&tpl, f.text("bootstrap/templates/a.yaml.j2"));
    c.did_change_full(&tpl, 2, "a: #{ cluster_name }#\nb:\n  c:\n    d: #{ undefined_thing }#\n");
    c.wait_diagnostics(&uri(&tpl), |d| d.iter().any(|x| x["range"]["start"]["line"] == 3));
    // A data edit reloads the project while the template is open.
    c.did_open(&data_file, f.text("config.yaml"));
    c.did_change_full(&data_file, 2, &format!("{}extra_key: 1\n", f.text("config.yaml")));
    c.wait_quiet(std::time::Duration::from_millis(600));
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": uri(&tpl)}}));
    c.wait_quiet(std::time::Duration::from_millis(600));
    let got = c.latest_diagnostics(&uri(&tpl));
    assert!(got.iter().all(|x| x["range"]["start"]["line"] == 0), "diagnostics of the editor's text after close: {got:#?}");
    let want = fresh_diagnostics(&f, &[(&data_file, &format!("{}extra_key: 1\n", f.text("config.yaml")))], &tpl);
    assert_eq!(codes_and_ranges(&got), want);
}

/// A closed data file broken on disk is read as its last valid text, and its error (found
/// in the broken text) was placed in that valid text: past its end here (the long fuzz run's
/// out-of-range `data-error` on files not open). It is positioned in the file on disk.
#[test]
fn a_closed_broken_data_file_reports_its_error_where_it_is_on_disk() {
    let f = Fixture::project(&format!("{}\n//- /bootstrap/templates/a.yaml.j2\na: #{{ cluster_name }}#\n", data()));
    let data_file = f.path("config.yaml");
    let mut c = f.start();
    c.wait_quiet(std::time::Duration::from_millis(300));
    let broken = "cluster_name: home\nbootstrap_cloudflare:\n  domain: [unclosed\nnodes: []\n";
    std::fs::write(&data_file, broken).unwrap();
    c.watched(&[(&data_file, 2)]);
    let d = c.wait_diagnostics(&uri(&data_file), |d| d.iter().any(|x| x["code"] == "data-error"));
    let e = d.iter().find(|x| x["code"] == "data-error").unwrap();
    assert_eq!((e["range"]["start"]["line"].as_u64(), e["range"]["start"]["character"].as_u64()), (Some(3), Some(5)), "{d:#?}");
    assert!(e["message"].as_str().unwrap().ends_with("(using the last valid version of this file meanwhile)"), "{e}");
    assert_eq!(d.len(), 1, "findings of the last valid text are not placed in this one: {d:#?}");
}

/// While `makejinja.toml` does not load, the last good project answers; its templates were
/// the texts it loaded, so a template changed on disk meanwhile was checked as its old text
/// and the findings landed anywhere in the new one (the long fuzz run's out-of-range
/// `undefined-variable` on closed templates). The templates are re-read.
#[test]
fn a_template_changed_while_the_config_is_broken_is_checked_as_it_is_now() {
    let f = Fixture::project(&format!("{}\n//- /bootstrap/templates/a.yaml.j2\na: #{{ undefined_one }}#\n", data()));
    let (tpl, config) = (f.path("bootstrap/templates/a.yaml.j2"), f.path("makejinja.toml"));
    let mut c = f.start();
    c.wait_diagnostics(&uri(&tpl), |d| d.iter().any(|x| x["code"] == "undefined-variable"));
    std::fs::write(&config, "[makejinja\ninputs = [").unwrap();
    c.watched(&[(&config, 2)]);
    c.wait_diagnostics(&uri(&config), |d| !d.is_empty());
    let moved = "a: 1\nb:\n  c:\n    d: #{ undefined_one }#\n";
    std::fs::write(&tpl, moved).unwrap();
    c.watched(&[(&tpl, 2)]);
    let got = c.wait_diagnostics(&uri(&tpl), |d| d.iter().any(|x| x["range"]["start"]["line"] == 3));
    assert!(got.iter().all(|x| x["range"]["start"]["line"] == 3), "findings of the old text: {got:#?}");
}

/// Found by the long fuzz run (seed 2029): a template printed a secret into a Flux source's
/// name, and workspace symbols listed that name as rendered. Names of indexed objects are
/// masked (and the query is matched against the masked name).
#[test]
fn workspace_symbols_never_show_a_secret_printed_into_a_name() {
    let f = Fixture::project(&format!(
        "{}\n//- /bootstrap/templates/kubernetes/repo.yaml.j2\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts-#{{ cloudflare_token }}#\n  namespace: flux-system\nspec:\n  url: https://charts.example.org\n",
        data()
    ));
    let tpl = f.path("bootstrap/templates/kubernetes/repo.yaml.j2");
    let mut c = f.start();
    c.did_open(&tpl, f.text("bootstrap/templates/kubernetes/repo.yaml.j2"));
    c.wait_quiet(std::time::Duration::from_millis(800));
    let answer = c.ok("workspace/symbol", json!({"query": "charts"}));
    let text = answer.to_string();
    assert!(text.contains("HelmRepository"), "the source is listed: {text}");
    assert!(!text.contains(TOKEN), "the token is shown: {text}");
}
