//! Completion inside template tags: data keys (nested after `.` and `['`), names bound by
//! `set`/`for`, `loop.*`, filters after `|`, tests after `is`, statement keywords, and
//! template paths inside `include "…"`.

use super::cursor::{bindings_before, completing_at, Completing};
use super::hover::lookup;
use super::navigation::data_definition;
use super::secrets::{should_mask, MASK};
use super::{Analysis, FileRole, ProjectAnalysis};
use crate::template::builtins::{FILTERS, FUNCTIONS, METHODS, TESTS};
use crate::template::expr::{names_in_tag, NameRole, STATEMENTS};
use crate::template::plugins::{PluginNameKind, EMULATED};
use crate::template::pyvalue::py_repr;
use crate::template::syntax::{lex, tag_keyword, LineIndex, TokenKind};
use minijinja::value::{Value, ValueKind};
use std::ops::Range;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Variable,
    Field,
    Filter,
    Test,
    Function,
    Keyword,
    File,
    Method,
    /// A Kubernetes object the repo defines (Gateway, Secret, Flux source).
    Object,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: ItemKind,
    pub detail: Option<String>,
    pub documentation: Option<String>,
    /// Replaces this byte range of the document.
    pub replace: Range<usize>,
    pub insert: String,
}

/// Keys and values the document's JSON schema allows at the cursor (`file`: the YAML's
/// path, or a template's output path).
fn schema_items(pa: &super::ProjectAnalysis, yaml: &str, file: &Path, offset: usize) -> Vec<CompletionItem> {
    let Some(schemas) = pa.schemas.as_ref() else { return Vec::new() };
    crate::schema::assist::complete(schemas, yaml, file, offset)
        .into_iter()
        .map(|s| CompletionItem {
            label: s.label,
            kind: ItemKind::Field,
            detail: Some(s.detail).filter(|d| !d.is_empty()),
            documentation: s.documentation,
            replace: s.replace.start..s.replace.end,
            insert: s.insert,
        })
        .collect()
}

/// `index`: the repo index, for the names of Kubernetes references (none while it is built).
pub fn complete(analysis: &Analysis, path: &Path, offset: usize, index: Option<&crate::yaml::RepoIndex>) -> Vec<CompletionItem> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    let Some(src) = pa.text(path) else { return Vec::new() };
    let offset = offset.min(src.len());
    match pa.role(path) {
        FileRole::Template { .. } => {}
        FileRole::Other if crate::yaml::is_yaml_path(path) => {
            if let Some(items) = index.and_then(|i| super::flux::complete(pa, path, offset, i, analysis.settings.show_secrets)) {
                return items;
            }
            let mut items = index.map(|i| object_items(i, &src, offset)).unwrap_or_default();
            if items.is_empty() {
                items = schema_items(pa, &src, path, offset);
            }
            return items;
        }
        _ => return Vec::new(),
    }
    let syntax = pa.syntax();
    let show = analysis.settings.show_secrets;
    let Some(ctx) = completing_at(&src, syntax, offset) else {
        // Outside the tags: maybe the name of a Kubernetes reference, written literally, or
        // a key or value the template's schema allows.
        let tokens = lex(&src, syntax);
        if tokens.iter().any(|t| t.is_tag() && t.span.start < offset && offset < t.span.end) {
            return Vec::new(); // inside a comment tag
        }
        if let Some(items) = index.and_then(|i| super::flux::complete(pa, path, offset, i, show)) {
            return items;
        }
        let yaml = super::template_as_yaml(&src, &tokens);
        let items = index.map(|i| object_items(i, &yaml, offset)).unwrap_or_default();
        if !items.is_empty() {
            return items;
        }
        let output = pa.project.inventory.by_source(path).map(|e| e.output.clone()).unwrap_or_else(|| path.to_path_buf());
        return schema_items(pa, &yaml, &output, offset);
    };
    let mut items = match ctx {
        Completing::Name { prefix, partial, replace, in_brackets } => {
            if prefix.is_empty() {
                top_level(pa, &src, offset, &partial, replace, show)
            } else {
                nested(pa, &src, offset, &prefix, &partial, replace, in_brackets, show)
            }
        }
        Completing::Filter { partial, replace } => {
            let mut v: Vec<CompletionItem> = FILTERS
                .iter()
                .map(|(n, sig, doc)| item(n, ItemKind::Filter, Some(sig.to_string()), Some(doc.to_string()), replace.clone()))
                .collect();
            v.extend(plugin_items(pa, PluginNameKind::Filter, &replace));
            filter_prefix(v, &partial)
        }
        Completing::Test { partial, replace } => filter_prefix(
            TESTS
                .iter()
                .map(|(n, sig, doc)| item(n, ItemKind::Test, Some(sig.to_string()), Some(doc.to_string()), replace.clone()))
                .collect(),
            &partial,
        ),
        Completing::Statement { partial, replace } => {
            filter_prefix(STATEMENTS.iter().map(|s| item(s, ItemKind::Keyword, None, None, replace.clone())).collect(), &partial)
        }
        Completing::IncludePath { partial, replace } => {
            let mut names: Vec<&str> = pa.project.inventory.all_files.iter().map(|(_, n, _)| n.as_str()).collect();
            names.sort();
            names.dedup();
            names
                .into_iter()
                .filter(|n| n.starts_with(&partial) || n.contains(partial.as_str()))
                .map(|n| item(n, ItemKind::File, None, None, replace.clone()))
                .collect()
        }
    };
    items.sort_by(|a, b| a.label.cmp(&b.label));
    items.dedup_by(|a, b| a.label == b.label);
    items
}

