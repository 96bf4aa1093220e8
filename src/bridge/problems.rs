//! A plugin's exception as diagnostics: on the data-file key a pydantic error names
//! (`loc`), else on the plugin's own line from the traceback, else on `makejinja.toml`.

use super::PluginError;
use crate::workspace::data::{self, DataNode, DataValue};
use crate::workspace::{Project, ProjectProblem, Severity};
use std::path::{Path, PathBuf};

pub const CODE: &str = "plugin-error";
const FALLBACK: &str = "makejinja fails the same way; homelab-lsp shows the built-in emulation meanwhile";

/// The string values of the project's data (6 characters or more), longest first.
fn data_strings(project: &Project) -> Vec<String> {
    fn walk(n: &DataNode, out: &mut Vec<String>) {
        match &n.value {
            DataValue::Str(s) if s.chars().count() >= 6 => out.push(s.clone()),
            DataValue::List(items) => items.iter().for_each(|i| walk(i, out)),
            DataValue::Map(entries) => entries.iter().for_each(|e| walk(&e.value, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for root in project.data_files.iter().filter_map(|d| d.root.as_ref()) {
        walk(root, &mut out);
    }
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    out.dedup();
    out
}

/// A plugin's message with the data values it quotes masked (`ValueError: bad token
/// '<the token>'`): diagnostics and logs never carry data values.
fn mask_values(message: String, values: &[String]) -> String {
    values.iter().fold(message, |m, v| if m.contains(v.as_str()) { m.replace(v.as_str(), "••••••••") } else { m })
}

pub fn plugin_error_problems(project: &Project, err: &PluginError) -> Vec<ProjectProblem> {
    let mut out = plugin_error_problems_unmasked(project, err);
    if !out.is_empty() {
        let values = data_strings(project);
        for p in &mut out {
            p.message = mask_values(std::mem::take(&mut p.message), &values);
        }
    }
    out
}

fn plugin_error_problems_unmasked(project: &Project, err: &PluginError) -> Vec<ProjectProblem> {
    let root = &project.config.root;
    let mut out = Vec::new();
    for (loc, msg) in &err.locs {
        let Some((file, line, col)) = locate_key(project, loc) else { continue };
        out.push(ProjectProblem {
            severity: Severity::Error,
            code: CODE,
            file,
            line: Some(line),
            col: Some(col),
            message: format!("the plugin rejects '{}': {msg} ({FALLBACK})", loc.join(".")),
        });
    }
    if !out.is_empty() {
        return out;
    }
    let (file, line) = match err.repo_frame(root) {
        Some((f, l)) => (f.clone(), Some(l.saturating_sub(1))),
        None => (project.config.config_file.clone().unwrap_or_else(|| root.clone()), None),
    };
    out.push(ProjectProblem {
        severity: Severity::Error,
        code: CODE,
        file,
        line,
        col: None,
        message: format!("the plugin raised {} ({FALLBACK})", err.summary(root)),
    });
    out
}

/// The deepest key of `loc` written in the project's data files, or in a data-like file at
/// the root that the plugin reads itself (`cluster.toml` when `makejinja.toml` lists no data).
fn locate_key(project: &Project, loc: &[String]) -> Option<(PathBuf, u32, u32)> {
    if let Some((node, depth)) = deepest(&project.data, loc) {
        if depth > 0 {
            let file = project.data_file(&node.loc)?.path.clone();
            return Some((file, node.loc.line, node.loc.col));
        }
    }
    let mut best: Option<(PathBuf, u32, u32, usize)> = None;
    for path in root_data_files(&project.config.root) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Some(Ok(root)) = data::load_data_text(&path, &text, 0) else { continue };
        if let Some((node, depth)) = deepest(&root, loc) {
            if depth > 0 && best.as_ref().is_none_or(|b| depth > b.3) {
                best = Some((path.clone(), node.loc.line, node.loc.col, depth));
            }
        }
    }
    best.map(|(f, l, c, _)| (f, l, c))
}

fn root_data_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|it| {
            it.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "makejinja.toml"))
                .filter(|p| p.extension().is_some_and(|e| matches!(e.to_str(), Some("toml" | "yaml" | "yml" | "json"))))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Follows `loc` as far as the data has it; returns the last key node found and how many
/// parts matched.
fn deepest<'a>(root: &'a DataNode, loc: &[String]) -> Option<(&'a DataNode, usize)> {
    let mut cur = root;
    let mut found: Option<(&DataNode, usize)> = None;
    for (i, part) in loc.iter().enumerate() {
        let next = match &cur.value {
            DataValue::Map(entries) => {
                entries.iter().rev().find(|e| matches!(&e.key.value, DataValue::Str(k) if k == part)).map(|e| (&e.key, &e.value))
            }
            DataValue::List(items) => part.parse::<usize>().ok().and_then(|n| items.get(n)).map(|v| (v, v)),
            _ => None,
        };
        let Some((key, value)) = next else { break };
        found = Some((key, i + 1));
        cur = value;
    }
    found
}
