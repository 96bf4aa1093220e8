//! `homelab-fuzz`: drives the real `homelab-lsp` binary over stdio with a seeded random
//! stream of edits, file-system changes and requests on copies of real repos, and checks
//! what a language server must never do (issue 13):
//!
//! - die (any exit that is not the answer to `shutdown`/`exit`);
//! - take longer than `--hang-ms` (2 s) to answer any request;
//! - grow past `--rss-limit-mb` (500 MB) peak RSS (`VmHWM`);
//! - publish a diagnostic range outside the document version it names (or a related
//!   location outside the other file's text);
//! - end a round with diagnostics for an open document other than what a fresh server
//!   publishes for the same on-disk and open state ("stale final state");
//! - write a data value marked secret to stderr, log/show messages, diagnostics or error
//!   responses (leak), or show it unmasked in hover, completion, inlay hints or any other
//!   answer except the rendered preview and render diff (which show generated files).
//!
//! ```text
//! homelab-fuzz --ci                      # bounded (about 2 minutes), fails on any violation
//! homelab-fuzz --minutes 60              # long local run
//! homelab-fuzz --seed 7 --rounds 3 --actions 400 --server target/release/homelab-lsp REPO...
//! ```
//! Exit status: 0 without violations, 1 with any.

mod client;
#[path = "../common/copy_tree.rs"]
mod copy_tree;
#[path = "../common/framing.rs"]
mod framing;
mod mutate;
mod repo;
mod rng;
mod session;
mod text;

use clap::Parser;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(name = "homelab-fuzz", about = "Edit-stream fuzzer for homelab-lsp over stdio")]
pub struct Opts {
    /// Bounded CI mode: a fixed number of rounds and actions (about 2 minutes on 2 cores).
    #[arg(long)]
    pub ci: bool,
    /// Run rounds until this many minutes have passed (local long mode).
    #[arg(long)]
    pub minutes: Option<f64>,
    /// Rounds to run (ignored with --minutes).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Start at this round: replays rounds of a longer run (each round's repo, seed and
    /// plugin choice depend only on its number), e.g. the one a violation names.
    #[arg(long, default_value_t = 0)]
    pub first_round: usize,
    /// Actions (edits, file changes, requests) per round.
    #[arg(long)]
    pub actions: Option<usize>,
    #[arg(long, default_value_t = 13)]
    pub seed: u64,
    /// The homelab-lsp binary (default: `homelab-lsp` next to this binary).
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// A response slower than this is a hang (default 2000; 10000 with --ci, which runs
    /// the debug build on a shared CI machine: it catches real hangs, while the 2 s bar is
    /// checked by the long mode on a release build).
    #[arg(long)]
    pub hang_ms: Option<u64>,
    #[arg(long, default_value_t = 500)]
    pub rss_limit_mb: u64,
    /// Skip the CLI (`check`, `render`) runs on the mutated copies.
    #[arg(long)]
    pub no_cli: bool,
    /// The Python to run the repos' makejinja plugins with, on every second visit of a repo
    /// starting with the first (default: `$HOMELAB_LSP_PYTHON`; none: plugins stay off).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// The schema store (`HOST/PATH`) every `https://` schema is read from, through a
    /// `file://` mirror (default: the shared schemas, when they are there).
    #[arg(long)]
    pub schemas: Option<PathBuf>,
    /// Run without schemas (offline, nothing cached).
    #[arg(long)]
    pub no_schemas: bool,
    /// Repos to fuzz (copied first; default: the shared corpora and wild repos).
    pub repos: Vec<PathBuf>,
}

