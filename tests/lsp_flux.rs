//! Flux post-build variables over stdio against the real binary: diagnostics, completion
//! after `${`, hover, definition, references and rename, in hand-written YAML and in a
//! template's literal YAML; hover on `kind:` and document links.

mod lsp;
mod support;

use lsp::*;
use serde_json::json;

/// The onedr0p layout: `cluster-apps` injects the settings ConfigMap and the SOPS secret
/// into every child; `echo` is hand-written, `web` is rendered from a template.
const REPO: &str = r##"
    //- /config.yaml
    cluster_name: home
    //- /kubernetes/flux/cluster/ks.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: cluster-apps
      namespace: flux-system
    spec:
      path: ./kubernetes/apps
      sourceRef:
        kind: GitRepository
        name: flux-system
      patches:
        - patch: |-
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata:
              name: not-used
            spec:
              postBuild:
                substituteFrom:
                  - kind: ConfigMap
                    name: cluster-settings
                  - kind: Secret
                    name: cluster-secrets
          target:
            group: kustomize.toolkit.fluxcd.io
            kind: Kustomization
    //- /kubernetes/flux/vars/cluster-settings.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: cluster-settings
      namespace: flux-system
    data:
      TIMEZONE: Europe/Paris
    //- /kubernetes/flux/vars/cluster-secrets.sops.yaml
    apiVersion: v1
    kind: Secret
    metadata:
      name: cluster-secrets
      namespace: flux-system
    stringData:
      SECRET_DOMAIN: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]
    sops:
      mac: ENC[AES256_GCM,data:x,iv:x,tag:y,type:str]
    //- /kubernetes/apps/kustomization.yaml
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - ./default/echo/ks.yaml
      - ./default/web/ks.yaml
    //- /kubernetes/apps/default/echo/ks.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: echo
    spec:
      path: ./kubernetes/apps/default/echo/app
      sourceRef:
        kind: GitRepository
        name: flux-system
      postBuild:
        substitute:
          APP: echo
    //- /kubernetes/apps/default/echo/app/kustomization.yaml
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - ./helmrelease.yaml
    //- /kubernetes/apps/default/echo/app/helmrelease.yaml
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: ${APP}
    spec:
      values:
        host: echo.${SECRET_DOMAIN}
        tz: ${TIMEZONE}
        bad: ${NOT_SET}
        next: ${
    //- /kubernetes/apps/default/web/ks.yaml
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: web
    spec:
      path: ./kubernetes/apps/default/web/app
      sourceRef:
        kind: GitRepository
        name: flux-system
    //- /bootstrap/templates/kubernetes/apps/default/web/app/helmrelease.yaml.j2
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: web-#{ cluster_name }#
    spec:
      values:
        host: web.${SECRET_DOMAIN}
        bad: ${WEB_NOT_SET}
"##;

const HR: &str = "kubernetes/apps/default/echo/app/helmrelease.yaml";
const TPL: &str = "bootstrap/templates/kubernetes/apps/default/web/app/helmrelease.yaml.j2";

fn codes(diags: &[serde_json::Value]) -> Vec<(String, u64)> {
    diags.iter().map(|d| (d["code"].as_str().unwrap_or("").to_string(), d["range"]["start"]["line"].as_u64().unwrap())).collect()
}

#[test]
fn undefined_substitution_in_yaml_and_in_a_template() {
    let f = Fixture::project(REPO);
    let c = f.start();
    let hr = f.path(HR);
    let got = c.wait_diagnostics(&uri(&hr), |d| d.iter().any(|d| d["code"] == "undefined-substitution"));
    assert_eq!(codes(&got), vec![("undefined-substitution".to_string(), 8)], "{got:?}");
    let d = &got[0];
    assert_eq!(d["severity"], 1);
    assert!(d["message"].as_str().unwrap().contains("'${NOT_SET}' is not defined by Flux Kustomization 'echo'"), "{d}");
    // Through the line map: the template's own line.
    let tpl = f.path(TPL);
    let got = c.wait_diagnostics(&uri(&tpl), |d| d.iter().any(|d| d["code"] == "undefined-substitution"));
    let subst: Vec<_> = codes(&got).into_iter().filter(|(c, _)| c == "undefined-substitution").collect();
    assert_eq!(subst, vec![("undefined-substitution".to_string(), 7)], "{got:?}");
}

#[test]
fn completion_after_dollar_brace_offers_the_variables_in_scope() {
    let f = Fixture::project(REPO);
    let mut c = f.start();
    let hr = f.path(HR);
    c.wait_diagnostics(&uri(&hr), |d| !d.is_empty());
    let at = f.find(HR, "next: ${", 0, "next: ${".len());
    let items = c.completion(&hr, at);
    assert_eq!(labels(&items), vec!["APP", "SECRET_DOMAIN", "TIMEZONE"]);
    assert_eq!(item(&items, "SECRET_DOMAIN")["detail"], "encrypted in cluster-secrets.sops.yaml");
    assert_eq!(item(&items, "TIMEZONE")["detail"], "\"Europe/Paris\"");
    let doc = item(&items, "APP")["documentation"].to_string();
    assert!(doc.contains("postBuild.substitute") && doc.contains("kubernetes/apps/default/echo/ks.yaml"), "{doc}");
    // In a template's literal YAML too.
    let tpl = f.path(TPL);
    let text = f.text(TPL).replace("bad: ${WEB_NOT_SET}", "bad: ${TI");
    c.did_open(&tpl, &text);
    let line = text.lines().position(|l| l.contains("bad: ${TI")).unwrap() as u32;
    let items = c.completion(&tpl, (line, "    bad: ${TI".len() as u32));
    assert_eq!(labels(&items), vec!["TIMEZONE"]);
    assert_eq!(item(&items, "TIMEZONE")["textEdit"]["newText"], "TIMEZONE}");
}

#[test]
fn hover_definition_references_and_rename() {
    let f = Fixture::project(REPO);
    let mut c = f.start();
    let hr = f.path(HR);
    c.wait_diagnostics(&uri(&hr), |d| !d.is_empty());
    let at = f.find(HR, "${SECRET_DOMAIN}", 0, 3);
    let h = c.hover_text(&hr, at);
    assert!(h.contains("encrypted in cluster-secrets.sops.yaml"), "{h}");
    assert!(h.contains("Flux Kustomization `echo`") && h.contains("Secret/cluster-secrets"), "{h}");
    assert!(!h.contains("AES256_GCM"), "{h}");
    let defs = c.definition(&hr, at);
    assert_eq!(defs.len(), 1, "{defs:?}");
    assert!(defs[0]["uri"].as_str().unwrap().ends_with("cluster-secrets.sops.yaml"));
    assert_eq!(defs[0]["range"]["start"]["line"], 6);
    let refs = c.ok(
        "textDocument/references",
        json!({"textDocument": {"uri": uri(&hr)}, "position": {"line": at.0, "character": at.1}, "context": {"includeDeclaration": true}}),
    );
    let mut files: Vec<String> =
        refs.as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap().rsplit('/').next().unwrap().to_string()).collect();
    files.sort();
    assert_eq!(files, vec!["cluster-secrets.sops.yaml", "helmrelease.yaml", "helmrelease.yaml.j2"]);
    // A key of a SOPS file is not renamed behind sops' back.
    let refused = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri(&hr)}, "position": {"line": at.0, "character": at.1}, "newName": "DOMAIN"}),
    );
    assert!(refused.is_err(), "{refused:?}");
    let tz = f.find(HR, "${TIMEZONE}", 0, 3);
    let edit = c.ok(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri(&hr)}, "position": {"line": tz.0, "character": tz.1}, "newName": "TZ"}),
    );
    let changes = edit["changes"].as_object().unwrap();
    let mut files: Vec<&str> = changes.keys().map(|k| k.rsplit('/').next().unwrap()).collect();
    files.sort();
    assert_eq!(files, vec!["cluster-settings.yaml", "helmrelease.yaml"], "{edit}");
    for list in changes.values() {
        assert!(list.as_array().unwrap().iter().all(|e| e["newText"] == "TZ"));
    }
    // `kind:` says which Kustomization applies the file.
    let h = c.hover_text(&hr, f.pos(HR, "kind: HelmRelease"));
    assert!(h.contains("Applied by Flux Kustomization `echo`"), "{h}");
    // Links: resources entries and spec.path.
    let ks = f.path("kubernetes/apps/default/echo/ks.yaml");
    let links = c.ok("textDocument/documentLink", json!({"textDocument": {"uri": uri(&ks)}}));
    let targets: Vec<String> = links.as_array().unwrap().iter().map(|l| l["target"].as_str().unwrap().to_string()).collect();
    assert!(targets.iter().any(|t| t.ends_with("echo/app/kustomization.yaml")), "{targets:?}");
}
