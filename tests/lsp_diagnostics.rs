//! Diagnostics the server publishes, and how it copes with bad input: unknown files,
//! positions past the end, a broken makejinja.toml or data file while running, files that
//! are not UTF-8.

mod lsp;
mod support;

use lsp::*;
use serde_json::{json, Value};

const DATA: &str = r##"
    //- /config.yaml
    cluster_name: home
    bootstrap_cloudflare:
      domain: example.com
    nodes:
      - name: k8s-0
        address: 192.168.1.10
"##;

fn project(templates: &str) -> Fixture {
    Fixture::project(&format!("{DATA}\n{templates}"))
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags.iter().filter_map(|d| d["code"].as_str().map(str::to_string)).collect()
}

fn with_code<'a>(diags: &'a [Value], code: &str) -> &'a Value {
    diags.iter().find(|d| d["code"] == code).unwrap_or_else(|| panic!("no {code} diagnostic in {diags:#?}"))
}

fn has(code: &'static str) -> impl Fn(&[Value]) -> bool {
    move |d: &[Value]| d.iter().any(|x| x["code"] == code)
}

// ---------------------------------------------------------------- diagnostics

#[test]
fn template_syntax_errors_are_reported_at_their_position() {
    let f = project(
        r##"
        //- /bootstrap/templates/unterminated.yaml.j2
        a: 1
        b: #{ cluster_name
        //- /bootstrap/templates/badfor.yaml.j2
        a: 1
        #% for x in %#
        #% endfor %#
        "##,
    );
    let c = f.start();
    let d = c.wait_diagnostics(&uri(&f.path("bootstrap/templates/unterminated.yaml.j2")), has("template-syntax"));
    let first = with_code(&d, "template-syntax");
    assert_eq!(range_tuple(&first["range"]), (1, 3, 1, 5), "at the `#{{` that is never closed: {d:#?}");
    assert_eq!(first["message"], "unterminated tag: the end delimiter is missing");
    assert_eq!(first["severity"], 1);
    let d = c.wait_diagnostics(&uri(&f.path("bootstrap/templates/badfor.yaml.j2")), has("template-syntax"));
    let e = with_code(&d, "template-syntax");
    assert_eq!(range_tuple(&e["range"]), (1, 12, 1, 14), "{d:#?}");
    assert!(e["message"].as_str().unwrap().contains("syntax error"), "{e}");
}

#[test]
fn syntax_errors_typed_into_an_open_template_come_and_go() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        "##,
    );
    let p = f.path("bootstrap/templates/app.yaml.j2");
    let mut c = f.start();
    c.did_open(&p, f.text("bootstrap/templates/app.yaml.j2"));
    c.did_change_full(&p, 2, "name: #{ cluster_name }#\nx: #% if %#\n");
    let d = c.wait_diagnostics(&uri(&p), has("template-syntax"));
    assert_eq!(with_code(&d, "template-syntax")["range"]["start"]["line"], 1);
    c.did_change_full(&p, 3, "name: #{ cluster_name }#\n");
    c.wait_diagnostics(&uri(&p), |d| d.is_empty());
}

#[test]
fn a_burst_of_edits_ends_with_the_diagnostics_of_the_last_version() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        "##,
    );
    let p = f.path("bootstrap/templates/app.yaml.j2");
    let u = uri(&p);
    let mut c = f.start();
    c.did_open(&p, f.text("bootstrap/templates/app.yaml.j2"));
    // Forty edits sent back to back, without waiting: odd versions are broken, even ones
    // fine, and the last (41) is broken again on its own line.
    for v in 2..=40 {
        let text = if v % 2 == 1 { format!("name: #{{ cluster_name }}#\nx{v}: #% if %#\n") } else { "name: #{ cluster_name }#\n".into() };
        c.did_change_full(&p, v, &text);
    }
    c.did_change_full(&p, 41, "name: #{ cluster_name }#\n\n\nlast: #% if %#\n");
    let d = c.wait_diagnostics(&u, |d| d.iter().any(|x| x["code"] == "template-syntax" && x["range"]["start"]["line"] == 3));
    assert_eq!(d.len(), 1, "{d:#?}");
    c.wait_quiet(std::time::Duration::from_millis(300));
    let publishes: Vec<Value> = c
        .notifications()
        .into_iter()
        .filter(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == u.as_str())
        .collect();
    let last = publishes.last().expect("published");
    assert_eq!(last["params"]["version"], 41, "nothing older is published after the last version: {last:#?}");
    let versions: Vec<i64> = publishes.iter().filter_map(|n| n["params"]["version"].as_i64()).collect();
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "versions only go forward: {versions:?}");
    assert!(publishes.len() < 40, "a burst is coalesced, not checked once per edit: {} publishes", publishes.len());
}

