//! The workloads and what is measured on each.

use crate::gen;
use crate::lsp::{file_uri, position, Client, ConfigResponder, Msg};
use crate::stats::Summary;
use crate::{BResult, Config};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CORPORA: [&str; 3] = ["cluster-template-bootstrap", "cluster-template-bootstrap-k3s", "cluster-template-yaml"];
/// Sorts after every other path of a repo, so its diagnostics mark the end of the server's
/// first full check (it has one error: an HTTPRoute without parentRefs).
pub const SENTINEL: &str = "zzzz-homelab-bench-sentinel.yaml";
const SENTINEL_TEXT: &str = "# homelab-bench: sorts last, so its diagnostics mark the end of the first full check.\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: homelab-bench-sentinel\nspec:\n  hostnames: [\"sentinel.example.com\"]\n";
const INDEX_TOKEN: &str = "homelab-lsp/indexing";
/// Characters typed, one per edit.
const TYPED: &str = "homelab bench typing, one key at a time ";

#[derive(Debug, Clone)]
pub enum Kind {
    Corpus(String),
    Generated(usize),
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub kind: Kind,
    pub root: PathBuf,
    pub files: usize,
    pub bytes: u64,
    pub templates: usize,
    pub yaml: usize,
    pub big_template: Option<PathBuf>,
    pub big_yaml: Option<PathBuf>,
    pub gen: Option<gen::Generated>,
    pub prepare_secs: f64,
}

