//! References and rename of data keys: every use across the templates (nested paths like
//! `bootstrap_cloudflare.domain` included) plus the definition.

use super::cursor::{bindings_before, name_at, BindingScopes};
use super::navigation::{data_definition, data_path_at, key_range};
use super::{Analysis, FileRange, FileRole, ProjectAnalysis};
use crate::template::expr::{names_in_template, NameRole};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The data key path under the cursor (in a template or a data file) and the range of the
/// segment the cursor is on.
pub fn key_at(analysis: &Analysis, path: &Path, offset: usize) -> Option<(Vec<String>, Range<usize>)> {
    let pa = analysis.project_for(path)?;
    match pa.role(path) {
        FileRole::Template { .. } => {
            let src = pa.text(path)?;
            let (u, seg) = name_at(&src, pa.syntax(), offset)?;
            if u.role != NameRole::Variable {
                return None;
            }
            // Names bound in the template are not data keys.
            if bindings_before(&src, pa.syntax(), offset).iter().any(|(n, _)| *n == u.path[0]) {
                return None;
            }
            Some((u.path[..=seg].to_vec(), u.ranges[seg].clone()))
        }
        FileRole::Data { file } => {
            let text = pa.text(path)?;
            data_path_at(pa.data(), &text, file as u32, offset)
        }
        _ => None,
    }
}

/// Every template use of `key` (a use of a longer path counts; the range is the segment
/// naming the key's last part).
pub fn template_uses(pa: &ProjectAnalysis, key: &[String]) -> Vec<FileRange> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = pa.project.inventory.all_files.iter().map(|(_, _, p)| p.clone()).collect();
    paths.extend(pa.docs.keys().filter(|p| pa.project.template_name(p).is_some()).cloned());
    paths.sort();
    paths.dedup();
    let suffix = pa.project.config.jinja_suffix.clone();
    for p in paths {
        if let Some(s) = &suffix {
            if !p.to_string_lossy().ends_with(s.as_str()) {
                continue;
            }
        }
        let Some(src) = pa.text(&p) else { continue };
        if !src.contains(key[0].as_str()) {
            continue;
        }
        let scopes = BindingScopes::new(&src, pa.syntax());
        for u in names_in_template(&src, pa.syntax()) {
            if u.role == NameRole::Variable && u.path.len() >= key.len() && u.path[..key.len()] == *key {
                // Skip shadowing by a template binding of the same head name.
                if scopes.is_bound(&u.path[0], u.ranges[0].start) {
                    continue;
                }
                out.push(FileRange { path: p.clone(), range: u.ranges[key.len() - 1].clone() });
            }
        }
    }
    out
}

pub fn references(analysis: &Analysis, path: &Path, offset: usize, include_declaration: bool) -> Vec<FileRange> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    let Some((key, _)) = key_at(analysis, path, offset) else { return Vec::new() };
    let mut out = Vec::new();
    if include_declaration {
        out.extend(data_definition(pa, &key));
    }
    out.extend(template_uses(pa, &key));
    out
}

/// The range rename would replace at the cursor, if it is a data key.
pub fn prepare_rename(analysis: &Analysis, path: &Path, offset: usize) -> Option<Range<usize>> {
    let pa = analysis.project_for(path)?;
    let (key, range) = key_at(analysis, path, offset)?;
    // Only keys that exist in a data file can be renamed.
    data_definition(pa, &key)?;
    Some(range)
}

/// Edits per file (byte ranges in each file's current text) renaming a data key.
/// Edits per file: (byte range in that file's current text, replacement).
pub type FileEdits = BTreeMap<PathBuf, Vec<(Range<usize>, String)>>;

pub fn rename(analysis: &Analysis, path: &Path, offset: usize, new_name: &str) -> Result<FileEdits, String> {
    if new_name.is_empty()
        || !new_name.chars().all(|c| c.is_alphanumeric() || c == '_')
        || new_name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(format!("'{new_name}' is not a valid variable name"));
    }
    let pa = analysis.project_for(path).ok_or("no project for this file")?;
    let (key, _) = key_at(analysis, path, offset).ok_or("not a data key")?;
    let def = data_definition(pa, &key).ok_or("this key is not defined in a data file")?;
    // Renaming onto a sibling would leave two keys of the same name (the later one wins).
    let (parent, last) = key.split_at(key.len() - 1);
    let siblings =
        if parent.is_empty() { Some(pa.data()) } else { super::navigation::resolve_data_path(pa.data(), parent).map(|(n, _)| n) };
    if last[0] != new_name && siblings.is_some_and(|n| n.entry(new_name).is_some()) {
        let dotted = parent.iter().map(String::as_str).chain([new_name]).collect::<Vec<_>>().join(".");
        return Err(format!("'{dotted}' already exists in the data"));
    }
    let mut edits = FileEdits::new();
    let text = pa.text(&def.path).unwrap_or_default();
    let def_range = key_range(&text, def.range.start);
    let quoted = text[def_range.clone()].starts_with(['"', '\'']);
    let replacement = if quoted { format!("\"{new_name}\"") } else { new_name.to_string() };
    edits.entry(def.path.clone()).or_default().push((def_range, replacement));
    for u in template_uses(pa, &key) {
        edits.entry(u.path).or_default().push((u.range, new_name.to_string()));
    }
    Ok(edits)
}
