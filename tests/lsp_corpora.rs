//! The language server on the real corpora: every variable tag of a whole repo hovers to
//! something meaningful, previews equal makejinja's golden output, and request latency
//! (printed, never asserted). Skipped with a notice when the corpora are absent.

mod lsp;
mod support;

use homelab_lsp::template::expr::{names_in_tag, names_in_template, NameRole};
use homelab_lsp::template::syntax::{lex, TokenKind};
use homelab_lsp::workspace::{DiskVfs, EntryKind, Project};
use lsp::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{corpora_dir, corpus_copy, same_modulo_bcrypt};

/// A copy of a corpus (with its data) and the project loaded from it.
fn open_corpus(name: &str) -> Option<(tempfile::TempDir, PathBuf, Project)> {
    let corpora = corpora_dir()?;
    let dir = corpus_copy(&corpora, name);
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let project = Project::discover(&root, &DiskVfs).unwrap();
    Some((dir, root, project))
}

/// Every template file under the project's inputs (rendered ones and partials).
fn template_files(project: &Project) -> Vec<PathBuf> {
    let suffix = project.config.jinja_suffix.clone().unwrap_or_default();
    let mut v: Vec<PathBuf> =
        project.inventory.all_files.iter().map(|(_, _, p)| p.clone()).filter(|p| p.to_string_lossy().ends_with(&suffix)).collect();
    v.sort();
    v.dedup();
    v
}

/// One name use per variable tag: the first identifier that names something, with its
/// role and byte offset.
fn first_names(project: &Project, path: &Path) -> Vec<(usize, NameRole, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for tok in lex(&text, &project.config.syntax).iter().filter(|t| t.kind == TokenKind::Variable) {
        let mut uses = names_in_tag(&text, tok);
        uses.sort_by_key(|u| u.ranges[0].start);
        if let Some(u) = uses.first() {
            out.push((u.ranges[0].start, u.role, u.path[0].clone()));
        }
    }
    out
}

/// The reasons a hover may give instead of a value.
const REASONS: &[&str] = &[
    "```yaml",               // a value
    "bound by the template", // set / for / macro
    "**not defined**",       // with a did-you-mean when close
    "`loop`",                // loop state
    "Default filled in by the plugin",
    "declared by the plugin",
    "emulated by homelab-lsp", // plugin filter/function
    "```\n",                   // a built-in's signature
];

/// Hovers the first name of every `#{ … }#` tag of every template of a corpus.
fn hover_every_variable_tag(corpus: &str) {
    let Some((_dir, root, project)) = open_corpus(corpus) else { return };
    let mut c = Client::start(ClientOptions { folders: vec![root.clone()], ..Default::default() });
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut by_reason = std::collections::BTreeMap::<&str, usize>::new();
    for file in template_files(&project) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (offset, role, name) in first_names(&project, &file) {
            let pos = position(&text, offset);
            let rel = file.strip_prefix(&root).unwrap().display().to_string();
            let at = format!("{rel}:{}:{} `{name}` ({role:?})", pos.0 + 1, pos.1 + 1);
            checked += 1;
            let h = match c.request("textDocument/hover", Client::pos_params(&file, pos)) {
                Ok(h) => h,
                Err(e) => {
                    failures.push(format!("{at}: error {e}"));
                    continue;
                }
            };
            let Some(md) = h["contents"]["value"].as_str() else {
                failures.push(format!("{at}: no hover ({h})"));
                continue;
            };
            // The first section is about the name, not only the line's preview.
            let first = md.split("\n\n---\n\n").next().unwrap_or_default();
            match REASONS.iter().find(|r| first.contains(*r)) {
                Some(r) if !first.starts_with("**Renders to**") => *by_reason.entry(r).or_default() += 1,
                _ => failures.push(format!("{at}: hover says neither a value nor a reason:\n{md}")),
            }
            if h["range"].is_object() {
                let r = range_text(&text, &h["range"]);
                if r != name {
                    failures.push(format!("{at}: hover range covers {r:?}"));
                }
            }
        }
    }
    eprintln!("{corpus}: hovered {checked} variable tags: {by_reason:?}");
    assert!(checked > 50, "{corpus}: only {checked} variable tags found");
    assert!(failures.is_empty(), "{corpus}: {} of {checked} hovers failed:\n{}", failures.len(), failures.join("\n"));
    assert!(c.is_alive());
}

