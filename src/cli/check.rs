//! `homelab-lsp check`: every rule over the whole repo, for CI.

use super::render::{absolute, EXIT_FAILED, EXIT_OK, EXIT_PROJECT};
use crate::ide::diagnostics::{committed_secret_diagnostics, file_diagnostics, generated_files, plain_yaml_files, repo_index, Diag};
use crate::ide::ProjectAnalysis;
use crate::template::syntax::LineIndex;
use crate::workspace::{DiskVfs, Project};
use crate::yaml::Severity;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
}

/// One reported problem, positioned for output (1-based lines and columns).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub path: String,
    pub line: usize,
    pub column: usize,
    #[serde(rename = "endLine")]
    pub end_line: usize,
    #[serde(rename = "endColumn")]
    pub end_column: usize,
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    #[serde(skip)]
    pub source_line: String,
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
        Severity::Hint => "hint",
    }
}

/// Applies `--rule code=level` overrides; `None` drops the diagnostic.
fn apply_rule(d: &Diag, rules: &HashMap<String, String>) -> Option<Severity> {
    match rules.get(d.code).map(String::as_str) {
        Some("off") => None,
        Some("error") => Some(Severity::Error),
        Some("warning") => Some(Severity::Warning),
        Some("info") => Some(Severity::Info),
        Some("hint") => Some(Severity::Hint),
        _ => Some(d.severity),
    }
}

/// Every file `check` looks at, sorted and unique.
pub fn files_to_check(pa: &ProjectAnalysis) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = pa
        .project
        .inventory
        .all_files
        .iter()
        .map(|(_, _, p)| p.clone())
        .filter(|p| match &pa.project.config.jinja_suffix {
            Some(s) => p.to_string_lossy().ends_with(s.as_str()),
            None => true,
        })
        .collect();
    files.extend(plain_yaml_files(pa));
    files.extend(generated_files(pa));
    files.extend(pa.project.problems.iter().map(|p| p.file.clone()));
    files.sort();
    files.dedup();
    files
}

/// Runs every rule over the project; reports sorted by path and position.
pub fn check_project(project: Project, rules: &HashMap<String, String>, schemas: Option<Arc<crate::schema::Schemas>>) -> Vec<Report> {
    let root = project.config.root.clone();
    let pa = ProjectAnalysis::new(Arc::new(project), Arc::new(HashMap::new())).with_schemas(schemas);
    let index = repo_index(&pa);
    let mut files = files_to_check(&pa);
    files.extend(crate::flux::checks::generator_inputs(&index.flux));
    files.sort();
    files.dedup();
    let tracked = crate::workspace::git::tracked_files(&root);
    let tracked_set: Option<HashSet<&Path>> = tracked.as_ref().map(|t| t.iter().map(PathBuf::as_path).collect());
    let per_file = crate::parallel::map_in_order(
        &files,
        |file| {
            let committed = tracked_set.as_ref().is_some_and(|t| t.contains(file.as_path()));
            file_reports(&pa, &root, file, &index, rules, committed)
        },
        Vec::new,
    );
    let mut reports: Vec<Report> = per_file.into_iter().flatten().collect();
    if let Some(tracked) = tracked {
        for (file, d) in committed_secret_diagnostics(&pa, &tracked) {
            let Some(text) = crate::workspace::vfs::read_text_file(&file).ok() else { continue };
            reports.extend(to_report(&root, &file, &text, d, rules));
        }
    }
    reports.sort_by(|a, b| (&a.path, a.line, a.column, a.code).cmp(&(&b.path, b.line, b.column, b.code)));
    reports.dedup();
    reports
}

