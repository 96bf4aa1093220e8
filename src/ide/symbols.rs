//! Document symbols (the data key tree; template blocks and `set`s), folding ranges for
//! blocks, and document links for include paths.

use super::{secrets, Analysis, FileRole};
use crate::template::expr::include_target;
use crate::template::syntax::{lex, tag_keyword, TokenKind};
use crate::workspace::data::{DataNode, DataValue};
use crate::yaml::outline::{outline, outline_within, EntryKind, OutlineEntry};
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Key,
    Block,
    Variable,
    /// One document of a multi-document YAML file.
    Document,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole construct.
    pub range: Range<usize>,
    /// The part to highlight (the key, the tag).
    pub selection: Range<usize>,
    pub children: Vec<Symbol>,
}

pub fn document_symbols(analysis: &Analysis, path: &Path) -> Vec<Symbol> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    let Some(text) = pa.text(path) else { return Vec::new() };
    match pa.role(path) {
        FileRole::Data { file } => match &pa.project.data_files[file].root {
            Some(root) => data_symbols(root, &text, file as u32),
            // Not loadable right now (a syntax error while typing): the tolerant outline.
            None if crate::yaml::is_yaml_path(path) => yaml_symbols(&text, analysis.settings.show_secrets),
            None => Vec::new(),
        },
        FileRole::Template { name, .. } => {
            let blocks = template_symbols(&text, pa.syntax());
            let output_name = match &pa.project.config.jinja_suffix {
                Some(suffix) => name.strip_suffix(suffix.as_str()).unwrap_or(&name),
                None => &name,
            };
            if crate::yaml::is_yaml_path(Path::new(output_name)) {
                with_template_keys(blocks, &text, pa.syntax(), analysis.settings.show_secrets)
            } else {
                blocks
            }
        }
        FileRole::Generated { .. } | FileRole::Other if crate::yaml::is_yaml_path(path) => {
            yaml_symbols(&text, analysis.settings.show_secrets)
        }
        _ => Vec::new(),
    }
}

/// Keys and items of hand-written or generated YAML, from the error-tolerant outline.
/// Values shown as details are masked where a hover would mask them (unless the user opted
/// in): a data file that does not load, or a plaintext Secret, holds real credentials.
fn yaml_symbols(text: &str, show_secrets: bool) -> Vec<Symbol> {
    outline_symbols(outline(text), show_secrets)
}

/// [`yaml_symbols`] of an outline already read.
fn outline_symbols(entries: Vec<OutlineEntry>, show_secrets: bool) -> Vec<Symbol> {
    fn kind(e: &OutlineEntry) -> SymbolKind {
        match e.kind {
            EntryKind::Document => SymbolKind::Document,
            EntryKind::Key | EntryKind::Item => SymbolKind::Key,
        }
    }
    fn unquote(d: &str) -> &str {
        d.trim_matches(['"', '\''])
    }
    /// The top-level entries of one document.
    fn document(entries: Vec<OutlineEntry>, show_secrets: bool) -> Vec<Symbol> {
        let is_secret = entries.iter().any(|e| e.name == "kind" && e.detail.as_deref().map(unquote) == Some("Secret"));
        entries
            .into_iter()
            .map(|e| {
                let secret_fields = is_secret && matches!(e.name.as_str(), "data" | "stringData");
                entry(e, secret_fields, show_secrets)
            })
            .collect()
    }
    /// `secret`: an ancestor is a credential-like key or a Secret's `data`/`stringData`.
    fn entry(e: OutlineEntry, secret: bool, show_secrets: bool) -> Symbol {
        let secret = secret || secrets::is_secret_key(&e.name);
        let detail = e.detail.clone().map(|d| {
            if !show_secrets && (secret || secrets::looks_like_secret(unquote(&d))) {
                secrets::MASK.to_string()
            } else {
                d
            }
        });
        Symbol {
            kind: kind(&e),
            name: e.name,
            detail,
            range: e.range.start..e.range.end,
            selection: e.selection.start..e.selection.end,
            children: e.children.into_iter().map(|c| entry(c, secret, show_secrets)).collect(),
        }
    }
    if !entries.iter().any(|e| e.kind == EntryKind::Document) {
        return document(entries, show_secrets);
    }
    entries
        .into_iter()
        .map(|mut d| {
            let children = document(std::mem::take(&mut d.children), show_secrets);
            Symbol {
                kind: kind(&d),
                name: d.name,
                detail: d.detail,
                range: d.range.start..d.range.end,
                selection: d.selection.start..d.selection.end,
                children,
            }
        })
        .collect()
}

