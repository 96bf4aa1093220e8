//! What a value in a Kubernetes manifest points at: the Gateway of a `parentRefs` entry,
//! the Secret of a `secretKeyRef` / `secretRef` / `valuesFrom` / `existingSecret`, the Flux
//! source of a `sourceRef`. Go to definition and hover follow these into the repo index.

use super::structure::{self, CursorAt, PathSegment};
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

/// The reference whose name is at `offset` of `text`, if any. The place comes from
/// [`structure::cursor_context`], so a syntax error elsewhere in the file does not hide it;
/// the name and its siblings (`kind`, `namespace`) are read exactly or not at all.
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
    let ctx = structure::cursor_context(text, offset)?;
    let CursorAt::Value { key_span: Some(_), value_span } = ctx.at else { return None };
    if ctx.path.len() > MAX_DEPTH {
        return None;
    }
    let name = structure::scalar_value(text, value_span)?;
    let key = ctx.last_key()?;
    // `holder`: the key whose value holds this mapping; `listed_under`: the key of the
    // sequence holding it.
    let parent = &ctx.path[..ctx.path.len() - 1];
    let (holder, listed_under) = match parent {
        [.., PathSegment::Key(list), PathSegment::Index(_)] => (None, Some(list.as_str())),
        [.., PathSegment::Key(h)] => (Some(h.as_str()), None),
        _ => (None, None),
    };
    // A sibling written but unreadable (broken, a collection) is not taken as absent.
    let sibling = |k: &str| -> Result<Option<String>, ()> {
        match ctx.sibling(k) {
            None => Ok(None),
            Some(e) => e.value_span.and_then(|v| structure::scalar_value(text, v)).map(Some).ok_or(()),
        }
    };
    let target = target_of(key, name, holder, listed_under, sibling)?;
    Some(RefAt { target, range: value_span })
}

/// What `key: name` refers to, given where its mapping sits.
fn target_of(
    key: &str,
    name: String,
    holder: Option<&str>,
    listed_under: Option<&str>,
    sibling: impl Fn(&str) -> Result<Option<String>, ()>,
) -> Option<ObjectRef> {
    if key == "existingSecret" {
        return Some(ObjectRef::Secret { name });
    }
    if key != "name" {
        return None;
    }
    match (holder, listed_under) {
        (_, Some("parentRefs")) if sibling("kind").ok()?.is_none_or(|k| k == "Gateway") => {
            Some(ObjectRef::Gateway { name, namespace: sibling("namespace").ok()? })
        }
        (Some("secretKeyRef" | "secretRef"), _) => Some(ObjectRef::Secret { name }),
        (_, Some("valuesFrom" | "substituteFrom")) if sibling("kind").ok()?.as_deref() == Some("Secret") => {
            Some(ObjectRef::Secret { name })
        }
        (Some("sourceRef"), _) => Some(ObjectRef::Source { kind: sibling("kind").ok()?, name, namespace: sibling("namespace").ok()? }),
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

    /// Issue 12: one unclosed `[` (or quote, or a line indented wrong) elsewhere in the file
    /// used to hide every reference.
    #[test]
    fn references_survive_syntax_errors_elsewhere() {
        let hr = "kind: HelmRelease\nspec:\n  values:\n    args: [--a, --b\n    image:\n      tag: \"1.0\n    route:\n      app:\n        parentRefs:\n          - name: internal\n            namespace: kube-system\n  chart:\n    spec:\n      sourceRef:\n        kind: HelmRepository\n        name: bjw-s\n";
        assert!(!crate::yaml::tree::parse(hr).errors.is_empty(), "the text must be broken");
        assert_eq!(at(hr, "internal"), Some(ObjectRef::Gateway { name: "internal".into(), namespace: Some("kube-system".into()) }));
        assert_eq!(at(hr, "bjw-s"), Some(ObjectRef::Source { kind: Some("HelmRepository".into()), name: "bjw-s".into(), namespace: None }));
        let r = reference_at(hr, hr.find("internal").unwrap()).unwrap();
        assert_eq!(&hr[r.range.start..r.range.end], "internal");
        // A sibling `kind` that cannot be read: no guess that it is a Gateway.
        let unsure = "spec:\n  parentRefs:\n    - kind: \"Gate\n      name: internal\n";
        assert_eq!(at(unsure, "internal"), None);
        // A name that cannot be read exactly (unclosed quote) is no reference.
        let open = "spec:\n  parentRefs:\n    - name: \"inter\n  x: 1\n";
        assert_eq!(at(open, "inter"), None);
    }
}