#[test]
fn plain_yaml_changed_on_disk_is_rechecked_without_reloading_the_project() {
    let f = project(
        r##"
        //- /bootstrap/templates/kubernetes/apps/web/app.yaml.j2
        name: #{ cluster_nam }#
        //- /kubernetes/apps/echo/route.yaml
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: echo
        spec:
          parentRefs:
            - name: internal
              namespace: network
        //- /kubernetes/apps/echo/config.yaml
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: echo
        data:
          mode: fast
        "##,
    );
    let mut c = f.start();
    let route = uri(&f.path("kubernetes/apps/echo/route.yaml"));
    let template = uri(&f.path("bootstrap/templates/kubernetes/apps/web/app.yaml.j2"));
    c.wait_diagnostics(&route, has("unknown-gateway"));
    c.wait_diagnostics(&template, has("undefined-variable"));
    c.wait_quiet(std::time::Duration::from_millis(300));
    let publishes_of = |c: &Client, u: &str| {
        c.notifications().iter().filter(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == u).count()
    };
    let template_publishes = publishes_of(&c, &template);

    // A file that defines nothing changes: only it is re-checked.
    let config = f.path("kubernetes/apps/echo/config.yaml");
    std::fs::write(&config, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: echo\ndata:\n  password: hunter2\n").unwrap();
    c.watched(&[(&config, 2)]);
    c.wait_diagnostics(&uri(&config), has("inline-credential"));
    c.wait_quiet(std::time::Duration::from_millis(300));
    assert_eq!(publishes_of(&c, &template), template_publishes, "the template was not re-checked: nothing it depends on changed");
    // Nothing reads `.github/`: no reload, no re-check.
    let workflow = f.path(".github/workflows/ci.yaml");
    std::fs::create_dir_all(workflow.parent().unwrap()).unwrap();
    std::fs::write(&workflow, "on: push\njobs: {}\n").unwrap();
    c.watched(&[(&workflow, 1)]);
    c.wait_quiet(std::time::Duration::from_millis(300));
    assert_eq!(publishes_of(&c, &template), template_publishes, "a CI workflow changes nothing the project reads");

    // A new Gateway: the route elsewhere now resolves.
    let gateway = f.path("kubernetes/apps/network/gateway.yaml");
    std::fs::create_dir_all(gateway.parent().unwrap()).unwrap();
    std::fs::write(&gateway, support::gateway_yaml("internal", "network")).unwrap();
    c.watched(&[(&gateway, 1)]);
    c.wait_diagnostics(&route, |d| d.is_empty());

    // Renamed, then deleted: the reference is unknown again each time.
    std::fs::write(&gateway, support::gateway_yaml("other", "network")).unwrap();
    c.watched(&[(&gateway, 2)]);
    c.wait_diagnostics(&route, has("unknown-gateway"));
    std::fs::write(&gateway, support::gateway_yaml("internal", "network")).unwrap();
    c.watched(&[(&gateway, 2)]);
    c.wait_diagnostics(&route, |d| d.is_empty());
    std::fs::remove_file(&gateway).unwrap();
    c.watched(&[(&gateway, 3)]);
    let d = c.wait_diagnostics(&route, has("unknown-gateway"));
    assert!(with_code(&d, "unknown-gateway")["message"].as_str().unwrap().contains("internal"), "{d:#?}");
    // The deleted file's own diagnostics (none) and the template's still stand.
    assert!(c.latest_diagnostics(&uri(&gateway)).is_empty());
    assert!(has("undefined-variable")(&c.latest_diagnostics(&template)));
}

#[test]
fn a_burst_of_files_changed_on_disk_rebuilds_the_index_once() {
    let f = project(
        r##"
        //- /kubernetes/apps/echo/route.yaml
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: echo
        spec:
          parentRefs:
            - name: internal
              namespace: network
        "##,
    );
    let mut c = f.start();
    let route = uri(&f.path("kubernetes/apps/echo/route.yaml"));
    c.wait_diagnostics(&route, has("unknown-gateway"));
    // What `task configure` or a branch switch does: many files at once, one of them the
    // Gateway the route needs.
    let mut paths = Vec::new();
    for i in 0..60 {
        let p = f.path(&format!("kubernetes/apps/bulk/cm-{i}.yaml"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n")).unwrap();
        paths.push(p);
    }
    let gateway = f.path("kubernetes/apps/network/gateway.yaml");
    std::fs::create_dir_all(gateway.parent().unwrap()).unwrap();
    std::fs::write(&gateway, support::gateway_yaml("internal", "network")).unwrap();
    paths.push(gateway);
    let changes: Vec<(&std::path::Path, u32)> = paths.iter().map(|p| (p.as_path(), 1)).collect();
    c.watched(&changes);
    c.wait_diagnostics(&route, |d| d.is_empty());
}

#[test]
fn a_repository_without_templates_is_checked_as_you_type() {
    let f = Fixture::new(support::PLAIN_REPO);
    let p = f.path("kubernetes/apps/echo/route.yaml");
    let mut c = f.start();
    c.wait_diagnostics(&uri(&p), has("missing-parent-refs"));
    c.did_open(&p, f.text("kubernetes/apps/echo/route.yaml"));
    let fixed = format!("{}  parentRefs: [{{name: internal}}]\n", f.text("kubernetes/apps/echo/route.yaml"));
    c.did_change_full(&p, 2, &fixed);
    let d = c.wait_diagnostics(&uri(&p), |d| !d.iter().any(|x| x["code"] == "missing-parent-refs"));
    assert!(d.iter().any(|x| x["code"] == "unknown-gateway"), "no Gateway `internal` in the repo: {d:#?}");
}

#[test]
fn undefined_variables_are_reported_with_a_suggestion() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_nam }#
        domain: #{ bootstrap_cloudflare.domian }#
        guarded: #{ maybe | default('x') }#
        "##,
    );
    let c = f.start();
    let t = "bootstrap/templates/app.yaml.j2";
    let d = c.wait_diagnostics(&uri(&f.path(t)), |d| d.iter().filter(|x| x["code"] == "undefined-variable").count() == 2);
    let mut found: Vec<(String, String)> = d
        .iter()
        .filter(|x| x["code"] == "undefined-variable")
        .map(|x| (range_text(f.text(t), &x["range"]).to_string(), x["message"].as_str().unwrap().to_string()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("cluster_nam".to_string(), "'cluster_nam' is not defined in the data; did you mean 'cluster_name'?".to_string()),
            (
                "domian".to_string(),
                "'bootstrap_cloudflare.domian' is not defined in the data; did you mean 'bootstrap_cloudflare.domain'?".to_string()
            ),
        ]
    );
    assert_eq!(with_code(&d, "undefined-variable")["severity"], 2, "a warning under chainable undefined");
}

