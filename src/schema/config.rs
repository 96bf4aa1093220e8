//! `.homelab-lsp.toml`: the repository's own settings, read by the CLI and the server alike
//! (editor settings and command-line flags override them).
//!
//! ```toml
//! [rules]                      # severities, as --rule / homelabLsp.diagnostics.rules
//! drift = "off"
//!
//! [schema]
//! offline = false
//! cache-dir = "~/.cache/homelab-lsp/schemas"
//! plain-yaml = true            # validate plain YAML too (off: leave it to yaml-language-server)
//! url-template = "https://k8s-schemas.home-operations.com/{group}/{kind}_{version}.json"
//! kubernetes-url-template = "" # schemas for built-in kinds (apps/v1 Deployment, v1 Service); none by default
//! mirrors = { "https://" = "file:///srv/schemas/" }
//!
//! [[schemas]]
//! url = "https://example.org/values.schema.json"
//! files = ["kubernetes/apps/**/values.yaml"]
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The file name, at the project root.
pub const FILE_NAME: &str = ".homelab-lsp.toml";

/// The default CRD layout: lower-cased group, kind and version.
pub const DEFAULT_URL_TEMPLATE: &str = "https://k8s-schemas.home-operations.com/{group}/{kind}_{version}.json";

/// One `[[schemas]]` entry: files (globs relative to the root) → schema URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaGlob {
    pub url: String,
    pub files: Vec<String>,
}

/// What `.homelab-lsp.toml` says; every field optional so that overrides can be layered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoConfig {
    pub rules: HashMap<String, String>,
    pub offline: Option<bool>,
    pub cache_dir: Option<PathBuf>,
    pub plain_yaml: Option<bool>,
    pub url_template: Option<String>,
    pub kubernetes_url_template: Option<String>,
    pub mirrors: Vec<(String, String)>,
    pub globs: Vec<SchemaGlob>,
    /// What could not be read (shown by `check` and logged by the server).
    pub problems: Vec<String>,
}

impl RepoConfig {
    /// Reads `ROOT/.homelab-lsp.toml`; a missing file is an empty config.
    pub fn load(root: &Path) -> RepoConfig {
        let path = root.join(FILE_NAME);
        match crate::workspace::vfs::read_text_file(&path) {
            Ok(text) => RepoConfig::parse(&text, root),
            Err(_) => RepoConfig::default(),
        }
    }

    /// Parses the file's text; `root` anchors relative paths.
    pub fn parse(text: &str, root: &Path) -> RepoConfig {
        let mut c = RepoConfig::default();
        let value: toml::Table = match toml::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let at = e.span().map(|s| line_col(text, s.start)).map(|(l, col)| format!(":{l}:{col}")).unwrap_or_default();
                c.problems.push(format!("{FILE_NAME}{at}: {}", e.message().trim_end()));
                return c;
            }
        };
        if let Some(rules) = value.get("rules").and_then(|v| v.as_table()) {
            for (code, level) in rules {
                match level.as_str() {
                    Some(l) if crate::rules::LEVELS.contains(&l) && crate::rules::find(code).is_some() => {
                        c.rules.insert(code.clone(), l.to_string());
                    }
                    _ => c.problems.push(format!("{FILE_NAME}: [rules] {code}: unknown rule or level")),
                }
            }
        }
        if let Some(s) = value.get("schema").and_then(|v| v.as_table()) {
            c.offline = s.get("offline").and_then(|v| v.as_bool());
            c.plain_yaml = s.get("plain-yaml").and_then(|v| v.as_bool());
            if let Some(dir) = s.get("cache-dir").and_then(|v| v.as_str()).map(|d| expand_path(d, root)) {
                if allowed_cache_dir(&dir, root) {
                    c.cache_dir = Some(dir);
                } else {
                    c.problems.push(format!(
                        "{FILE_NAME}: [schema] cache-dir {} is outside the repository and the user's cache directory; ignored \
                         (a repository must not make the tools write elsewhere: set it with --schema-cache or homelabLsp.schemas.cacheDir)",
                        dir.display()
                    ));
                }
            }
            c.url_template = s.get("url-template").and_then(|v| v.as_str()).map(str::to_string);
            c.kubernetes_url_template = s.get("kubernetes-url-template").and_then(|v| v.as_str()).map(str::to_string);
            if let Some(m) = s.get("mirrors").and_then(|v| v.as_table()) {
                c.mirrors = m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
            }
        }
        if let Some(list) = value.get("schemas").and_then(|v| v.as_array()) {
            for entry in list {
                let url = entry.get("url").and_then(|v| v.as_str());
                let files: Vec<String> = entry
                    .get("files")
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|f| f.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                match url {
                    Some(url) if !files.is_empty() => c.globs.push(SchemaGlob { url: url.to_string(), files }),
                    _ => c.problems.push(format!("{FILE_NAME}: every [[schemas]] needs url = \"…\" and files = [\"glob\", …]")),
                }
            }
        }
        c
    }
}