/// Names of the objects a Kubernetes reference at `offset` can name.
fn object_items(index: &crate::yaml::RepoIndex, text: &str, offset: usize) -> Vec<CompletionItem> {
    let Some(choices) = super::object_refs::complete(index, text, offset) else { return Vec::new() };
    choices.names.into_iter().map(|(name, detail)| item(&name, ItemKind::Object, Some(detail), None, choices.replace.clone())).collect()
}

fn item(label: &str, kind: ItemKind, detail: Option<String>, documentation: Option<String>, replace: Range<usize>) -> CompletionItem {
    CompletionItem { label: label.to_string(), kind, detail, documentation, replace, insert: label.to_string() }
}

fn filter_prefix(items: Vec<CompletionItem>, partial: &str) -> Vec<CompletionItem> {
    items.into_iter().filter(|i| i.label.starts_with(partial)).collect()
}

fn plugin_items(pa: &ProjectAnalysis, kind: PluginNameKind, replace: &Range<usize>) -> Vec<CompletionItem> {
    if pa.project.plugin.flavor.is_none() {
        return Vec::new();
    }
    let ik = if kind == PluginNameKind::Filter { ItemKind::Filter } else { ItemKind::Function };
    let mut out: Vec<CompletionItem> = EMULATED
        .iter()
        .filter(|(_, k, ..)| *k == kind)
        .map(|(n, _, sig, doc)| item(n, ik, Some(sig.to_string()), Some(format!("{doc}\n\n_Plugin, emulated._")), replace.clone()))
        .collect();
    for d in pa.project.plugin.declarations.names.iter().filter(|d| d.kind == kind) {
        out.push(item(&d.name, ik, Some("plugin (not emulated)".into()), None, replace.clone()));
    }
    out
}