/// Folds for YAML entries spanning lines: the key line .. the start of the line after the
/// value (the convention of [`folding_ranges`]).
fn yaml_folds(text: &str) -> Vec<Range<usize>> {
    fn walk(entries: &[OutlineEntry], text: &str, out: &mut Vec<Range<usize>>) {
        for e in entries {
            // Bytes, not `str` slices: the entry's last byte may be inside a character.
            let bytes = text.as_bytes();
            let last = e.range.end.saturating_sub(1).max(e.range.start).min(bytes.len());
            let next_line = bytes[last..].iter().position(|&b| b == b'\n').map_or(text.len(), |i| last + i + 1);
            if bytes[e.range.start.min(last)..last].contains(&b'\n') {
                out.push(e.range.start..next_line);
            }
            walk(&e.children, text, out);
        }
    }
    let mut out = Vec::new();
    walk(&outline(text), text, &mut out);
    out
}

fn data_symbols(node: &DataNode, text: &str, file: u32) -> Vec<Symbol> {
    let DataValue::Map(entries) = &node.value else { return Vec::new() };
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.key.loc.file == file) {
        let sel = super::navigation::key_range(text, e.key.loc.offset);
        let end = node_end(&e.value, text).max(sel.end);
        let detail = match &e.value.value {
            DataValue::Map(m) => Some(format!("{} keys", m.len())),
            DataValue::List(l) => Some(format!("{} items", l.len())),
            other => Some(other.type_name().to_string()),
        };
        let children = match &e.value.value {
            DataValue::Map(_) => data_symbols(&e.value, text, file),
            _ => Vec::new(),
        };
        out.push(Symbol {
            name: crate::workspace::data::pystr::py_str(&e.key.value),
            detail,
            kind: SymbolKind::Key,
            range: sel.start..end,
            selection: sel,
            children,
        });
    }
    out
}

/// The end of a value's text: the end of the last line its deepest descendant starts on.
fn node_end(node: &DataNode, text: &str) -> usize {
    let last = match &node.value {
        DataValue::Map(m) => m.last().map(|e| node_end(&e.value, text)),
        DataValue::List(l) => l.last().map(|n| node_end(n, text)),
        _ => None,
    };
    last.unwrap_or_else(|| {
        let mut start = node.loc.offset.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        text[start..].find('\n').map_or(text.len(), |i| start + i)
    })
}

/// Open/close pairs of block tags: (keyword, opening tag range, closing tag range).
pub fn block_pairs(src: &str, syntax: &crate::template::TemplateSyntax) -> Vec<(String, Range<usize>, Range<usize>, String)> {
    let tokens = lex(src, syntax);
    let mut stack: Vec<(String, Range<usize>, String)> = Vec::new();
    let mut out = Vec::new();
    for t in tokens.iter().filter(|t| t.kind == TokenKind::Block) {
        let Some(kw) = tag_keyword(src, t) else { continue };
        let inner = src[t.inner.clone()].trim().to_string();
        match kw {
            "if" | "for" | "filter" | "macro" | "call" | "block" | "with" | "raw" | "autoescape" => {
                stack.push((kw.to_string(), t.span.clone(), inner));
            }
            "set" if !inner.contains('=') => stack.push(("set".into(), t.span.clone(), inner)),
            k if k.starts_with("end") => {
                let opener = &k[3..];
                if let Some(pos) = stack.iter().rposition(|(o, ..)| o == opener) {
                    let (o, r, label) = stack.remove(pos);
                    stack.truncate(pos);
                    out.push((o, r, t.span.clone(), label));
                }
            }
            _ => {}
        }
    }
    out
}

