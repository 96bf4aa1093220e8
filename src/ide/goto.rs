//! Go to definition: a variable to its data key, an `include` to the partial (honouring
//! input precedence), a `set`/loop variable to where it is bound, and any line of a
//! generated file to the template line that produced it; in hand-written YAML, a reference
//! (`parentRefs`, `secretKeyRef`, `sourceRef`, …) to the object it names.

use super::cursor::{bindings_before, name_at, tag_at};
use super::navigation::{data_definition, template_source};
use super::{Analysis, FileRange, FileRole};
use crate::template::expr::{include_target, NameRole};
use crate::template::syntax::{lex, LineIndex};
use std::path::Path;

/// `index`: the repo index, for Kubernetes references in hand-written YAML (none while it
/// is being built).
pub fn goto_definition(analysis: &Analysis, path: &Path, offset: usize, index: Option<&crate::yaml::RepoIndex>) -> Vec<FileRange> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    match pa.role(path) {
        FileRole::Template { .. } => {
            let Some(src) = pa.text(path) else { return Vec::new() };
            let syntax = pa.syntax();
            let tokens = lex(&src, syntax);
            if let Some(tag) = tag_at(&tokens, offset) {
                if let Some((target, range)) = include_target(&src, tag) {
                    if range.start <= offset && offset <= range.end {
                        return pa.project.template_path(&target).map(|p| FileRange { path: p, range: 0..0 }).into_iter().collect();
                    }
                }
            }
            let Some((u, seg)) = name_at(&src, syntax, offset) else {
                // Outside the template syntax: a Flux `${VAR}`, or a Kubernetes reference
                // written literally.
                let Some(index) = index else { return Vec::new() };
                if let Some(defs) = super::flux::definitions(pa, path, offset, index) {
                    return defs;
                }
                return super::object_refs::resolve_in_template(pa, index, &src, offset).map(|(_, _, d)| d).unwrap_or_default();
            };
            match u.role {
                NameRole::Variable => {
                    let bound = bindings_before(&src, syntax, offset);
                    if let Some((_, r)) = bound.iter().rev().find(|(n, _)| *n == u.path[0]) {
                        return vec![FileRange { path: path.to_path_buf(), range: r.clone() }];
                    }
                    // The deepest defined prefix of the path.
                    (1..=seg + 1).rev().find_map(|n| data_definition(pa, &u.path[..n])).into_iter().collect()
                }
                NameRole::Binding => vec![FileRange { path: path.to_path_buf(), range: u.ranges[0].clone() }],
                _ => Vec::new(),
            }
        }
        FileRole::Generated { .. } => {
            let Some(text) = pa.text(path) else { return Vec::new() };
            let line = LineIndex::new(&text).line_of(offset);
            let Some((tpl, tline)) = template_source(pa, path, line) else { return Vec::new() };
            let Some(ttext) = pa.text(&tpl) else { return Vec::new() };
            let idx = LineIndex::new(&ttext);
            let start = idx.line_start(tline as usize).unwrap_or(0);
            let end = idx.line_start(tline as usize + 1).map_or(ttext.len(), |e| e.saturating_sub(1)).max(start);
            // Land on the first non-blank character of the line.
            let indent = ttext[start..end].len() - ttext[start..end].trim_start().len();
            vec![FileRange { path: tpl, range: start + indent..start + indent }]
        }
        FileRole::Other => {
            let (Some(text), Some(index)) = (pa.text(path), index) else { return Vec::new() };
            if let Some(defs) = super::flux::definitions(pa, path, offset, index) {
                return defs;
            }
            super::object_refs::resolve(pa, index, &text, offset).map(|(_, _, defs)| defs).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}
