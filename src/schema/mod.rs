//! JSON schemas for YAML documents: which schema a document follows ([`resolve`]), getting
//! it ([`fetch`], behind one trait), compiling it once ([`store`]), validating the
//! positioned YAML tree against it ([`validate`]) and walking it for hover and completion
//! ([`navigate`], [`assist`]).
//!
//! Fetching never runs on a request's path: in the server, a schema not yet loaded is
//! fetched by a worker thread and the documents are re-checked when it lands.

pub mod assist;
pub mod config;
pub mod fetch;
pub mod navigate;
pub mod prune;
pub mod resolve;
pub mod store;
pub mod tape;
pub mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use config::RepoConfig;
pub use store::{Entry, Mode, Store};
pub use validate::Outcome;

/// Settings given by the editor or the command line; each overrides `.homelab-lsp.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub offline: Option<bool>,
    pub cache_dir: Option<PathBuf>,
    /// Added before (so over) the config file's mirrors.
    pub mirrors: Vec<(String, String)>,
    pub plain_yaml: Option<bool>,
}

/// The fetch options of a project: defaults, then the repo config, then the overrides.
///
/// Between the two sit `HOMELAB_LSP_SCHEMA_MIRROR` (`PREFIX=URL`, several separated by
/// spaces) and `HOMELAB_LSP_SCHEMA_CACHE`, for CI and proxies that set the environment once.
pub fn fetch_options(repo: &RepoConfig, o: &Overrides) -> fetch::FetchOptions {
    let mut opts = fetch::FetchOptions::default();
    if let Some(off) = o.offline.or(repo.offline) {
        opts.offline = off;
    }
    let env_cache = std::env::var_os("HOMELAB_LSP_SCHEMA_CACHE").filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = o.cache_dir.clone().or(env_cache).or_else(|| repo.cache_dir.clone()) {
        opts.cache_dir = Some(dir);
    }
    opts.mirrors = o.mirrors.clone();
    let env_mirrors = std::env::var("HOMELAB_LSP_SCHEMA_MIRROR").unwrap_or_default();
    for (from, to) in env_mirrors.split_whitespace().filter_map(|m| parse_mirror(m).ok()).chain(repo.mirrors.iter().cloned()) {
        if !opts.mirrors.iter().any(|(f, _)| *f == from) {
            opts.mirrors.push((from, to));
        }
    }
    opts
}

/// Parses `PREFIX=URL` (`--schema-mirror`).
pub fn parse_mirror(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => Ok((from.to_string(), to.to_string())),
        _ => Err(format!("--schema-mirror wants PREFIX=URL (e.g. https://=file:///srv/schemas/), not '{arg}'")),
    }
}

/// Schemas for one project: how its documents resolve, and the shared store.
pub struct Schemas {
    pub store: Arc<Store>,
    pub resolver: resolve::Resolver,
    pub root: PathBuf,
    /// Validate hand-written YAML too (off: a user who keeps yaml-language-server for it).
    pub plain_yaml: bool,
}

impl Schemas {
    pub fn new(store: Arc<Store>, repo: &RepoConfig, o: &Overrides, root: &Path) -> Schemas {
        Schemas {
            store,
            resolver: resolve::Resolver::new(repo),
            root: root.to_path_buf(),
            plain_yaml: o.plain_yaml.or(repo.plain_yaml).unwrap_or(true),
        }
    }

    /// Validates a YAML text (hand-written, generated or a template's rendered output, whose
    /// path is `file`: the output path, for globs).
    pub fn validate(&self, text: &str, file: &Path) -> Outcome {
        self.validate_parsed(text, &crate::yaml::tree::parse(text), file)
    }

    /// [`Schemas::validate`] with the text already parsed.
    pub fn validate_parsed(&self, text: &str, stream: &crate::yaml::tree::Stream, file: &Path) -> Outcome {
        let rel = file.strip_prefix(&self.root).unwrap_or(file);
        let mut out = validate::validate_stream(text, stream, file, rel, &self.resolver, &self.store);
        out.findings = crate::yaml::suppress_findings(text, out.findings);
        out
    }
}

/// `homelab-lsp schemas pull`: loads (fetches into the cache) every schema the project's
/// documents resolve to, remote `$ref`s included; returns (loaded, missing, failures).
pub fn pull(schemas: &Schemas, files: &[(PathBuf, String)]) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
    let mut urls = Vec::new();
    for (file, text) in files {
        let stream = crate::yaml::tree::parse(text);
        let rel = file.strip_prefix(&schemas.root).unwrap_or(file);
        let mut prev_end = 0usize;
        for doc in &stream.docs {
            let region = text.get(prev_end.min(text.len())..doc.range.end.min(text.len())).unwrap_or("");
            prev_end = doc.range.end;
            let Some(root) = doc.root else { continue };
            let api = doc.path_str(root, &["apiVersion"]).unwrap_or("");
            let kind = doc.path_str(root, &["kind"]).unwrap_or("");
            if let Some(r) = schemas.resolver.resolve(region, file, rel, api, kind) {
                if !urls.contains(&r.url) {
                    urls.push(r.url);
                }
            }
        }
    }
    urls.sort();
    let (mut ok, mut missing, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for url in urls {
        match schemas.store.load_now(&url) {
            // `check` may compile it only in parts: say here whether it compiles at all.
            Entry::Ready(c) => match c.whole() {
                Ok(_) => ok.push(url),
                Err(why) => failed.push((url, why)),
            },
            Entry::Missing => missing.push(url),
            Entry::Broken(why) | Entry::Unavailable(why) => failed.push((url, why)),
            Entry::Pending => {}
        }
    }
    (ok, missing, failed)
}
