//! The YAML structure at a cursor, while the document does not parse.
//!
//! Hover, go to definition, completion and symbols need to know where the cursor sits
//! (`spec.values.route.app.parentRefs[0].name`, on the value) at the moments a user types:
//! an unclosed `[` or quote elsewhere, a key half-typed, a line indented wrong. saphyr stops
//! at the first error, so this module reads structure with tree-sitter-yaml, which recovers
//! around errors, and repairs what it cannot: lines where tree-sitter reports an error are
//! blanked (spaces, offsets unchanged) and the text reparsed, and a key being typed gets a
//! `:` so the parser places it. A line that may hold an ancestor of the cursor is never
//! blanked: no answer is better than a wrong path. Exact values still come from saphyr
//! ([`scalar_value`]).
//!
//! Input is plain YAML or a template's text with its tags blanked to spaces (newlines kept),
//! so offsets are the editor's.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use tree_sitter::{InputEdit, Node, Parser, Point, Tree};

use super::TextRange;

/// One step of a path from a document's root.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// A key written in a mapping, with where its key and value are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub key: String,
    pub key_span: TextRange,
    /// `None` when nothing follows the `:`.
    pub value_span: Option<TextRange>,
}

/// What the cursor is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorAt {
    /// On a mapping key; [`CursorContext::path`] ends with it.
    Key { key_span: TextRange, value_span: Option<TextRange> },
    /// On a value, or where it goes (an empty span at the cursor after `key:`);
    /// [`CursorContext::path`] ends with its key, or its index in a sequence (then
    /// `key_span` is `None`).
    Value { key_span: Option<TextRange>, value_span: TextRange },
    /// Where a new key is being typed: an empty or whitespace-only line, a word without `:`,
    /// `- ` starting a new item. [`CursorContext::path`] is the mapping it goes into (a new
    /// item's path ends with its index); `partial` is the word typed so far (empty at the
    /// cursor when none), `indent` the key's column in bytes.
    NewKey { indent: usize, partial: TextRange },
}

/// Where the cursor is in the structure of a (multi-document) YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorContext {
    /// Index of the document in the stream: `---` lines before the cursor, not counting a
    /// first `---` that only comments, directives or blank lines precede (as saphyr counts).
    pub document: usize,
    /// From the document root; see [`CursorAt`] for where it ends.
    pub path: Vec<PathSegment>,
    pub at: CursorAt,
    /// The other keys of the mapping the key at the cursor belongs to (empty for a sequence
    /// item value), in written order.
    pub siblings: Vec<KeyEntry>,
}

impl CursorContext {
    /// The key the path ends with, if it ends with a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.path.last() {
            Some(PathSegment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The sibling entry named `key`.
    pub fn sibling(&self, key: &str) -> Option<&KeyEntry> {
        self.siblings.iter().find(|e| e.key == key)
    }
}

/// How many repair rounds (each blanks the lines of the errors left) before giving up.
const MAX_REPAIRS: usize = 6;
/// Deepest nesting a path is built for.
const MAX_DEPTH: usize = 128;
/// Inserted where a key is being typed and nothing is written yet.
const PROBE_KEY: &str = "x:";

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Recent parses, newest first: a request on an unchanged document reuses its tree, and a
/// document one keystroke away is reparsed incrementally from its previous tree (a full
/// tree-sitter-yaml parse of 500 lines costs about a millisecond and a half).
static RECENT: Mutex<Vec<(Arc<str>, Tree)>> = Mutex::new(Vec::new());
const RECENT_SIZE: usize = 8;

/// A tree-sitter-yaml parse of `text` (`None` only if the grammar cannot be loaded).
pub fn parse_tree(text: &str) -> Option<Tree> {
    let base = {
        let recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, tree)) = recent.iter().find(|(t, _)| &**t == text) {
            return Some(tree.clone());
        }
        // The closest recent text: the most bytes shared at both ends.
        recent.iter().map(|(t, tree)| (shared_ends(t, text), t.clone(), tree.clone())).max_by_key(|(n, ..)| *n).filter(|(n, ..)| *n > 0)
    };
    let tree = match &base {
        Some((_, old_text, old_tree)) => reparse(old_text, old_tree, text)?,
        None => parse_fresh(text, None)?,
    };
    let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
    recent.insert(0, (Arc::from(text), tree.clone()));
    recent.truncate(RECENT_SIZE);
    Some(tree)
}

