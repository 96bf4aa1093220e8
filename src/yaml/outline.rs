//! The key outline of a YAML text (document symbols, folding), read with tree-sitter-yaml
//! so that it survives the syntax errors of a file being edited: an unclosed `[` costs
//! that one value, not the whole outline. Lines tree-sitter cannot place (a key indented
//! wrong stops its parse there) are blanked and the text reparsed, a few rounds at most.

use tree_sitter::{Node, Tree};

use super::structure::{parse_tree, scalar_value};
use super::TextRange;

/// How deep the outline goes (deeper levels are left out).
const MAX_DEPTH: usize = 32;
/// Repair rounds, as in [`super::structure`].
const MAX_REPAIRS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// One document of a multi-document stream, named by its `kind` and `metadata.name`.
    Document,
    /// A mapping key.
    Key,
    /// A sequence item, named by its index.
    Item,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineEntry {
    pub name: String,
    /// What the value is: `3 keys`, `2 items`, or the scalar as written (short).
    pub detail: Option<String>,
    pub kind: EntryKind,
    /// The key and its value.
    pub range: TextRange,
    /// The key (the item's `-`, the document's first key).
    pub selection: TextRange,
    pub children: Vec<OutlineEntry>,
}

/// The outline of every document of `text`. A single document's keys are the top level;
/// several documents each get an entry.
pub fn outline(text: &str) -> Vec<OutlineEntry> {
    outline_within(text, text)
}

/// The outline of `parsed` with its ranges on the character boundaries of `text`, a text of
/// the same length `parsed` was made from (a template with its tags blanked).
pub fn outline_within(parsed: &str, text: &str) -> Vec<OutlineEntry> {
    let mut entries = outline_of_repaired(parsed);
    on_boundaries(&mut entries, text);
    entries
}

/// Ranges found in the repaired text, where a blanked multi-byte character is one space a
/// byte, moved onto the original text's character boundaries (callers slice there).
fn on_boundaries(entries: &mut [OutlineEntry], text: &str) {
    for e in entries {
        for r in [&mut e.range, &mut e.selection] {
            let start = floor_boundary(text, r.start);
            let mut end = floor_boundary(text, r.end).max(start);
            if end < r.end.min(text.len()) {
                end = char_end(text, end);
            }
            *r = TextRange::new(start, end);
        }
        on_boundaries(&mut e.children, text);
    }
}

fn outline_of_repaired(text: &str) -> Vec<OutlineEntry> {
    let Some(tree) = repaired(text) else { return Vec::new() };
    let (tree, work) = tree;
    let root = tree.root_node();
    let mut docs = Vec::new();
    let mut c = root.walk();
    for doc in root.named_children(&mut c).filter(|n| n.kind() == "document") {
        let Some(body) = named(doc).find(|n| matches!(n.kind(), "block_node" | "flow_node")) else { continue };
        docs.push((doc, entries_of(body, &work, 0)));
    }
    if docs.len() == 1 {
        return docs.pop().map(|(_, e)| e).unwrap_or_default();
    }
    docs.into_iter()
        .filter(|(_, e)| !e.is_empty())
        .map(|(doc, children)| {
            // Numbered as the stream counts them (a comment-only document too).
            let start = children.first().map_or(doc.start_byte(), |e| e.range.start);
            let line_start = work[..start].rfind('\n').map_or(0, |i| i + 1);
            let number = super::structure::document_index(&work, line_start) + 1;
            let name = document_name(&children).unwrap_or_else(|| format!("document {number}"));
            let selection = children.first().map_or(range(doc), |e| e.selection);
            OutlineEntry { name, detail: None, kind: EntryKind::Document, range: range(doc), selection, children }
        })
        .collect()
}

/// The tree of `text`, with lines that stop the parse blanked (offsets unchanged).
fn repaired(text: &str) -> Option<(Tree, String)> {
    let mut work = text.to_string();
    let mut tree = parse_tree(text)?;
    for _ in 0..MAX_REPAIRS {
        let covered = floor_boundary(&work, tree.root_node().end_byte());
        if !tree.root_node().is_error() && work[covered..].trim().is_empty() {
            break;
        }
        // The parse stopped: blank the line where it did. Searched as bytes: the byte
        // before `covered` may be inside a multi-byte character (U+2028 ends no YAML line).
        let stop = if tree.root_node().is_error() { covered.saturating_sub(1) } else { covered };
        let bytes = work.as_bytes();
        let start = bytes[..stop].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let end = bytes[stop..].iter().position(|&b| b == b'\n').map_or(work.len(), |i| stop + i);
        if work[start..end].trim().is_empty() {
            break;
        }
        work = super::mask_template(&work, std::slice::from_ref(&(start..end)));
        tree = parse_tree(&work)?;
    }
    Some((tree, work))
}

