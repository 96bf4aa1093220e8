//! What is under the cursor in a template: which tag, and what kind of name is being typed.

use crate::template::expr::{include_target, names_in_tag, tokenize, NameUse, Tok};
use crate::template::syntax::{lex, Token, TokenKind};
use crate::template::TemplateSyntax;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completing {
    /// A variable or attribute: `prefix` is the path before the last `.`/`[`.
    Name {
        prefix: Vec<String>,
        partial: String,
        replace: Range<usize>,
        in_brackets: bool,
    },
    Filter {
        partial: String,
        replace: Range<usize>,
    },
    Test {
        partial: String,
        replace: Range<usize>,
    },
    Statement {
        partial: String,
        replace: Range<usize>,
    },
    IncludePath {
        partial: String,
        replace: Range<usize>,
    },
}

/// The tag containing `offset` (the cursor may sit right before the end delimiter).
pub fn tag_at(tokens: &[Token], offset: usize) -> Option<&Token> {
    tokens.iter().find(|t| t.is_tag() && t.inner.start <= offset && offset <= t.inner.end.max(t.inner.start))
}

/// What completion should offer at `offset`, or `None` outside tags and in comments.
pub fn completing_at(src: &str, syntax: &TemplateSyntax, offset: usize) -> Option<Completing> {
    let tokens = lex(src, syntax);
    let tag = tag_at(&tokens, offset)?.clone();
    if tag.kind == TokenKind::Comment {
        return None;
    }
    if let Some((partial_full, range)) = include_target(src, &tag) {
        if range.start <= offset && offset <= range.end {
            let partial = src[range.start..offset].to_string();
            let _ = partial_full;
            return Some(Completing::IncludePath { partial, replace: range });
        }
    }
    let toks = tokenize(src, tag.inner.start..offset);
    let text = |i: usize| &src[toks[i].range.clone()];
    let n = toks.len();
    // Typing inside an unterminated string after `[`: a bracketed key.
    if n >= 2 && toks[n - 1].kind == Tok::Str && toks[n - 2].kind == Tok::LBracket && toks[n - 1].range.end == offset {
        let s = &src[toks[n - 1].range.clone()];
        let closed = s.len() >= 2 && s.ends_with(&s[..1]);
        if !closed {
            let prefix = path_before(src, &toks[..n - 2]);
            if !prefix.is_empty() {
                let start = toks[n - 1].range.start + 1;
                return Some(Completing::Name {
                    prefix,
                    partial: src[start..offset].to_string(),
                    replace: start..offset,
                    in_brackets: true,
                });
            }
        }
    }
    let (partial, replace, before) = match toks.last() {
        Some(t) if t.kind == Tok::Ident && t.range.end == offset => (text(n - 1).to_string(), t.range.clone(), n - 1),
        _ => (String::new(), offset..offset, n),
    };
    let prev = before.checked_sub(1).map(|i| (&toks[i], text(i)));
    match prev {
        Some((t, _)) if t.kind == Tok::Pipe => return Some(Completing::Filter { partial, replace }),
        Some((t, _)) if t.kind == Tok::Dot => {
            let prefix = path_before(src, &toks[..before - 1]);
            if prefix.is_empty() {
                return None;
            }
            return Some(Completing::Name { prefix, partial, replace, in_brackets: false });
        }
        Some((t, w)) if t.kind == Tok::Ident && w == "is" => return Some(Completing::Test { partial, replace }),
        Some((t, w)) if t.kind == Tok::Ident && w == "not" && before >= 2 && text(before - 2) == "is" => {
            return Some(Completing::Test { partial, replace })
        }
        None if tag.kind == TokenKind::Block => return Some(Completing::Statement { partial, replace }),
        _ => {}
    }
    Some(Completing::Name { prefix: Vec::new(), partial, replace, in_brackets: false })
}

/// The variable path that ends at the end of `toks` (`a.b['c']` → ["a","b","c"]).
fn path_before(src: &str, toks: &[crate::template::expr::ExprToken]) -> Vec<String> {
    let mut parts = Vec::new();
    let mut i = toks.len();
    loop {
        if i == 0 {
            break;
        }
        let t = &toks[i - 1];
        match t.kind {
            Tok::Ident => {
                parts.push(src[t.range.clone()].to_string());
                i -= 1;
                if i >= 1 && toks[i - 1].kind == Tok::Dot {
                    i -= 1;
                    continue;
                }
                break;
            }
            Tok::RBracket if i >= 3 && toks[i - 2].kind == Tok::Str && toks[i - 3].kind == Tok::LBracket => {
                let s = &src[toks[i - 2].range.clone()];
                parts.push(s.get(1..s.len().saturating_sub(1)).unwrap_or_default().to_string());
                i -= 3;
                if i >= 1 && toks[i - 1].kind == Tok::Dot {
                    i -= 1;
                }
                continue;
            }
            _ => return Vec::new(),
        }
    }
    parts.reverse();
    parts
}