fn parse_fresh(text: &str, old: Option<&Tree>) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut p = Parser::new();
            p.set_language(&tree_sitter_yaml::LANGUAGE.into()).ok()?;
            *slot = Some(p);
        }
        slot.as_mut()?.parse(text, old)
    })
}

/// Bytes `a` and `b` share as a common prefix plus a common suffix (not overlapping).
fn shared_ends(a: &str, b: &str) -> usize {
    let (prefix, suffix) = common_ends(a.as_bytes(), b.as_bytes());
    prefix + suffix
}

fn common_ends(a: &[u8], b: &[u8]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
    (prefix, suffix)
}

/// `new` parsed incrementally from `old`'s tree: one edit spanning what differs.
fn reparse(old: &str, old_tree: &Tree, new: &str) -> Option<Tree> {
    let (prefix, suffix) = common_ends(old.as_bytes(), new.as_bytes());
    let point = |text: &str, at: usize| {
        let before = &text.as_bytes()[..at];
        let row = before.iter().filter(|&&b| b == b'\n').count();
        let column = at - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        Point { row, column }
    };
    let edit = InputEdit {
        start_byte: prefix,
        old_end_byte: old.len() - suffix,
        new_end_byte: new.len() - suffix,
        start_position: point(old, prefix),
        old_end_position: point(old, old.len() - suffix),
        new_end_position: point(new, new.len() - suffix),
    };
    let mut tree = old_tree.clone();
    tree.edit(&edit);
    parse_fresh(new, Some(&tree))
}

/// The exact value of the scalar written at `span` (saphyr's reading of it), or `None` when
/// the text there is not one complete scalar (an unclosed quote, a collection, an alias).
pub fn scalar_value(text: &str, span: TextRange) -> Option<String> {
    let written = text.get(span.start..span.end)?;
    if written.trim().is_empty() {
        return None;
    }
    let stream = super::tree::parse(written);
    if !stream.errors.is_empty() || stream.docs.len() != 1 {
        return None;
    }
    let doc = &stream.docs[0];
    let root = doc.root?;
    let node = doc.node(root)?;
    if node.tag.is_some() || node.anchored {
        return None;
    }
    doc.scalar(root).map(str::to_string)
}

/// The structure at byte `offset` of `text`; `None` in comments, inside complex keys, or
/// where the text is too broken to tell.
pub fn cursor_context(text: &str, offset: usize) -> Option<CursorContext> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = Line::at(text, offset);
    if is_marker_line(&text[line.start..line.end]) {
        return None;
    }
    let document = document_index(text, line.start);
    let tree = parse_tree(text)?;
    // In a comment (a `#` inside a block scalar is text, not a comment).
    if comment_start(&text[line.start..offset]).is_some() && !in_block_scalar(&tree, offset) {
        return None;
    }
    let probe = typing_key(&tree, text, &line, offset);
    let (path, at, siblings) = match probe {
        Some(probe) => resolve_probe(tree, text, &line, probe)?,
        None => resolve_written(tree, text, &line, offset)?,
    };
    Some(CursorContext { document, path, at, siblings })
}

/// Whether `offset` (or the byte before it: the cursor at a line's end) is in a block scalar.
fn in_block_scalar(tree: &Tree, offset: usize) -> bool {
    [offset, offset.saturating_sub(1)]
        .into_iter()
        .any(|o| tree.root_node().descendant_for_byte_range(o, o).is_some_and(|n| ancestors(n).any(|a| a.kind() == "block_scalar")))
}

/// The cursor's line.
struct Line {
    index: usize,
    start: usize,
    end: usize,
}

impl Line {
    fn at(text: &str, offset: usize) -> Line {
        let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let end = if end > start && text.as_bytes()[end - 1] == b'\r' { end - 1 } else { end };
        let index = text[..start].bytes().filter(|&b| b == b'\n').count();
        Line { index, start, end: end.max(offset) }
    }
}

fn is_marker_line(line: &str) -> bool {
    line.starts_with("---") && line[3..].chars().next().is_none_or(char::is_whitespace)
}

