//! Validation of YAML documents against their schemas, on the positioned tree: each
//! document becomes JSON the way Flux's kustomize-controller reads it (YAML 1.2 core
//! scalars, as go-yaml v3 / kyaml: `yes`/`on` stay strings), the validator's errors are
//! walked back to the key or value they are about.

use std::path::Path;

use serde_json::{Map, Number, Value};

use super::navigate::{self, Seg};
use super::resolve::Resolver;
use super::store::{Compiled, Entry, Store};
use crate::yaml::tree::{Document, NodeId, NodeKind, ScalarStyle, Stream};
use crate::yaml::{Finding, Severity, TextRange};

pub const CODE: &str = "schema-violation";

/// At most this many findings per document (a wrong schema would otherwise flood).
const MAX_PER_DOC: usize = 50;

/// What validating a text found, and whether some schema was still loading.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub pending: bool,
}

/// Validates every document of `stream` (parsed from `text`) that resolves to a schema.
pub fn validate_stream(
    text: &str,
    stream: &Stream,
    file: &Path,
    rel: &Path,
    resolver: &Resolver,
    store: &std::sync::Arc<Store>,
) -> Outcome {
    let mut out = Outcome::default();
    let mut prev_end = 0usize;
    for doc in &stream.docs {
        let region = &text[prev_end.min(text.len())..doc.range.end.min(text.len()).max(prev_end.min(text.len()))];
        let region_start = prev_end;
        prev_end = doc.range.end;
        let Some(root) = doc.root else { continue };
        if !doc.is_mapping(root) {
            continue;
        }
        let api = doc.path_str(root, &["apiVersion"]).unwrap_or("");
        let kind = doc.path_str(root, &["kind"]).unwrap_or("");
        let Some(mut resolved) = resolver.resolve(region, file, rel, api, kind) else { continue };
        if let Some(own) = other_kinds_schema(&resolved, api, kind) {
            // A modeline copied from a neighbour file: say so once and check the document
            // against its own kind's schema, not against the other kind's.
            let range = modeline_range(text, region_start, region).unwrap_or_else(|| first_key(doc, root));
            let named = resolved.url.rsplit('/').next().unwrap_or("").trim_end_matches(".json").to_string();
            out.findings.push(Finding {
                code: "schema-mismatch",
                severity: Severity::Warning,
                range,
                message: format!(
                    "the $schema modeline names the schema of `{named}`, but this document is a {kind} ({api}); its own schema is {own}"
                ),
                related: Vec::new(),
                fixes: vec![crate::yaml::Fix {
                    title: format!("Point the modeline at the {kind} schema"),
                    edits: text
                        .get(range.start..range.end)
                        .and_then(|l| {
                            l.find(&resolved.url).map(|i| crate::yaml::TextEdit {
                                range: TextRange::new(range.start + i, range.start + i + resolved.url.len()),
                                new_text: own.clone(),
                            })
                        })
                        .into_iter()
                        .collect(),
                }],
            });
            resolved = super::resolve::Resolved { url: own, origin: super::resolve::Origin::Kind };
        }
        // SOPS-encrypted documents hold ciphertext where the schema wants values; Flux
        // decrypts before applying.
        if doc.get(root, "sops").is_some_and(|s| doc.is_mapping(s)) {
            continue;
        }
        match store.get(&resolved.url) {
            // A schema found by apiVersion/kind may be older than the CRD the cluster runs (a
            // field added since): unknown keys are only reported against a schema the user chose.
            Entry::Ready(c) => match validate_doc(doc, root, &c, resolved.origin != super::resolve::Origin::Kind) {
                Ok(found) => out.findings.extend(found),
                Err(why) => out.findings.push(broken(text, region_start, region, doc, root, &why)),
            },
            Entry::Pending => out.pending = true,
            Entry::Broken(why) => out.findings.push(broken(text, region_start, region, doc, root, &why)),
            Entry::Missing | Entry::Unavailable(_) => {}
        }
    }
    out
}

/// `schema-error`: the document's schema cannot be used, said on its modeline.
fn broken(text: &str, region_start: usize, region: &str, doc: &Document, root: NodeId, why: &str) -> Finding {
    let line = modeline_range(text, region_start, region).unwrap_or_else(|| first_key(doc, root));
    Finding {
        code: "schema-error",
        severity: Severity::Info,
        range: line,
        message: format!("{why}; this document is not validated"),
        related: Vec::new(),
        fixes: Vec::new(),
    }
}

