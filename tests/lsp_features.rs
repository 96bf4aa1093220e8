//! The language server's features, driven over stdio against the real binary: completion,
//! hover, definition, references and rename, symbols, tokens, links, folding, the custom
//! `homelab/*` requests, several workspace folders and file-system changes.

mod lsp;
mod support;

use support::{fixture_file, gateway_yaml, helm_repository_yaml};

use lsp::*;
use serde_json::{json, Value};

/// Data used by most tests.
const DATA: &str = r##"
    //- /config.yaml
    cluster_name: home
    bootstrap_cloudflare:
      domain: example.com
      api_token: abcdef123456
    nodes:
      - name: k8s-0
        address: 192.168.1.10
      - name: k8s-1
        address: 192.168.1.11
        mtu: 9000
    password: hunter2
"##;

fn project(templates: &str) -> Fixture {
    Fixture::project(&format!("{DATA}\n{templates}"))
}

fn detail(items: &[Value], label: &str) -> String {
    item(items, label)["detail"].as_str().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------- completion

#[test]
fn completion_offers_top_level_data_keys_with_value_and_source() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        name: #{ $0 }#
        "##,
    );
    let mut c = f.start();
    let (p, pos) = f.cursor();
    let items = c.completion(&p, pos);
    assert_eq!(detail(&items, "cluster_name"), "'home' — config.yaml:1");
    assert_eq!(detail(&items, "bootstrap_cloudflare"), "dict (2 keys) — config.yaml:2");
    assert_eq!(detail(&items, "nodes"), "list (2 items) — config.yaml:5");
    let it = item(&items, "cluster_name");
    assert_eq!(it["kind"], 6, "a variable");
    assert_eq!(range_tuple(&it["textEdit"]["range"]), (0, 9, 0, 9));
    assert_eq!(it["textEdit"]["newText"], "cluster_name");
    // A partial name narrows the list and is replaced by the edit.
    c.did_open(&p, "name: #{ clu }#\n");
    let items = c.completion(&p, (0, 12));
    assert_eq!(labels(&items).iter().filter(|l| l.starts_with("clu")).count(), items.len(), "{:?}", labels(&items));
    assert_eq!(range_tuple(&item(&items, "cluster_name")["textEdit"]["range"]), (0, 9, 0, 12));
}

#[test]
fn completion_offers_nested_keys_after_dot_and_bracket() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        a: #{ bootstrap_cloudflare. }#
        c: #{ bootstrap_cloudflare.dom }#
        b: #{ bootstrap_cloudflare['do }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let items = c.completion(&p, f.find(t, "cloudflare.", 0, "cloudflare.".len()));
    let mut got = labels(&items);
    got.retain(|l| !matches!(l.as_str(), "get" | "items" | "keys" | "values"));
    assert_eq!(got, vec!["api_token", "domain"]);
    assert_eq!(detail(&items, "domain"), "'example.com'");
    assert_eq!(item(&items, "domain")["kind"], 5, "a field");
    // Methods of a dict come along.
    assert!(labels(&items).contains(&"get".to_string()), "{:?}", labels(&items));

    let items = c.completion(&p, f.find(t, "['do", 0, 4));
    assert_eq!(labels(&items), vec!["domain"]);
    let it = item(&items, "domain");
    // The edit replaces the typed part inside the quotes.
    assert_eq!(range_tuple(&it["textEdit"]["range"]), (2, 28, 2, 30));
    assert_eq!(range_text(f.text(t), &it["textEdit"]["range"]), "do");
    assert_eq!(it["textEdit"]["newText"], "domain");

    let items = c.completion(&p, f.find(t, ".dom", 0, 4));
    assert_eq!(labels(&items), vec!["domain"]);
    assert_eq!(range_tuple(&item(&items, "domain")["textEdit"]["range"]), (1, 27, 1, 30));
}

#[test]
fn completion_offers_set_and_for_names_and_loop_fields_in_scope() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% set greeting = 'hi' %#
        #% for n in nodes %#
        - #{ g }# #{ loop. }#
        #% endfor %#
        after: #{ g }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let inside = f.find(t, "#{ g", 0, 3);
    let items = c.completion(&p, (inside.0, inside.1 + 1));
    assert_eq!(detail(&items, "greeting"), "bound on line 1");
    let items = c.completion(&p, inside);
    assert!(labels(&items).contains(&"n".to_string()), "{:?}", labels(&items));
    assert_eq!(detail(&items, "n"), "bound on line 2");
    assert!(labels(&items).contains(&"loop".to_string()));
    // loop.* inside the loop.
    let items = c.completion(&p, f.find(t, "loop.", 0, 5));
    for l in ["index", "index0", "first", "last", "length", "revindex"] {
        assert!(labels(&items).contains(&l.to_string()), "loop.{l} missing: {:?}", labels(&items));
    }
    assert_eq!(detail(&items, "last"), "true on the last iteration");
    // After the loop: `greeting` is still bound, `n` and `loop` are not.
    let after = f.find(t, "#{ g", 1, 3);
    let items = c.completion(&p, after);
    assert!(labels(&items).contains(&"greeting".to_string()));
    assert!(!labels(&items).contains(&"n".to_string()), "{:?}", labels(&items));
    assert!(!labels(&items).contains(&"loop".to_string()));
}

#[test]
fn completion_offers_fields_of_the_loop_variable_items() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% for n in nodes %##{ n.$0 }##% endfor %#
        "##,
    );
    let mut c = f.start();
    let (p, pos) = f.cursor();
    let items = c.completion(&p, pos);
    let fields: Vec<String> = items.iter().filter(|i| i["kind"] == 5).filter_map(|i| i["label"].as_str().map(str::to_string)).collect();
    assert_eq!(fields, vec!["address", "mtu", "name"]);
    assert_eq!(detail(&items, "name"), "'k8s-0'");
}

#[test]
fn completion_offers_filters_with_signatures_after_pipe() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        a: #{ cluster_name | }#
        b: #{ cluster_name | ind }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let items = c.completion(&p, f.find(t, "| ", 0, 2));
    for l in ["default", "indent", "lower", "join", "tojson", "replace"] {
        assert!(labels(&items).contains(&l.to_string()), "filter {l} missing");
    }
    // Only filters: no data keys.
    assert!(!labels(&items).contains(&"cluster_name".to_string()));
    assert_eq!(detail(&items, "indent"), "indent(s, width=4, first=False, blank=False)");
    assert!(item(&items, "indent")["documentation"]["value"].as_str().unwrap().contains("Indents every line"));
    let items = c.completion(&p, f.find(t, "| ind", 0, 5));
    assert_eq!(labels(&items), vec!["indent"]);
    assert_eq!(range_tuple(&item(&items, "indent")["textEdit"]["range"]), (1, 21, 1, 24));
}

#[test]
fn completion_offers_tests_after_is_and_statement_keywords() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% if cluster_name is  %#x#% endif %#
        #%  %#
        #% en %#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let items = c.completion(&p, f.find(t, "is ", 0, 3));
    for l in ["defined", "none", "string", "eq"] {
        assert!(labels(&items).contains(&l.to_string()), "test {l} missing: {:?}", labels(&items));
    }
    assert_eq!(detail(&items, "defined"), "x is defined");
    assert!(!labels(&items).contains(&"cluster_name".to_string()));
    let items = c.completion(&p, f.find(t, "#%  %#", 0, 3));
    for l in ["if", "for", "set", "include", "filter", "endif", "endfor"] {
        assert!(labels(&items).contains(&l.to_string()), "keyword {l} missing: {:?}", labels(&items));
    }
    assert!(items.iter().all(|i| i["kind"] == 14), "all keywords");
    let items = c.completion(&p, f.find(t, "#% en", 0, 5));
    assert!(labels(&items).iter().all(|l| l.starts_with("en")), "{:?}", labels(&items));
    assert!(labels(&items).contains(&"endif".to_string()));
}