#[derive(Debug, Clone, Default)]
pub struct ColdStart {
    pub init_ms: f64,
    pub index_ms: f64,
    pub first_diag_ms: f64,
    pub all_diag_ms: f64,
    pub published: usize,
    pub rss_after_index_kib: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Latency {
    pub summary: Summary,
    /// Requests that returned something (not null / empty).
    pub answered: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Keystroke {
    pub file: String,
    pub lines: usize,
    /// didOpen → first publishDiagnostics of that document.
    pub open_ms: Option<f64>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Default)]
pub struct LspResult {
    pub cold: Vec<ColdStart>,
    pub positions: usize,
    pub completion: Option<Latency>,
    pub hover: Option<Latency>,
    pub definition: Option<Latency>,
    /// The yaml-language-server requests (plain YAML), sent to homelab-lsp.
    pub plain_hover: Option<Latency>,
    pub plain_completion: Option<Latency>,
    pub keystroke_template: Option<Keystroke>,
    pub keystroke_yaml: Option<Keystroke>,
    /// A hand-written HelmRelease saved on disk (didChangeWatchedFiles) → its diagnostics.
    pub saved_plain: Option<Summary>,
    pub peak_rss_kib: Option<u64>,
    pub server_requests: Vec<String>,
}

impl LspResult {
    /// Median over the cold starts.
    pub fn cold_median(&self, f: impl Fn(&ColdStart) -> f64) -> Option<f64> {
        if self.cold.is_empty() {
            return None;
        }
        Some(Summary::of_ms(&self.cold.iter().map(f).collect::<Vec<_>>()).p50)
    }
}

#[derive(Debug, Clone, Default)]
pub struct CliResult {
    /// Rendering into a directory on disk.
    pub render: Summary,
    /// Rendering into a tmpfs, when there is one.
    pub render_tmpfs: Option<Summary>,
    /// The floor under any tool writing that output to disk: `cp -R` of the rendered tree
    /// into a fresh directory beside it (process start, directories, file creation, bytes).
    pub write_floor: Summary,
    /// The same on the tmpfs.
    pub write_floor_tmpfs: Option<Summary>,
    pub check: Summary,
    pub rendered_files: usize,
    pub findings: usize,
}

#[derive(Debug, Clone, Default)]
pub struct MjResult {
    /// makejinja writing to disk.
    pub runs: Summary,
    /// makejinja writing to a tmpfs, when there is one.
    pub runs_tmpfs: Option<Summary>,
    pub same: usize,
    pub total: usize,
    pub differing: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct YlsResult {
    pub version: String,
    /// yaml-language-server's own delay before validating a changed document.
    pub validation_delay_ms: Option<u64>,
    pub init_ms: f64,
    pub open_ms: Option<f64>,
    pub hover: Option<Latency>,
    pub completion: Option<Latency>,
    pub keystroke: Option<Keystroke>,
    pub peak_rss_kib: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Floor {
    pub inproc: Summary,
    pub cat: Summary,
}

#[derive(Debug, Clone)]
pub struct WorkloadResult {
    pub workload: Workload,
    pub floor: Option<Floor>,
    pub lsp: Option<LspResult>,
    pub cli: Option<CliResult>,
    pub mj: Option<MjResult>,
    pub yls: Option<YlsResult>,
    pub errors: Vec<String>,
    pub notes: Vec<String>,
}

fn ms_since(a: Instant, b: Instant) -> f64 {
    b.saturating_duration_since(a).as_secs_f64() * 1000.0
}

pub fn run_all(cfg: &Config) -> BResult<Vec<WorkloadResult>> {
    let mut plan: Vec<Kind> = Vec::new();
    if cfg.corpora.is_some() {
        plan.extend(CORPORA.iter().map(|c| Kind::Corpus(c.to_string())));
    }
    plan.extend(cfg.sizes.iter().map(|&n| Kind::Generated(n)));
    let name_of = |k: &Kind| match k {
        Kind::Corpus(c) => c.clone(),
        Kind::Generated(n) => format!("generated-{n}"),
    };
    if let Some(only) = &cfg.only {
        plan.retain(|k| name_of(k).contains(only.as_str()));
    }
    let skipped = if cfg.no_compare { "off (--no-compare)" } else { "not installed (skipped)" };
    eprintln!(
        "homelab-bench{}: server {}\n  makejinja: {}\n  yaml-language-server: {}",
        if cfg.quick { " --quick" } else { "" },
        cfg.server.display(),
        cfg.makejinja.as_ref().map_or(skipped.into(), |p| p.display().to_string()),
        cfg.yls.as_ref().map_or(skipped.into(), |p| p.display().to_string()),
    );
    let mut out = Vec::new();
    for kind in plan {
        let name = name_of(&kind);
        eprintln!("== {name}");
        let dir = cfg.tmp.join(&name);
        let workload = match prepare(cfg, &kind, &name, &dir) {
            Ok(w) => w,
            Err(e) => {
                out.push(WorkloadResult {
                    workload: Workload {
                        name: name.clone(),
                        kind,
                        root: dir,
                        files: 0,
                        bytes: 0,
                        templates: 0,
                        yaml: 0,
                        big_template: None,
                        big_yaml: None,
                        gen: None,
                        prepare_secs: 0.0,
                    },
                    floor: None,
                    lsp: None,
                    cli: None,
                    mj: None,
                    yls: None,
                    errors: vec![format!("prepare: {e}")],
                    notes: Vec::new(),
                });
                continue;
            }
        };
        eprintln!(
            "   {} files, {:.1} MB, {} templates (prepared in {:.1} s)",
            workload.files,
            workload.bytes as f64 / 1e6,
            workload.templates,
            workload.prepare_secs
        );
        let mut r =
            WorkloadResult { workload, floor: None, lsp: None, cli: None, mj: None, yls: None, errors: Vec::new(), notes: Vec::new() };
        step(&mut r, "read-only floor", |w| floor(cfg, w).map(|f| (Some(f), ())), |r, v| r.floor = v);
        step(&mut r, "homelab-lsp session", |w| lsp_session(cfg, w).map(|l| (Some(l), ())), |r, v| r.lsp = v);
        let dir2 = dir.clone();
        step(&mut r, "render/check", |w| cli(cfg, w, &dir2).map(|c| (Some(c), ())), |r, v| r.cli = v);
        if cfg.makejinja.is_some() {
            step(&mut r, "makejinja", |w| makejinja(cfg, w, &dir2).map(|m| (Some(m), ())), |r, v| r.mj = v);
        } else {
            r.notes.push(format!("makejinja: {skipped}"));
        }
        if matches!(r.workload.kind, Kind::Generated(_)) {
            if cfg.yls.is_some() {
                step(&mut r, "yaml-language-server", |w| yls_session(cfg, w, &dir2).map(|y| (Some(y), ())), |r, v| r.yls = v);
            } else {
                r.notes.push(format!("yaml-language-server: {skipped}"));
            }
        }
        out.push(r);
    }
    Ok(out)
}

/// Runs one measurement; an error is recorded (and makes the run fail) but the others go on.
fn step<T>(
    r: &mut WorkloadResult,
    what: &str,
    f: impl FnOnce(&Workload) -> BResult<(Option<T>, ())>,
    set: impl FnOnce(&mut WorkloadResult, Option<T>),
) {
    let t = Instant::now();
    eprint!("   {what} ...");
    match f(&r.workload) {
        Ok((v, ())) => {
            eprintln!(" {:.1} s", t.elapsed().as_secs_f64());
            set(r, v);
        }
        Err(e) => {
            eprintln!(" FAILED");
            eprintln!("     {e}");
            r.errors.push(format!("{what}: {e}"));
        }
    }
}

fn walk_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn prepare(cfg: &Config, kind: &Kind, name: &str, dir: &Path) -> BResult<Workload> {
    let t = Instant::now();
    let root = dir.join("repo");
    std::fs::create_dir_all(&root)?;
    let mut gen_info = None;
    let (mut big_template, mut big_yaml) = (None, None);
    match kind {
        Kind::Corpus(c) => {
            let corpora = cfg.corpora.as_ref().ok_or_else(|| err!("no corpora"))?;
            crate::copy_tree::copy_tree(&corpora.join(c), &root, |_| false)?;
            let data = cfg.repo.join("tests/corpora-data").join(c);
            if data.is_dir() {
                crate::copy_tree::copy_tree(&data, &root, |_| false)?;
            }
            std::fs::write(root.join(SENTINEL), SENTINEL_TEXT)?;
        }
        Kind::Generated(n) => {
            let mut g = gen::generate_templates(&root, *n, cfg.seed)?;
            // Commit the rendered output, as `task configure` would.
            let out = Command::new(&cfg.server).args(["render", "--root"]).arg(&root).arg("--output").arg(&root).output()?;
            if !out.status.success() {
                bail!("homelab-lsp render of the generated repo failed:\n{}", String::from_utf8_lossy(&out.stderr));
            }
            gen::generate_plain(&mut g, n.saturating_sub(1), cfg.seed)?;
            std::fs::write(root.join(SENTINEL), SENTINEL_TEXT)?;
            big_template = Some(root.join(gen::BIG_TEMPLATE));
            big_yaml = Some(root.join(gen::BIG_YAML));
            gen_info = Some(g);
        }
    }
    let files = walk_files(&root);
    let bytes = files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum();
    let templates = files.iter().filter(|f| f.to_string_lossy().ends_with(".j2")).count();
    let yaml = files.iter().filter(|f| f.extension().is_some_and(|e| e == "yaml" || e == "yml")).count();
    Ok(Workload {
        name: name.to_string(),
        kind: kind.clone(),
        root,
        files: files.len(),
        bytes,
        templates,
        yaml,
        big_template,
        big_yaml,
        gen: gen_info,
        prepare_secs: t.elapsed().as_secs_f64(),
    })
}

/// Reading every byte of the repo: in-process (walk + read) and `find -exec cat`.
fn floor(cfg: &Config, w: &Workload) -> BResult<Floor> {
    let runs = cfg.runs.max(3);
    let mut inproc = Vec::new();
    let mut cat = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut total = 0u64;
        for f in walk_files(&w.root) {
            total += std::fs::read(&f)?.len() as u64;
        }
        inproc.push(t.elapsed());
        std::hint::black_box(total);
        let t = Instant::now();
        let st = Command::new("find")
            .arg(&w.root)
            .args(["-type", "f", "-exec", "cat", "{}", "+"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        cat.push(t.elapsed());
        if !st.success() {
            bail!("find -exec cat failed: {st}");
        }
    }
    Ok(Floor { inproc: Summary::of(&inproc), cat: Summary::of(&cat) })
}

pub(crate) fn null_config() -> ConfigResponder {
    Arc::new(|_| Value::Null)
}

fn is_empty_result(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.get("items").and_then(Value::as_array).is_some_and(|a| a.is_empty()),
        _ => false,
    }
}

pub(crate) fn is_diag_for(m: &Msg, uri: &str) -> bool {
    m.method() == Some("textDocument/publishDiagnostics") && m.params().get("uri").and_then(Value::as_str) == Some(uri)
}

pub(crate) fn diag_version(m: &Msg) -> Option<i64> {
    m.params().get("version").and_then(Value::as_i64)
}

/// A request position: file, URI, LSP line and UTF-16 column.
#[derive(Debug, Clone)]
struct Pos {
    uri: String,
    line: u32,
    col: u32,
}

/// Offsets inside `#{ }#`: (hover/definition on the last path segment, completion after
/// the last `.` or at the end of a bare name).
fn template_offsets(text: &str, open: &str, close: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(open) {
        let start = from + i + open.len();
        let Some(j) = text[start..].find(close) else { break };
        let inner_end = start + j;
        from = inner_end + close.len();
        let inner = &text[start..inner_end];
        let lead = inner.len() - inner.trim_start().len();
        let bytes = inner.as_bytes();
        let mut k = lead;
        if k >= bytes.len() || !(bytes[k].is_ascii_alphabetic() || bytes[k] == b'_') {
            continue;
        }
        let mut last_dot = None;
        let mut seg_start = k;
        while k < bytes.len() && (bytes[k].is_ascii_alphanumeric() || bytes[k] == b'_' || bytes[k] == b'.') {
            if bytes[k] == b'.' {
                last_dot = Some(k);
                seg_start = k + 1;
            }
            k += 1;
        }
        if seg_start >= k {
            continue;
        }
        let hover = start + (seg_start + k) / 2;
        let complete = start + last_dot.map_or(k, |d| d + 1);
        out.push((hover, complete));
    }
    out
}

/// Offsets of mapping keys in plain YAML: (middle of the key, end of the key).
fn yaml_key_offsets(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let t = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let dash = trimmed.len() - t.len();
        let key_len = t.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-' || *b == b'.').count();
        if key_len > 0 && t.as_bytes().get(key_len) == Some(&b':') && t.as_bytes()[0].is_ascii_alphabetic() {
            let s = off + indent + dash;
            out.push((s + key_len / 2, s + key_len));
        }
        off += line.len();
    }
    out
}

/// Up to `max` items spread evenly over `v`.
fn spread<T: Clone>(v: &[T], max: usize) -> Vec<T> {
    if v.len() <= max {
        return v.to_vec();
    }
    (0..max).map(|i| v[i * v.len() / max].clone()).collect()
}

/// Templates to query: the big one and the richest others (at most 10 in all).
fn position_templates(w: &Workload) -> Vec<PathBuf> {
    let mut all: Vec<(usize, PathBuf)> = walk_files(&w.root)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".j2") && !p.to_string_lossy().contains(".partial."))
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (t.matches("#{").count(), p)))
        .filter(|(n, _)| *n > 0)
        .collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<PathBuf> = Vec::new();
    if let Some(b) = &w.big_template {
        out.push(b.clone());
    }
    for (_, p) in all {
        if out.len() >= 10 {
            break;
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Plain YAML files to query: the big one and nine hand-written HelmReleases.
fn plain_yaml_targets(w: &Workload) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = w.big_yaml.iter().cloned().collect();
    for p in walk_files(&w.root) {
        if out.len() >= 10 {
            break;
        }
        let rel = p.strip_prefix(&w.root).unwrap_or(&p).to_string_lossy().into_owned();
        let templated = w.root.join("bootstrap/templates").join(format!("{rel}.j2")).exists();
        if rel.starts_with("kubernetes/apps/") && rel.ends_with("/app/helmrelease.yaml") && !templated && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn positions_in(files: &[PathBuf], offsets: impl Fn(&str) -> Vec<(usize, usize)>, max: usize) -> (Vec<Pos>, Vec<Pos>) {
    let (mut hov, mut comp) = (Vec::new(), Vec::new());
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        let uri = file_uri(f);
        for (h, c) in spread(&offsets(&text), max / files.len().max(1) + 1) {
            let (l, col) = position(&text, h);
            hov.push(Pos { uri: uri.clone(), line: l, col });
            let (l, col) = position(&text, c);
            comp.push(Pos { uri: uri.clone(), line: l, col });
        }
    }
    (hov, comp)
}

fn did_open(c: &Client, path: &Path, language: &str) -> BResult<(String, String)> {
    let text = std::fs::read_to_string(path)?;
    let uri = file_uri(path);
    c.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}))?;
    Ok((uri, text))
}