fn template_symbols(src: &str, syntax: &crate::template::TemplateSyntax) -> Vec<Symbol> {
    let mut flat: Vec<Symbol> = block_pairs(src, syntax)
        .into_iter()
        .map(|(kw, open, close, label)| Symbol {
            name: label,
            detail: Some(kw),
            kind: SymbolKind::Block,
            range: open.start..close.end,
            selection: open,
            children: Vec::new(),
        })
        .collect();
    for t in lex(src, syntax).iter().filter(|t| t.kind == TokenKind::Block) {
        if tag_keyword(src, t) == Some("set") {
            let inner = src[t.inner.clone()].trim();
            if inner.contains('=') {
                flat.push(Symbol {
                    name: inner.to_string(),
                    detail: Some("set".into()),
                    kind: SymbolKind::Variable,
                    range: t.span.clone(),
                    selection: t.span.clone(),
                    children: Vec::new(),
                });
            }
        }
    }
    nest(flat)
}

/// A YAML template's outline: its literal keys (the template read as YAML with every tag
/// blanked, as yaml-language-server users see plain YAML) with its blocks and `set`s among
/// them, each where its range falls. A key's detail is its value as written, tags included
/// (`#{ cluster.domain }#`), masked as plain YAML's are.
fn with_template_keys(blocks: Vec<Symbol>, text: &str, syntax: &crate::template::TemplateSyntax, show_secrets: bool) -> Vec<Symbol> {
    let mut flat = Vec::new();
    flatten(blocks, &mut flat);
    if flat.len() > MAX_PLACED_BLOCKS {
        return nest(flat);
    }
    let tokens = lex(text, syntax);
    let tags: Vec<Range<usize>> = tokens.iter().filter(|t| t.is_tag()).map(|t| t.span.clone()).collect();
    let yaml = super::template_as_yaml(text, &tokens);
    // The outline reads the blanked text, where a blanked multi-byte character is a space a
    // byte: its ranges go onto the template's own character boundaries.
    let mut keys = outline_symbols(outline_within(&yaml, text), show_secrets);
    written_details(&mut keys, text, &tags, show_secrets);
    // Outer blocks first, so an inner one lands inside its outer one.
    flat.sort_by(|a, b| a.range.start.cmp(&b.range.start).then(b.range.end.cmp(&a.range.end)));
    for block in flat {
        place(text, &mut keys, block);
    }
    keys
}

/// Most blocks merged into a template's key outline; a template with more (generated, not
/// written by hand) keeps the outline of its blocks alone.
const MAX_PLACED_BLOCKS: usize = 1_000;

/// Puts a block into the key tree: under the deepest entry whose value it starts in (that
/// entry's range grows to the block's end: a `#% endif %#` after the last value line belongs
/// to it), taking in the run of entries of that level it wholly contains. Each level is
/// sorted by start, so both are found by binary search.
fn place(text: &str, level: &mut Vec<Symbol>, mut block: Symbol) {
    let start = block.range.start;
    let column = |at: usize| at - text.get(..at).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    // Inside a key's value only when indented deeper than the key (tree-sitter counts a
    // comment line after the value into it, and a blanked tag line is one).
    let before = level.partition_point(|s| s.range.start <= start);
    if let Some(parent) = before.checked_sub(1).map(|i| &mut level[i]) {
        let belongs = parent.selection.end <= start
            && start < parent.range.end
            && (matches!(parent.kind, SymbolKind::Block | SymbolKind::Document) || column(start) > column(parent.selection.start));
        if belongs {
            parent.range.end = parent.range.end.max(block.range.end);
            place(text, &mut parent.children, block);
            return;
        }
    }
    let from = level.partition_point(|s| s.range.start < start);
    let run = level[from..].iter().take_while(|s| s.range.end <= block.range.end).count();
    block.children.extend(level.drain(from..from + run));
    level.insert(from, block);
}

