//! Issue 12, "structure while typing": with a syntax error elsewhere in the document (an
//! unclosed `[`, a quote, a key half-typed), hover, definition and name completion on a
//! Kubernetes reference still answer, over stdio against the real binary.

mod lsp;
mod support;

use support::{fixture_file, gateway_yaml, helm_repository_yaml};

use lsp::*;

const DATA: &str = "//- /config.yaml\ncluster_name: home\n";

const HELMRELEASE: &str = "\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  chart:
    spec:
      chart: app-template
      sourceRef:
        kind: HelmRepository
        name: bjw-s
        namespace: flux-system
  values:
    controllers:
      echo:
        containers:
          app:
            args: [--port, 8080
    route:
      app:
        parentRefs:
          - name: internal
            namespace: network
";

fn pos_of(text: &str, needle: &str, delta: usize) -> (u32, u32) {
    position(text, text.find(needle).unwrap_or_else(|| panic!("{needle}")) + delta)
}

#[test]
fn references_answer_while_the_document_has_a_syntax_error_elsewhere() {
    let f = Fixture::project(
        &[
            DATA,
            fixture_file("/kubernetes/apps/network/gateway.yaml", &gateway_yaml("internal", "network")).as_str(),
            fixture_file("/kubernetes/apps/network/external.yaml", &gateway_yaml("external", "network")).as_str(),
            fixture_file("/kubernetes/flux/repositories/bjw-s.yaml", &helm_repository_yaml("bjw-s", "flux-system")).as_str(),
            fixture_file("/kubernetes/apps/echo/helmrelease.yaml", HELMRELEASE).as_str(),
        ]
        .concat(),
    );
    let p = f.path("kubernetes/apps/echo/helmrelease.yaml");
    let mut c = f.start();
    // The file really is broken (the repo index is built by then, too).
    c.wait_diagnostics(&uri(&p), |d| d.iter().any(|x| x["code"] == "invalid-yaml"));

    let at = pos_of(HELMRELEASE, "- name: internal", "- name: ".len() + 2);
    let md = c.hover_text(&p, at);
    assert_eq!(md, "Gateway `internal` in namespace `network`: defined in `kubernetes/apps/network/gateway.yaml` line 4");
    let defs = c.definition(&p, at);
    assert_eq!(defs.len(), 1, "{defs:?}");
    assert!(defs[0]["uri"].as_str().unwrap().ends_with("kubernetes/apps/network/gateway.yaml"), "{defs:?}");
    assert_eq!(defs[0]["range"]["start"]["line"], 3);
    let md = c.hover_text(&p, pos_of(HELMRELEASE, "bjw-s", 1));
    assert_eq!(md, "HelmRepository `bjw-s`: defined in `kubernetes/flux/repositories/bjw-s.yaml` line 4");

    // Typing a second parentRef under the broken line: the name completes.
    c.did_open(&p, HELMRELEASE);
    let typing = HELMRELEASE.replace("            namespace: network\n", "            namespace: network\n          - name: ");
    c.did_change_full(&p, 2, &typing);
    let items = c.completion(&p, position(&typing, typing.len()));
    assert_eq!(labels(&items), vec!["external", "internal"]);
    // …and with a quote left open on another line too.
    let quoted = typing.replace("chart: app-template", "chart: \"app-template");
    c.did_change_full(&p, 3, &quoted);
    let items = c.completion(&p, position(&quoted, quoted.len()));
    assert_eq!(labels(&items), vec!["external", "internal"]);
    let md = c.hover_text(&p, pos_of(&quoted, "- name: internal", "- name: ".len() + 2));
    assert!(md.starts_with("Gateway `internal` in namespace `network`"), "{md}");
    // Half-typed key on another line (no `:` yet).
    let half = HELMRELEASE.replace("    route:\n", "    persis\n    route:\n");
    c.did_change_full(&p, 4, &half);
    let md = c.hover_text(&p, pos_of(&half, "- name: internal", "- name: ".len() + 2));
    assert!(md.starts_with("Gateway `internal`"), "{md}");
    // A name that cannot be read exactly gets no answer rather than a wrong one.
    let open = HELMRELEASE.replace("- name: internal", "- name: \"internal");
    c.did_change_full(&p, 5, &open);
    assert_eq!(c.hover(&p, pos_of(&open, "\"internal", 2)), serde_json::Value::Null);
    assert!(c.definition(&p, pos_of(&open, "\"internal", 2)).is_empty());
}

#[test]
fn literal_references_in_a_broken_template_still_resolve() {
    let tpl = "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: #{ cluster_name }#
spec:
  hostnames: [\"echo.#{ cluster_name }#\"
  parentRefs:
    - name: internal
      namespace: network
";
    let f = Fixture::project(
        &[
            DATA,
            fixture_file("/kubernetes/apps/network/gateway.yaml", &gateway_yaml("internal", "network")).as_str(),
            fixture_file("/bootstrap/templates/kubernetes/apps/echo/route.yaml.j2", tpl).as_str(),
        ]
        .concat(),
    );
    let p = f.path("bootstrap/templates/kubernetes/apps/echo/route.yaml.j2");
    let mut c = f.start();
    // The workspace check reports the template broken; the repo index is built by then.
    c.wait_diagnostics(&uri(&p), |d| d.iter().any(|x| x["code"] == "invalid-yaml"));
    let at = pos_of(tpl, "- name: internal", "- name: ".len() + 2);
    let defs = c.definition(&p, at);
    assert_eq!(defs.len(), 1, "{defs:?}");
    assert!(defs[0]["uri"].as_str().unwrap().ends_with("kubernetes/apps/network/gateway.yaml"));
    let md = c.hover_text(&p, at);
    assert!(md.starts_with("Gateway `internal` in namespace `network`"), "{md}");
}

#[test]
fn the_outline_and_folds_of_a_broken_file_stay() {
    let f = Fixture::project(&[DATA, fixture_file("/kubernetes/apps/echo/helmrelease.yaml", HELMRELEASE).as_str()].concat());
    let p = f.path("kubernetes/apps/echo/helmrelease.yaml");
    let mut c = f.start();
    c.did_open(&p, HELMRELEASE);
    c.wait_diagnostics(&uri(&p), |d| d.iter().any(|x| x["code"] == "invalid-yaml"));
    let syms = c.ok("textDocument/documentSymbol", serde_json::json!({"textDocument": {"uri": uri(&p)}}));
    let names =
        |v: &serde_json::Value| -> Vec<String> { v.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect() };
    assert_eq!(names(&syms), vec!["apiVersion", "kind", "metadata", "spec"]);
    let spec = &syms[3];
    assert_eq!(names(&spec["children"]), vec!["chart", "values"]);
    let values = &spec["children"][1];
    assert_eq!(names(&values["children"]), vec!["controllers", "route"], "the key after the broken line is kept");
    let refs = &values["children"][1]["children"][0]["children"][0];
    assert_eq!(refs["name"], "parentRefs");
    assert_eq!(refs["children"][0]["detail"], "internal", "an item is known by its name");
    assert_eq!(refs["selectionRange"]["start"]["line"], 20);
    let folds = c.ok("textDocument/foldingRange", serde_json::json!({"textDocument": {"uri": uri(&p)}}));
    let spans: Vec<(u64, u64)> =
        folds.as_array().unwrap().iter().map(|f| (f["startLine"].as_u64().unwrap(), f["endLine"].as_u64().unwrap())).collect();
    assert!(spans.contains(&(4, 22)), "spec: {spans:?}");
    assert!(spans.contains(&(18, 22)), "route: {spans:?}");
}

#[test]
fn expand_selection_grows_through_the_yaml_structure_of_a_broken_file() {
    let f = Fixture::project(&[DATA, fixture_file("/kubernetes/apps/echo/helmrelease.yaml", HELMRELEASE).as_str()].concat());
    let p = f.path("kubernetes/apps/echo/helmrelease.yaml");
    let mut c = f.start();
    c.did_open(&p, HELMRELEASE);
    let at = pos_of(HELMRELEASE, "- name: internal", "- name: ".len() + 2);
    let r = c.ok(
        "textDocument/selectionRange",
        serde_json::json!({"textDocument": {"uri": uri(&p)}, "positions": [{"line": at.0, "character": at.1}]}),
    );
    let mut texts = Vec::new();
    let mut cur = &r[0];
    while !cur.is_null() {
        texts.push(range_text(HELMRELEASE, &cur["range"]).to_string());
        cur = &cur["parent"];
    }
    assert_eq!(texts[0], "internal");
    assert_eq!(texts[1], "name: internal");
    assert!(texts.iter().any(|t| t.starts_with("parentRefs:") && t.ends_with("namespace: network")), "{texts:#?}");
    assert_eq!(texts.last().unwrap(), HELMRELEASE.trim_end(), "the document last");
}

#[test]
fn expand_selection_in_a_template_starts_at_the_tag() {
    let tpl = "metadata:\n  name: #{ cluster_name }#\nspec:\n  hostnames: [\"#{ cluster_name }#.example.com\"\n";
    let f = Fixture::project(&[DATA, fixture_file("/bootstrap/templates/kubernetes/apps/echo/route.yaml.j2", tpl).as_str()].concat());
    let p = f.path("bootstrap/templates/kubernetes/apps/echo/route.yaml.j2");
    let mut c = f.start();
    c.did_open(&p, tpl);
    let at = pos_of(tpl, "cluster_name }#", 3);
    let r = c.ok(
        "textDocument/selectionRange",
        serde_json::json!({"textDocument": {"uri": uri(&p)}, "positions": [{"line": at.0, "character": at.1}]}),
    );
    let mut texts = Vec::new();
    let mut cur = &r[0];
    while !cur.is_null() {
        texts.push(range_text(tpl, &cur["range"]).to_string());
        cur = &cur["parent"];
    }
    assert_eq!(
        texts[..4],
        ["cluster_name", "#{ cluster_name }#", "name: #{ cluster_name }#", "metadata:\n  name: #{ cluster_name }#"],
        "{texts:#?}"
    );
}

#[test]
fn hover_in_a_data_file_answers_while_it_does_not_load() {
    let data = "cluster_name: home\nnetwork:\n  gateway: 10.0.0.1\n";
    let f = Fixture::project(
        &[
            fixture_file("/config.yaml", data).as_str(),
            fixture_file("/bootstrap/templates/kubernetes/apps/gw.yaml.j2", "gateway: #{ network.gateway }#\n").as_str(),
        ]
        .concat(),
    );
    let p = f.path("config.yaml");
    let mut c = f.start();
    // Half-typed: a new key above with an unclosed flow sequence. The lines below moved, so
    // the loaded data's positions no longer match the text.
    let broken = format!("dns: [1.1.1.1\nextra_key: 1\n{data}");
    c.did_open(&p, &broken);
    c.wait_diagnostics(&uri(&p), |d| d.iter().any(|x| x["code"] == "data-error"));
    let md = c.hover_text(&p, pos_of(&broken, "gateway", 2));
    assert!(md.starts_with("`network.gateway`"), "{md}");
    assert!(md.contains("10.0.0.1") && md.contains("Used 1 time in templates"), "{md}");
    assert!(md.contains("does not load as it is now"), "{md}");
    // Fixed again: the same hover, without the note.
    let fixed = format!("extra_key: 1\n{data}");
    c.did_change_full(&p, 2, &fixed);
    c.wait_diagnostics(&uri(&p), |d| !d.iter().any(|x| x["code"] == "data-error"));
    let md = c.hover_text(&p, pos_of(&fixed, "gateway", 2));
    assert!(md.starts_with("`network.gateway`") && !md.contains("does not load"), "{md}");
}
