//! What a document is (kind, name, namespace, encryption) and what a file defines.

use std::path::Path;

use super::edit::LineIndex;
use super::tree::{self, Document, NodeId, NodeKind, Stream};
use super::{command_secrets, is_plain_name, secret_creators, FileFacts, GatewayDef, NamedDef, SourceDef};

/// The Kubernetes identity of one document whose root is a mapping.
pub(crate) struct DocInfo<'d> {
    pub doc: &'d Document,
    pub root: NodeId,
    /// `kind` (empty when absent or not a string).
    pub kind: &'d str,
    /// `apiVersion` (empty when absent).
    pub api_version: &'d str,
    pub name: Option<&'d str>,
    pub name_node: Option<NodeId>,
    pub namespace: Option<&'d str>,
    /// A top-level `sops:` mapping and `ENC[` values.
    pub encrypted: bool,
}

impl<'d> DocInfo<'d> {
    pub fn new(doc: &'d Document) -> Option<Self> {
        let root = doc.root?;
        if !doc.is_mapping(root) {
            return None;
        }
        let name_node = doc.path(root, &["metadata", "name"]);
        Some(DocInfo {
            doc,
            root,
            kind: doc.path_str(root, &["kind"]).unwrap_or(""),
            api_version: doc.path_str(root, &["apiVersion"]).unwrap_or(""),
            name: name_node.and_then(|n| doc.scalar(n)).filter(|s| !s.is_empty()),
            name_node,
            namespace: doc.path_str(root, &["metadata", "namespace"]).filter(|s| !s.is_empty()),
            encrypted: is_sops_encrypted(doc, root),
        })
    }

    /// `apiVersion` is in `group` (or absent, for lenient matching of partial documents).
    pub fn in_group(&self, group: &str) -> bool {
        self.api_version.is_empty() || self.api_version.split('/').next() == Some(group)
    }

    pub fn is_helm_release(&self) -> bool {
        self.kind == "HelmRelease" && self.in_group("helm.toolkit.fluxcd.io")
    }
}

fn is_sops_encrypted(doc: &Document, root: NodeId) -> bool {
    let Some(sops) = doc.get(root, "sops") else { return false };
    if !doc.is_mapping(sops) {
        return false;
    }
    doc.nodes.iter().any(|n| matches!(&n.kind, NodeKind::Scalar { value, .. } if value.contains("ENC[")))
}

/// What `text` defines: Gateways, Secrets, Flux sources, and whether it is SOPS-encrypted.
pub fn facts(text: &str, file: &Path) -> FileFacts {
    facts_from(&tree::parse(text), text, file)
}

pub(crate) fn facts_from(stream: &Stream, text: &str, file: &Path) -> FileFacts {
    let mut out = FileFacts::default();
    let mut lines: Option<LineIndex> = None;
    for doc in &stream.docs {
        let Some(info) = DocInfo::new(doc) else { continue };
        out.encrypted |= info.encrypted;
        let mut line_at = |node: Option<NodeId>| -> u32 {
            let offset = node.map(|n| doc.range(n).start).unwrap_or(doc.range.start);
            lines.get_or_insert_with(|| LineIndex::new(text)).line(offset) as u32
        };
        let namespace = info.namespace.map(str::to_string);
        let root = info.root;
        for (name, node) in secret_creators::created_secrets(doc, root, info.kind, info.api_version) {
            let node = node.or(info.name_node);
            out.secrets.push(NamedDef { name, namespace: namespace.clone(), file: file.to_path_buf(), line: line_at(node) });
        }
        match info.kind {
            "Gateway" if info.in_group("gateway.networking.k8s.io") => {
                let Some(name) = info.name.filter(|n| is_plain_name(n)) else { continue };
                let section_names = doc
                    .path(root, &["spec", "listeners"])
                    .map(|l| doc.items(l).iter().filter_map(|&i| doc.path_str(i, &["name"])).map(str::to_string).collect())
                    .unwrap_or_default();
                out.gateways.push(GatewayDef {
                    name: name.to_string(),
                    namespace,
                    section_names,
                    file: file.to_path_buf(),
                    line: line_at(info.name_node),
                });
            }
            "Kustomization" if info.in_group("kustomize.config.k8s.io") => {
                // kustomize `secretGenerator` entries create Secrets too.
                let ns = doc.path_str(root, &["namespace"]).map(str::to_string);
                if let Some(gens) = doc.get(root, "secretGenerator") {
                    for &g in doc.items(gens) {
                        let node = doc.get(g, "name");
                        if let Some(name) = node.and_then(|n| doc.scalar(n)).filter(|s| is_plain_name(s)) {
                            out.secrets.push(NamedDef {
                                name: name.to_string(),
                                namespace: doc.path_str(g, &["namespace"]).map(str::to_string).or_else(|| ns.clone()),
                                file: file.to_path_buf(),
                                line: line_at(node),
                            });
                        }
                    }
                }
            }
            "HelmRepository" | "OCIRepository" | "GitRepository" | "Bucket" if info.in_group("source.toolkit.fluxcd.io") => {
                let Some(name) = info.name.filter(|n| is_plain_name(n)) else { continue };
                out.sources.push(SourceDef {
                    kind: info.kind.to_string(),
                    name: name.to_string(),
                    namespace,
                    file: file.to_path_buf(),
                    line: line_at(info.name_node),
                });
            }
            _ => {}
        }
    }
    out.flux = crate::flux::facts::extract(stream, text, file);
    if command_secrets::is_command_file(file) {
        out.secrets.extend(command_facts(text, file).secrets);
    }
    out
}

