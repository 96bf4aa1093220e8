//! Flux post-build variables (`${VAR}`) in the editor, in hand-written YAML and in the
//! literal YAML of templates (tags blanked, offsets kept): completion after `${`, hover,
//! definition, references and rename across the repository, semantic tokens; and which
//! Flux Kustomization applies a file (hover on its `kind:` line). Everything is asked of
//! the Flux model in the repo index.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::completion::{CompletionItem, ItemKind};
use super::hover::HoverResult;
use super::references::FileEdits;
use super::{FileRange, FileRole, ProjectAnalysis};
use crate::flux::{envsubst, FluxModel, ScopeVar, VarValue};
use crate::template::syntax::{lex, LineIndex};
use crate::yaml::RepoIndex;

/// The path the Flux model knows `path` by (a template: its output) and its text as YAML.
fn as_flux_file(pa: &ProjectAnalysis, path: &Path) -> Option<(PathBuf, String)> {
    let text = pa.text(path)?;
    match pa.role(path) {
        FileRole::Template { entry, .. } => {
            let out = entry.map(|e| e.output.clone()).unwrap_or_else(|| path.to_path_buf());
            Some((out, super::template_as_yaml(&text, &lex(&text, pa.syntax()))))
        }
        FileRole::Other if crate::yaml::is_yaml_path(path) => Some((path.to_path_buf(), text.to_string())),
        _ => None,
    }
}

/// The `${VAR}` around `offset`: name, range of the name, range of the whole expression.
fn var_at(text: &str, offset: usize) -> Option<(String, Range<usize>, Range<usize>)> {
    let idx = LineIndex::new(text);
    let line = idx.line_of(offset.min(text.len()));
    let start = idx.line_start(line)?;
    let end = idx.line_start(line + 1).unwrap_or(text.len());
    let e = envsubst::scan(&text[start..end]).into_iter().find(|e| start + e.start <= offset && offset <= start + e.end)?;
    let name_start = start + e.name_start;
    Some((e.name.clone(), name_start..name_start + e.name.len(), start + e.start..start + e.end))
}

/// The variables in scope for `file`: its Kustomizations' scopes, or when no known
/// Kustomization applies it, every variable the repository defines.
fn vars_for<'m>(model: &'m FluxModel, file: &Path) -> Vec<(&'m ScopeVar, Option<&'m str>)> {
    let scopes = model.scopes(file);
    let mut out: Vec<(&ScopeVar, Option<&str>)> = Vec::new();
    let all: Vec<(&ScopeVar, Option<&str>)> = if scopes.is_empty() {
        model.kustomizations.iter().flat_map(|k| k.scopes.iter().flat_map(|s| s.vars.iter().map(|v| (&**v, None)))).collect()
    } else {
        scopes.iter().flat_map(|(k, s)| s.vars.iter().map(move |v| (&**v, Some(k.def.name.as_str())))).collect()
    };
    let mut seen = std::collections::HashSet::new();
    for (v, k) in all {
        if seen.insert((v.name.as_str(), v.file.as_path(), v.line)) {
            out.push((v, k));
        }
    }
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    out
}