fn latency(c: &mut Client, method: &str, positions: &[Pos], n: usize, timeout: Duration) -> BResult<Option<Latency>> {
    if positions.is_empty() || n == 0 {
        return Ok(None);
    }
    let mut times = Vec::with_capacity(n);
    let mut answered = 0;
    for i in 0..n {
        let p = &positions[i % positions.len()];
        let params = json!({"textDocument": {"uri": p.uri}, "position": {"line": p.line, "character": p.col}});
        let (res, d) = c.request(method, params, timeout)?;
        if !is_empty_result(&res) {
            answered += 1;
        }
        times.push(d);
    }
    // Diagnostics and logs that arrived meanwhile are not needed.
    c.drain();
    Ok(Some(Latency { summary: Summary::of(&times), answered }))
}

/// Types `edits` characters at the end of the typing line, one didChange each, and times
/// each until the diagnostics of that version arrive. `versioned`: the server puts the
/// document version in publishDiagnostics (else the first publish after the change counts).
fn keystrokes(c: &mut Client, path: &Path, uri: &str, text: &str, edits: usize, versioned: bool, timeout: Duration) -> BResult<Summary> {
    let offset =
        text.find(gen::TYPING_MARKER).map(|i| i + gen::TYPING_MARKER.len()).ok_or_else(|| err!("no typing line in {}", path.display()))?;
    let (line, col) = position(text, offset);
    let typed: Vec<char> = TYPED.chars().collect();
    let mut times = Vec::with_capacity(edits);
    let mut version = 1i64;
    for k in 0..edits {
        c.drain();
        version += 1;
        let ch = typed[k % typed.len()].to_string();
        let at = json!({"line": line, "character": col + k as u32});
        let params =
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": at, "end": at}, "text": ch}]});
        let sent = Instant::now();
        c.notify("textDocument/didChange", params)?;
        let v = version;
        let m = c.wait_for(timeout, |m| is_diag_for(m, uri) && if versioned { diag_version(m) == Some(v) } else { m.at >= sent })?;
        times.push(m.at.saturating_duration_since(sent));
    }
    Ok(Summary::of(&times))
}