/// `---` lines before `line_start`, the first one not counted when only comments,
/// directives and blank lines precede it.
pub(crate) fn document_index(text: &str, line_start: usize) -> usize {
    let mut count = 0;
    let mut content_seen = false;
    for l in text[..line_start].lines() {
        if is_marker_line(l) {
            if content_seen {
                count += 1;
            }
            content_seen = true; // `--- value` or what follows the marker is content
            continue;
        }
        let t = l.trim_start();
        if !(t.is_empty() || t.starts_with('#') || (l.starts_with('%') && !content_seen)) {
            content_seen = true;
        }
    }
    count
}

/// How to turn a key being typed into one the parser places.
struct Probe {
    /// The word typed (maybe empty, at the cursor).
    word: TextRange,
    /// Where `insert` goes.
    at: usize,
    insert: &'static str,
    /// Where the key starts once `insert` is in.
    key_start: usize,
}

/// Whether the cursor's line is a key being typed (see [`CursorAt::NewKey`]); `None` for a
/// written `key:`, a flow collection, a quoted scalar, or a list item holding a scalar that
/// parses as one.
fn typing_key(tree: &Tree, text: &str, line: &Line, offset: usize) -> Option<Probe> {
    let content = &text[line.start..line.end];
    // Inside a block scalar, a multi-line string or flow collection begun above: a value.
    let first = if content.trim().is_empty() { offset } else { line.start + (content.len() - content.trim_start().len()) };
    if continues_from_above(tree, first, line.start) {
        return None;
    }
    let mut rest = line.start;
    // Skip the indentation and `- ` markers.
    loop {
        let bytes = text.as_bytes();
        while rest < line.end && bytes[rest] == b' ' {
            rest += 1;
        }
        if rest < line.end && bytes[rest] == b'-' && (rest + 1 == line.end || bytes[rest + 1] == b' ') {
            if rest + 1 == line.end && offset == line.end {
                // `-` at the end of the line, the cursor after it: a new item.
                return Some(Probe { word: TextRange::new(offset, offset), at: offset, insert: " x:", key_start: offset + 1 });
            }
            rest += 1;
            continue;
        }
        break;
    }
    if offset < rest {
        return None; // in the indentation before written content
    }
    let word = &text[rest..line.end];
    if word.trim().is_empty() {
        // A blank line or trailing blanks after `- `: the key goes at the cursor.
        return Some(Probe { word: TextRange::new(offset, offset), at: offset, insert: PROBE_KEY, key_start: offset });
    }
    let trimmed = word.trim_end();
    let word_end = rest + trimmed.len();
    let keyish = trimmed.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if !keyish || offset > word_end {
        return None;
    }
    let dashed = text[line.start..rest].contains('-');
    if dashed && matches!(lookup_written(tree, text, offset), Some((_, CursorAt::Value { .. }, _))) {
        return None; // `- item` in a list of scalars
    }
    Some(Probe { word: TextRange::new(rest, word_end), at: word_end, insert: ":", key_start: rest })
}

/// Whether the content at `pos` belongs to a node that started on an earlier line (block
/// scalar, multi-line quoted or plain scalar, flow collection).
fn continues_from_above(tree: &Tree, pos: usize, line_start: usize) -> bool {
    let Some(mut node) = tree.root_node().descendant_for_byte_range(pos, pos) else { return false };
    loop {
        let k = node.kind();
        if node.start_byte() >= line_start {
            match node.parent() {
                Some(p) => node = p,
                None => return false,
            }
            continue;
        }
        return matches!(
            k,
            "block_scalar" | "double_quote_scalar" | "single_quote_scalar" | "plain_scalar" | "flow_sequence" | "flow_mapping"
        ) && node.end_byte() > pos
            && !has_error_ancestor(node);
    }
}

type Found = (Vec<PathSegment>, CursorAt, Vec<KeyEntry>);