fn rel(pa: &ProjectAnalysis, p: &Path) -> String {
    p.strip_prefix(&pa.project.config.root).unwrap_or(p).display().to_string()
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// What to show of a variable's value: SOPS ciphertext says where; a Secret's or a
/// secret-looking value is masked unless `show`.
fn shown_value(v: &ScopeVar, show: bool) -> String {
    match &v.value {
        VarValue::Encrypted => format!("encrypted in {}", file_name(&v.file)),
        VarValue::FromFile(f) => format!("the content of {f}"),
        VarValue::Plain(s) => {
            let secret = v.via.starts_with("Secret/") || super::secrets::is_secret_key(&v.name) || super::secrets::looks_like_secret(s);
            if secret && !show {
                "•••••• (masked)".to_string()
            } else {
                format!("{s:?}")
            }
        }
    }
}

/// Completion of a variable name after `${`.
pub fn complete(pa: &ProjectAnalysis, path: &Path, offset: usize, index: &RepoIndex, show: bool) -> Option<Vec<CompletionItem>> {
    let (file, text) = as_flux_file(pa, path)?;
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..offset];
    let open = before.rfind("${")?;
    let partial = &before[open + 2..];
    if !partial.chars().all(|c| c.is_alphanumeric() || c == '_') || before[..open].ends_with('$') {
        return None;
    }
    let replace = line_start + open + 2..offset;
    let closed = text[offset..].starts_with(['}', ':', '-', '=']);
    let model = index.flux.model();
    let items = vars_for(&model, &file)
        .into_iter()
        .filter(|(v, _)| v.name.starts_with(partial))
        .map(|(v, k)| CompletionItem {
            label: v.name.clone(),
            kind: ItemKind::Variable,
            detail: Some(shown_value(v, show)),
            documentation: Some(format!(
                "From `{}` (`{}` line {}){}",
                v.via,
                rel(pa, &v.file),
                v.line + 1,
                k.map(|k| format!(", substituted by Flux Kustomization `{k}`")).unwrap_or_default()
            )),
            replace: replace.clone(),
            insert: if closed { v.name.clone() } else { format!("{}}}", v.name) },
        })
        .collect::<Vec<_>>();
    let mut seen = std::collections::HashSet::new();
    Some(items.into_iter().filter(|i| seen.insert(i.label.clone())).collect())
}

/// Hover on a `${VAR}`: its value (masked), where it is defined, which Kustomization
/// substitutes it; on a `kind:` line, which Flux Kustomization applies the file.
pub fn hover(pa: &ProjectAnalysis, path: &Path, offset: usize, index: &RepoIndex, show: bool) -> Option<HoverResult> {
    let (file, text) = as_flux_file(pa, path)?;
    let model = index.flux.model();
    let Some((name, name_range, whole)) = var_at(&text, offset) else { return kind_hover(pa, &file, &text, offset, &model) };
    let expr = &text[whole.clone()];
    let mut md = format!("`{expr}`: Flux post-build variable");
    let scopes = model.scopes(&file);
    if scopes.is_empty() {
        md.push_str("\n\nNo Flux Kustomization of this repository applies this file: nothing substitutes it here.");
    }
    for (k, s) in &scopes {
        let place = format!("Flux Kustomization `{}` (`{}`)", k.def.name, rel(pa, &k.file));
        match s.get(&name) {
            Some(v) => md.push_str(&format!(
                "\n\n{place}: **{}**, from `{}` (`{}` line {})",
                shown_value(v, show),
                v.via,
                rel(pa, &v.file),
                v.line + 1
            )),
            None if !s.substitutes => md.push_str(&format!("\n\n{place} defines no variable: Flux leaves `{expr}` as written")),
            None if !s.complete => md.push_str(&format!(
                "\n\n{place}: not defined in the repository; its sources outside it ({}) may define it",
                if s.unknown_sources.is_empty() { "a patch not modelled".to_string() } else { s.unknown_sources.join(", ") }
            )),
            None => md.push_str(&format!("\n\n{place}: **not defined** by any of its sources")),
        }
    }
    Some(HoverResult { markdown: md, range: Some(name_range) })
}

/// Hover on the `kind:` line of a document: the Flux Kustomizations that apply the file.
fn kind_hover(pa: &ProjectAnalysis, file: &Path, text: &str, offset: usize, model: &FluxModel) -> Option<HoverResult> {
    let idx = LineIndex::new(text);
    let line = idx.line_of(offset);
    let start = idx.line_start(line)?;
    let end = idx.line_start(line + 1).unwrap_or(text.len());
    if !text[start..end].starts_with("kind:") {
        return None;
    }
    let applied = model.applied(file);
    if applied.is_empty() {
        return None;
    }
    let mut names: Vec<String> = applied
        .iter()
        .map(|a| {
            let k = &model.kustomizations[a.ks];
            format!("Flux Kustomization `{}` (`{}` line {})", k.def.name, rel(pa, &k.file), k.def.line + 1)
        })
        .collect();
    names.sort();
    names.dedup();
    Some(HoverResult { markdown: format!("Applied by {}", names.join(", ")), range: Some(start..end.min(text.len())) })
}

