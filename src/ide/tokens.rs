//! Semantic tokens for templates: editors' YAML grammars see `#{ }#` as a comment, so the
//! server colours delimiters, variables, filters, keywords, strings and numbers itself.

use super::{Analysis, FileRole};
use crate::template::expr::{names_in_tag, tokenize, NameRole, Tok, KEYWORDS};
use crate::template::syntax::{lex, TokenKind};
use std::ops::Range;
use std::path::Path;

/// Token types, in the order of the legend the server advertises.
pub const LEGEND: &[&str] =
    &["keyword", "variable", "function", "string", "number", "comment", "operator", "property", "parameter", "macro"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Keyword = 0,
    Variable = 1,
    Function = 2,
    String = 3,
    Number = 4,
    Comment = 5,
    Operator = 6,
    Property = 7,
    Parameter = 8,
    Macro = 9,
}

/// Non-overlapping (range, type) pairs in document order.
pub fn semantic_tokens(analysis: &Analysis, path: &Path) -> Vec<(Range<usize>, TokenType)> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    let Some(src) = pa.text(path) else { return Vec::new() };
    match pa.role(path) {
        FileRole::Template { .. } => {
            // Flux `${VAR}` in the literal YAML (tags blanked: the two never overlap).
            let mut out = template_tokens(&src, pa.syntax());
            out.extend(super::flux::tokens(&super::template_as_yaml(&src, &lex(&src, pa.syntax()))));
            out.sort_by_key(|(r, _)| r.start);
            out
        }
        FileRole::Other if crate::yaml::is_yaml_path(path) => super::flux::tokens(&src),
        _ => Vec::new(),
    }
}

pub fn template_tokens(src: &str, syntax: &crate::template::TemplateSyntax) -> Vec<(Range<usize>, TokenType)> {
    let mut out = Vec::new();
    for tag in lex(src, syntax).iter().filter(|t| t.is_tag()) {
        if tag.kind == TokenKind::Comment {
            out.push((tag.span.clone(), TokenType::Comment));
            continue;
        }
        out.push((tag.span.start..tag.inner.start, TokenType::Macro));
        let uses = names_in_tag(src, tag);
        let role_at = |r: &Range<usize>| uses.iter().find_map(|u| u.ranges.iter().position(|x| x == r).map(|i| (u.role, i)));
        for (i, t) in tokenize(src, tag.inner.clone()).iter().enumerate() {
            let ty = match t.kind {
                Tok::Str => TokenType::String,
                Tok::Number => TokenType::Number,
                Tok::Ident => {
                    let word = &src[t.range.clone()];
                    match role_at(&t.range) {
                        Some((NameRole::Filter | NameRole::Function | NameRole::Test, _)) => TokenType::Function,
                        Some((NameRole::Variable, 0)) | Some((NameRole::Binding, _)) => TokenType::Variable,
                        Some((NameRole::Variable, _)) => TokenType::Property,
                        None if i == 0 && tag.kind == TokenKind::Block => TokenType::Keyword,
                        None if KEYWORDS.contains(&word) => TokenType::Keyword,
                        None => TokenType::Parameter,
                    }
                }
                Tok::Pipe | Tok::Op => TokenType::Operator,
                _ => continue,
            };
            out.push((t.range.clone(), ty));
        }
        if tag.closed {
            out.push((tag.inner.end..tag.span.end, TokenType::Macro));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::TemplateSyntax;

    #[test]
    fn colours_a_variable_tag() {
        let src = "a: #{ x.y | lower }#";
        let toks: Vec<_> = template_tokens(src, &TemplateSyntax::hash_style()).into_iter().map(|(r, t)| (&src[r], t)).collect();
        assert_eq!(
            toks,
            vec![
                ("#{", TokenType::Macro),
                ("x", TokenType::Variable),
                ("y", TokenType::Property),
                ("|", TokenType::Operator),
                ("lower", TokenType::Function),
                ("}#", TokenType::Macro),
            ]
        );
    }
}
