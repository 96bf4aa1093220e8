//! Walking a compiled schema along a YAML path: which subschemas apply at a key (for
//! descriptions in messages, hover and completion). Follows `$ref` (local and into the
//! documents fetched while compiling), `allOf`/`anyOf`/`oneOf`, `properties`,
//! `additionalProperties`, `items`. No I/O: what compiling did not fetch is not followed.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// What a walk reads: the root schema, its URL and the documents its remote `$ref`s reach.
#[derive(Clone, Copy)]
pub struct Nav<'a> {
    pub url: &'a str,
    pub root: &'a Value,
    pub docs: &'a HashMap<String, Arc<Value>>,
}

/// One step of a YAML path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A subschema and the URL its relative `$ref`s resolve against.
pub type At<'a> = (&'a Value, &'a str);

const MAX_DEPTH: usize = 24;

/// Every subschema that applies at `path` below the root, `$ref`s and combinators expanded.
pub fn schemas_at<'a>(c: Nav<'a>, path: &[Seg]) -> Vec<At<'a>> {
    let mut cur = expand(c, (c.root, c.url), 0);
    for seg in path {
        let mut next = Vec::new();
        for (s, base) in &cur {
            for child in children(s, seg) {
                next.extend(expand(c, (child, base), 0));
            }
        }
        cur = next;
        if cur.is_empty() {
            break;
        }
    }
    cur
}

/// The schema itself plus what its `$ref` and combinators bring in.
pub fn expand<'a>(c: Nav<'a>, at: At<'a>, depth: usize) -> Vec<At<'a>> {
    if depth > MAX_DEPTH || !at.0.is_object() {
        return Vec::new();
    }
    let mut out = vec![at];
    if let Some(r) = at.0.get("$ref").and_then(Value::as_str) {
        if let Some(target) = resolve_ref(c, at.1, r) {
            out.extend(expand(c, target, depth + 1));
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for sub in at.0.get(key).and_then(Value::as_array).into_iter().flatten() {
            out.extend(expand(c, (sub, at.1), depth + 1));
        }
    }
    out
}

fn children<'a>(s: &'a Value, seg: &Seg) -> Vec<&'a Value> {
    match seg {
        Seg::Key(k) => {
            if let Some(p) = s.get("properties").and_then(|p| p.get(k)) {
                return vec![p];
            }
            let mut out: Vec<&Value> =
                s.get("patternProperties").and_then(Value::as_object).map(|m| m.values().collect()).unwrap_or_default();
            if let Some(a) = s.get("additionalProperties").filter(|a| a.is_object()) {
                out.push(a);
            }
            out
        }
        Seg::Index(i) => {
            if let Some(p) = s.get("prefixItems").and_then(|p| p.get(*i)) {
                return vec![p];
            }
            match s.get("items") {
                Some(Value::Array(items)) => items.get(*i).into_iter().collect(),
                Some(items @ Value::Object(_)) => vec![items],
                _ => Vec::new(),
            }
        }
    }
}

/// `$ref` → the subschema, in the root or a fetched document.
fn resolve_ref<'a>(c: Nav<'a>, base: &str, r: &str) -> Option<At<'a>> {
    let (doc_part, frag) = r.split_once('#').unwrap_or((r, ""));
    let (doc, url): (&'a Value, &'a str) = if doc_part.is_empty() {
        if base == c.url {
            (c.root, c.url)
        } else {
            let (u, d) = c.docs.get_key_value(base)?;
            (d, u.as_str())
        }
    } else {
        let target = join_url(base, doc_part);
        if target == c.url {
            (c.root, c.url)
        } else {
            let (u, d) = c.docs.get_key_value(&target)?;
            (d, u.as_str())
        }
    };
    let frag = frag.replace("%24", "$");
    let v = if frag.is_empty() { doc } else { doc.pointer(&frag)? };
    Some((v, url))
}

/// A relative reference against a base URL (`../x.json` from `https://h/a/b/c.json`).
pub fn join_url(base: &str, rel: &str) -> String {
    if rel.contains("://") {
        return rel.to_string();
    }
    let Some((scheme, rest)) = base.split_once("://") else { return rel.to_string() };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut parts: Vec<&str> = if rel.starts_with('/') { Vec::new() } else { path.split('/').collect() };
    if !rel.starts_with('/') {
        parts.pop();
    }
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("{scheme}://{host}/{}", parts.join("/"))
}

/// The first description among `schemas`.
pub fn description<'a>(schemas: &[At<'a>]) -> Option<&'a str> {
    schemas.iter().find_map(|(s, _)| s.get("description").and_then(Value::as_str)).filter(|d| !d.trim().is_empty())
}

/// The first sentence of a description (at most ~200 characters), on one line.
pub fn short(desc: &str) -> String {
    let one: String = desc.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = one.find(". ").map(|i| i + 1).unwrap_or(one.len());
    let mut s: String = one[..end].chars().take(200).collect();
    if s.len() < end {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(join_url("https://h/a/b/c.json", "../d.json"), "https://h/a/d.json");
        assert_eq!(join_url("https://h/a/b/c.json", "schemas/x.json"), "https://h/a/b/schemas/x.json");
        assert_eq!(join_url("file:///a/b.json", "c.json"), "file:///a/c.json");
        assert_eq!(join_url("https://h/a/b.json", "https://o/x"), "https://o/x");
    }

    #[test]
    fn short_descriptions() {
        assert_eq!(short("Interval at which\n to reconcile. More text."), "Interval at which to reconcile.");
    }
}