#[test]
fn completion_offers_include_paths() {
    let f = project(
        r##"
        //- /bootstrap/templates/partials/nodes.partial.yaml.j2
        nodes: []
        //- /bootstrap/overrides/partials/extra.partial.yaml.j2
        extra: true
        //- /bootstrap/templates/app.yaml.j2
        #% filter indent(2) %#
        #% include "partials/ex" %#
        #% endfilter %#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let open_quote = f.find(t, "\"partials", 0, 1);
    let items = c.completion(&p, open_quote);
    let got = labels(&items);
    for l in ["partials/nodes.partial.yaml.j2", "partials/extra.partial.yaml.j2", "app.yaml.j2"] {
        assert!(got.contains(&l.to_string()), "{l} missing from {got:?}");
    }
    assert!(items.iter().all(|i| i["kind"] == 17), "files");
    let items = c.completion(&p, f.find(t, "partials/ex", 0, "partials/ex".len()));
    assert_eq!(labels(&items), vec!["partials/extra.partial.yaml.j2"]);
    // The edit replaces the whole string content.
    assert_eq!(range_tuple(&item(&items, "partials/extra.partial.yaml.j2")["textEdit"]["range"]), (1, 12, 1, 23));
}

#[test]
fn completion_after_non_ascii_text_uses_utf16_positions() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        note: "héllo 😀 wörld 日本" #{ bootstrap_cloudflare.do$0 }#
        "##,
    );
    let mut c = f.start();
    let (p, pos) = f.cursor();
    // 😀 is two UTF-16 units: the column is not the byte or char count.
    let line = f.text("bootstrap/templates/app.yaml.j2").lines().next().unwrap();
    let byte_col = line.find(".do").unwrap() + 3;
    assert_ne!(pos.1 as usize, byte_col);
    assert_ne!(pos.1 as usize, line[..byte_col].chars().count());
    let items = c.completion(&p, pos);
    assert_eq!(labels(&items), vec!["domain"]);
    let r = &item(&items, "domain")["textEdit"]["range"];
    assert_eq!(range_text(f.text("bootstrap/templates/app.yaml.j2"), r), "do");
    assert_eq!(range_tuple(r), (0, pos.1 as u64 - 2, 0, pos.1 as u64));
}

// ---------------------------------------------------------------- masking

#[test]
fn secrets_are_masked_in_completion_and_hover_unless_shown() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        token: #{ bootstrap_cloudflare.api_token }#
        pw: #{ password }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let dot = f.find(t, "cloudflare.", 0, "cloudflare.".len());
    let top = f.find(t, "#{ password", 0, 3);
    let mut c = f.start();
    let items = c.completion(&p, dot);
    assert_eq!(detail(&items, "api_token"), "••••••••");
    let items = c.completion(&p, top);
    assert_eq!(detail(&items, "password"), "•••••••• — config.yaml:11");
    let h = c.hover_text(&p, f.find(t, "api_token", 0, 1));
    assert!(h.contains("••••••••") && !h.contains("abcdef123456"), "{h}");
    let h = c.hover_text(&p, f.find(t, "password", 0, 1));
    assert!(h.contains("••••••••") && !h.contains("hunter2"), "{h}");
    drop(c);

    let opts =
        ClientOptions { initialization_options: Some(json!({"homelabLsp": {"preview": {"showSecrets": true}}})), ..Default::default() };
    let mut c = f.start_with(opts);
    let items = c.completion(&p, dot);
    assert_eq!(detail(&items, "api_token"), "'abcdef123456'");
    let h = c.hover_text(&p, f.find(t, "api_token", 0, 1));
    assert!(h.contains("abcdef123456") && !h.contains("••••"), "{h}");
    let h = c.hover_text(&p, f.find(t, "password", 0, 1));
    assert!(h.contains("hunter2"), "{h}");
}

// ---------------------------------------------------------------- Kubernetes references

#[test]
fn references_in_hand_written_yaml_lead_to_the_objects_they_name() {
    let f = project(
        &[
            fixture_file("/bootstrap/templates/kubernetes/apps/network/gateway.yaml.j2", &gateway_yaml("internal", "network")).as_str(),
            fixture_file("/kubernetes/flux/repositories/bjw-s.yaml", &helm_repository_yaml("bjw-s", "flux-system")).as_str(),
            r##"
        //- /kubernetes/apps/echo/helmrelease.yaml
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
            route:
              app:
                parentRefs:
                  - name: internal
                    namespace: network
                  - name: missing
        "##,
        ]
        .concat(),
    );
    let t = "kubernetes/apps/echo/helmrelease.yaml";
    let p = f.path(t);
    let mut c = f.start();
    // References resolve once the repo index is built (the first workspace check).
    c.wait_diagnostics(&uri(&p), |d| d.iter().any(|x| x["code"] == "unknown-gateway"));
    let rel = |loc: &Value| {
        let path = uri_path(loc["uri"].as_str().unwrap());
        (path.strip_prefix(&f.root).unwrap().display().to_string(), loc["range"]["start"]["line"].as_u64().unwrap())
    };
    let defs = c.definition(&p, f.find(t, "bjw-s", 0, 1));
    assert_eq!(defs.iter().map(rel).collect::<Vec<_>>(), vec![("kubernetes/flux/repositories/bjw-s.yaml".to_string(), 3)]);
    // A Gateway rendered from a template leads to the template.
    let defs = c.definition(&p, f.find(t, "- name: internal", 0, "- name: ".len() + 1));
    assert_eq!(
        defs.iter().map(rel).collect::<Vec<_>>(),
        vec![("bootstrap/templates/kubernetes/apps/network/gateway.yaml.j2".to_string(), 0)]
    );
    let md = c.hover_text(&p, f.find(t, "- name: internal", 0, "- name: ".len() + 1));
    assert_eq!(md, "Gateway `internal` in namespace `network`: defined in `bootstrap/templates/kubernetes/apps/network/gateway.yaml.j2`");
    let md = c.hover_text(&p, f.find(t, "bjw-s", 0, 1));
    assert_eq!(md, "HelmRepository `bjw-s`: defined in `kubernetes/flux/repositories/bjw-s.yaml` line 4");
    assert_eq!(c.hover_text(&p, f.find(t, "missing", 0, 1)), "Gateway `missing`: **not defined** in the repository");
    assert!(c.definition(&p, f.find(t, "missing", 0, 1)).is_empty());
    // A name that refers to nothing has no hover.
    assert_eq!(c.hover(&p, f.find(t, "name: echo", 0, 7)), Value::Null);
}

#[test]
fn completion_offers_the_objects_a_reference_can_name() {
    let f = project(
        r##"
        //- /kubernetes/apps/network/gateways.yaml
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: internal
          namespace: network
        spec:
          gatewayClassName: cilium
          listeners:
            - {name: http, protocol: HTTP, port: 80}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: external
          namespace: network
        spec:
          gatewayClassName: cilium
          listeners:
            - {name: http, protocol: HTTP, port: 80}
        //- /kubernetes/flux/repositories.yaml
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata:
          name: bjw-s
          namespace: flux-system
        spec:
          url: https://bjw-s-labs.github.io/helm-charts
        ---
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata:
          name: home-ops
          namespace: flux-system
        spec:
          url: https://example.com/home-ops
        //- /kubernetes/apps/echo/config.yaml
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: echo
        data:
          password: hunter2
        //- /kubernetes/apps/echo/route.yaml
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: echo
        spec:
          parentRefs:
            - name: 
        "##,
    );
    let route = f.path("kubernetes/apps/echo/route.yaml");
    let mut c = f.start();
    c.wait_diagnostics(&uri(&f.path("kubernetes/apps/echo/config.yaml")), |d| !d.is_empty());
    let t = "kubernetes/apps/echo/route.yaml";
    let at = f.find(t, "- name: ", 0, "- name: ".len());
    let items = c.completion(&route, at);
    assert_eq!(labels(&items), vec!["external", "internal"]);
    assert_eq!(detail(&items, "internal"), "Gateway in network");
    assert_eq!(item(&items, "internal")["kind"], 18, "a reference");
    // A partial name is replaced; a sourceRef offers only the written kind.
    let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: echo\nspec:\n  chart:\n    spec:\n      chart: app-template\n      sourceRef:\n        kind: HelmRepository\n        name: \"bj\"\n";
    let hr_path = f.path("kubernetes/apps/echo/helmrelease.yaml");
    c.did_open(&hr_path, hr);
    let line = hr.lines().position(|l| l.contains("name: \"bj")).unwrap() as u32;
    let items = c.completion(&hr_path, (line, "        name: \"bj".len() as u32));
    assert_eq!(labels(&items), vec!["bjw-s"], "GitRepositories are not HelmRepositories");
    assert_eq!(detail(&items, "bjw-s"), "HelmRepository in flux-system");
    assert_eq!(range_tuple(&item(&items, "bjw-s")["textEdit"]["range"]), (line as u64, 15, line as u64, 17), "inside the quotes");
    // The same in a template's literal YAML; nothing on a plain key.
    let tpl = f.path("bootstrap/templates/kubernetes/apps/web/route.yaml.j2");
    c.did_open(&tpl, "kind: HTTPRoute\nmetadata:\n  name: #{ cluster_name }#\nspec:\n  parentRefs:\n    - name: ex\n");
    assert_eq!(labels(&c.completion(&tpl, (5, 14))), vec!["external", "internal"]);
    assert!(c.completion(&route, (3, 8)).is_empty(), "metadata.name names nothing");
}

