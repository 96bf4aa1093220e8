//! makejinja-flavoured Jinja syntax: the configured delimiters and an error-tolerant lexer
//! that splits a template into raw text and tags with exact byte positions.
//!
//! The renderer itself is minijinja; this lexer exists for everything around it that needs
//! positions without a full parse: the line-map instrumentation, the `'%s' % x` rewrite,
//! completion, semantic tokens and masking template parts out of YAML.

use std::ops::Range;

/// The delimiters and whitespace options of one project (from `makejinja.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateSyntax {
    pub block_start: String,
    pub block_end: String,
    pub variable_start: String,
    pub variable_end: String,
    pub comment_start: String,
    pub comment_end: String,
    pub line_statement_prefix: Option<String>,
    pub line_comment_prefix: Option<String>,
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    pub keep_trailing_newline: bool,
}

impl Default for TemplateSyntax {
    /// makejinja's defaults: Jinja's delimiters, but all three whitespace options on.
    fn default() -> Self {
        Self {
            block_start: "{%".into(),
            block_end: "%}".into(),
            variable_start: "{{".into(),
            variable_end: "}}".into(),
            comment_start: "{#".into(),
            comment_end: "#}".into(),
            line_statement_prefix: None,
            line_comment_prefix: None,
            trim_blocks: true,
            lstrip_blocks: true,
            keep_trailing_newline: true,
        }
    }
}

impl TemplateSyntax {
    /// The cluster-template family's delimiters: `#{ }#`, `#% %#`, `#| #|`.
    pub fn hash_style() -> Self {
        Self {
            block_start: "#%".into(),
            block_end: "%#".into(),
            variable_start: "#{".into(),
            variable_end: "}#".into(),
            comment_start: "#|".into(),
            comment_end: "#|".into(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Text outside any tag, written to the output as is.
    Raw,
    /// `#{ expr }#`
    Variable,
    /// `#% stmt %#`
    Block,
    /// `#| text #|`
    Comment,
}

/// One lexed piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    /// The whole token, delimiters included.
    pub span: Range<usize>,
    /// The content between the delimiters and whitespace-control marks.
    pub inner: Range<usize>,
    /// `-` right after the start delimiter: strip whitespace before the tag.
    pub trim_before: bool,
    /// `-` right before the end delimiter: strip whitespace after the tag.
    pub trim_after: bool,
    /// `+` right after the start delimiter: disable `lstrip_blocks` for this tag.
    pub keep_before: bool,
    /// `+` right before the end delimiter: disable `trim_blocks` for this tag.
    pub keep_after: bool,
    /// False when the end delimiter is missing (the tag runs to the end of the file).
    pub closed: bool,
}

impl Token {
    fn raw(span: Range<usize>) -> Self {
        Token {
            kind: TokenKind::Raw,
            inner: span.clone(),
            span,
            trim_before: false,
            trim_after: false,
            keep_before: false,
            keep_after: false,
            closed: true,
        }
    }

    pub fn is_tag(&self) -> bool {
        self.kind != TokenKind::Raw
    }
}

/// Splits `source` into raw text and tags. Never fails: an unterminated tag becomes a tag
/// that runs to the end of the input with `closed == false`.
pub fn lex(source: &str, syntax: &TemplateSyntax) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut raw_start = 0;
    let mut pos = 0;
    // `raw` blocks: everything up to the matching `endraw` tag is text.
    let mut in_raw_block = false;
    let mut starts = StartFinder::new(source, syntax);
    while pos < bytes.len() {
        let Some(found) = starts.next_at(pos) else {
            break;
        };
        let (kind, start) = found;
        let delim_len = match kind {
            TokenKind::Variable => syntax.variable_start.len(),
            TokenKind::Block => syntax.block_start.len(),
            TokenKind::Comment => syntax.comment_start.len(),
            TokenKind::Raw => unreachable!("StartFinder never returns raw"),
        };
        let token = scan_tag(source, start, delim_len, kind, syntax);
        if in_raw_block {
            // Inside `raw`, only an `endraw` block tag ends the text.
            if kind == TokenKind::Block && tag_keyword(source, &token) == Some("endraw") {
                in_raw_block = false;
            } else {
                pos = start + delim_len;
                continue;
            }
        } else if kind == TokenKind::Block && tag_keyword(source, &token) == Some("raw") {
            in_raw_block = true;
        }
        if raw_start < start {
            tokens.push(Token::raw(raw_start..start));
        }
        pos = token.span.end;
        raw_start = pos;
        tokens.push(token);
    }
    if raw_start < bytes.len() {
        tokens.push(Token::raw(raw_start..bytes.len()));
    }
    tokens
}

/// The first word of a block tag (`if`, `for`, `endfor`, ...).
pub fn tag_keyword<'a>(source: &'a str, token: &Token) -> Option<&'a str> {
    let inner = source.get(token.inner.clone())?.trim_start();
    let end = inner.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(inner.len());
    (end > 0).then(|| &inner[..end])
}

