//! Gateway API routes: `missing-parent-refs`, `unknown-gateway`, `tailscale-ingress-class`.

use super::edit::{add_key, add_key_to_empty, replace_value, Skeleton};
use super::facts::DocInfo;
use super::tree::{Document, NodeId};
use super::{is_plain_name, is_reference_value, Ctx, Finding, Fix, GatewayDef, Related, Severity};

const ROUTE_KINDS: [&str; 5] = ["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"];

pub(crate) fn check(cx: &mut Ctx<'_>, info: &DocInfo<'_>) {
    let doc = info.doc;
    if ROUTE_KINDS.contains(&info.kind) && info.in_group("gateway.networking.k8s.io") {
        let spec_entry = doc.entry(info.root, "spec");
        let parent_refs = spec_entry.and_then(|(_, spec)| doc.entry(spec, "parentRefs"));
        match parent_refs {
            Some((_, refs)) if !doc.items(refs).is_empty() => check_parent_refs(cx, doc, refs),
            _ => {
                let kind_node = doc.get(info.root, "kind");
                let range = kind_node.map(|k| doc.range(k)).unwrap_or(doc.range(info.root));
                let fixes = match (spec_entry, parent_refs) {
                    (_, Some((key, refs))) => refs_fixes(cx, |sk| Some(replace_value(cx.text, doc, key, refs, sk))),
                    (Some((_, spec)), None) if doc.is_mapping(spec) => refs_fixes(cx, |sk| add_key(cx.text, doc, spec, "parentRefs", sk)),
                    (Some((spec_key, spec)), None) if doc.is_null(spec) => {
                        refs_fixes(cx, |sk| add_key_to_empty(cx.text, doc, spec_key, "parentRefs", sk))
                    }
                    _ => Vec::new(),
                };
                cx.push(
                    "missing-parent-refs",
                    Severity::Error,
                    range,
                    format!("{} has no `spec.parentRefs`: it is not attached to any Gateway and serves no traffic", info.kind),
                    fixes,
                );
            }
        }
    }

    if let Some(values) = app_template_values(info) {
        check_app_template_routes(cx, doc, values);
        check_tailscale_ingress(cx, doc, values);
    }
}

/// `spec.values` of a bjw-s app-template HelmRelease.
fn app_template_values(info: &DocInfo<'_>) -> Option<NodeId> {
    if !info.is_helm_release() {
        return None;
    }
    let doc = info.doc;
    let spec = doc.get(info.root, "spec")?;
    let values = doc.get(spec, "values").filter(|&v| doc.is_mapping(v))?;
    let chart = doc.path_str(spec, &["chart", "spec", "chart"]);
    let chart_ref = doc.path_str(spec, &["chartRef", "name"]);
    let named = chart.or(chart_ref);
    match named {
        Some(name) if name.contains("app-template") => Some(values),
        // Another chart, or a name we cannot see: app-template values have `controllers`.
        _ => doc.get(values, "controllers").map(|_| values),
    }
}

fn enabled(doc: &Document, entry: NodeId) -> bool {
    !matches!(doc.path_str(entry, &["enabled"]), Some("false" | "False" | "FALSE"))
}

fn check_app_template_routes(cx: &mut Ctx<'_>, doc: &Document, values: NodeId) {
    let Some(routes) = doc.get(values, "route") else { return };
    for &(key, route) in doc.entries(routes) {
        if !enabled(doc, route) {
            continue;
        }
        match doc.entry(route, "parentRefs") {
            Some((_, refs)) if !doc.items(refs).is_empty() => check_parent_refs(cx, doc, refs),
            existing => {
                let fixes = match existing {
                    Some((refs_key, refs)) => refs_fixes(cx, |sk| Some(replace_value(cx.text, doc, refs_key, refs, sk))),
                    None if doc.is_mapping(route) => refs_fixes(cx, |sk| add_key(cx.text, doc, route, "parentRefs", sk)),
                    None if doc.is_null(route) => refs_fixes(cx, |sk| add_key_to_empty(cx.text, doc, key, "parentRefs", sk)),
                    None => Vec::new(),
                };
                let name = doc.scalar(key).unwrap_or("");
                cx.push(
                    "missing-parent-refs",
                    Severity::Error,
                    doc.range(key),
                    format!("route `{name}` has no `parentRefs`: it is not attached to any Gateway and serves no traffic"),
                    fixes,
                );
            }
        }
    }
}