#[test]
fn every_variable_tag_of_the_bootstrap_corpus_hovers_to_a_value_or_a_reason() {
    hover_every_variable_tag("cluster-template-bootstrap");
}

#[test]
fn every_variable_tag_of_the_k3s_corpus_hovers_to_a_value_or_a_reason() {
    hover_every_variable_tag("cluster-template-bootstrap-k3s");
}

#[test]
fn every_variable_tag_of_the_yaml_corpus_hovers_to_a_value_or_a_reason() {
    hover_every_variable_tag("cluster-template-yaml");
}

#[test]
fn rendered_previews_equal_makejinja_output_on_every_corpus() {
    let Some(corpora) = corpora_dir() else { return };
    for name in support::CORPORA {
        let Some((_dir, root, project)) = open_corpus(name) else { return };
        let golden = corpora.join(format!("{name}.rendered"));
        let mut c = Client::start(ClientOptions { folders: vec![root.clone()], ..Default::default() });
        let mut compared = 0;
        let mut failures = Vec::new();
        for entry in project.inventory.entries.iter().filter(|e| e.kind == EntryKind::Template) {
            let preview = match c.request("homelab/renderedPreview", json!({"uri": uri(&entry.source)})) {
                Ok(p) => p,
                Err(e) => {
                    failures.push(format!("{}: {e}", entry.name));
                    continue;
                }
            };
            let text = preview["text"].as_str().unwrap_or_default();
            let lines = preview["lineMap"].as_array().map_or(0, Vec::len);
            if lines != text.lines().count() {
                failures.push(format!("{}: lineMap has {lines} entries for {} lines", entry.name, text.lines().count()));
            }
            match std::fs::read(golden.join(&entry.output_rel)) {
                Ok(want) => {
                    if !same_modulo_bcrypt(&want, text.as_bytes()) {
                        failures.push(format!("{}: {}", entry.name, support::first_difference(&want, text.as_bytes())));
                    }
                    compared += 1;
                }
                // makejinja wrote nothing: the template renders to whitespace only.
                Err(_) => {
                    if !text.trim().is_empty() {
                        failures.push(format!("{}: makejinja wrote no file, the preview has text", entry.name));
                    }
                }
            }
        }
        eprintln!("{name}: {compared} previews equal the golden files");
        assert!(compared > 50, "{name}: only {compared} compared");
        assert!(failures.is_empty(), "{name}: {} previews differ:\n{}", failures.len(), failures.join("\n"));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn latency_of_completion_hover_and_definition_on_the_largest_corpus() {
    let Some(corpora) = corpora_dir() else { return };
    // The largest corpus by template text.
    let size = |name: &str| -> u64 {
        walkdir::WalkDir::new(corpora.join(name))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().to_string_lossy().ends_with(".j2"))
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .sum()
    };
    let largest = support::CORPORA.iter().copied().max_by_key(|n| size(n)).unwrap();
    let Some((_dir, root, project)) = open_corpus(largest) else { return };
    let started = Instant::now();
    let mut c = Client::start(ClientOptions { folders: vec![root.clone()], ..Default::default() });
    let startup = started.elapsed();
    // Positions: every variable use (in any tag), spread over all templates.
    let mut spots: Vec<(PathBuf, Arc<str>, usize)> = Vec::new();
    for file in template_files(&project) {
        let text: Arc<str> = std::fs::read_to_string(&file).unwrap().into();
        for u in names_in_template(&text, &project.config.syntax) {
            if u.role == NameRole::Variable {
                spots.push((file.clone(), text.clone(), u.ranges[0].start));
            }
        }
    }
    assert!(!spots.is_empty());
    const N: usize = 300;
    let mut times: [(&str, Vec<Duration>); 3] = [("completion", Vec::new()), ("hover", Vec::new()), ("definition", Vec::new())];
    let mut nonempty = [0usize; 3];
    for i in 0..N {
        let (file, text, offset) = &spots[(i * 7919) % spots.len()];
        let pos = position(text, *offset);
        let end_of_name = position(text, offset + text[*offset..].find(|ch: char| !(ch.is_alphanumeric() || ch == '_')).unwrap_or(0));
        for (k, (method, pos)) in [("textDocument/completion", end_of_name), ("textDocument/hover", pos), ("textDocument/definition", pos)]
            .into_iter()
            .enumerate()
        {
            let t = Instant::now();
            let r: Value = c.ok(method, Client::pos_params(file, pos));
            times[k].1.push(t.elapsed());
            if !r.is_null() {
                nonempty[k] += 1;
            }
        }
    }
    eprintln!(
        "latency on {largest} ({} templates, {} name spots; startup + indexing {startup:?}), {N} requests each:",
        template_files(&project).len(),
        spots.len()
    );
    for (k, (what, v)) in times.iter_mut().enumerate() {
        v.sort();
        eprintln!(
            "  {what:<10} median {:>9.2?}  p95 {:>9.2?}  worst {:>9.2?}  ({} of {N} non-null)",
            percentile(v, 0.5),
            percentile(v, 0.95),
            v.last().unwrap(),
            nonempty[k]
        );
    }
    // A data edit reloads the project before the next request answers.
    let data = project.data_files[0].path.clone();
    let original = std::fs::read_to_string(&data).unwrap();
    c.did_open(&data, &original);
    let (file, text, offset) = &spots[0];
    let mut edits = Vec::new();
    for v in 2..22 {
        let t = Instant::now();
        c.did_change_full(&data, v, &format!("{original}\nhomelab_lsp_probe: {v}\n"));
        let _ = c.ok("textDocument/hover", Client::pos_params(file, position(text, *offset)));
        edits.push(t.elapsed());
    }
    edits.sort();
    eprintln!("  data edit → hover: median {:.2?}, worst {:.2?} (20 edits)", percentile(&edits, 0.5), edits.last().unwrap());
    // Typing in the data file: a burst of edits, then one hover.
    let t = Instant::now();
    for v in 30..50 {
        c.did_change_full(&data, v, &format!("{original}\nhomelab_lsp_probe: {v}\n"));
    }
    let h = c.ok("textDocument/hover", Client::pos_params(file, position(text, *offset)));
    eprintln!("  20 data edits in a burst → hover: {:.2?}", t.elapsed());
    assert!(!h.is_null());
}

/// makejinja renders every corpus template, so no diagnostic published for the corpora may
/// be an error; warnings are listed (they are judgement calls: unencrypted `*.sops.yaml`,
/// Secrets created outside the repo, an upstream `indent(14, yes)` with undefined `yes`).
#[test]
fn corpora_get_no_error_diagnostics() {
    for name in support::CORPORA {
        let Some((_dir, root, _project)) = open_corpus(name) else { return };
        let c = Client::start(ClientOptions { folders: vec![root.clone()], ..Default::default() });
        c.wait_quiet(Duration::from_millis(1500));
        let mut latest = std::collections::BTreeMap::new();
        for n in c.notifications() {
            if n["method"] == "textDocument/publishDiagnostics" {
                latest.insert(n["params"]["uri"].as_str().unwrap().to_string(), n["params"]["diagnostics"].clone());
            }
        }
        let mut errors = Vec::new();
        let mut by_code = std::collections::BTreeMap::<String, usize>::new();
        for (u, d) in &latest {
            for x in d.as_array().unwrap() {
                let rel = uri_path(u).strip_prefix(&root).unwrap().display().to_string();
                *by_code.entry(x["code"].as_str().unwrap_or_default().to_string()).or_default() += 1;
                if x["severity"] == 1 {
                    errors.push(format!("{rel}:{} [{}] {}", x["range"]["start"]["line"].as_u64().unwrap() + 1, x["code"], x["message"]));
                }
            }
        }
        eprintln!("{name}: diagnostics by rule {by_code:?}");
        assert!(errors.is_empty(), "{name}: {} error diagnostics:\n{}", errors.len(), errors.join("\n"));
    }
}

/// Inlay hints for every template of every corpus: answered, present, and never showing a
/// secret value of the data (tokens, keys, passwords) in clear.
#[test]
fn inlay_hints_on_every_corpus_template_never_show_secrets() {
    for corpus in ["cluster-template-bootstrap", "cluster-template-bootstrap-k3s", "cluster-template-yaml"] {
        let Some((_dir, root, project)) = open_corpus(corpus) else { return };
        let secrets = homelab_lsp::ide::secrets::secret_values(project.renderer(Default::default()).context());
        assert!(!secrets.is_empty(), "{corpus}: the data holds secrets to look for");
        let mut c = Client::start(ClientOptions { folders: vec![root.clone()], ..Default::default() });
        let mut hints = 0;
        let mut in_loops = 0;
        for file in template_files(&project) {
            let r = c
                .request(
                    "textDocument/inlayHint",
                    json!({"textDocument": {"uri": uri(&file)}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 100000, "character": 0}}}),
                )
                .unwrap_or_else(|e| panic!("{corpus}: inlayHint on {} failed: {e}", file.display()));
            for h in r.as_array().cloned().unwrap_or_default() {
                let label = h["label"].as_str().unwrap_or_default().to_string();
                assert!(label.starts_with("= "), "{label}");
                for s in &secrets {
                    assert!(!label.contains(s.as_str()), "{corpus}: {} shows a secret in a hint: {label}", file.display());
                }
                hints += 1;
                if label.ends_with(" times)") {
                    in_loops += 1;
                    if in_loops <= 3 {
                        eprintln!(
                            "  {}:{}: {label}",
                            file.strip_prefix(&root).unwrap().display(),
                            h["position"]["line"].as_u64().unwrap_or(0) + 1
                        );
                    }
                }
            }
        }
        eprintln!("{corpus}: {hints} inlay hints ({in_loops} listing loop iterations)");
        assert!(hints > 20, "{corpus}: only {hints} hints");
        assert!(in_loops > 0, "{corpus}: no hint inside a loop");
    }
}

