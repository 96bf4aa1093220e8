//! A small positioned YAML tree built from `saphyr-parser` events.
//!
//! Every node carries the byte range it covers in the original text. The tree is an
//! arena per document (`NodeId` indexes `Document::nodes`), so deep input never overflows
//! the stack while dropping, and aliases point at the anchored node instead of copying it.
//! Parsing never panics: errors are collected, and after an error the parser restarts at
//! the next `---` line so later documents are still analysed.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle as ParserStyle, Span};

use super::TextRange;

/// Index of a node in [`Document::nodes`].
pub type NodeId = usize;

/// How deep the helpers in this module (and the checks) descend before giving up.
pub const MAX_DEPTH: usize = 96;

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl ScalarStyle {
    fn from_parser(style: ParserStyle) -> Self {
        match style {
            ParserStyle::Plain => ScalarStyle::Plain,
            ParserStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            ParserStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            ParserStyle::Literal => ScalarStyle::Literal,
            ParserStyle::Folded => ScalarStyle::Folded,
        }
    }

    /// `|` or `>` block scalars.
    pub fn is_block(self) -> bool {
        matches!(self, ScalarStyle::Literal | ScalarStyle::Folded)
    }
}

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Scalar {
        value: String,
        style: ScalarStyle,
    },
    Mapping {
        entries: Vec<(NodeId, NodeId)>,
        flow: bool,
    },
    Sequence {
        items: Vec<NodeId>,
        flow: bool,
    },
    /// `*name`; `target` is the anchored node when it was seen before.
    Alias {
        target: Option<NodeId>,
    },
}

/// One node with its byte range (tag and anchor included when written before the node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub range: TextRange,
    pub tag: Option<String>,
    pub anchored: bool,
}

/// One YAML document of a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub nodes: Vec<Node>,
    pub root: Option<NodeId>,
    pub range: TextRange,
}

/// A parse error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

/// The result of parsing a YAML stream: complete documents plus the errors met.
/// A document interrupted by an error is dropped; parsing resumes at the next `---` line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stream {
    pub docs: Vec<Document>,
    pub errors: Vec<ParseError>,
}

/// The largest YAML text read into a tree (checks, facts, symbols); a larger one is left
/// unread, as if empty. A tree costs up to ~100 bytes a source byte (a 25 MB file of
/// `a: b` lines took 2.5 GB and 111 s to index), and no hand-written manifest comes near
/// this (the largest in the shared corpora is 43 kB; vendored CRD bundles are 1–3 MB).
pub const MAX_TREE_BYTES: usize = 4 << 20;

/// Parses a (multi-document) YAML text. Never panics. Where the strict parse fails, YAML
/// that go-yaml and PyYAML accept (see [`super::lenient`]) is read as they read it. A text
/// over [`MAX_TREE_BYTES`] gives an empty stream.
pub fn parse(text: &str) -> Stream {
    if text.len() > MAX_TREE_BYTES {
        return Stream::default();
    }
    let strict = parse_strict(text);
    if strict.errors.is_empty() {
        return strict;
    }
    let Some(rewrite) = super::lenient::rewrite(text) else { return strict };
    let mut lenient = parse_strict(&rewrite.text);
    if lenient.errors.len() >= strict.errors.len() {
        return strict;
    }
    let map = |r: &mut TextRange| {
        r.start = rewrite.original(r.start);
        r.end = rewrite.original(r.end);
    };
    for doc in &mut lenient.docs {
        map(&mut doc.range);
        for node in &mut doc.nodes {
            map(&mut node.range);
        }
    }
    for e in &mut lenient.errors {
        e.offset = rewrite.original(e.offset);
    }
    lenient
}

fn parse_strict(text: &str) -> Stream {
    let conv = Offsets::new(text);
    let mut stream = Stream::default();
    let mut base = 0usize;
    loop {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_from(text, base, &conv, &mut stream.docs)));
        let err = match outcome {
            Ok(None) => break,
            Ok(Some(err)) => err,
            Err(_) => ParseError { offset: base, message: "internal YAML parser error".into() },
        };
        let resume = next_document_start(text, err.offset);
        stream.errors.push(err);
        match resume {
            Some(next) if next > base => base = next,
            _ => break,
        }
    }
    stream
}

