//! The Flux model and its rules on small repositories written as strings.

use std::path::{Path, PathBuf};

use crate::yaml::{check, facts, CheckOptions, Finding, RepoIndex};

use super::VarValue;

const ROOT: &str = "/repo";

/// An index of `files` (paths relative to the root).
fn repo(files: &[(&str, &str)]) -> RepoIndex {
    let mut index = RepoIndex::default();
    for (path, text) in files {
        index.add(facts(text, &Path::new(ROOT).join(path)));
    }
    index.flux.set_root(Path::new(ROOT));
    index
}

/// Findings of one of the files, with their code and the text they cover.
fn findings(files: &[(&str, &str)], path: &str) -> Vec<(&'static str, String)> {
    let index = repo(files);
    let text = files.iter().find(|(p, _)| *p == path).map(|(_, t)| *t).expect("file in the fixture");
    let out: Vec<Finding> = check(text, &PathBuf::from(ROOT).join(path), &index, &CheckOptions::default());
    out.into_iter().filter(|f| f.code != "unknown-secret-ref").map(|f| (f.code, text[f.range.start..f.range.end].to_string())).collect()
}

const CLUSTER_APPS: &str = r#"apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  path: ./kubernetes/apps
  sourceRef: {kind: GitRepository, name: flux-system}
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
"#;

const SETTINGS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: flux-system\ndata:\n  TIMEZONE: Europe/Paris\n  APP: from-settings\n";

const SECRETS: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-secrets\n  namespace: flux-system\nstringData:\n  SECRET_DOMAIN: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x,type:str]\n";

const APPS_KUSTOMIZATION: &str =
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./default/echo/ks.yaml\n";

const APP_KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./helmrelease.yaml\n";

fn echo_ks(post_build: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: echo\nspec:\n  path: ./kubernetes/apps/default/echo/app\n  sourceRef: {{kind: GitRepository, name: flux-system}}\n{post_build}"
    )
}

const HR: &str = "kubernetes/apps/default/echo/app/helmrelease.yaml";

/// The onedr0p layout with `cluster-apps` injecting sources, the app's `ks.yaml` and `hr`.
fn layout<'a>(ks: &'a str, hr: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("kubernetes/flux/cluster/ks.yaml", CLUSTER_APPS),
        ("kubernetes/flux/vars/cluster-settings.yaml", SETTINGS),
        ("kubernetes/flux/vars/cluster-secrets.sops.yaml", SECRETS),
        ("kubernetes/apps/kustomization.yaml", APPS_KUSTOMIZATION),
        ("kubernetes/apps/default/echo/ks.yaml", ks),
        ("kubernetes/apps/default/echo/app/kustomization.yaml", APP_KUSTOMIZATION),
        (HR, hr),
    ]
}

fn hr(values: &str) -> String {
    format!("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: echo\nspec:\n  values:\n{values}")
}

#[test]
fn parent_patch_injects_sources_into_a_child_without_post_build() {
    let ks = echo_ks("");
    let hr = hr("    host: echo.${SECRET_DOMAIN}\n    tz: ${TIMEZONE}\n    bad: ${NOT_SET}\n    # ${IN_A_COMMENT}\n");
    assert_eq!(findings(&layout(&ks, &hr), HR), vec![("undefined-substitution", "${NOT_SET}".to_string())]);
    let index = repo(&layout(&ks, &hr));
    let model = index.flux.model();
    let scopes = model.scopes(&Path::new(ROOT).join(HR));
    assert_eq!(scopes.len(), 1);
    let (k, scope) = scopes[0];
    assert_eq!(k.def.name, "echo");
    let domain = scope.get("SECRET_DOMAIN").expect("from the SOPS secret");
    assert_eq!(domain.value, VarValue::Encrypted);
    assert!(domain.file.ends_with("cluster-secrets.sops.yaml"));
    assert_eq!(domain.line, 6);
    assert_eq!(domain.via, "Secret/cluster-secrets");
}

#[test]
fn inline_substitute_wins_over_substitute_from() {
    let ks = echo_ks("  postBuild:\n    substitute:\n      APP: echo\n");
    let hr = hr("    app: ${APP}\n");
    let index = repo(&layout(&ks, &hr));
    let model = index.flux.model();
    let (_, scope) = model.scopes(&Path::new(ROOT).join(HR))[0];
    let app = scope.get("APP").unwrap();
    assert_eq!(app.value, VarValue::Plain("echo".into()));
    assert_eq!(app.via, "postBuild.substitute");
    assert!(app.file.ends_with("echo/ks.yaml"));
}

