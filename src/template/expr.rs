//! A small, error-tolerant scanner for the expressions inside tags. It does not build an
//! AST; it finds what the editor features need: variable paths (`a.b['c']`), filter, test
//! and function names, names a tag binds (`set`, `for`), string literals of `include`, all
//! with byte ranges in the template source.

use super::syntax::{lex, tag_keyword, TemplateSyntax, Token, TokenKind};
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Ident,
    Str,
    Number,
    Dot,
    Pipe,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Assign,
    Op,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprToken {
    pub kind: Tok,
    pub range: Range<usize>,
}

/// Tokenizes `src[range]`; ranges are absolute offsets into `src`.
pub fn tokenize(src: &str, range: Range<usize>) -> Vec<ExprToken> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = range.start;
    let end = range.end.min(bytes.len());
    while i < end {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'\'' | b'"' => {
                i += 1;
                while i < end && bytes[i] != b {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(end);
                Tok::Str
            }
            b'0'..=b'9' => {
                while i < end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Number
            }
            b'.' => {
                i += 1;
                Tok::Dot
            }
            b'|' => {
                i += 1;
                Tok::Pipe
            }
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b'[' => {
                i += 1;
                Tok::LBracket
            }
            b']' => {
                i += 1;
                Tok::RBracket
            }
            b'{' => {
                i += 1;
                Tok::LBrace
            }
            b'}' => {
                i += 1;
                Tok::RBrace
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b':' => {
                i += 1;
                Tok::Colon
            }
            b'=' if bytes.get(i + 1) != Some(&b'=') => {
                i += 1;
                Tok::Assign
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80) {
                    i += 1;
                }
                Tok::Ident
            }
            _ => {
                // Operators, one or two characters.
                i += 1;
                if i < end && matches!(bytes[i], b'=' | b'*' | b'/') {
                    i += 1;
                }
                Tok::Op
            }
        };
        // Keep char boundaries intact for multi-byte identifiers.
        while i < end && !src.is_char_boundary(i) {
            i += 1;
        }
        out.push(ExprToken { kind, range: start..i });
    }
    out
}

pub const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "endif",
    "for",
    "endfor",
    "set",
    "endset",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "filter",
    "endfilter",
    "include",
    "import",
    "from",
    "as",
    "with",
    "without",
    "context",
    "ignore",
    "missing",
    "macro",
    "endmacro",
    "call",
    "endcall",
    "block",
    "endblock",
    "extends",
    "raw",
    "endraw",
    "recursive",
    "do",
    "break",
    "continue",
    "autoescape",
    "endautoescape",
    "endwith",
    "loop",
    "self",
    "super",
    "varargs",
    "kwargs",
    "caller",
];

/// Statement keywords offered by completion at the start of a block tag.
pub const STATEMENTS: &[&str] = &[
    "if",
    "elif",
    "else",
    "endif",
    "for",
    "endfor",
    "set",
    "endset",
    "filter",
    "endfilter",
    "include",
    "import",
    "from",
    "macro",
    "endmacro",
    "call",
    "endcall",
    "block",
    "endblock",
    "extends",
    "raw",
    "endraw",
    "with",
    "endwith",
    "do",
    "break",
    "continue",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRole {
    /// A variable read (`a` in `a.b`).
    Variable,
    Filter,
    Test,
    /// A called global (`talos_patches(...)`).
    Function,
    /// Bound by `set` / `for` / `macro` / `with`.
    Binding,
}

/// A name (with its attribute path) used in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameUse {
    pub role: NameRole,
    /// `["bootstrap_cloudflare", "domain"]` for `bootstrap_cloudflare.domain`.
    pub path: Vec<String>,
    /// Range of each path segment (the identifier or the string inside `['..']`).
    pub ranges: Vec<Range<usize>>,
    /// The tag the use is in.
    pub tag: Range<usize>,
}

impl NameUse {
    pub fn full_range(&self) -> Range<usize> {
        self.ranges[0].start..self.ranges.last().map_or(self.ranges[0].end, |r| r.end)
    }
}