/// Saves a file that is not open `n` times, alternating an inline credential in and out,
/// announcing each with didChangeWatchedFiles as an editor's file watcher would, and times
/// each until that file's diagnostics arrive. The file is restored afterwards.
fn saves(c: &mut Client, path: &Path, n: usize, timeout: Duration) -> BResult<Summary> {
    let original = std::fs::read_to_string(path)?;
    let uri = file_uri(path);
    let mut times = Vec::with_capacity(n);
    for k in 0..n {
        c.drain();
        let text = if k % 2 == 0 {
            format!("{original}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-{k}\ndata:\n  password: hunter{k}\n")
        } else {
            original.clone()
        };
        std::fs::write(path, text)?;
        let sent = Instant::now();
        c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri, "type": 2}]}))?;
        let m = c.wait_for(timeout, |m| is_diag_for(m, &uri) && m.at >= sent)?;
        times.push(m.at.saturating_duration_since(sent));
    }
    std::fs::write(path, &original)?;
    if n % 2 == 1 {
        // The last save added the credential: announce the restore and wait it out.
        c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri, "type": 2}]}))?;
        c.wait_for(timeout, |m| is_diag_for(m, &uri))?;
    }
    Ok(Summary::of(&times))
}

fn lsp_session(cfg: &Config, w: &Workload) -> BResult<LspResult> {
    let timeout = cfg.timeout;
    let sentinel_uri = file_uri(&w.root.join(SENTINEL));
    let mut result = LspResult::default();
    let mut session = None;
    for run in 0..cfg.cold_runs {
        let mut c = Client::spawn("homelab-lsp", &cfg.server, &[], &w.root, null_config())?;
        let spawned = c.spawned;
        c.initialize(&w.root, json!({}), timeout)?;
        let init_ms = ms_since(spawned, Instant::now());
        let end = c.wait_for(timeout, |m| {
            m.method() == Some("$/progress")
                && m.params().get("token").and_then(Value::as_str) == Some(INDEX_TOKEN)
                && m.params().pointer("/value/kind").and_then(Value::as_str) == Some("end")
        })?;
        let last = c.wait_for(timeout, |m| is_diag_for(m, &sentinel_uri))?;
        let mut first = last.at;
        let mut published = 1;
        for m in c.take_pending() {
            if m.method() == Some("textDocument/publishDiagnostics") {
                published += 1;
                first = first.min(m.at);
            }
        }
        result.cold.push(ColdStart {
            init_ms,
            index_ms: ms_since(spawned, end.at),
            first_diag_ms: ms_since(spawned, first),
            all_diag_ms: ms_since(spawned, last.at),
            published,
            rss_after_index_kib: c.peak_rss_kib(),
        });
        if run + 1 < cfg.cold_runs {
            c.shutdown(timeout)?;
        } else {
            session = Some(c);
        }
    }
    let mut c = session.ok_or_else(|| err!("no session"))?;

    // Open the big files first, timing open → diagnostics.
    if let Some(big) = &w.big_template {
        let (uri, text) = did_open(&c, big, "yaml")?;
        let sent = Instant::now();
        let m = c.wait_for(timeout, |m| is_diag_for(m, &uri) && diag_version(m) == Some(1))?;
        result.keystroke_template = Some(Keystroke {
            file: rel(w, big),
            lines: text.lines().count(),
            open_ms: Some(ms_since(sent, m.at)),
            summary: Summary::default(),
        });
    }
    if let Some(big) = &w.big_yaml {
        let (uri, text) = did_open(&c, big, "yaml")?;
        let sent = Instant::now();
        let m = c.wait_for(timeout, |m| is_diag_for(m, &uri) && diag_version(m) == Some(1))?;
        result.keystroke_yaml = Some(Keystroke {
            file: rel(w, big),
            lines: text.lines().count(),
            open_ms: Some(ms_since(sent, m.at)),
            summary: Summary::default(),
        });
    }
    // The other templates queried, opened as an editor would.
    let templates = position_templates(w);
    for t in templates.iter().filter(|t| Some(*t) != w.big_template.as_ref()) {
        did_open(&c, t, "yaml")?;
    }
    c.settle(Duration::from_millis(300), Duration::from_secs(30));
    let (hov, comp) = positions_in(&templates, |t| template_offsets(t, "#{", "}#"), 200);
    result.positions = hov.len();
    result.completion = latency(&mut c, "textDocument/completion", &comp, cfg.requests, timeout)?;
    result.hover = latency(&mut c, "textDocument/hover", &hov, cfg.requests, timeout)?;
    result.definition = latency(&mut c, "textDocument/definition", &hov, cfg.requests, timeout)?;
    if let Some(k) = result.keystroke_template.as_mut() {
        let big = w.big_template.as_ref().expect("big template");
        let text = std::fs::read_to_string(big)?;
        k.summary = keystrokes(&mut c, big, &file_uri(big), &text, cfg.edits, true, timeout)?;
    }
    if let Some(k) = result.keystroke_yaml.as_mut() {
        let big = w.big_yaml.as_ref().expect("big yaml");
        let text = std::fs::read_to_string(big)?;
        k.summary = keystrokes(&mut c, big, &file_uri(big), &text, cfg.edits, true, timeout)?;
    }
    // The requests yaml-language-server gets, on plain YAML (homelab-lsp has no plain-YAML
    // hover or completion: this is its request floor).
    if matches!(w.kind, Kind::Generated(_)) {
        let plain = plain_yaml_targets(w);
        if let Some(saved) = plain.iter().find(|p| Some(*p) != w.big_yaml.as_ref()) {
            result.saved_plain = Some(saves(&mut c, saved, cfg.edits.min(40), timeout)?);
        }
        for p in plain.iter().filter(|p| Some(*p) != w.big_yaml.as_ref()) {
            did_open(&c, p, "yaml")?;
        }
        c.settle(Duration::from_millis(200), Duration::from_secs(30));
        let (hov, comp) = positions_in(&plain, yaml_key_offsets, 200);
        let n = cfg.requests.min(200);
        result.plain_hover = latency(&mut c, "textDocument/hover", &hov, n, timeout)?;
        result.plain_completion = latency(&mut c, "textDocument/completion", &comp, n, timeout)?;
    }
    result.peak_rss_kib = c.peak_rss_kib();
    result.server_requests = c.server_requests.lock().map(|v| v.clone()).unwrap_or_default();
    result.server_requests.sort();
    result.server_requests.dedup();
    c.shutdown(timeout)?;
    Ok(result)
}