#[test]
fn references_written_literally_in_a_template_resolve_too() {
    let f = project(
        &[
            fixture_file("/kubernetes/apps/network/gateway.yaml", &gateway_yaml("internal", "network")).as_str(),
            r##"
        //- /kubernetes/apps/echo/config.yaml
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: echo
        data:
          password: hunter2
        //- /bootstrap/templates/kubernetes/apps/echo/route.yaml.j2
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: #{ cluster_name }#
        spec:
          hostnames: ["echo.#{ bootstrap_cloudflare.domain }#"]
          parentRefs:
            - name: internal
              namespace: network
        "##,
        ]
        .concat(),
    );
    let t = "bootstrap/templates/kubernetes/apps/echo/route.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    // The repo index exists once the first workspace check has published something.
    c.wait_diagnostics(&uri(&f.path("kubernetes/apps/echo/config.yaml")), |d| !d.is_empty());
    let at = f.find(t, "- name: internal", 0, "- name: ".len() + 2);
    let defs = c.definition(&p, at);
    assert_eq!(defs.len(), 1, "{defs:?}");
    assert!(defs[0]["uri"].as_str().unwrap().ends_with("kubernetes/apps/network/gateway.yaml"));
    assert_eq!(defs[0]["range"]["start"]["line"], 3);
    let md = c.hover_text(&p, at);
    assert!(md.starts_with("Gateway `internal` in namespace `network`: defined in `kubernetes/apps/network/gateway.yaml` line 4"), "{md}");
    assert!(md.contains("**Renders to**"), "the line preview stays: {md}");
    // Template syntax keeps its own meaning.
    let md = c.hover_text(&p, f.find(t, "cluster_name", 0, 2));
    assert!(md.starts_with("`cluster_name`"), "{md}");
}

// ---------------------------------------------------------------- document highlights

#[test]
fn document_highlights_follow_bindings_keys_and_filters() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% for node in nodes %#
        - #{ node.name }# #{ node.address }#
        #% endfor %#
        #% for node in nodes %##{ node }##% endfor %#
        #{ cluster_name }# #{ cluster_name | upper }# #{ bootstrap_cloudflare.domain }# #{ bootstrap_cloudflare.api_token | upper }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let mut marks = |at: (u32, u32)| -> Vec<(String, u64)> {
        let r = c.ok("textDocument/documentHighlight", Client::pos_params(&p, at));
        r.as_array()
            .map(|a| {
                a.iter()
                    .map(|h| {
                        let s = &h["range"]["start"];
                        (format!("{}:{}", s["line"], s["character"]), h["kind"].as_u64().unwrap_or(0))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    // The first loop's `node`: its binding (write = 3) and its two uses (read = 2), not the
    // second loop's.
    let first = vec![("0:7".to_string(), 3), ("1:5".to_string(), 2), ("1:21".to_string(), 2)];
    assert_eq!(marks(f.find(t, "node.name", 0, 1)), first);
    assert_eq!(marks((0, 8)), first, "from the binding itself");
    assert_eq!(marks(f.find(t, "#{ node }#", 0, 4)), vec![("3:7".to_string(), 3), ("3:26".to_string(), 2)]);
    // Data keys by the segment under the cursor.
    assert_eq!(marks(f.find(t, "cluster_name }#", 0, 2)), vec![("4:3".to_string(), 2), ("4:22".to_string(), 2)]);
    assert_eq!(marks(f.find(t, "bootstrap_cloudflare.domain", 0, 2)).len(), 2);
    assert_eq!(marks(f.find(t, ".domain", 0, 2)), vec![("4:70".to_string(), 2)]);
    // Filters by name.
    assert_eq!(marks(f.find(t, "upper", 0, 1)).len(), 2);
    assert!(marks((2, 3)).is_empty(), "nothing on a statement keyword");
}

// ---------------------------------------------------------------- signature help

#[test]
fn signature_help_names_the_active_parameter() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        a: #{ cluster_name | indent(4, first=True) }#
        b: #{ range(1, 5) }#
        c: #{ bootstrap_cloudflare.get('domain', 'x') }#
        d: #{ nodes | map(attribute='name') | join(', ', ) }#
        e: #{ cluster_name }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let mut help = |at: (u32, u32)| -> Option<(String, Option<u64>, Vec<String>)> {
        let r = c.ok("textDocument/signatureHelp", Client::pos_params(&p, at));
        if r.is_null() {
            return None;
        }
        let sig = &r["signatures"][0];
        let label = sig["label"].as_str().unwrap().to_string();
        let params = sig["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let o = x["label"].as_array().unwrap();
                label[o[0].as_u64().unwrap() as usize..o[1].as_u64().unwrap() as usize].to_string()
            })
            .collect();
        Some((label, r["activeParameter"].as_u64(), params))
    };
    // After `indent(`: the piped value is `s`, so the first argument is `width`.
    let (label, active, params) = help(f.find(t, "indent(", 0, "indent(".len())).unwrap();
    assert_eq!(label, "indent(s, width=4, first=False, blank=False)");
    assert_eq!(params, vec!["s", "width=4", "first=False", "blank=False"]);
    assert_eq!(active, Some(1));
    // A keyword argument activates its parameter.
    assert_eq!(help(f.find(t, "first=True", 0, "first=".len())).unwrap().1, Some(2));
    // Functions and methods count from their first argument.
    assert_eq!(help(f.find(t, "range(1, ", 0, "range(1, ".len())).unwrap().1, Some(1));
    let (label, active, _) = help(f.find(t, "'x')", 0, 1)).unwrap();
    assert_eq!((label.as_str(), active), ("d.get(key, default=None)", Some(1)));
    // The innermost open call wins; a comma inside a string is not an argument break.
    let (label, active, _) = help(f.find(t, "', ', )", 0, "', ', ".len())).unwrap();
    assert_eq!((label.as_str(), active), ("join(seq, d='', attribute=None)", Some(2)));
    assert_eq!(help(f.find(t, "attribute='name'", 0, 3)).unwrap().0, "map(seq, filter_or_attribute=...)");
    // Outside a call: nothing.
    assert_eq!(help(f.find(t, "cluster_name }#", 0, 3)), None);
}

// ---------------------------------------------------------------- workspace symbols

#[test]
fn workspace_symbols_find_data_keys_templates_and_cluster_objects() {
    let f = project(
        &[
            fixture_file("/bootstrap/templates/kubernetes/apps/network/gateway.yaml.j2", &gateway_yaml("internal", "network")).as_str(),
            r##"
        //- /bootstrap/templates/kubernetes/apps/cloudflared/helmrelease.yaml.j2
        name: #{ bootstrap_cloudflare.domain }#
        "##,
            fixture_file("/kubernetes/flux/repositories/bjw-s.yaml", &helm_repository_yaml("bjw-s", "flux-system")).as_str(),
        ]
        .concat(),
    );
    let mut c = f.start();
    let find = |c: &mut Client, q: &str| -> Vec<(String, u64, String, String, u64)> {
        let r = c.ok("workspace/symbol", json!({"query": q}));
        r.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let path = uri_path(s["location"]["uri"].as_str().unwrap());
                let rel = path.strip_prefix(&f.root).unwrap_or(&path).display().to_string();
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["kind"].as_u64().unwrap(),
                    s["containerName"].as_str().unwrap_or_default().to_string(),
                    rel,
                    s["location"]["range"]["start"]["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // Nested data keys by dotted path, prefix matches first, at the key's line.
    let got = find(&mut c, "bootcloud");
    assert_eq!(got[0], ("bootstrap_cloudflare".into(), 20, "config.yaml".into(), "config.yaml".into(), 1), "{got:#?}");
    assert!(got.contains(&("bootstrap_cloudflare.domain".into(), 20, "config.yaml".into(), "config.yaml".into(), 2)), "{got:#?}");
    let got = find(&mut c, "domain");
    assert_eq!(got[0].0, "bootstrap_cloudflare.domain", "a substring match: {got:#?}");
    // Templates by file name, with their directory.
    let got = find(&mut c, "helmrelease");
    assert_eq!(
        got,
        vec![(
            "helmrelease.yaml.j2".into(),
            1,
            "kubernetes/apps/cloudflared".into(),
            "bootstrap/templates/kubernetes/apps/cloudflared/helmrelease.yaml.j2".into(),
            0
        )]
    );
    // A Gateway rendered from a template points at the template; a hand-written Flux
    // source at its own line.
    let got = find(&mut c, "internal");
    assert!(
        got.contains(&(
            "internal".into(),
            11,
            "Gateway in network".into(),
            "bootstrap/templates/kubernetes/apps/network/gateway.yaml.j2".into(),
            0
        )),
        "{got:#?}"
    );
    let got = find(&mut c, "bjw");
    assert_eq!(got, vec![("bjw-s".into(), 4, "HelmRepository in flux-system".into(), "kubernetes/flux/repositories/bjw-s.yaml".into(), 3)]);
    assert!(find(&mut c, "zzzz-nothing").is_empty());
}

// ---------------------------------------------------------------- inlay hints

fn inlay_hints(c: &mut Client, p: &std::path::Path) -> Vec<(u32, u32, String)> {
    let r = c.ok(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri(p)}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 99, "character": 0}}}),
    );
    r.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["position"]["line"].as_u64().unwrap() as u32,
                h["position"]["character"].as_u64().unwrap() as u32,
                h["label"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn inlay_hints_show_what_each_expression_prints() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        url: https://#{ bootstrap_cloudflare.domain | upper }#/x
        count: #{ nodes | length }# and #{ 'literal' }#
        #% for n in nodes %#
        - #{ n.name }#
        #% endfor %#
        missing: #{ not_there }#
        token: #{ bootstrap_cloudflare.api_token }#
        flag: #{ nodes[1].mtu > 1500 }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let hints = inlay_hints(&mut c, &p);
    assert_eq!(
        hints,
        vec![
            (0, 24, "= home".to_string()),
            (1, 54, "= EXAMPLE.COM".to_string()),
            (2, 27, "= 2".to_string()),
            (4, 14, "= k8s-0, k8s-1 (2 times)".to_string()),
            (7, 43, "= ••••••••".to_string()),
            (8, 31, "= True".to_string()),
        ],
        "literals and undefined names get none; loops list their iterations; secrets are masked"
    );
    // Unsaved edits count, and positions are UTF-16 after non-ASCII text.
    c.did_open(&p, "näme 🚀: #{ cluster_name ~ '-x' }#\n");
    assert_eq!(inlay_hints(&mut c, &p), vec![(0, 34, "= home-x".to_string())]);
    drop(c);
    let opts =
        ClientOptions { initialization_options: Some(json!({"homelabLsp": {"preview": {"showSecrets": true}}})), ..Default::default() };
    let mut c = f.start_with(opts);
    assert!(inlay_hints(&mut c, &p).contains(&(7, 43, "= abcdef123456".to_string())));
}

