//! Property tests (issue 13): the pieces that see every half-typed state of a file never
//! panic, and what they return stays inside the text they were given. Inputs are built
//! from fragments that matter (delimiters, quotes, YAML indicators, line breaks LSP does and
//! does not count, multi-byte characters), so a few hundred cases reach the corners.
//! Case counts stay small: this runs in CI on every commit.

use homelab_lsp::server::convert::{Encoding, LineIndex};
use homelab_lsp::template::{lex, linemap, prepare, TemplateSyntax};
use homelab_lsp::workspace::data::{yaml11, DataNode, DataValue};
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "#{",
    "}#",
    "#%",
    "%#",
    "#|",
    "{{",
    "}}",
    "{%",
    "%}",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\x0c",
    "é",
    "😀",
    "'",
    "\"",
    "\\",
    ":",
    "- ",
    "? ",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "|",
    ">",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "---\n",
    "...\n",
    "x",
    "key",
    "value",
    "1",
    "-1",
    "0x1f",
    "true",
    "null",
    "~",
    " if ",
    " for x in xs ",
    " endfor ",
    " endif ",
    " raw ",
    " endraw ",
    " set a = 1 ",
    "include 'a.j2'",
    " | lower",
    ".a",
    "(",
    ")",
    "not ",
    "+",
    "%",
];

fn text_of(parts: Vec<usize>) -> String {
    parts.into_iter().map(|i| FRAGMENTS[i % FRAGMENTS.len()]).collect()
}

fn texts(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0usize..FRAGMENTS.len(), 0..max).prop_map(text_of)
}

/// 1,000 cases a suite unless `PROPTEST_CASES` asks for more (long local runs), and the
/// seed from `PROPTEST_RNG_SEED` when set: `scripts/test.sh` fixes it so a CI run is
/// reproducible, while a plain `cargo test` explores new inputs every time.
fn config() -> ProptestConfig {
    let defaults = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { defaults.cases } else { 1000 };
    ProptestConfig { cases, failure_persistence: None, ..defaults }
}

/// Every offset of a loaded data tree.
fn offsets(node: &DataNode, out: &mut Vec<usize>) {
    out.push(node.loc.offset);
    match &node.value {
        DataValue::List(items) => items.iter().for_each(|i| offsets(i, out)),
        DataValue::Map(entries) => entries.iter().for_each(|e| {
            offsets(&e.key, out);
            offsets(&e.value, out);
        }),
        _ => {}
    }
}

