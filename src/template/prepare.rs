//! Rewrites a template's source before minijinja compiles it, keeping every line where it
//! was (no newline is ever added or removed, so error lines stay exact):
//!
//! * Python's `'fmt' % args` string formatting, which minijinja has no operator for, becomes
//!   `('fmt'|__pyformat(args))`.
//! * `set x = [...]` list literals become `__mutable_list([...])` so `x.append(v)` works as
//!   in Python.
//! * Optionally, line-map markers are inserted into raw text (see [`crate::template::linemap`]).

use super::linemap::{marker, MarkerKind};
use super::syntax::{lex, TemplateSyntax, Token, TokenKind};

/// A prepared source plus what is needed to map positions back to the original.
#[derive(Debug, Clone)]
pub struct PreparedSource {
    pub text: String,
    /// (offset in prepared text, offset in original text) at each edit boundary, ascending.
    anchors: Vec<(usize, usize)>,
    /// The first tag too complex to hand to minijinja (its parser would overflow the
    /// stack), with the message to report: the renderer refuses the template instead.
    pub too_complex: Option<(std::ops::Range<usize>, String)>,
    /// The original source's length: text the preparation adds at the end (closing an
    /// unterminated tag) maps to the end of the source, never past it.
    original_len: usize,
}

impl PreparedSource {
    /// Maps a byte offset in the prepared text back to the original source.
    pub fn original_offset(&self, prepared: usize) -> usize {
        let idx = self.anchors.partition_point(|(p, _)| *p <= prepared);
        if idx == 0 {
            return prepared.min(self.original_len);
        }
        let (p, o) = self.anchors[idx - 1];
        (o + (prepared - p)).min(self.original_len)
    }
}

/// Prepares `source` for compilation. With `instrument = Some(template_id)`, line-map
/// markers are woven into raw text.
pub fn prepare(source: &str, syntax: &TemplateSyntax, instrument: Option<u32>) -> PreparedSource {
    let tokens = lex(source, syntax);
    let mut out = String::with_capacity(source.len() + source.len() / 8);
    let mut anchors = Vec::new();
    let line_starts = LineCounter::new(source);
    let mut too_complex = None;
    for (i, token) in tokens.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let next = tokens.get(i + 1);
        match token.kind {
            TokenKind::Raw => match instrument {
                Some(id) => instrument_raw(source, token, prev, next, syntax, id, &line_starts, &mut out, &mut anchors),
                None => out.push_str(&source[token.span.clone()]),
            },
            TokenKind::Variable | TokenKind::Block => {
                if let (Some(id), TokenKind::Variable) = (instrument, token.kind) {
                    // An expression marker right before the tag, unless the tag strips the
                    // whitespace before it (the marker would shield that whitespace).
                    if !token.trim_before {
                        push_marker(&mut out, &mut anchors, token.span.start, MarkerKind::Expr, id, line_starts.line_of(token.span.start));
                    }
                }
                let inner = &source[token.inner.clone()];
                if too_complex.is_none() {
                    too_complex = super::budget::too_complex(inner, token.inner.clone());
                }
                let rewritten = rewrite_expression(inner, token.kind == TokenKind::Block);
                match rewritten {
                    Some(new_inner) => {
                        out.push_str(&source[token.span.start..token.inner.start]);
                        anchors.push((out.len(), token.inner.start));
                        out.push_str(&new_inner);
                        anchors.push((out.len(), token.inner.end));
                        out.push_str(&source[token.inner.end..token.span.end]);
                    }
                    None => out.push_str(&source[token.span.clone()]),
                }
            }
            TokenKind::Comment => out.push_str(&source[token.span.clone()]),
        }
    }
    PreparedSource { text: out, anchors, too_complex, original_len: source.len() }
}

struct LineCounter {
    starts: Vec<usize>,
}

impl LineCounter {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    fn line_of(&self, offset: usize) -> u32 {
        (self.starts.partition_point(|s| *s <= offset) - 1) as u32
    }
}

fn push_marker(out: &mut String, anchors: &mut Vec<(usize, usize)>, original_at: usize, kind: MarkerKind, id: u32, line: u32) {
    out.push_str(&marker(kind, id, line));
    anchors.push((out.len(), original_at));
}