#[test]
fn inlay_hints_in_loops_follow_targets_conditions_and_loop_state() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% for k, v in bootstrap_cloudflare.items() %#
        #{ k }#: #{ v }#
        #% endfor %#
        #% for n in nodes if n.mtu is defined %#
        #{ loop.index }#/#{ loop.length }# #{ n.name }#
        #% endfor %#
        #% for n in nodes %#
        #% set label = n.name ~ '!' %#
        #{ label }# #{ n.address }#
        #% for m in nodes %##{ m.name }##% endfor %#
        #% endfor %#
        #% for x in range(5) %##{ x * 2 }##% endfor %#
        "##,
    );
    let p = f.path("bootstrap/templates/app.yaml.j2");
    let mut c = f.start();
    let hints = inlay_hints(&mut c, &p);
    let on = |line: u32| hints.iter().filter(|h| h.0 == line).map(|h| h.2.clone()).collect::<Vec<_>>();
    assert_eq!(on(1), vec!["= domain, api_token (2 times)", "= example.com, •••••••• (2 times)"], "{hints:#?}");
    assert_eq!(on(4), vec!["= 1", "= 1", "= k8s-1"], "the condition keeps one node: {hints:#?}");
    assert_eq!(on(8), vec!["= 192.168.1.10, 192.168.1.11 (2 times)"], "a `set` name has no single value: {hints:#?}");
    assert_eq!(on(9), Vec::<String>::new(), "nested loops get none: {hints:#?}");
    assert_eq!(on(11), vec!["= 0, 2, 4, … (5 times)"], "{hints:#?}");
}

// ---------------------------------------------------------------- hover

#[test]
fn hover_shows_a_variable_value_as_yaml_and_where_it_is_defined() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        domain: #{ bootstrap_cloudflare.domain }#
        nodes: #{ nodes }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let h = c.hover(&p, f.find(t, "domain }#", 0, 2));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("`bootstrap_cloudflare.domain`\n\n```yaml\nexample.com\n```\n\nDefined in `config.yaml` line 3"), "{md}");
    // The range is the hovered segment.
    assert_eq!(range_text(f.text(t), &h["range"]), "domain");
    let md = c.hover_text(&p, f.find(t, "nodes }#", 0, 1));
    assert!(
        md.contains("```yaml\n- name: k8s-0\n  address: 192.168.1.10\n- name: k8s-1\n  address: 192.168.1.11\n  mtu: 9000\n```\n\nDefined in `config.yaml` line 5"),
        "{md}"
    );
    // The parent segment of a nested path shows the parent's value.
    let md = c.hover_text(&p, f.find(t, "bootstrap_cloudflare", 0, 3));
    assert!(
        md.starts_with(
            "`bootstrap_cloudflare`\n\n```yaml\ndomain: example.com\napi_token: ••••••••\n```\n\nDefined in `config.yaml` line 2"
        ),
        "{md}"
    );
}

#[test]
fn hover_documents_filters_and_tests() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        a: #{ cluster_name | indent(4) }#
        #% if password is defined %#b#% endif %#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let md = c.hover_text(&p, f.find(t, "indent", 0, 2));
    assert!(md.starts_with("```\nindent(s, width=4, first=False, blank=False)\n```\nIndents every line but the first"), "{md}");
    let md = c.hover_text(&p, f.find(t, "defined", 0, 2));
    assert!(md.starts_with("```\nx is defined\n```\nTrue when the variable exists"), "{md}");
}

#[test]
fn hover_on_if_and_for_tells_taken_and_iterations() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% if cluster_name == 'home' %#
        home: true
        #% endif %#
        #% if nodes | length > 5 %#
        big: true
        #% endif %#
        #% for n in nodes %#
        - #{ n.name }#
        #% endfor %#
        #% for x in missing_list %##% endfor %#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let md = c.hover_text(&p, f.find(t, "#% if", 0, 3));
    assert!(md.starts_with("`if cluster_name == 'home'` → **taken**"), "{md}");
    let md = c.hover_text(&p, f.find(t, "#% if", 1, 3));
    assert!(md.starts_with("`if nodes | length > 5` → **not taken**"), "{md}");
    let md = c.hover_text(&p, f.find(t, "#% for", 0, 3));
    assert!(md.starts_with("`for` over `nodes` → runs **2** times"), "{md}");
    let md = c.hover_text(&p, f.find(t, "#% for", 1, 3));
    assert!(md.starts_with("`missing_list` is undefined → the loop runs **0** times"), "{md}");
}