/// Parses `text[base..]`, pushing complete documents; returns the error that stopped it.
fn parse_from(text: &str, base: usize, conv: &Offsets, docs: &mut Vec<Document>) -> Option<ParseError> {
    let sub = &text[base..];
    let base_chars = conv.chars_before(base);
    let mut parser = Parser::new_from_str(sub).keep_tags(true);
    let mut builder = Builder::new(text, base_chars, conv);
    // Every event consumes input or closes something opened before; this is a safety net.
    let mut budget = sub.len().saturating_mul(8).saturating_add(64);
    loop {
        if budget == 0 {
            return Some(ParseError { offset: text.len(), message: "YAML parser made no progress".into() });
        }
        budget -= 1;
        match parser.next_event() {
            None => return None,
            Some(Ok((event, span))) => {
                if builder.event(event, span, docs) {
                    return None;
                }
            }
            Some(Err(err)) => {
                let offset = conv.byte(base_chars + err.marker().index()).clamp(base, text.len());
                return Some(ParseError { offset, message: err.info().to_string() });
            }
        }
    }
}

/// Byte offset of the first line after `offset` that starts a new document (`---`).
fn next_document_start(text: &str, offset: usize) -> Option<usize> {
    let mut pos = offset.min(text.len());
    while let Some(nl) = text[pos..].find('\n') {
        let start = pos + nl + 1;
        let rest = &text[start..];
        if let Some(after) = rest.strip_prefix("---") {
            if after.is_empty() || after.starts_with([' ', '\t', '\r', '\n']) {
                return Some(start);
            }
        }
        pos = start;
    }
    None
}

/// Character index (what saphyr markers count) to byte offset.
struct Offsets {
    /// Byte offset of every char, plus `text.len()`; `None` for ASCII text (identity).
    table: Option<Vec<usize>>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Self {
        let table = if text.is_ascii() {
            None
        } else {
            let mut t: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            t.push(text.len());
            Some(t)
        };
        Offsets { table, len: text.len() }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.len),
            Some(t) => t.get(char_index).copied().unwrap_or(self.len),
        }
    }

    fn chars_before(&self, byte: usize) -> usize {
        match &self.table {
            None => byte.min(self.len),
            Some(t) => t.partition_point(|&b| b < byte),
        }
    }
}

enum Frame {
    Map { id: NodeId, pending_key: Option<NodeId> },
    Seq { id: NodeId },
}