/// A short, masked one-line rendering of a value for the detail column.
fn value_detail(path: &[String], v: &Value, show: bool) -> String {
    if !show && should_mask(path, v) {
        return MASK.to_string();
    }
    let s = match v.kind() {
        ValueKind::Map => format!("dict ({} keys)", v.len().unwrap_or(0)),
        ValueKind::Seq => format!("list ({} items)", v.len().unwrap_or(0)),
        _ => py_repr(v),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

fn top_level(pa: &ProjectAnalysis, src: &str, offset: usize, partial: &str, replace: Range<usize>, show: bool) -> Vec<CompletionItem> {
    let mut out = Vec::new();
    let ctx = pa.renderer().context();
    if let Ok(keys) = ctx.try_iter() {
        for k in keys {
            let Some(name) = k.as_str() else { continue };
            if name == "env" {
                continue;
            }
            let path = vec![name.to_string()];
            let v = ctx.get_item(&k).unwrap_or_default();
            let source = match data_definition(pa, &path) {
                Some(def) => {
                    let text = pa.text(&def.path).unwrap_or_default();
                    let line = LineIndex::new(&text).line_of(def.range.start) + 1;
                    format!("{}:{line}", def.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
                }
                None => "plugin data() default".into(),
            };
            let mut it = item(
                name,
                ItemKind::Variable,
                Some(value_detail(&path, &v, show)),
                Some(format!("Defined in `{source}`")),
                replace.clone(),
            );
            it.detail = Some(format!("{} — {source}", it.detail.unwrap_or_default()));
            out.push(it);
        }
    }
    for (name, r) in bindings_before(src, pa.syntax(), offset) {
        let line = LineIndex::new(src).line_of(r.start) + 1;
        out.push(item(&name, ItemKind::Variable, Some(format!("bound on line {line}")), None, replace.clone()));
    }
    out.extend(
        FUNCTIONS.iter().map(|(n, sig, doc)| item(n, ItemKind::Function, Some(sig.to_string()), Some(doc.to_string()), replace.clone())),
    );
    out.extend(plugin_items(pa, PluginNameKind::Function, &replace));
    for kw in ["true", "false", "none", "not", "and", "or", "in", "is", "if", "else"] {
        out.push(item(kw, ItemKind::Keyword, None, None, replace.clone()));
    }
    filter_prefix(out, partial)
}

#[allow(clippy::too_many_arguments)]
fn nested(
    pa: &ProjectAnalysis,
    src: &str,
    offset: usize,
    prefix: &[String],
    partial: &str,
    replace: Range<usize>,
    in_brackets: bool,
    show: bool,
) -> Vec<CompletionItem> {
    let mut out = Vec::new();
    if prefix == ["loop"] {
        for (n, d) in [
            ("index", "1-based iteration count"),
            ("index0", "0-based iteration count"),
            ("revindex", "iterations left, 1-based"),
            ("revindex0", "iterations left, 0-based"),
            ("first", "true on the first iteration"),
            ("last", "true on the last iteration"),
            ("length", "number of items"),
            ("previtem", "the previous item"),
            ("nextitem", "the next item"),
            ("depth", "recursion depth, 1-based"),
            ("cycle", "loop.cycle(a, b, …) cycles through its arguments"),
        ] {
            out.push(item(n, ItemKind::Field, Some(d.into()), None, replace.clone()));
        }
        return filter_prefix(out, partial);
    }
    // Resolve the prefix: a loop variable stands for an item of its iterable.
    let value = resolve_prefix(pa, src, offset, prefix);
    match value.kind() {
        ValueKind::Map => {
            if let Ok(keys) = value.try_iter() {
                for k in keys {
                    let name = crate::template::pyvalue::py_str(&k);
                    let mut p = prefix.to_vec();
                    p.push(name.clone());
                    let v = value.get_item(&k).unwrap_or_default();
                    let mut it = item(&name, ItemKind::Field, Some(value_detail(&p, &v, show)), None, replace.clone());
                    if in_brackets {
                        it.insert = name.clone();
                    }
                    out.push(it);
                }
            }
        }
        ValueKind::String | ValueKind::Seq => {}
        _ => {}
    }
    if !in_brackets {
        for (n, sig, doc) in METHODS {
            let applies = match value.kind() {
                ValueKind::Map => matches!(*n, "get" | "items" | "keys" | "values"),
                ValueKind::String => matches!(*n, "split" | "startswith" | "endswith" | "strip" | "lower" | "upper" | "replace" | "join"),
                ValueKind::Seq => *n == "append",
                _ => false,
            };
            if applies {
                let mut it = item(n, ItemKind::Method, Some(sig.to_string()), Some(doc.to_string()), replace.clone());
                it.insert = format!("{n}(");
                out.push(it);
            }
        }
    }
    filter_prefix(out, partial)
}

/// The value a dotted prefix stands for; loop variables map to the union of their
/// iterable's items (so `item.` completes the keys of `nodes[*]`).
fn resolve_prefix(pa: &ProjectAnalysis, src: &str, offset: usize, prefix: &[String]) -> Value {
    let ctx = pa.renderer().context();
    let head = &prefix[0];
    if let Some(iterable) = loop_iterable(src, pa.syntax(), offset, head) {
        let items = lookup(ctx, &iterable);
        let mut merged: Vec<(Value, Value)> = Vec::new();
        if let Ok(iter) = items.try_iter() {
            for it in iter {
                if let Ok(keys) = it.try_iter() {
                    for k in keys {
                        if !merged.iter().any(|(mk, _)| *mk == k) {
                            merged.push((k.clone(), it.get_item(&k).unwrap_or_default()));
                        }
                    }
                }
            }
        }
        return lookup(&Value::from_pairs(merged), &prefix[1..]);
    }
    lookup(ctx, prefix)
}

/// For `#% for item in nodes %#` before `offset`, `["nodes"]` when `name == "item"`.
fn loop_iterable(src: &str, syntax: &crate::template::TemplateSyntax, offset: usize, name: &str) -> Option<Vec<String>> {
    let tokens = lex(src, syntax);
    let mut found = None;
    for t in tokens.iter().filter(|t| t.kind == TokenKind::Block && t.span.start < offset) {
        if tag_keyword(src, t) != Some("for") {
            continue;
        }
        let uses = names_in_tag(src, t);
        if uses.iter().any(|u| u.role == NameRole::Binding && u.path[0] == name) {
            found = uses.iter().find(|u| u.role == NameRole::Variable).map(|u| u.path.clone());
        }
    }
    found
}

/// The closest data path to an unknown one (for "did you mean").
pub fn did_you_mean(pa: &ProjectAnalysis, path: &[String]) -> Option<String> {
    let parent = lookup(pa.renderer().context(), &path[..path.len() - 1]);
    let wanted = path.last()?;
    let keys: Vec<String> = if path.len() == 1 {
        pa.renderer().context().try_iter().ok()?.filter_map(|k| k.as_str().map(str::to_string)).collect()
    } else {
        parent.try_iter().ok()?.filter_map(|k| k.as_str().map(str::to_string)).collect()
    };
    let best = keys
        .iter()
        .map(|k| (edit_distance(k, wanted), k))
        .filter(|(d, k)| *d <= (k.len().max(wanted.len()) / 5).max(2))
        .min_by_key(|(d, _)| *d)?;
    let mut p = path[..path.len() - 1].to_vec();
    p.push(best.1.clone());
    Some(p.join("."))
}

/// Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
