//! `homelab-lsp render`: the whole tree into a directory, or one template to stdout.

use crate::template::plugins::PluginInputs;
use crate::workspace::project::is_python_blank;
use crate::workspace::{DiskVfs, EntryKind, Project, RenderOutcome, Severity};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use super::diff::render_diff;
use super::usage::EXIT_USAGE;

/// Exit codes shared by the CLI commands.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_PROJECT: i32 = 2;

/// Loads the project for a command: `--root`, else the project containing `hint` or the
/// current directory. Prints the error and returns `None` when it cannot be read.
pub fn load_project(root: Option<&Path>, hint: Option<&Path>) -> Option<Project> {
    let start = match (root, hint) {
        (Some(r), _) => r.to_path_buf(),
        (None, Some(h)) => absolute(h),
        (None, None) => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    let start = absolute(&start);
    match Project::discover(&start, &DiskVfs) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

pub fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().map(|c| c.join(p)).unwrap_or_else(|_| p.to_path_buf()) };
    // Canonicalize when possible so paths compare equal to the walked ones.
    std::fs::canonicalize(&p).unwrap_or(p)
}

/// Reports project problems; returns true when one of them is fatal for rendering.
pub fn report_problems(project: &Project) -> bool {
    let mut fatal = false;
    for p in &project.problems {
        let label = match p.severity {
            // makejinja refuses to run without its data: a render from sample data is not one.
            _ if p.code == crate::workspace::project::DATA_MISSING => {
                fatal = true;
                "error"
            }
            Severity::Error => {
                fatal = true;
                "error"
            }
            Severity::Warning => "warning",
            Severity::Info if p.is_shown() => "info",
            Severity::Info => continue,
        };
        eprintln!("{label}[{}]: {p}", p.code);
    }
    fatal
}

fn with_real_encrypt(mut project: Project) -> Project {
    let mut inputs: PluginInputs = (*project.plugin.inputs).clone();
    inputs.real_encrypt = true;
    project.plugin.inputs = Arc::new(inputs);
    project
}