/// Details from the template's own text where the blanked one lost a tag: the rest of the
/// key's line after the colon (an item's after its dash; short), when a tag stands there.
fn written_details(symbols: &mut [Symbol], text: &str, tags: &[Range<usize>], show_secrets: bool) {
    for s in symbols.iter_mut() {
        written_details(&mut s.children, text, tags, show_secrets);
        if s.kind != SymbolKind::Key || !s.children.is_empty() || s.detail.as_deref() == Some(secrets::MASK) {
            continue;
        }
        let Some(after) = text.get(s.selection.end..) else { continue };
        let line_end = s.selection.end + after.find('\n').unwrap_or(after.len());
        // A `#` of a YAML comment is no reason: only a template tag on the value's line.
        if !tags.iter().any(|t| t.start < line_end && s.selection.end < t.end) {
            continue;
        }
        let rest = &text[s.selection.end..line_end];
        // A key's value follows its colon, an item's its dash.
        let item = text.get(s.selection.clone()) == Some("-");
        let value = if item { Some(rest.trim()) } else { rest.trim_start().strip_prefix(':').map(str::trim) };
        let Some(value) = value.filter(|v| !v.is_empty()) else { continue };
        let short: String = value.chars().take(60).collect();
        let short = if short.len() < value.len() { format!("{short}…") } else { short };
        s.detail = Some(if !show_secrets && secrets::looks_like_secret(&short) { secrets::MASK.to_string() } else { short });
    }
}

fn flatten(symbols: Vec<Symbol>, out: &mut Vec<Symbol>) {
    for mut s in symbols {
        let children = std::mem::take(&mut s.children);
        out.push(s);
        flatten(children, out);
    }
}

/// Turns flat, possibly nested ranges into a tree.
fn nest(mut flat: Vec<Symbol>) -> Vec<Symbol> {
    flat.sort_by(|a, b| a.range.start.cmp(&b.range.start).then(b.range.end.cmp(&a.range.end)));
    fn insert(into: &mut Vec<Symbol>, s: Symbol) {
        if let Some(parent) = into.last_mut() {
            if parent.range.start <= s.range.start && s.range.end <= parent.range.end && parent.range != s.range {
                insert(&mut parent.children, s);
                return;
            }
        }
        into.push(s);
    }
    let mut out = Vec::new();
    for s in flat {
        insert(&mut out, s);
    }
    out
}

/// Folding ranges as byte ranges (opening tag start .. closing tag start).
pub fn folding_ranges(analysis: &Analysis, path: &Path) -> Vec<Range<usize>> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    let Some(text) = pa.text(path) else { return Vec::new() };
    match pa.role(path) {
        FileRole::Template { .. } => block_pairs(&text, pa.syntax()).into_iter().map(|(_, o, c, _)| o.start..c.start).collect(),
        FileRole::Generated { .. } | FileRole::Other if crate::yaml::is_yaml_path(path) => yaml_folds(&text),
        _ => Vec::new(),
    }
}