/// The gateways a fix may point at: every known one (deduplicated), at most three.
fn fix_gateways<'a>(cx: &Ctx<'a>) -> Vec<&'a GatewayDef> {
    let mut out: Vec<&GatewayDef> = Vec::new();
    for g in cx.known.gateways.iter().copied() {
        if !out.iter().any(|o| o.name == g.name && o.namespace == g.namespace) {
            out.push(g);
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

/// One fix per known gateway (or a `TODO` placeholder), each built by `edit`.
fn refs_fixes(cx: &Ctx<'_>, edit: impl Fn(&Skeleton) -> Option<super::TextEdit>) -> Vec<Fix> {
    let gateways = fix_gateways(cx);
    if gateways.is_empty() {
        let sk = Skeleton::Seq(vec![Skeleton::map(&[("name", Skeleton::str("TODO"))])]);
        return edit(&sk).map(|e| Fix { title: "Add `parentRefs` (placeholder Gateway)".into(), edits: vec![e] }).into_iter().collect();
    }
    gateways
        .into_iter()
        .filter_map(|g| {
            let mut entry = vec![("name".to_string(), Skeleton::str(&g.name))];
            if let Some(ns) = &g.namespace {
                entry.push(("namespace".to_string(), Skeleton::str(ns)));
            }
            let section = g.section_names.iter().find(|s| *s == "https").or(g.section_names.first());
            if let Some(section) = section {
                entry.push(("sectionName".to_string(), Skeleton::str(section)));
            }
            let sk = Skeleton::Seq(vec![Skeleton::Map(entry)]);
            let title = format!("Add `parentRefs` to Gateway `{}`", describe(g));
            edit(&sk).map(|e| Fix { title, edits: vec![e] })
        })
        .collect()
}

fn describe(g: &GatewayDef) -> String {
    match &g.namespace {
        Some(ns) => format!("{} ({ns})", g.name),
        None => g.name.clone(),
    }
}

fn known_list(cx: &Ctx<'_>) -> String {
    let mut names: Vec<String> = Vec::new();
    for g in &cx.known.gateways {
        let d = describe(g);
        if !names.contains(&d) {
            names.push(d);
        }
    }
    if names.is_empty() {
        "no Gateway is defined in the repository".into()
    } else {
        format!("known gateways: {}", names.join(", "))
    }
}

/// `unknown-gateway` for each entry of a `parentRefs` sequence.
fn check_parent_refs(cx: &mut Ctx<'_>, doc: &Document, refs: NodeId) {
    if !cx.opts.check_references {
        return;
    }
    for &r in doc.items(refs) {
        if let Some(kind) = doc.path_str(r, &["kind"]) {
            if kind != "Gateway" {
                continue;
            }
        }
        if let Some(group) = doc.path_str(r, &["group"]) {
            if group != "gateway.networking.k8s.io" && !group.is_empty() {
                continue;
            }
        }
        let Some(name_node) = doc.get(r, "name") else { continue };
        let Some(name) = doc.scalar(name_node).filter(|n| is_plain_name(n)) else { continue };
        let ns_node = doc.get(r, "namespace");
        let ns = ns_node.and_then(|n| doc.scalar(n)).filter(|n| !n.is_empty());
        let section_node = doc.get(r, "sectionName");
        let section = section_node.and_then(|n| doc.scalar(n)).filter(|n| !n.is_empty());
        if ns.is_some_and(|n| !is_plain_name(n)) || section.is_some_and(|s| !is_plain_name(s)) {
            continue;
        }

        let by_name: Vec<&GatewayDef> = cx.known.gateways.iter().copied().filter(|g| g.name == name).collect();
        let finding = if by_name.is_empty() {
            Some((name_node, format!("unknown gateway `{name}`; {}", known_list(cx)), related(&cx.known.gateways)))
        } else {
            let in_ns: Vec<&GatewayDef> = match ns {
                Some(ns) => by_name.iter().copied().filter(|g| g.namespace.as_deref().is_none_or(|gns| gns == ns)).collect(),
                None => by_name.clone(),
            };
            if in_ns.is_empty() {
                let ns = ns.unwrap_or("");
                Some((
                    ns_node.unwrap_or(name_node),
                    format!("no gateway `{name}` in namespace `{ns}`; {}", known_list(cx)),
                    related(&by_name),
                ))
            } else if let Some(section) = section {
                let has = in_ns.iter().any(|g| g.section_names.is_empty() || g.section_names.iter().any(|s| s == section));
                if has {
                    None
                } else {
                    let mut listeners: Vec<&str> = in_ns.iter().flat_map(|g| g.section_names.iter().map(String::as_str)).collect();
                    listeners.dedup();
                    Some((
                        section_node.unwrap_or(name_node),
                        format!("gateway `{name}` has no listener `{section}`; listeners: {}", listeners.join(", ")),
                        related(&in_ns),
                    ))
                }
            } else {
                None
            }
        };
        if let Some((node, message, related)) = finding {
            cx.out.push(Finding {
                code: "unknown-gateway",
                severity: Severity::Error,
                range: doc.range(node),
                message,
                related,
                fixes: Vec::new(),
            });
        }
    }
}

fn related(gateways: &[&GatewayDef]) -> Vec<Related> {
    gateways
        .iter()
        .take(5)
        .map(|g| Related {
            file: g.file.clone(),
            range: None,
            line: Some(g.line),
            message: format!("Gateway `{}` is defined here", describe(g)),
        })
        .collect()
}

/// `tailscale-ingress-class`: app-template `ingress.<name>` entries meant for Tailscale.
fn check_tailscale_ingress(cx: &mut Ctx<'_>, doc: &Document, values: NodeId) {
    let Some(ingresses) = doc.get(values, "ingress") else { return };
    for &(key, ingress) in doc.entries(ingresses) {
        if !doc.is_mapping(ingress) || !enabled(doc, ingress) {
            continue;
        }
        let key_name = doc.scalar(key).unwrap_or("");
        let by_key = key_name.to_ascii_lowercase().contains("tailscale");
        let by_host = doc.get(ingress, "hosts").is_some_and(|hosts| {
            doc.items(hosts).iter().any(|&h| {
                let host = doc.path_str(h, &["host"]).or_else(|| doc.scalar(h)).unwrap_or("").to_ascii_lowercase();
                host.contains("tailscale") || host.ends_with(".ts.net")
            })
        });
        let by_annotation = doc
            .get(ingress, "annotations")
            .is_some_and(|a| doc.entries(a).iter().any(|&(k, _)| doc.scalar(k).is_some_and(|k| k.starts_with("tailscale.com/"))));
        if !(by_key || by_host || by_annotation) {
            continue;
        }
        let class = doc.entry(ingress, "className");
        let class_value = class.and_then(|(_, v)| doc.scalar(v));
        if class_value == Some("tailscale") || class_value.is_some_and(is_reference_value) {
            continue;
        }
        let why = if by_annotation {
            "has `tailscale.com/` annotations"
        } else if by_host {
            "has a Tailscale host"
        } else {
            "is named for Tailscale"
        };
        let (range, message, edit) = match class {
            Some((class_key, class_node)) => (
                doc.range(class_node),
                format!(
                    "ingress `{key_name}` {why} but uses className `{}`; the Tailscale operator only serves `className: tailscale`",
                    class_value.unwrap_or("")
                ),
                Some(replace_value(cx.text, doc, class_key, class_node, &Skeleton::str("tailscale"))),
            ),
            None => (
                doc.range(key),
                format!("ingress `{key_name}` {why} but has no `className: tailscale`, so the Tailscale operator ignores it"),
                add_key(cx.text, doc, ingress, "className", &Skeleton::str("tailscale")),
            ),
        };
        let fixes = edit.map(|e| Fix { title: "Set `className: tailscale`".into(), edits: vec![e] }).into_iter().collect();
        cx.push("tailscale-ingress-class", Severity::Warning, range, message, fixes);
    }
}

#[cfg(test)]
mod tests {
    use crate::yaml::testutil::*;
    use crate::yaml::tree::parse;
    use crate::yaml::{check, CheckOptions, RepoIndex, Severity};
    use std::path::Path;

    const ROUTE: &str = r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: echo
spec:
  hostnames: ["echo.example.com"]
  parentRefs:
    - name: internal
      namespace: kube-system
      sectionName: https
  rules:
    - backendRefs:
        - name: echo
          port: 8080
"#;

    #[test]
    fn realistic_documents_are_clean() {
        for text in [ROUTE, APP_HR, GATEWAYS, SOURCES] {
            let findings = run(text);
            assert!(findings.is_empty(), "{findings:#?}");
        }
    }

    #[test]
    fn http_route_without_parent_refs() {
        let text = ROUTE.replace("  parentRefs:\n    - name: internal\n      namespace: kube-system\n      sectionName: https\n", "");
        let findings = run(&text);
        let f = expect_one(&text, &findings, "missing-parent-refs", Severity::Error, (2, 6));
        assert_eq!(covered(&text, &f), "HTTPRoute");
        assert_eq!(f.fixes.len(), 2, "{:#?}", f.fixes);
        assert_eq!(f.fixes[0].title, "Add `parentRefs` to Gateway `internal (kube-system)`");
        let fixed = apply_fix(&text, &f.fixes[0]);
        assert!(
            fixed.contains(
                "spec:\n  parentRefs:\n    - name: internal\n      namespace: kube-system\n      sectionName: https\n  hostnames:"
            ),
            "{fixed}"
        );
        assert!(run(&fixed).is_empty());
    }

    #[test]
    fn grpc_route_with_empty_parent_refs_and_placeholder_fix() {
        let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: g}\nspec:\n  parentRefs: []\n  rules: []\n";
        let findings = check(text, Path::new("r.yaml"), &RepoIndex::default(), &CheckOptions::default());
        let f = expect_one(text, &findings, "missing-parent-refs", Severity::Error, (1, 6));
        assert_eq!(f.fixes.len(), 1);
        let fixed = apply_fix(text, &f.fixes[0]);
        assert!(fixed.contains("spec:\n  parentRefs:\n    - name: TODO\n  rules: []\n"), "{fixed}");
    }

    #[test]
    fn route_kind_of_other_group_is_ignored() {
        let text = "apiVersion: route.openshift.io/v1\nkind: HTTPRoute\nspec: {}\n";
        expect_none(&run(text), "missing-parent-refs");
    }

    #[test]
    fn app_template_route_without_parent_refs() {
        let text = APP_HR.replace("        parentRefs: [{name: internal, namespace: kube-system, sectionName: https}]\n", "");
        let findings = run(&text);
        let f = expect_one(&text, &findings, "missing-parent-refs", Severity::Error, (33, 6));
        assert_eq!(covered(&text, &f), "app");
        let fixed = apply_fix(&text, &f.fixes[1]);
        assert!(fixed.contains("      app:\n        parentRefs:\n          - name: external\n            namespace: kube-system\n            sectionName: https\n        hostnames:"), "{fixed}");
        let doc = &parse(&fixed).docs[0];
        let route = doc.path(doc.root.unwrap(), &["spec", "values", "route", "app"]).unwrap();
        assert_eq!(doc.items(doc.get(route, "parentRefs").unwrap()).len(), 1);
        assert!(run(&fixed).is_empty());
    }

    #[test]
    fn app_template_route_disabled_or_other_chart() {
        let text = APP_HR
            .replace("        parentRefs: [{name: internal, namespace: kube-system, sectionName: https}]\n", "        enabled: false\n");
        expect_none(&run(&text), "missing-parent-refs");
        let other = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: x}\nspec:\n  chart:\n    spec:\n      chart: grafana\n      sourceRef: {kind: HelmRepository, name: bjw-s, namespace: flux-system}\n  values:\n    route:\n      main:\n        hostnames: [a]\n";
        expect_none(&run(other), "missing-parent-refs");
    }

    #[test]
    fn app_template_route_null_entry() {
        let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: x}\nspec:\n  chart:\n    spec:\n      chart: app-template\n      sourceRef: {kind: HelmRepository, name: bjw-s, namespace: flux-system}\n  values:\n    route:\n      app:\n";
        let findings = run(text);
        let f = expect_one(text, &findings, "missing-parent-refs", Severity::Error, (10, 6));
        let fixed = apply_fix(text, &f.fixes[0]);
        assert!(fixed.ends_with("      app:\n        parentRefs:\n          - name: internal\n            namespace: kube-system\n            sectionName: https\n"), "{fixed}");
    }

    #[test]
    fn unknown_gateway_name_namespace_and_section() {
        let text =
            APP_HR.replace("{name: internal, namespace: kube-system, sectionName: https}", "{name: intenal, namespace: kube-system}");
        let f = expect_one(&text, &run(&text), "unknown-gateway", Severity::Error, (35, 28));
        assert_eq!(covered(&text, &f), "intenal");
        assert_eq!(f.message, "unknown gateway `intenal`; known gateways: internal (kube-system), external (kube-system)");

        let text = APP_HR.replace("namespace: kube-system, sectionName: https}", "namespace: network}");
        let f = expect_one(&text, &run(&text), "unknown-gateway", Severity::Error, (35, 49));
        assert_eq!(covered(&text, &f), "network");
        assert_eq!(f.related.len(), 1);
        assert_eq!(f.related[0].line, Some(4));

        let text = APP_HR.replace("sectionName: https}", "sectionName: web}");
        let f = expect_one(&text, &run(&text), "unknown-gateway", Severity::Error, (35, 75));
        assert_eq!(f.message, "gateway `internal` has no listener `web`; listeners: http, https");
    }

    #[test]
    fn unknown_gateway_leniency_and_options() {
        // No namespace: match by name; a non-Gateway parent is skipped; substitutions skipped.
        let text = ROUTE.replace(
            "    - name: internal\n      namespace: kube-system\n      sectionName: https\n",
            "    - name: external\n    - kind: Service\n      name: nope\n    - name: ${GATEWAY}\n",
        );
        expect_none(&run(&text), "unknown-gateway");
        let bad = ROUTE.replace("name: internal", "name: nope");
        let f = expect_one(&bad, &run(&bad), "unknown-gateway", Severity::Error, (8, 12));
        assert_eq!(covered(&bad, &f), "nope");
        let opts = CheckOptions { check_references: false, yaml_syntax: true };
        expect_none(&check(&bad, Path::new(FILE), &repo(), &opts), "unknown-gateway");
    }

    #[test]
    fn gateway_defined_in_same_file_counts() {
        let text = format!("{GATEWAYS}{ROUTE}");
        let findings = check(&text, Path::new("x.yaml"), &RepoIndex::default(), &CheckOptions::default());
        assert!(findings.is_empty(), "{findings:#?}");
    }

    const TS_HR: &str = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: paperless