/// Where a `${VAR}` is defined, for the Kustomizations applying the file.
pub fn definitions(pa: &ProjectAnalysis, path: &Path, offset: usize, index: &RepoIndex) -> Option<Vec<FileRange>> {
    let (file, text) = as_flux_file(pa, path)?;
    let (name, ..) = var_at(&text, offset)?;
    let model = index.flux.model();
    let defs: Vec<FileRange> =
        vars_for(&model, &file).into_iter().filter(|(v, _)| v.name == name).filter_map(|(v, _)| definition_range(pa, v)).collect();
    Some(dedup(defs))
}

/// The key `v` is written as, on its line.
fn definition_range(pa: &ProjectAnalysis, v: &ScopeVar) -> Option<FileRange> {
    let text = pa.text(&v.file)?;
    let idx = LineIndex::new(&text);
    let start = idx.line_start(v.line as usize)?;
    let end = idx.line_start(v.line as usize + 1).unwrap_or(text.len());
    let at = text[start..end].find(&v.name).map_or(start, |i| start + i);
    Some(FileRange { path: v.file.clone(), range: at..at + v.name.len() })
}

fn dedup(mut v: Vec<FileRange>) -> Vec<FileRange> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|r| seen.insert(r.clone()));
    v
}

/// Every use of the `${VAR}` under the cursor across the repository (in templates, their
/// literal text), plus its definitions when asked.
pub fn references(
    pa: &ProjectAnalysis,
    path: &Path,
    offset: usize,
    index: &RepoIndex,
    include_declaration: bool,
) -> Option<Vec<FileRange>> {
    let (_, text) = as_flux_file(pa, path)?;
    let (name, ..) = var_at(&text, offset)?;
    let mut out = uses(pa, &name, index);
    if include_declaration {
        out.extend(declarations(pa, &name, index));
    }
    Some(dedup(out))
}

/// Every definition of `name` in the repository (every source and inline `substitute`).
fn declarations(pa: &ProjectAnalysis, name: &str, index: &RepoIndex) -> Vec<FileRange> {
    let model = index.flux.model();
    let mut out: Vec<FileRange> = model
        .kustomizations
        .iter()
        .flat_map(|k| k.scopes.iter().flat_map(|s| s.vars.iter()))
        .filter(|v| v.name == name)
        .filter_map(|v| definition_range(pa, v))
        .collect();
    out.sort_by(|a, b| (&a.path, a.range.start).cmp(&(&b.path, b.range.start)));
    dedup(out)
}

/// The name ranges of every `${name}` in the repository's files (templates' own text for
/// generated outputs).
fn uses(pa: &ProjectAnalysis, name: &str, index: &RepoIndex) -> Vec<FileRange> {
    let mut out = Vec::new();
    let mut files: BTreeMap<PathBuf, ()> = BTreeMap::new();
    for (file, facts) in &index.flux.files {
        if facts.uses.iter().any(|u| u.name == name) {
            let source = pa.project.inventory.by_output(file).map(|e| e.source.clone()).unwrap_or_else(|| file.clone());
            files.insert(source, ());
        }
    }
    // Open documents may hold uses the index has not seen yet.
    for p in pa.docs.keys() {
        files.insert(p.clone(), ());
    }
    for file in files.keys() {
        let Some((_, text)) = as_flux_file(pa, file) else { continue };
        for e in envsubst::scan(&text).into_iter().filter(|e| e.name == name) {
            out.push(FileRange { path: file.clone(), range: e.name_start..e.name_start + e.name.len() });
        }
    }
    out
}