proptest! {
    #![proptest_config(config())]

    /// The template lexer: token spans are ordered, inside the text, on char boundaries.
    #[test]
    fn lexer_spans_stay_inside_the_template(src in texts(120)) {
        let syntax = TemplateSyntax::hash_style();
        let tokens = lex(&src, &syntax);
        let mut last = 0;
        for t in &tokens {
            prop_assert!(t.span.start <= t.span.end && t.span.end <= src.len(), "{:?} in {src:?}", t.span);
            prop_assert!(src.is_char_boundary(t.span.start) && src.is_char_boundary(t.span.end), "{:?} in {src:?}", t.span);
            prop_assert!(t.span.start >= last, "tokens out of order in {src:?}");
            last = t.span.end;
        }
    }

    /// Renderer preparation: every offset of the prepared text maps back inside the
    /// original, and the line map built from an instrumented render points at lines the
    /// template has.
    #[test]
    fn prepared_offsets_and_line_origins_stay_inside_the_template(src in texts(120)) {
        let syntax = TemplateSyntax::hash_style();
        let prepared = prepare::prepare(&src, &syntax, Some(0));
        for p in 0..=prepared.text.len() {
            prop_assert!(prepared.original_offset(p) <= src.len(), "offset {p} of {src:?}");
        }
        let plain = prepare::prepare(&src, &syntax, None);
        for p in 0..=plain.text.len() {
            prop_assert!(plain.original_offset(p) <= src.len(), "offset {p} of {src:?}");
        }
        // The instrumented text is what minijinja renders raw parts from: the markers it
        // carries name lines of this template only.
        let (_, map) = linemap::extract(&prepared.text);
        let lines = src.split('\n').count() as u32;
        for origin in map.lines.iter().flatten() {
            prop_assert_eq!(origin.template, 0);
            prop_assert!(origin.line < lines, "line {} of {} in {src:?}", origin.line, lines);
        }
    }

    /// The YAML data loader never panics, and every position it records is a char
    /// boundary inside the text (callers slice the text there).
    #[test]
    fn yaml_loader_positions_are_char_boundaries(src in texts(160)) {
        if let Ok(node) = yaml11::load_yaml(&src, 0) {
            let mut all = Vec::new();
            offsets(&node, &mut all);
            for o in all {
                prop_assert!(o <= src.len() && src.is_char_boundary(o), "offset {o} in {src:?}");
            }
        }
    }

    /// The tolerant YAML parser for plain files: error offsets inside the text.
    #[test]
    fn yaml_tree_errors_stay_inside_the_text(src in texts(160)) {
        let stream = homelab_lsp::yaml::tree::parse(&src);
        for e in &stream.errors {
            prop_assert!(e.offset <= src.len(), "{e:?} in {src:?}");
        }
    }

    /// The tolerant outline (document symbols, folding): every entry's range and selection
    /// lie inside the text on char boundaries (the server converts and slices them), and
    /// a child lies inside its parent.
    #[test]
    fn outline_ranges_stay_inside_the_text(src in texts(160)) {
        fn walk(entries: &[homelab_lsp::yaml::outline::OutlineEntry], src: &str, parent: Option<(usize, usize)>) -> Result<(), TestCaseError> {
            for e in entries {
                for r in [e.range, e.selection] {
                    prop_assert!(r.start <= r.end && r.end <= src.len(), "{r:?} of {:?} in {src:?}", e.name);
                    prop_assert!(src.is_char_boundary(r.start) && src.is_char_boundary(r.end), "{r:?} of {:?} in {src:?}", e.name);
                }
                if let Some((start, end)) = parent {
                    prop_assert!(start <= e.range.start && e.range.end <= end, "{:?} outside its parent in {src:?}", e.name);
                }
                walk(&e.children, src, Some((e.range.start, e.range.end)))?;
            }
            Ok(())
        }
        walk(&homelab_lsp::yaml::outline::outline(&src), &src, None)?;
    }

    /// The tolerant cursor context (schema completion and hover, references while the
    /// text does not parse) answers or declines at any character boundary, never panics.
    #[test]
    fn cursor_context_never_panics(src in texts(160), pick in 0usize..1000) {
        let mut offset = if src.is_empty() { 0 } else { pick % (src.len() + 1) };
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let _ = homelab_lsp::yaml::structure::cursor_context(&src, offset);
    }

    /// Range conversion: a byte offset becomes a position inside the document (LSP line
    /// breaks only), and converting it back gives the offset again, except between the
    /// `\r` and `\n` of a CRLF, which no position names.
    #[test]
    fn positions_round_trip_inside_the_document(src in texts(120), pick in 0usize..1000) {
        let idx = LineIndex::new(&src);
        let lines: Vec<&str> = {
            let mut v = Vec::new();
            let mut rest = src.as_str();
            loop {
                match rest.find(['\n', '\r']) {
                    Some(i) => {
                        v.push(&rest[..i]);
                        let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                        rest = &rest[i + skip..];
                    }
                    None => {
                        v.push(rest);
                        break;
                    }
                }
            }
            v
        };
        let mut offset = if src.is_empty() { 0 } else { pick % (src.len() + 1) };
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        for enc in [Encoding::Utf16, Encoding::Utf8] {
            let pos = idx.position(offset, enc);
            let line = lines.get(pos.line as usize);
            prop_assert!(line.is_some(), "line {} of {} in {src:?}", pos.line, lines.len());
            let len = match enc {
                Encoding::Utf16 => line.unwrap().encode_utf16().count(),
                Encoding::Utf8 => line.unwrap().len(),
            };
            prop_assert!(pos.character as usize <= len, "{pos:?} past its line in {src:?}");
            let inside_crlf = offset > 0 && src.as_bytes()[offset - 1] == b'\r' && src.as_bytes().get(offset) == Some(&b'\n');
            if !inside_crlf {
                prop_assert_eq!(idx.offset(pos, enc), offset, "{:?} in {:?}", pos, src);
            }
        }
    }

    /// The `.mjfilter.py` interpreter: any text (Python-ish fragments included) gives an
    /// outcome, never a panic.
    #[test]
    fn mjfilter_interpreter_never_panics(body in prop::collection::vec(0usize..PY.len(), 0..30)) {
        let src: String = body.into_iter().map(|i| PY[i]).collect();
        let data = yaml11::load_yaml("a: 1\nb: [x, y]\nc: {d: true}\n", 0).unwrap();
        let _ = homelab_lsp::workspace::mjfilter::evaluate_filter(&src, &data);
    }
}

const PY: &[&str] = &[
    "def main(data):\n",
    "    return ",
    "return ",
    "data",
    "['a']",
    ".get('b')",
    " == ",
    " and ",
    " or ",
    "not ",
    "True",
    "False",
    "None",
    "1",
    "'x'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "\n",
    "    ",
    "if ",
    "else",
    "elif ",
    "for x in ",
    "lambda: ",
    "import os\n",
    "raise ValueError('x')\n",
    "len(",
    "str(",
    "int(",
    "'a' in data",
    "#",
    "\"\"\"",
    "\\",
    "é",
    "**",
    "//",
];
