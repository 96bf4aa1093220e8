//! Usage checks shared by the commands: what the user typed is checked before any work, and
//! every usage error exits with [`EXIT_USAGE`].

use std::path::{Path, PathBuf};

/// Exit status of a usage error (clap uses the same for its own).
pub const EXIT_USAGE: i32 = 2;

/// `--root DIR` must name an existing directory.
pub fn check_root(root: Option<&Path>) -> Result<(), String> {
    match root {
        Some(r) if !r.exists() => Err(format!("--root {}: no such directory", r.display())),
        Some(r) if !r.is_dir() => Err(format!("--root {}: not a directory", r.display())),
        _ => Ok(()),
    }
}

/// A FILE argument: relative paths are taken against `--root` when it is given (and the
/// file is there), else against the current directory. Errors when the file does not exist.
pub fn resolve_file(root: Option<&Path>, file: &Path) -> Result<PathBuf, String> {
    if file.is_absolute() {
        return if file.is_file() { Ok(file.to_path_buf()) } else { Err(format!("{}: no such file", file.display())) };
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let under_root = root.map(|r| if r.is_absolute() { r.join(file) } else { cwd.join(r).join(file) });
    let candidates: Vec<PathBuf> = under_root.into_iter().chain([cwd.join(file)]).collect();
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => Ok(p.clone()),
        None => {
            let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            Err(format!("{}: no such file (looked for {})", file.display(), tried.join(" and ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_files_resolve_against_root_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/a.yaml.j2"), "a: 1\n").unwrap();
        let got = resolve_file(Some(dir.path()), Path::new("templates/a.yaml.j2")).unwrap();
        assert_eq!(got, dir.path().join("templates/a.yaml.j2"));
        let e = resolve_file(Some(dir.path()), Path::new("templates/nope.j2")).unwrap_err();
        assert!(e.contains("no such file") && e.contains(&dir.path().join("templates/nope.j2").display().to_string()), "{e}");
        let abs = dir.path().join("missing.j2");
        assert!(resolve_file(None, &abs).unwrap_err().contains("no such file"));
    }

    #[test]
    fn root_must_be_an_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_root(Some(dir.path())).is_ok());
        assert!(check_root(None).is_ok());
        assert!(check_root(Some(&dir.path().join("nope"))).unwrap_err().contains("no such directory"));
        std::fs::write(dir.path().join("f"), "").unwrap();
        assert!(check_root(Some(&dir.path().join("f"))).unwrap_err().contains("not a directory"));
    }
}