/// The range to rename at `offset`: a `${VAR}` name that the repository defines.
pub fn prepare_rename(pa: &ProjectAnalysis, path: &Path, offset: usize, index: &RepoIndex) -> Option<Range<usize>> {
    let (_, text) = as_flux_file(pa, path)?;
    let (name, range, _) = var_at(&text, offset)?;
    (!declarations(pa, &name, index).is_empty()).then_some(range)
}

/// Renames a variable: every `${VAR}` use and every definition.
pub fn rename(pa: &ProjectAnalysis, path: &Path, offset: usize, new_name: &str, index: &RepoIndex) -> Option<Result<FileEdits, String>> {
    let (_, text) = as_flux_file(pa, path)?;
    let (name, ..) = var_at(&text, offset)?;
    if !envsubst::is_var_name(new_name) {
        return Some(Err(format!("'{new_name}' is not a valid Flux variable name")));
    }
    // A key of a SOPS file is part of what its MAC covers: only `sops` may rewrite it.
    let model = index.flux.model();
    let encrypted = model
        .kustomizations
        .iter()
        .flat_map(|k| k.scopes.iter().flat_map(|s| s.vars.iter()))
        .find(|v| v.name == name && v.value == VarValue::Encrypted);
    if let Some(v) = encrypted {
        return Some(Err(format!(
            "'{name}' is defined in the SOPS-encrypted {}: rename it there with `sops edit` first",
            file_name(&v.file)
        )));
    }
    let mut edits = FileEdits::new();
    for r in uses(pa, &name, index).into_iter().chain(declarations(pa, &name, index)) {
        edits.entry(r.path).or_default().push((r.range, new_name.to_string()));
    }
    Some(Ok(edits))
}

/// `${VAR}` expressions as semantic tokens: the name a variable, `${`/`}` operators.
pub fn tokens(text: &str) -> Vec<(Range<usize>, super::tokens::TokenType)> {
    use super::tokens::TokenType;
    let mut out = Vec::new();
    for e in envsubst::scan(text) {
        out.push((e.start..e.start + 2, TokenType::Operator));
        out.push((e.name_start..e.name_start + e.name.len(), TokenType::Variable));
        out.push((e.end - 1..e.end, TokenType::Operator));
    }
    out
}

/// Document links: `resources:`/`components:` entries and `spec.path` to what they name.
pub fn links(pa: &ProjectAnalysis, path: &Path, index: &RepoIndex) -> Vec<(Range<usize>, PathBuf)> {
    let Some((file, text)) = as_flux_file(pa, path) else { return Vec::new() };
    let facts = crate::yaml::facts(&text, &file).flux;
    let model = index.flux.model();
    let mut out = Vec::new();
    let dir = file.parent().unwrap_or(Path::new(""));
    let target = |p: PathBuf| -> Option<PathBuf> {
        let p = crate::flux::model::normalize(&p);
        if model.is_dir(&p) {
            let k = model.kustomization_file(&p).map(Path::to_path_buf).unwrap_or(p);
            Some(k)
        } else {
            model.exists(&p).then_some(p)
        }
    };
    if let Some(k) = &facts.kustomize {
        for e in k.resources.iter().chain(&k.components).chain(&k.patch_files) {
            if crate::flux::model::is_remote(&e.value) {
                continue;
            }
            if let Some(t) = target(dir.join(&e.value)) {
                out.push((e.range.start..e.range.end, t));
            }
        }
    }
    if let Some(root) = &model.root {
        for k in &facts.kustomizations {
            if let Some(p) = &k.path {
                if let Some(t) = target(root.join(p.value.trim_start_matches('/'))) {
                    out.push((p.range.start..p.range.end, t));
                }
            }
        }
    }
    out
}
