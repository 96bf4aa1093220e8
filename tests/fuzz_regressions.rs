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