/// The cursor on written text: the parse as it is, then repaired round by round.
fn resolve_written(first: Tree, text: &str, line: &Line, offset: usize) -> Option<Found> {
    let mut work = text.to_string();
    let mut value_blanked = false;
    let mut tree = first;
    let mut previous: Option<String> = None;
    for _ in 0..MAX_REPAIRS {
        if let Some(prev) = previous.take() {
            tree = reparse(&prev, &tree, &work)?;
        }
        if let Some(found) = lookup_written(&tree, &work, offset) {
            return Some(finish_written(text, line, offset, found, value_blanked));
        }
        let lines = error_lines(&tree, &work, line)?;
        if lines.is_empty() {
            // The cursor's own line is what breaks: keep its `key:`, drop what follows.
            if value_blanked {
                return None;
            }
            let colon = key_colon(text, line)?;
            previous = Some(work.clone());
            blank(&mut work, colon + 1, line.end);
            value_blanked = true;
            continue;
        }
        previous = Some(work.clone());
        blank_lines(&mut work, &lines);
    }
    None
}

/// With the value blanked, the value's span is what the original text has after `key:`.
fn finish_written(text: &str, line: &Line, offset: usize, found: Found, value_blanked: bool) -> Found {
    let (path, at, siblings) = found;
    let at = match at {
        CursorAt::Value { key_span: Some(k), .. } if value_blanked => {
            CursorAt::Value { key_span: Some(k), value_span: written_value(text, k.end, line.end, offset) }
        }
        other => other,
    };
    (path, at, siblings)
}

/// The text after the `:` that follows `key_end`, up to `line_end`, leading and trailing
/// blanks and a comment left out; an empty span at `offset` when there is none.
fn written_value(text: &str, key_end: usize, line_end: usize, offset: usize) -> TextRange {
    let Some(colon) = text.get(key_end..line_end).and_then(|t| t.find(':')).map(|i| key_end + i) else {
        return TextRange::new(offset, offset);
    };
    let after = &text[colon + 1..line_end];
    let start = colon + 1 + (after.len() - after.trim_start().len());
    let mut end = start + after.trim().len();
    if let Some(c) = comment_start(&text[start..end]) {
        end = start + text[start..start + c].trim_end().len();
    }
    if start < end {
        TextRange::new(start, end)
    } else {
        TextRange::new(offset, offset)
    }
}

/// Where a comment starts in one line of YAML: `#` at the start or after a blank, outside
/// quotes.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(b'"') if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'#' && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') => return Some(i),
            None if (b == b'"' || b == b'\'') && (i == 0 || matches!(bytes[i - 1], b' ' | b'[' | b'{' | b',' | b':')) => quote = Some(b),
            None => {}
        }
        i += 1;
    }
    None
}

/// The `:` ending the cursor line's key (after `- ` markers), when the line is `key: …`.
fn key_colon(text: &str, line: &Line) -> Option<usize> {
    let content = &text[line.start..line.end];
    let body = content.trim_start_matches([' ', '-']);
    let body_start = line.start + (content.len() - body.len());
    if body.starts_with(['"', '\'', '[', '{', '#']) {
        return None;
    }
    let colon = body.find(": ").or_else(|| body.strip_suffix(':').map(|b| b.len()))?;
    Some(body_start + colon)
}

/// The cursor on a key being typed: the probe inserted, then repaired round by round.
fn resolve_probe(tree: Tree, text: &str, line: &Line, probe: Probe) -> Option<Found> {
    let mut work = format!("{}{}{}", &text[..probe.at], probe.insert, &text[probe.at..]);
    let mut tree = reparse(text, &tree, &work)?;
    let mut previous: Option<String> = None;
    let shift = probe.insert.len();
    let key_start = probe.key_start;
    let back = |r: TextRange| {
        let map = |x: usize| if x >= probe.at + shift { x - shift } else { x.min(probe.at) };
        TextRange::new(map(r.start), map(r.end))
    };
    let probed_line = Line { index: line.index, start: line.start, end: line.end + shift };
    for _ in 0..MAX_REPAIRS {
        if let Some(prev) = previous.take() {
            tree = reparse(&prev, &tree, &work)?;
        }
        if let Some((path, siblings)) = lookup_probe(&tree, &work, key_start) {
            let siblings = siblings
                .into_iter()
                .map(|e| KeyEntry { key: e.key, key_span: back(e.key_span), value_span: e.value_span.map(back) })
                .collect();
            let indent = key_start - line.start;
            return Some((path, CursorAt::NewKey { indent, partial: probe.word }, siblings));
        }
        let lines = error_lines(&tree, &work, &probed_line)?;
        if lines.is_empty() {
            return None;
        }
        previous = Some(work.clone());
        blank_lines(&mut work, &lines);
    }
    None
}