struct Builder<'t> {
    text: &'t str,
    base_chars: usize,
    conv: &'t Offsets,
    doc: Option<Document>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    /// End (byte) of the previous event, to find block scalar headers.
    last_end: usize,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, base_chars: usize, conv: &'t Offsets) -> Self {
        Builder { text, base_chars, conv, doc: None, stack: Vec::new(), anchors: HashMap::new(), last_end: 0 }
    }

    fn range(&self, span: Span) -> TextRange {
        let start = self.conv.byte(self.base_chars + span.start.index());
        let end = self.conv.byte(self.base_chars + span.end.index()).max(start);
        TextRange { start, end }
    }

    /// Handles one event; returns true at the end of the stream.
    fn event(&mut self, event: Event<'_>, span: Span, docs: &mut Vec<Document>) -> bool {
        let range = self.range(span);
        match event {
            Event::StreamEnd => {
                self.finish_doc(range.end, docs);
                return true;
            }
            Event::Nothing | Event::StreamStart => {}
            Event::DocumentStart(_) => {
                self.finish_doc(range.start, docs);
                self.doc = Some(Document { nodes: Vec::new(), root: None, range: TextRange { start: range.start, end: range.end } });
                self.anchors.clear();
            }
            Event::DocumentEnd => self.finish_doc(range.end, docs),
            Event::Scalar(value, style, anchor, tag) => {
                let style = ScalarStyle::from_parser(style);
                let range = if style.is_block() { self.block_scalar_range(range) } else { range };
                let node = Node {
                    kind: NodeKind::Scalar { value: value.into_owned(), style },
                    range,
                    tag: tag.map(|t| t.to_string()),
                    anchored: anchor != 0,
                };
                if let Some(id) = self.push_node(node) {
                    if anchor != 0 {
                        self.anchors.insert(anchor, id);
                    }
                    self.attach(id);
                }
            }
            Event::Alias(anchor) => {
                let target = self.anchors.get(&anchor).copied();
                let node = Node { kind: NodeKind::Alias { target }, range, tag: None, anchored: false };
                if let Some(id) = self.push_node(node) {
                    self.attach(id);
                }
            }
            Event::MappingStart(anchor, tag) => self.open(true, anchor, tag.map(|t| t.to_string()), range),
            Event::SequenceStart(anchor, tag) => self.open(false, anchor, tag.map(|t| t.to_string()), range),
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(frame) = self.stack.pop() {
                    let id = match frame {
                        Frame::Map { id, .. } | Frame::Seq { id } => id,
                    };
                    if let Some(doc) = self.doc.as_mut() {
                        let flow = match &doc.nodes[id].kind {
                            NodeKind::Mapping { flow, .. } | NodeKind::Sequence { flow, .. } => *flow,
                            _ => false,
                        };
                        let end = if flow { range.end } else { last_child_end(doc, id) };
                        let node = &mut doc.nodes[id];
                        node.range.end = end.max(node.range.start);
                    }
                    self.attach(id);
                }
            }
        }
        self.last_end = self.last_end.max(range.end);
        false
    }

    fn open(&mut self, is_map: bool, anchor: usize, tag: Option<String>, range: TextRange) {
        let written = self.text.get(range.start..range.end).unwrap_or("").trim_end();
        let flow = written.ends_with(if is_map { '{' } else { '[' });
        let kind = if is_map { NodeKind::Mapping { entries: Vec::new(), flow } } else { NodeKind::Sequence { items: Vec::new(), flow } };
        let node = Node { kind, range, tag, anchored: anchor != 0 };
        if let Some(id) = self.push_node(node) {
            if anchor != 0 {
                self.anchors.insert(anchor, id);
            }
            self.stack.push(if is_map { Frame::Map { id, pending_key: None } } else { Frame::Seq { id } });
        }
    }

    fn push_node(&mut self, node: Node) -> Option<NodeId> {
        if self.doc.is_none() {
            // Content without a DocumentStart event: open an implicit document.
            self.doc = Some(Document { nodes: Vec::new(), root: None, range: node.range });
        }
        let doc = self.doc.as_mut()?;
        doc.nodes.push(node);
        Some(doc.nodes.len() - 1)
    }

    /// Hooks a finished node into its parent (or makes it the root).
    fn attach(&mut self, id: NodeId) {
        let Some(doc) = self.doc.as_mut() else { return };
        match self.stack.last_mut() {
            None => {
                if doc.root.is_none() {
                    doc.root = Some(id);
                }
            }
            Some(Frame::Seq { id: seq }) => {
                if let NodeKind::Sequence { items, .. } = &mut doc.nodes[*seq].kind {
                    items.push(id);
                }
            }
            Some(Frame::Map { id: map, pending_key }) => match pending_key.take() {
                None => *pending_key = Some(id),
                Some(key) => {
                    if let NodeKind::Mapping { entries, .. } = &mut doc.nodes[*map].kind {
                        entries.push((key, id));
                    }
                }
            },
        }
    }

    fn finish_doc(&mut self, end: usize, docs: &mut Vec<Document>) {
        if let Some(mut doc) = self.doc.take() {
            doc.range.end = end.max(doc.range.start);
            docs.push(doc);
        }
        self.stack.clear();
    }

    /// saphyr reports a block scalar from its first content character; widen the range to
    /// start at the `|`/`>` header (or its tag/anchor) and drop trailing line breaks.
    fn block_scalar_range(&self, range: TextRange) -> TextRange {
        let text = self.text;
        let mut start = range.start;
        let bytes = text.as_bytes();
        let mut pos = self.last_end.min(range.start);
        while pos < range.start {
            match bytes[pos] {
                b' ' | b'\t' | b'\r' | b'\n' | b':' | b'-' | b'?' | b',' | b'[' | b'{' => pos += 1,
                b'#' => {
                    while pos < range.start && bytes[pos] != b'\n' {
                        pos += 1;
                    }
                }
                b'|' | b'>' | b'!' | b'&' => {
                    start = pos;
                    break;
                }
                _ => break,
            }
        }
        let mut end = range.end.min(text.len()).max(start);
        while end > range.start && matches!(bytes[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
            end -= 1;
        }
        if end < start {
            end = start;
        }
        TextRange { start, end }
    }
}

fn last_child_end(doc: &Document, id: NodeId) -> usize {
    let start = doc.nodes[id].range.start;
    match &doc.nodes[id].kind {
        NodeKind::Mapping { entries, .. } => entries.last().map(|&(k, v)| doc.nodes[k].range.end.max(doc.nodes[v].range.end)),
        NodeKind::Sequence { items, .. } => items.last().map(|&i| doc.nodes[i].range.end),
        _ => None,
    }
    .unwrap_or(start)
    .max(start)
}