/// What the run counts.
#[derive(Default, Debug)]
pub struct Figures {
    pub rounds: usize,
    pub edits: usize,
    pub disk_changes: usize,
    pub requests: usize,
    pub cancels: usize,
    pub cli_runs: usize,
    /// Rounds run with the repo's plugin in Python, and the plugin messages they saw.
    pub plugin_rounds: usize,
    pub plugin_messages: usize,
    /// `homelab/pluginStatus` notifications by state (python, error, emulated).
    pub plugin_states: std::collections::BTreeMap<String, usize>,
    pub deaths: usize,
    pub hangs: usize,
    pub peak_rss_kib: u64,
    pub out_of_range: usize,
    pub stale_final: usize,
    pub secret_leaks: usize,
    pub secret_unmasked: usize,
    pub internal_errors: usize,
    pub cli_failures: usize,
    /// Rounds that could not start (the repo copy failed, or the server never finished
    /// indexing).
    pub setup_failures: usize,
    /// The first few descriptions of each violation, for the report.
    pub samples: Vec<String>,
    pub slowest_ms: u64,
    pub slowest: String,
    pub publishes: usize,
    pub diagnostics: usize,
    /// Error answers by code (invalid params for out-of-range positions, cancelled, …).
    pub error_codes: std::collections::BTreeMap<i64, usize>,
    /// Answers that showed the secret where that is allowed (preview, render diff).
    pub secret_shown_allowed: usize,
}

impl Figures {
    pub fn violations(&self, rss_limit_mb: u64) -> usize {
        self.deaths
            + self.hangs
            + self.out_of_range
            + self.stale_final
            + self.secret_leaks
            + self.secret_unmasked
            + self.internal_errors
            + self.cli_failures
            + self.setup_failures
            + usize::from(self.peak_rss_kib > rss_limit_mb * 1024)
    }

    /// Records a violation description (the first 40 are kept) and prints it at once.
    pub fn sample(&mut self, what: String) {
        eprintln!("VIOLATION: {what}");
        if self.samples.len() < 40 {
            self.samples.push(what);
        }
    }
}

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn default_repos() -> Vec<PathBuf> {
    let shared = shared_dir();
    let mut out = Vec::new();
    for dir in ["corpora", "corpora-wild"] {
        let Ok(entries) = std::fs::read_dir(shared.join(dir)) else { continue };
        let mut v: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir() && !p.to_string_lossy().ends_with(".rendered"))
            .collect();
        v.sort();
        out.extend(v);
    }
    out
}