fn rel(w: &Workload, p: &Path) -> String {
    p.strip_prefix(&w.root).unwrap_or(p).display().to_string()
}

/// Where the render timings write: the disk (the workload's temp dir) and, when there is
/// one, a tmpfs (`/dev/shm`), which takes file-creation cost and other users' I/O out of
/// the comparison with makejinja. Returns (label, directory) pairs, tmpfs first.
fn destinations(cfg: &Config, w: &Workload, dir: &Path) -> BResult<Vec<(&'static str, PathBuf)>> {
    let mut out = Vec::new();
    if let Some(shm) = &cfg.tmpfs {
        let d = shm.join(&w.name);
        std::fs::create_dir_all(&d)?;
        out.push(("tmpfs", d));
    }
    out.push(("disk", dir.to_path_buf()));
    Ok(out)
}

fn cli(cfg: &Config, w: &Workload, dir: &Path) -> BResult<CliResult> {
    let mut result = CliResult::default();
    for (label, base) in destinations(cfg, w, dir)? {
        let mut render = Vec::new();
        for i in 0..cfg.runs {
            let out = base.join(format!("render-{i}"));
            let t = Instant::now();
            let o = Command::new(&cfg.server)
                .args(["render", "--root"])
                .arg(&w.root)
                .arg("--output")
                .arg(&out)
                .stdin(Stdio::null())
                .output()?;
            render.push(t.elapsed());
            if !o.status.success() {
                bail!("render failed ({}):\n{}", o.status, String::from_utf8_lossy(&o.stderr));
            }
            result.rendered_files = walk_files(&out).len();
            // The last output stays for the comparison with makejinja's.
            if i + 1 < cfg.runs {
                std::fs::remove_dir_all(&out)?;
            }
        }
        let last = base.join(format!("render-{}", cfg.runs.saturating_sub(1)));
        let mut floor = Vec::new();
        for i in 0..cfg.runs {
            let copy = base.join(format!("write-floor-{i}"));
            let t = Instant::now();
            let o = Command::new("cp").arg("-R").arg(&last).arg(&copy).stdin(Stdio::null()).output()?;
            floor.push(t.elapsed());
            if !o.status.success() {
                bail!("cp -R failed ({}):\n{}", o.status, String::from_utf8_lossy(&o.stderr));
            }
            std::fs::remove_dir_all(&copy)?;
        }
        if label == "tmpfs" {
            result.render_tmpfs = Some(Summary::of(&render));
            result.write_floor_tmpfs = Some(Summary::of(&floor));
        } else {
            result.render = Summary::of(&render);
            result.write_floor = Summary::of(&floor);
        }
    }
    let mut check = Vec::new();
    for _ in 0..cfg.runs {
        let t = Instant::now();
        let o =
            Command::new(&cfg.server).args(["check", "--root"]).arg(&w.root).args(["--format", "json"]).stdin(Stdio::null()).output()?;
        check.push(t.elapsed());
        // 0: clean, 1: findings at or above --fail-on; anything else is a failure.
        if !matches!(o.status.code(), Some(0) | Some(1)) {
            bail!("check failed ({}):\n{}", o.status, String::from_utf8_lossy(&o.stderr));
        }
        let v: Value = serde_json::from_slice(&o.stdout).map_err(|e| err!("check --format json printed no JSON: {e}"))?;
        result.findings = v.as_array().map_or(0, Vec::len);
    }
    result.check = Summary::of(&check);
    Ok(result)
}