/// The reports of one file, positioned for output.
fn file_reports(
    pa: &ProjectAnalysis,
    root: &Path,
    file: &Path,
    index: &crate::yaml::RepoIndex,
    rules: &HashMap<String, String>,
    committed: bool,
) -> Vec<Report> {
    // A file that cannot be read (not UTF-8, too large, not a regular file) still gets its
    // diagnostics, at the top: what `render` rejects, `check` reports.
    let text = pa.text(file).unwrap_or_default();
    file_diagnostics(pa, file, Some(index))
        .into_iter()
        .map(|d| if committed { exposed_by_commit(d) } else { d })
        .filter_map(|d| to_report(root, file, &text, d, rules))
        .collect()
}

/// A `*.sops.yaml` not yet encrypted is a warning while it only sits on disk; once git
/// tracks it, the secret is in the history: exposed, so an error.
fn exposed_by_commit(mut d: Diag) -> Diag {
    if d.code == "plaintext-secret" && d.severity == Severity::Warning {
        d.severity = Severity::Error;
        d.message = d.message.replace(
            crate::yaml::NOT_YET_ENCRYPTED,
            "git tracks this file, so its values are in the history: rotate them, then encrypt the file with SOPS",
        );
    }
    d
}

/// One diagnostic of `file` (whose text is `text`) positioned for output; `None` when a
/// `--rule` turned it off.
fn to_report(root: &Path, file: &Path, text: &str, d: Diag, rules: &HashMap<String, String>) -> Option<Report> {
    let sev = apply_rule(&d, rules)?;
    let idx = LineIndex::new(text);
    let (l1, c1) = idx.line_col(text, d.range.start);
    let (l2, c2) = idx.line_col(text, d.range.end);
    Some(Report {
        path: file.strip_prefix(root).unwrap_or(file).to_string_lossy().into_owned(),
        line: l1 + 1,
        column: c1 + 1,
        end_line: l2 + 1,
        end_column: c2 + 1,
        severity: severity_name(sev),
        code: d.code,
        message: d.message,
        // The excerpt of a line that holds a credential (the usual line of a
        // plaintext-secret finding) shows it masked: CI logs are often public.
        source_line: crate::ide::secrets::mask_rendered_line(text.lines().nth(l1).unwrap_or_default()),
    })
}

/// `check`; `rules` are the `--rule` overrides, already validated ([`crate::rules::parse_overrides`]).
pub fn run(
    root: Option<&Path>,
    format: Format,
    fail_on: FailOn,
    rules: &HashMap<String, String>,
    plugins: &super::plugins::PluginArgs,
    schema_args: &super::schemas::SchemaArgs,
) -> i32 {
    let start = root.map(absolute).unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
    let project = match Project::discover(&absolute(&start), &DiskVfs) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_PROJECT;
        }
    };
    let Some(project) = super::plugins::with_plugins(project, plugins) else {
        return EXIT_PROJECT;
    };
    // A data file that exists but cannot be read or parsed: the project cannot be read.
    let broken_data = project.problems.iter().any(|p| p.code == "data-error");
    // `.homelab-lsp.toml` under the command line: its [rules], then --rule.
    let repo = crate::schema::RepoConfig::load(&project.config.root);
    for p in &repo.problems {
        eprintln!("warning: {p}");
    }
    let mut rules_all = repo.rules.clone();
    rules_all.extend(rules.iter().map(|(k, v)| (k.clone(), v.clone())));
    let schemas = match super::schemas::for_project(&project.config.root, &repo, schema_args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::cli::usage::EXIT_USAGE;
        }
    };
    let reports = check_project(project, &rules_all, schemas.clone());
    if let Some(s) = &schemas {
        report_unavailable_schemas(&s.store.unavailable());
    }
    print_reports(&reports, format);
    // The process ends next: freeing every compiled schema and tape piece by piece would
    // cost ~5% of a whole check.
    std::mem::forget(schemas);
    if broken_data {
        return EXIT_PROJECT;
    }
    let failing = reports.iter().filter(|r| r.severity == "error" || (fail_on == FailOn::Warning && r.severity == "warning")).count();
    if failing > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// Longest source line the human format prints whole.
const EXCERPT_CHARS: usize = 120;

