//! Schemas in the server: a violation in a template arrives once its schema is loaded in
//! the background (published again, never waited for on a request), on the template line;
//! hover shows the schema's description; completion offers the keys the schema allows.

mod lsp;
mod support;

use lsp::*;
use serde_json::Value;

const PROJECT: &str = r##"
    //- /config.yaml
    cluster_name: home
    //- /bootstrap/templates/kubernetes/flux/ks.yaml.j2
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: #{ cluster_name }#
    spec:
      interval: 1h
      prune: sometimes
      path: ./kubernetes
      sourceRef:
        kind: GitRepository
        name: flux-system
"##;

#[test]
fn template_violation_hover_and_completion_from_the_schema() {
    if support::schemas_dir().is_none() {
        eprintln!("NOTICE: ../shared/schemas not found; skipping");
        return;
    }
    let f = Fixture::project(PROJECT);
    let p = f.path("bootstrap/templates/kubernetes/flux/ks.yaml.j2");
    let mut opts = ClientOptions::default();
    opts.env.push(support::store_mirror_env());
    let mut c = f.start_with(opts);
    let d = c.wait_diagnostics(&uri(&p), |d| d.iter().any(|x| x["code"] == "schema-violation"));
    let v: Vec<&Value> = d.iter().filter(|x| x["code"] == "schema-violation").collect();
    assert_eq!(v.len(), 1, "{d:#?}");
    assert_eq!(v[0]["range"]["start"]["line"], 7, "on the template's `prune` line: {:#?}", v[0]);
    assert_eq!(v[0]["severity"], 1);
    let msg = v[0]["message"].as_str().unwrap();
    assert!(msg.contains("\"sometimes\" is not of type \"boolean\"") && msg.contains("Prune enables garbage collection"), "{msg}");

    c.did_open(&p, f.text("bootstrap/templates/kubernetes/flux/ks.yaml.j2"));
    let hover = c.hover_text(&p, (6, 4));
    assert!(hover.contains("spec.interval") && hover.contains("The interval at which to reconcile the Kustomization"), "{hover}");
    // A new key under `spec`, typed on an empty line.
    let text = f.text("bootstrap/templates/kubernetes/flux/ks.yaml.j2").replace("  path: ./kubernetes\n", "  path: ./kubernetes\n  \n");
    c.did_change_full(&p, 2, &text);
    let items = c.completion(&p, (9, 2));
    let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"targetNamespace") && labels.contains(&"dependsOn") && !labels.contains(&"prune"), "{labels:?}");
}

#[test]
fn the_schema_modeline_links_to_its_url() {
    let f = Fixture::project(
        r##"
    //- /config.yaml
    cluster_name: home
    //- /kubernetes/apps/ks.yaml
    ---
    # yaml-language-server: $schema=https://k8s-schemas.home-operations.com/kustomize.toolkit.fluxcd.io/kustomization_v1.json
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: apps
"##,
    );
    let p = f.path("kubernetes/apps/ks.yaml");
    let mut c = f.start();
    c.did_open(&p, f.text("kubernetes/apps/ks.yaml"));
    let links = c.ok("textDocument/documentLink", serde_json::json!({"textDocument": {"uri": uri(&p)}}));
    let links = links.as_array().expect("links");
    let schema: Vec<&Value> = links.iter().filter(|l| l["target"].as_str().is_some_and(|t| t.ends_with("kustomization_v1.json"))).collect();
    assert_eq!(schema.len(), 1, "{links:#?}");
    assert_eq!(schema[0]["target"], "https://k8s-schemas.home-operations.com/kustomize.toolkit.fluxcd.io/kustomization_v1.json");
    assert_eq!(schema[0]["range"]["start"], serde_json::json!({"line": 1, "character": 32}));
    assert_eq!(schema[0]["range"]["end"]["character"], 32 + 89);
}

/// The server logs what `.homelab-lsp.toml` gets wrong (with the line of a syntax error)
/// and reads it again when it changes: on disk (watched files) and in the editor.
#[test]
fn the_repo_config_is_logged_and_reloaded() {
    if support::schemas_dir().is_none() {
        eprintln!("NOTICE: ../shared/schemas not found; skipping");
        return;
    }
    let f = Fixture::project(&format!("{PROJECT}    //- /.homelab-lsp.toml\n    [rules]\n    nope = \"error\"\n"));
    let t = f.path("bootstrap/templates/kubernetes/flux/ks.yaml.j2");
    let cfg = f.path(".homelab-lsp.toml");
    let mut opts = ClientOptions::default();
    opts.env.push(support::store_mirror_env());
    let mut c = f.start_with(opts);
    let logged = |c: &Client, needle: &str| {
        let needle = needle.to_string();
        c.wait_until(&format!("a log message with {needle}"), std::time::Duration::from_secs(20), move |notes| {
            notes
                .iter()
                .filter(|n| n["method"] == "window/logMessage")
                .filter_map(|n| n["params"]["message"].as_str())
                .find(|m| m.contains(&needle))
                .map(str::to_string)
        })
    };
    assert!(logged(&c, "[rules] nope").contains("unknown rule"));
    c.wait_diagnostics(&uri(&t), |d| d.iter().any(|x| x["code"] == "schema-violation"));

    // Turned off on disk.
    std::fs::write(&cfg, "[rules]\nschema-violation = \"off\"\n").unwrap();
    c.watched(&[(&cfg, 2)]);
    c.wait_diagnostics(&uri(&t), |d| !d.iter().any(|x| x["code"] == "schema-violation"));

    // Broken in the editor: said with its line, and the rules are the defaults again.
    c.did_open(&cfg, "[rules]\nschema-violation = \"off\"\n");
    c.did_change_full(&cfg, 2, "[rules]\nschema-violation = \"off\"\n[schema\n");
    assert!(logged(&c, ".homelab-lsp.toml:3:").contains(".homelab-lsp.toml:3:"));
    c.wait_diagnostics(&uri(&t), |d| d.iter().any(|x| x["code"] == "schema-violation"));
}
