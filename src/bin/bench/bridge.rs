//! The plugin bridge on the corpora (with their reference plugins): cold worker start,
//! `data()` re-run in the warm worker, the cost of one plugin call over the pipe (and of a
//! memoised one), and the full render with the bridge, with the emulation and by makejinja.

use crate::lsp::{file_uri, Client};
use crate::stats::{ms, table, Summary};
use crate::{BResult, Config};
use homelab_lsp::bridge::{Bridge, FoundPython, LoadOutcome};
use homelab_lsp::template::live::LivePlugin;
use homelab_lsp::template::plugins::PluginNameKind;
use minijinja::value::Value;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

pub struct BridgeResult {
    pub corpus: String,
    pub python: String,
    pub cold_start: Summary,
    pub data_rerun: Summary,
    /// Milliseconds per call; shown in µs.
    pub call: Summary,
    pub memo_call: Summary,
    pub call_name: String,
    pub render_bridge: Summary,
    pub render_emulate: Summary,
    pub makejinja: Option<Summary>,
    /// Keystroke → diagnostics on the template with the most plugin calls, with the
    /// plugin running and with `plugins.run = "never"`.
    pub keystroke_bridge: Summary,
    pub keystroke_emulate: Summary,
    pub keystroke_file: String,
}

/// The Python of the makejinja venv the comparison uses (`<venv>/bin/python`).
fn venv_python(cfg: &Config) -> Option<PathBuf> {
    cfg.makejinja.as_ref()?.parent().map(|b| b.join("python")).filter(|p| p.is_file())
}

pub fn run(cfg: &Config) -> Vec<BResult<BridgeResult>> {
    let (Some(python), Some(corpora)) = (venv_python(cfg), cfg.corpora.as_ref()) else { return Vec::new() };
    let names: Vec<&str> = ["cluster-template-bootstrap", "cluster-template-bootstrap-k3s", "cluster-template-yaml"]
        .into_iter()
        .filter(|n| corpora.join(n).is_dir() && cfg.only.as_deref().is_none_or(|o| n.contains(o)))
        .take(if cfg.quick { 1 } else { 3 })
        .collect();
    names.iter().map(|n| one(cfg, &python, n)).collect()
}

fn live(outcome: LoadOutcome) -> BResult<Arc<LivePlugin>> {
    match outcome {
        LoadOutcome::Live(l) => Ok(l),
        LoadOutcome::Raised(e) => bail!("the plugin raised {}: {}", e.kind, e.message),
        LoadOutcome::Unavailable(e) => bail!("{e}"),
    }
}