/// Copies one raw token, inserting a raw-line marker at each line start that is safe:
/// never inside whitespace that `trim_blocks`, `lstrip_blocks` or a `-` mark removes
/// (a marker there would shield it and change the output).
#[allow(clippy::too_many_arguments)]
fn instrument_raw(
    source: &str,
    token: &Token,
    prev: Option<&Token>,
    next: Option<&Token>,
    syntax: &TemplateSyntax,
    id: u32,
    lines: &LineCounter,
    out: &mut String,
    anchors: &mut Vec<(usize, usize)>,
) {
    let text = &source[token.span.clone()];
    let base = token.span.start;
    // Protected prefix: whitespace a preceding tag strips.
    let mut protected_start = 0usize;
    if let Some(p) = prev {
        if p.trim_after {
            protected_start = text.len() - text.trim_start().len();
        } else if syntax.trim_blocks && !p.keep_after && matches!(p.kind, TokenKind::Block | TokenKind::Comment) {
            if text.starts_with("\r\n") {
                protected_start = 2;
            } else if text.starts_with('\n') {
                protected_start = 1;
            }
        }
    }
    // Protected suffix: whitespace a following tag strips.
    let mut protected_end = text.len();
    if let Some(n) = next {
        if n.trim_before {
            protected_end = text.trim_end().len();
        } else if syntax.lstrip_blocks && !n.keep_before && matches!(n.kind, TokenKind::Block | TokenKind::Comment) {
            let last_line_start = text.rfind('\n').map_or(0, |i| i + 1);
            if text[last_line_start..].chars().all(|c| c == ' ' || c == '\t') {
                // Only when the tag starts its line (or the raw token is the file start).
                if last_line_start > 0 || prev.is_none() {
                    protected_end = last_line_start;
                }
            }
        }
    }
    protected_start = protected_start.min(protected_end);
    // Candidate marker positions: the token start (a tag just ended, output resumes from
    // raw text here) and every line start.
    let mut candidates: Vec<usize> = vec![0];
    candidates.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let mut copied = 0;
    let mut last_marked: Option<usize> = None;
    for cand in candidates {
        let pos = cand.max(protected_start);
        if pos >= protected_end || pos > text.len() || Some(pos) == last_marked {
            continue;
        }
        // Never place a marker at the very end of the token unless text follows it.
        if pos == text.len() {
            continue;
        }
        out.push_str(&text[copied..pos]);
        copied = pos;
        push_marker(out, anchors, base + pos, MarkerKind::Raw, id, lines.line_of(base + pos));
        last_marked = Some(pos);
    }
    out.push_str(&text[copied..]);
}

/// The `'%s' % x` rewrite applied to a standalone expression.
pub fn rewrite_expression_text(expr: &str) -> String {
    rewrite_percent_format(expr).unwrap_or_else(|| expr.to_string())
}

/// Applies the source rewrites to one tag's inner text. `None` when nothing changed.
fn rewrite_expression(inner: &str, is_block: bool) -> Option<String> {
    let mut changed = false;
    let mut text = inner.to_string();
    if let Some(t) = rewrite_percent_format(&text) {
        text = t;
        changed = true;
    }
    if is_block {
        if let Some(t) = rewrite_mutable_list(&text) {
            text = t;
            changed = true;
        }
    }
    changed.then_some(text)
}

/// Finds the end of a quoted string starting at `start` (which holds the quote).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let q = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == q {
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Finds the matching close bracket for the open bracket at `start`.
fn bracket_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0i32;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                i = string_end(bytes, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// End of a primary expression with its postfix chain (`a.b[0](x)`) and any filters.
fn operand_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    match bytes.get(i)? {
        b'(' | b'[' | b'{' => i = bracket_end(bytes, i),
        b'\'' | b'"' => i = string_end(bytes, i),
        b if is_ident_byte(*b) || *b == b'-' => {
            i += 1;
            while i < bytes.len() && (is_ident_byte(bytes[i]) || bytes[i] == b'.') {
                i += 1;
            }
        }
        _ => return None,
    }
    loop {
        match bytes.get(i) {
            Some(b'.') => {
                i += 1;
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
            }
            Some(b'(') | Some(b'[') => i = bracket_end(bytes, i),
            _ => {
                // Filters bind tighter than `%`: `'%s' % x|upper` formats `x|upper`.
                let j = skip_ws(bytes, i);
                if bytes.get(j) == Some(&b'|') {
                    let k = skip_ws(bytes, j + 1);
                    let mut e = k;
                    while e < bytes.len() && is_ident_byte(bytes[e]) {
                        e += 1;
                    }
                    if e == k {
                        return Some(i);
                    }
                    i = e;
                    continue;
                }
                return Some(i);
            }
        }
    }
}