/// Where a repository's own file may put the schema cache: inside the repository, or inside
/// the user's `homelab-lsp` cache directory. Anything else would let a cloned repository
/// make `check` or the editor's server write files anywhere the user can (the VS Code
/// extension ignores a workspace's `cacheDir` in untrusted workspaces for the same reason).
/// The test is on the path as written, `..` resolved: a path naming a symlink is taken at
/// its word.
fn allowed_cache_dir(dir: &Path, root: &Path) -> bool {
    let dir = normalize(dir);
    if dir.starts_with(normalize(root)) {
        return true;
    }
    let xdg = super::fetch::default_cache_dir().and_then(|d| d.parent().map(Path::to_path_buf));
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("homelab-lsp"));
    [xdg, home].into_iter().flatten().any(|base| dir.starts_with(normalize(&base)))
}

/// `a/b/../c` → `a/c`, lexically.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in p.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// `~/x` → home, relative → under `root`.
fn expand_path(p: &str, root: &Path) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        root.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_section() {
        let text = r#"
[rules]
drift = "off"
nope = "error"
[schema]
offline = true
cache-dir = "cache"
plain-yaml = false
mirrors = { "https://" = "file:///m/" }
[[schemas]]
url = "https://x/s.json"
files = ["a/**/*.yaml"]
"#;
        let c = RepoConfig::parse(text, Path::new("/r"));
        assert_eq!(c.rules.get("drift").map(String::as_str), Some("off"));
        assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
        assert_eq!(c.offline, Some(true));
        assert_eq!(c.plain_yaml, Some(false));
        assert_eq!(c.cache_dir, Some(PathBuf::from("/r/cache")));
        assert_eq!(c.mirrors, vec![("https://".to_string(), "file:///m/".to_string())]);
        assert_eq!(c.globs, vec![SchemaGlob { url: "https://x/s.json".into(), files: vec!["a/**/*.yaml".into()] }]);
        assert!(!RepoConfig::parse("[", Path::new("/r")).problems.is_empty());
    }

    #[test]
    fn syntax_errors_say_where() {
        let c = RepoConfig::parse("[schema]\noffline = tru\n", Path::new("/r"));
        assert_eq!(c.problems.len(), 1);
        assert!(c.problems[0].starts_with(".homelab-lsp.toml:2:"), "{:?}", c.problems);
    }

    #[test]
    fn the_cache_stays_inside_the_repository_or_the_user_cache() {
        let inside = RepoConfig::parse("[schema]\ncache-dir = \".cache/schemas\"\n", Path::new("/r"));
        assert_eq!(inside.cache_dir, Some(PathBuf::from("/r/.cache/schemas")));
        assert!(inside.problems.is_empty());
        for outside in ["/etc/x", "../elsewhere", "sub/../../up"] {
            let c = RepoConfig::parse(&format!("[schema]\ncache-dir = \"{outside}\"\n"), Path::new("/r"));
            assert_eq!(c.cache_dir, None, "{outside}");
            assert!(c.problems.iter().any(|p| p.contains("cache-dir")), "{outside}: {:?}", c.problems);
        }
        if let Some(user) = crate::schema::fetch::default_cache_dir() {
            let c = RepoConfig::parse(&format!("[schema]\ncache-dir = \"{}\"\n", user.join("team").display()), Path::new("/r"));
            assert_eq!(c.cache_dir, Some(user.join("team")));
        }
    }
}
