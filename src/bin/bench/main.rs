//! `homelab-bench`: measures the language server and the CLI on the shared corpora and on
//! generated repos of several sizes, side by side with makejinja and yaml-language-server.
//!
//! Everything is measured from the outside: the server binary speaks LSP over stdio to the
//! small client in `lsp.rs`; `render`/`check` run as subprocesses. See BENCHMARKS.md.
//!
//! ```text
//! homelab-bench [--quick] [--server PATH] [--json OUT] [--makejinja PATH] [--yls PATH]
//! ```
//! Exit status: 0 when every measurement ran, 1 on an error (a crash, a timeout, a failed
//! render). Timings never make it fail.

/// The bench's error: a message (no error crate; only std and what Cargo.toml already has).
#[derive(Debug)]
pub struct BenchError(pub String);

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for BenchError {
    fn from(e: E) -> Self {
        BenchError(e.to_string())
    }
}

pub type BResult<T> = Result<T, BenchError>;

macro_rules! err {
    ($($t:tt)*) => { $crate::BenchError(format!($($t)*)) };
}

macro_rules! bail {
    ($($t:tt)*) => { return Err(err!($($t)*)) };
}

mod bridge;
#[path = "../common/copy_tree.rs"]
mod copy_tree;
#[path = "../common/framing.rs"]
mod framing;
mod gen;
mod lsp;
mod measure;
mod report;
mod stats;
mod structure;

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug, Clone)]
#[command(name = "homelab-bench", about = "Benchmarks homelab-lsp (server and CLI) against makejinja and yaml-language-server")]
pub struct Opts {
    /// CI smoke mode: the 500-file repo only, fewer requests and runs; skips tools that are
    /// not installed. Still runs every code path.
    #[arg(long)]
    pub quick: bool,
    /// The homelab-lsp binary to measure (default: `homelab-lsp` next to this binary).
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// Write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The makejinja executable (default: the venv `bench/makejinja/verify.sh` uses, when it exists).
    #[arg(long)]
    pub makejinja: Option<PathBuf>,
    /// yaml-language-server's entry script (default: bench/.yls/node_modules/yaml-language-server/bin/yaml-language-server).
    #[arg(long)]
    pub yls: Option<PathBuf>,
    /// The corpora directory (default: $HOMELAB_LSP_CORPORA, else ../shared/corpora from the repo).
    #[arg(long)]
    pub corpora: Option<PathBuf>,
    /// Generated repo sizes, in files (default: 500,2000,8000; quick: 500).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<usize>,
    /// Requests per kind (completion, hover, definition) (default: 500; quick: 100).
    #[arg(long)]
    pub requests: Option<usize>,
    /// Keystrokes per file (default: 120; quick: 20).
    #[arg(long)]
    pub edits: Option<usize>,
    /// Runs of each subprocess timing and cold starts (default: 5 / 3; quick: 1 / 1).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Only workloads whose name contains this.
    #[arg(long)]
    pub only: Option<String>,
    /// Skip makejinja and yaml-language-server even when installed.
    #[arg(long)]
    pub no_compare: bool,
    /// Keep the temporary directory (its path is printed).
    #[arg(long)]
    pub keep: bool,
    /// Seed for the generated repos.
    #[arg(long, default_value_t = 20250501)]
    pub seed: u64,
}

/// Resolved settings for one run.
#[derive(Debug, Clone)]
pub struct Config {
    pub quick: bool,
    /// makejinja and yaml-language-server comparisons turned off (`--no-compare`).
    pub no_compare: bool,
    pub server: PathBuf,
    pub repo: PathBuf,
    pub corpora: Option<PathBuf>,
    pub makejinja: Option<PathBuf>,
    pub node: Option<PathBuf>,
    pub yls: Option<PathBuf>,
    pub sizes: Vec<usize>,
    pub requests: usize,
    pub edits: usize,
    pub runs: usize,
    pub cold_runs: usize,
    pub seed: u64,
    pub only: Option<String>,
    pub tmp: PathBuf,
    /// A tmpfs directory for render outputs (`/dev/shm/homelab-bench.<pid>`), when available.
    pub tmpfs: Option<PathBuf>,
    pub timeout: Duration,
}

/// Removes the temporary directories on the way out (unless kept).
struct TmpGuard(Vec<PathBuf>, bool);