/// `offset` clamped to the text and moved back to a character boundary.
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// The end of the character starting at `offset` (`offset` itself at the end of the text).
fn char_end(text: &str, offset: usize) -> usize {
    let o = floor_boundary(text, offset);
    o + text[o..].chars().next().map_or(0, char::len_utf8)
}

fn named(node: Node) -> impl Iterator<Item = Node> {
    (0..node.named_child_count()).filter_map(move |i| node.named_child(i as u32))
}

fn range(node: Node) -> TextRange {
    TextRange::new(node.start_byte(), node.end_byte())
}

/// The collection inside a `block_node`/`flow_node` (anchors and tags skipped).
fn collection(node: Node) -> Option<Node> {
    named(node).find(|n| matches!(n.kind(), "block_mapping" | "block_sequence" | "flow_mapping" | "flow_sequence"))
}

fn entries_of(value: Node, text: &str, depth: usize) -> Vec<OutlineEntry> {
    if depth > MAX_DEPTH {
        return Vec::new();
    }
    let Some(coll) = collection(value) else { return Vec::new() };
    let mut out = Vec::new();
    match coll.kind() {
        "block_mapping" | "flow_mapping" => {
            for pair in named(coll).filter(|n| matches!(n.kind(), "block_mapping_pair" | "flow_pair")) {
                let Some(key) = pair.child_by_field_name("key") else { continue };
                let Some(name) = key_name(key, text) else { continue };
                let v = pair.child_by_field_name("value");
                out.push(OutlineEntry {
                    name,
                    detail: v.and_then(|v| detail(v, text)),
                    kind: EntryKind::Key,
                    range: range(pair),
                    selection: range(key),
                    children: v.map(|v| entries_of(v, text, depth + 1)).unwrap_or_default(),
                });
            }
        }
        _ => {
            let items = named(coll).filter(|n| matches!(n.kind(), "block_sequence_item" | "flow_node" | "flow_pair"));
            for (i, item) in items.enumerate() {
                let value = if item.kind() == "block_sequence_item" { named(item).find(|n| n.kind() != "comment") } else { Some(item) };
                let children = value.map(|v| entries_of(v, text, depth + 1)).unwrap_or_default();
                // An item that is a mapping with a `name` is known by it.
                let named_as = children.iter().find(|e| e.name == "name").and_then(|e| e.detail.clone());
                out.push(OutlineEntry {
                    name: i.to_string(),
                    detail: named_as.or_else(|| value.and_then(|v| detail(v, text))),
                    kind: EntryKind::Item,
                    range: range(item),
                    // The `-` of a block item; a flow item's first character, whatever its width.
                    selection: TextRange::new(item.start_byte(), char_end(text, item.start_byte())),
                    children,
                });
            }
        }
    }
    out
}

fn key_name(key: Node, text: &str) -> Option<String> {
    let scalar = named(key).next().unwrap_or(key);
    match scalar.kind() {
        "plain_scalar" => Some(text.get(scalar.byte_range())?.trim().to_string()),
        "double_quote_scalar" | "single_quote_scalar" => scalar_value(text, range(scalar)),
        _ => None,
    }
}

/// `3 keys`, `2 items`, or a short scalar as written (one line, 40 characters at most).
fn detail(value: Node, text: &str) -> Option<String> {
    if let Some(coll) = collection(value) {
        let n = named(coll).filter(|n| n.kind() != "comment").count();
        return Some(match coll.kind() {
            "block_mapping" | "flow_mapping" => format!("{n} key{}", if n == 1 { "" } else { "s" }),
            _ => format!("{n} item{}", if n == 1 { "" } else { "s" }),
        });
    }
    let written = text.get(value.byte_range())?.trim();
    let first = written.lines().next()?.trim();
    if first.is_empty() || first.starts_with(['|', '>']) {
        return None;
    }
    Some(if first.chars().count() > 40 { format!("{}…", first.chars().take(40).collect::<String>()) } else { first.to_string() })
}

/// `Kind name` from a document's `kind` and `metadata.name`.
fn document_name(entries: &[OutlineEntry]) -> Option<String> {
    let kind = entries.iter().find(|e| e.name == "kind")?.detail.clone()?;
    let name = entries.iter().find(|e| e.name == "metadata").and_then(|m| m.children.iter().find(|e| e.name == "name")?.detail.clone());
    Some(match name {
        Some(n) => format!("{kind} {n}"),
        None => kind,
    })
}