/// `render --output OUT`.
pub fn render_tree(root: Option<&Path>, out: &Path, plugins: &super::plugins::PluginArgs) -> i32 {
    let Some(project) = super::plugins::load_project(root, None, plugins) else {
        return EXIT_PROJECT;
    };
    if report_problems(&project) {
        return EXIT_PROJECT;
    }
    let project = with_real_encrypt(project);
    let renderer = project.renderer(Default::default());
    let out = if out.is_absolute() {
        out.to_path_buf()
    } else {
        std::env::current_dir().map(|c| c.join(out)).unwrap_or_else(|_| out.to_path_buf())
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create output directory {}: {e}", out.display());
        return EXIT_FAILED;
    }
    // makejinja creates every input directory first; the entries' parents are among them.
    let mut made: HashSet<PathBuf> = HashSet::new();
    for dir in &project.inventory.dirs {
        let path = out.join(dir);
        if std::fs::create_dir_all(&path).is_ok() {
            made.insert(path);
        }
    }
    for entry in &project.inventory.entries {
        if let Some(parent) = out.join(&entry.output_rel).parent() {
            if !made.contains(parent) && std::fs::create_dir_all(parent).is_ok() {
                made.insert(parent.to_path_buf());
            }
        }
    }
    let outcomes = render_and_write_all(&project, &renderer, &out);
    let mut failed = 0usize;
    let mut written = 0usize;
    for (entry, outcome) in project.inventory.entries.iter().zip(outcomes) {
        match outcome {
            WriteOutcome::Written => written += 1,
            WriteOutcome::Skipped => {}
            WriteOutcome::RenderFailed(e) => {
                failed += 1;
                let path = project.template_path(&e.template).unwrap_or_else(|| entry.source.clone());
                eprintln!("{}", format_error(&path, e.line, e.col, &e.message));
            }
            WriteOutcome::WriteFailed(e) => {
                failed += 1;
                eprintln!("error: cannot write {}: {e}", out.join(&entry.output_rel).display());
            }
        }
    }
    remove_empty_dirs(&out, &project.inventory.dirs);
    eprintln!(
        "rendered {written} file{} into {}{}",
        if written == 1 { "" } else { "s" },
        out.display(),
        if failed > 0 { format!(", {failed} failed") } else { String::new() }
    );
    if failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// What happened to one inventory entry in `render --output`.
enum WriteOutcome {
    Written,
    /// Empty output: makejinja writes no file.
    Skipped,
    RenderFailed(crate::template::RenderError),
    WriteFailed(std::io::Error),
}

/// A verbatim copy, read through vfs (a FIFO or a link to `/dev/zero` among the inputs must
/// not hang), keeping the source's permission bits as `fs::copy` would.
fn copy_verbatim(source: &Path, target: &Path) -> std::io::Result<()> {
    let bytes = crate::workspace::vfs::read_file_bytes(source)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {}: {e}", source.display())))?;
    std::fs::write(target, bytes)?;
    std::fs::set_permissions(target, std::fs::metadata(source)?.permissions())
}

/// Renders and writes every entry on a few threads, returning the outcomes in inventory
/// order (so messages print in a stable order). Creating a file costs far more than
/// rendering it on most disks, and the kernel overlaps those waits across threads.
fn render_and_write_all(project: &Project, renderer: &crate::template::Renderer, out: &Path) -> Vec<WriteOutcome> {
    let one = |entry: &crate::workspace::InventoryEntry| -> WriteOutcome {
        let target = out.join(&entry.output_rel);
        let written = match project.render_entry(renderer, entry) {
            RenderOutcome::Text(text) => std::fs::write(&target, text),
            RenderOutcome::Copy => copy_verbatim(&entry.source, &target),
            RenderOutcome::Empty => return WriteOutcome::Skipped,
            RenderOutcome::Failed(e) => return WriteOutcome::RenderFailed(e),
        };
        written.map_or_else(WriteOutcome::WriteFailed, |()| WriteOutcome::Written)
    };
    // A job that died counts as failed, never as skipped.
    crate::parallel::map_in_order(&project.inventory.entries, one, || {
        WriteOutcome::WriteFailed(std::io::Error::other("internal error while rendering"))
    })
}

/// makejinja removes the directories it created that ended up empty, deepest first.
fn remove_empty_dirs(out: &Path, dirs: &[String]) {
    let mut dirs: Vec<&String> = dirs.iter().collect();
    dirs.sort();
    for d in dirs.iter().rev() {
        let path = out.join(d);
        if std::fs::read_dir(&path).map(|mut it| it.next().is_none()).unwrap_or(false) {
            let _ = std::fs::remove_dir(&path);
        }
    }
}

pub fn format_error(path: &Path, line: Option<u32>, col: Option<u32>, message: &str) -> String {
    let mut s = path.display().to_string();
    if let Some(l) = line {
        s.push_str(&format!(":{}", l + 1));
        s.push_str(&format!(":{}", col.unwrap_or(0) + 1));
    }
    format!("{s}: error: {message}")
}

/// `render FILE`: one template to stdout.
pub fn render_one(root: Option<&Path>, file: &Path, plugins: &super::plugins::PluginArgs) -> i32 {
    let file_abs = match super::usage::resolve_file(root, file) {
        Ok(p) => absolute(&p),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let Some(project) = super::plugins::load_project(root, Some(&file_abs), plugins) else {
        return EXIT_PROJECT;
    };
    if report_problems(&project) {
        return EXIT_PROJECT;
    }
    let Some(name) = project.template_name(&file_abs) else {
        eprintln!("error: {} is not inside the project's template inputs ({})", file.display(), project.config.input_labels.join(", "));
        return EXIT_USAGE;
    };
    if let Some(entry) = project.inventory.by_source(&file_abs) {
        if entry.kind == EntryKind::Copy {
            return match crate::workspace::vfs::read_file_bytes(&file_abs) {
                Ok(bytes) => {
                    let _ = std::io::stdout().write_all(&bytes);
                    EXIT_OK
                }
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", file.display());
                    EXIT_FAILED
                }
            };
        }
    }
    let project = with_real_encrypt(project);
    let renderer = project.renderer(Default::default());
    match renderer.render(&name) {
        Ok(text) => {
            if is_python_blank(&text) && !project.config.keep_empty {
                eprintln!("note: the output is empty; makejinja writes no file for this template");
            }
            let _ = std::io::stdout().write_all(text.as_bytes());
            EXIT_OK
        }
        Err(e) => {
            let path = project.template_path(&e.template).unwrap_or(file_abs);
            eprintln!("{}", format_error(&path, e.line, e.col, &e.message));
            EXIT_FAILED
        }
    }
}
