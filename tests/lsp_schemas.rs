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
