//! Flux sources: `unknown-source-ref`.

use super::facts::DocInfo;
use super::{is_plain_name, Ctx, Severity, SourceDef};

const SOURCE_KINDS: [&str; 4] = ["HelmRepository", "OCIRepository", "GitRepository", "Bucket"];

pub(crate) fn check(cx: &mut Ctx<'_>, info: &DocInfo<'_>) {
    if !cx.opts.check_references || !info.is_helm_release() {
        return;
    }
    let doc = info.doc;
    let Some(spec) = doc.get(info.root, "spec") else { return };
    let refs = [doc.path(spec, &["chart", "spec", "sourceRef"]), doc.get(spec, "chartRef")];
    for r in refs.into_iter().flatten() {
        let kind = doc.path_str(r, &["kind"]).filter(|k| !k.is_empty());
        // `chartRef` may name a HelmChart, which the index does not track.
        if kind.is_some_and(|k| !SOURCE_KINDS.contains(&k)) {
            continue;
        }
        let Some(name_node) = doc.get(r, "name") else { continue };
        let Some(name) = doc.scalar(name_node).filter(|n| is_plain_name(n)) else { continue };
        let namespace = doc.path_str(r, &["namespace"]).filter(|n| !n.is_empty());
        if namespace.is_some_and(|n| !is_plain_name(n)) {
            continue;
        }
        let matches = |s: &&SourceDef| {
            kind.is_none_or(|k| s.kind == k)
                && s.name == name
                && match (namespace, s.namespace.as_deref()) {
                    (Some(want), Some(have)) => want == have,
                    _ => true,
                }
        };
        if cx.known.sources_named(name).any(|s| matches(&s)) {
            continue;
        }
        let what = kind.unwrap_or("source");
        let target = match namespace {
            Some(ns) => format!("{what} `{name}` in namespace `{ns}`"),
            None => format!("{what} `{name}`"),
        };
        let mut known: Vec<String> = cx
            .known
            .sources()
            .filter(|s| kind.is_none_or(|k| s.kind == k))
            .map(|s| match &s.namespace {
                Some(ns) => format!("{} ({ns})", s.name),
                None => s.name.clone(),
            })
            .collect();
        known.dedup();
        let listed = if known.is_empty() {
            format!("no {what} is defined in the repository")
        } else {
            known.truncate(12);
            format!("known: {}", known.join(", "))
        };
        cx.push(
            "unknown-source-ref",
            Severity::Error,
            doc.range(name_node),
            format!("{target} is not defined in the repository; {listed}"),
            Vec::new(),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::yaml::testutil::*;
    use crate::yaml::{check, CheckOptions, RepoIndex, Severity};
    use std::path::Path;

    const HR: &str = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  chart:
    spec:
      chart: app-template
      version: 3.7.3
      sourceRef:
        kind: HelmRepository
        name: bjw-s
        namespace: flux-system
  values: {}
"#;

    #[test]
    fn known_sources_are_fine() {
        expect_none(&run(HR), "unknown-source-ref");
        expect_none(&run(APP_HR), "unknown-source-ref");
        let no_ns = HR.replace("        namespace: flux-system\n", "");
        expect_none(&run(&no_ns), "unknown-source-ref");
    }

    #[test]
    fn unknown_helm_repository() {
        let text = HR.replace("name: bjw-s", "name: bjw-s-charts");
        let f = expect_one(&text, &run(&text), "unknown-source-ref", Severity::Error, (11, 14));
        assert_eq!(covered(&text, &f), "bjw-s-charts");
        assert_eq!(
            f.message,
            "HelmRepository `bjw-s-charts` in namespace `flux-system` is not defined in the repository; known: bjw-s (flux-system)"
        );
        let opts = CheckOptions { check_references: false, yaml_syntax: true };
        expect_none(&check(&text, Path::new(FILE), &repo(), &opts), "unknown-source-ref");
    }

    #[test]
    fn wrong_kind_or_namespace() {
        let text = HR.replace("kind: HelmRepository", "kind: GitRepository");
        expect_one(&text, &run(&text), "unknown-source-ref", Severity::Error, (11, 14));
        let text = HR.replace("namespace: flux-system", "namespace: default");
        expect_one(&text, &run(&text), "unknown-source-ref", Severity::Error, (11, 14));
    }

    #[test]
    fn chart_ref_to_oci_repository() {
        let text = APP_HR.replace("name: app-template", "name: app-templte");
        let f = expect_one(&text, &run(&text), "unknown-source-ref", Severity::Error, (9, 10));
        assert!(f.message.starts_with("OCIRepository `app-templte`"), "{}", f.message);
        let helm_chart = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: a}\nspec:\n  chartRef: {kind: HelmChart, name: whatever}\n";
        expect_none(&check(helm_chart, Path::new("a.yaml"), &RepoIndex::default(), &CheckOptions::default()), "unknown-source-ref");
    }
}
