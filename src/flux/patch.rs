//! Patches on Flux Kustomizations, as far as `postBuild` goes: kustomize target
//! selectors, strategic-merge patches (maps merge, lists are replaced: a CRD has no merge
//! keys) and JSON6902 operations on `/spec/postBuild…`.

use std::path::Path;

use super::{InlineVar, PostBuild, SubstituteRef};
use crate::yaml::tree::{self, Document, NodeId};

/// A kustomize patch `target`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

/// What a patch does to a child's `postBuild`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Strategic merge of `substitute`: keys set (`None`: deleted with `null`).
    MergeSubstitute(Vec<(String, Option<InlineVar>)>),
    /// `substitute` replaced whole.
    SetSubstitute(Vec<InlineVar>),
    /// `substituteFrom` replaced (`None`: removed).
    SetSubstituteFrom(Option<Vec<SubstituteRef>>),
    /// `substituteFrom` entry inserted (`None` index: appended).
    InsertSubstituteFrom(Option<usize>, SubstituteRef),
    RemoveSubstituteFrom(usize),
    RemoveSubstituteKey(String),
    /// `postBuild` created if absent (a merge patch that names it).
    EnsurePostBuild,
    /// `postBuild` replaced whole.
    SetPostBuild(PostBuild),
    RemovePostBuild,
    /// Touches `postBuild` in a way not modelled: the child's variables are not known.
    Unknown,
}

/// The object a selector is matched against.
pub struct Target<'a> {
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub labels: &'a [(String, String)],
    pub annotations: &'a [(String, String)],
}

impl Selector {
    /// Whether a Flux Kustomization (group kustomize.toolkit.fluxcd.io) is selected.
    pub fn selects_flux_kustomization(&self) -> bool {
        self.group.as_deref().is_none_or(|g| g == "kustomize.toolkit.fluxcd.io")
            && self.kind.as_deref().is_none_or(|k| k == "Kustomization")
    }

    pub fn matches(&self, t: &Target) -> bool {
        self.selects_flux_kustomization()
            && self.name.as_deref().is_none_or(|p| regex_like_match(p, t.name))
            && self.namespace.as_deref().is_none_or(|p| t.namespace.is_none_or(|ns| regex_like_match(p, ns)))
            && self.label_selector.as_deref().is_none_or(|s| label_selector_matches(s, t.labels))
            && self.annotation_selector.as_deref().is_none_or(|s| label_selector_matches(s, t.annotations))
    }
}

/// kustomize matches names as anchored regular expressions. Plain names compare exactly;
/// `.*` matches anything; other regex syntax is taken to match (over-selecting only adds
/// sources, which can only hide findings).
fn regex_like_match(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['.', '*', '+', '?', '[', '(', '|', '^', '$', '\\']) {
        return pattern == name;
    }
    if let Some(prefix) = pattern.strip_suffix(".*") {
        if !prefix.contains(['.', '*', '+', '?', '[', '(', '|', '^', '$', '\\']) {
            return name.starts_with(prefix);
        }
    }
    true
}

/// Kubernetes label selector syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`.
fn label_selector_matches(selector: &str, labels: &[(String, String)]) -> bool {
    let get = |k: &str| labels.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str());
    split_requirements(selector).iter().all(|req| {
        let req = req.trim();
        if req.is_empty() {
            return true;
        }
        if let Some((k, rest)) = req.split_once(" notin ") {
            let set = parse_set(rest);
            return get(k.trim()).is_none_or(|v| !set.contains(&v));
        }
        if let Some((k, rest)) = req.split_once(" in ") {
            let set = parse_set(rest);
            return get(k.trim()).is_some_and(|v| set.contains(&v));
        }
        if let Some((k, v)) = req.split_once("!=") {
            return get(k.trim()) != Some(v.trim());
        }
        if let Some((k, v)) = req.split_once("==").or_else(|| req.split_once('=')) {
            return get(k.trim()) == Some(v.trim());
        }
        if let Some(k) = req.strip_prefix('!') {
            return get(k.trim()).is_none();
        }
        get(req).is_some()
    })
}