spec:
  chartRef: {kind: OCIRepository, name: app-template, namespace: flux-system}
  values:
    controllers: {}
    ingress:
      tailscale:
        hosts:
          - host: paperless
            paths: [{path: /, service: {identifier: app, port: http}}]
      web:
        className: internal
        annotations:
          tailscale.com/funnel: "true"
        hosts: [{host: paperless.example.com}]
      lan:
        className: internal
        hosts: [{host: docs.example.com}]
"#;

    #[test]
    fn tailscale_ingress_class() {
        let findings = run(TS_HR);
        let of = only(&findings, "tailscale-ingress-class");
        assert_eq!(of.len(), 2, "{findings:#?}");
        assert_eq!(start(TS_HR, &of[0]), (9, 6));
        assert_eq!(of[0].severity, Severity::Warning);
        assert_eq!(covered(TS_HR, &of[0]), "tailscale");
        assert_eq!(start(TS_HR, &of[1]), (14, 19));
        assert_eq!(covered(TS_HR, &of[1]), "internal");

        let fixed = apply_fix(TS_HR, &of[0].fixes[0]);
        assert!(fixed.contains("      tailscale:\n        className: tailscale\n        hosts:"), "{fixed}");
        let fixed = apply_fix(&fixed, &only(&run(&fixed), "tailscale-ingress-class")[0].fixes[0]);
        assert!(fixed.contains("      web:\n        className: tailscale\n"), "{fixed}");
        expect_none(&run(&fixed), "tailscale-ingress-class");
    }

    #[test]
    fn tailscale_host_detection_and_correct_class() {
        let text = TS_HR.replace("host: docs.example.com", "host: docs.tail1234.ts.net");
        assert_eq!(only(&run(&text), "tailscale-ingress-class").len(), 3);
        let ok = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: a}\nspec:\n  chart: {spec: {chart: app-template}}\n  values:\n    ingress:\n      tailscale:\n        className: tailscale\n        hosts: [{host: a}]\n";
        expect_none(&run(ok), "tailscale-ingress-class");
    }
}
