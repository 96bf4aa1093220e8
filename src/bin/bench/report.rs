//! The printed tables, the targets, and the JSON document.

use crate::measure::{CliResult, Keystroke, Kind, Latency, MjResult, WorkloadResult};
use crate::stats::{mib, ms, opt_ms, r3, ratio, table, Summary};
use crate::Config;
use serde_json::{json, Value};
use std::time::Duration;

pub struct Machine {
    pub cpu: String,
    pub nproc: usize,
    pub mem_gib: f64,
    pub kernel: String,
    pub loadavg: String,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let mem_kib: f64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0.0);
    Machine {
        cpu,
        nproc: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        mem_gib: mem_kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string(),
        loadavg: std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    }
}

/// The server's diagnostics debounce, read from its source (it is part of every keystroke
/// figure): 0 when the server has none (it checks on each change), `None` when the source
/// cannot be read.
pub fn debounce_ms(cfg: &Config) -> Option<u64> {
    let src = std::fs::read_to_string(cfg.repo.join("src/server/mod.rs")).ok()?;
    let Some(line) = src.lines().find(|l| l.contains("const DIAGNOSTICS_DEBOUNCE_MS")) else { return Some(0) };
    line.split('=').nth(1)?.trim().trim_end_matches(';').trim().parse().ok()
}

/// The server's debounce before a workspace-wide diagnostics run.
pub fn publish_all_debounce_ms(cfg: &Config) -> Option<u64> {
    let src = std::fs::read_to_string(cfg.repo.join("src/server/mod.rs")).ok()?;
    let line = src.lines().find(|l| l.contains("const PUBLISH_ALL_DEBOUNCE_MS"))?;
    line.split('=').nth(1)?.trim().trim_end_matches(';').trim().parse().ok()
}