/// makejinja's working copy of a corpus (the tree, its data, its reference plugin) in `work`.
pub(crate) fn prepare_corpus(cfg: &Config, venv: &Path, name: &str, work: &Path) -> BResult<()> {
    let mut cmd = Command::new("bash");
    cmd.arg(cfg.repo.join("bench/makejinja/verify.sh")).arg("--prepare").arg(work).arg(name).env("HOMELAB_LSP_MJVENV", venv);
    if let Some(c) = &cfg.corpora {
        cmd.env("HOMELAB_LSP_CORPORA", c);
    }
    let o = cmd.stdin(Stdio::null()).output()?;
    if !o.status.success() {
        bail!("verify.sh --prepare failed:\n{}", String::from_utf8_lossy(&o.stderr));
    }
    Ok(())
}

fn makejinja(cfg: &Config, w: &Workload, dir: &Path) -> BResult<MjResult> {
    let mj = cfg.makejinja.as_ref().ok_or_else(|| err!("makejinja not installed"))?;
    let work = match &w.kind {
        Kind::Corpus(name) => {
            let work = dir.join("mj-work");
            let venv = mj.parent().and_then(Path::parent).ok_or_else(|| err!("makejinja is not in a venv"))?;
            prepare_corpus(cfg, venv, name, &work)?;
            work
        }
        Kind::Generated(_) => w.root.clone(),
    };
    let mut result = MjResult::default();
    let mut compared = false;
    for (label, base) in destinations(cfg, w, dir)? {
        let mut times = Vec::new();
        let mut last_out = PathBuf::new();
        for i in 0..cfg.runs {
            let out = base.join(format!("mj-out-{i}"));
            let t = Instant::now();
            let o = Command::new(mj).args(["--quiet", "--output"]).arg(&out).current_dir(&work).stdin(Stdio::null()).output()?;
            times.push(t.elapsed());
            if !o.status.success() {
                bail!("makejinja failed ({}):\n{}", o.status, String::from_utf8_lossy(&o.stderr));
            }
            if i > 0 {
                let _ = std::fs::remove_dir_all(&last_out);
            }
            last_out = out;
        }
        if label == "tmpfs" {
            result.runs_tmpfs = Some(Summary::of(&times));
        } else {
            result.runs = Summary::of(&times);
        }
        // Compare with homelab-lsp's render of the same repo (the last one `cli` kept).
        let ours = base.join(format!("render-{}", cfg.runs.saturating_sub(1)));
        if !compared && ours.is_dir() {
            (result.same, result.total, result.differing) = compare_trees(&last_out, &ours);
            compared = true;
        }
    }
    if !compared {
        result.differing = vec!["(no homelab-lsp render to compare)".into()];
    }
    Ok(result)
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walk_files(root)
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(root).ok()?.to_string_lossy().into_owned();
            Some((rel, std::fs::read(&p).ok()?))
        })
        .collect()
}