#[test]
fn an_http_route_without_parent_refs_is_reported_on_the_template_line() {
    let f = project(
        r##"
        //- /bootstrap/templates/kubernetes/apps/web/route.yaml.j2
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: #{ cluster_name }#
        spec:
          hostnames: ["#{ bootstrap_cloudflare.domain }#"]
        //- /bootstrap/templates/kubernetes/apps/web/ok.yaml.j2
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: ok
        spec:
          parentRefs:
            - name: external
              namespace: kube-system
          hostnames: ["#{ bootstrap_cloudflare.domain }#"]
        "##,
    );
    let c = f.start();
    let t = "bootstrap/templates/kubernetes/apps/web/route.yaml.j2";
    let d = c.wait_diagnostics(&uri(&f.path(t)), has("missing-parent-refs"));
    let e = with_code(&d, "missing-parent-refs");
    assert_eq!(range_tuple(&e["range"]), (2, 0, 2, 15));
    assert_eq!(range_text(f.text(t), &e["range"]), "kind: HTTPRoute");
    assert!(e["message"].as_str().unwrap().starts_with("HTTPRoute has no `spec.parentRefs`"), "{e}");
    // The route with parentRefs gets no such diagnostic.
    let ok = c.latest_diagnostics(&uri(&f.path("bootstrap/templates/kubernetes/apps/web/ok.yaml.j2")));
    assert!(!codes(&ok).contains(&"missing-parent-refs".to_string()), "{ok:#?}");
}