/// When a modeline names a CRD schema (`…/{group}/{kind}_{version}.json`) of another kind
/// than the document's, the URL of the document's own schema.
fn other_kinds_schema(resolved: &super::resolve::Resolved, api: &str, kind: &str) -> Option<String> {
    if resolved.origin != super::resolve::Origin::Modeline || kind.is_empty() || api.is_empty() {
        return None;
    }
    let name = resolved.url.rsplit('/').next()?.strip_suffix(".json")?;
    let (named_kind, version) = name.rsplit_once('_')?;
    let crd_shaped =
        !named_kind.is_empty() && version.starts_with('v') && named_kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !crd_shaped || named_kind == kind.to_ascii_lowercase() {
        return None;
    }
    // Same layout for the document's own kind: the modeline's URL with its file name replaced.
    let own_version = api.rsplit('/').next()?.to_ascii_lowercase();
    let dir = resolved.url.rsplit_once('/')?.0;
    let group = api.rsplit_once('/').map(|(g, _)| g.to_ascii_lowercase()).unwrap_or_default();
    let dir = match dir.rsplit_once('/') {
        Some((host, last)) if last.contains('.') && !group.is_empty() => format!("{host}/{group}"),
        _ => dir.to_string(),
    };
    Some(format!("{dir}/{}_{own_version}.json", kind.to_ascii_lowercase()))
}

/// The modeline comment's range, when the region has one.
fn modeline_range(text: &str, start: usize, region: &str) -> Option<TextRange> {
    let mut off = start;
    for line in region.split_inclusive('\n') {
        if super::resolve::modeline(line).is_some() {
            let t = line.trim_end_matches(['\n', '\r']);
            let lead = t.len() - t.trim_start().len();
            return Some(TextRange::new(off + lead, (off + t.len()).min(text.len())));
        }
        off += line.len();
    }
    None
}

fn first_key(doc: &Document, root: NodeId) -> TextRange {
    doc.entries(root).first().map(|(k, _)| doc.range(*k)).unwrap_or(doc.range(root))
}

/// The findings of one document against one schema, or why the schema cannot be used.
pub fn validate_doc(doc: &Document, root: NodeId, c: &Compiled, report_unknown: bool) -> Result<Vec<Finding>, String> {
    let instance = to_json(doc, root, 0);
    let validator = c.validator_for(&instance)?;
    let mut errors = validator.iter_errors(&instance).peekable();
    if errors.peek().is_none() {
        return Ok(Vec::new());
    }
    let messages_root = c.messages_root(&instance);
    let nav = match &messages_root {
        Some(root) => navigate::Nav { url: &c.url, root, docs: &c.docs },
        None => c.nav(),
    };
    let mut out = Vec::new();
    let schema_name = c.url.rsplit('/').next().unwrap_or(&c.url);
    for err in errors {
        // The validator's error order follows its internal choices (which differ between a
        // whole and a cut schema): keep the first findings by position, read from a few times
        // more than are kept.
        if out.len() >= MAX_PER_DOC * 8 {
            break;
        }
        let segs = pointer_segments(err.instance_path().as_str());
        let Some(at) = locate(doc, root, &segs) else { continue };
        if has_reference(doc, at.value, 0) {
            continue;
        }
        let where_ = display_path(&segs);
        let desc = navigate::description(&navigate::schemas_at(nav, &segs)).map(navigate::short);
        let tail = |m: String| match &desc {
            Some(d) => format!("{m} — {d} (schema {schema_name})"),
            None => format!("{m} (schema {schema_name})"),
        };
        match err.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { .. } if !report_unknown => {}
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = allowed_keys(nav, &segs);
                for key in unexpected {
                    let Some((k, _)) = doc.entry(at.value, key) else { continue };
                    let hint =
                        closest_name(key, allowed.iter().map(String::as_str)).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                    let place = if where_.is_empty() { "the top level".to_string() } else { format!("`{where_}`") };
                    let mut f = finding(doc.range(k), format!("`{key}` is not allowed under {place}{hint} (schema {schema_name})"));
                    // Kubernetes prunes (or warns about) unknown fields instead of failing the apply.
                    f.severity = Severity::Warning;
                    out.push(f);
                }
            }
            jsonschema::error::ValidationErrorKind::Required { property } => {
                let prop = property.as_str().unwrap_or_default();
                let range = at.key.map(|k| doc.range(k)).unwrap_or_else(|| first_key(doc, root));
                let place = if where_.is_empty() { "the document".to_string() } else { format!("`{where_}`") };
                let pdesc = {
                    let mut p = segs.clone();
                    p.push(Seg::Key(prop.to_string()));
                    navigate::description(&navigate::schemas_at(nav, &p)).map(navigate::short)
                };
                let m = format!("{place} lacks the required key `{prop}`");
                out.push(finding(
                    range,
                    match pdesc {
                        Some(d) => format!("{m} — {d} (schema {schema_name})"),
                        None => format!("{m} (schema {schema_name})"),
                    },
                ));
            }
            _ => {
                let range = if doc.is_mapping(at.value) || doc.is_sequence(at.value) {
                    at.key.map(|k| doc.range(k)).unwrap_or(doc.range(at.value))
                } else {
                    doc.range(at.value)
                };
                let msg = err.to_string();
                let place = if where_.is_empty() { String::new() } else { format!("`{where_}`: ") };
                out.push(finding(range, tail(format!("{place}{}", shorten(&msg)))));
            }
        }
    }
    out.sort_by(|a, b| (a.range, &a.message).cmp(&(b.range, &b.message)));
    out.dedup_by(|a, b| a.range == b.range && a.message == b.message);
    out.truncate(MAX_PER_DOC);
    Ok(out)
}