/// *Expand Selection* ranges at `offset`, innermost first: YAML structure from the tolerant
/// tree; in a template its literal YAML, starting with the tag under the cursor.
pub fn selection_ranges(analysis: &Analysis, path: &Path, offset: usize) -> Vec<Range<usize>> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    let Some(text) = pa.text(path) else { return Vec::new() };
    let mut out: Vec<Range<usize>> = Vec::new();
    let yaml = match pa.role(path) {
        FileRole::Template { .. } => {
            let tokens = lex(&text, pa.syntax());
            if let Some(t) = tokens.iter().find(|t| t.is_tag() && t.span.start <= offset && offset <= t.span.end) {
                if t.inner.start <= offset && offset <= t.inner.end && !text[t.inner.clone()].trim().is_empty() {
                    let inner = &text[t.inner.clone()];
                    let lead = inner.len() - inner.trim_start().len();
                    out.push(t.inner.start + lead..t.inner.start + lead + inner.trim().len());
                }
                out.push(t.span.clone());
            }
            let mut yaml = super::template_as_yaml(&text, &tokens).into_bytes();
            // A `#{ }#` after other text on its line is part of a value (`host: #{ d }#.x`):
            // letters in its place keep it inside that value's range.
            for t in tokens.iter().filter(|t| t.kind == TokenKind::Variable) {
                let line_start = text[..t.span.start].rfind('\n').map_or(0, |i| i + 1);
                if !text[line_start..t.span.start].trim().is_empty() && !text[t.span.clone()].contains('\n') {
                    yaml[t.span.clone()].fill(b'x');
                }
            }
            String::from_utf8(yaml).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        }
        _ if crate::yaml::is_yaml_path(path) => text.to_string(),
        _ => return Vec::new(),
    };
    for r in crate::yaml::outline::selection_ranges(&yaml, offset) {
        let r = r.start..r.end;
        // Only ranges that grow: a blanked tag's YAML scalar may be narrower than the tag.
        if out.last().is_none_or(|l| r.start <= l.start && l.end <= r.end && *l != r) {
            out.push(r);
        }
    }
    out
}