#[test]
fn hover_shows_what_a_template_line_renders_to_and_follows_unsaved_edits() {
    let f = project(
        r##"
        //- /bootstrap/templates/kubernetes/app.yaml.j2
        name: #{ cluster_name }#
        #% for n in nodes %#
        - #{ n.name }#
        #% endfor %#
        "##,
    );
    let t = "bootstrap/templates/kubernetes/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let md = c.hover_text(&p, f.pos(t, "name:"));
    assert_eq!(md, "**Renders to** (`kubernetes/app.yaml`):\n```yaml\nname: home\n```");
    // A line inside a loop renders once per iteration.
    let md = c.hover_text(&p, f.pos(t, "- #{"));
    assert_eq!(md, "**Renders to** (`kubernetes/app.yaml`):\n```yaml\n- k8s-0\n- k8s-1\n```");

    // Unsaved template edits change the preview.
    c.did_open(&p, f.text(t));
    c.did_change_full(&p, 2, "name: #{ cluster_name }#-edited\n");
    let md = c.hover_text(&p, (0, 1));
    assert_eq!(md, "**Renders to** (`kubernetes/app.yaml`):\n```yaml\nname: home-edited\n```");
    // Unsaved data edits change values and previews.
    let data = f.path("config.yaml");
    c.did_open(&data, f.text("config.yaml"));
    c.did_change_full(&data, 2, &f.text("config.yaml").replace("cluster_name: home", "cluster_name: lab"));
    let md = c.hover_text(&p, (0, 1));
    assert_eq!(md, "**Renders to** (`kubernetes/app.yaml`):\n```yaml\nname: lab-edited\n```");
    let md = c.hover_text(&p, (0, 12));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nlab\n```"), "{md}");
}

// ---------------------------------------------------------------- definition

#[test]
fn definition_of_a_variable_is_its_key_in_the_data_file() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        domain: #{ bootstrap_cloudflare.domain }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let locs = c.definition(&p, f.find(t, "domain }#", 0, 3));
    assert_eq!(locs.len(), 1, "{locs:?}");
    assert_eq!(locs[0]["uri"], uri(&f.path("config.yaml")));
    assert_eq!(range_tuple(&locs[0]["range"]), (2, 2, 2, 8));
    let locs = c.definition(&p, f.find(t, "bootstrap_cloudflare", 0, 0));
    assert_eq!(range_tuple(&locs[0]["range"]), (1, 0, 1, 20));
}

#[test]
fn definition_of_an_include_honours_override_precedence() {
    let f = project(
        r##"
        //- /bootstrap/templates/partials/readme.partial.yaml.j2
        from: templates
        //- /bootstrap/overrides/partials/readme.partial.yaml.j2
        from: overrides
        //- /bootstrap/templates/partials/only.partial.yaml.j2
        from: templates only
        //- /bootstrap/templates/app.yaml.j2
        #% include "partials/readme.partial.yaml.j2" %#
        #% include 'partials/only.partial.yaml.j2' %#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let locs = c.definition(&p, f.find(t, "readme", 0, 2));
    assert_eq!(locs.len(), 1);
    assert_eq!(locs[0]["uri"], uri(&f.path("bootstrap/overrides/partials/readme.partial.yaml.j2")));
    assert_eq!(range_tuple(&locs[0]["range"]), (0, 0, 0, 0));
    let locs = c.definition(&p, f.find(t, "only", 0, 2));
    assert_eq!(locs[0]["uri"], uri(&f.path("bootstrap/templates/partials/only.partial.yaml.j2")));
}

#[test]
fn definition_of_set_and_loop_variables_is_the_binding() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% set greeting = 'hi' %#
        #% for n in nodes %#
        - #{ greeting }# #{ n.name }#
        #% endfor %#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let locs = c.definition(&p, f.find(t, "greeting }#", 0, 2));
    assert_eq!(locs.len(), 1);
    assert_eq!(locs[0]["uri"], uri(&p));
    assert_eq!(range_tuple(&locs[0]["range"]), (0, 7, 0, 15));
    let locs = c.definition(&p, f.find(t, "n.name", 0, 0));
    assert_eq!(range_tuple(&locs[0]["range"]), (1, 7, 1, 8));
}

#[test]
fn definition_in_a_generated_file_maps_back_to_the_template_line() {
    let f = project(
        r##"
        //- /bootstrap/templates/kubernetes/apps/x/app.yaml.j2
        ---
        nodes:
        #% for n in nodes %#
          - name: #{ n.name }#
            address: #{ n.address }#
        #% endfor %#
        done: true
        //- /kubernetes/apps/x/app.yaml
        ---
        nodes:
          - name: k8s-0
            address: 192.168.1.10
          - name: k8s-1
            address: 192.168.1.11
        done: true
        "##,
    );
    let gen = f.path("kubernetes/apps/x/app.yaml");
    let tpl = f.path("bootstrap/templates/kubernetes/apps/x/app.yaml.j2");
    let mut c = f.start();
    // Second iteration's `address:` line → the template's `address:` line, first non-blank.
    let locs = c.definition(&gen, (5, 6));
    assert_eq!(locs.len(), 1, "{locs:?}");
    assert_eq!(locs[0]["uri"], uri(&tpl));
    assert_eq!(range_tuple(&locs[0]["range"]), (4, 4, 4, 4));
    let locs = c.definition(&gen, (2, 4));
    assert_eq!(range_tuple(&locs[0]["range"]), (3, 2, 3, 2));
    let locs = c.definition(&gen, (6, 0));
    assert_eq!(range_tuple(&locs[0]["range"]), (6, 0, 6, 0));
}

// ---------------------------------------------------------------- references and rename

const RENAME_FIXTURE: &str = r##"
    //- /bootstrap/templates/a.yaml.j2
    domain: #{ bootstrap_cloudflare.domain }#
    other: #{ bootstrap_cloudflare['domain'] | lower }#
    //- /bootstrap/templates/sub/b.yaml.j2
    #% if bootstrap_cloudflare.domain %#
    host: "www.#{ bootstrap_cloudflare.domain }#"
    #% endif %#
    token: #{ bootstrap_cloudflare.api_token }#
"##;

#[test]
fn references_of_a_nested_data_key_span_templates_and_the_data_file() {
    let f = project(RENAME_FIXTURE);
    let a = "bootstrap/templates/a.yaml.j2";
    let b = "bootstrap/templates/sub/b.yaml.j2";
    let mut c = f.start();
    let refs = c.ok("textDocument/references", json!({"textDocument": {"uri": uri(&f.path(a))}, "position": {"line": 0, "character": 34}, "context": {"includeDeclaration": true}}));
    let mut got: Vec<(String, (u64, u64, u64, u64))> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (uri_path(l["uri"].as_str().unwrap()).strip_prefix(&f.root).unwrap().display().to_string(), range_tuple(&l["range"])))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (a.to_string(), (0, 32, 0, 38)),
            // Inside the brackets only the name, not its quotes.
            (a.to_string(), (1, 32, 1, 38)),
            (b.to_string(), (0, 27, 0, 33)),
            (b.to_string(), (1, 35, 1, 41)),
            ("config.yaml".to_string(), (2, 2, 2, 8)),
        ]
    );
    // Without the declaration, and from the data file itself.
    let refs = c.ok("textDocument/references", json!({"textDocument": {"uri": uri(&f.path("config.yaml"))}, "position": {"line": 2, "character": 4}, "context": {"includeDeclaration": false}}));
    assert_eq!(refs.as_array().unwrap().len(), 4, "{refs}");
}

#[test]
fn rename_of_a_nested_data_key_edits_templates_and_data() {
    let f = project(RENAME_FIXTURE);
    let a = "bootstrap/templates/a.yaml.j2";
    let b = "bootstrap/templates/sub/b.yaml.j2";
    let mut c = f.start();
    let at = json!({"textDocument": {"uri": uri(&f.path(b))}, "position": {"line": 1, "character": 37}});
    let prep = c.ok("textDocument/prepareRename", at.clone());
    assert_eq!(range_tuple(&prep), (1, 35, 1, 41));
    let mut params = at.clone();
    params["newName"] = json!("zone");
    let edit = c.ok("textDocument/rename", params);
    let changes = edit["changes"].as_object().unwrap();
    assert_eq!(changes.len(), 3, "{edit}");
    // Apply the edits and compare whole files.
    let apply = |rel: &str| -> String {
        let mut text = f.text(rel).to_string();
        let mut edits: Vec<(usize, usize, String)> = changes[&uri(&f.path(rel))]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let p = |v: &Value| (v["line"].as_u64().unwrap() as u32, v["character"].as_u64().unwrap() as u32);
                (offset(&text, p(&e["range"]["start"])), offset(&text, p(&e["range"]["end"])), e["newText"].as_str().unwrap().to_string())
            })
            .collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (s, e, t) in edits {
            text.replace_range(s..e, &t);
        }
        text
    };
    assert_eq!(apply(a), "domain: #{ bootstrap_cloudflare.zone }#\nother: #{ bootstrap_cloudflare['zone'] | lower }#\n");
    assert_eq!(apply(b), "#% if bootstrap_cloudflare.zone %#\nhost: \"www.#{ bootstrap_cloudflare.zone }#\"\n#% endif %#\ntoken: #{ bootstrap_cloudflare.api_token }#\n");
    assert!(apply("config.yaml").contains("bootstrap_cloudflare:\n  zone: example.com\n  api_token:"), "{}", apply("config.yaml"));

    // An invalid name is an error, not an edit.
    let mut params = at.clone();
    params["newName"] = json!("not-a-name");
    let err = c.request("textDocument/rename", params).expect_err("renaming to an invalid name must fail");
    assert!(err["message"].as_str().unwrap().contains("not a valid variable name"), "{err}");
    // Something that is not a data key cannot be renamed.
    let prep =
        c.ok("textDocument/prepareRename", json!({"textDocument": {"uri": uri(&f.path(b))}, "position": {"line": 0, "character": 1}}));
    assert_eq!(prep, Value::Null);
}

// ---------------------------------------------------------------- symbols, tokens, links, folding

#[test]
fn document_symbols_of_data_and_templates() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% set greeting = 'hi' %#
        #% if cluster_name %#
        #% for n in nodes %#
        - #{ n.name }#
        #% endfor %#
        #% endif %#
        "##,
    );
    let mut c = f.start();
    let syms = c.ok("textDocument/documentSymbol", json!({"textDocument": {"uri": uri(&f.path("config.yaml"))}}));
    fn tree(v: &Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let kids = tree(&s["children"]);
                if kids.is_empty() {
                    s["name"].as_str().unwrap().to_string()
                } else {
                    format!("{}{{{}}}", s["name"].as_str().unwrap(), kids.join(","))
                }
            })
            .collect()
    }
    assert_eq!(tree(&syms), vec!["cluster_name", "bootstrap_cloudflare{domain,api_token}", "nodes", "password"]);
    let cf = &syms[1];
    assert_eq!(cf["detail"], "2 keys");
    assert_eq!(range_tuple(&cf["selectionRange"]), (1, 0, 1, 20));
    assert_eq!(range_tuple(&cf["children"][0]["selectionRange"]), (2, 2, 2, 8));
    assert_eq!(syms[2]["detail"], "2 items");

    let t = "bootstrap/templates/app.yaml.j2";
    let syms = c.ok("textDocument/documentSymbol", json!({"textDocument": {"uri": uri(&f.path(t))}}));
    // The template's literal YAML among its blocks: the loop's item, its value as written.
    assert_eq!(tree(&syms), vec!["set greeting = 'hi'", "if cluster_name{for n in nodes{0}}"]);
    assert_eq!(syms[1]["children"][0]["children"][0]["detail"], "#{ n.name }#");
    assert_eq!(syms[1]["detail"], "if");
    assert_eq!(range_tuple(&syms[1]["range"]), (1, 0, 5, 11));
    assert_eq!(range_tuple(&syms[1]["children"][0]["range"]), (2, 0, 4, 12));
}

#[test]
fn semantic_tokens_mark_template_delimiters() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        kind: ConfigMap
        data:
          name: #{ cluster_name | lower }#
        "##,
    );
    let mut c = f.start();
    let legend: Vec<String> =
        serde_json::from_value(c.initialize_result["capabilities"]["semanticTokensProvider"]["legend"]["tokenTypes"].clone()).unwrap();
    let r = c.ok("textDocument/semanticTokens/full", json!({"textDocument": {"uri": uri(&f.path("bootstrap/templates/app.yaml.j2"))}}));
    let data: Vec<u32> = serde_json::from_value(r["data"].clone()).unwrap();
    assert!(!data.is_empty() && data.len() % 5 == 0);
    // Decode the relative encoding.
    let (mut line, mut col) = (0, 0);
    let mut toks = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            col = 0;
        }
        line += t[0];
        col += t[1];
        toks.push((line, col, t[2], legend[t[3] as usize].clone()));
    }
    assert_eq!(
        toks,
        vec![
            (2, 8, 2, "macro".to_string()),
            (2, 11, 12, "variable".to_string()),
            (2, 24, 1, "operator".to_string()),
            (2, 26, 5, "function".to_string()),
            (2, 32, 2, "macro".to_string()),
        ]
    );
    let text = f.text("bootstrap/templates/app.yaml.j2");
    assert_eq!(&text.lines().nth(2).unwrap()[8..10], "#{");
}

#[test]
fn document_links_point_include_paths_at_the_partial() {
    let f = project(
        r##"
        //- /bootstrap/templates/partials/a.partial.yaml.j2
        a: 1
        //- /bootstrap/overrides/partials/a.partial.yaml.j2
        a: 2
        //- /bootstrap/templates/app.yaml.j2
        x:
          #% filter indent(2) %#
          #% include "partials/a.partial.yaml.j2" %#
          #% endfilter %#
          #% include "partials/missing.partial.yaml.j2" ignore missing %#
        "##,
    );
    let mut c = f.start();
    let t = "bootstrap/templates/app.yaml.j2";
    let links = c.ok("textDocument/documentLink", json!({"textDocument": {"uri": uri(&f.path(t))}}));
    let links = links.as_array().unwrap();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(range_text(f.text(t), &links[0]["range"]), "partials/a.partial.yaml.j2");
    assert_eq!(links[0]["target"], uri(&f.path("bootstrap/overrides/partials/a.partial.yaml.j2")));
}

#[test]
fn folding_ranges_cover_blocks() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        a: 1
        #% if cluster_name %#
        b: 2
        c: 3
        #% endif %#
        #% for n in nodes %#
        - #{ n }#
        #% endfor %#
        "##,
    );
    let mut c = f.start();
    let r = c.ok("textDocument/foldingRange", json!({"textDocument": {"uri": uri(&f.path("bootstrap/templates/app.yaml.j2"))}}));
    let mut got: Vec<(u64, u64)> =
        r.as_array().unwrap().iter().map(|f| (f["startLine"].as_u64().unwrap(), f["endLine"].as_u64().unwrap())).collect();
    got.sort();
    assert_eq!(got, vec![(1, 3), (5, 6)]);
}

// ---------------------------------------------------------------- custom requests

#[test]
fn custom_requests_preview_generated_file_and_template_source() {
    let f = project(
        r##"
        //- /bootstrap/templates/kubernetes/apps/x/app.yaml.j2
        ---
        name: #{ cluster_name }#
        #% for n in nodes %#
        - #{ n.name }#
        #% endfor %#
        "##,
    );
    let tpl = f.path("bootstrap/templates/kubernetes/apps/x/app.yaml.j2");
    let gen = f.path("kubernetes/apps/x/app.yaml");
    let mut c = f.start();
    let preview = c.ok("homelab/renderedPreview", json!({"uri": uri(&tpl)}));
    assert_eq!(preview["text"], "---\nname: home\n- k8s-0\n- k8s-1\n");
    let map: Vec<Option<u64>> = preview["lineMap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            if e.is_null() {
                return None;
            }
            assert_eq!(e["uri"], uri(&tpl));
            e["line"].as_u64()
        })
        .collect();
    assert_eq!(&map[..4], &[Some(0), Some(1), Some(3), Some(3)]);

    let g = c.ok("homelab/generatedFile", json!({"uri": uri(&tpl)}));
    assert_eq!(g, json!({"uri": uri(&gen)}));
    // Works before the generated file exists on disk, too; now write it and map back.
    std::fs::create_dir_all(gen.parent().unwrap()).unwrap();
    std::fs::write(&gen, "---\nname: home\n- k8s-0\n- k8s-1\n").unwrap();
    let s = c.ok("homelab/templateSource", json!({"uri": uri(&gen), "line": 3}));
    assert_eq!(s, json!({"uri": uri(&tpl), "line": 3}));
    let s = c.ok("homelab/templateSource", json!({"uri": uri(&gen), "line": 1}));
    assert_eq!(s, json!({"uri": uri(&tpl), "line": 1}));
    // renderDiff: the up-to-date file is not listed; once edited on disk it is, with the
    // text a render would write.
    let listed = |c: &mut Client| -> Vec<Value> {
        let d = c.ok("homelab/renderDiff", json!({"uri": uri(&tpl)}));
        d.as_array().unwrap().iter().filter(|e| e["path"] == "kubernetes/apps/x/app.yaml").cloned().collect()
    };
    assert_eq!(listed(&mut c), Vec::<Value>::new());
    std::fs::write(&gen, "---\nname: old\n").unwrap();
    let d = listed(&mut c);
    assert_eq!(
        d,
        vec![
            json!({"uri": uri(&gen), "path": "kubernetes/apps/x/app.yaml", "change": "changed", "fresh": "---\nname: home\n- k8s-0\n- k8s-1\n"})
        ]
    );
    // Not a template: null, and a preview of a non-template is an error.
    assert_eq!(c.ok("homelab/generatedFile", json!({"uri": uri(&f.path("config.yaml"))})), Value::Null);
    let err = c.request("homelab/renderedPreview", json!({"uri": uri(&f.path("config.yaml"))})).expect_err("not a template");
    assert!(err["message"].as_str().unwrap().contains("not a template"), "{err}");
}

// ---------------------------------------------------------------- workspace

#[test]
fn two_workspace_folders_answer_from_their_own_data() {
    let one = Fixture::project(
        r##"
        //- /config.yaml
        cluster_name: alpha
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        "##,
    );
    let two = Fixture::project(
        r##"
        //- /config.yaml
        cluster_name: beta
        only_in_two: 2
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let mut c = Client::start(ClientOptions { folders: vec![one.root.clone(), two.root.clone()], ..Default::default() });
    let md = c.hover_text(&one.path(t), one.find(t, "cluster_name", 0, 1));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nalpha\n```"), "{md}");
    let md = c.hover_text(&two.path(t), two.find(t, "cluster_name", 0, 1));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nbeta\n```"), "{md}");
    let items = c.completion(&one.path(t), one.find(t, "cluster_name", 0, 0));
    assert!(!labels(&items).contains(&"only_in_two".to_string()));
    let items = c.completion(&two.path(t), two.find(t, "cluster_name", 0, 0));
    assert!(labels(&items).contains(&"only_in_two".to_string()));
    let locs = c.definition(&two.path(t), two.find(t, "cluster_name", 0, 1));
    assert_eq!(locs[0]["uri"], uri(&two.path("config.yaml")));
    let p = c.ok("homelab/renderedPreview", json!({"uri": uri(&one.path(t))}));
    assert_eq!(p["text"], "name: alpha\n");
}

#[test]
fn created_and_deleted_files_update_the_inventory() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        #% include "partials/" %#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let new_tpl = f.path("bootstrap/templates/kubernetes/new.yaml.j2");
    assert_eq!(c.ok("homelab/generatedFile", json!({"uri": uri(&new_tpl)})), Value::Null);
    let in_quotes = f.find(t, "partials/", 0, "partials/".len());
    assert!(!labels(&c.completion(&p, in_quotes)).contains(&"partials/new.partial.yaml.j2".to_string()));

    std::fs::create_dir_all(new_tpl.parent().unwrap()).unwrap();
    std::fs::write(&new_tpl, "name: #{ cluster_name }#\n").unwrap();
    let partial = f.path("bootstrap/templates/partials/new.partial.yaml.j2");
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, "x: 1\n").unwrap();
    c.watched(&[(&new_tpl, 1), (&partial, 1)]);
    assert_eq!(c.ok("homelab/generatedFile", json!({"uri": uri(&new_tpl)})), json!({"uri": uri(&f.path("kubernetes/new.yaml"))}));
    assert!(labels(&c.completion(&p, in_quotes)).contains(&"partials/new.partial.yaml.j2".to_string()));

    std::fs::remove_file(&new_tpl).unwrap();
    std::fs::remove_file(&partial).unwrap();
    c.watched(&[(&new_tpl, 3), (&partial, 3)]);
    assert_eq!(c.ok("homelab/generatedFile", json!({"uri": uri(&new_tpl)})), Value::Null);
    assert!(!labels(&c.completion(&p, in_quotes)).contains(&"partials/new.partial.yaml.j2".to_string()));
}

#[test]
fn the_server_starts_with_stdio_flags() {
    for args in [vec!["--stdio"], vec!["serve", "--stdio"], vec!["serve"]] {
        let f = project("//- /bootstrap/templates/app.yaml.j2\nname: #{ cluster_name }#\n");
        let opts = ClientOptions { args: args.iter().map(|s| s.to_string()).collect(), ..Default::default() };
        let mut c = f.start_with(opts);
        assert_eq!(c.initialize_result["serverInfo"]["name"], "homelab-lsp", "{args:?}");
        let md = c.hover_text(&f.path("bootstrap/templates/app.yaml.j2"), (0, 10));
        assert!(md.contains("home"), "{args:?}: {md}");
        assert_eq!(c.shutdown(), Some(0), "{args:?}: exit code after shutdown + exit");
    }
}

#[test]
fn rapid_data_edits_end_at_the_last_value() {
    let f = project("//- /bootstrap/templates/app.yaml.j2\nname: #{ cluster_name }#\n");
    let t = f.path("bootstrap/templates/app.yaml.j2");
    let data = f.path("config.yaml");
    let mut c = f.start();
    c.did_open(&data, f.text("config.yaml"));
    // Every keystroke in a data file reloads the project; the loads may finish out of
    // order, but the last text must win.
    for v in 2..=30 {
        c.did_change_full(&data, v, &f.text("config.yaml").replace("cluster_name: home", &format!("cluster_name: v{v}")));
    }
    let md = c.hover_text(&t, (0, 12));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nv30\n```"), "{md}");
    assert_eq!(c.ok("homelab/renderedPreview", json!({"uri": uri(&t)}))["text"], "name: v30\n");
}

