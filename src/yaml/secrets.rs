//! Secrets: `plaintext-secret` and `unknown-secret-ref`.

use std::collections::HashSet;

use super::facts::DocInfo;
use super::tree::{Document, NodeId, NodeKind, MAX_DEPTH};
use super::{is_plain_name, is_reference_value, Ctx, Severity};

pub(crate) fn check(cx: &mut Ctx<'_>, info: &DocInfo<'_>) {
    plaintext_secret(cx, info);
    if cx.opts.check_references {
        unknown_secret_refs(cx, info);
    }
}

/// Whether the file name says SOPS will encrypt it (`*.sops.yaml`, also as a template).
pub fn is_sops_file_name(file: &std::path::Path) -> bool {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".j2").unwrap_or(name);
    name.ends_with(".sops.yaml") || name.ends_with(".sops.yml")
}

/// The advice of a `*.sops.yaml` Secret found unencrypted on disk (see [`NOT_YET_ENCRYPTED`]'s
/// use in `check`, which knows whether git tracks the file).
pub const NOT_YET_ENCRYPTED: &str = "encrypt this file with SOPS before committing";

fn plaintext_secret(cx: &mut Ctx<'_>, info: &DocInfo<'_>) {
    if info.kind != "Secret" || !info.in_group("v1") || info.encrypted {
        return;
    }
    let doc = info.doc;
    for field in ["data", "stringData"] {
        let Some((key, value)) = doc.entry(info.root, field) else { continue };
        // Only literal values leak; `${VAR}`, templates and ciphertext do not.
        let literal =
            doc.entries(value).iter().any(|&(_, v)| doc.scalar(v).is_some_and(|s| !s.trim().is_empty() && !is_reference_value(s)));
        if !literal {
            continue;
        }
        let name = info.name.unwrap_or("?");
        if is_sops_file_name(cx.file) {
            cx.push(
                "plaintext-secret",
                Severity::Warning,
                doc.range(key),
                format!("Secret `{name}` is not encrypted yet: {NOT_YET_ENCRYPTED}"),
                Vec::new(),
            );
        } else {
            cx.push(
                "plaintext-secret",
                Severity::Error,
                doc.range(key),
                format!(
                    "Secret `{name}` holds `{field}` in plain text: encrypt it with SOPS (name the file `*.sops.yaml`) or use an ExternalSecret"
                ),
                Vec::new(),
            );
        }
    }
}

fn unknown_secret_refs(cx: &mut Ctx<'_>, info: &DocInfo<'_>) {
    let doc = info.doc;
    let mut refs: Vec<NodeId> = Vec::new();
    collect_refs(doc, info.root, 0, &mut refs);

    // `kind: Secret` entries of Flux lists: HelmRelease valuesFrom, Kustomization substituteFrom.
    let list = if info.is_helm_release() {
        doc.path(info.root, &["spec", "valuesFrom"])
    } else if info.kind == "Kustomization" && info.in_group("kustomize.toolkit.fluxcd.io") {
        doc.path(info.root, &["spec", "postBuild", "substituteFrom"])
    } else {
        None
    };
    // Flux reads these before the chart is installed, so no chart can be what creates them.
    let mut read_first: HashSet<NodeId> = HashSet::new();
    if let Some(list) = list {
        for &item in doc.items(list) {
            if doc.path_str(item, &["kind"]) == Some("Secret") && !optional(doc, item) {
                refs.extend(doc.get(item, "name"));
                read_first.extend(doc.get(item, "name"));
            }
        }
    }

    let mut seen = HashSet::new();
    for name_node in refs {
        if !seen.insert(name_node) {
            continue;
        }
        let Some(name) = doc.scalar(name_node) else { continue };
        let known = if read_first.contains(&name_node) { cx.known.has_secret_before_install(name) } else { cx.known.has_secret(name) };
        if !is_plain_name(name) || known {
            continue;
        }
        cx.push(
            "unknown-secret-ref",
            Severity::Warning,
            doc.range(name_node),
            format!(
                "Secret `{name}` is not defined in the repository (no Secret, ExternalSecret, Certificate, secretGenerator or `kubectl create secret` in a script creates it)"
            ),
            Vec::new(),
        );
    }
}

fn optional(doc: &Document, map: NodeId) -> bool {
    matches!(doc.path_str(map, &["optional"]), Some("true" | "True" | "TRUE"))
}

