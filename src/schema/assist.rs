//! Hover and completion from a document's schema: the description, type, allowed values
//! and default of the key at the cursor; the keys the schema allows where a key is being
//! typed (required first) and the enum values of a value. The path at the cursor comes from
//! the error-tolerant structure ([`crate::yaml::structure`]), so both keep working while the
//! document does not parse.

use std::path::Path;

use serde_json::Value;

use super::navigate::{self, At, Seg};
use super::store::Entry;
use super::Schemas;
use crate::yaml::structure::{self, CursorAt, CursorContext, PathSegment};
use crate::yaml::TextRange;

/// A schema hover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    pub markdown: String,
    pub range: TextRange,
}

/// A key or value the schema offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub label: String,
    /// `required · string`, `enum value`.
    pub detail: String,
    pub documentation: Option<String>,
    pub required: bool,
    /// What the cursor's partial word is replaced with.
    pub insert: String,
    pub replace: TextRange,
}

/// The path at the cursor: the one place the structure is asked (switchable in one line).
fn context_at(text: &str, offset: usize) -> Option<CursorContext> {
    structure::cursor_context(text, offset)
}

fn segs(path: &[PathSegment]) -> Vec<Seg> {
    path.iter()
        .map(|p| match p {
            PathSegment::Key(k) => Seg::Key(k.clone()),
            PathSegment::Index(i) => Seg::Index(*i),
        })
        .collect()
}

/// The text of document `n` of the stream (split at `---` lines; a first `---` with only
/// comments or blanks before it opens document 0).
fn document_text(text: &str, n: usize) -> &str {
    let mut starts = vec![0usize];
    let mut off = 0usize;
    let mut content_seen = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            if content_seen || starts.len() > 1 {
                starts.push(off);
            }
            content_seen = true;
        } else if !t.trim_start().is_empty() && !t.trim_start().starts_with('#') && !t.starts_with('%') {
            content_seen = true;
        }
        off += line.len();
    }
    let start = starts.get(n).copied().unwrap_or(text.len());
    let end = starts.get(n + 1).copied().unwrap_or(text.len());
    &text[start..end]
}

/// A top-level scalar of a document's text (`apiVersion: x`), read line by line so that a
/// syntax error elsewhere does not hide it.
fn top_level(doc: &str, key: &str) -> String {
    doc.lines()
        .find_map(|l| {
            l.strip_prefix(key)?.strip_prefix(':').map(|v| v.split(" #").next().unwrap_or("").trim().trim_matches(['"', '\'']).to_string())
        })
        .unwrap_or_default()
}

fn compiled_for(schemas: &Schemas, text: &str, file: &Path, document: usize) -> Option<std::sync::Arc<super::store::Compiled>> {
    let doc = document_text(text, document);
    let rel = file.strip_prefix(&schemas.root).unwrap_or(file);
    let resolved = schemas.resolver.resolve(doc, file, rel, &top_level(doc, "apiVersion"), &top_level(doc, "kind"))?;
    match schemas.store.get(&resolved.url) {
        Entry::Ready(c) => Some(c),
        _ => None,
    }
}

/// Hover on a key (or its value): what the schema says about it.
pub fn hover(schemas: &Schemas, text: &str, file: &Path, offset: usize) -> Option<Hover> {
    let cx = context_at(text, offset)?;
    let range = match &cx.at {
        CursorAt::Key { key_span, .. } => *key_span,
        CursorAt::Value { key_span: Some(k), .. } => *k,
        _ => return None,
    };
    let c = compiled_for(schemas, text, file, cx.document)?;
    let path = segs(&cx.path);
    let at = navigate::schemas_at(c.nav(), &path);
    if at.is_empty() {
        return None;
    }
    let mut md = format!("**{}**", super::validate::display_path(&path));
    let types = types_of(&at);
    if !types.is_empty() {
        md.push_str(&format!(" · {}", types.join(" | ")));
    }
    if let Some(d) = navigate::description(&at) {
        md.push_str(&format!("\n\n{}", d.trim()));
    }
    let values = enum_values(&at);
    if !values.is_empty() {
        md.push_str(&format!("\n\nAllowed: {}", values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")));
    }
    if let Some(d) = at.iter().find_map(|(s, _)| s.get("default")) {
        md.push_str(&format!("\n\nDefault: `{}`", compact(d)));
    }
    if let Some(p) = at.iter().find_map(|(s, _)| s.get("pattern").and_then(Value::as_str)) {
        md.push_str(&format!("\n\nPattern: `{p}`"));
    }
    md.push_str(&format!("\n\n*Schema: {}*", c.url));
    Some(Hover { markdown: md, range })
}

/// Keys the schema allows where one is being typed, or enum values of a value.
pub fn complete(schemas: &Schemas, text: &str, file: &Path, offset: usize) -> Vec<Suggestion> {
    let Some(cx) = context_at(text, offset) else { return Vec::new() };
    let Some(c) = compiled_for(schemas, text, file, cx.document) else { return Vec::new() };
    match &cx.at {
        CursorAt::NewKey { partial, .. } => {
            let at = navigate::schemas_at(c.nav(), &segs(&cx.path));
            let required: Vec<&str> = at
                .iter()
                .flat_map(|(s, _)| s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str))
                .collect();
            let mut out: Vec<Suggestion> = Vec::new();
            for (s, _) in &at {
                for (key, sub) in s.get("properties").and_then(Value::as_object).into_iter().flatten() {
                    if out.iter().any(|o| &o.label == key) || cx.sibling(key).is_some() {
                        continue;
                    }
                    let sub_at = navigate::expand(c.nav(), (sub, c.url.as_str()), 0);
                    let is_required = required.contains(&key.as_str());
                    let types = types_of(&sub_at).join(" | ");
                    let detail = if is_required { format!("required · {types}") } else { types };
                    out.push(Suggestion {
                        label: key.clone(),
                        detail,
                        documentation: navigate::description(&sub_at).map(str::to_string),
                        required: is_required,
                        insert: format!("{key}: "),
                        replace: *partial,
                    });
                }
            }
            // Required keys first, then as the schema lists them.
            out.sort_by_key(|s| !s.required);
            out
        }
        CursorAt::Value { value_span, .. } => {
            let at = navigate::schemas_at(c.nav(), &segs(&cx.path));
            enum_values(&at)
                .into_iter()
                .map(|v| Suggestion {
                    label: v.clone(),
                    detail: "enum value".into(),
                    documentation: navigate::description(&at).map(str::to_string),
                    required: false,
                    insert: v,
                    replace: *value_span,
                })
                .collect()
        }
        CursorAt::Key { .. } => Vec::new(),
    }
}

fn types_of(at: &[At<'_>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (s, _) in at {
        let ts: Vec<String> = match s.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        for t in ts {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

fn enum_values(at: &[At<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for (s, _) in at {
        for v in s.get("enum").and_then(Value::as_array).into_iter().flatten().chain(s.get("const")) {
            let v = compact(v);
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_top_level_keys() {
        let text = "# c\n---\napiVersion: a/v1\nkind: A\n---\napiVersion: b/v1 # x\nkind: B\n";
        assert_eq!(top_level(document_text(text, 0), "kind"), "A");
        assert_eq!(top_level(document_text(text, 1), "apiVersion"), "b/v1");
        assert_eq!(document_text(text, 5), "");
    }
}