fn is_bcrypt_line(line: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|m| line.contains(m))
}

/// (identical files, files in either tree, differing paths).
fn compare_trees(a: &Path, b: &Path) -> (usize, usize, Vec<String>) {
    let (ta, tb) = (read_tree(a), read_tree(b));
    let mut names: Vec<&String> = ta.keys().chain(tb.keys()).collect();
    names.sort();
    names.dedup();
    let mut same = 0;
    let mut diff = Vec::new();
    for n in &names {
        let ok = match (ta.get(*n), tb.get(*n)) {
            (Some(x), Some(y)) if x == y => true,
            (Some(x), Some(y)) => {
                let (x, y) = (String::from_utf8_lossy(x), String::from_utf8_lossy(y));
                let (lx, ly): (Vec<&str>, Vec<&str>) = (x.split('\n').collect(), y.split('\n').collect());
                lx.len() == ly.len() && lx.iter().zip(&ly).all(|(p, q)| p == q || (is_bcrypt_line(p) && is_bcrypt_line(q)))
            }
            _ => false,
        };
        if ok {
            same += 1;
        } else {
            diff.push((*n).clone());
        }
    }
    (same, names.len(), diff)
}

/// A local JSON schema for Kubernetes-shaped YAML, so yaml-language-server does schema
/// work (validation, hover descriptions, key completion) without the network.
fn yls_schema() -> Value {
    let s = |d: &str| json!({"type": "string", "description": d});
    let obj = |d: &str, props: Value| json!({"type": "object", "description": d, "properties": props});
    json!({
        "title": "homelab-bench Kubernetes object",
        "type": "object",
        "properties": {
            "apiVersion": s("APIVersion defines the versioned schema of this representation of an object."),
            "kind": s("Kind is a string value representing the REST resource this object represents."),
            "metadata": obj("Standard object's metadata.", json!({
                "name": s("Name must be unique within a namespace."),
                "namespace": s("Namespace defines the space within which each name must be unique."),
                "labels": {"type": "object", "description": "Map of string keys and values for organizing objects.", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "description": "Unstructured key value map stored with a resource.", "additionalProperties": {"type": "string"}}
            })),
            "spec": obj("Specification of the desired behavior.", json!({
                "interval": s("The interval at which to reconcile."),
                "chart": obj("Chart defines the template of the v1.HelmChart.", json!({"spec": obj("Spec of the HelmChart.", json!({"chart": s("Chart name."), "version": s("Chart version semver."), "sourceRef": obj("Source reference.", json!({"kind": {"type": "string", "enum": ["HelmRepository", "GitRepository", "Bucket"]}, "name": s("Name of the referent."), "namespace": s("Namespace of the referent.")}))}))})),
                "chartRef": obj("Reference to an OCIRepository or HelmChart.", json!({"kind": {"type": "string", "enum": ["OCIRepository", "HelmChart"]}, "name": s("Name of the referent."), "namespace": s("Namespace of the referent.")})),
                "install": obj("Helm install action configuration.", json!({"remediation": obj("Install remediation.", json!({"retries": {"type": "integer", "description": "Retries on failure."}})), "crds": {"type": "string", "enum": ["Skip", "Create", "CreateReplace"]}})),
                "upgrade": obj("Helm upgrade action configuration.", json!({"cleanupOnFail": {"type": "boolean", "description": "Clean up new resources on failure."}, "remediation": obj("Upgrade remediation.", json!({"retries": {"type": "integer"}})), "crds": {"type": "string", "enum": ["Skip", "Create", "CreateReplace"]}})),
                "values": obj("Helm values.", json!({
                    "controllers": {"type": "object", "description": "app-template controllers.", "additionalProperties": {"type": "object"}},
                    "service": {"type": "object", "description": "app-template services."},
                    "route": {"type": "object", "description": "app-template Gateway API routes."},
                    "persistence": {"type": "object", "description": "app-template persistence."},
                    "defaultPodOptions": {"type": "object", "description": "Pod options for every controller."}
                })),
                "parentRefs": {"type": "array", "description": "Gateways this route attaches to.", "items": obj("A parent reference.", json!({"name": s("Gateway name."), "namespace": s("Gateway namespace."), "sectionName": s("Listener name.")}))},
                "hostnames": {"type": "array", "items": {"type": "string"}, "description": "Hostnames to match."},
                "path": s("Path to the directory containing the kustomization."),
                "prune": {"type": "boolean", "description": "Enable garbage collection."},
                "targetNamespace": s("Target namespace for all objects."),
                "url": s("URL of the source.")
            })),
            "stringData": {"type": "object", "description": "Write-only string data of a Secret.", "additionalProperties": {"type": "string"}},
            "data": {"type": "object", "description": "Data of a Secret or ConfigMap."},
            "resources": {"type": "array", "description": "Kustomize resources.", "items": {"type": "string"}},
            "sops": {"type": "object", "description": "SOPS metadata."}
        }
    })
}

