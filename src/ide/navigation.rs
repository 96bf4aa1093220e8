//! Moving between a template, its generated file and its data: which data key a path
//! names, where a generated line came from, the rendered preview with its line map.

use super::{FileRange, FileRole, ProjectAnalysis};
use crate::template::RenderError;
use crate::workspace::data::{DataNode, DataValue};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The byte range of a data key's text at `offset` (quoted keys include their quotes).
pub fn key_range(text: &str, offset: usize) -> Range<usize> {
    let rest = text.get(offset..).unwrap_or_default();
    let len = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest[1..].find(q).map_or(rest.len(), |i| i + 2),
        _ => rest.find([':', '\n', '=', ' ', '\t', ',', '}', ']']).unwrap_or(rest.len()),
    };
    offset..offset + len
}

/// The data node a path reaches, and the entry of its last segment (for the key's place).
pub fn resolve_data_path<'a>(root: &'a DataNode, path: &[String]) -> Option<(&'a DataNode, &'a crate::workspace::data::DataEntry)> {
    let mut node = root;
    let mut last = None;
    for seg in path {
        let entry = match &node.value {
            DataValue::Map(_) => node.entry(seg)?,
            DataValue::List(items) => {
                let idx: usize = seg.parse().ok()?;
                node = items.get(idx)?;
                continue;
            }
            _ => return None,
        };
        node = &entry.value;
        last = Some(entry);
    }
    last.map(|e| (node, e))
}

/// Where a data path is defined: the key's range in its data file.
pub fn data_definition(pa: &ProjectAnalysis, path: &[String]) -> Option<FileRange> {
    let (_, entry) = resolve_data_path(pa.data(), path)?;
    let file = pa.project.data_files.get(entry.key.loc.file as usize)?;
    let text = pa.text(&file.path)?;
    Some(FileRange { path: file.path.clone(), range: key_range(&text, entry.key.loc.offset) })
}

/// The key path at `offset` in a data file (`["bootstrap_cloudflare", "domain"]`), with the
/// key's range.
pub fn data_path_at(root: &DataNode, text: &str, file: u32, offset: usize) -> Option<(Vec<String>, Range<usize>)> {
    fn walk(node: &DataNode, text: &str, file: u32, offset: usize, path: &mut Vec<String>) -> Option<Range<usize>> {
        match &node.value {
            DataValue::Map(entries) => {
                for e in entries {
                    let Some(k) = e.key.as_str() else { continue };
                    if e.key.loc.file == file {
                        let r = key_range(text, e.key.loc.offset);
                        if r.start <= offset && offset <= r.end {
                            path.push(k.to_string());
                            return Some(r);
                        }
                    }
                    path.push(k.to_string());
                    if let Some(r) = walk(&e.value, text, file, offset, path) {
                        return Some(r);
                    }
                    path.pop();
                }
                None
            }
            DataValue::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    if let Some(r) = walk(item, text, file, offset, path) {
                        return Some(r);
                    }
                    path.pop();
                }
                None
            }
            _ => None,
        }
    }
    let mut path = Vec::new();
    walk(root, text, file, offset, &mut path).map(|r| (path, r))
}

/// The key path at `offset` read from `text` itself with the error-tolerant structure, for a
/// data file whose loaded data came from another text (it does not load as it is now, and
/// the data's positions are those of its last version that did).
pub fn data_path_in_text(text: &str, offset: usize) -> Option<(Vec<String>, Range<usize>)> {
    use crate::yaml::structure::{CursorAt, PathSegment};
    let cx = crate::yaml::structure::cursor_context(text, offset)?;
    let key_span = match cx.at {
        CursorAt::Key { key_span, .. } | CursorAt::Value { key_span: Some(key_span), .. } => key_span,
        _ => return None,
    };
    let path = cx
        .path
        .into_iter()
        .map(|s| match s {
            PathSegment::Key(k) => k,
            PathSegment::Index(i) => i.to_string(),
        })
        .collect();
    Some((path, key_span.start..key_span.end))
}

/// The output file of a template (for "open generated file").
pub fn generated_file(pa: &ProjectAnalysis, template: &Path) -> Option<PathBuf> {
    pa.project.inventory.by_source(template).map(|e| e.output.clone())
}

/// For a line of a generated file, the template file and line that produced it.
pub fn template_source(pa: &ProjectAnalysis, generated: &Path, line: usize) -> Option<(PathBuf, u32)> {
    let FileRole::Generated { entry } = pa.role(generated) else {
        return None;
    };
    let rendered = pa.render_traced(&entry.name).ok()?;
    let map = rendered.line_map?;
    // A line past the map (or unmapped) falls back to the nearest mapped line above.
    let mut l = line.min(map.lines.len().saturating_sub(1));
    loop {
        if let Some((name, tline)) = map.origin(l) {
            return Some((pa.project.template_path(name)?, tline));
        }
        if l == 0 {
            return Some((entry.source.clone(), 0));
        }
        l -= 1;
    }
}

/// A rendered preview: the text plus, for each output line, (template path, 0-based line).
pub struct Preview {
    pub text: String,
    pub line_map: Vec<Option<(PathBuf, u32)>>,
    /// Why the preview is not from the real data (it is missing), naming the sample used.
    pub data_note: Option<String>,
}

/// Renders a template (with unsaved text) for a side-by-side preview.
pub fn rendered_preview(pa: &ProjectAnalysis, template: &Path) -> Result<Preview, String> {
    let name = pa.project.template_name(template).ok_or_else(|| format!("{} is not a template of this project", template.display()))?;
    let rendered = pa.render_traced(&name).map_err(|e: RenderError| e.to_string())?;
    let map = rendered.line_map.unwrap_or_default();
    let line_map = map.lines.iter().map(|o| o.as_ref().and_then(|(n, l)| pa.project.template_path(n).map(|p| (p, *l)))).collect();
    Ok(Preview { text: rendered.text, line_map, data_note: data_note(pa) })
}

/// "rendered from sample data …" while the data file is missing, for preview labels.
pub fn data_note(pa: &ProjectAnalysis) -> Option<String> {
    if pa.project.data_is_real() {
        return None;
    }
    let rel = |p: &Path| p.strip_prefix(&pa.project.config.root).unwrap_or(p).display().to_string();
    let missing: Vec<String> = pa.project.missing_data.iter().map(|m| rel(&m.path)).collect();
    let samples: Vec<String> = pa.project.sample_data_files().map(|d| rel(&d.path)).collect();
    Some(if samples.is_empty() {
        format!("rendered without data: {} is missing", missing.join(", "))
    } else {
        format!("rendered from sample data ({}): {} is missing", samples.join(", "), missing.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ranges() {
        let text = "a: 1\n\"quoted key\": 2\nb = 3\n";
        assert_eq!(&text[key_range(text, 0)], "a");
        assert_eq!(&text[key_range(text, 5)], "\"quoted key\"");
        assert_eq!(&text[key_range(text, 21)], "b");
    }
}