#[test]
fn editing_a_generated_file_is_flagged() {
    let f = project(
        r##"
        //- /bootstrap/templates/kubernetes/app.yaml.j2
        name: #{ cluster_name }#
        //- /kubernetes/app.yaml
        name: home
        "##,
    );
    let gen = f.path("kubernetes/app.yaml");
    let mut c = f.start();
    c.did_open(&gen, "name: home\n");
    // Unchanged and in sync with its template: nothing to say.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!codes(&c.latest_diagnostics(&uri(&gen))).contains(&"generated-file".to_string()));
    c.did_change_full(&gen, 2, "name: edited-by-hand\n");
    let d = c.wait_diagnostics(&uri(&gen), has("generated-file"));
    let e = with_code(&d, "generated-file");
    assert_eq!(e["severity"], 2);
    assert_eq!(range_tuple(&e["range"]), (0, 0, 0, 20));
    assert!(e["message"].as_str().unwrap().contains("generated from bootstrap/templates/kubernetes/app.yaml.j2"), "{e}");
    assert_eq!(e["relatedInformation"][0]["location"]["uri"], uri(&f.path("bootstrap/templates/kubernetes/app.yaml.j2")));
}

// ---------------------------------------------------------------- bad input

#[test]
fn unknown_files_and_positions_past_the_end_do_not_break_the_server() {
    let f = project(
        r##"
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        "##,
    );
    let t = f.path("bootstrap/templates/app.yaml.j2");
    let mut c = f.start();
    let missing = f.path("bootstrap/templates/missing.yaml.j2");
    let outside = std::env::temp_dir().join("homelab-lsp-no-such-dir/x.yaml.j2");
    for method in ["textDocument/hover", "textDocument/completion", "textDocument/definition", "textDocument/prepareRename"] {
        for p in [&missing, &outside] {
            // An unknown file is an error or nothing, never a crash.
            match c.request(method, Client::pos_params(p, (0, 0))) {
                Ok(v) => assert!(v.is_null() || v.as_array().is_some_and(|a| a.is_empty()), "{method} on {}: {v}", p.display()),
                Err(e) => assert!(e["message"].as_str().is_some(), "{e}"),
            }
        }
        for pos in [(0, 999), (999, 0), (u32::MAX, u32::MAX)] {
            let r = c.request(method, Client::pos_params(&t, pos));
            assert!(r.is_ok(), "{method} at {pos:?}: {r:?}");
        }
    }
    // Not a file: URI.
    let r =
        c.request("textDocument/hover", json!({"textDocument": {"uri": "untitled:Untitled-1"}, "position": {"line": 0, "character": 0}}));
    assert!(r.is_err() || r.as_ref().is_ok_and(Value::is_null), "{r:?}");
    for method in
        ["textDocument/documentSymbol", "textDocument/foldingRange", "textDocument/documentLink", "textDocument/semanticTokens/full"]
    {
        let r = c.request(method, json!({"textDocument": {"uri": uri(&missing)}}));
        assert!(r.is_ok() || r.is_err(), "{method}");
    }
    for method in ["homelab/renderedPreview", "homelab/generatedFile"] {
        let _ = c.request(method, json!({"uri": uri(&missing)}));
    }
    let _ = c.request("homelab/templateSource", json!({"uri": uri(&t), "line": 99999}));
    // Malformed params are an error response.
    let r = c.request("textDocument/hover", json!({"nonsense": true}));
    assert!(r.is_err(), "{r:?}");
    // Notifications about documents the server never saw are ignored.
    c.did_change_full(&missing, 5, "x");
    c.notify("textDocument/didClose", json!({"textDocument": {"uri": uri(&missing)}}));
    // Edits past the end of an open document clamp.
    c.did_open(&t, "name: #{ cluster_name }#\n");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&t), "version": 2}, "contentChanges": [{"range": {"start": {"line": 50, "character": 3}, "end": {"line": 60, "character": 0}}, "text": "tail: 1\n"}]}),
    );
    // Still alive and answering.
    let md = c.hover_text(&t, (0, 10));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nhome\n```"), "{md}");
    assert_eq!(c.ok("homelab/renderedPreview", json!({"uri": uri(&t)}))["text"], "name: home\ntail: 1\n");
    assert!(c.is_alive());
}

#[test]
fn a_broken_makejinja_toml_is_reported_and_the_server_keeps_working() {
    let f = project(
        r##"
        //- /bootstrap/overrides/.keep
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        "##,
    );
    let t = f.path("bootstrap/templates/app.yaml.j2");
    let cfg = f.path("makejinja.toml");
    let good = f.text("makejinja.toml").to_string();
    let broken = good.replace("data = [\"./config.yaml\"]", "data = [\"./config.yaml\"");
    let mut c = f.start();
    c.did_open(&cfg, &good);
    // Unsaved edit.
    c.did_change_full(&cfg, 2, &broken);
    let d = c.wait_diagnostics(&uri(&cfg), has("config-error"));
    let e = with_code(&d, "config-error");
    assert!(e["message"].as_str().unwrap().starts_with("invalid TOML"), "{e}");
    assert_eq!(e["range"]["start"]["line"], 5, "{e}");
    // The last good project keeps answering.
    let md = c.hover_text(&t, (0, 10));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nhome\n```"), "{md}");
    // Saved to disk: the watcher reports it too.
    std::fs::write(&cfg, &broken).unwrap();
    c.did_save(&cfg);
    c.watched(&[(&cfg, 2)]);
    let md = c.hover_text(&t, (0, 10));
    assert!(md.contains("home"), "{md}");
    assert!(has("config-error")(&c.latest_diagnostics(&uri(&cfg))));
    // Fixed: the error goes away.
    c.did_change_full(&cfg, 3, &good);
    std::fs::write(&cfg, &good).unwrap();
    c.did_save(&cfg);
    c.watched(&[(&cfg, 2)]);
    c.wait_diagnostics(&uri(&cfg), |d| !has("config-error")(d));
    let md = c.hover_text(&t, (0, 10));
    assert!(md.contains("home"), "{md}");

    // A config broken on disk only (never opened), with no good state left to keep.
    drop(c);
    std::fs::write(&cfg, &broken).unwrap();
    let mut c = f.start();
    let d = c.wait_diagnostics(&uri(&cfg), has("config-error"));
    assert_eq!(with_code(&d, "config-error")["range"]["start"]["line"], 5);
    assert_eq!(c.hover(&t, (0, 10)), Value::Null);
    assert!(c.is_alive());
}