// ---------------------------------------------------------------- protocol

#[test]
fn startup_reports_indexing_progress_and_registers_watchers() {
    let f = project("//- /bootstrap/templates/app.yaml.j2\nname: #{ cluster_name }#\n");
    let c = f.start();
    let notes = c.notifications();
    let progress: Vec<&Value> = client::indexing_progress(&notes).collect();
    assert_eq!(progress.first().unwrap()["kind"], "begin");
    assert_eq!(progress.first().unwrap()["title"], "Indexing");
    assert_eq!(progress.last().unwrap()["kind"], "end");
    assert_eq!(progress.last().unwrap()["message"], "1 project indexed");
    let requests = c.server_requests();
    let methods: Vec<&str> = requests.iter().filter_map(|r| r["method"].as_str()).collect();
    assert!(methods.contains(&"window/workDoneProgress/create"), "{methods:?}");
    assert!(methods.contains(&"workspace/configuration"), "{methods:?}");
    let reg = requests.iter().find(|r| r["method"] == "client/registerCapability").expect("watchers registered");
    let watchers = &reg["params"]["registrations"][0]["registerOptions"]["watchers"];
    let globs: Vec<&str> = watchers.as_array().unwrap().iter().filter_map(|w| w["globPattern"].as_str()).collect();
    assert!(globs.contains(&"**/makejinja.toml") && globs.contains(&"**/*.j2"), "{globs:?}");
}

