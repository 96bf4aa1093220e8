//! Inlay hints: after each `#{ expr }#` of a template, what it prints with the current data
//! (`#{ cluster_name }#` ` = home`), so a template reads like its output without hovering.
//!
//! Only expressions over the data get a hint: one that uses a name bound in the template
//! (`for`, `set`, `macro`) has a value per iteration, and one that is undefined is the
//! `undefined-variable` diagnostic's business. Secret-looking values are masked as in hovers.

use super::cursor::BindingScopes;
use super::secrets::{mask_rendered_line_with, should_mask, MASK};
use super::{Analysis, FileRole};
use crate::template::expr::{names_in_tag, NameRole};
use crate::template::pyvalue::py_str;
use crate::template::syntax::{lex, TokenKind};
use std::ops::Range;
use std::path::Path;

/// Longest label shown; longer values end in `…` (the hover has the whole value).
const MAX_LABEL_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlayHint {
    /// Byte offset the hint sits at: just after the tag's end delimiter.
    pub offset: usize,
    /// `= value`, one line, shortened.
    pub label: String,
    /// The whole printed value when the label had to be shortened.
    pub tooltip: Option<String>,
}

/// The hints for the tags of `path` that end inside `range` (byte offsets).
pub fn inlay_hints(analysis: &Analysis, path: &Path, range: Range<usize>) -> Vec<InlayHint> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    if !matches!(pa.role(path), FileRole::Template { .. }) {
        return Vec::new();
    }
    let Some(src) = pa.text(path) else { return Vec::new() };
    let show = analysis.settings.show_secrets;
    let tokens = lex(&src, pa.syntax());
    let scopes = BindingScopes::new(&src, pa.syntax());
    let renderer = pa.renderer();
    let secrets = if show { &[][..] } else { pa.secret_values() };
    let mut hints = Vec::new();
    for t in tokens.iter().filter(|t| t.kind == TokenKind::Variable && t.closed) {
        if t.span.end < range.start || t.span.start > range.end {
            continue;
        }
        let names = names_in_tag(&src, t);
        let vars: Vec<_> = names.iter().filter(|u| u.role == NameRole::Variable).collect();
        // A literal prints itself; a bound name has no single value.
        if vars.is_empty() || vars.iter().any(|u| scopes.is_bound(&u.path[0], u.ranges[0].start)) {
            continue;
        }
        let Ok(value) = renderer.eval_expression(&src[t.inner.clone()]) else { continue };
        if value.is_undefined() {
            continue;
        }
        let printed = py_str(&value);
        let masked = !show && vars.iter().any(|u| should_mask(&u.path, &value));
        let shown = if masked {
            MASK.to_string()
        } else if show {
            printed.clone()
        } else {
            mask_rendered_line_with(&printed, secrets)
        };
        let (label, shortened) = shorten(&shown);
        hints.push(InlayHint { offset: t.span.end, label: format!("= {label}"), tooltip: shortened.then_some(shown) });
    }
    hints
}

/// The first line of `s`, at most `MAX_LABEL_CHARS` characters; true when cut.
fn shorten(s: &str) -> (String, bool) {
    let first = s.lines().next().unwrap_or_default();
    let multi_line = first.len() < s.trim_end().len();
    if first.chars().count() > MAX_LABEL_CHARS {
        let cut: String = first.chars().take(MAX_LABEL_CHARS - 1).collect();
        return (format!("{cut}…"), true);
    }
    if multi_line {
        return (format!("{first} …"), true);
    }
    (first.to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn labels_are_one_short_line() {
        assert_eq!(shorten("home"), ("home".to_string(), false));
        assert_eq!(shorten("a\nb\n"), ("a …".to_string(), true));
        let long = "x".repeat(60);
        let (label, cut) = shorten(&long);
        assert!(cut);
        assert_eq!(label.chars().count(), 40);
        assert!(label.ends_with('…'));
    }
}