/// The allowed key closest to a misspelt one, when close enough to be a typo.
fn closest_name<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (crate::ide::completion::edit_distance(&c.to_ascii_lowercase(), &wanted.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(wanted.len()) / 4).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn finding(range: TextRange, message: String) -> Finding {
    Finding { code: "schema-violation", severity: Severity::Error, range, message, related: Vec::new(), fixes: Vec::new() }
}

/// The validator prints whole values (`{…} is not of type "string"`): cut long ones.
fn shorten(msg: &str) -> String {
    if msg.chars().count() <= 300 {
        return msg.to_string();
    }
    let mut s: String = msg.chars().take(300).collect();
    s.push('…');
    s
}

/// The keys the schema names at `path` (for "did you mean").
pub fn allowed_keys(c: navigate::Nav<'_>, path: &[Seg]) -> Vec<String> {
    let mut keys = Vec::new();
    for (s, _) in navigate::schemas_at(c, path) {
        if let Some(p) = s.get("properties").and_then(Value::as_object) {
            for k in p.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    keys
}

/// `spec.values.controllers[0]`.
pub fn display_path(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn pointer_segments(p: &str) -> Vec<Seg> {
    p.split('/')
        .skip(1)
        .map(|s| {
            let s = s.replace("~1", "/").replace("~0", "~");
            match s.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key(s),
            }
        })
        .collect()
}

/// A node reached by a path: the value and the key that holds it.
#[derive(Debug, Clone, Copy)]
pub struct Located {
    pub key: Option<NodeId>,
    pub value: NodeId,
}

/// Walks `segs` down from `root` (an index into a mapping is a key that looks like one).
pub fn locate(doc: &Document, root: NodeId, segs: &[Seg]) -> Option<Located> {
    let mut at = Located { key: None, value: root };
    for seg in segs {
        at = match seg {
            Seg::Index(i) if doc.is_sequence(at.value) => Located { key: None, value: *doc.items(at.value).get(*i)? },
            Seg::Index(i) => {
                let (k, v) = doc.entry(at.value, &i.to_string())?;
                Located { key: Some(k), value: v }
            }
            Seg::Key(key) => {
                let (k, v) = doc.entry(at.value, key)?;
                Located { key: Some(k), value: v }
            }
        };
    }
    Some(at)
}

/// Whether the value holds a reference resolved elsewhere (Flux `${VAR}`, SOPS, …) anywhere.
fn has_reference(doc: &Document, id: NodeId, depth: usize) -> bool {
    if depth > crate::yaml::tree::MAX_DEPTH {
        return false;
    }
    let id = doc.resolve(id);
    match doc.node(id).map(|n| &n.kind) {
        Some(NodeKind::Scalar { value, .. }) => value.contains("${") || crate::yaml::is_reference_value(value),
        Some(NodeKind::Mapping { entries, .. }) => {
            entries.iter().any(|(k, v)| has_reference(doc, *k, depth + 1) || has_reference(doc, *v, depth + 1))
        }
        Some(NodeKind::Sequence { items, .. }) => items.iter().any(|v| has_reference(doc, *v, depth + 1)),
        _ => false,
    }
}

/// The document as JSON, as kyaml (go-yaml v3) reads it: YAML 1.2 core scalars; null
/// entries of mappings left out.
pub fn to_json(doc: &Document, id: NodeId, depth: usize) -> Value {
    if depth > crate::yaml::tree::MAX_DEPTH {
        return Value::Null;
    }
    let id = doc.resolve(id);
    let Some(node) = doc.node(id) else { return Value::Null };
    match &node.kind {
        NodeKind::Scalar { value, style } => scalar(value, *style, node.tag.as_deref()),
        NodeKind::Sequence { items, .. } => Value::Array(items.iter().map(|i| to_json(doc, *i, depth + 1)).collect()),
        NodeKind::Mapping { entries, .. } => {
            let mut map = Map::new();
            for (k, v) in entries {
                let key = doc.scalar(*k).unwrap_or_default();
                if key == "<<" {
                    // Merge keys: the merged mapping's entries, unless set here.
                    let sources: Vec<NodeId> = if doc.is_sequence(*v) { doc.items(*v).to_vec() } else { vec![*v] };
                    for s in sources {
                        if let Value::Object(m) = to_json(doc, s, depth + 1) {
                            for (mk, mv) in m {
                                map.entry(mk).or_insert(mv);
                            }
                        }
                    }
                    continue;
                }
                // The API server prunes a null field (unless `nullable`) before validating,
                // and Helm reads a null value as "remove this key": never a violation.
                let value = to_json(doc, *v, depth + 1);
                if !value.is_null() {
                    map.insert(key.to_string(), value);
                }
            }
            Value::Object(map)
        }
        NodeKind::Alias { .. } => Value::Null,
    }
}

fn scalar(value: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    let tag = tag.map(|t| t.trim_start_matches("tag:yaml.org,2002:").trim_start_matches("!!"));
    match tag {
        Some("str") => return Value::String(value.to_string()),
        Some("int") | Some("float") => return plain_number(value).map(Value::Number).unwrap_or_else(|| Value::String(value.to_string())),
        Some("bool") => return plain_bool(value).map(Value::Bool).unwrap_or_else(|| Value::String(value.to_string())),
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Value::String(value.to_string());
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = plain_bool(value) {
        return Value::Bool(b);
    }
    if let Some(n) = plain_number(value) {
        return Value::Number(n);
    }
    Value::String(value.to_string())
}

fn plain_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// YAML 1.2 core integers and floats (decimal, `0x`, `0o`, `.inf`/`.nan` stay strings:
/// JSON has no such numbers).
fn plain_number(v: &str) -> Option<Number> {
    let b = v.as_bytes();
    if b.is_empty() {
        return None;
    }
    if let Some(h) = v.strip_prefix("0x") {
        return i64::from_str_radix(h, 16).ok().map(Number::from);
    }
    if let Some(o) = v.strip_prefix("0o") {
        return i64::from_str_radix(o, 8).ok().map(Number::from);
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+')) {
        return None;
    }
    let starts_numeric =
        digits.as_bytes()[0].is_ascii_digit() || (digits.starts_with('.') && digits.as_bytes().get(1).is_some_and(u8::is_ascii_digit));
    if !starts_numeric {
        return None;
    }
    if digits.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(i) = v.trim_start_matches('+').parse::<i64>() {
            return Some(Number::from(i));
        }
        if let Ok(u) = v.trim_start_matches('+').parse::<u64>() {
            return Some(Number::from(u));
        }
    }
    let f: f64 = v.parse().ok()?;
    Number::from_f64(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_as_kyaml_reads_them() {
        let p = |v| scalar(v, ScalarStyle::Plain, None);
        assert_eq!(p("true"), Value::Bool(true));
        assert_eq!(p("yes"), Value::String("yes".into()));
        assert_eq!(p("on"), Value::String("on".into()));
        assert_eq!(p("8080"), serde_json::json!(8080));
        assert_eq!(p("1.5"), serde_json::json!(1.5));
        assert_eq!(p("0x10"), serde_json::json!(16));
        assert_eq!(p("1e3"), serde_json::json!(1000.0));
        assert_eq!(p("500m"), Value::String("500m".into()));
        assert_eq!(p("1Gi"), Value::String("1Gi".into()));
        assert_eq!(p("e3"), Value::String("e3".into()));
        assert_eq!(p("1.2.3"), Value::String("1.2.3".into()));
        assert_eq!(p(""), Value::Null);
        assert_eq!(scalar("8080", ScalarStyle::DoubleQuoted, None), Value::String("8080".into()));
        assert_eq!(scalar("8080", ScalarStyle::Plain, Some("tag:yaml.org,2002:str")), Value::String("8080".into()));
    }
}