/// The part of `line` around 1-based `column` that fits [`EXCERPT_CHARS`], with `…` where
/// it was cut (a minified or generated line can be megabytes long).
fn excerpt(line: &str, column: usize) -> String {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= EXCERPT_CHARS {
        return line.to_string();
    }
    let start = column.saturating_sub(1).saturating_sub(EXCERPT_CHARS / 3).min(chars.len() - EXCERPT_CHARS);
    let end = start + EXCERPT_CHARS;
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

fn print_reports(reports: &[Report], format: Format) {
    match format {
        Format::Human => {
            for r in reports {
                println!("{}:{}:{}: {}[{}] {}", r.path, r.line, r.column, r.severity, r.code, r.message);
                if !r.source_line.trim().is_empty() {
                    println!("    {}", excerpt(r.source_line.trim_end(), r.column));
                }
            }
            let errors = reports.iter().filter(|r| r.severity == "error").count();
            let warnings = reports.iter().filter(|r| r.severity == "warning").count();
            eprintln!("{errors} error{}, {warnings} warning{}", if errors == 1 { "" } else { "s" }, if warnings == 1 { "" } else { "s" });
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(reports).unwrap_or_else(|_| "[]".into())),
        Format::Github => {
            for r in reports {
                let level = match r.severity {
                    "error" => "error",
                    "warning" => "warning",
                    _ => "notice",
                };
                println!(
                    "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                    escape_property(&r.path),
                    r.line,
                    r.column,
                    r.end_line,
                    r.end_column,
                    escape_property(r.code),
                    escape_data(&r.message)
                );
            }
        }
        Format::Sarif => println!("{}", serde_json::to_string_pretty(&sarif(reports)).unwrap_or_default()),
    }
}

/// GitHub workflow command escaping for the message part.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// GitHub workflow command escaping for properties.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A SARIF 2.1.0 log for code scanning.
pub fn sarif(reports: &[Report]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = crate::rules::RULES
        .iter()
        .map(|r| serde_json::json!({ "id": r.code, "shortDescription": { "text": r.summary_plain() }, "fullDescription": { "text": format!("{} (default: {})", r.summary_plain(), r.default_label()) } }))
        .collect();
    let results: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "ruleId": r.code,
                "level": match r.severity { "error" => "error", "warning" => "warning", _ => "note" },
                "message": { "text": r.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": r.path },
                        "region": { "startLine": r.line, "startColumn": r.column, "endLine": r.end_line, "endColumn": r.end_column }
                    }
                }]
            })
        })
        .collect();
    serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": { "driver": { "name": "homelab-lsp", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results
        }]
    })
}

/// One warning per host, not per schema: without network a repo's dozens of CRD schemas on
/// one host would otherwise bury the findings.
fn report_unavailable_schemas(unavailable: &[(String, String)]) {
    let mut by_host: Vec<(&str, Vec<&(String, String)>)> = Vec::new();
    for entry in unavailable {
        let host = crate::schema::fetch::url_host(&entry.0);
        match by_host.iter_mut().find(|(h, _)| *h == host) {
            Some((_, list)) => list.push(entry),
            None => by_host.push((host, vec![entry])),
        }
    }
    for (host, list) in by_host {
        let (url, why) = list[0];
        if list.len() == 1 {
            eprintln!("warning: schema {url} not available, its documents were not validated: {why}");
        } else {
            eprintln!(
                "warning: {} schemas from {host} not available, their documents were not validated (first: {why}); \
                 --offline skips fetching, --schema-mirror or `homelab-lsp schemas pull` provide them",
                list.len()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn long_lines_are_cut_around_the_column() {
        assert_eq!(excerpt("short: line", 3), "short: line");
        let long = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let e = excerpt(&long, 501);
        assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
        assert!(e.contains('X'));
        assert_eq!(e.chars().count(), 122);
        assert!(excerpt(&long, 1).starts_with("aaa"));
        assert!(excerpt(&long, 1001).ends_with("bbb"));
    }
}
