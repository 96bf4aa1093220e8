//! `homelab-lsp render --diff`: what `task configure` would change, as a unified diff of
//! every generated file against the file on disk. Writes nothing.

use super::render::{format_error, report_problems, EXIT_FAILED, EXIT_OK, EXIT_PROJECT};
use crate::workspace::{InventoryEntry, Project, RenderOutcome};
use std::collections::HashMap;
use std::path::Path;

/// How one generated file differs from the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A file makejinja would create.
    New,
    Changed,
    /// On disk, but its template now renders empty, so makejinja no longer writes it.
    Removed,
}

/// One file that differs, with its unified diff (paths relative to the project root).
#[derive(Debug, Clone)]
pub struct FileDiff {
    pub path: String,
    /// Absolute path of the generated file.
    pub output: std::path::PathBuf,
    pub change: Change,
    pub diff: String,
    /// What makejinja would write (`None` when removed or not UTF-8).
    pub fresh: Option<String>,
}

/// Whether `s` starts with a bcrypt hash (what `encrypt` writes). A fresh hash never equals
/// the committed one (new salt), and without the password the two cannot be compared, so a
/// line that differs only in its hashes counts as unchanged.
fn is_bcrypt_at(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 60
        && b[0] == b'$'
        && b[1] == b'2'
        && matches!(b[2], b'a' | b'b' | b'x' | b'y')
        && b[3] == b'$'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && b[7..60].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'/')
}

/// `line` with each bcrypt hash replaced by a marker, or `None` when it holds none.
fn without_hashes(line: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = line;
    let mut found = false;
    while let Some(i) = rest.find("$2") {
        if is_bcrypt_at(&rest[i..]) {
            out.push_str(&rest[..i]);
            out.push_str("<bcrypt>");
            rest = &rest[i + 60..];
            found = true;
        } else {
            out.push_str(&rest[..i + 2]);
            rest = &rest[i + 2..];
        }
    }
    out.push_str(rest);
    found.then_some(out)
}

/// `fresh` with each line that differs from a line of `disk` only in bcrypt hashes taken
/// from `disk`.
fn keep_committed_hashes(fresh: &str, disk: &str) -> String {
    if !fresh.contains("$2") {
        return fresh.to_string();
    }
    let committed: HashMap<String, &str> = disk.split_inclusive('\n').filter_map(|l| Some((without_hashes(l)?, l))).collect();
    fresh.split_inclusive('\n').map(|l| without_hashes(l).and_then(|k| committed.get(&k).copied()).unwrap_or(l)).collect()
}

fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// The diff of one inventory entry against the disk; `Err` when it does not render.
fn entry_diff(project: &Project, renderer: &crate::template::Renderer, entry: &InventoryEntry) -> Result<Option<FileDiff>, String> {
    let rel = entry.output.strip_prefix(&project.config.root).unwrap_or(&entry.output).display().to_string();
    let (a, b) = (format!("a/{rel}"), format!("b/{rel}"));
    let on_disk = std::fs::read(&entry.output).ok();
    let fresh: Vec<u8> = match project.render_entry(renderer, entry) {
        RenderOutcome::Text(text) => text.into_bytes(),
        RenderOutcome::Copy => crate::workspace::vfs::read_file_bytes(&entry.source)
            .map_err(|e| format!("{}: error: cannot read: {e}", entry.source.display()))?,
        RenderOutcome::Empty => {
            return Ok(on_disk.map(|disk| {
                let text = String::from_utf8_lossy(&disk);
                let diff = unified(&text, "", &a, "/dev/null");
                FileDiff { path: rel.clone(), output: entry.output.clone(), change: Change::Removed, diff, fresh: None }
            }))
        }
        RenderOutcome::Failed(e) => {
            let path = project.template_path(&e.template).unwrap_or_else(|| entry.source.clone());
            return Err(format_error(&path, e.line, e.col, &e.message));
        }
    };
    let Some(disk) = on_disk else {
        let text = String::from_utf8(fresh).ok();
        let diff = match &text {
            Some(text) => unified("", text, "/dev/null", &b),
            None => format!("Binary file {b} is new\n"),
        };
        return Ok(Some(FileDiff { path: rel, output: entry.output.clone(), change: Change::New, diff, fresh: text }));
    };
    if disk == fresh {
        return Ok(None);
    }
    let (diff, fresh) = match (std::str::from_utf8(&disk), std::str::from_utf8(&fresh)) {
        (Ok(old), Ok(new)) => {
            let new = keep_committed_hashes(new, old);
            if new == old {
                return Ok(None);
            }
            (unified(old, &new, &a, &b), Some(new))
        }
        _ => (format!("Binary files {a} and {b} differ\n"), None),
    };
    Ok(Some(FileDiff { path: rel, output: entry.output.clone(), change: Change::Changed, diff, fresh }))
}