/// `'fmt' % args` → `('fmt'|__pyformat(args, spread))`.
fn rewrite_percent_format(inner: &str) -> Option<String> {
    let bytes = inner.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    let mut changed = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' || b == b'"' {
            let lit_start = i;
            let lit_end = string_end(bytes, i);
            let pct = skip_ws(bytes, lit_end);
            if bytes.get(pct) == Some(&b'%') && bytes.get(pct + 1) != Some(&b'=') {
                let op_start = skip_ws(bytes, pct + 1);
                if let Some(op_end) = operand_end(bytes, op_start) {
                    let operand = &inner[op_start..op_end];
                    // A tuple only when the whole operand is one closed `( … )` group:
                    // `(a, b)` spreads, `(a, b).x` or a half-typed `(` does not.
                    let closed_group =
                        operand.len() >= 2 && operand.starts_with('(') && operand.ends_with(')') && bracket_end(bytes, op_start) == op_end;
                    let spread = closed_group && has_top_level_comma(&operand[1..operand.len() - 1]);
                    out.push_str(&inner[copied..lit_start]);
                    out.push('(');
                    out.push_str(&inner[lit_start..lit_end]);
                    out.push_str("|__pyformat(");
                    out.push_str(operand);
                    out.push_str(if spread { ", true))" } else { ", false))" });
                    copied = op_end;
                    i = op_end;
                    changed = true;
                    continue;
                }
            }
            i = lit_end;
            continue;
        }
        i += 1;
    }
    if !changed {
        return None;
    }
    out.push_str(&inner[copied..]);
    Some(out)
}

fn has_top_level_comma(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                i = string_end(bytes, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                i = bracket_end(bytes, i);
                continue;
            }
            b',' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// `set x = [...]` → `set x = __mutable_list([...])`.
fn rewrite_mutable_list(inner: &str) -> Option<String> {
    let trimmed = inner.trim_start();
    let rest = trimmed.strip_prefix("set")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let eq = rest.find('=')?;
    let target = rest[..eq].trim();
    if target.is_empty() || !target.bytes().all(|b| is_ident_byte(b) || b == b',' || b == b' ') {
        return None;
    }
    let value = rest[eq + 1..].trim_start();
    if !value.starts_with('[') {
        return None;
    }
    let value_start = inner.len() - value.len();
    let bytes = inner.as_bytes();
    let end = bracket_end(bytes, value_start);
    if inner[end..].trim().is_empty() {
        let mut out = String::with_capacity(inner.len() + 20);
        out.push_str(&inner[..value_start]);
        out.push_str("__mutable_list(");
        out.push_str(&inner[value_start..end]);
        out.push(')');
        out.push_str(&inner[end..]);
        Some(out)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_format_is_rewritten() {
        assert_eq!(
            rewrite_percent_format(" talos_patches('%s' % (item.name)) ").unwrap(),
            " talos_patches(('%s'|__pyformat((item.name), false))) "
        );
        assert_eq!(rewrite_percent_format(" '%s-%s' % (a, b) ").unwrap(), " ('%s-%s'|__pyformat((a, b), true)) ");
        assert_eq!(rewrite_percent_format(" '%d' % x|int ").unwrap(), " ('%d'|__pyformat(x|int, false)) ");
        assert!(rewrite_percent_format(" a % 2 ").is_none());
    }

    /// Found by the property tests in CI: a half-typed `'' % (` took the operand `(` as a
    /// tuple and sliced `[1..0]`.
    #[test]
    fn percent_format_with_an_unclosed_tuple_does_not_panic() {
        assert_eq!(rewrite_percent_format("''%(").unwrap(), "(''|__pyformat((, false))");
        assert_eq!(rewrite_percent_format("'%s' % (a, b").unwrap(), "('%s'|__pyformat((a, b, false))");
        assert_eq!(rewrite_percent_format("'%s' % (a, b).x").unwrap(), "('%s'|__pyformat((a, b).x, false))");
        let p = prepare("#{''%(", &TemplateSyntax::hash_style(), Some(0));
        assert!(p.original_offset(p.text.len()) <= 6);
    }

    #[test]
    fn mutable_list_rewrite() {
        assert_eq!(rewrite_mutable_list(" set x = [] ").unwrap(), " set x = __mutable_list([]) ");
        assert!(rewrite_mutable_list(" set x = y ").is_none());
        assert!(rewrite_mutable_list(" if x == [] ").is_none());
    }

    #[test]
    fn prepare_keeps_lines_and_maps_offsets() {
        let src = "a\n#{ '%s' % x }#\nb";
        let p = prepare(src, &TemplateSyntax::hash_style(), None);
        assert_eq!(p.text.lines().count(), src.lines().count());
        let b_prepared = p.text.rfind('b').unwrap();
        assert_eq!(p.original_offset(b_prepared), src.rfind('b').unwrap());
    }
}
