//! Consent to run a repo's plugin in the editor, remembered per repo root and plugin-file
//! hash in the user's state directory (`$XDG_STATE_HOME/homelab-lsp/plugin-trust.json`).
//! An edited plugin is new code and asks again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `homelabLsp.plugins.run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunPolicy {
    /// Ask once per repo (and again when the plugin changes).
    #[default]
    Ask,
    Always,
    Never,
}

impl RunPolicy {
    pub fn parse(s: &str) -> Option<RunPolicy> {
        Some(match s {
            "ask" => RunPolicy::Ask,
            "always" => RunPolicy::Always,
            "never" => RunPolicy::Never,
            _ => return None,
        })
    }
}

/// Where answers are kept.
pub fn store_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("homelab-lsp/plugin-trust.json"))
}

/// A stable fingerprint of the plugin sources (FNV-1a over names and contents): the answer
/// is bound to this code.
pub fn plugin_hash(files: &[PathBuf]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    };
    let mut files = files.to_vec();
    files.sort();
    for f in &files {
        eat(f.to_string_lossy().as_bytes());
        eat(&std::fs::read(f).unwrap_or_default());
    }
    format!("{h:016x}")
}

fn key(root: &Path, hash: &str) -> String {
    format!("{}#{hash}", root.display())
}

fn read(store: &Path) -> BTreeMap<String, bool> {
    std::fs::read_to_string(store).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// The remembered answer, if any.
pub fn remembered(store: &Path, root: &Path, hash: &str) -> Option<bool> {
    read(store).get(&key(root, hash)).copied()
}

pub fn remember(store: &Path, root: &Path, hash: &str, allowed: bool) -> std::io::Result<()> {
    let mut all = read(store);
    all.insert(key(root, hash), allowed);
    if let Some(dir) = store.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&all).map_err(std::io::Error::other)?;
    let tmp = store.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_bound_to_root_and_plugin_code() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("state/plugin-trust.json");
        let plugin = dir.path().join("plugin.py");
        std::fs::write(&plugin, "class Plugin: pass\n").unwrap();
        let h1 = plugin_hash(std::slice::from_ref(&plugin));
        assert_eq!(remembered(&store, dir.path(), &h1), None);
        remember(&store, dir.path(), &h1, true).unwrap();
        assert_eq!(remembered(&store, dir.path(), &h1), Some(true));
        std::fs::write(&plugin, "class Plugin:\n    def data(self): return {}\n").unwrap();
        let h2 = plugin_hash(std::slice::from_ref(&plugin));
        assert_ne!(h1, h2);
        assert_eq!(remembered(&store, dir.path(), &h2), None);
        assert_eq!(remembered(&store, Path::new("/elsewhere"), &h1), None);
    }
}