fn server_version(cfg: &Config) -> String {
    std::process::Command::new(&cfg.server)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn lat(l: &Option<Latency>) -> (String, String) {
    match l {
        Some(l) => (ms(l.summary.p50), ms(l.summary.p99)),
        None => ("–".into(), "–".into()),
    }
}

fn ks(k: &Option<Keystroke>) -> Option<&Keystroke> {
    k.as_ref().filter(|k| k.summary.n > 0)
}

/// Target verdicts: (target, figure, met?).
pub fn targets(results: &[WorkloadResult]) -> Vec<(String, String, Option<bool>)> {
    let mut out = Vec::new();
    let gen = |n: usize| results.iter().find(|r| matches!(r.workload.kind, Kind::Generated(s) if s == n));
    // Index a 2,000-file repo under 300 ms.
    match gen(2000).and_then(|r| r.lsp.as_ref()).and_then(|l| l.cold_median(|c| c.index_ms)) {
        Some(i) => {
            let all = gen(2000).and_then(|r| r.lsp.as_ref()).and_then(|l| l.cold_median(|c| c.all_diag_ms)).unwrap_or(f64::NAN);
            out.push((
                "index a 2,000-file repo < 300 ms".into(),
                format!("{} ms to index complete ({} ms until every file is checked)", ms(i), ms(all)),
                Some(i < 300.0),
            ))
        }
        None => out.push(("index a 2,000-file repo < 300 ms".into(), "not measured (no 2,000-file run)".into(), None)),
    }
    // Completion and hover p99 under 5 ms (worst workload).
    for (label, pick) in [("completion", 0usize), ("hover", 1)] {
        let worst = results
            .iter()
            .filter_map(|r| {
                let l = r.lsp.as_ref()?;
                let x = if pick == 0 { l.completion.as_ref() } else { l.hover.as_ref() }?;
                Some((x.summary.p99, r.workload.name.clone()))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match worst {
            Some((p99, name)) => out.push((format!("{label} p99 < 5 ms"), format!("worst p99 {} ms ({name})", ms(p99)), Some(p99 < 5.0))),
            None => out.push((format!("{label} p99 < 5 ms"), "not measured".into(), None)),
        }
    }
    // Keystroke diagnostics p99 under 30 ms on a 500-line template (worst size).
    let worst = results
        .iter()
        .filter_map(|r| Some((ks(&r.lsp.as_ref()?.keystroke_template)?.summary.p99, r.workload.name.clone())))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match worst {
        Some((p99, name)) => out.push((
            "keystroke → diagnostics p99 < 30 ms (500-line template)".into(),
            format!("worst p99 {} ms ({name})", ms(p99)),
            Some(p99 < 30.0),
        )),
        None => out.push(("keystroke → diagnostics p99 < 30 ms (500-line template)".into(), "not measured".into(), None)),
    }
    // Peak RSS under 150 MB at 8,000 files.
    match gen(8000).and_then(|r| r.lsp.as_ref()).and_then(|l| l.peak_rss_kib) {
        Some(k) => {
            out.push(("peak RSS < 150 MB at 8,000 files".into(), format!("{} MiB", mib(Some(k))), Some((k as f64) / 1024.0 < 150.0)))
        }
        None => out.push(("peak RSS < 150 MB at 8,000 files".into(), "not measured (no 8,000-file run)".into(), None)),
    }
    // Render ≥ 20× faster than makejinja (worst workload), writing to a tmpfs and to disk.
    // On disk both tools pay the file system's cost of creating the files (the `cp -R`
    // floor); the ratio above that floor is what the tools themselves spend.
    let worst = |f: &dyn Fn(&MjResult, &CliResult) -> Option<f64>| {
        results
            .iter()
            .filter_map(|r| Some((f(r.mj.as_ref()?, r.cli.as_ref()?)?, r.workload.name.clone())))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let tmpfs = worst(&|mj, cli| Some(mj.runs_tmpfs.as_ref()?.p50 / cli.render_tmpfs.as_ref()?.p50));
    let disk = worst(&|mj, cli| Some(mj.runs.p50 / cli.render.p50));
    let above_floor = worst(&|mj, cli| {
        let floor = cli.write_floor.p50;
        (cli.render.p50 > floor).then(|| (mj.runs.p50 - floor) / (cli.render.p50 - floor))
    });
    let label = "render ≥ 20× faster than makejinja".to_string();
    match disk {
        Some((d, dname)) => {
            let mut fig = format!("worst {} writing to disk ({dname})", ratio(Some(d)));
            if let Some((x, name)) = &above_floor {
                fig.push_str(&format!(", {} above the cp -R floor ({name})", ratio(Some(*x))));
            }
            if let Some((x, tname)) = &tmpfs {
                fig = format!("worst {} writing to tmpfs ({tname}); {fig}", ratio(Some(*x)));
            }
            let disk_ok = d >= 20.0 || above_floor.as_ref().is_some_and(|(x, _)| *x >= 20.0);
            let ok = disk_ok && tmpfs.as_ref().is_none_or(|(x, _)| *x >= 20.0);
            out.push((label, fig, Some(ok)));
        }
        _ => out.push((label, "not measured (makejinja not installed)".into(), None)),
    }
    out
}

pub fn render(cfg: &Config, results: &[WorkloadResult], elapsed: Duration) -> String {
    let m = machine();
    let mut s = String::new();
    s.push_str(&format!(
        "# homelab-bench{}\n\nserver: {} ({})\nmachine: {} × {}, {:.1} GiB RAM, Linux {}, load average {} at the end (shared machine: absolute numbers are noisy)\nrun: {:.0} s; {} requests per kind, {} keystrokes per file, {} runs per subprocess timing, {} cold start(s)\n\n",
        if cfg.quick { " (quick)" } else { "" },
        server_version(cfg),
        cfg.server.display(),
        m.nproc,
        m.cpu,
        m.mem_gib,
        m.kernel,
        m.loadavg,
        elapsed.as_secs_f64(),
        cfg.requests,
        cfg.edits,
        cfg.runs,
        cfg.cold_runs
    ));

    s.push_str("## Workloads\n\n");
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let w = &r.workload;
            vec![w.name.clone(), w.files.to_string(), format!("{:.1}", w.bytes as f64 / 1e6), w.templates.to_string(), w.yaml.to_string()]
        })
        .collect();
    s.push_str(&table(&["workload", "files", "MB", ".j2 templates", "YAML files"], &rows));

    s.push_str(&format!(
        "\n## Server cold start (ms from spawn; median of the cold starts; the first full check waits the server's {} ms workspace debounce)\n\n",
        publish_all_debounce_ms(cfg).map_or("?".into(), |d| d.to_string())
    ));
    let rows: Vec<Vec<String>> = results
        .iter()
        .filter_map(|r| {
            let l = r.lsp.as_ref()?;
            let f = r.floor.as_ref();
            let index = l.cold_median(|c| c.index_ms);
            let all = l.cold_median(|c| c.all_diag_ms);
            Some(vec![
                r.workload.name.clone(),
                opt_ms(l.cold_median(|c| c.init_ms)),
                opt_ms(index),
                opt_ms(l.cold_median(|c| c.first_diag_ms)),
                opt_ms(all),
                l.cold.last().map_or("–".into(), |c| c.published.to_string()),
                opt_ms(f.map(|f| f.inproc.p50)),
                opt_ms(f.map(|f| f.cat.p50)),
                ratio(index.zip(f).map(|(i, f)| i / f.inproc.p50)),
                ratio(all.zip(f).map(|(i, f)| i / f.inproc.p50)),
                mib(l.cold.last().and_then(|c| c.rss_after_index_kib)),
                mib(l.peak_rss_kib),
            ])
        })
        .collect();
    s.push_str(&table(
        &[
            "workload",
            "initialize",
            "index complete",
            "first diagnostics",
            "all files checked",
            "files published",
            "floor: read all (in-process)",
            "floor: find -exec cat",
            "index / floor",
            "all checked / floor",
            "peak RSS after check MiB",
            "peak RSS at end MiB",
        ],
        &rows,
    ));

    s.push_str("\n## Request latency inside `#{ }#` (ms, round trip through the client)\n\n");
    let rows: Vec<Vec<String>> = results
        .iter()
        .filter_map(|r| {
            let l = r.lsp.as_ref()?;
            let (c50, c99) = lat(&l.completion);
            let (h50, h99) = lat(&l.hover);
            let (d50, d99) = lat(&l.definition);
            let answered = |x: &Option<Latency>| {
                x.as_ref().map_or("–".into(), |x| format!("{:.0}%", 100.0 * x.answered as f64 / x.summary.n.max(1) as f64))
            };
            let n = l.completion.as_ref().map_or(0, |x| x.summary.n);
            Some(vec![
                r.workload.name.clone(),
                format!("{} / {n}", l.positions),
                c50,
                c99,
                h50,
                h99,
                d50,
                d99,
                format!("{} / {} / {}", answered(&l.completion), answered(&l.hover), answered(&l.definition)),
            ])
        })
        .collect();
    s.push_str(&table(
        &["workload", "positions / requests", "completion p50", "p99", "hover p50", "p99", "definition p50", "p99", "non-empty (c/h/d)"],
        &rows,
    ));

    let debounce = debounce_ms(cfg);
    s.push_str(&format!(
        "\n## Keystroke → publishDiagnostics for that version (ms; {})\n\n",
        match debounce {
            Some(0) => "the server has no debounce: it checks on each change, one run per document at a time".to_string(),
            Some(d) => format!("includes the server's {d} ms debounce"),
            None => "the server's debounce is unknown".to_string(),
        }
    ));
    let mut rows = Vec::new();
    for r in results {
        let Some(l) = r.lsp.as_ref() else { continue };
        for k in [ks(&l.keystroke_template), ks(&l.keystroke_yaml)].into_iter().flatten() {
            rows.push(vec![
                r.workload.name.clone(),
                format!(
                    "{} ({} lines)",
                    k.file.rsplit('/').take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("/"),
                    k.lines
                ),
                opt_ms(k.open_ms),
                k.summary.n.to_string(),
                ms(k.summary.p50),
                ms(k.summary.p90),
                ms(k.summary.p99),
                ms(k.summary.max),
                debounce.map_or("–".into(), |d| ms(k.summary.p50 - d as f64)),
            ]);
        }
    }
    let mut header = vec!["workload", "file", "didOpen → diagnostics", "edits", "p50", "p90", "p99", "max", "p50 minus debounce"];
    if debounce == Some(0) {
        // Nothing to subtract: the column would repeat p50.
        header.pop();
        rows.iter_mut().for_each(|r| {
            r.pop();
        });
    }
    s.push_str(&table(&header, &rows));

    let rows: Vec<Vec<String>> = results
        .iter()
        .filter_map(|r| {
            let k = r.lsp.as_ref()?.saved_plain.as_ref()?;
            Some(vec![r.workload.name.clone(), k.n.to_string(), ms(k.p50), ms(k.p90), ms(k.p99), ms(k.max)])
        })
        .collect();
    if !rows.is_empty() {
        s.push_str("\n## A hand-written HelmRelease saved on disk → its diagnostics (ms; didChangeWatchedFiles, the file not open)\n\n");
        s.push_str(&table(&["workload", "saves", "p50", "p90", "p99", "max"], &rows));
    }

    s.push_str("\n## CLI and makejinja (wall ms, median of runs; subprocesses; output to a tmpfs and to disk)\n\n");
    let rows: Vec<Vec<String>> = results
        .iter()
        .filter_map(|r| {
            let c = r.cli.as_ref()?;
            let mj = r.mj.as_ref();
            let rt = c.render_tmpfs.as_ref().map(|x| x.p50);
            let mt = mj.and_then(|m| m.runs_tmpfs.as_ref()).map(|x| x.p50);
            Some(vec![
                r.workload.name.clone(),
                opt_ms(rt),
                ms(c.render.p50),
                format!("{} / {}", opt_ms(c.write_floor_tmpfs.as_ref().map(|x| x.p50)), ms(c.write_floor.p50)),
                c.rendered_files.to_string(),
                ms(c.check.p50),
                c.findings.to_string(),
                opt_ms(mt),
                mj.map_or("–".into(), |m| ms(m.runs.p50)),
                ratio(mt.zip(rt).map(|(m, r)| m / r)),
                ratio(mj.map(|m| m.runs.p50 / c.render.p50)),
                mj.map_or("–".into(), |m| format!("{}/{}", m.same, m.total)),
            ])
        })
        .collect();
    s.push_str(&table(
        &[
            "workload",
            "render → tmpfs",
            "render → disk",
            "floor: cp -R of the output (tmpfs / disk)",
            "files written",
            "check",
            "findings",
            "makejinja → tmpfs",
            "makejinja → disk",
            "makejinja / render (tmpfs)",
            "(disk)",
            "outputs identical",
        ],
        &rows,
    ));
    for r in results {
        if let Some(m) = &r.mj {
            if !m.differing.is_empty() {
                s.push_str(&format!(
                    "\n{}: outputs that differ from makejinja: {}\n",
                    r.workload.name,
                    m.differing.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }

    let yls_rows: Vec<Vec<String>> = results
        .iter()
        .filter_map(|r| {
            let y = r.yls.as_ref()?;
            let l = r.lsp.as_ref();
            let (yh50, yh99) = lat(&y.hover);
            let (yc50, yc99) = lat(&y.completion);
            let yk = y.keystroke.as_ref();
            let ydelay = y.validation_delay_ms;
            let mut rows = vec![vec![
                r.workload.name.clone(),
                format!("yaml-language-server {}", y.version),
                ms(y.init_ms),
                opt_ms(y.open_ms),
                format!("{yh50} / {yh99}"),
                format!("{yc50} / {yc99}"),
                yk.map_or("–".into(), |k| format!("{} / {}", ms(k.summary.p50), ms(k.summary.p99))),
                match (yk, ydelay) {
                    (Some(k), Some(d)) => format!("{} (delay {d})", ms(k.summary.p50 - d as f64)),
                    _ => "–".into(),
                },
                mib(y.peak_rss_kib),
            ]];
            if let Some(l) = l {
                let (h50, h99) = lat(&l.plain_hover);
                let (c50, c99) = lat(&l.plain_completion);
                let k = ks(&l.keystroke_yaml);
                rows.push(vec![
                    String::new(),
                    "homelab-lsp (whole repo indexed)".into(),
                    opt_ms(l.cold_median(|c| c.init_ms)),
                    opt_ms(k.and_then(|k| k.open_ms)),
                    format!("{h50} / {h99}"),
                    format!("{c50} / {c99}"),
                    k.map_or("–".into(), |k| format!("{} / {}", ms(k.summary.p50), ms(k.summary.p99))),
                    match (k, debounce) {
                        (Some(k), Some(d)) => format!("{} (debounce {d})", ms(k.summary.p50 - d as f64)),
                        _ => "–".into(),
                    },
                    mib(l.peak_rss_kib),
                ]);
            }
            Some(rows)
        })
        .flatten()
        .collect();
    if !yls_rows.is_empty() {
        s.push_str("\n## Side by side with yaml-language-server (same plain YAML files, same client; ms)\n\n");
        s.push_str(&table(
            &[
                "workload",
                "server",
                "spawn → initialize",
                "didOpen 2,000-line YAML → diagnostics",
                "hover p50 / p99",
                "completion p50 / p99",
                "keystroke p50 / p99",
                "keystroke p50 minus the server's own delay",
                "peak RSS MiB",
            ],
            &yls_rows,
        ));
        s.push_str("\nOn plain YAML homelab-lsp answers hover and completion only on references (a `name:` under parentRefs, secretKeyRef, sourceRef, …; the line is parsed then) and with nothing elsewhere. yaml-language-server has a local Kubernetes-shaped schema (no network) and only the opened files; homelab-lsp holds the whole repo.\n");
    }

    let gen: Vec<&WorkloadResult> = results.iter().filter(|r| matches!(r.workload.kind, Kind::Generated(_))).collect();
    if !gen.is_empty() {
        s.push_str("\n## Scaling over the generated repos (cost per file)\n\n");
        let rows: Vec<Vec<String>> = gen
            .iter()
            .map(|r| {
                let n = r.workload.files as f64;
                let l = r.lsp.as_ref();
                let per = |x: Option<f64>| x.map_or("–".into(), |x| format!("{:.0}", x * 1000.0 / n));
                let index = l.and_then(|l| l.cold_median(|c| c.index_ms));
                let all = l.and_then(|l| l.cold_median(|c| c.all_diag_ms));
                let render = r.cli.as_ref().map(|c| c.render.p50);
                let render_tmpfs = r.cli.as_ref().and_then(|c| c.render_tmpfs.as_ref()).map(|x| x.p50);
                let check = r.cli.as_ref().map(|c| c.check.p50);
                let mj = r.mj.as_ref().map(|m| m.runs_tmpfs.as_ref().map_or(m.runs.p50, |x| x.p50));
                let floor = r.floor.as_ref().map(|f| f.inproc.p50);
                let rss = l.and_then(|l| l.peak_rss_kib);
                vec![
                    r.workload.files.to_string(),
                    opt_ms(floor),
                    per(floor),
                    opt_ms(index),
                    per(index),
                    opt_ms(all),
                    per(all),
                    opt_ms(render_tmpfs),
                    per(render_tmpfs),
                    opt_ms(render),
                    per(render),
                    opt_ms(check),
                    per(check),
                    opt_ms(mj),
                    per(mj),
                    mib(rss),
                    rss.map_or("–".into(), |k| format!("{:.1}", k as f64 / n)),
                    l.and_then(|l| ks(&l.keystroke_template)).map_or("–".into(), |k| ms(k.summary.p50)),
                    l.and_then(|l| l.hover.as_ref()).map_or("–".into(), |h| ms(h.summary.p50)),
                ]
            })
            .collect();
        s.push_str(&table(
            &[
                "files",
                "floor ms",
                "µs/file",
                "index ms",
                "µs/file",
                "all checked ms",
                "µs/file",
                "render → tmpfs ms",
                "µs/file",
                "render → disk ms",
                "µs/file",
                "check ms",
                "µs/file",
                "makejinja → tmpfs ms",
                "µs/file",
                "peak RSS MiB",
                "KiB/file",
                "keystroke p50",
                "hover p50",
            ],
            &rows,
        ));
    }

    s.push_str("\n## Targets\n\n");
    let rows: Vec<Vec<String>> = targets(results)
        .into_iter()
        .map(|(t, fig, ok)| {
            vec![
                t,
                fig,
                match ok {
                    Some(true) => "met".into(),
                    Some(false) => "MISSED".into(),
                    None => "n/a".into(),
                },
            ]
        })
        .collect();
    s.push_str(&table(&["target", "figure", "status"], &rows));

    let notes: Vec<String> = results.iter().flat_map(|r| r.notes.iter().map(move |n| format!("{}: {n}", r.workload.name))).collect();
    if !notes.is_empty() {
        s.push_str("\nNotes:\n");
        for n in notes {
            s.push_str(&format!("- {n}\n"));
        }
    }
    let errors: Vec<String> = results.iter().flat_map(|r| r.errors.iter().map(move |e| format!("{}: {e}", r.workload.name))).collect();
    if !errors.is_empty() {
        s.push_str("\nERRORS:\n");
        for e in errors {
            s.push_str(&format!("- {e}\n"));
        }
    }
    s
}

fn lat_json(l: &Option<Latency>) -> Value {
    l.as_ref().map_or(Value::Null, |l| json!({"summary": l.summary.json(), "non_empty": l.answered}))
}

fn ks_json(k: &Option<Keystroke>) -> Value {
    k.as_ref().map_or(
        Value::Null,
        |k| json!({"file": k.file, "lines": k.lines, "open_to_diagnostics_ms": k.open_ms.map(r3), "summary": k.summary.json()}),
    )
}

fn sum_json(s: &Summary) -> Value {
    s.json()
}

pub fn json(cfg: &Config, results: &[WorkloadResult], elapsed: Duration) -> Value {
    let m = machine();
    let workloads: Vec<Value> = results
        .iter()
        .map(|r| {
            let w = &r.workload;
            json!({
                "name": w.name,
                "kind": match &w.kind { Kind::Corpus(c) => json!({"corpus": c}), Kind::Generated(n) => json!({"generated": n}) },
                "files": w.files,
                "bytes": w.bytes,
                "templates": w.templates,
                "yaml_files": w.yaml,
                "generated": w.gen.as_ref().map(|g| json!({"templates_written": g.templates, "partials": g.partials, "plain_yaml": g.plain_yaml, "templated_apps": g.templated_apps, "plain_apps": g.plain_apps})),
                "prepare_s": r3(w.prepare_secs),
                "floor": r.floor.as_ref().map(|f| json!({"read_in_process": sum_json(&f.inproc), "find_exec_cat": sum_json(&f.cat)})),
                "lsp": r.lsp.as_ref().map(|l| json!({
                    "cold_starts": l.cold.iter().map(|c| json!({
                        "initialize_ms": r3(c.init_ms), "index_complete_ms": r3(c.index_ms), "first_diagnostics_ms": r3(c.first_diag_ms),
                        "all_files_checked_ms": r3(c.all_diag_ms), "files_published": c.published, "peak_rss_after_check_kib": c.rss_after_index_kib
                    })).collect::<Vec<_>>(),
                    "index_complete_ms_median": l.cold_median(|c| c.index_ms).map(r3),
                    "all_files_checked_ms_median": l.cold_median(|c| c.all_diag_ms).map(r3),
                    "positions": l.positions,
                    "completion": lat_json(&l.completion),
                    "hover": lat_json(&l.hover),
                    "definition": lat_json(&l.definition),
                    "plain_yaml_hover": lat_json(&l.plain_hover),
                    "plain_yaml_completion": lat_json(&l.plain_completion),
                    "keystroke_template": ks_json(&l.keystroke_template),
                    "keystroke_yaml": ks_json(&l.keystroke_yaml),
                    "saved_plain": l.saved_plain.as_ref().map(sum_json),
                    "peak_rss_kib": l.peak_rss_kib,
                    "server_requests_answered": l.server_requests,
                })),
                "cli": r.cli.as_ref().map(|c| json!({"render": sum_json(&c.render), "render_tmpfs": c.render_tmpfs.as_ref().map(sum_json), "write_floor": sum_json(&c.write_floor), "write_floor_tmpfs": c.write_floor_tmpfs.as_ref().map(sum_json), "rendered_files": c.rendered_files, "check": sum_json(&c.check), "check_findings": c.findings})),
                "makejinja": r.mj.as_ref().map(|mj| json!({
                    "render": sum_json(&mj.runs), "render_tmpfs": mj.runs_tmpfs.as_ref().map(sum_json), "identical_outputs": mj.same, "outputs": mj.total, "differing": mj.differing,
                    "ratio_to_homelab_lsp_render": r.cli.as_ref().map(|c| r3(mj.runs.p50 / c.render.p50)),
                    "ratio_to_homelab_lsp_render_tmpfs": r.cli.as_ref().and_then(|c| Some(r3(mj.runs_tmpfs.as_ref()?.p50 / c.render_tmpfs.as_ref()?.p50))),
                })),
                "yaml_language_server": r.yls.as_ref().map(|y| json!({
                    "version": y.version, "validation_delay_ms": y.validation_delay_ms, "initialize_ms": r3(y.init_ms), "open_to_diagnostics_ms": y.open_ms.map(r3),
                    "hover": lat_json(&y.hover), "completion": lat_json(&y.completion), "keystroke_yaml": ks_json(&y.keystroke), "peak_rss_kib": y.peak_rss_kib,
                })),
                "errors": r.errors,
                "notes": r.notes,
            })
        })
        .collect();
    json!({
        "tool": "homelab-bench",
        "mode": if cfg.quick { "quick" } else { "full" },
        "server": cfg.server.display().to_string(),
        "server_version": server_version(cfg),
        "machine": {"cpu": m.cpu, "nproc": m.nproc, "mem_gib": r3(m.mem_gib), "kernel": m.kernel, "loadavg_at_end": m.loadavg, "shared": true},
        "settings": {"requests": cfg.requests, "edits": cfg.edits, "runs": cfg.runs, "cold_starts": cfg.cold_runs, "sizes": cfg.sizes, "seed": cfg.seed, "diagnostics_debounce_ms": debounce_ms(cfg), "workspace_diagnostics_debounce_ms": publish_all_debounce_ms(cfg), "render_outputs_on_tmpfs": cfg.tmpfs.is_some()},
        "elapsed_s": r3(elapsed.as_secs_f64()),
        "workloads": workloads,
        "targets": targets(results).into_iter().map(|(t, f, ok)| json!({"target": t, "figure": f, "met": ok})).collect::<Vec<_>>(),
    })
}
