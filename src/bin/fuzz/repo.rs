//! One round's repo: a writable copy of a corpus or wild repo (with the corpora's
//! reconstructed data files laid in), a secret value planted where a maintainer keeps one,
//! and the lists of files the fuzzer edits.

use crate::copy_tree::copy_tree;
use std::path::{Path, PathBuf};

/// The data key (or Secret field) that holds the planted secret: a name every masking rule
/// must recognise.
pub const SECRET_KEY: &str = "cloudflare_token";

/// A directory removed on drop (the fuzzer has no dev-dependencies at run time).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(seed: u64) -> std::io::Result<TempDir> {
        TempDir::named("homelab-fuzz", seed)
    }

    /// `<temp>/<prefix>-<pid>-<seed>`.
    pub fn named(prefix: &str, seed: u64) -> std::io::Result<TempDir> {
        let p = std::env::temp_dir().join(format!("{prefix}-{}-{seed:x}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Repo {
    pub dir: TempDir,
    pub secret: String,
    pub config: Option<PathBuf>,
    pub data: Vec<PathBuf>,
    pub templates: Vec<PathBuf>,
    pub yaml: Vec<PathBuf>,
    /// Template names as an include sees them (relative to an input directory).
    pub includable: Vec<String>,
}

impl Repo {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    match v {
        Some(toml::Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        Some(toml::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

pub fn prepare(src: &Path, seed: u64) -> std::io::Result<Repo> {
    let dir = TempDir::new(seed)?;
    let root = dir.path().to_path_buf();
    copy_tree(src, &root, is_git)?;
    let name = src.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpora-data").join(&name);
    if data_dir.is_dir() {
        copy_tree(&data_dir, &root, is_git)?;
    }
    let secret = format!("FzS3cr3t{seed:x}Qv7Lk9");
    let config = Some(root.join("makejinja.toml")).filter(|p| p.is_file());
    let mut data = Vec::new();
    let mut inputs: Vec<PathBuf> = Vec::new();
    if let Some(cfg) = &config {
        let text = std::fs::read_to_string(cfg).unwrap_or_default();
        if let Ok(v) = text.parse::<toml::Table>() {
            let mj = v.get("makejinja");
            for d in strings(mj.and_then(|m| m.get("data"))) {
                let p: PathBuf = root.join(&d).components().filter(|c| *c != std::path::Component::CurDir).collect();
                if d.ends_with(".yaml") || d.ends_with(".yml") {
                    data.push(p);
                }
            }
            inputs = strings(mj.and_then(|m| m.get("inputs")))
                .into_iter()
                .map(|i| root.join(i).components().filter(|c| *c != std::path::Component::CurDir).collect())
                .collect();
        }
    }
    // The secret goes where the repo keeps its values: the first YAML data file, or a
    // plaintext Secret manifest in a plain Flux repo.
    if let Some(first) = data.first() {
        let mut text = std::fs::read_to_string(first).unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{SECRET_KEY}: \"{secret}\"\n"));
        // A gitignored data file may be missing with its directory.
        if let Some(parent) = first.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(first, text)?;
    } else {
        let p = root.join("kubernetes/apps/fuzz/secret.yaml");
        std::fs::create_dir_all(p.parent().expect("parent"))?;
        std::fs::write(
            &p,
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: fuzz\n  namespace: default\nstringData:\n  {SECRET_KEY}: \"{secret}\"\n"
            ),
        )?;
    }
    let mut templates = Vec::new();
    let mut yaml = Vec::new();
    let mut includable = Vec::new();
    for e in walkdir::WalkDir::new(&root).sort_by_file_name().into_iter().filter_map(Result::ok) {
        if !e.file_type().is_file() {
            continue;
        }
        let p = e.path().to_path_buf();
        let s = p.to_string_lossy();
        if s.ends_with(".j2") {
            if let Some(input) = inputs.iter().find(|i| p.starts_with(i)) {
                includable.push(p.strip_prefix(input).expect("under input").to_string_lossy().into_owned());
            }
            templates.push(p);
        } else if (s.ends_with(".yaml") || s.ends_with(".yml")) && !data.contains(&p) {
            yaml.push(p);
        }
    }
    Ok(Repo { dir, secret, config, data, templates, yaml, includable })
}

/// The copies need the working tree, not its history.
fn is_git(e: &walkdir::DirEntry) -> bool {
    e.file_name() == ".git"
}