fn one(cfg: &Config, python: &Path, name: &str) -> BResult<BridgeResult> {
    let work = cfg.tmp.join(format!("bridge-{name}"));
    let venv = python.parent().and_then(Path::parent).ok_or_else(|| err!("python is not in a venv"))?;
    crate::measure::prepare_corpus(cfg, venv, name, &work)?;
    let work = std::fs::canonicalize(&work)?;
    let found = FoundPython { path: python.to_path_buf(), source: "the makejinja venv" };
    let runs = if cfg.quick { 2 } else { cfg.cold_runs.max(3) };
    let mut cold = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let bridge = Bridge::new(&work, found.clone(), false);
        let t = Instant::now();
        let l = live(bridge.load(&Default::default()))?;
        cold.push(t.elapsed());
        last = Some((bridge, l));
    }
    let (bridge, l) = last.ok_or_else(|| err!("no run"))?;
    let reruns = if cfg.quick { 5 } else { 30 };
    let mut rerun = Vec::new();
    for _ in 0..reruns {
        let t = Instant::now();
        live(bridge.load(&Default::default()))?;
        rerun.push(t.elapsed());
    }
    let l = live(bridge.load(&Default::default())).unwrap_or(l);
    let (call_name, args) = call_target(&l);
    let calls = if cfg.quick { 200 } else { 2000 };
    let mut per_call = Vec::new();
    for i in 0..calls {
        let mut a = args.clone();
        a.push(Value::from(i as i64 % 200));
        let t = Instant::now();
        l.calls.call(PluginNameKind::Filter, &call_name, &a, &[]).map_err(|e| err!("{e}"))?;
        per_call.push(t.elapsed());
    }
    let memo = Bridge::new(&work, found.clone(), true);
    let ml = live(memo.load(&Default::default()))?;
    let mut memo_call = Vec::new();
    let mut a = args.clone();
    a.push(Value::from(1));
    for _ in 0..calls {
        let t = Instant::now();
        ml.calls.call(PluginNameKind::Filter, &call_name, &a, &[]).map_err(|e| err!("{e}"))?;
        memo_call.push(t.elapsed());
    }
    let render = |mode: &str| -> BResult<Summary> {
        let mut times = Vec::new();
        for i in 0..cfg.runs {
            let out = cfg.tmp.join(format!("bridge-out-{name}-{mode}-{i}"));
            let t = Instant::now();
            let o = Command::new(&cfg.server)
                .args(["render", "--plugins", mode, "--python"])
                .arg(python)
                .arg("--output")
                .arg(&out)
                .current_dir(&work)
                .stdin(Stdio::null())
                .output()?;
            times.push(t.elapsed());
            if !o.status.success() {
                bail!("render --plugins {mode} failed:\n{}", String::from_utf8_lossy(&o.stderr));
            }
            let _ = std::fs::remove_dir_all(&out);
        }
        Ok(Summary::of(&times))
    };
    let render_bridge = render("python")?;
    let render_emulate = render("emulate")?;
    let makejinja = match &cfg.makejinja {
        Some(mj) => {
            let mut times = Vec::new();
            for i in 0..cfg.runs {
                let out = cfg.tmp.join(format!("bridge-mj-{name}-{i}"));
                let t = Instant::now();
                let o = Command::new(mj).args(["--quiet", "--output"]).arg(&out).current_dir(&work).stdin(Stdio::null()).output()?;
                times.push(t.elapsed());
                if !o.status.success() {
                    bail!("makejinja failed:\n{}", String::from_utf8_lossy(&o.stderr));
                }
                let _ = std::fs::remove_dir_all(&out);
            }
            Some(Summary::of(&times))
        }
        None => None,
    };
    let (keystroke_file, template) = busiest_template(&work, &l)?;
    let edits = if cfg.quick { 20 } else { 100 };
    let keystroke_bridge = keystrokes(cfg, &work, python, "always", &template, edits)?;
    let keystroke_emulate = keystrokes(cfg, &work, python, "never", &template, edits)?;
    Ok(BridgeResult {
        keystroke_bridge,
        keystroke_emulate,
        keystroke_file,
        corpus: name.to_string(),
        python: l.python.clone(),
        cold_start: Summary::of(&cold),
        data_rerun: Summary::of(&rerun),
        call: Summary::of(&per_call),
        memo_call: Summary::of(&memo_call),
        call_name,
        render_bridge,
        render_emulate,
        makejinja,
    })
}

/// The template that calls the plugin's names most often.
fn busiest_template(work: &Path, l: &LivePlugin) -> BResult<(String, PathBuf)> {
    let mut best: Option<(usize, PathBuf)> = None;
    for e in walkdir::WalkDir::new(work).into_iter().flatten() {
        let p = e.path();
        if !p.to_string_lossy().ends_with(".j2") {
            continue;
        }
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let n: usize = l.names.iter().map(|(name, _)| text.matches(name.as_str()).count()).sum();
        if best.as_ref().is_none_or(|(b, _)| n > *b) {
            best = Some((n, p.to_path_buf()));
        }
    }
    let (_, p) = best.ok_or_else(|| err!("no template"))?;
    Ok((p.strip_prefix(work).unwrap_or(&p).display().to_string(), p))
}