fn unquote(s: &str) -> &str {
    if s.len() >= 2 && (s.starts_with('\'') || s.starts_with('"')) {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Finds every name use in one tag.
pub fn names_in_tag(src: &str, token: &Token) -> Vec<NameUse> {
    let toks = tokenize(src, token.inner.clone());
    let text = |t: &ExprToken| &src[t.range.clone()];
    let mut out = Vec::new();
    let keyword = if token.kind == TokenKind::Block { tag_keyword(src, token) } else { None };
    // Names bound by this tag.
    let mut bound_until = 0usize; // token index before which identifiers are bindings
    match keyword {
        Some("for") => {
            // for a, b in ...
            if let Some(in_idx) = toks.iter().position(|t| t.kind == Tok::Ident && text(t) == "in") {
                bound_until = in_idx;
            }
        }
        Some("set") | Some("with") => {
            if let Some(eq) = toks.iter().position(|t| t.kind == Tok::Assign) {
                bound_until = eq;
            } else if keyword == Some("set") {
                bound_until = toks.len(); // block set: `set x %#...#% endset`
            }
        }
        Some("macro") => bound_until = toks.iter().position(|t| t.kind == Tok::RParen).unwrap_or(toks.len()),
        Some("include") | Some("import") | Some("from") | Some("extends") => {}
        _ => {}
    }
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.kind != Tok::Ident {
            i += 1;
            continue;
        }
        let word = text(t);
        let prev = i.checked_sub(1).map(|p| &toks[p]);
        let is_first = i == 0;
        if is_first && token.kind == TokenKind::Block {
            // The statement keyword itself.
            i += 1;
            continue;
        }
        if i < bound_until {
            if word != "in" && word != "recursive" {
                out.push(NameUse {
                    role: NameRole::Binding,
                    path: vec![word.to_string()],
                    ranges: vec![t.range.clone()],
                    tag: token.span.clone(),
                });
            }
            i += 1;
            continue;
        }
        if matches!(prev, Some(p) if p.kind == Tok::Dot) {
            i += 1;
            continue;
        }
        // `#% filter indent(4) %#` names a filter right after the keyword.
        let after_filter_kw = keyword == Some("filter") && i == 1;
        if after_filter_kw || matches!(prev, Some(p) if p.kind == Tok::Pipe) {
            out.push(NameUse {
                role: NameRole::Filter,
                path: vec![word.to_string()],
                ranges: vec![t.range.clone()],
                tag: token.span.clone(),
            });
            i += 1;
            continue;
        }
        let after_is = matches!(prev, Some(p) if p.kind == Tok::Ident && (text(p) == "is"))
            || (i >= 2 && toks[i - 1].kind == Tok::Ident && text(&toks[i - 1]) == "not" && text(&toks[i - 2]) == "is");
        if after_is && word != "not" {
            out.push(NameUse {
                role: NameRole::Test,
                path: vec![word.to_string()],
                ranges: vec![t.range.clone()],
                tag: token.span.clone(),
            });
            i += 1;
            continue;
        }
        if KEYWORDS.contains(&word) && word != "loop" {
            i += 1;
            continue;
        }
        // Keyword argument name `f(width=4)`.
        if matches!(toks.get(i + 1), Some(n) if n.kind == Tok::Assign) && keyword != Some("set") {
            i += 1;
            continue;
        }
        if matches!(toks.get(i + 1), Some(n) if n.kind == Tok::LParen) {
            out.push(NameUse {
                role: NameRole::Function,
                path: vec![word.to_string()],
                ranges: vec![t.range.clone()],
                tag: token.span.clone(),
            });
            i += 1;
            continue;
        }
        // A variable path: ident (.ident | ['str'])*
        let mut path = vec![word.to_string()];
        let mut ranges = vec![t.range.clone()];
        let mut j = i + 1;
        loop {
            match (toks.get(j), toks.get(j + 1), toks.get(j + 2)) {
                (Some(d), Some(n), _) if d.kind == Tok::Dot && n.kind == Tok::Ident => {
                    // A method call ends the data path (`x.split(',')`).
                    if matches!(toks.get(j + 2), Some(p) if p.kind == Tok::LParen) {
                        break;
                    }
                    path.push(text(n).to_string());
                    ranges.push(n.range.clone());
                    j += 2;
                }
                (Some(l), Some(s), Some(r)) if l.kind == Tok::LBracket && s.kind == Tok::Str && r.kind == Tok::RBracket => {
                    path.push(unquote(text(s)).to_string());
                    ranges.push(s.range.start + 1..s.range.end.saturating_sub(1).max(s.range.start + 1));
                    j += 3;
                }
                // A list index `nodes[0]`: the segment is the index.
                (Some(l), Some(n), Some(r))
                    if l.kind == Tok::LBracket
                        && n.kind == Tok::Number
                        && r.kind == Tok::RBracket
                        && text(n).bytes().all(|b| b.is_ascii_digit()) =>
                {
                    path.push(text(n).to_string());
                    ranges.push(n.range.clone());
                    j += 3;
                }
                _ => break,
            }
        }
        out.push(NameUse { role: NameRole::Variable, path, ranges, tag: token.span.clone() });
        i = j;
    }
    out
}

/// Every name use in a template, tag by tag.
pub fn names_in_template(src: &str, syntax: &TemplateSyntax) -> Vec<NameUse> {
    lex(src, syntax)
        .iter()
        .filter(|t| matches!(t.kind, TokenKind::Variable | TokenKind::Block))
        .flat_map(|t| names_in_tag(src, t))
        .collect()
}

/// The string literal of an `include`/`import`/`extends`/`from` tag: (path, range inside quotes).
pub fn include_target(src: &str, token: &Token) -> Option<(String, Range<usize>)> {
    if token.kind != TokenKind::Block {
        return None;
    }
    if !matches!(tag_keyword(src, token), Some("include" | "import" | "extends" | "from")) {
        return None;
    }
    let toks = tokenize(src, token.inner.clone());
    let s = toks.iter().find(|t| t.kind == Tok::Str)?;
    let inner = s.range.start + 1..s.range.end.saturating_sub(1).max(s.range.start + 1);
    Some((src[inner.clone()].to_string(), inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(src: &str) -> Vec<(NameRole, String)> {
        names_in_template(src, &TemplateSyntax::hash_style()).into_iter().map(|u| (u.role, u.path.join("."))).collect()
    }

    #[test]
    fn finds_paths_filters_tests_functions() {
        let got =
            uses("#{ a.b['c'] | default(x, true) | indent(width=2) }##% if d is defined and e.f is not none %##{ talos_patches('w') }#");
        assert_eq!(
            got,
            vec![
                (NameRole::Variable, "a.b.c".into()),
                (NameRole::Filter, "default".into()),
                (NameRole::Variable, "x".into()),
                (NameRole::Filter, "indent".into()),
                (NameRole::Variable, "d".into()),
                (NameRole::Test, "defined".into()),
                (NameRole::Variable, "e.f".into()),
                (NameRole::Test, "none".into()),
                (NameRole::Function, "talos_patches".into()),
            ]
        );
    }

    #[test]
    fn list_indexes_continue_a_path() {
        let got = uses("#{ nodes[0].name }##{ x[i].y }#");
        assert_eq!(
            got,
            vec![(NameRole::Variable, "nodes.0.name".into()), (NameRole::Variable, "x".into()), (NameRole::Variable, "i".into())]
        );
    }

    #[test]
    fn filter_block_names_a_filter() {
        let got = uses("#% filter indent(width=4, first=False) %#x#% endfilter %#");
        assert_eq!(got, vec![(NameRole::Filter, "indent".into())]);
    }

    #[test]
    fn bindings_of_for_and_set() {
        let got = uses("#% for item in nodes %##% set x = item.name.split('.') %#");
        assert_eq!(
            got,
            vec![
                (NameRole::Binding, "item".into()),
                (NameRole::Variable, "nodes".into()),
                (NameRole::Binding, "x".into()),
                (NameRole::Variable, "item.name".into()),
            ]
        );
    }

    #[test]
    fn include_target_range() {
        let src = "#% include 'partials/a.yaml.j2' %#";
        let toks = lex(src, &TemplateSyntax::hash_style());
        let (path, range) = include_target(src, &toks[0]).unwrap();
        assert_eq!(path, "partials/a.yaml.j2");
        assert_eq!(&src[range], "partials/a.yaml.j2");
    }
}