/// The mapping pair whose key starts at `key_start` (the probe): its mapping's path and the
/// other entries.
fn lookup_probe(tree: &Tree, text: &str, key_start: usize) -> Option<(Vec<PathSegment>, Vec<KeyEntry>)> {
    let node = tree.root_node().descendant_for_byte_range(key_start, key_start)?;
    let pair = ancestors(node).find(|n| n.kind() == "block_mapping_pair" && n.start_byte() == key_start)?;
    if has_error_ancestor(pair) {
        return None;
    }
    let mut path = path_to(pair, text)?;
    path.pop(); // the probe's own key
    let siblings = entries(pair.parent()?, text).into_iter().filter(|e| e.key_span.start != key_start).collect();
    Some((path, siblings))
}

/// The cursor in the tree as parsed, when every node from it to its document is sound.
fn lookup_written(tree: &Tree, text: &str, offset: usize) -> Option<Found> {
    let root = tree.root_node();
    let mut candidates = vec![root.descendant_for_byte_range(offset, offset)?];
    if offset > 0 {
        if let Some(n) = root.descendant_for_byte_range(offset - 1, offset - 1) {
            candidates.push(n); // the cursor right after a word
        }
    }
    for node in candidates {
        if node.kind() == "comment" {
            return None;
        }
        if let Some(found) = place(node, text, offset) {
            return Some(found);
        }
    }
    // Between a `key:` and the line end (no value yet), or in blanks after a value.
    let line = Line::at(text, offset);
    let pair = pair_on_line(root, &line, offset)?;
    place_in_pair(pair, None, text, offset)
}

/// Where `node` (the smallest node at the cursor) sits: on a key, on a value.
fn place(node: Node, text: &str, offset: usize) -> Option<Found> {
    let mut child = node;
    let mut steps = 0;
    while let Some(parent) = child.parent() {
        steps += 1;
        if steps > MAX_DEPTH || parent.is_error() {
            return None;
        }
        match parent.kind() {
            "block_mapping_pair" | "flow_pair" => return place_in_pair(parent, Some(child), text, offset),
            "block_sequence_item" => {
                let value = parent.named_child(0).filter(|v| v.kind() != "comment")?;
                if !(value.start_byte() <= offset && offset <= value.end_byte()) || is_collection(value) {
                    return None;
                }
                let path = path_to(value, text)?;
                return Some((path, CursorAt::Value { key_span: None, value_span: range(value) }, Vec::new()));
            }
            "flow_sequence" => {
                if is_collection(child) {
                    return None;
                }
                let path = path_to(child, text)?;
                return Some((path, CursorAt::Value { key_span: None, value_span: range(child) }, Vec::new()));
            }
            "flow_mapping" | "block_mapping" | "block_sequence" | "document" | "stream" => return None,
            _ => child = parent,
        }
    }
    None
}

fn is_collection(node: Node) -> bool {
    let inner = if matches!(node.kind(), "block_node" | "flow_node") { last_named(node) } else { Some(node) };
    inner.is_some_and(|n| matches!(n.kind(), "block_mapping" | "block_sequence" | "flow_mapping" | "flow_sequence"))
}

fn last_named(node: Node) -> Option<Node> {
    let mut c = node.walk();
    let last = node.named_children(&mut c).filter(|n| !matches!(n.kind(), "anchor" | "tag" | "comment")).last();
    last
}