fn main() {
    let opts = Opts::parse();
    let server = opts.server.clone().unwrap_or_else(|| {
        let me = std::env::current_exe().expect("current exe");
        me.with_file_name("homelab-lsp")
    });
    // The server runs in the repo copy: a relative path must not depend on that.
    let Ok(server) = server.canonicalize() else {
        eprintln!("homelab-fuzz: no server binary at {} (build it, or pass --server)", server.display());
        std::process::exit(2);
    };
    let mut repos = if opts.repos.is_empty() { default_repos() } else { opts.repos.clone() };
    if repos.is_empty() {
        // As the corpus tests do: a checkout without the shared corpora skips, with a notice.
        eprintln!("NOTICE: homelab-fuzz: no repos to fuzz (pass them, or put the shared corpora at ../shared); skipped");
        return;
    }
    // CI: the three corpora, a plain Flux repo and one with a makejinja plugin in Python
    // (the shared corpora come without theirs; the long mode takes every wild repo).
    if opts.ci && opts.repos.is_empty() {
        repos.retain(|r| {
            let n = r.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            n.starts_with("cluster-template") || n == "onedr0p--home-ops" || n == "enicky--cluster-template2"
        });
    }
    let rounds = if opts.minutes.is_some() { usize::MAX } else { opts.rounds.unwrap_or(if opts.ci { repos.len() } else { 3 }) };
    let actions = opts.actions.unwrap_or(if opts.ci { 220 } else { 600 });
    let deadline = opts.minutes.map(|m| Instant::now() + Duration::from_secs_f64(m * 60.0));
    let started = Instant::now();
    let mut figures = Figures::default();
    let hang_ms = opts.hang_ms.unwrap_or(if opts.ci { 10_000 } else { 2_000 });
    let python = opts.python.clone().or_else(|| std::env::var_os("HOMELAB_LSP_PYTHON").filter(|p| !p.is_empty()).map(PathBuf::from));
    let schemas = if opts.no_schemas {
        None
    } else {
        opts.schemas.clone().or_else(|| Some(shared_dir().join("schemas")).filter(|d| d.is_dir())).and_then(|d| d.canonicalize().ok())
    };
    let cfg = session::Config { server, hang: Duration::from_millis(hang_ms), actions, cli: !opts.no_cli, python, schemas };
    eprintln!("homelab-fuzz: seed {}, {} repos, {} actions per round, server {}", opts.seed, repos.len(), actions, cfg.server.display());
    match &cfg.schemas {
        Some(s) => eprintln!("homelab-fuzz: schemas read from {}", s.display()),
        None => eprintln!("homelab-fuzz: schemas off"),
    }
    match &cfg.python {
        Some(p) => eprintln!("homelab-fuzz: plugins run with {} (every second visit of a repo)", p.display()),
        None => eprintln!("homelab-fuzz: plugins off (no --python or $HOMELAB_LSP_PYTHON)"),
    }
    for round in opts.first_round..opts.first_round.saturating_add(rounds) {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let repo = &repos[round % repos.len()];
        let seed = opts.seed.wrapping_mul(1_000_003).wrapping_add(round as u64);
        let t = Instant::now();
        // A repo's plugin runs on its first visit, its third, …: CI (one visit each) runs
        // every plugin, the long mode covers each repo with and without.
        let plugins = (round / repos.len()) % 2 == 0;
        if let Err(e) = session::round(&cfg, repo, seed, plugins, &mut figures) {
            eprintln!("homelab-fuzz: round {round} on {} could not run: {e}", repo.display());
            figures.sample(format!("round {round} ({}) could not run: {e}", repo.display()));
            figures.setup_failures += 1;
        }
        figures.rounds += 1;
        eprintln!(
            "round {round} ({}, seed {seed}): {:.0} s; totals: {} edits, {} requests, {} violations",
            repo.file_name().unwrap_or_default().to_string_lossy(),
            t.elapsed().as_secs_f64(),
            figures.edits,
            figures.requests,
            figures.violations(opts.rss_limit_mb)
        );
    }
    let f = &figures;
    println!("homelab-fuzz figures (seed {}, {:.1} min, {} rounds)", opts.seed, started.elapsed().as_secs_f64() / 60.0, f.rounds);
    println!("  edits:                 {}", f.edits);
    println!("  file-system changes:   {}", f.disk_changes);
    println!("  requests:              {} ({} cancelled)", f.requests, f.cancels);
    println!("  CLI runs:              {}", f.cli_runs);
    println!(
        "  plugin rounds:         {} (plugin status by state {:?}; {} log/show messages in them)",
        f.plugin_rounds, f.plugin_states, f.plugin_messages
    );
    println!("  diagnostics published: {} in {} publishes", f.diagnostics, f.publishes);
    println!("  error answers by code: {:?}", f.error_codes);
    println!("  secret in previews:    {} (allowed: rendered output)", f.secret_shown_allowed);
    println!("  process deaths:        {}", f.deaths);
    println!("  hangs > {hang_ms} ms:       {}", f.hangs);
    println!("  slowest response:      {} ms ({})", f.slowest_ms, f.slowest);
    println!("  peak RSS:              {} MB (limit {} MB)", f.peak_rss_kib / 1024, opts.rss_limit_mb);
    println!("  out-of-range ranges:   {}", f.out_of_range);
    println!("  stale final states:    {}", f.stale_final);
    println!("  secrets leaked:        {}", f.secret_leaks);
    println!("  secrets unmasked:      {}", f.secret_unmasked);
    println!("  internal errors:       {}", f.internal_errors);
    println!("  CLI failures:          {}", f.cli_failures);
    println!("  rounds not started:    {}", f.setup_failures);
    let v = f.violations(opts.rss_limit_mb);
    if v > 0 {
        println!("{v} violations; first ones:");
        for s in &f.samples {
            println!("  - {s}");
        }
        std::process::exit(1);
    }
    println!("no violations");
}
