//! The template inventory: which files makejinja would render or copy, where each lands,
//! and why the others are skipped.
//!
//! Mirrors makejinja's walk: each input in order, `sorted(glob("**/*"))` (hidden files
//! included), `exclude_patterns` per path (an excluded directory does not hide its files),
//! path filters (`.mjfilter.py`) on a directory and everything below it, and the first
//! input that produces an output path wins it, even when its render turns out empty.

use super::config::ProjectConfig;
use super::mjfilter::{evaluate_filter, FilterOutcome};
use super::purepath::ExcludeSet;
use crate::workspace::data::DataNode;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const PATH_FILTER_FILE: &str = ".mjfilter.py";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Rendered through the template engine (has the jinja suffix).
    Template,
    /// Copied byte for byte.
    Copy,
}

/// One file makejinja would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryEntry {
    pub kind: EntryKind,
    /// Index of the input it comes from.
    pub input: usize,
    /// Absolute source path.
    pub source: PathBuf,
    /// Path relative to its input, `/`-separated: the template name includes resolve by.
    pub name: String,
    /// Output path relative to the output directory, `/`-separated.
    pub output_rel: String,
    /// Absolute output path.
    pub output: PathBuf,
}

/// Why a path is not rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    Excluded {
        pattern: String,
    },
    /// A `.mjfilter.py` in this directory or above said no.
    Filtered {
        filter: PathBuf,
    },
    /// An earlier input already produced this output path.
    Shadowed {
        by: PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub source: PathBuf,
    pub reason: SkipReason,
}

/// A path filter the emulation could not evaluate (the directory is rendered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterProblem {
    pub filter: PathBuf,
    pub reason: String,
    /// 0-based line in the filter file.
    pub line: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The files makejinja writes, in walk order.
    pub entries: Vec<InventoryEntry>,
    /// Output directories makejinja creates (relative to output), in walk order.
    pub dirs: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub filter_problems: Vec<FilterProblem>,
    /// Every file under the inputs (excluded ones too): includes can load any of them.
    pub all_files: Vec<(usize, String, PathBuf)>,
    by_output: HashMap<PathBuf, usize>,
    by_source: HashMap<PathBuf, usize>,
}

impl Inventory {
    pub fn by_output(&self, output: &Path) -> Option<&InventoryEntry> {
        self.by_output.get(output).map(|&i| &self.entries[i])
    }

    pub fn by_source(&self, source: &Path) -> Option<&InventoryEntry> {
        self.by_source.get(source).map(|&i| &self.entries[i])
    }

    pub fn templates(&self) -> impl Iterator<Item = &InventoryEntry> {
        self.entries.iter().filter(|e| e.kind == EntryKind::Template)
    }

    /// Drops what a running plugin's path filters exclude (`excluded`: absolute paths of
    /// files and directories; a directory takes everything below it).
    pub fn drop_filtered(&mut self, inputs: &[PathBuf], excluded: &[PathBuf]) {
        if excluded.is_empty() {
            return;
        }
        let gone = |p: &Path| excluded.iter().any(|e| p.starts_with(e));
        for e in self.entries.iter().filter(|e| gone(&e.source)) {
            self.skipped.push(Skipped { source: e.source.clone(), reason: SkipReason::Filtered { filter: e.source.clone() } });
        }
        self.entries.retain(|e| !gone(&e.source));
        self.dirs.retain(|d| !inputs.iter().any(|i| i.join(d).is_dir() && gone(&i.join(d))));
        self.by_output = self.entries.iter().enumerate().map(|(i, e)| (e.output.clone(), i)).collect();
        self.by_source = self.entries.iter().enumerate().map(|(i, e)| (e.source.clone(), i)).collect();
    }

    /// The file an include name resolves to: the first input that has it.
    pub fn resolve_name(&self, name: &str) -> Option<&Path> {
        self.all_files.iter().find(|(_, n, _)| n == name).map(|(_, _, p)| p.as_path())
    }
}

