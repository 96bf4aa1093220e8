//! The schema options of `check` and `schemas pull`, and `schemas pull` itself.

use crate::schema::{self, fetch::CachedHttp, Mode, Overrides, RepoConfig, Schemas, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `--offline`, `--schema-mirror`, `--schema-cache`, `--no-schemas`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SchemaArgs {
    /// Never fetch schemas: use the cache (even stale) and file:// mirrors only.
    #[arg(long)]
    pub offline: bool,
    /// Fetch schema URLs starting with PREFIX from URL instead (repeatable), e.g.
    /// https://=file:///srv/schemas/ or https://=http://proxy:8000/.
    #[arg(long = "schema-mirror", value_name = "PREFIX=URL")]
    pub mirrors: Vec<String>,
    /// The schema cache directory (default: $XDG_CACHE_HOME/homelab-lsp/schemas).
    #[arg(long = "schema-cache", value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Do not validate against JSON schemas at all.
    #[arg(long = "no-schemas")]
    pub no_schemas: bool,
}

impl SchemaArgs {
    pub fn overrides(&self) -> Result<Overrides, String> {
        let mirrors = self.mirrors.iter().map(|m| schema::parse_mirror(m)).collect::<Result<Vec<_>, _>>()?;
        Ok(Overrides { offline: self.offline.then_some(true), cache_dir: self.cache.clone(), mirrors, plain_yaml: None })
    }
}

/// The schemas of the project at `root` for a CLI run (loaded on first use, off any request path).
pub fn for_project(root: &Path, repo: &RepoConfig, args: &SchemaArgs) -> Result<Option<Arc<Schemas>>, String> {
    if args.no_schemas {
        return Ok(None);
    }
    let o = args.overrides()?;
    let store = Store::new(Arc::new(CachedHttp::new(schema::fetch_options(repo, &o))), Mode::Blocking);
    Ok(Some(Arc::new(Schemas::new(store, repo, &o, root))))
}

/// `homelab-lsp schemas pull`: fetch every schema the project uses into the cache.
pub fn pull(root: Option<&Path>, args: &SchemaArgs, plugins: &super::plugins::PluginArgs) -> i32 {
    let start = root.map(super::render::absolute).unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
    let project = match crate::workspace::Project::discover(&start, &crate::workspace::DiskVfs) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return super::render::EXIT_PROJECT;
        }
    };
    let Some(project) = super::plugins::with_plugins(project, plugins) else {
        return super::render::EXIT_PROJECT;
    };
    let repo = RepoConfig::load(&project.config.root);
    let schemas = match for_project(&project.config.root, &repo, &SchemaArgs { no_schemas: false, ..args.clone() }) {
        Ok(Some(s)) => s,
        Ok(None) => return 0,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::cli::usage::EXIT_USAGE;
        }
    };
    let pa = crate::ide::ProjectAnalysis::new(Arc::new(project), Default::default());
    let mut texts = Vec::new();
    for file in super::check::files_to_check(&pa) {
        let Some(text) = pa.text(&file) else { continue };
        match pa.role(&file) {
            crate::ide::FileRole::Template { name, entry: Some(e) } => {
                if let Ok(r) = pa.render_traced(&name) {
                    texts.push((e.output.clone(), r.text));
                }
            }
            crate::ide::FileRole::Other if crate::yaml::is_yaml_path(&file) => texts.push((file, text.to_string())),
            _ => {}
        }
    }
    let (ok, missing, failed) = schema::pull(&schemas, &texts);
    println!("{} schemas cached, {} without a schema (404), {} failed", ok.len(), missing.len(), failed.len());
    for (url, why) in &failed {
        eprintln!("error: {url}: {why}");
    }
    if failed.is_empty() {
        0
    } else {
        1
    }
}
