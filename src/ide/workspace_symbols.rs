//! Workspace symbols (the editor's "go to symbol in workspace"): data keys by dotted path,
//! templates, and the Gateways, Secrets and Flux sources the repository defines, matched
//! against the typed query as editors do (case-insensitive, letters in order).

use super::navigation::key_range;
use super::{FileRange, ProjectAnalysis};
use crate::workspace::data::{DataNode, DataValue};
use crate::yaml::RepoIndex;

/// At most this many symbols are returned: the editor narrows further as the user types.
pub const MAX_SYMBOLS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsKind {
    DataKey,
    Template,
    Gateway,
    Secret,
    Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsSymbol {
    pub name: String,
    pub kind: WsKind,
    /// Where it lives, for the editor's second column (`config.yaml`, `Gateway in network`).
    pub container: Option<String>,
    pub location: FileRange,
}

/// The symbols of the projects matching `query`, best matches first. `index` gives each
/// project's repo index when one is built (Kubernetes objects are left out otherwise).
pub fn workspace_symbols(projects: &[(&ProjectAnalysis, Option<&RepoIndex>)], query: &str) -> Vec<WsSymbol> {
    let query: Vec<char> = query.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    let mut scored: Vec<(u32, WsSymbol)> = Vec::new();
    let mut offer = |sym: WsSymbol| {
        if let Some(score) = match_score(&query, &sym.name) {
            scored.push((score, sym));
        }
    };
    for (pa, index) in projects {
        for (file, df) in pa.project.data_files.iter().enumerate() {
            let (Some(root), Some(text)) = (&df.root, &df.text) else { continue };
            let container = df.path.file_name().map(|n| n.to_string_lossy().into_owned());
            data_keys(root, file as u32, &mut String::new(), &mut |dotted, offset| {
                offer(WsSymbol {
                    name: dotted.to_string(),
                    kind: WsKind::DataKey,
                    container: container.clone(),
                    location: FileRange { path: df.path.clone(), range: key_range(text, offset) },
                });
            });
        }
        for e in pa.project.inventory.templates() {
            offer(WsSymbol {
                name: e.name.rsplit('/').next().unwrap_or(&e.name).to_string(),
                kind: WsKind::Template,
                container: e.name.rsplit_once('/').map(|(dir, _)| dir.to_string()),
                location: FileRange { path: e.source.clone(), range: 0..0 },
            });
        }
        let Some(index) = index else { continue };
        let objects = index
            .gateways
            .iter()
            .map(|g| (WsKind::Gateway, "Gateway", &g.name, &g.namespace, &g.file, g.line))
            .chain(index.secrets.iter().map(|s| (WsKind::Secret, "Secret", &s.name, &s.namespace, &s.file, s.line)))
            .chain(index.sources.iter().map(|s| (WsKind::Source, s.kind.as_str(), &s.name, &s.namespace, &s.file, s.line)));
        for (kind, label, name, namespace, file, line) in objects {
            offer(WsSymbol {
                // Rendered templates name these objects, and a template may print a secret
                // into a name: never shown (nor matched against the query).
                name: super::secrets::mask_values_in(name, pa.secret_values()),
                kind,
                container: Some(match namespace {
                    Some(ns) => format!("{label} in {ns}"),
                    None => label.to_string(),
                }),
                location: super::object_refs::object_location(pa, file, line),
            });
        }
    }
    scored.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.name.len().cmp(&y.name.len())).then(x.name.cmp(&y.name)));
    scored.dedup_by(|(_, a), (_, b)| a.name == b.name && a.kind == b.kind && a.location == b.location);
    scored.into_iter().take(MAX_SYMBOLS).map(|(_, s)| s).collect()
}

/// Calls `f(dotted_path, key_offset)` for every key written in data file `file`, nested
/// mappings included (list items are values, not symbols).
fn data_keys(node: &DataNode, file: u32, prefix: &mut String, f: &mut dyn FnMut(&str, usize)) {
    let DataValue::Map(entries) = &node.value else { return };
    for e in entries.iter().filter(|e| e.key.loc.file == file) {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(&crate::workspace::data::pystr::py_str(&e.key.value));
        f(prefix, e.key.loc.offset);
        data_keys(&e.value, file, prefix, f);
        prefix.truncate(len);
    }
}

/// Lower is better; `None` when the query's letters do not all appear in order.
/// 0: the name starts with the query; 1: contains it; 2: the letters in order.
fn match_score(query: &[char], name: &str) -> Option<u32> {
    if query.is_empty() {
        return Some(0);
    }
    let lower: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    if lower.starts_with(query) {
        return Some(0);
    }
    if lower.windows(query.len()).any(|w| w == query) {
        return Some(1);
    }
    let mut q = query.iter().peekable();
    for c in &lower {
        if q.peek() == Some(&c) {
            q.next();
        }
    }
    q.peek().is_none().then_some(2)
}

#[cfg(test)]
mod tests {
    use super::match_score;

    #[test]
    fn prefix_beats_substring_beats_letters_in_order() {
        let q = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(match_score(&q("boot"), "bootstrap_cloudflare.domain"), Some(0));
        assert_eq!(match_score(&q("domain"), "bootstrap_cloudflare.domain"), Some(1));
        assert_eq!(match_score(&q("bcd"), "bootstrap_cloudflare.domain"), Some(2));
        assert_eq!(match_score(&q("xyz"), "bootstrap_cloudflare.domain"), None);
        assert_eq!(match_score(&q("cf"), "CloudFlare"), Some(2), "case-insensitive");
        assert_eq!(match_score(&[], "anything"), Some(0));
    }
}
