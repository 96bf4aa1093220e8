//! Text positions and YAML-aware edits used by fixes.

use super::tree::{Document, NodeId, NodeKind};
use super::{TextEdit, TextRange};

/// 0-based line of a byte offset.
#[cfg(test)]
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len())).map_or(0, |t| t.matches('\n').count())
}

/// Line starts of a text, for many offset-to-line look-ups.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        LineIndex { starts: std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect() }
    }

    /// 0-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }
}

/// Byte offset where the line holding `offset` starts.
pub(crate) fn line_start(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

/// Column (in characters) of a byte offset: the indentation a new line needs to line up.
pub(crate) fn column(text: &str, offset: usize) -> usize {
    let start = line_start(text, offset);
    text.get(start..offset.min(text.len())).map_or(0, |s| s.chars().count())
}

/// A small YAML value to write into a document.
#[derive(Debug, Clone)]
pub(crate) enum Skeleton {
    Scalar(String),
    Map(Vec<(String, Skeleton)>),
    Seq(Vec<Skeleton>),
}

impl Skeleton {
    pub fn map(entries: &[(&str, Skeleton)]) -> Self {
        Skeleton::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    pub fn str(s: &str) -> Self {
        Skeleton::Scalar(scalar_text(s))
    }

    /// Flow style: `{a: b, c: [d]}`.
    pub fn flow(&self) -> String {
        match self {
            Skeleton::Scalar(s) => s.clone(),
            Skeleton::Map(entries) => {
                let inner: Vec<String> = entries.iter().map(|(k, v)| format!("{}: {}", scalar_text(k), v.flow())).collect();
                format!("{{{}}}", inner.join(", "))
            }
            Skeleton::Seq(items) => {
                let inner: Vec<String> = items.iter().map(Skeleton::flow).collect();
                format!("[{}]", inner.join(", "))
            }
        }
    }

    /// Block style, written right after `key:` where the key sits at column `indent`.
    pub fn write_after_key(&self, indent: usize, out: &mut String) {
        match self {
            Skeleton::Map(entries) if !entries.is_empty() => {
                for (k, v) in entries {
                    out.push('\n');
                    pad(out, indent + 2);
                    out.push_str(&scalar_text(k));
                    out.push(':');
                    v.write_after_key(indent + 2, out);
                }
            }
            Skeleton::Seq(items) if !items.is_empty() => {
                for item in items {
                    out.push('\n');
                    pad(out, indent + 2);
                    out.push_str("- ");
                    item.write_item(indent + 4, out);
                }
            }
            other => {
                out.push(' ');
                out.push_str(&other.flow());
            }
        }
    }

    /// Block style, written after `- ` whose content starts at column `indent`.
    fn write_item(&self, indent: usize, out: &mut String) {
        match self {
            Skeleton::Map(entries) if !entries.is_empty() => {
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                        pad(out, indent);
                    }
                    out.push_str(&scalar_text(k));
                    out.push(':');
                    v.write_after_key(indent, out);
                }
            }
            other => out.push_str(&other.flow()),
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A scalar as YAML source: plain when unambiguous, double-quoted otherwise.
pub(crate) fn scalar_text(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'))
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "nan" | "inf");
    if plain_ok {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An edit adding `key: value` to the mapping written at `map` (aliases are not edited).
/// In a block mapping the new key goes before the first key, at the same column.
pub(crate) fn add_key(text: &str, doc: &Document, map: NodeId, key: &str, value: &Skeleton) -> Option<TextEdit> {
    let node = doc.node(map)?;
    let NodeKind::Mapping { entries, flow } = &node.kind else { return None };
    let key_text = scalar_text(key);
    if *flow {
        return match entries.first() {
            Some(&(first, _)) => {
                let at = doc.range(first).start;
                Some(TextEdit { range: TextRange::new(at, at), new_text: format!("{key_text}: {}, ", value.flow()) })
            }
            None => {
                let r = node.range;
                let brace = text.get(r.start..r.end)?.find('{')? + r.start + 1;
                Some(TextEdit { range: TextRange::new(brace, brace), new_text: format!("{key_text}: {}", value.flow()) })
            }
        };
    }
    let &(first, _) = entries.first()?;
    let at = doc.range(first).start;
    let col = column(text, at);
    let mut new_text = format!("{key_text}:");
    value.write_after_key(col, &mut new_text);
    new_text.push('\n');
    pad(&mut new_text, col);
    Some(TextEdit { range: TextRange::new(at, at), new_text })
}

/// An edit turning the empty value of `key_node` (`key:` with nothing after it) into a
/// mapping holding `new_key: value`.
pub(crate) fn add_key_to_empty(text: &str, doc: &Document, key_node: NodeId, new_key: &str, value: &Skeleton) -> Option<TextEdit> {
    let key_range = doc.range(key_node);
    let col = column(text, key_range.start);
    let colon = text.get(key_range.end..)?.find(':')? + key_range.end + 1;
    // Keep anything after the colon on that line (a comment) where it is.
    let mut new_text = String::from("\n");
    pad(&mut new_text, col + 2);
    new_text.push_str(&scalar_text(new_key));
    new_text.push(':');
    value.write_after_key(col + 2, &mut new_text);
    let line_end = text[colon..].find('\n').map_or(text.len(), |i| colon + i);
    let rest = &text[colon..line_end];
    if rest.trim().is_empty() || rest.trim_start().starts_with('#') {
        Some(TextEdit { range: TextRange::new(line_end, line_end), new_text })
    } else {
        None
    }
}

/// An edit replacing the value of an existing entry (block value written after `key:`).
pub(crate) fn replace_value(text: &str, doc: &Document, key_node: NodeId, value_node: NodeId, value: &Skeleton) -> TextEdit {
    let key_range = doc.range(key_node);
    let value_range = doc.range(value_node);
    let flow_context = inside_flow(doc, value_node);
    if flow_context || matches!(value, Skeleton::Scalar(_)) {
        let new_text = value.flow();
        if value_range.is_empty() {
            // `key:` with no value: write after the colon.
            let colon = text.get(key_range.end..).and_then(|t| t.find(':')).map(|i| key_range.end + i + 1);
            if let Some(at) = colon {
                return TextEdit { range: TextRange::new(at, at), new_text: format!(" {new_text}") };
            }
        }
        return TextEdit { range: value_range, new_text };
    }
    let col = column(text, key_range.start);
    let mut new_text = String::from(":");
    value.write_after_key(col, &mut new_text);
    TextEdit { range: TextRange::new(key_range.end, value_range.end.max(key_range.end)), new_text }
}

/// Whether the node is written inside a flow collection (where block style is not allowed).
pub(crate) fn inside_flow(doc: &Document, node: NodeId) -> bool {
    let r = doc.range(node);
    doc.nodes.iter().any(|n| {
        matches!(n.kind, NodeKind::Mapping { flow: true, .. } | NodeKind::Sequence { flow: true, .. })
            && n.range.start < r.start
            && r.end <= n.range.end
    })
}

/// Applies edits (non-overlapping) to a text.
#[cfg(test)]
pub(crate) fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut edits: Vec<&TextEdit> = edits.iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
    let mut out = text.to_string();
    for e in edits {
        out.replace_range(e.range.start..e.range.end, &e.new_text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::tree::parse;

    fn root_map(text: &str, path: &[&str]) -> (Document, NodeId) {
        let s = parse(text);
        let doc = s.docs.into_iter().next().unwrap();
        let id = doc.path(doc.root.unwrap(), path).unwrap();
        (doc, id)
    }

    #[test]
    fn positions() {
        let t = "a: 1\n  bé: 2\n";
        assert_eq!(line_of(t, 0), 0);
        assert_eq!(line_of(t, 7), 1);
        assert_eq!(line_start(t, 9), 5);
        assert_eq!(column(t, 10), 4); // after "bé" (3 bytes, 2 chars)
    }

    #[test]
    fn scalar_quoting() {
        assert_eq!(scalar_text("kube-system"), "kube-system");
        assert_eq!(scalar_text("yes"), "\"yes\"");
        assert_eq!(scalar_text("${SECRET_X}"), "\"${SECRET_X}\"");
        assert_eq!(scalar_text("1234"), "\"1234\"");
        assert_eq!(scalar_text("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn add_key_block_mapping_in_sequence_item() {
        let text = "spec:\n  rules:\n    - hostnames: [a]\n      x: 1\n";
        let s = parse(text);
        let doc = &s.docs[0];
        let rules = doc.path(doc.root.unwrap(), &["spec", "rules"]).unwrap();
        let item = doc.items(rules)[0];
        let sk = Skeleton::Seq(vec![Skeleton::map(&[("name", Skeleton::str("internal")), ("namespace", Skeleton::str("kube-system"))])]);
        let edit = add_key(text, doc, item, "parentRefs", &sk).unwrap();
        let out = apply(text, &[edit]);
        assert_eq!(out, "spec:\n  rules:\n    - parentRefs:\n        - name: internal\n          namespace: kube-system\n      hostnames: [a]\n      x: 1\n");
        let s2 = parse(&out);
        assert!(s2.errors.is_empty());
        let d2 = &s2.docs[0];
        let item2 = d2.items(d2.path(d2.root.unwrap(), &["spec", "rules"]).unwrap())[0];
        let refs = d2.items(d2.get(item2, "parentRefs").unwrap());
        assert_eq!(refs.len(), 1);
        assert_eq!(d2.path_str(refs[0], &["namespace"]), Some("kube-system"));
        assert_eq!(d2.path_str(item2, &["x"]), Some("1"));
    }

    #[test]
    fn add_key_flow_mappings() {
        let (doc, id) = root_map("a: {b: 1}\n", &["a"]);
        let e = add_key("a: {b: 1}\n", &doc, id, "k", &Skeleton::str("v")).unwrap();
        assert_eq!(apply("a: {b: 1}\n", &[e]), "a: {k: v, b: 1}\n");
        let (doc, id) = root_map("a: {}\n", &["a"]);
        let e = add_key("a: {}\n", &doc, id, "k", &Skeleton::Seq(vec![Skeleton::str("v")])).unwrap();
        assert_eq!(apply("a: {}\n", &[e]), "a: {k: [v]}\n");
    }

    #[test]
    fn add_key_to_empty_value() {
        let text = "route:\n  app: # comment\nnext: 1\n";
        let s = parse(text);
        let doc = &s.docs[0];
        let (k, _) = doc.entry(doc.get(doc.root.unwrap(), "route").unwrap(), "app").unwrap();
        let e =
            add_key_to_empty(text, doc, k, "parentRefs", &Skeleton::Seq(vec![Skeleton::map(&[("name", Skeleton::str("TODO"))])])).unwrap();
        let out = apply(text, &[e]);
        assert_eq!(out, "route:\n  app: # comment\n    parentRefs:\n      - name: TODO\nnext: 1\n");
    }

    #[test]
    fn replace_block_and_flow_values() {
        let text = "env:\n  - name: X\n    value: lit # c\n";
        let s = parse(text);
        let doc = &s.docs[0];
        let item = doc.items(doc.get(doc.root.unwrap(), "env").unwrap())[0];
        let (k, v) = doc.entry(item, "value").unwrap();
        let sk = Skeleton::map(&[("secretKeyRef", Skeleton::map(&[("name", Skeleton::str("TODO")), ("key", Skeleton::str("X"))]))]);
        let e = replace_value(text, doc, k, v, &sk);
        assert_eq!(apply(text, &[e]), "env:\n  - name: X\n    value:\n      secretKeyRef:\n        name: TODO\n        key: X # c\n");
        let text = "env: [{name: X, value: lit}]\n";
        let s = parse(text);
        let doc = &s.docs[0];
        let item = doc.items(doc.get(doc.root.unwrap(), "env").unwrap())[0];
        let (k, v) = doc.entry(item, "value").unwrap();
        let e = replace_value(text, doc, k, v, &sk);
        assert_eq!(apply(text, &[e]), "env: [{name: X, value: {secretKeyRef: {name: TODO, key: X}}}]\n");
    }
}
