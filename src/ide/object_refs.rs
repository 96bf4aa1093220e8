//! Go to definition and hover on Kubernetes references in hand-written YAML: a route's
//! `parentRefs` to its Gateway, a `secretKeyRef`/`secretRef`/`valuesFrom`/`existingSecret`
//! to the Secret, a `sourceRef` to the Flux source, through the repo index. Objects that a
//! template renders lead to that template.

use super::{FileRange, ProjectAnalysis};
use crate::yaml::refs::{reference_at, ObjectRef};
use crate::yaml::RepoIndex;
use std::ops::Range;
use std::path::Path;

/// Where an object defined in `file` at 0-based `line` is written: the line in a
/// hand-written file, the template of a rendered one.
pub fn object_location(pa: &ProjectAnalysis, file: &Path, line: u32) -> FileRange {
    if let Some(e) = pa.project.inventory.by_output(file) {
        return FileRange { path: e.source.clone(), range: 0..0 }; // rendered lines differ from the template's
    }
    let at = pa.text(file).and_then(|t| crate::template::syntax::LineIndex::new(&t).line_start(line as usize)).unwrap_or(0);
    FileRange { path: file.to_path_buf(), range: at..at }
}

/// The reference at `offset` of `text`, with the places that define its target.
pub fn resolve(pa: &ProjectAnalysis, index: &RepoIndex, text: &str, offset: usize) -> Option<(ObjectRef, Range<usize>, Vec<FileRange>)> {
    let r = reference_at(text, offset)?;
    let same_ns = |want: &Option<String>, have: &Option<String>| match (want, have) {
        (Some(w), Some(h)) => w == h,
        _ => true,
    };
    let defs: Vec<FileRange> = match &r.target {
        ObjectRef::Gateway { name, namespace } => index
            .gateways
            .iter()
            .filter(|g| &g.name == name && same_ns(namespace, &g.namespace))
            .map(|g| object_location(pa, &g.file, g.line))
            .collect(),
        ObjectRef::Secret { name } => index.secrets_named(name).map(|s| object_location(pa, &s.file, s.line)).collect(),
        ObjectRef::Source { kind, name, namespace } => index
            .sources_named(name)
            .filter(|s| kind.as_ref().is_none_or(|k| k == &s.kind) && same_ns(namespace, &s.namespace))
            .map(|s| object_location(pa, &s.file, s.line))
            .collect(),
    };
    let mut unique: Vec<FileRange> = Vec::new();
    for d in defs {
        if !unique.contains(&d) {
            unique.push(d);
        }
    }
    Some((r.target, r.range.start..r.range.end, unique))
}

/// [`resolve`] in a template's own text, its tags blanked out (offsets unchanged): a
/// literal `name:` under `parentRefs` in a template is as much a reference.
pub fn resolve_in_template(
    pa: &ProjectAnalysis,
    index: &RepoIndex,
    text: &str,
    offset: usize,
) -> Option<(ObjectRef, Range<usize>, Vec<FileRange>)> {
    let tokens = crate::template::syntax::lex(text, pa.syntax());
    if tokens.iter().any(|t| t.is_tag() && t.span.start <= offset && offset < t.span.end) {
        return None;
    }
    resolve(pa, index, &super::template_as_yaml(text, &tokens), offset)
}

/// Typed where a reference's name goes to learn what kind of object belongs there (the
/// value may still be empty); not a name anyone writes.
const PROBE: &str = "homelabLspProbe";

/// The names a reference being typed can take.
pub struct NameChoices {
    /// The bytes the chosen name replaces.
    pub replace: Range<usize>,
    /// (name, detail such as `Gateway in network`), sorted.
    pub names: Vec<(String, String)>,
}

/// Names that fit the reference being typed at `offset`: every Gateway for a
/// `parentRefs` entry, every Secret for a `secretKeyRef`, the sources of the written `kind`
/// for a `sourceRef`.
pub fn complete(index: &RepoIndex, text: &str, offset: usize) -> Option<NameChoices> {
    if !text.is_char_boundary(offset) {
        return None;
    }
    let probed = format!("{}{PROBE}{}", &text[..offset], &text[offset..]);
    let r = reference_at(&probed, offset)?;
    let mut start = r.range.start.min(offset);
    if matches!(text.as_bytes().get(start), Some(b'"' | b'\'')) {
        start += 1; // keep the quote
    }
    let in_ns = |label: &str, ns: &Option<String>| match ns {
        Some(ns) => format!("{label} in {ns}"),
        None => label.to_string(),
    };
    let mut names: Vec<(String, String)> = match &r.target {
        ObjectRef::Gateway { .. } => index.gateways.iter().map(|g| (g.name.clone(), in_ns("Gateway", &g.namespace))).collect(),
        ObjectRef::Secret { .. } => index.secrets.iter().map(|s| (s.name.clone(), in_ns("Secret", &s.namespace))).collect(),
        ObjectRef::Source { kind, .. } => index
            .sources
            .iter()
            .filter(|s| kind.as_ref().is_none_or(|k| k == &s.kind))
            .map(|s| (s.name.clone(), in_ns(&s.kind, &s.namespace)))
            .collect(),
    };
    names.sort();
    names.dedup();
    Some(NameChoices { replace: start..offset, names })
}

/// Hover text for a reference: what it names and where that is defined.
pub fn describe(pa: &ProjectAnalysis, target: &ObjectRef, defs: &[FileRange]) -> String {
    let what = match target {
        ObjectRef::Gateway { name, namespace: Some(ns) } => format!("Gateway `{name}` in namespace `{ns}`"),
        ObjectRef::Gateway { name, namespace: None } => format!("Gateway `{name}`"),
        ObjectRef::Secret { name } => format!("Secret `{name}`"),
        ObjectRef::Source { kind, name, .. } => format!("{} `{name}`", kind.as_deref().unwrap_or("Flux source")),
    };
    if defs.is_empty() {
        return format!("{what}: **not defined** in the repository");
    }
    let places: Vec<String> = defs
        .iter()
        .take(5)
        .map(|d| {
            let rel = d.path.strip_prefix(&pa.project.config.root).unwrap_or(&d.path).display().to_string();
            let line = pa.text(&d.path).map(|t| crate::template::syntax::LineIndex::new(&t).line_of(d.range.start) + 1);
            match line {
                Some(l) if d.range.start > 0 => format!("`{rel}` line {l}"),
                _ => format!("`{rel}`"),
            }
        })
        .collect();
    format!("{what}: defined in {}", places.join(", "))
}
