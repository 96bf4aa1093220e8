//! Fixtures and helpers shared by the rule tests.

use std::path::Path;

use super::edit::{apply, column, line_of};
use super::{check, facts, CheckOptions, Finding, Fix, RepoIndex, Severity};

pub const GATEWAYS: &str = r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: internal
  namespace: kube-system
spec:
  gatewayClassName: cilium
  listeners:
    - name: http
      protocol: HTTP
      port: 80
    - name: https
      protocol: HTTPS
      port: 443
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: external
  namespace: kube-system
spec:
  gatewayClassName: cilium
  listeners:
    - {name: http, protocol: HTTP, port: 80}
    - {name: https, protocol: HTTPS, port: 443}
"#;

pub const SOURCES: &str = r#"---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: bjw-s
  namespace: flux-system
spec:
  type: oci
  interval: 5m
  url: oci://ghcr.io/bjw-s/helm
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: app-template
  namespace: flux-system
spec:
  interval: 15m
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ref:
    tag: 3.7.3
  url: oci://ghcr.io/bjw-s/helm/app-template
"#;

pub const ES: &str = r#"---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: echo
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: onepassword
  target:
    name: echo-secret
    template:
      data:
        API_TOKEN: "{{ .token }}"
  dataFrom:
    - extract:
        key: echo
"#;

pub const SOPS_SECRET: &str = r#"---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-secrets
  namespace: flux-system
stringData:
  SECRET_DOMAIN: ENC[AES256_GCM,data:2MjJ1hjL0w==,iv:1d6Zd3oQ1Qd6s=,tag:r1Fh9Q==,type:str]
  SECRET_ACME_EMAIL: ENC[AES256_GCM,data:abcdef==,iv:xyz=,tag:tag==,type:str]
sops:
  age:
    - recipient: age1qvx4y0u4cjz8m0ws7qz4xg9dz0s2v6c8b6v4kq6c3e9pzvqr8u6s9t9h4n
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBabc
        -----END AGE ENCRYPTED FILE-----
  lastmodified: "2024-05-01T12:00:00Z"
  mac: ENC[AES256_GCM,data:longmac==,iv:iv=,tag:tag==,type:str]
  encrypted_regex: ^(data|stringData)$
  version: 3.8.1
"#;

/// A bjw-s app-template HelmRelease as the cluster-template renders it.
pub const APP_HR: &str = r#"---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-template
    namespace: flux-system
  values:
    controllers:
      echo:
        containers:
          app:
            image:
              repository: ghcr.io/mendhak/http-https-echo
              tag: 37
            env:
              HTTP_PORT: &port 8080
              LOG_WITHOUT_NEWLINE: true
              TZ: Europe/Berlin
            envFrom:
              - secretRef:
                  name: echo-secret
    service:
      app:
        controller: echo
        ports:
          http:
            port: *port
    route:
      app:
        hostnames: ["{{ .Release.Name }}.${SECRET_DOMAIN}"]
        parentRefs: [{name: internal, namespace: kube-system, sectionName: https}]
        rules:
          - backendRefs:
              - identifier: app
                port: *port
"#;

/// The index of a small repository: the fixtures above in separate files.
pub fn repo() -> RepoIndex {
    index(&[
        ("kubernetes/apps/kube-system/gateways.yaml", GATEWAYS),
        ("kubernetes/flux/repositories.yaml", SOURCES),
        ("kubernetes/apps/default/echo/app/externalsecret.yaml", ES),
        ("kubernetes/flux/cluster-secrets.sops.yaml", SOPS_SECRET),
    ])
}

pub fn index(files: &[(&str, &str)]) -> RepoIndex {
    let mut index = RepoIndex::default();
    for (path, text) in files {
        index.add(facts(text, Path::new(path)));
    }
    index
}

pub const FILE: &str = "kubernetes/apps/default/echo/app/helmrelease.yaml";

/// All findings for `text` in [`FILE`] against [`repo`].
pub fn run(text: &str) -> Vec<Finding> {
    run_in(text, FILE)
}

pub fn run_in(text: &str, file: &str) -> Vec<Finding> {
    check(text, Path::new(file), &repo(), &CheckOptions::default())
}

/// Findings of one code.
pub fn only(findings: &[Finding], code: &str) -> Vec<Finding> {
    findings.iter().filter(|f| f.code == code).cloned().collect()
}

/// `(line, column)` of the start of the finding's range, 0-based.
pub fn start(text: &str, f: &Finding) -> (usize, usize) {
    (line_of(text, f.range.start), column(text, f.range.start))
}

/// The text covered by the finding's range.
pub fn covered<'t>(text: &'t str, f: &Finding) -> &'t str {
    &text[f.range.start..f.range.end]
}

/// Asserts exactly one finding of `code` with `severity` starting at `(line, col)`;
/// returns it.
#[track_caller]
pub fn expect_one(text: &str, findings: &[Finding], code: &str, severity: Severity, at: (usize, usize)) -> Finding {
    let of_code = only(findings, code);
    assert_eq!(of_code.len(), 1, "expected one {code}, got {findings:#?}");
    let f = of_code.into_iter().next().unwrap();
    assert_eq!(f.severity, severity, "{f:#?}");
    assert_eq!(start(text, &f), at, "{f:#?}");
    f
}

#[track_caller]
pub fn expect_none(findings: &[Finding], code: &str) {
    let of_code = only(findings, code);
    assert!(of_code.is_empty(), "expected no {code}, got {of_code:#?}");
}

/// Applies a fix and asserts the result is valid YAML; returns the new text.
#[track_caller]
pub fn apply_fix(text: &str, fix: &Fix) -> String {
    let out = apply(text, &fix.edits);
    let parsed = super::tree::parse(&out);
    assert!(parsed.errors.is_empty(), "fix produced invalid YAML: {:?}\n{out}", parsed.errors);
    out
}