/// Finds the next start delimiter at or after a position. Positions only grow while
/// lexing, so each delimiter's next occurrence is cached and the text is searched once per
/// delimiter overall: lexing stays linear even when a delimiter never occurs (searching the
/// rest of the text for it at every tag made lexing quadratic).
struct StartFinder<'a> {
    source: &'a str,
    delims: [(TokenKind, &'a str); 3],
    /// Per delimiter: `None` = not searched yet, `Some(None)` = no occurrence left,
    /// `Some(Some(p))` = next occurrence at `p`.
    next: [Option<Option<usize>>; 3],
}

impl<'a> StartFinder<'a> {
    fn new(source: &'a str, syntax: &'a TemplateSyntax) -> Self {
        Self {
            source,
            delims: [
                (TokenKind::Variable, syntax.variable_start.as_str()),
                (TokenKind::Block, syntax.block_start.as_str()),
                (TokenKind::Comment, syntax.comment_start.as_str()),
            ],
            next: [None; 3],
        }
    }

    fn next_at(&mut self, from: usize) -> Option<(TokenKind, usize)> {
        let mut best: Option<(TokenKind, usize, usize)> = None;
        for (i, (kind, delim)) in self.delims.iter().enumerate() {
            if delim.is_empty() {
                continue;
            }
            let found = match self.next[i] {
                Some(Some(p)) if p >= from => Some(p),
                Some(None) => None,
                _ => {
                    let p = self.source[from..].find(delim).map(|x| from + x);
                    self.next[i] = Some(p);
                    p
                }
            };
            if let Some(idx) = found {
                let better = match best {
                    None => true,
                    // Earliest wins; at the same spot the longer delimiter wins.
                    Some((_, bidx, blen)) => idx < bidx || (idx == bidx && delim.len() > blen),
                };
                if better {
                    best = Some((*kind, idx, delim.len()));
                }
            }
        }
        best.map(|(kind, idx, _)| (kind, idx))
    }
}

fn scan_tag(source: &str, start: usize, delim_len: usize, kind: TokenKind, syntax: &TemplateSyntax) -> Token {
    let bytes = source.as_bytes();
    let mut inner_start = start + delim_len;
    let mut trim_before = false;
    let mut keep_before = false;
    match bytes.get(inner_start) {
        Some(b'-') => {
            trim_before = true;
            inner_start += 1;
        }
        Some(b'+') => {
            keep_before = true;
            inner_start += 1;
        }
        _ => {}
    }
    let end_delim = match kind {
        TokenKind::Variable => syntax.variable_end.as_str(),
        TokenKind::Block => syntax.block_end.as_str(),
        _ => syntax.comment_end.as_str(),
    };
    let mut pos = inner_start;
    let mut quote: Option<u8> = None;
    let mut quote_start = 0usize;
    let end = loop {
        if pos >= bytes.len() {
            break None;
        }
        let b = bytes[pos];
        if let Some(q) = quote {
            if b == b'\\' {
                pos += 2;
                continue;
            }
            // An unclosed quote ends at the line's end: while someone types `['` the
            // rest of the file must not become part of this tag. Rescan the line from
            // just after the quote as if it were not there.
            if b == b'\n' {
                quote = None;
                pos = quote_start + 1;
                continue;
            }
            if b == q {
                quote = None;
            }
            pos += 1;
            continue;
        }
        // Comments are plain text: quotes do not protect anything there.
        if kind != TokenKind::Comment && (b == b'\'' || b == b'"') {
            quote = Some(b);
            quote_start = pos;
            pos += 1;
            continue;
        }
        if bytes[pos..].starts_with(end_delim.as_bytes()) {
            break Some(pos);
        }
        // A whitespace-control mark glued to the end delimiter.
        if (b == b'-' || b == b'+') && source[pos + 1..].starts_with(end_delim) {
            break Some(pos);
        }
        pos += 1;
    };
    match end {
        Some(mut inner_end) => {
            let mut trim_after = false;
            let mut keep_after = false;
            let mut tag_end = inner_end;
            match bytes[inner_end] {
                b'-' if !source[inner_end..].starts_with(end_delim) => {
                    trim_after = true;
                    tag_end += 1;
                }
                b'+' if !source[inner_end..].starts_with(end_delim) => {
                    keep_after = true;
                    tag_end += 1;
                }
                _ => {}
            }
            if inner_end < inner_start {
                inner_end = inner_start;
            }
            Token {
                kind,
                span: start..tag_end + end_delim.len(),
                inner: inner_start..inner_end,
                trim_before,
                trim_after,
                keep_before,
                keep_after,
                closed: true,
            }
        }
        None => Token {
            kind,
            span: start..bytes.len(),
            inner: inner_start.min(bytes.len())..bytes.len(),
            trim_before,
            trim_after: false,
            keep_before,
            keep_after: false,
            closed: false,
        },
    }
}

/// Byte offsets of line starts, for offset ⇄ (line, column) conversions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 0-based (line, column in chars) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.starts[line];
        let col = text.get(start..offset).map_or(0, |s| s.chars().count());
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, &str)> {
        lex(src, &TemplateSyntax::hash_style()).into_iter().map(|t| (t.kind, &src[t.span])).collect()
    }

    #[test]
    fn splits_raw_and_tags() {
        let got = kinds("a: #{ x }#\n#% if y %#b#% endif %##| c #|\n");
        assert_eq!(
            got,
            vec![
                (TokenKind::Raw, "a: "),
                (TokenKind::Variable, "#{ x }#"),
                (TokenKind::Raw, "\n"),
                (TokenKind::Block, "#% if y %#"),
                (TokenKind::Raw, "b"),
                (TokenKind::Block, "#% endif %#"),
                (TokenKind::Comment, "#| c #|"),
                (TokenKind::Raw, "\n"),
            ]
        );
    }

    #[test]
    fn end_delimiter_inside_string_does_not_end_tag() {
        let got = kinds("#{ 'a}#b' }#z");
        assert_eq!(got, vec![(TokenKind::Variable, "#{ 'a}#b' }#"), (TokenKind::Raw, "z")]);
    }

    #[test]
    fn non_ascii_inside_a_tag() {
        let got = kinds("#{ café ~ 'ü' }# ✓ #% if ß %#");
        assert_eq!(got, vec![(TokenKind::Variable, "#{ café ~ 'ü' }#"), (TokenKind::Raw, " ✓ "), (TokenKind::Block, "#% if ß %#")]);
    }

    #[test]
    fn unclosed_quote_stops_at_line_end() {
        let got = kinds("a: #{ x['k }#\nb: #{ y }#\n");
        assert_eq!(got[1], (TokenKind::Variable, "#{ x['k }#"));
        assert_eq!(got[3], (TokenKind::Variable, "#{ y }#"));
    }

    #[test]
    fn whitespace_control_marks() {
        let src = "x #%- if a -%# y";
        let toks = lex(src, &TemplateSyntax::hash_style());
        let tag = &toks[1];
        assert!(tag.trim_before && tag.trim_after);
        assert_eq!(&src[tag.inner.clone()], " if a ");
    }

    #[test]
    fn unterminated_tag_runs_to_end() {
        let src = "a #{ x";
        let toks = lex(src, &TemplateSyntax::hash_style());
        assert_eq!(toks.len(), 2);
        assert!(!toks[1].closed);
        assert_eq!(toks[1].span, 2..6);
    }

    #[test]
    fn raw_block_keeps_delimiters_as_text() {
        let got = kinds("#% raw %##{ x }##% endraw %#");
        assert_eq!(got, vec![(TokenKind::Block, "#% raw %#"), (TokenKind::Raw, "#{ x }#"), (TokenKind::Block, "#% endraw %#"),]);
    }

    #[test]
    fn plain_yaml_comments_are_raw() {
        let got = kinds("# a comment\nkey: value # trailing\n");
        assert_eq!(got, vec![(TokenKind::Raw, "# a comment\nkey: value # trailing\n")]);
    }

    #[test]
    fn stock_delimiters() {
        let src = "{{ a }}{% b %}{# c #}";
        let toks = lex(src, &TemplateSyntax::default());
        assert_eq!(toks.len(), 3);
        assert_eq!(toks[2].kind, TokenKind::Comment);
    }

    #[test]
    fn line_index_maps_offsets() {
        let text = "ab\ncdé\nf";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (0, 0));
        assert_eq!(idx.line_col(text, 4), (1, 1));
        assert_eq!(idx.line_col(text, text.len()), (2, 1));
        assert_eq!(idx.line_count(), 3);
    }
}