/// Opens `template` in a server with `plugins.run = run`, waits for the plugin (when it
/// runs), then types `edits` characters on a new last line, timing each → its diagnostics.
fn keystrokes(cfg: &Config, work: &Path, python: &Path, run: &str, template: &Path, edits: usize) -> BResult<Summary> {
    let timeout = cfg.timeout.min(std::time::Duration::from_secs(30));
    let mut c = Client::spawn("homelab-lsp", &cfg.server, &[], work, crate::measure::null_config())?;
    let opts = json!({"homelabLsp": {"plugins": {"run": run, "python": python.display().to_string()}}});
    c.initialize(work, opts, timeout)?;
    if run == "always" {
        let m = c.wait_for(timeout, |m| m.method() == Some("homelab/pluginStatus")).map_err(|e| err!("{run}: plugin status: {e}"))?;
        if m.params()["state"] != "python" {
            bail!("the plugin did not run: {}", m.params());
        }
    }
    let uri = file_uri(template);
    // A last line naming an undefined variable, typed into: every version has a diagnostic,
    // so every keystroke is answered by a publish (a clean file publishes nothing new).
    let probe = "#{ bench_undefined_";
    let text = std::fs::read_to_string(template)? + "\n" + probe + " }#\n";
    let line = text.lines().count() as u32 - 1;
    c.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "jinja", "version": 1, "text": text}}))?;
    c.wait_for(timeout, |m| crate::measure::is_diag_for(m, &uri) && crate::measure::diag_version(m) == Some(1))
        .map_err(|e| err!("{run}: diagnostics after opening {}: {e}", template.display()))?;
    let mut times = Vec::with_capacity(edits);
    for k in 0..edits {
        c.drain();
        let version = k as i64 + 2;
        let at = json!({"line": line, "character": probe.len() + k});
        let params =
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": at, "end": at}, "text": "x"}]});
        let sent = Instant::now();
        c.notify("textDocument/didChange", params)?;
        let m = c
            .wait_for(timeout, |m| crate::measure::is_diag_for(m, &uri) && crate::measure::diag_version(m) == Some(version))
            .map_err(|e| err!("{run}: diagnostics of keystroke {k}: {e}"))?;
        times.push(m.at.saturating_duration_since(sent));
    }
    c.shutdown(timeout)?;
    Ok(Summary::of(&times))
}

/// A cheap plugin filter to time: `nthhost` when the plugin has it, else its first filter.
fn call_target(l: &LivePlugin) -> (String, Vec<Value>) {
    let filters: Vec<&String> = l.names.iter().filter(|(_, k)| *k == PluginNameKind::Filter).map(|(n, _)| n).collect();
    match filters.iter().find(|n| n.as_str() == "nthhost") {
        Some(n) => (n.to_string(), vec![Value::from("10.0.0.0/24")]),
        None => (filters.first().map(|s| s.to_string()).unwrap_or_default(), vec![Value::from("x")]),
    }
}

fn us(s: &Summary) -> String {
    format!("{:.1} / {:.1}", s.p50 * 1000.0, s.p99 * 1000.0)
}

pub fn render(results: &[BResult<BridgeResult>]) -> String {
    let mut rows = Vec::new();
    for r in results.iter().flatten() {
        rows.push(vec![
            r.corpus.clone(),
            ms(r.cold_start.p50),
            format!("{} / {}", ms(r.data_rerun.p50), ms(r.data_rerun.p99)),
            format!("{} ({})", us(&r.call), r.call_name),
            us(&r.memo_call),
            ms(r.render_bridge.p50),
            ms(r.render_emulate.p50),
            r.makejinja.as_ref().map_or("skipped".into(), |m| ms(m.p50)),
            format!(
                "{} / {} vs {} / {} ({})",
                ms(r.keystroke_bridge.p50),
                ms(r.keystroke_bridge.p99),
                ms(r.keystroke_emulate.p50),
                ms(r.keystroke_emulate.p99),
                r.keystroke_file
            ),
        ]);
    }
    if rows.is_empty() {
        return String::new();
    }
    let python = results.iter().flatten().next().map(|r| r.python.clone()).unwrap_or_default();
    format!(
        "\n## Plugin bridge ({python})\n\n{}",
        table(
            &[
                "corpus",
                "cold worker start p50",
                "data() re-run p50 / p99",
                "call µs p50 / p99",
                "memoised call µs p50 / p99",
                "render (bridge) p50",
                "render (emulation) p50",
                "makejinja p50",
                "keystroke p50 / p99: bridge vs emulation",
            ],
            &rows
        )
    )
}

pub fn json(results: &[BResult<BridgeResult>]) -> Json {
    Json::Array(
        results
            .iter()
            .flatten()
            .map(|r| {
                json!({
                    "corpus": r.corpus, "python": r.python, "cold_start": r.cold_start.json(), "data_rerun": r.data_rerun.json(),
                    "call": r.call.json(), "memoised_call": r.memo_call.json(), "call_name": r.call_name,
                    "render_bridge": r.render_bridge.json(), "render_emulation": r.render_emulate.json(),
                    "makejinja": r.makejinja.as_ref().map(Summary::json),
                    "keystroke_bridge": r.keystroke_bridge.json(), "keystroke_emulation": r.keystroke_emulate.json(), "keystroke_file": r.keystroke_file,
                })
            })
            .collect(),
    )
}
