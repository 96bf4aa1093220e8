//! Copying a repository into a scratch folder, shared by `homelab-bench` and `homelab-fuzz`
//! (both work on copies so nothing they do reaches the corpora).

use std::path::Path;

/// Copies the regular files and folders below `src` into `dst`, writable (the corpora may be
/// read-only), leaving out every entry `skip` names and everything below it.
pub fn copy_tree(src: &Path, dst: &Path, skip: impl Fn(&walkdir::DirEntry) -> bool) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(src).into_iter().filter_entry(|e| !skip(e)) {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel = entry.path().strip_prefix(src).map_err(std::io::Error::other)?;
        let target = dst.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target)?;
            let mut perm = std::fs::metadata(&target)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&target, perm)?;
        }
    }
    Ok(())
}