/// Every generated file that would change, in inventory order, and the render errors.
pub fn project_diff(project: &Project) -> (Vec<FileDiff>, Vec<String>) {
    let renderer = project.renderer(Default::default());
    let results = crate::parallel::map_in_order(
        &project.inventory.entries,
        |e| entry_diff(project, &renderer, e),
        || Err("error: internal error while rendering".to_string()),
    );
    let mut diffs = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(Some(d)) => diffs.push(d),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (diffs, errors)
}

/// `render --diff`: exit 0 when nothing would change, 1 when something would (or a template
/// fails), 2 when the project cannot be read.
pub fn render_diff(root: Option<&Path>, plugins: &super::plugins::PluginArgs) -> i32 {
    let Some(project) = super::plugins::load_project(root, None, plugins) else {
        return EXIT_PROJECT;
    };
    if report_problems(&project) {
        return EXIT_PROJECT;
    }
    let (diffs, errors) = project_diff(&project);
    for d in &diffs {
        print!("{}", d.diff);
    }
    for e in &errors {
        eprintln!("{e}");
    }
    let count = |c: Change| diffs.iter().filter(|d| d.change == c).count();
    eprintln!(
        "{} changed, {} new, {} removed{}",
        count(Change::Changed),
        count(Change::New),
        count(Change::Removed),
        if errors.is_empty() { String::new() } else { format!(", {} failed to render", errors.len()) }
    );
    if diffs.is_empty() && errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_A: &str = "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
    const HASH_B: &str = "$2b$12$zyxwvutsrqponmlkjihgfeZYXWVUTSRQPONMLKJIHGFEDCBA98765";

    #[test]
    fn hashes_are_recognised() {
        assert_eq!(HASH_A.len(), 60);
        assert!(is_bcrypt_at(HASH_A));
        assert!(!is_bcrypt_at("$2b$12$short"));
        assert_eq!(without_hashes(&format!("pw: \"{HASH_A}\"\n")).as_deref(), Some("pw: \"<bcrypt>\"\n"));
        assert_eq!(without_hashes("a: $2 b\n"), None);
    }

    #[test]
    fn lines_differing_only_in_hashes_keep_the_committed_one() {
        let disk = format!("a: 1\npw: {HASH_A}\n");
        let fresh = format!("a: 2\npw: {HASH_B}\n");
        assert_eq!(keep_committed_hashes(&fresh, &disk), format!("a: 2\npw: {HASH_A}\n"));
        let changed = format!("a: 1\npassword: {HASH_B}\n");
        assert_eq!(keep_committed_hashes(&changed, &disk), changed);
    }

    #[test]
    fn unified_diff_has_headers_and_hunks() {
        let d = unified("a\nb\nc\n", "a\nB\nc\n", "a/x.yaml", "b/x.yaml");
        assert!(d.starts_with("--- a/x.yaml\n+++ b/x.yaml\n@@ -1,3 +1,3 @@\n"), "{d}");
        assert!(d.contains("\n-b\n+B\n"), "{d}");
    }
}