/// Splits at commas outside parentheses.
fn split_requirements(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_set(s: &str) -> Vec<&str> {
    s.trim().trim_start_matches('(').trim_end_matches(')').split(',').map(str::trim).collect()
}

/// Reads a `target:` mapping.
pub fn selector(doc: &Document, node: NodeId) -> Selector {
    let s = |k: &str| doc.path_str(node, &[k]).filter(|v| !v.is_empty()).map(str::to_string);
    Selector {
        group: s("group"),
        version: s("version"),
        kind: s("kind"),
        name: s("name"),
        namespace: s("namespace"),
        label_selector: s("labelSelector"),
        annotation_selector: s("annotationSelector"),
    }
}

/// The operations of one inline patch text on Flux Kustomizations, and the selector its
/// own `kind`/`metadata.name` imply when the patch has no `target`. `file`/`line` place
/// values the patch adds (its line in the patching file).
pub fn parse_patch(text: &str, file: &Path, line: u32) -> Option<(Vec<Op>, Option<Selector>)> {
    let stream = tree::parse(text);
    let doc = stream.docs.first()?;
    let root = doc.root?;
    if doc.is_sequence(root) {
        return Some((json6902(doc, root, file, line), None));
    }
    if !doc.is_mapping(root) {
        return None;
    }
    let api = doc.path_str(root, &["apiVersion"]).unwrap_or("");
    let kind = doc.path_str(root, &["kind"]).unwrap_or("");
    let implied = Selector {
        group: api.split('/').next().filter(|g| !g.is_empty() && api.contains('/')).map(str::to_string),
        kind: Some(kind.to_string()).filter(|k| !k.is_empty()),
        name: doc.path_str(root, &["metadata", "name"]).map(str::to_string),
        ..Selector::default()
    };
    let mut ops = Vec::new();
    if let Some((_, pb)) = doc.path(root, &["spec"]).and_then(|spec| doc.entry(spec, "postBuild")) {
        if doc.is_null(pb) {
            ops.push(Op::RemovePostBuild);
        } else if doc.is_mapping(pb) {
            ops.push(Op::EnsurePostBuild);
            if let Some(sub) = doc.get(pb, "substitute") {
                if doc.is_null(sub) {
                    ops.push(Op::SetSubstitute(Vec::new()));
                } else {
                    let keys = doc
                        .entries(sub)
                        .iter()
                        .filter_map(|&(k, v)| {
                            let name = doc.scalar(k)?.to_string();
                            let var = (!doc.is_null(v)).then(|| InlineVar {
                                name: name.clone(),
                                value: doc.scalar(v).unwrap_or("").to_string(),
                                file: file.to_path_buf(),
                                line,
                            });
                            Some((name, var))
                        })
                        .collect();
                    ops.push(Op::MergeSubstitute(keys));
                }
            }
            if let Some(from) = doc.get(pb, "substituteFrom") {
                ops.push(Op::SetSubstituteFrom((!doc.is_null(from)).then(|| substitute_refs(doc, from, file, line))));
            }
        } else {
            ops.push(Op::Unknown);
        }
    }
    Some((ops, Some(implied)))
}

/// `postBuild.substituteFrom` entries.
pub fn substitute_refs(doc: &Document, list: NodeId, file: &Path, line: u32) -> Vec<SubstituteRef> {
    doc.items(list).iter().filter_map(|&i| substitute_ref(doc, i, file, line)).collect()
}

/// One `substituteFrom` entry (`kind` and `name` required).
pub fn substitute_ref(doc: &Document, item: NodeId, file: &Path, line: u32) -> Option<SubstituteRef> {
    Some(SubstituteRef {
        kind: doc.path_str(item, &["kind"])?.to_string(),
        name: doc.path_str(item, &["name"])?.to_string(),
        optional: doc.path_str(item, &["optional"]).is_some_and(|o| o == "true"),
        file: file.to_path_buf(),
        line,
    })
}

fn json6902(doc: &Document, root: NodeId, file: &Path, line: u32) -> Vec<Op> {
    let mut ops = Vec::new();
    for &item in doc.items(root) {
        let op = doc.path_str(item, &["op"]).unwrap_or("");
        let Some(path) = doc.path_str(item, &["path"]) else { continue };
        let Some(rest) = path.strip_prefix("/spec/postBuild") else { continue };
        let value = doc.get(item, "value");
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        let refs = |v: NodeId| substitute_refs(doc, v, file, line);
        let one_ref = |v: NodeId| substitute_ref(doc, v, file, line);
        let vars = |v: NodeId| -> Vec<InlineVar> {
            doc.entries(v)
                .iter()
                .filter_map(|&(k, val)| {
                    Some(InlineVar {
                        name: doc.scalar(k)?.to_string(),
                        value: doc.scalar(val).unwrap_or("").to_string(),
                        file: file.to_path_buf(),
                        line,
                    })
                })
                .collect()
        };
        let parsed = match (op, parts.as_slice(), value) {
            ("remove", [], _) => Some(Op::RemovePostBuild),
            ("add" | "replace", [], Some(v)) => Some(Op::SetPostBuild(PostBuild {
                substitute: doc.get(v, "substitute").map(vars).unwrap_or_default(),
                substitute_from: doc.get(v, "substituteFrom").map(refs).unwrap_or_default(),
            })),
            ("add" | "replace", ["substitute"], Some(v)) => Some(Op::SetSubstitute(vars(v))),
            ("add" | "replace", ["substitute", key], Some(v)) => Some(Op::MergeSubstitute(vec![(
                key.to_string(),
                Some(InlineVar { name: key.to_string(), value: doc.scalar(v).unwrap_or("").to_string(), file: file.to_path_buf(), line }),
            )])),
            ("remove", ["substitute", key], _) => Some(Op::RemoveSubstituteKey(key.to_string())),
            ("remove", ["substitute"], _) => Some(Op::SetSubstitute(Vec::new())),
            ("add" | "replace", ["substituteFrom"], Some(v)) => Some(Op::SetSubstituteFrom(Some(refs(v)))),
            ("remove", ["substituteFrom"], _) => Some(Op::SetSubstituteFrom(None)),
            ("add", ["substituteFrom", "-"], Some(v)) => one_ref(v).map(|r| Op::InsertSubstituteFrom(None, r)),
            ("add", ["substituteFrom", n], Some(v)) => n.parse().ok().zip(one_ref(v)).map(|(n, r)| Op::InsertSubstituteFrom(Some(n), r)),
            ("remove", ["substituteFrom", n], _) => n.parse().ok().map(Op::RemoveSubstituteFrom),
            _ => None,
        };
        ops.push(parsed.unwrap_or(Op::Unknown));
    }
    ops
}

/// Applies `ops` to a child's `postBuild`; false when an op is not modelled.
pub fn apply(post_build: &mut Option<PostBuild>, ops: &[Op]) -> bool {
    let mut known = true;
    for op in ops {
        match op {
            Op::EnsurePostBuild => {
                post_build.get_or_insert_with(PostBuild::default);
            }
            Op::RemovePostBuild => *post_build = None,
            Op::SetPostBuild(pb) => *post_build = Some(pb.clone()),
            Op::MergeSubstitute(keys) => {
                let pb = post_build.get_or_insert_with(PostBuild::default);
                for (name, var) in keys {
                    pb.substitute.retain(|v| &v.name != name);
                    pb.substitute.extend(var.clone());
                }
            }
            Op::SetSubstitute(vars) => post_build.get_or_insert_with(PostBuild::default).substitute = vars.clone(),
            Op::RemoveSubstituteKey(key) => {
                if let Some(pb) = post_build {
                    pb.substitute.retain(|v| &v.name != key);
                }
            }
            Op::SetSubstituteFrom(refs) => {
                let pb = post_build.get_or_insert_with(PostBuild::default);
                pb.substitute_from = refs.clone().unwrap_or_default();
            }
            Op::InsertSubstituteFrom(at, r) => {
                let pb = post_build.get_or_insert_with(PostBuild::default);
                match at {
                    Some(n) if *n <= pb.substitute_from.len() => pb.substitute_from.insert(*n, r.clone()),
                    _ => pb.substitute_from.push(r.clone()),
                }
            }
            Op::RemoveSubstituteFrom(n) => {
                if let Some(pb) = post_build {
                    if *n < pb.substitute_from.len() {
                        pb.substitute_from.remove(*n);
                    }
                }
            }
            Op::Unknown => known = false,
        }
    }
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn label_selectors() {
        let l = labels(&[("app", "x"), ("tier", "web")]);
        assert!(label_selector_matches("app=x", &l));
        assert!(label_selector_matches("app==x,tier", &l));
        assert!(!label_selector_matches("app!=x", &l));
        assert!(label_selector_matches("substitution.flux.home.arpa/disabled notin (true)", &l));
        assert!(!label_selector_matches("tier in (db, cache)", &l));
        assert!(label_selector_matches("!missing", &l));
    }

    #[test]
    fn merge_patch_replaces_substitute_from_and_merges_substitute() {
        let text = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: _\nspec:\n  postBuild:\n    substitute:\n      A: \"1\"\n    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n";
        let (ops, implied) = parse_patch(text, Path::new("p.yaml"), 3).unwrap();
        assert_eq!(implied.unwrap().name.as_deref(), Some("_"));
        let mut pb = Some(PostBuild {
            substitute: vec![InlineVar { name: "APP".into(), value: "x".into(), file: "c.yaml".into(), line: 1 }],
            substitute_from: vec![SubstituteRef {
                kind: "ConfigMap".into(),
                name: "own".into(),
                optional: false,
                file: "c.yaml".into(),
                line: 2,
            }],
        });
        assert!(apply(&mut pb, &ops));
        let pb = pb.unwrap();
        assert_eq!(pb.substitute.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), vec!["APP", "A"]);
        assert_eq!(pb.substitute_from.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["cluster-secrets"]);
    }

    #[test]
    fn json6902_appends() {
        let text = "- op: add\n  path: /spec/postBuild/substituteFrom/-\n  value:\n    kind: ConfigMap\n    name: cluster-settings\n- op: replace\n  path: /spec/interval\n  value: 5m\n";
        let (ops, implied) = parse_patch(text, Path::new("p.yaml"), 0).unwrap();
        assert!(implied.is_none());
        let mut pb = Some(PostBuild::default());
        assert!(apply(&mut pb, &ops));
        assert_eq!(pb.unwrap().substitute_from[0].name, "cluster-settings");
    }
}