#[test]
fn a_data_file_with_a_yaml_error_mid_edit_is_reported_and_hovers_keep_working() {
    let f = project(
        r##"
        //- /bootstrap/overrides/.keep
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        "##,
    );
    let t = f.path("bootstrap/templates/app.yaml.j2");
    let data = f.path("config.yaml");
    let mut c = f.start();
    c.did_open(&data, f.text("config.yaml"));
    c.did_change_full(&data, 2, "cluster_name: home\nbootstrap_cloudflare:\n  domain: [unclosed\nnodes: []\n");
    let d = c.wait_diagnostics(&uri(&data), has("data-error"));
    let e = with_code(&d, "data-error");
    assert_eq!(e["severity"], 1);
    assert_eq!(range_tuple(&e["range"]), (3, 5, 3, 6), "{e}");
    assert_eq!(e["message"], "illegal placement of ':' indicator (using the last valid version of this file meanwhile)");
    // Hovers and completion keep the last valid values meanwhile.
    let md = c.hover_text(&t, (0, 10));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nhome\n```"), "{md}");
    let md = c.hover_text(&data, (0, 2));
    assert!(md.starts_with("`cluster_name`"), "{md}");
    assert!(labels(&c.completion(&t, (0, 9))).contains(&"nodes".to_string()));
    // ... and the templates do not light up with undefined variables.
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert!(!has("undefined-variable")(&c.latest_diagnostics(&uri(&t))), "{:?}", c.latest_diagnostics(&uri(&t)));
    // Broken again by a further edit: still the last valid values.
    c.did_change_full(&data, 3, "cluster_name: home\nbootstrap_cloudflare: [\n");
    let md = c.hover_text(&t, (0, 10));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nhome\n```"), "{md}");
    // Fixed: the diagnostic goes away and values are back.
    c.did_change_full(&data, 4, "cluster_name: fixed\n");
    c.wait_diagnostics(&uri(&data), |d| !has("data-error")(d));
    let md = c.hover_text(&t, (0, 10));
    assert!(md.starts_with("`cluster_name`\n\n```yaml\nfixed\n```"), "{md}");
}