/// `validationDelayMs` from the installed yaml-language-server (its default setting).
fn yls_validation_delay(js: &Path) -> Option<u64> {
    let settings = js.parent()?.parent()?.join("out/server/src/yamlSettings.js");
    let text = std::fs::read_to_string(settings).ok()?;
    let rest = &text[text.find("this.validationDelayMs =")? + "this.validationDelayMs =".len()..];
    rest.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn yls_session(cfg: &Config, w: &Workload, dir: &Path) -> BResult<YlsResult> {
    let (node, js) = match (&cfg.node, &cfg.yls) {
        (Some(n), Some(j)) => (n.clone(), j.clone()),
        _ => bail!("node or yaml-language-server missing"),
    };
    let timeout = cfg.timeout;
    let schema_path = dir.join("bench-k8s.schema.json");
    std::fs::write(&schema_path, serde_json::to_string_pretty(&yls_schema())?)?;
    let settings = json!({
        "validate": true, "hover": true, "completion": true, "format": {"enable": false},
        "schemaStore": {"enable": false}, "kubernetesCRDStore": {"enable": false},
        "schemas": {file_uri(&schema_path): ["*.yaml", "**/*.yaml"]},
        "customTags": ["!reference sequence"], "maxItemsComputed": 5000
    });
    let s2 = settings.clone();
    let responder: ConfigResponder = Arc::new(move |item: &Value| match item.get("section").and_then(Value::as_str) {
        Some("yaml") => s2.clone(),
        Some("editor") | Some("[yaml]") => json!({"tabSize": 2, "detectIndentation": false, "formatOnType": false}),
        Some("http") => json!({"proxy": "", "proxyStrictSSL": false}),
        _ => json!({}),
    });
    let js_s = js.to_string_lossy().into_owned();
    let mut c = Client::spawn("yaml-language-server", &node, &[js_s.as_str(), "--stdio"], &w.root, responder)?;
    let spawned = c.spawned;
    let (init, _) = c.initialize(&w.root, json!({}), timeout)?;
    let init_ms = ms_since(spawned, Instant::now());
    let version = init.pointer("/serverInfo/version").and_then(Value::as_str).unwrap_or("?").to_string();
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"yaml": settings}}))?;
    let mut r = YlsResult { version, init_ms, validation_delay_ms: yls_validation_delay(&js), ..Default::default() };
    let plain = plain_yaml_targets(w);
    let big = w.big_yaml.clone().ok_or_else(|| err!("no big YAML file"))?;
    let (uri, text) = did_open(&c, &big, "yaml")?;
    let sent = Instant::now();
    let m = c.wait_for(timeout, |m| is_diag_for(m, &uri))?;
    r.open_ms = Some(ms_since(sent, m.at));
    for p in plain.iter().filter(|p| **p != big) {
        did_open(&c, p, "yaml")?;
    }
    c.settle(Duration::from_millis(300), Duration::from_secs(30));
    let (hov, comp) = positions_in(&plain, yaml_key_offsets, 200);
    r.hover = latency(&mut c, "textDocument/hover", &hov, cfg.requests, timeout)?;
    r.completion = latency(&mut c, "textDocument/completion", &comp, cfg.requests, timeout)?;
    let summary = keystrokes(&mut c, &big, &uri, &text, cfg.edits, false, timeout)?;
    r.keystroke = Some(Keystroke { file: rel(w, &big), lines: text.lines().count(), open_ms: r.open_ms, summary });
    r.peak_rss_kib = c.peak_rss_kib();
    c.shutdown(timeout)?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_offsets_find_names() {
        let t = "a: #{ app.image.tag }#\nb: #{ 'x' }#\nc: #{name|lower}#\n";
        let o = template_offsets(t, "#{", "}#");
        assert_eq!(o.len(), 2);
        assert_eq!(&t[o[0].0..o[0].0 + 1], "a"); // middle of "tag"
        assert_eq!(&t[..o[0].1], "a: #{ app.image.");
        assert_eq!(&t[..o[1].1], "a: #{ app.image.tag }#\nb: #{ 'x' }#\nc: #{name");
    }

    #[test]
    fn yaml_keys_are_found() {
        let t = "kind: X\nspec:\n  - name: a\n  # c: no\n";
        let o = yaml_key_offsets(t);
        assert_eq!(o.len(), 3);
        assert_eq!(&t[o[2].0 - 2..o[2].1], "name");
    }
}
