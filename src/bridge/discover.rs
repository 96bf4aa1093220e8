//! Finding a Python that has makejinja, in a fixed order of places; the first that can
//! import makejinja wins.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An interpreter that imports makejinja, and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPython {
    pub path: PathBuf,
    /// `--python`, `$HOMELAB_LSP_PYTHON`, `.venv`, `$VIRTUAL_ENV`, `pipx`, `PATH`.
    pub source: &'static str,
}

impl std::fmt::Display for FoundPython {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (from {})", self.path.display(), self.source)
    }
}

/// The places looked at, in order, with what each is called in messages.
pub fn candidates(root: &Path, explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push((p.to_path_buf(), "--python / homelabLsp.plugins.python"));
    }
    if let Some(p) = env("HOMELAB_LSP_PYTHON").filter(|s| !s.is_empty()) {
        out.push((PathBuf::from(p), "$HOMELAB_LSP_PYTHON"));
    }
    out.push((root.join(".venv/bin/python"), "<root>/.venv"));
    if let Some(v) = env("VIRTUAL_ENV").filter(|s| !s.is_empty()) {
        out.push((PathBuf::from(v).join("bin/python"), "$VIRTUAL_ENV"));
    }
    let home = env("HOME").map(PathBuf::from);
    let pipx_homes = [
        env("PIPX_HOME").map(PathBuf::from),
        home.as_ref().map(|h| h.join(".local/share/pipx")),
        home.as_ref().map(|h| h.join(".local/pipx")),
    ];
    for h in pipx_homes.into_iter().flatten() {
        out.push((h.join("venvs/makejinja/bin/python"), "pipx makejinja"));
    }
    if let Some(p) = env("PATH").and_then(|path| std::env::split_paths(&path).map(|d| d.join("python3")).find(|p| p.is_file())) {
        out.push((p, "python3 on PATH"));
    }
    out
}

/// The first candidate that imports makejinja. `explicit` (`--python`) that does not is
/// an error of its own: the user asked for it.
pub fn find_python(root: &Path, explicit: Option<&Path>) -> Result<FoundPython, String> {
    let env = |k: &str| std::env::var(k).ok();
    let mut tried = Vec::new();
    for (path, source) in candidates(root, explicit, &env) {
        if imports_makejinja(&path) {
            return Ok(FoundPython { path, source });
        }
        if explicit.is_some() && tried.is_empty() {
            return Err(format!("{} cannot import makejinja", path.display()));
        }
        tried.push(format!("{} ({source})", path.display()));
    }
    Err(format!("no Python with makejinja found (tried {})", tried.join(", ")))
}

fn imports_makejinja(python: &Path) -> bool {
    if !python.is_file() && python.components().count() > 1 {
        return false;
    }
    // Locating the package (not importing it: that alone costs a few hundred ms) is enough to
    // choose; the worker's own import then reports a broken install as the plugin's error.
    Command::new(python)
        .args(["-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('makejinja') is None)"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_explicit_env_venv_virtualenv_pipx_path() {
        let env = |k: &str| match k {
            "HOMELAB_LSP_PYTHON" => Some("/e/python".to_string()),
            "VIRTUAL_ENV" => Some("/ve".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        let c = candidates(Path::new("/repo"), Some(Path::new("/x/python")), &env);
        let paths: Vec<String> = c.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(
            paths,
            [
                "/x/python",
                "/e/python",
                "/repo/.venv/bin/python",
                "/ve/bin/python",
                "/home/u/.local/share/pipx/venvs/makejinja/bin/python",
                "/home/u/.local/pipx/venvs/makejinja/bin/python"
            ]
        );
    }

    #[test]
    fn a_missing_explicit_python_is_an_error() {
        let err = find_python(Path::new("/nonexistent"), Some(Path::new("/nonexistent/python"))).unwrap_err();
        assert!(err.contains("cannot import makejinja"), "{err}");
    }
}