#[test]
fn defaults_escapes_and_the_disable_annotation() {
    let ks = echo_ks("");
    let hr = hr("    a: ${CAP:=5Gi}\n    b: ${X:-y}\n    c: ${Y-z}\n    d: $${LITERAL}\n    e: $NOT_BRACED\n");
    assert!(findings(&layout(&ks, &hr), HR).is_empty());
    let disabled = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  run.sh: echo ${url}\n";
    assert!(findings(&layout(&ks, disabled), HR).is_empty());
}

#[test]
fn quick_fixes_escape_and_disable() {
    let ks = echo_ks("");
    let hr = hr("    bad: ${NOT_SET}\n");
    let files = layout(&ks, &hr);
    let index = repo(&files);
    let f = check(&hr, &Path::new(ROOT).join(HR), &index, &CheckOptions::default())
        .into_iter()
        .find(|f| f.code == "undefined-substitution")
        .expect("reported");
    let fixed: Vec<String> = f.fixes.iter().map(|x| crate::yaml::edit::apply(&hr, &x.edits)).collect();
    assert!(fixed[0].contains("bad: $${NOT_SET}"), "{}", fixed[0]);
    assert!(
        fixed[1].contains("metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n  name: echo\n"),
        "{}",
        fixed[1]
    );
}

#[test]
fn optional_or_outside_sources_mean_unknown_variables() {
    // The child names its own sources: a ConfigMap the repo does not define (created by
    // something else) or an optional one: its variables cannot be known.
    let cluster_apps_without_patches = CLUSTER_APPS.split("  patches:").next().unwrap().to_string();
    for from in [
        "      - kind: ConfigMap\n        name: made-elsewhere\n",
        "      - kind: ConfigMap\n        name: extra\n        optional: true\n",
    ] {
        let ks = echo_ks(&format!("  postBuild:\n    substitute:\n      APP: echo\n    substituteFrom:\n{from}"));
        let hr = hr("    bad: ${NOT_SET}\n");
        let mut files = layout(&ks, &hr);
        files[0].1 = &cluster_apps_without_patches;
        assert!(findings(&files, HR).is_empty(), "{from}");
    }
}

#[test]
fn no_post_build_or_no_variable_means_no_substitution() {
    let cluster_apps_without_patches = CLUSTER_APPS.split("  patches:").next().unwrap().to_string();
    let hr = hr("    bad: ${NOT_SET}\n");
    // No postBuild at all.
    let ks = echo_ks("");
    let mut files = layout(&ks, &hr);
    files[0].1 = &cluster_apps_without_patches;
    assert!(findings(&files, HR).is_empty());
    // A postBuild whose only source defines no key: Flux has no variable, substitutes nothing.
    let empty = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empty\ndata: {}\n";
    let ks = echo_ks("  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: empty\n");
    let mut files = layout(&ks, &hr);
    files[0].1 = &cluster_apps_without_patches;
    files.push(("kubernetes/flux/vars/empty.yaml", empty));
    assert!(findings(&files, HR).is_empty());
}

#[test]
fn generated_config_maps_are_sources_and_generator_files_are_substituted() {
    let app_k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./helmrelease.yaml\nconfigMapGenerator:\n  - name: app-config\n    files:\n      - config.yaml=./resources/config.yaml\n  - name: quiet\n    files:\n      - ./resources/quiet.yaml\n    options:\n      annotations:\n        kustomize.toolkit.fluxcd.io/substitute: disabled\n";
    let vars_k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n  - name: generated-settings\n    literals:\n      - GENERATED=yes\n";
    let cluster_apps_without_patches = CLUSTER_APPS.split("  patches:").next().unwrap().to_string();
    let ks = echo_ks("  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: generated-settings\n");
    let hr = hr("    ok: ${GENERATED}\n    bad: ${NOT_SET}\n");
    let config = "server:\n  url: ${url}\n";
    let quiet = "server:\n  url: ${url}\n";
    let mut files = layout(&ks, &hr);
    files[0].1 = &cluster_apps_without_patches;
    files[5].1 = app_k;
    files.push(("kubernetes/flux/vars/kustomization.yaml", vars_k));
    files.push(("kubernetes/apps/default/echo/app/resources/config.yaml", config));
    files.push(("kubernetes/apps/default/echo/app/resources/quiet.yaml", quiet));
    assert_eq!(findings(&files, HR), vec![("undefined-substitution", "${NOT_SET}".to_string())]);
    assert_eq!(
        findings(&files, "kubernetes/apps/default/echo/app/resources/config.yaml"),
        vec![("undefined-substitution", "${url}".to_string())]
    );
    assert!(findings(&files, "kubernetes/apps/default/echo/app/resources/quiet.yaml").is_empty());
}