/// `name` nodes of `secretKeyRef:` and `secretRef:` mappings anywhere below `id`.
fn collect_refs(doc: &Document, id: NodeId, depth: usize, out: &mut Vec<NodeId>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(node) = doc.node(id) else { return };
    match &node.kind {
        NodeKind::Mapping { entries, .. } => {
            for &(k, v) in entries {
                if matches!(doc.scalar(k), Some("secretKeyRef" | "secretRef")) && doc.is_mapping(v) && !optional(doc, v) {
                    if let Some(name) = doc.get(v, "name") {
                        out.push(name);
                    }
                }
                collect_refs(doc, v, depth + 1, out);
            }
        }
        NodeKind::Sequence { items, .. } => {
            for &i in items {
                collect_refs(doc, i, depth + 1, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::yaml::testutil::*;
    use crate::yaml::{check, CheckOptions, Severity};
    use std::path::Path;

    const PLAIN: &str =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: hunter2\ndata:\n  user: YWRtaW4=\n";

    #[test]
    fn plaintext_secret_is_an_error() {
        let findings = run_in(PLAIN, "kubernetes/apps/db/secret.yaml");
        let of = only(&findings, "plaintext-secret");
        assert_eq!(of.len(), 2);
        assert_eq!((start(PLAIN, &of[0]), of[0].severity), ((5, 0), Severity::Error));
        assert_eq!(covered(PLAIN, &of[0]), "stringData");
        assert_eq!((start(PLAIN, &of[1]), of[1].severity), ((7, 0), Severity::Error));
        // The credential-name rule leaves Secret documents to this rule.
        expect_none(&findings, "inline-credential");
    }

    #[test]
    fn unencrypted_sops_file_is_a_warning() {
        let text = PLAIN.replace("data:\n  user: YWRtaW4=\n", "");
        let findings = run_in(&text, "kubernetes/apps/db/secret.sops.yaml");
        let f = expect_one(&text, &findings, "plaintext-secret", Severity::Warning, (5, 0));
        assert!(f.message.contains("encrypt"), "{}", f.message);
        let findings = run_in(&text, "templates/config/kubernetes/apps/db/secret.sops.yaml.j2");
        expect_one(&text, &findings, "plaintext-secret", Severity::Warning, (5, 0));
    }

    #[test]
    fn encrypted_or_referencing_secrets_are_fine() {
        expect_none(&run_in(SOPS_SECRET, "kubernetes/flux/cluster-secrets.sops.yaml"), "plaintext-secret");
        expect_none(&run_in(SOPS_SECRET, "kubernetes/flux/cluster-secrets.yaml"), "plaintext-secret");
        let subst = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  token: ${SECRET_TOKEN}\n  empty: \"\"\n";
        expect_none(&run(subst), "plaintext-secret");
        let empty = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {}\n";
        expect_none(&run(empty), "plaintext-secret");
        // A `sops:` block without ciphertext is not encryption.
        let fake = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: b\nsops:\n  version: 3.8.1\n";
        expect_one(fake, &run(fake), "plaintext-secret", Severity::Error, (3, 0));
    }

    const REFS: &str = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
spec:
  valuesFrom:
    - kind: Secret
      name: app-values
    - kind: ConfigMap
      name: app-config
    - kind: Secret
      name: maybe
      optional: true
  values:
    controllers:
      app:
        containers:
          app:
            env:
              - name: TOKEN
                valueFrom:
                  secretKeyRef:
                    name: echo-secret
                    key: token
              - name: OTHER
                valueFrom:
                  secretKeyRef: {name: missing-secret, key: x}
            envFrom:
              - secretRef:
                  name: cluster-secrets
              - secretRef:
                  name: ${APP}-secret
"#;

    #[test]
    fn unknown_secret_refs_in_helm_release() {
        let findings = run(REFS);
        let of = only(&findings, "unknown-secret-ref");
        assert_eq!(of.len(), 2, "{of:#?}");
        assert_eq!((start(REFS, &of[0]), of[0].severity), ((7, 12), Severity::Warning));
        assert_eq!(covered(REFS, &of[0]), "app-values");
        assert_eq!(start(REFS, &of[1]), (26, 39));
        assert_eq!(covered(REFS, &of[1]), "missing-secret");
        assert!(of[1].message.contains("`missing-secret`"));
        assert!(of[1].related.is_empty());
        let opts = CheckOptions { check_references: false, yaml_syntax: true };
        expect_none(&check(REFS, Path::new(FILE), &repo(), &opts), "unknown-secret-ref");
    }

    #[test]
    fn flux_kustomization_refs() {
        let text = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-settings\n      - kind: Secret\n        name: cluster-secrets\n      - kind: Secret\n        name: cluster-user-secrets\n";
        let findings = run(text);
        let of = only(&findings, "unknown-secret-ref");
        let names: Vec<_> = of.iter().map(|f| covered(text, f)).collect();
        assert_eq!(names, vec!["sops-age", "cluster-user-secrets"]);
        assert_eq!(start(text, &of[0]), (7, 12));
        // Once the index knows the age key Secret, only the other one remains.
        let age = "apiVersion: v1\nkind: Secret\nmetadata: {name: sops-age, namespace: flux-system}\nstringData:\n  age.agekey: ENC[AES256_GCM,data:x,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:y,type:str]\n";
        let mut index = repo();
        index.add(crate::yaml::facts(age, Path::new("bootstrap/sops-age.sops.yaml")));
        let findings = check(text, Path::new(FILE), &index, &CheckOptions::default());
        assert_eq!(only(&findings, "unknown-secret-ref").len(), 1);
    }
}