#[test]
fn settings_come_from_workspace_configuration() {
    let f = project("//- /bootstrap/templates/app.yaml.j2\npw: #{ password }#\n");
    let t = f.path("bootstrap/templates/app.yaml.j2");
    let opts = ClientOptions { configuration: Some(json!({"preview": {"showSecrets": true}})), ..Default::default() };
    let mut c = f.start_with(opts);
    let md = c.hover_text(&t, (0, 9));
    assert!(md.contains("hunter2"), "{md}");
    // Settings pushed with didChangeConfiguration apply to the next request.
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"homelabLsp": {"preview": {"showSecrets": false}}}}));
    let md = c.hover_text(&t, (0, 9));
    assert!(md.contains("••••••••") && !md.contains("hunter2"), "{md}");
    // A rule turned off in the settings is not published.
    let f2 = project("//- /bootstrap/templates/app.yaml.j2\nname: #{ cluster_nam }#\n");
    let t2 = f2.path("bootstrap/templates/app.yaml.j2");
    let c2 = f2.start_with(ClientOptions {
        configuration: Some(json!({"diagnostics": {"rules": {"undefined-variable": "off"}}})),
        ..Default::default()
    });
    let c3 = f2.start();
    c3.wait_diagnostics(&uri(&t2), |d| d.iter().any(|x| x["code"] == "undefined-variable"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(c2.latest_diagnostics(&uri(&t2)).iter().all(|x| x["code"] != "undefined-variable"));
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        note: "😀 é" #{ bootstrap_cloudflare.do$0 }#
        "##,
    );
    let mut c = f.start_with(ClientOptions { utf8: true, ..Default::default() });
    assert_eq!(c.initialize_result["capabilities"]["positionEncoding"], "utf-8");
    let (p, _) = f.cursor();
    let text = f.text("bootstrap/templates/app.yaml.j2");
    let byte_col = f.cursor.as_ref().unwrap().1 as u32;
    let items = c.completion(&p, (0, byte_col));
    assert_eq!(labels(&items), vec!["domain"]);
    assert_eq!(range_tuple(&item(&items, "domain")["textEdit"]["range"]), (0, byte_col as u64 - 2, 0, byte_col as u64));
    assert_eq!(&text[byte_col as usize - 2..byte_col as usize], "do");
}

#[test]
fn incremental_utf16_edits_are_applied_in_order() {
    let f = project("//- /bootstrap/templates/app.yaml.j2\nnote: 😀 #{ cluster_name }#\n");
    let p = f.path("bootstrap/templates/app.yaml.j2");
    let mut c = f.start();
    c.did_open(&p, f.text("bootstrap/templates/app.yaml.j2"));
    // Insert after the emoji and its space (UTF-16 column 9), then replace `cluster_name` by `nodes[0].name`.
    let change = |c: &mut Client, v: i32, range: (u32, u32, u32, u32), text: &str| {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(&p), "version": v}, "contentChanges": [{"range": {"start": {"line": range.0, "character": range.1}, "end": {"line": range.2, "character": range.3}}, "text": text}]}),
        );
    };
    change(&mut c, 2, (0, 9, 0, 9), "é ");
    change(&mut c, 3, (0, 14, 0, 26), "nodes[0].name");
    let preview = c.ok("homelab/renderedPreview", json!({"uri": uri(&p)}));
    assert_eq!(preview["text"], "note: 😀 é k8s-0\n");
    let md = c.hover_text(&p, (0, 24));
    assert!(md.starts_with("`nodes.0.name`\n\n```yaml\nk8s-0\n```\n\nDefined in `config.yaml` line 6"), "{md}");
}

#[test]
fn no_completion_outside_tags_or_in_comments() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        plain: text here
        #| a comment #|
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    assert!(c.completion(&p, f.pos(t, "text")).is_empty());
    assert!(c.completion(&p, f.find(t, "comment", 0, 3)).is_empty());
    // Data files and other files get no template completion either.
    assert!(c.completion(&f.path("config.yaml"), (0, 3)).is_empty());
}

#[test]
fn undefined_variable_quick_fix_adds_the_key_to_the_data_file() {
    let f = project("//- /bootstrap/templates/app.yaml.j2\nname: #{ new_key }#\n");
    let t = f.path("bootstrap/templates/app.yaml.j2");
    let mut c = f.start();
    let diags = c.wait_diagnostics(&uri(&t), |d| d.iter().any(|x| x["code"] == "undefined-variable"));
    let d = diags.iter().find(|x| x["code"] == "undefined-variable").unwrap().clone();
    let actions =
        c.ok("textDocument/codeAction", json!({"textDocument": {"uri": uri(&t)}, "range": d["range"], "context": {"diagnostics": [d]}}));
    let actions = actions.as_array().unwrap();
    let add = actions.iter().find(|a| a["title"] == "Add 'new_key' to config.yaml").unwrap_or_else(|| panic!("{actions:#?}"));
    let edits = &add["edit"]["changes"][uri(&f.path("config.yaml"))];
    assert_eq!(edits[0]["newText"], "new_key: \"\"\n");
    let end = position(f.text("config.yaml"), f.text("config.yaml").len());
    assert_eq!(range_tuple(&edits[0]["range"]), (end.0 as u64, end.1 as u64, end.0 as u64, end.1 as u64));
    let suppress = actions.iter().find(|a| a["title"] == "Suppress undefined-variable on this line").unwrap();
    assert_eq!(suppress["edit"]["changes"][uri(&t)][0]["newText"], "#| homelab-lsp: ignore[undefined-variable] #|\n");
}