impl Drop for TmpGuard {
    fn drop(&mut self) {
        for d in &self.0 {
            if self.1 {
                eprintln!("kept {}", d.display());
            } else {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn default_makejinja() -> Option<PathBuf> {
    let venv = match std::env::var_os("HOMELAB_LSP_MJVENV") {
        Some(v) => PathBuf::from(v),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            cache.join("homelab-lsp/makejinja-venv")
        }
    };
    Some(venv.join("bin/makejinja")).filter(|p| p.is_file())
}

fn resolve(opts: &Opts) -> crate::BResult<Config> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let server = match &opts.server {
        Some(s) => s.clone(),
        None => std::env::current_exe()?.with_file_name("homelab-lsp"),
    };
    if !server.is_file() {
        bail!("server binary not found at {} (build it, or pass --server)", server.display());
    }
    let server = std::fs::canonicalize(&server)?;
    let corpora = opts
        .corpora
        .clone()
        .or_else(|| std::env::var_os("HOMELAB_LSP_CORPORA").map(PathBuf::from))
        .unwrap_or_else(|| repo.join("../shared/corpora"));
    let corpora = if corpora.is_dir() {
        Some(std::fs::canonicalize(&corpora)?)
    } else {
        eprintln!("note: no corpora at {}; corpus workloads skipped", corpora.display());
        None
    };
    let makejinja = if opts.no_compare { None } else { opts.makejinja.clone().or_else(default_makejinja).filter(|p| p.is_file()) };
    let yls = if opts.no_compare {
        None
    } else {
        opts.yls
            .clone()
            .or_else(|| Some(repo.join("bench/.yls/node_modules/yaml-language-server/bin/yaml-language-server")))
            .filter(|p| p.is_file())
    };
    let node = which("node");
    let yls = if node.is_some() { yls } else { None };
    let quick = opts.quick;
    let sizes = if !opts.sizes.is_empty() {
        opts.sizes.clone()
    } else if quick {
        vec![500]
    } else {
        vec![500, 2000, 8000]
    };
    let base = std::env::temp_dir().join(format!("homelab-bench.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base)?;
    let tmpfs = Some(PathBuf::from("/dev/shm"))
        .filter(|d| d.is_dir())
        .map(|d| d.join(format!("homelab-bench.{}", std::process::id())))
        .filter(|d| std::fs::create_dir_all(d).is_ok());
    Ok(Config {
        quick,
        no_compare: opts.no_compare,
        server,
        repo,
        corpora,
        makejinja,
        node,
        yls,
        sizes,
        requests: opts.requests.unwrap_or(if quick { 100 } else { 500 }),
        edits: opts.edits.unwrap_or(if quick { 20 } else { 120 }),
        runs: opts.runs.unwrap_or(if quick { 1 } else { 5 }),
        cold_runs: opts.runs.map(|r| r.clamp(1, 3)).unwrap_or(if quick { 1 } else { 3 }),
        seed: opts.seed,
        only: opts.only.clone(),
        tmp: std::fs::canonicalize(&base)?,
        tmpfs,
        timeout: Duration::from_secs(if quick { 120 } else { 600 }),
    })
}

fn main() {
    let opts = Opts::parse();
    let cfg = match resolve(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("homelab-bench: error: {e}");
            std::process::exit(1);
        }
    };
    let _guard = TmpGuard(std::iter::once(cfg.tmp.clone()).chain(cfg.tmpfs.clone()).collect(), opts.keep);
    let started = std::time::Instant::now();
    let result = measure::run_all(&cfg);
    let code = match result {
        Ok(results) => {
            let bridged = bridge::run(&cfg);
            let text = report::render(&cfg, &results, started.elapsed());
            println!("{text}{}{}", bridge::render(&bridged), structure::run(if cfg.quick { 200 } else { 1000 }));
            let bridge_errors: Vec<String> = bridged.iter().filter_map(|r| r.as_ref().err().map(|e| e.0.clone())).collect();
            if let Some(out) = &opts.json {
                let mut v = report::json(&cfg, &results, started.elapsed());
                v["bridge"] = bridge::json(&bridged);
                match serde_json::to_string_pretty(&v).map(|s| std::fs::write(out, s + "\n")) {
                    Ok(Ok(())) => eprintln!("wrote {}", out.display()),
                    Ok(Err(e)) => {
                        eprintln!("homelab-bench: error: cannot write {}: {e}", out.display());
                        std::process::exit(1);
                    }
                    Err(e) => {
                        eprintln!("homelab-bench: error: {e}");
                        std::process::exit(1);
                    }
                }
            }
            for e in &bridge_errors {
                eprintln!("homelab-bench: bridge: {e}");
            }
            if results.iter().any(|r| !r.errors.is_empty()) || !bridge_errors.is_empty() {
                eprintln!("homelab-bench: errors:");
                for r in &results {
                    for e in &r.errors {
                        eprintln!("  {}: {e}", r.workload.name);
                    }
                }
                1
            } else {
                0
            }
        }
        Err(e) => {
            eprintln!("homelab-bench: error: {e}");
            1
        }
    };
    drop(_guard);
    std::process::exit(code);
}
