//! Document highlights in a template: the other uses, in this file, of what is under the
//! cursor. A loop or `set` name with its binding (uses of another binding of the same name
//! excluded), a data key path by its segment, a filter, test or function by name.

use super::cursor::{name_at, BindingScopes};
use super::{Analysis, FileRole};
use crate::template::expr::{names_in_template, NameRole};
use std::ops::Range;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HighlightKind {
    /// Where a template name is bound.
    Write,
    Read,
}

pub fn document_highlights(analysis: &Analysis, path: &Path, offset: usize) -> Vec<(Range<usize>, HighlightKind)> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    if !matches!(pa.role(path), FileRole::Template { .. }) {
        return Vec::new();
    }
    let Some(src) = pa.text(path) else { return Vec::new() };
    let syntax = pa.syntax();
    let Some((at, seg)) = name_at(&src, syntax, offset) else { return Vec::new() };
    let scopes = BindingScopes::new(&src, syntax);
    // The binding site a use of `name` at `pos` refers to (innermost visible).
    let site_of = |name: &str, pos: usize| scopes.visible_at(pos).into_iter().rev().find(|(n, _)| n == name).map(|(_, site)| site);
    let uses = names_in_template(&src, syntax);
    let head = at.path[0].clone();
    let mut out: Vec<(Range<usize>, HighlightKind)> = match at.role {
        NameRole::Binding | NameRole::Variable if at.role == NameRole::Binding || site_of(&head, at.ranges[0].start).is_some() => {
            let site = if at.role == NameRole::Binding { Some(at.ranges[0].clone()) } else { site_of(&head, at.ranges[0].start) };
            let Some(site) = site else { return Vec::new() };
            // `loop` is bound by the whole `for` tag: nothing to mark as its binding.
            let mut v = if head == "loop" { Vec::new() } else { vec![(site.clone(), HighlightKind::Write)] };
            v.extend(
                uses.iter()
                    .filter(|u| {
                        u.role == NameRole::Variable && u.path[0] == head && site_of(&head, u.ranges[0].start).as_ref() == Some(&site)
                    })
                    .map(|u| (u.ranges[0].clone(), HighlightKind::Read)),
            );
            v
        }
        NameRole::Variable => {
            let key = &at.path[..=seg];
            uses.iter()
                .filter(|u| u.role == NameRole::Variable && u.path.len() > seg && u.path[..=seg] == *key)
                .filter(|u| site_of(&u.path[0], u.ranges[0].start).is_none())
                .map(|u| (u.ranges[seg].clone(), HighlightKind::Read))
                .collect()
        }
        role => uses.iter().filter(|u| u.role == role && u.path[0] == head).map(|u| (u.ranges[0].clone(), HighlightKind::Read)).collect(),
    };
    out.sort_by_key(|(r, _)| r.start);
    out.dedup_by(|a, b| a.0 == b.0);
    out
}