#[test]
fn a_path_without_kustomization_takes_every_yaml_below() {
    let cluster_apps_without_patches = CLUSTER_APPS.split("  patches:").next().unwrap().to_string();
    let ks = echo_ks("  postBuild:\n    substitute:\n      APP: echo\n");
    let hr = hr("    bad: ${NOT_SET}\n");
    let mut files = layout(&ks, &hr);
    files[0].1 = &cluster_apps_without_patches;
    files.remove(5);
    files.push((
        "kubernetes/apps/default/echo/app/deep/more.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\ndata:\n  a: ${ALSO_NOT_SET}\n",
    ));
    assert_eq!(findings(&files, HR), vec![("undefined-substitution", "${NOT_SET}".to_string())]);
    assert_eq!(
        findings(&files, "kubernetes/apps/default/echo/app/deep/more.yaml"),
        vec![("undefined-substitution", "${ALSO_NOT_SET}".to_string())]
    );
}

#[test]
fn missing_resources_paths_and_depends_on() {
    let apps = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./default/echo/ks.yaml\n  - ./gone.yaml\n  - ./gone-dir\n  - https://github.com/x/y//deploy?ref=v1\n  - github.com/fluxcd/flux2/manifests/install?ref=v2.4.0\ncomponents:\n  - ../components/nowhere\n";
    let ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: echo\nspec:\n  dependsOn:\n    - name: cluster-apps\n    - name: not-defined\n    - name: cluster-apps\n      namespace: elsewhere\n  path: ./kubernetes/apps/default/echo/nope\n  sourceRef: {kind: GitRepository, name: flux-system}\n";
    let hr = hr("    a: b\n");
    let mut files = layout(ks, &hr);
    files[3].1 = apps;
    assert_eq!(
        findings(&files, "kubernetes/apps/kustomization.yaml"),
        vec![
            ("missing-kustomize-resource", "./gone.yaml".to_string()),
            ("missing-kustomize-resource", "./gone-dir".to_string()),
            ("missing-kustomize-resource", "../components/nowhere".to_string()),
        ]
    );
    assert_eq!(
        findings(&files, "kubernetes/apps/default/echo/ks.yaml"),
        vec![
            ("unknown-depends-on", "not-defined".to_string()),
            ("unknown-depends-on", "cluster-apps".to_string()),
            ("missing-flux-path", "./kubernetes/apps/default/echo/nope".to_string()),
        ]
    );
}

#[test]
fn unlisted_manifest_only_beside_a_kustomization_flux_builds() {
    let ks = echo_ks("");
    let hr = hr("    a: b\n");
    let stray = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n";
    let values = "replicaCount: 2\n";
    let mut files = layout(&ks, &hr);
    files.push(("kubernetes/apps/default/echo/app/stray.yaml", stray));
    files.push(("kubernetes/apps/default/echo/app/values.yaml", values));
    files.push(("kubernetes/other/kustomization.yaml", APP_KUSTOMIZATION));
    files.push(("kubernetes/other/stray.yaml", stray));
    assert_eq!(findings(&files, "kubernetes/apps/default/echo/app/stray.yaml"), vec![("unlisted-manifest", String::new())]);
    assert!(findings(&files, "kubernetes/apps/default/echo/app/values.yaml").is_empty());
    assert!(findings(&files, "kubernetes/other/stray.yaml").is_empty());
    // Left out on purpose: named in a comment.
    let commented =
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./helmrelease.yaml\n  # - ./stray.yaml\n";
    files[5].1 = commented;
    assert!(findings(&files, "kubernetes/apps/default/echo/app/stray.yaml").is_empty());
}

#[test]
fn json6902_parent_patch_and_label_selector() {
    let parent = r#"apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
spec:
  path: ./kubernetes/apps
  sourceRef: {kind: GitRepository, name: flux-system}
  patches:
    - patch: |
        - op: add
          path: /spec/postBuild
          value:
            substituteFrom:
              - kind: ConfigMap
                name: cluster-settings
      target:
        kind: Kustomization
        labelSelector: substitution.flux/disabled notin (true)
"#;
    let hr = hr("    tz: ${TIMEZONE}\n    bad: ${NOT_SET}\n");
    let ks = echo_ks("");
    let mut files = layout(&ks, &hr);
    files[0].1 = parent;
    assert_eq!(findings(&files, HR), vec![("undefined-substitution", "${NOT_SET}".to_string())]);
    // A child the selector leaves out gets no postBuild: nothing is substituted.
    let labelled = ks.replace("  name: echo\n", "  name: echo\n  labels:\n    substitution.flux/disabled: \"true\"\n");
    let mut files = layout(&labelled, &hr);
    files[0].1 = parent;
    assert!(findings(&files, HR).is_empty());
}