/// The cursor in `pair`: `via` is the child of the pair it was found under.
fn place_in_pair(pair: Node, via: Option<Node>, text: &str, offset: usize) -> Option<Found> {
    if has_error_ancestor(pair) || pair.is_error() {
        return None;
    }
    let key = pair.child_by_field_name("key")?;
    let value = pair.child_by_field_name("value");
    let key_span = range(key);
    let value_span = value.map(range);
    let on_key = match via {
        Some(v) => v.id() == key.id(),
        None => offset <= key_span.end,
    };
    if via.is_some_and(|v| v.id() != key.id() && value.is_none_or(|val| val.id() != v.id())) {
        return None; // on the `:` or a comment inside the pair
    }
    let path = path_to(pair, text)?;
    let siblings: Vec<KeyEntry> =
        pair.parent().map(|m| entries(m, text)).unwrap_or_default().into_iter().filter(|e| e.key_span != key_span).collect();
    if on_key {
        return Some((path, CursorAt::Key { key_span, value_span }, siblings));
    }
    match value {
        // In a nested collection but on none of its entries (a blank inside it).
        Some(v) if is_collection(v) => None,
        Some(v) if v.start_byte() <= offset && offset <= v.end_byte() => {
            Some((path, CursorAt::Value { key_span: Some(key_span), value_span: range(v) }, siblings))
        }
        Some(_) => None,
        None => {
            // After `key:` with nothing yet: the cursor must be on the key's line.
            let line = Line::at(text, offset);
            if key_span.end < line.start || offset < key_span.end {
                return None;
            }
            let value_span = written_value(text, key_span.end, line.end, offset);
            Some((path, CursorAt::Value { key_span: Some(key_span), value_span }, siblings))
        }
    }
}

/// The innermost pair whose key starts on the cursor's line before the cursor.
fn pair_on_line<'t>(root: Node<'t>, line: &Line, offset: usize) -> Option<Node<'t>> {
    let node = root.descendant_for_byte_range(line.start, line.end.max(line.start))?;
    let mut best: Option<Node> = None;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "block_mapping_pair" || n.kind() == "flow_pair" {
            if let Some(k) = n.child_by_field_name("key") {
                let on_line = k.start_byte() >= line.start && k.start_byte() <= offset && k.end_byte() <= line.end;
                if on_line && best.is_none_or(|b| n.start_byte() >= b.start_byte()) {
                    best = Some(n);
                }
            }
        }
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            if ch.start_byte() <= line.end && ch.end_byte() >= line.start {
                stack.push(ch);
            }
        }
    }
    best
}

fn range(node: Node) -> TextRange {
    TextRange::new(node.start_byte(), node.end_byte())
}

fn ancestors(node: Node) -> impl Iterator<Item = Node> {
    std::iter::successors(Some(node), |n| n.parent()).take(MAX_DEPTH * 4)
}

fn has_error_ancestor(node: Node) -> bool {
    ancestors(node).any(|n| n.is_error() || n.is_missing())
}

/// The path of the value of `pair`, or of a value node: keys and indices from the document.
fn path_to(node: Node, text: &str) -> Option<Vec<PathSegment>> {
    let mut out = Vec::new();
    let mut child = node;
    if matches!(node.kind(), "block_mapping_pair" | "flow_pair") {
        out.push(PathSegment::Key(key_text(node.child_by_field_name("key")?, text)?));
    }
    let mut steps = 0;
    while let Some(parent) = child.parent() {
        steps += 1;
        if steps > MAX_DEPTH * 4 || parent.is_error() {
            return None;
        }
        match parent.kind() {
            "block_mapping_pair" | "flow_pair" => {
                let key = parent.child_by_field_name("key")?;
                if key.id() == child.id() {
                    return None; // inside a complex key
                }
                out.push(PathSegment::Key(key_text(key, text)?));
            }
            "block_sequence_item" => {
                let seq = parent.parent()?;
                let mut c = seq.walk();
                let i = seq.named_children(&mut c).filter(|n| n.kind() == "block_sequence_item").position(|n| n.id() == parent.id())?;
                out.push(PathSegment::Index(i));
            }
            "flow_sequence" => {
                let mut c = parent.walk();
                let i = parent
                    .named_children(&mut c)
                    .filter(|n| matches!(n.kind(), "flow_node" | "flow_pair"))
                    .position(|n| n.id() == child.id())?;
                out.push(PathSegment::Index(i));
            }
            "document" => break,
            _ => {}
        }
        child = parent;
    }
    out.reverse();
    Some(out)
}