#[test]
fn hover_on_a_generated_file_names_its_template_line() {
    let f = project(
        r##"
        //- /bootstrap/templates/kubernetes/app.yaml.j2
        a: 1
        name: #{ cluster_name }#
        //- /kubernetes/app.yaml
        a: 1
        name: home
        "##,
    );
    let mut c = f.start();
    let md = c.hover_text(&f.path("kubernetes/app.yaml"), (1, 2));
    assert_eq!(
        md,
        "**Generated by makejinja** from `bootstrap/templates/kubernetes/app.yaml.j2` — this line comes from `bootstrap/templates/kubernetes/app.yaml.j2` line 2.\n\nEdit the template instead: `task configure` overwrites this file."
    );
}

#[test]
fn a_workspace_folder_added_at_runtime_is_indexed() {
    let one = project("//- /bootstrap/templates/app.yaml.j2\nname: #{ cluster_name }#\n");
    let two = Fixture::project("//- /config.yaml\ncluster_name: second\n//- /bootstrap/templates/app.yaml.j2\nname: #{ cluster_name }#\n");
    let t = "bootstrap/templates/app.yaml.j2";
    let mut c = one.start();
    assert_eq!(c.hover(&two.path(t), (0, 10)), Value::Null);
    c.notify("workspace/didChangeWorkspaceFolders", json!({"event": {"added": [{"uri": uri(&two.root), "name": "two"}], "removed": []}}));
    c.wait_indexed();
    let md = c.hover_text(&two.path(t), (0, 10));
    assert!(md.contains("second"), "{md}");
    c.notify("workspace/didChangeWorkspaceFolders", json!({"event": {"added": [], "removed": [{"uri": uri(&one.root), "name": "one"}]}}));
    c.wait_indexed();
    assert_eq!(c.hover(&one.path(t), (0, 10)), Value::Null);
    assert!(c.hover_text(&two.path(t), (0, 10)).contains("second"));
}

#[test]
fn a_minimal_client_that_never_answers_server_requests_still_gets_answers() {
    // No capabilities declared: the server must not wait on requests the client never
    // promised to answer (configuration, watcher registration, progress).
    let f = project("//- /bootstrap/templates/app.yaml.j2\nname: #{ cluster_name }#\n");
    let opts = ClientOptions { folders: vec![f.root.clone()], minimal: true, ..Default::default() };
    let mut c = Client::spawn(&opts);
    c.initialize(&opts);
    let h = c.request_timeout(
        "textDocument/hover",
        Client::pos_params(&f.path("bootstrap/templates/app.yaml.j2"), (0, 10)),
        std::time::Duration::from_secs(20),
    );
    let md = h.expect("hover")["contents"]["value"].as_str().unwrap_or_default().to_string();
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nhome\n```"), "{md}");
    assert!(c.server_requests().is_empty(), "{:?}", c.server_requests());
}

#[test]
fn pipelined_requests_after_a_data_edit_all_see_the_edit() {
    let f = project("//- /bootstrap/templates/app.yaml.j2\nname: #{ cluster_name }#\n");
    let t = f.path("bootstrap/templates/app.yaml.j2");
    let data = f.path("config.yaml");
    let mut c = f.start();
    c.did_open(&data, f.text("config.yaml"));
    c.did_change_full(&data, 2, &f.text("config.yaml").replace("cluster_name: home", "cluster_name: piped"));
    // More requests than the server runs at once, all sent before any answer.
    let mut reqs = Vec::new();
    for _ in 0..12 {
        reqs.push(("textDocument/hover", Client::pos_params(&t, (0, 10))));
        reqs.push(("homelab/renderedPreview", json!({"uri": uri(&t)})));
    }
    for (i, r) in c.request_many(&reqs).into_iter().enumerate() {
        let v = r.unwrap_or_else(|e| panic!("request {i}: {e}"));
        if i % 2 == 0 {
            assert!(v["contents"]["value"].as_str().unwrap().starts_with("`cluster_name`\n\n```yaml\npiped\n```"), "{v}");
        } else {
            assert_eq!(v["text"], "name: piped\n");
        }
    }
}

#[test]
fn hover_on_a_data_key_shows_its_value_and_uses() {
    let f = project(RENAME_FIXTURE);
    let mut c = f.start();
    let data = f.path("config.yaml");
    let h = c.hover(&data, f.pos("config.yaml", "domain"));
    assert_eq!(h["contents"]["value"], "`bootstrap_cloudflare.domain`\n\n```yaml\nexample.com\n```\n\nUsed 4 times in templates.");
    assert_eq!(range_tuple(&h["range"]), (2, 2, 2, 8));
    let md = c.hover_text(&data, f.pos("config.yaml", "api_token"));
    assert!(md.contains("••••••••") && !md.contains("abcdef123456") && md.ends_with("Used 1 time in templates."), "{md}");
}

#[test]
fn rename_to_an_existing_sibling_key_is_refused() {
    let f = project(RENAME_FIXTURE);
    let mut c = f.start();
    let at = json!({"textDocument": {"uri": uri(&f.path("bootstrap/templates/a.yaml.j2"))}, "position": {"line": 0, "character": 34}, "newName": "api_token"});
    let err = c.request("textDocument/rename", at).expect_err("a rename onto an existing key must fail");
    assert!(err["message"].as_str().unwrap().contains("already"), "{err}");
    // Top level too.
    let at = json!({"textDocument": {"uri": uri(&f.path("config.yaml"))}, "position": {"line": 0, "character": 2}, "newName": "password"});
    assert!(c.request("textDocument/rename", at).is_err());
}

#[test]
fn several_data_files_and_toml_data_answer_from_the_right_file() {
    let f = Fixture::new(
        r##"
        //- /makejinja.toml
        [makejinja]
        inputs = ["./templates/config"]
        output = "./"
        data = ["./cluster.yaml", "./nodes.yaml", "./extra.toml"]
        jinja_suffix = ".j2"
        undefined = "chainable"

        [makejinja.delimiter]
        block_start = "#%"
        block_end = "%#"
        comment_start = "#|"
        comment_end = "#|"
        variable_start = "#{"
        variable_end = "}#"
        //- /cluster.yaml
        cluster_name: base
        node_cidr: 10.0.0.0/24
        //- /nodes.yaml
        # nodes live here
        nodes:
          - name: a
        cluster_name: override
        //- /extra.toml
        [talos]
        version = "v1.9.0"
        //- /templates/config/app.yaml.j2
        name: #{ cluster_name }#
        cidr: #{ node_cidr }#
        first: #{ nodes[0].name }#
        talos: #{ talos.version }#
        "##,
    );
    let t = "templates/config/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    // The later data file wins, and is where the key is defined.
    let md = c.hover_text(&p, f.pos(t, "cluster_name"));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\noverride\n```\n\nDefined in `nodes.yaml` line 4"), "{md}");
    let locs = c.definition(&p, f.pos(t, "cluster_name"));
    assert_eq!((locs[0]["uri"].clone(), range_tuple(&locs[0]["range"])), (json!(uri(&f.path("nodes.yaml"))), (3, 0, 3, 12)));
    let locs = c.definition(&p, f.pos(t, "node_cidr"));
    assert_eq!((locs[0]["uri"].clone(), range_tuple(&locs[0]["range"])), (json!(uri(&f.path("cluster.yaml"))), (1, 0, 1, 9)));
    let locs = c.definition(&p, f.find(t, "version", 0, 1));
    assert_eq!((locs[0]["uri"].clone(), range_tuple(&locs[0]["range"])), (json!(uri(&f.path("extra.toml"))), (1, 0, 1, 7)));
    let md = c.hover_text(&p, f.find(t, "version", 0, 1));
    assert!(md.starts_with("`talos.version`\n\n```yaml\nv1.9.0\n```\n\nDefined in `extra.toml` line 2"), "{md}");
    let items = c.completion(&p, f.pos(t, "cluster_name"));
    assert_eq!(detail(&items, "cluster_name"), "'override' — nodes.yaml:4");
    assert_eq!(detail(&items, "talos"), "dict (1 keys) — extra.toml:1");
    let preview = c.ok("homelab/renderedPreview", json!({"uri": uri(&p)}));
    assert_eq!(preview["text"], "name: override\ncidr: 10.0.0.0/24\nfirst: a\ntalos: v1.9.0\n");
}
