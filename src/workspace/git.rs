//! What git tracks: a secret in a file that merely exists on disk (a gitignored `age.key`
//! beside the data file) is normal; one that is committed is exposed.

use std::path::{Path, PathBuf};

/// The files git tracks under `root` (absolute paths), or `None` when `root` is not a git
/// checkout or git cannot be run.
pub fn tracked_files(root: &Path) -> Option<Vec<PathBuf>> {
    if !root.join(".git").exists() {
        return None;
    }
    let out = std::process::Command::new("git").arg("-C").arg(root).args(["ls-files", "-z"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(out.stdout.split(|&b| b == 0).filter(|p| !p.is_empty()).map(|p| root.join(String::from_utf8_lossy(p).as_ref())).collect())
}