#[test]
fn a_template_that_is_not_utf8_does_not_crash_the_server() {
    let f = project(
        r##"
        //- /bootstrap/overrides/.keep
        //- /bootstrap/templates/app.yaml.j2
        name: #{ cluster_name }#
        "##,
    );
    let bad = f.path("bootstrap/templates/latin1.yaml.j2");
    std::fs::write(&bad, b"name: caf\xe9 #{ cluster_name }#\n\xff\xfe\n").unwrap();
    let t = f.path("bootstrap/templates/app.yaml.j2");
    let mut c = f.start();
    for method in ["textDocument/hover", "textDocument/completion", "textDocument/definition"] {
        let _ = c.request(method, Client::pos_params(&bad, (0, 14)));
    }
    let _ = c.request("homelab/renderedPreview", json!({"uri": uri(&bad)}));
    let _ = c.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": uri(&bad)}}));
    // Another one appears while running.
    let bad2 = f.path("bootstrap/templates/bin.yaml.j2");
    std::fs::write(&bad2, [0xc3u8, 0x28, 0xa0, 0xa1, b'\n']).unwrap();
    c.watched(&[(&bad2, 1)]);
    let _ = c.request("textDocument/hover", Client::pos_params(&bad2, (0, 1)));
    let md = c.hover_text(&t, (0, 10));
    assert!(md.contains("home"), "{md}");
    assert!(c.is_alive());
    // Each says why at the top of the file.
    for (p, msg) in [(&bad, "not valid UTF-8: byte 0xe9 at line 1, column 10"), (&bad2, "not valid UTF-8: byte 0xc3 at line 1, column 1")] {
        let d = c.wait_diagnostics(&uri(p), has("render-error"));
        let e = with_code(&d, "render-error");
        assert_eq!(range_tuple(&e["range"]), (0, 0, 0, 0));
        assert_eq!(e["message"], format!("cannot read this template: {msg}"));
    }
}

#[test]
fn non_ascii_text_inside_tags_does_not_crash_requests() {
    // Once a lexer panic: byte-wise scanning sliced `café` in the middle of `é`.
    let f = project(
        r##"
        //- /bootstrap/overrides/.keep
        //- /bootstrap/templates/app.yaml.j2
        a: #{ café }# — 😀
        b: #{ cluster_name ~ "é" }#
        "##,
    );
    let t = "bootstrap/templates/app.yaml.j2";
    let p = f.path(t);
    let mut c = f.start();
    let h = c.hover_text(&p, f.find(t, "café", 0, 1));
    assert!(h.starts_with("`café` is **not defined** in the data"), "{h}");
    let h = c.hover_text(&p, f.find(t, "cluster_name", 0, 1));
    assert!(h.starts_with("`cluster_name`\n\n```yaml\nhome\n```"), "{h}");
    let tokens = c.ok("textDocument/semanticTokens/full", json!({"textDocument": {"uri": uri(&p)}}));
    assert!(!tokens["data"].as_array().unwrap().is_empty());
    // Diagnostics run over it too (minijinja, unlike Jinja2, rejects the non-ASCII
    // identifier: a known difference, not asserted here).
    c.wait_diagnostics(&uri(&p), |_| true);
    assert!(c.is_alive());
}

/// Found by the long fuzz run (seed 2030, round 57): the `data-missing` notice named the key
/// files the templates call for as the last project load read them, an editor's unsaved
/// template text included, while a template edit does not load the project again. After a
/// template edit then a data edit, the notice differed from a fresh server's on the same
/// state. It reads the templates from disk now.
#[test]
fn the_key_file_notice_does_not_depend_on_unsaved_template_edits() {
    let f = Fixture::new(&format!(
        "//- /makejinja.toml\n[makejinja]\ninputs = [\"./templates\"]\noutput = \"./\"\ndata = [\"./cluster.yaml\"]\n\
         jinja_suffix = \".j2\"\nloaders = [\"plugin:Plugin\"]\n{}\
         //- /cluster.yaml\ndomain: example.com\n//- /templates/kubernetes/sops.yaml.j2\nkey: #{{ age_key('public') }}#\n",
        support::HASH_DELIMS
    ));
    let config = f.path("makejinja.toml");
    let notice = |d: &[Value]| d.iter().any(|x| x["code"] == "data-missing" && x["message"].as_str().unwrap_or("").starts_with("age.key"));
    let mut c = f.start();
    c.wait_diagnostics(&uri(&config), notice);
    // The template stops calling the function in the editor (unsaved), then the data changes
    // in the editor, which loads the project again.
    let template = f.path("templates/kubernetes/sops.yaml.j2");
    c.did_open(&template, "key: #{ age_key('public') }#\n");
    c.did_change_full(&template, 2, "key: none\n");
    c.did_open(&f.path("cluster.yaml"), "domain: example.org\n");
    c.wait_quiet(std::time::Duration::from_millis(1500));
    let diags = c.latest_diagnostics(&uri(&config));
    assert!(notice(&diags), "the notice follows the file on disk, as a fresh server's does: {diags:?}");
}