/// The name use under `offset`, with the index of the path segment hovered.
pub fn name_at(src: &str, syntax: &TemplateSyntax, offset: usize) -> Option<(NameUse, usize)> {
    let tokens = lex(src, syntax);
    let tag = tag_at(&tokens, offset)?;
    for u in names_in_tag(src, tag) {
        for (i, r) in u.ranges.iter().enumerate() {
            if r.start <= offset && offset <= r.end {
                return Some((u.clone(), i));
            }
        }
    }
    None
}

/// Where each name a template binds (`set`, `for`, `macro` arguments, `loop`) is visible.
/// Built in one pass so per-use checks stay linear in the template size.
pub struct BindingScopes {
    /// (visible range, name, binding site), in binding order.
    scopes: Vec<(Range<usize>, String, Range<usize>)>,
}

impl BindingScopes {
    pub fn new(src: &str, syntax: &TemplateSyntax) -> Self {
        let tokens = lex(src, syntax);
        let mut scopes: Vec<(Range<usize>, String, Range<usize>)> = Vec::new();
        // Open `for`/`macro` blocks: index into `scopes` where their bindings start.
        let mut open: Vec<usize> = Vec::new();
        for t in tokens.iter().filter(|t| t.kind == TokenKind::Block) {
            let kw = crate::template::syntax::tag_keyword(src, t);
            match kw {
                Some("endfor") | Some("endmacro") => {
                    if let Some(first) = open.pop() {
                        for s in &mut scopes[first..] {
                            if s.0.end == usize::MAX {
                                s.0.end = t.span.start;
                            }
                        }
                    }
                    continue;
                }
                Some("for") | Some("macro") => {
                    open.push(scopes.len());
                    if kw == Some("for") {
                        scopes.push((t.span.end..usize::MAX, "loop".to_string(), t.inner.clone()));
                    }
                }
                _ => {}
            }
            for u in names_in_tag(src, t) {
                if u.role == crate::template::expr::NameRole::Binding {
                    scopes.push((t.span.end..usize::MAX, u.path[0].clone(), u.ranges[0].clone()));
                }
            }
        }
        Self { scopes }
    }

    /// Names visible at `offset` (innermost last), with their binding sites.
    pub fn visible_at(&self, offset: usize) -> Vec<(String, Range<usize>)> {
        self.scopes.iter().filter(|(r, ..)| r.start <= offset && offset < r.end).map(|(_, n, site)| (n.clone(), site.clone())).collect()
    }

    pub fn is_bound(&self, name: &str, offset: usize) -> bool {
        self.scopes.iter().any(|(r, n, _)| n == name && r.start <= offset && offset < r.end)
    }
}

/// Names bound before `offset` by `set`/`for`/`macro` tags (innermost last), with where.
pub fn bindings_before(src: &str, syntax: &TemplateSyntax, offset: usize) -> Vec<(String, Range<usize>)> {
    BindingScopes::new(src, syntax).visible_at(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(src_with_cursor: &str) -> Option<Completing> {
        let offset = src_with_cursor.find("$0").unwrap();
        let src = src_with_cursor.replace("$0", "");
        completing_at(&src, &TemplateSyntax::hash_style(), offset)
    }

    #[test]
    fn contexts() {
        assert!(matches!(at("a: #{ boot$0 }#"), Some(Completing::Name { partial, prefix, .. }) if partial == "boot" && prefix.is_empty()));
        assert!(
            matches!(at("#{ a.b.c$0 }#"), Some(Completing::Name { partial, prefix, .. }) if partial == "c" && prefix == vec!["a", "b"])
        );
        assert!(matches!(at("#{ a['b'].$0 }#"), Some(Completing::Name { prefix, .. }) if prefix == vec!["a", "b"]));
        assert!(
            matches!(at("#{ a['x$0 }#"), Some(Completing::Name { prefix, partial, in_brackets: true, .. }) if prefix == vec!["a"] && partial == "x")
        );
        assert!(matches!(at("#{ x | ind$0 }#"), Some(Completing::Filter { partial, .. }) if partial == "ind"));
        assert!(matches!(at("#% if x is $0 %#"), Some(Completing::Test { .. })));
        assert!(matches!(at("#% en$0 %#"), Some(Completing::Statement { partial, .. }) if partial == "en"));
        assert!(matches!(at("#% include 'part$0' %#"), Some(Completing::IncludePath { partial, .. }) if partial == "part"));
        assert!(at("plain $0 text").is_none());
        assert!(at("#| comment $0 #|").is_none());
    }

    #[test]
    fn bindings_respect_loop_scope() {
        let src = "#% set a = 1 %##% for x in xs %##{ x }##% endfor %##{ $0 }#";
        let offset = src.find("$0").unwrap();
        let names: Vec<_> =
            bindings_before(&src.replace("$0", ""), &TemplateSyntax::hash_style(), offset).into_iter().map(|b| b.0).collect();
        assert_eq!(names, vec!["a"]);
        let src2 = "#% for x in xs %##{ $0 }#";
        let offset = src2.find("$0").unwrap();
        let names: Vec<_> =
            bindings_before(&src2.replace("$0", ""), &TemplateSyntax::hash_style(), offset).into_iter().map(|b| b.0).collect();
        assert_eq!(names, vec!["loop", "x"]);
    }
}