/// What a file of commands (a Taskfile, a script, setup notes) defines: the Secrets its
/// `kubectl create secret` commands make.
pub fn command_facts(text: &str, file: &Path) -> FileFacts {
    let secrets = command_secrets::secrets_created_by_commands(text)
        .into_iter()
        .map(|s| NamedDef { name: s.name, namespace: s.namespace, file: file.to_path_buf(), line: s.line })
        .collect();
    FileFacts { secrets, ..FileFacts::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::testutil::*;
    use std::path::PathBuf;

    #[test]
    fn gateway_secret_source_facts() {
        let f = facts(&format!("{GATEWAYS}---\n{SOURCES}---\n{ES}---\n{SOPS_SECRET}"), Path::new("kubernetes/all.yaml"));
        assert_eq!(f.gateways.len(), 2);
        assert_eq!(f.gateways[0].name, "internal");
        assert_eq!(f.gateways[0].namespace.as_deref(), Some("kube-system"));
        assert_eq!(f.gateways[0].section_names, vec!["http", "https"]);
        assert_eq!(f.gateways[0].line, 4);
        assert_eq!(f.gateways[0].file, PathBuf::from("kubernetes/all.yaml"));
        assert_eq!(f.gateways[1].name, "external");
        let kinds: Vec<_> = f.sources.iter().map(|s| (s.kind.as_str(), s.name.as_str())).collect();
        assert_eq!(kinds, vec![("HelmRepository", "bjw-s"), ("OCIRepository", "app-template")]);
        assert_eq!(f.sources[0].namespace.as_deref(), Some("flux-system"));
        let secrets: Vec<_> = f.secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(secrets, vec!["echo-secret", "cluster-secrets"]);
        assert!(f.encrypted);
    }

    #[test]
    fn external_secret_defaults_to_own_name_and_generators() {
        let text = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: plex\nspec:\n  target:\n    template: {}\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: media\nsecretGenerator:\n  - name: gen-secret\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: wildcard}\nspec:\n  secretName: wildcard-tls\n";
        let f = facts(text, Path::new("x.yaml"));
        let names: Vec<_> = f.secrets.iter().map(|s| (s.name.as_str(), s.namespace.as_deref(), s.line)).collect();
        assert_eq!(names, vec![("plex", None, 3), ("gen-secret", Some("media"), 12), ("wildcard-tls", None, 18)]);
        assert!(!f.encrypted);
    }

    #[test]
    fn istio_gateway_and_plain_secret_without_sops() {
        let text = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: istio}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: plain}\nstringData: {a: b}\n";
        let f = facts(text, Path::new("x.yaml"));
        assert!(f.gateways.is_empty());
        assert_eq!(f.secrets.len(), 1);
        assert!(!f.encrypted);
    }

    #[test]
    fn repo_index_add_and_remove() {
        let mut index = index(&[("a.yaml", GATEWAYS), ("b.yaml", SOURCES)]);
        assert_eq!(index.gateways.len(), 2);
        index.remove_file(Path::new("a.yaml"));
        assert!(index.gateways.is_empty());
        assert_eq!(index.sources.len(), 2);
    }
}