/// Every position kind of request at many places of real files (templates, generated and
/// hand-written YAML, data files) answers without an error: a panic in a handler would
/// come back as one.
#[test]
fn requests_anywhere_in_corpus_files_never_fail() {
    for corpus in ["cluster-template-bootstrap", "cluster-template-bootstrap-k3s", "cluster-template-yaml"] {
        requests_anywhere(corpus);
    }
}

fn requests_anywhere(corpus: &str) {
    let Some((_dir, root, project)) = open_corpus(corpus) else { return };
    let mut files: Vec<PathBuf> = template_files(&project).into_iter().step_by(3).collect();
    files.extend(project.data_files.iter().map(|d| d.path.clone()));
    files.extend(project.inventory.templates().filter(|e| e.output.is_file()).step_by(9).map(|e| e.output.clone()));
    let mut c = Client::start(ClientOptions { folders: vec![root.clone()], ..Default::default() });
    let mut asked = 0;
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        // Offsets spread over the file, on char boundaries, the end included.
        let mut offsets: Vec<usize> = (0..text.len()).step_by(37).filter(|&o| text.is_char_boundary(o)).collect();
        offsets.push(text.len());
        for o in offsets {
            let pos = position(&text, o);
            let p = Client::pos_params(file, pos);
            for method in [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/definition",
                "textDocument/signatureHelp",
                "textDocument/documentHighlight",
            ] {
                if let Err(e) = c.request(method, p.clone()) {
                    panic!("{method} at {}:{}:{} failed: {e}", file.display(), pos.0 + 1, pos.1 + 1);
                }
                asked += 1;
            }
        }
        let end = position(&text, text.len());
        let range = json!({"start": {"line": 0, "character": 0}, "end": {"line": end.0, "character": end.1}});
        c.request("textDocument/inlayHint", json!({"textDocument": {"uri": uri(file)}, "range": range}))
            .unwrap_or_else(|e| panic!("inlayHint on {} failed: {e}", file.display()));
    }
    c.request("workspace/symbol", json!({"query": "a"})).expect("workspace/symbol");
    eprintln!("{corpus}: {asked} requests over {} files, none failed", files.len());
    assert!(asked > 1000, "only {asked} requests");
}