/// Ranges around `offset` for *Expand Selection*, innermost first: the scalar, its
/// `key: value`, the mapping, the enclosing `key: value`, … up to the document. Read from
/// the tolerant tree, so a syntax error elsewhere leaves them intact.
pub fn selection_ranges(text: &str, offset: usize) -> Vec<TextRange> {
    let Some(tree) = parse_tree(text) else { return Vec::new() };
    let offset = offset.min(text.len());
    let root = tree.root_node();
    let Some(mut node) = root.descendant_for_byte_range(offset, offset) else { return Vec::new() };
    // The cursor right after a word belongs to the word.
    if offset > 0 && !node.is_named() || node.kind() == "block_mapping" || node.kind() == "block_sequence" {
        if let Some(prev) = root.descendant_for_byte_range(offset - 1, offset - 1).filter(|n| n.end_byte() == offset) {
            node = prev;
        }
    }
    let mut out: Vec<TextRange> = Vec::new();
    for n in std::iter::successors(Some(node), |n| n.parent()).take(MAX_DEPTH * 8) {
        if matches!(n.kind(), "stream" | "comment") || (!n.is_named() && !n.is_error()) {
            continue;
        }
        let r = trimmed(text, range(n));
        if r.is_empty() || out.last().is_some_and(|l| *l == r) {
            continue;
        }
        if out.last().is_some_and(|l| !(r.start <= l.start && l.end <= r.end)) {
            continue; // each range contains the previous one
        }
        out.push(r);
    }
    out
}

/// `r` without trailing line breaks and blanks (a block node's range runs to the next line).
fn trimmed(text: &str, r: TextRange) -> TextRange {
    let s = text.get(r.start..r.end).unwrap_or_default();
    TextRange::new(r.start, r.start + s.trim_end().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(entries: &[OutlineEntry]) -> Vec<String> {
        entries.iter().map(|e| format!("{}{}", e.name, e.detail.as_ref().map(|d| format!("={d}")).unwrap_or_default())).collect()
    }

    const HR: &str = "apiVersion: v2\nkind: HelmRelease\nmetadata:\n  name: echo\nspec:\n  values:\n    args: [--a, --b]\n    route:\n      app:\n        parentRefs:\n          - name: internal\n            namespace: network\n";

    #[test]
    fn selection_grows_from_the_scalar_to_the_document() {
        let broken = HR.replace("[--a, --b]", "[--a, --b");
        let at = broken.find("internal").unwrap() + 2;
        let texts: Vec<&str> = selection_ranges(&broken, at).iter().map(|r| &broken[r.start..r.end]).collect();
        assert_eq!(texts[0], "internal");
        assert_eq!(texts[1], "name: internal");
        assert_eq!(texts[2], "name: internal\n            namespace: network");
        assert!(texts.contains(&"parentRefs:\n          - name: internal\n            namespace: network"), "{texts:#?}");
        assert_eq!(*texts.last().unwrap(), broken.trim_end());
        assert!(selection_ranges("", 0).is_empty());
    }

    #[test]
    fn keys_items_and_details() {
        let o = outline(HR);
        assert_eq!(names(&o), vec!["apiVersion=v2", "kind=HelmRelease", "metadata=1 key", "spec=1 key"]);
        let values = &o[3].children[0];
        assert_eq!(names(&values.children), vec!["args=2 items", "route=1 key"]);
        let refs = &values.children[1].children[0].children[0];
        assert_eq!(names(&refs.children), vec!["0=internal"]);
        assert_eq!(&HR[o[2].selection.start..o[2].selection.end], "metadata");
        assert!(HR[o[2].range.start..o[2].range.end].ends_with("name: echo"));
    }

    #[test]
    fn documents_are_named_by_kind_and_name() {
        let text = format!("{HR}---\nkind: Secret\nmetadata:\n  name: s\n---\n# only a comment\n---\na: 1\n");
        assert_eq!(names(&outline(&text)), vec!["HelmRelease echo", "Secret s", "document 4"]);
    }

    #[test]
    fn survives_syntax_errors() {
        let broken = HR.replace("[--a, --b]", "[--a, --b");
        let o = outline(&broken);
        assert_eq!(names(&o), vec!["apiVersion=v2", "kind=HelmRelease", "metadata=1 key", "spec=1 key"]);
        assert_eq!(names(&o[3].children[0].children), vec!["args", "route=1 key"], "{o:#?}");
        // A key indented wrong stops tree-sitter's parse; the rest is still outlined.
        let bad = HR.replace("  name: echo", "  name: echo\n   bad: x");
        let o = outline(&bad);
        assert_eq!(names(&o), vec!["apiVersion=v2", "kind=HelmRelease", "metadata=1 key", "spec=1 key"], "{o:#?}");
        assert!(outline("").is_empty());
        assert!(outline("[").is_empty());
    }
}
