//! What a value in a Kubernetes manifest points at: the Gateway of a `parentRefs` entry,
//! the Secret of a `secretKeyRef` / `secretRef` / `valuesFrom` / `existingSecret`, the Flux
//! source of a `sourceRef`. Go to definition and hover follow these into the repo index.

use super::tree::{self, Document, NodeId, NodeKind};
use super::TextRange;

/// Deepest nesting walked (matches the other checks' bound).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef {
    Gateway {
        name: String,
        namespace: Option<String>,
    },
    Secret {
        name: String,
    },
    /// `kind` is `HelmRepository`, `OCIRepository`, `GitRepository`, … when written.
    Source {
        kind: Option<String>,
        name: String,
        namespace: Option<String>,
    },
}

/// A reference and the byte range of the name that makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefAt {
    pub target: ObjectRef,
    pub range: TextRange,
}

/// The reference whose name is at `offset` of `text`, if any.
pub fn reference_at(text: &str, offset: usize) -> Option<RefAt> {
    // Every reference is a `name:` or `existingSecret:` value: skip the parse elsewhere
    // (hover runs on every pointer move).
    let at = offset.min(text.len());
    if !text.is_char_boundary(at) {
        return None;
    }
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[line_start..line_end];
    if !line.contains("name:") && !line.contains("existingSecret:") {
        return None;
    }
    let stream = tree::parse(text);
    let doc = stream.docs.iter().find(|d| d.range.start <= offset && offset <= d.range.end)?;
    visit(doc, doc.root?, None, None, offset, 0)
}

/// `holder`: the key whose value is this node; `listed_under`: the key of the sequence
/// holding this node.
fn visit(doc: &Document, id: NodeId, holder: Option<&str>, listed_under: Option<&str>, offset: usize, depth: usize) -> Option<RefAt> {
    if depth > MAX_DEPTH {
        return None;
    }
    let node = doc.node(id)?;
    let range = node.range;
    if offset < range.start || offset > range.end {
        return None;
    }
    match &node.kind {
        NodeKind::Mapping { .. } => {
            for &(k, v) in doc.entries(id) {
                let Some(key) = doc.scalar(k) else { continue };
                let value_range = doc.range(v);
                if let Some(name) = doc.scalar(v).filter(|_| value_range.start <= offset && offset <= value_range.end) {
                    if let Some(target) = target_of(doc, id, key, name, holder, listed_under) {
                        return Some(RefAt { target, range: value_range });
                    }
                    continue;
                }
                let found = if doc.is_sequence(v) {
                    doc.items(v).iter().find_map(|&item| visit(doc, item, None, Some(key), offset, depth + 1))
                } else {
                    visit(doc, v, Some(key), None, offset, depth + 1)
                };
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        NodeKind::Sequence { .. } => doc.items(id).iter().find_map(|&item| visit(doc, item, None, listed_under, offset, depth + 1)),
        _ => None,
    }
}

/// What `key: name` inside mapping `map` refers to, given where `map` sits.
fn target_of(doc: &Document, map: NodeId, key: &str, name: &str, holder: Option<&str>, listed_under: Option<&str>) -> Option<ObjectRef> {
    let sibling = |k: &str| doc.get(map, k).and_then(|n| doc.scalar(n)).map(str::to_string);
    let name = name.to_string();
    if key == "existingSecret" {
        return Some(ObjectRef::Secret { name });
    }
    if key != "name" {
        return None;
    }
    match (holder, listed_under) {
        (_, Some("parentRefs")) if sibling("kind").is_none_or(|k| k == "Gateway") => {
            Some(ObjectRef::Gateway { name, namespace: sibling("namespace") })
        }
        (Some("secretKeyRef" | "secretRef"), _) => Some(ObjectRef::Secret { name }),
        (_, Some("valuesFrom" | "substituteFrom")) if sibling("kind").as_deref() == Some("Secret") => Some(ObjectRef::Secret { name }),
        (Some("sourceRef"), _) => Some(ObjectRef::Source { kind: sibling("kind"), name, namespace: sibling("namespace") }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str) -> Option<ObjectRef> {
        let offset = text.find(needle).unwrap() + 1;
        reference_at(text, offset).map(|r| r.target)
    }

    #[test]
    fn references_by_place() {
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: echo\nspec:\n  chart:\n    spec:\n      chart: app-template\n      sourceRef:\n        kind: HelmRepository\n        name: bjw-s\n        namespace: flux-system\n  valuesFrom:\n    - kind: Secret\n      name: echo-values\n    - kind: ConfigMap\n      name: echo-config\n  values:\n    controllers:\n      echo:\n        containers:\n          app:\n            env:\n              TOKEN:\n                valueFrom:\n                  secretKeyRef:\n                    name: echo-secret\n                    key: token\n            envFrom:\n              - secretRef:\n                  name: echo-env\n    route:\n      app:\n        parentRefs:\n          - name: internal\n            namespace: kube-system\n    persistence:\n      db:\n        existingSecret: db-creds\n";
        assert_eq!(
            at(hr, "bjw-s"),
            Some(ObjectRef::Source { kind: Some("HelmRepository".into()), name: "bjw-s".into(), namespace: Some("flux-system".into()) })
        );
        assert_eq!(at(hr, "echo-values"), Some(ObjectRef::Secret { name: "echo-values".into() }));
        assert_eq!(at(hr, "echo-config"), None, "a ConfigMap is not a Secret");
        assert_eq!(at(hr, "echo-secret"), Some(ObjectRef::Secret { name: "echo-secret".into() }));
        assert_eq!(at(hr, "echo-env"), Some(ObjectRef::Secret { name: "echo-env".into() }));
        assert_eq!(at(hr, "internal"), Some(ObjectRef::Gateway { name: "internal".into(), namespace: Some("kube-system".into()) }));
        assert_eq!(at(hr, "db-creds"), Some(ObjectRef::Secret { name: "db-creds".into() }));
        assert_eq!(at(hr, "echo\ns"), None, "metadata.name refers to nothing");
        assert_eq!(at(hr, "app-template"), None);
        let r = reference_at(hr, hr.find("internal").unwrap()).unwrap();
        assert_eq!(&hr[r.range.start..r.range.end], "internal");
    }

    #[test]
    fn broken_or_empty_text_has_no_reference() {
        assert_eq!(reference_at("", 0), None);
        assert_eq!(reference_at("a: [unclosed\n  name: x", 15), None);
        let deep = format!("{}name: x\n", "a:\n ".repeat(200));
        assert_eq!(reference_at(&deep, deep.len() - 2), None);
    }
}