/// Reads `.mjfilter.py` sources during the walk (the workspace passes its file reader).
pub type ReadFn<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// Walks the inputs. `data` is the loaded data (path filters see it before plugin defaults).
pub fn build_inventory(config: &ProjectConfig, data: &DataNode, read: ReadFn<'_>) -> Inventory {
    let excludes = ExcludeSet::new(&config.exclude_patterns);
    let mut inv = Inventory::default();
    let mut filter_cache: HashMap<PathBuf, FilterOutcome> = HashMap::new();
    let mut seen_dirs: std::collections::HashSet<String> = Default::default();
    for (input_idx, input) in config.inputs.iter().enumerate() {
        let label = &config.input_labels[input_idx];
        if input.is_file() {
            // A single-file input renders to `output / name`.
            let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            inv.all_files.push((input_idx, name.clone(), input.clone()));
            add_entry(config, &mut inv, input_idx, input.clone(), name, EntryKind::Template);
            continue;
        }
        let walker = walkdir::WalkDir::new(input).min_depth(1).follow_links(true).sort_by_file_name();
        let mut iter = walker.into_iter();
        while let Some(item) = iter.next() {
            let Ok(item) = item else { continue };
            let path = item.path().to_path_buf();
            let Ok(rel) = path.strip_prefix(input) else { continue };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let is_dir = item.file_type().is_dir();
            if !is_dir {
                inv.all_files.push((input_idx, rel.clone(), path.clone()));
            }
            // Path filters: the directory's own filter and every one above it.
            let filter_dir = if is_dir { Some(path.as_path()) } else { path.parent() };
            if let Some(filter) = failing_filter(filter_dir, input, data, read, &mut filter_cache, &mut inv.filter_problems) {
                inv.skipped.push(Skipped { source: path.clone(), reason: SkipReason::Filtered { filter } });
                if is_dir {
                    // makejinja checks each path below too, and they all fail the same
                    // filter: skip the whole subtree.
                    iter.skip_current_dir();
                }
                continue;
            }
            let match_path = if label == "." { rel.clone() } else { format!("{label}/{rel}") };
            if let Some(pattern) = excludes.matching_pattern(&match_path) {
                inv.skipped.push(Skipped { source: path.clone(), reason: SkipReason::Excluded { pattern: pattern.to_string() } });
                continue;
            }
            if is_dir {
                let out_rel = output_rel(config, &rel, false);
                if seen_dirs.insert(out_rel.clone()) {
                    inv.dirs.push(out_rel);
                }
                continue;
            }
            let kind = match &config.jinja_suffix {
                Some(suffix) if python_suffix(&rel) == suffix => EntryKind::Template,
                Some(_) => EntryKind::Copy,
                None => EntryKind::Template,
            };
            add_entry(config, &mut inv, input_idx, path, rel, kind);
        }
    }
    inv
}

fn add_entry(config: &ProjectConfig, inv: &mut Inventory, input: usize, source: PathBuf, name: String, kind: EntryKind) {
    let output_rel = output_rel(config, &name, kind == EntryKind::Template);
    let output = super::config::join_clean(&config.output, &output_rel);
    if let Some(&existing) = inv.by_output.get(&output) {
        inv.skipped.push(Skipped { source, reason: SkipReason::Shadowed { by: inv.entries[existing].source.clone() } });
        return;
    }
    let idx = inv.entries.len();
    inv.by_output.insert(output.clone(), idx);
    inv.by_source.insert(source.clone(), idx);
    inv.entries.push(InventoryEntry { kind, input, source, name, output_rel, output });
}

/// Python's `PurePath.suffix` of the last component (`.j2` of `a.yaml.j2`; none for `.j2`).
pub fn python_suffix(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() => &name[i..],
        _ => "",
    }
}

/// The output path of an input-relative path: the last jinja suffix removed.
pub fn output_rel(config: &ProjectConfig, rel: &str, is_template: bool) -> String {
    match (&config.jinja_suffix, is_template && !config.keep_jinja_suffix) {
        (Some(suffix), true) if python_suffix(rel) == suffix => rel[..rel.len() - suffix.len()].to_string(),
        _ => rel.to_string(),
    }
}

/// The first `.mjfilter.py` at or above `dir` (inside `input`) that rejects the data.
fn failing_filter(
    dir: Option<&Path>,
    input: &Path,
    data: &DataNode,
    read: ReadFn<'_>,
    cache: &mut HashMap<PathBuf, FilterOutcome>,
    problems: &mut Vec<FilterProblem>,
) -> Option<PathBuf> {
    let mut current = dir;
    while let Some(d) = current {
        if !d.starts_with(input) {
            break;
        }
        let filter = d.join(PATH_FILTER_FILE);
        let outcome = cache
            .entry(filter.clone())
            .or_insert_with(|| match read(&filter) {
                Ok(src) => {
                    let outcome = evaluate_filter(&src, data);
                    if let FilterOutcome::Unknown { reason, line } = &outcome {
                        problems.push(FilterProblem { filter: filter.clone(), reason: reason.clone(), line: *line });
                    }
                    outcome
                }
                Err(_) => FilterOutcome::Render,
            })
            .clone();
        if matches!(outcome, FilterOutcome::Skip) {
            return Some(filter);
        }
        if d == input {
            break;
        }
        current = d.parent();
    }
    None
}