/// Include paths as links to the partial they resolve to.
pub fn document_links(analysis: &Analysis, path: &Path) -> Vec<(Range<usize>, PathBuf)> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    if !matches!(pa.role(path), FileRole::Template { .. }) {
        return Vec::new();
    }
    let Some(text) = pa.text(path) else { return Vec::new() };
    lex(&text, pa.syntax())
        .iter()
        .filter_map(|t| include_target(&text, t))
        .filter_map(|(target, range)| pa.project.template_path(&target).map(|p| (range, p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the long fuzz run (documentSymbol internal errors on plain YAML): ranges
    /// ending inside a multi-byte character, after the outline blanked a line holding one.
    #[test]
    fn outlines_and_folds_of_multi_byte_texts_do_not_panic() {
        let texts =
            ["%#[)😀key raw   | lower- - { \n \u{2028}\n", "a:\n  b: 😀\n  c: [é, ü]\n", "- 😀\n- [é\u{2028}\n", "k: {x: é\u{2029}\n  y\n"];
        for text in texts {
            let symbols = yaml_symbols(text, false);
            let mut stack: Vec<&Symbol> = symbols.iter().collect();
            while let Some(s) = stack.pop() {
                for r in [&s.range, &s.selection] {
                    assert!(r.start <= r.end && r.end <= text.len(), "{r:?} in {text:?}");
                    assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end), "{r:?} in {text:?}");
                }
                stack.extend(&s.children);
            }
            for f in yaml_folds(text) {
                assert!(f.start <= f.end && f.end <= text.len(), "{f:?} in {text:?}");
            }
        }
    }

    /// `name(detail)[children]`, for comparing trees.
    fn shape(symbols: &[Symbol]) -> String {
        symbols
            .iter()
            .map(|s| {
                let d = s.detail.as_deref().map(|d| format!("={d}")).unwrap_or_default();
                let c = if s.children.is_empty() { String::new() } else { format!("[{}]", shape(&s.children)) };
                format!("{}{d}{c}", s.name)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_yaml_template_outlines_its_keys_with_its_blocks_among_them() {
        let tpl = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: echo\n  namespace: #{ ns }#\ndata:\n  TZ: Etc/UTC\n  #% if cilium %#\n  MODE: native\n  HOST: echo.#{ domain }#\n  #% endif %#\n#% for n in nodes %#\n# #{ n }#\n#% endfor %#\n";
        let syntax = crate::template::TemplateSyntax::hash_style();
        let symbols = with_template_keys(template_symbols(tpl, &syntax), tpl, &syntax, false);
        assert_eq!(
            shape(&symbols),
            "apiVersion=v1 kind=ConfigMap metadata=2 keys[name=echo namespace=#{ ns }#] data=3 keys[TZ=Etc/UTC if cilium=if[MODE=native HOST=echo.#{ domain }#]] for n in nodes=for"
        );
        assert_well_formed(&symbols, tpl);
        // A YAML comment is not a tag: the plain detail stays.
        let commented = "image: ghcr.io/a/b:1.2 # renovate: datasource=docker\n";
        let symbols = with_template_keys(Vec::new(), commented, &syntax, false);
        assert_eq!(shape(&symbols), "image=ghcr.io/a/b:1.2");
        // Generated templates with thousands of blocks keep the blocks' outline.
        let many = "#% if a %#\nk: 1\n#% endif %#\n".repeat(MAX_PLACED_BLOCKS + 1);
        let symbols = with_template_keys(template_symbols(&many, &syntax), &many, &syntax, false);
        assert_eq!(symbols.len(), MAX_PLACED_BLOCKS + 1);
        assert!(symbols.iter().all(|s| s.kind == SymbolKind::Block && s.children.is_empty()));
        // Half-typed and odd templates: blocks across documents, unclosed tags, multi-byte text.
        for tpl in [
            "#% if a %#\n---\nk: 1\n---\nj: 2\n#% endif %#\n",
            "a:\n  b: [é\n  #% for x in y %#\n  - #{ x\n#% endfor %#\nc: 😀\u{2028}#{\n",
            "- a: 1\n  #% if b %#\n  c: 2\nd: 3\n  #% endif %#\n",
            "#% raw %#\nk: v\n#% endraw %#\n#% macro m() %#x: 1#% endmacro %#",
            "name: é#{ \"😀\" }#é\n#{ \"😀😀\" }#: x\n- #{ \"é\" }#\n",
        ] {
            assert_well_formed(&with_template_keys(template_symbols(tpl, &syntax), tpl, &syntax, false), tpl);
        }
    }

    /// Ranges on the text's character boundaries, each selection inside its range, each
    /// child inside its parent (clients reject or misdraw the rest).
    fn assert_well_formed(symbols: &[Symbol], text: &str) {
        let mut stack: Vec<(&Symbol, Option<&Symbol>)> = symbols.iter().map(|s| (s, None)).collect();
        while let Some((s, parent)) = stack.pop() {
            for r in [&s.range, &s.selection] {
                assert!(r.start <= r.end && r.end <= text.len(), "{r:?} in {text:?}");
                assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end), "{r:?} in {text:?}");
            }
            assert!(s.range.start <= s.selection.start && s.selection.end <= s.range.end, "{s:?}");
            if let Some(p) = parent {
                assert!(p.range.start <= s.range.start && s.range.end <= p.range.end, "{s:?} outside {p:?}");
            }
            stack.extend(s.children.iter().map(|c| (c, Some(s))));
        }
    }

    fn details(symbols: &[Symbol], out: &mut Vec<(String, Option<String>)>) {
        for s in symbols {
            out.push((s.name.clone(), s.detail.clone()));
            details(&s.children, out);
        }
    }

    /// Found by the fuzzer: the outline of a data file that does not load (and of a plaintext
    /// Secret) put credential values on screen as symbol details.
    #[test]
    fn yaml_outline_masks_secret_values_unless_opted_in() {
        let data = "cloudflare_token: \"t0ps3cr3t-value\"\nnodes: [\nname: home\n";
        let plain = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  config.json: hunter2-hunter2\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  TZ: Europe/Paris\n  GITHUB: ghp_0123456789abcdefghijklmnop\n";
        for (text, hidden, shown) in [(data, "t0ps3cr3t-value", "home"), (plain, "hunter2-hunter2", "Europe/Paris")] {
            let mut masked = Vec::new();
            details(&yaml_symbols(text, false), &mut masked);
            let all = format!("{masked:?}");
            assert!(!all.contains(hidden) && !all.contains("ghp_"), "{all}");
            assert!(all.contains(shown) && all.contains(secrets::MASK), "{all}");
            let mut open = Vec::new();
            details(&yaml_symbols(text, true), &mut open);
            assert!(format!("{open:?}").contains(hidden), "showSecrets shows them: {open:?}");
        }
    }
}