/// A key's text: plain as written, quoted through saphyr.
fn key_text(key: Node, text: &str) -> Option<String> {
    let scalar = if key.kind() == "flow_node" { key.named_child(0)? } else { key };
    match scalar.kind() {
        "plain_scalar" => Some(text.get(scalar.byte_range())?.trim().to_string()),
        "double_quote_scalar" | "single_quote_scalar" => scalar_value(text, range(scalar)),
        _ => None,
    }
}

/// The entries of a block or flow mapping.
fn entries(mapping: Node, text: &str) -> Vec<KeyEntry> {
    let mut c = mapping.walk();
    mapping
        .named_children(&mut c)
        .filter(|n| matches!(n.kind(), "block_mapping_pair" | "flow_pair"))
        .filter_map(|p| {
            let key = p.child_by_field_name("key")?;
            Some(KeyEntry { key: key_text(key, text)?, key_span: range(key), value_span: p.child_by_field_name("value").map(range) })
        })
        .collect()
}

/// The lines to blank for the next round: where each error ends. `None` when one of them may
/// hold an ancestor of the cursor's line (blanking it would move the cursor elsewhere).
fn error_lines(tree: &Tree, text: &str, cursor: &Line) -> Option<Vec<usize>> {
    let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let line_of = |b: usize| starts.partition_point(|&s| s <= b).saturating_sub(1);
    let mut lines = Vec::new();
    let mut cursor_walk = tree.walk();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            let at = if n.is_missing() || n.end_byte() == n.start_byte() { n.start_byte() } else { n.end_byte() - 1 };
            let mut l = line_of(at);
            if n.end_byte() > n.start_byte() && text.as_bytes().get(n.end_byte() - 1) == Some(&b'\n') {
                l = line_of(n.end_byte().saturating_sub(2).max(n.start_byte()));
            }
            lines.push(l);
            if n.is_error() {
                continue;
            }
        }
        if n.has_error() {
            cursor_walk.reset(n);
            for ch in n.children(&mut cursor_walk) {
                stack.push(ch);
            }
        }
    }
    // Whatever the tree does not cover ends where the parse stopped.
    let covered = tree.root_node().end_byte();
    if !text[covered.min(text.len())..].trim().is_empty() {
        lines.push(line_of(covered.min(text.len().saturating_sub(1))));
    }
    lines.sort_unstable();
    lines.dedup();
    lines.retain(|&l| l != cursor.index && starts.get(l).is_some_and(|&s| !text[s..line_end(text, s)].trim().is_empty()));
    for &l in &lines {
        if l < cursor.index && may_be_ancestor(text, &starts, l, cursor) {
            return None;
        }
    }
    Some(lines)
}

fn line_end(text: &str, start: usize) -> usize {
    text[start..].find('\n').map_or(text.len(), |i| start + i)
}

fn indent_of(line: &str) -> Option<usize> {
    let t = line.trim_start_matches(' ');
    if t.trim().is_empty() || t.starts_with('#') {
        return None;
    }
    Some(line.len() - t.len())
}

/// Whether line `l` (above the cursor) is indented less than every written line between it
/// and the cursor's line, and less than the cursor's: then it may be the cursor's ancestor.
fn may_be_ancestor(text: &str, starts: &[usize], l: usize, cursor: &Line) -> bool {
    let line_text = |i: usize| &text[starts[i]..line_end(text, starts[i])];
    let Some(own) = indent_of(line_text(l)) else { return false };
    let cursor_text = &text[cursor.start..cursor.end];
    let cursor_indent = indent_of(cursor_text).unwrap_or(cursor_text.len());
    if own >= cursor_indent {
        return false;
    }
    (l + 1..cursor.index).filter_map(|i| indent_of(line_text(i))).all(|i| own < i)
}

fn blank_lines(work: &mut String, lines: &[usize]) {
    let starts: Vec<usize> = std::iter::once(0).chain(work.match_indices('\n').map(|(i, _)| i + 1)).collect();
    for &l in lines {
        if let Some(&s) = starts.get(l) {
            let e = line_end(work, s);
            blank(work, s, e);
        }
    }
}

/// Spaces over `start..end` (line breaks kept), so offsets stay the same.
fn blank(work: &mut String, start: usize, end: usize) {
    *work = super::mask_template(work, std::slice::from_ref(&(start..end)));
}

#[cfg(test)]
mod tests;