impl Document {
    /// The node behind `id`, following aliases (bounded, so cycles end).
    pub fn resolve(&self, id: NodeId) -> NodeId {
        let mut cur = id;
        for _ in 0..16 {
            match self.nodes.get(cur).map(|n| &n.kind) {
                Some(NodeKind::Alias { target: Some(t) }) => cur = *t,
                _ => return cur,
            }
        }
        cur
    }

    /// The node itself (aliases not followed).
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The byte range of a node (aliases not followed: where it is written).
    pub fn range(&self, id: NodeId) -> TextRange {
        self.nodes.get(id).map(|n| n.range).unwrap_or_default()
    }

    /// The scalar text of a node, following aliases.
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.nodes.get(self.resolve(id))?.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Scalar text and style, following aliases.
    pub fn scalar_with_style(&self, id: NodeId) -> Option<(&str, ScalarStyle)> {
        match &self.nodes.get(self.resolve(id))?.kind {
            NodeKind::Scalar { value, style } => Some((value, *style)),
            _ => None,
        }
    }

    /// Whether the node is an empty plain scalar (`key:` with nothing after it, or `~`/`null`).
    pub fn is_null(&self, id: NodeId) -> bool {
        matches!(self.scalar_with_style(id), Some(("" | "~" | "null" | "Null" | "NULL", ScalarStyle::Plain)))
    }

    /// Entries of a mapping (empty for anything else), following aliases.
    pub fn entries(&self, id: NodeId) -> &[(NodeId, NodeId)] {
        match self.nodes.get(self.resolve(id)).map(|n| &n.kind) {
            Some(NodeKind::Mapping { entries, .. }) => entries,
            _ => &[],
        }
    }

    /// Items of a sequence (empty for anything else), following aliases.
    pub fn items(&self, id: NodeId) -> &[NodeId] {
        match self.nodes.get(self.resolve(id)).map(|n| &n.kind) {
            Some(NodeKind::Sequence { items, .. }) => items,
            _ => &[],
        }
    }

    pub fn is_mapping(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(self.resolve(id)).map(|n| &n.kind), Some(NodeKind::Mapping { .. }))
    }

    pub fn is_sequence(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(self.resolve(id)).map(|n| &n.kind), Some(NodeKind::Sequence { .. }))
    }

    /// Whether the node (aliases followed) is a flow collection (`{}` / `[]`).
    pub fn is_flow(&self, id: NodeId) -> bool {
        matches!(
            self.nodes.get(self.resolve(id)).map(|n| &n.kind),
            Some(NodeKind::Mapping { flow: true, .. } | NodeKind::Sequence { flow: true, .. })
        )
    }

    /// `(key node, value node)` of `key` in mapping `map`; merge keys (`<<`) are honoured.
    pub fn entry(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        self.entry_depth(map, key, 0)
    }

    fn entry_depth(&self, map: NodeId, key: &str, depth: usize) -> Option<(NodeId, NodeId)> {
        if depth > 8 {
            return None;
        }
        let entries = self.entries(map);
        if let Some(&e) = entries.iter().find(|(k, _)| self.scalar(*k) == Some(key)) {
            return Some(e);
        }
        for &(k, v) in entries {
            if self.scalar(k) == Some("<<") {
                let sources: Vec<NodeId> = if self.is_sequence(v) { self.items(v).to_vec() } else { vec![v] };
                for s in sources {
                    if let Some(e) = self.entry_depth(s, key, depth + 1) {
                        return Some(e);
                    }
                }
            }
        }
        None
    }

    /// Value of `key` in mapping `map`.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.entry(map, key).map(|(_, v)| v)
    }

    /// Value at a path of keys below `start`.
    pub fn path(&self, start: NodeId, keys: &[&str]) -> Option<NodeId> {
        let mut cur = start;
        for key in keys {
            cur = self.get(cur, key)?;
        }
        Some(cur)
    }

    /// Scalar value at a path of keys below `start`.
    pub fn path_str(&self, start: NodeId, keys: &[&str]) -> Option<&str> {
        self.scalar(self.path(start, keys)?)
    }

    /// Scalar value at a path below the root.
    pub fn root_str(&self, keys: &[&str]) -> Option<&str> {
        self.path_str(self.root?, keys)
    }
}
