//! Diagnostics for one file of a project: template syntax and render errors, undefined
//! variables, unknown filters and functions, missing includes, checks on the rendered YAML
//! mapped back to the template line, generated files edited by hand or drifted, and checks
//! on hand-written YAML. The CLI's `check` and the server share this.

use super::completion::did_you_mean;
use super::cursor::BindingScopes;
use super::symbols::block_pairs;
use super::{FileRole, ProjectAnalysis};
use crate::template::builtins::{FILTERS, FUNCTIONS, TESTS};
use crate::template::expr::{include_target, names_in_template, NameRole};
use crate::template::plugins::{self, is_emulated, PluginNameKind};
use crate::template::syntax::{lex, tag_keyword, LineIndex, TokenKind};
use crate::template::{RenderErrorKind, UndefinedMode};
use crate::workspace::{ProjectProblem, Severity as ProblemSeverity};
use crate::yaml::{self, CheckOptions, RepoIndex, Severity};
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedInfo {
    pub path: PathBuf,
    /// Byte range in that file; `None` means its first line.
    pub range: Option<Range<usize>>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixIt {
    pub title: String,
    pub edits: Vec<(PathBuf, Range<usize>, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub code: &'static str,
    pub severity: Severity,
    /// Byte range in the checked file's current text.
    pub range: Range<usize>,
    pub message: String,
    pub related: Vec<RelatedInfo>,
    pub fixes: Vec<FixIt>,
}

impl Diag {
    fn new(code: &'static str, severity: Severity, range: Range<usize>, message: impl Into<String>) -> Self {
        Self { code, severity, range, message: message.into(), related: Vec::new(), fixes: Vec::new() }
    }
}

/// Byte offset of a 0-based (line, char column).
pub fn offset_of(text: &str, line: u32, col: u32) -> usize {
    let idx = LineIndex::new(text);
    let Some(start) = idx.line_start(line as usize) else { return text.len() };
    let rest = &text[start..];
    let line_text = rest.split('\n').next().unwrap_or_default();
    start + line_text.char_indices().nth(col as usize).map_or(line_text.len(), |(i, _)| i)
}

/// The non-blank span of a line (for line-level diagnostics).
pub fn line_span(text: &str, line: u32) -> Range<usize> {
    let idx = LineIndex::new(text);
    let Some(start) = idx.line_start(line as usize) else { return text.len()..text.len() };
    let end = idx.line_start(line as usize + 1).map_or(text.len(), |e| e - 1);
    let l = &text[start..end];
    let lead = l.len() - l.trim_start().len();
    let trail = l.trim_end().len();
    if trail <= lead {
        start..end
    } else {
        start + lead..start + trail
    }
}

/// Diagnostics of one file. `index` is the repo-wide index (gateways, secrets, sources);
/// `None` while it is still being built (reference checks are then skipped).
pub fn file_diagnostics(pa: &ProjectAnalysis, path: &Path, index: Option<&RepoIndex>) -> Vec<Diag> {
    let Some(text) = pa.text(path) else {
        // A template of the inventory that cannot be read (not UTF-8, too large): makejinja
        // would fail on it, so say why at the top of the file.
        if let Some(Err(e)) = pa.project.sources.get(path) {
            return vec![Diag::new("render-error", Severity::Error, 0..0, format!("cannot read this template: {e}"))];
        }
        return Vec::new();
    };
    let empty = RepoIndex::default();
    let opts = CheckOptions { check_references: index.is_some(), yaml_syntax: true };
    let index = index.unwrap_or(&empty);
    let mut out = match pa.role(path) {
        FileRole::Template { name, entry } => {
            if entry.is_none() && is_dead_template(pa, path, &name) {
                // Excluded and included by nothing: makejinja never reads it.
                Vec::new()
            } else {
                template_diagnostics(pa, path, &text, &name, entry.is_some(), index, &opts)
            }
        }
        FileRole::Generated { entry } => generated_diagnostics(pa, path, &text, entry),
        FileRole::Data { .. } | FileRole::Config => Vec::new(),
        FileRole::Other => {
            let is_yaml = crate::yaml::is_yaml_path(path);
            if is_yaml {
                // One parse for both: it is most of what checking a file costs.
                let stream = yaml::tree::parse(&text);
                let schema = pa.schema_findings(&text, &stream, path, true);
                yaml::check_stream(&text, &stream, path, index, &opts)
                    .into_iter()
                    .chain(schema)
                    .map(|f| from_finding(path, f, true))
                    .collect()
            } else if opts.check_references {
                // A script or config file a kustomize generator turns into a ConfigMap.
                crate::flux::checks::check_generator_input(&text, path, &index.flux)
                    .into_iter()
                    .map(|f| from_finding(path, f, true))
                    .collect()
            } else {
                Vec::new()
            }
        }
    };
    out.extend(problem_diagnostics(&pa.project.problems, path, &text));
    out
}

/// Project problems (data errors, plugin names, path filters) that sit in `path`.
pub fn problem_diagnostics(problems: &[ProjectProblem], path: &Path, text: &str) -> Vec<Diag> {
    problems
        .iter()
        .filter(|p| p.file == path && p.is_shown())
        .map(|p| {
            let range = match p.line {
                Some(l) => {
                    let start = offset_of(text, l, p.col.unwrap_or(0));
                    if p.col.is_some() {
                        start..(start + 1).min(text.len()).max(start)
                    } else {
                        line_span(text, l)
                    }
                }
                None => line_span(text, 0),
            };
            let severity = match p.severity {
                ProblemSeverity::Error => Severity::Error,
                ProblemSeverity::Warning => Severity::Warning,
                ProblemSeverity::Info => Severity::Info,
            };
            Diag::new(p.code, severity, range, p.message.clone())
        })
        .collect()
}

fn from_finding(path: &Path, f: yaml::Finding, keep_fixes: bool) -> Diag {
    Diag {
        code: f.code,
        severity: f.severity,
        range: f.range.start..f.range.end,
        message: f.message,
        related: f
            .related
            .into_iter()
            .map(|r| RelatedInfo { path: r.file, range: r.range.map(|r| r.start..r.end), message: r.message })
            .collect(),
        fixes: if keep_fixes {
            f.fixes
                .into_iter()
                .map(|x| FixIt {
                    title: x.title,
                    edits: x.edits.into_iter().map(|e| (path.to_path_buf(), e.range.start..e.range.end, e.new_text)).collect(),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

fn known_filter(pa: &ProjectAnalysis, name: &str) -> bool {
    FILTERS.iter().any(|(n, ..)| *n == name)
        || ["__pyformat", "dictsort", "tojson", "indent", "string", "join", "replace", "pprint", "safe", "escape"].contains(&name)
        || (pa.project.plugin.flavor.is_some() && is_emulated(name))
        || pa.project.plugin.declarations.names.iter().any(|d| d.name == name && d.kind == PluginNameKind::Filter)
}

fn known_function(pa: &ProjectAnalysis, name: &str, bound: &[(String, Range<usize>)]) -> bool {
    FUNCTIONS.iter().any(|(n, ..)| *n == name)
        || ["__mutable_list", "super", "caller", "loop", "self", "varargs", "kwargs"].contains(&name)
        || (pa.project.plugin.flavor.is_some() && is_emulated(name))
        || pa.project.plugin.declarations.names.iter().any(|d| d.name == name && d.kind == PluginNameKind::Function)
        || bound.iter().any(|(n, _)| n == name)
        || !crate::ide::hover::lookup(pa.renderer().context(), &[name.to_string()]).is_undefined()
}

/// Is the use of `path` at `offset` guarded: `| default(...)`, `is defined`, or inside an
/// `if` whose condition mentions the same name?
fn guarded(text: &str, tag: &Range<usize>, use_end: usize, head: &str, offset: usize, ifs: &[(Range<usize>, String)]) -> bool {
    let after = text.get(use_end..tag.end).unwrap_or_default().trim_start();
    if after.starts_with("is defined")
        || after.starts_with("is not defined")
        || after.starts_with("is undefined")
        || after.starts_with("is none")
        || after.starts_with("is not none")
    {
        return true;
    }
    // `x | default(...)`, possibly after other filters: any default in the rest of the tag.
    if let Some(rest) = after.strip_prefix('|') {
        let rest = rest.trim_start();
        if rest.starts_with("default") || rest.starts_with("d(") || rest.starts_with("d ") {
            return true;
        }
    }
    if text.get(tag.clone()).is_some_and(|t| t.contains(&format!("{head} is defined")) || t.contains(&format!("{head} is not defined"))) {
        return true;
    }
    ifs.iter().any(|(range, cond)| range.start <= offset && offset < range.end && mentions(cond, head))
}

fn mentions(cond: &str, head: &str) -> bool {
    cond.match_indices(head).any(|(i, _)| {
        let before = cond[..i].chars().next_back();
        let after = cond[i + head.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[allow(clippy::too_many_arguments)]
fn template_diagnostics(
    pa: &ProjectAnalysis,
    path: &Path,
    text: &str,
    name: &str,
    rendered: bool,
    index: &RepoIndex,
    opts: &CheckOptions,
) -> Vec<Diag> {
    let syntax = pa.syntax();
    let mut out = Vec::new();
    let strict = pa.project.config.undefined == UndefinedMode::Strict;
    let tokens = lex(text, syntax);
    for t in tokens.iter().filter(|t| t.is_tag() && !t.closed) {
        out.push(Diag::new(
            "template-syntax",
            Severity::Error,
            t.span.start..(t.span.start + 2).min(text.len()),
            "unterminated tag: the end delimiter is missing",
        ));
    }
    // `if` blocks (opening tag .. closing tag) with their conditions, for guards.
    let ifs: Vec<(Range<usize>, String)> =
        block_pairs(text, syntax).into_iter().filter(|(kw, ..)| kw == "if").map(|(_, o, c, label)| (o.start..c.end, label)).collect();
    let mut static_undefined = Vec::new();
    let coverage = covered_lines(pa, name, rendered);
    let scopes = BindingScopes::new(text, syntax);
    let lines = LineIndex::new(text);
    for u in names_in_template(text, syntax) {
        let bound = scopes.visible_at(u.ranges[0].start);
        let head = &u.path[0];
        match u.role {
            NameRole::Filter if !known_filter(pa, head) => {
                out.push(Diag::new(
                    "unknown-filter",
                    Severity::Error,
                    u.ranges[0].clone(),
                    format!("unknown filter '{head}': not built in, not emulated and not declared by the plugin"),
                ));
            }
            NameRole::Test if !TESTS.iter().any(|(n, ..)| n == head) => {
                out.push(Diag::new("unknown-filter", Severity::Error, u.ranges[0].clone(), format!("unknown test '{head}'")));
            }
            NameRole::Function if !known_function(pa, head, &bound) => {
                out.push(Diag::new(
                    "unknown-function",
                    Severity::Error,
                    u.ranges[0].clone(),
                    format!("unknown function '{head}': not built in, not emulated and not declared by the plugin"),
                ));
            }
            // Without the real data every name looks undefined: the `data-missing` notice says why.
            NameRole::Variable if !pa.project.data_is_real() => {}
            NameRole::Variable => {
                let in_block = tokens.iter().any(|t| t.kind == TokenKind::Block && t.span == u.tag);
                // A condition is itself the test for "is it set" (outside strict mode), and
                // a use on a line that renders nothing with the current data is a branch
                // not taken: feature-flagged templates would drown in noise otherwise.
                if !strict && in_block {
                    continue;
                }
                if !strict && !coverage.as_ref().is_some_and(|c| c.contains(&(lines.line_of(u.ranges[0].start) as u32))) {
                    continue;
                }
                if bound.iter().any(|(n, _)| n == head)
                    || ["loop", "env", "self", "caller", "varargs", "kwargs", "namespace", "range", "dict"].contains(&head.as_str())
                {
                    continue;
                }
                // The longest defined prefix; report the first missing segment.
                let ctx = pa.renderer().context();
                let mut missing_at = None;
                let mut cur = ctx.clone();
                for (i, seg) in u.path.iter().enumerate() {
                    if cur.kind() != minijinja::value::ValueKind::Map {
                        break;
                    }
                    let next = cur.get_attr(seg).unwrap_or(minijinja::value::Value::UNDEFINED);
                    if next.is_undefined() {
                        missing_at = Some(i);
                        break;
                    }
                    cur = next;
                }
                let Some(i) = missing_at else { continue };
                let use_end = u.full_range().end;
                if guarded(text, &u.tag, use_end, head, u.ranges[0].start, &ifs) {
                    continue;
                }
                let dotted = u.path[..=i].join(".");
                let mut msg = format!("'{dotted}' is not defined in the data");
                if let Some(s) = did_you_mean(pa, &u.path[..=i]) {
                    msg.push_str(&format!("; did you mean '{s}'?"));
                }
                let sev = if strict { Severity::Error } else { Severity::Warning };
                let mut d = Diag::new("undefined-variable", sev, u.ranges[i].clone(), msg);
                if i == 0 {
                    if let Some(df) = pa.project.data_files.iter().find(|d| d.root.is_some()) {
                        let end = df.text.as_ref().map_or(0, |t| t.len());
                        let nl = if df.text.as_ref().is_some_and(|t| t.ends_with('\n') || t.is_empty()) { "" } else { "\n" };
                        d.fixes.push(FixIt {
                            title: format!(
                                "Add '{head}' to {}",
                                df.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
                            ),
                            edits: vec![(df.path.clone(), end..end, format!("{nl}{head}: \"\"\n"))],
                        });
                    }
                }
                static_undefined.push(u.ranges[i].start);
                out.push(d);
            }
            _ => {}
        }
    }
    for t in &tokens {
        if let Some((target, range)) = include_target(text, t) {
            let ignore_missing = text[t.inner.clone()].contains("ignore missing");
            if !ignore_missing && crate::template::render::validate_template_name(&target).is_err() {
                out.push(Diag::new(
                    "missing-include",
                    Severity::Error,
                    range,
                    format!("include path '{target}' escapes the template inputs"),
                ));
            } else if !ignore_missing && pa.project.template_path(&target).is_none() {
                let inputs = pa.project.config.input_labels.join(", ");
                out.push(Diag::new("missing-include", Severity::Error, range, format!("'{target}' is not found in any input ({inputs})")));
            }
        }
    }
    let has_static_errors = !out.is_empty();
    // Render: runtime errors and the checks on the rendered output.
    let result = pa.render_traced(name);
    match result {
        Err(e) => {
            let in_this = e.template == name;
            let (range, message) = if in_this {
                let start = e.range.as_ref().map(|r| r.start).unwrap_or_else(|| offset_of(text, e.line.unwrap_or(0), e.col.unwrap_or(0)));
                let end = e.range.as_ref().map(|r| r.end).unwrap_or(start).max(start + 1).min(text.len()).max(start);
                (start..end, e.message.clone())
            } else {
                let line = include_line_of(text, syntax, &e.template).unwrap_or(0);
                (line_span(text, line), format!("in included template '{}': {}", e.template, e.message))
            };
            let code = match e.kind {
                RenderErrorKind::Syntax => "template-syntax",
                RenderErrorKind::UndefinedVariable => "undefined-variable",
                RenderErrorKind::MissingInclude | RenderErrorKind::IncludeEscape => "missing-include",
                RenderErrorKind::UnknownFilter | RenderErrorKind::UnknownTest => "unknown-filter",
                RenderErrorKind::UnknownFunction => "unknown-function",
                RenderErrorKind::Runtime => "render-error",
            };
            // What follows from a missing data or key file is said once by `data-missing`.
            let cascade = matches!(e.kind, RenderErrorKind::UndefinedVariable | RenderErrorKind::Runtime)
                && (!pa.project.data_is_real() || pa.project.is_missing_key_file_error(&e.message));
            // Skip duplicates of what the static checks already reported.
            let duplicate = cascade
                || has_static_errors && code != "template-syntax" && code != "render-error"
                || out.iter().any(|d| d.code == code && d.range.start <= range.start && range.start <= d.range.end)
                || (code == "undefined-variable" && static_undefined.iter().any(|s| range.contains(s)));
            // Partials rendered on their own miss their parent's loop variables: only
            // syntax errors count there.
            if rendered {
                out.extend(literal_credentials(pa, path, text, &tokens, index));
            }
            if !duplicate && (rendered || code == "template-syntax") {
                let mut d = Diag::new(code, Severity::Error, range, message);
                if !in_this {
                    if let Some(p) = pa.project.template_path(&e.template) {
                        let prange = pa.text(&p).map(|t| line_span(&t, e.line.unwrap_or(0)));
                        d.related.push(RelatedInfo { path: p, range: prange, message: "the error is here".into() });
                    }
                }
                out.push(d);
            }
        }
        // A render from sample data (or none) says nothing about the repo's real output; its
        // literal credentials are still in every render.
        Ok(_) if rendered && !pa.project.data_is_real() => out.extend(literal_credentials(pa, path, text, &tokens, index)),
        Ok(r) if rendered => {
            let entry = pa.project.inventory.by_source(path);
            let output = entry.map(|e| e.output.clone()).unwrap_or_else(|| path.to_path_buf());
            let is_yaml = crate::yaml::is_yaml_path(&output);
            let blank = crate::workspace::project::is_python_blank(&r.text);
            if is_yaml && !blank {
                let map = r.line_map.unwrap_or_default();
                let out_idx = LineIndex::new(&r.text);
                let stream = yaml::tree::parse(&r.text);
                let schema = pa.schema_findings(&r.text, &stream, &output, false);
                for f in yaml::check_stream(&r.text, &stream, &output, index, opts).into_iter().chain(schema) {
                    // A `*.sops.*` template renders plaintext by design: the configure task
                    // encrypts the rendered file, which is checked itself (generated_diagnostics).
                    if f.code == "plaintext-secret" && yaml::is_sops_file_name(&output) {
                        continue;
                    }
                    let out_line = out_idx.line_of(f.range.start);
                    // A credential the template takes from a makejinja variable is a
                    // reference, like `${VAR}`; a known secret shape is reported anywhere.
                    if f.code == "inline-credential"
                        && !yaml::is_secret_shaped(r.text.get(f.range.start..f.range.end).unwrap_or_default())
                        && map.origin(out_line).is_some_and(|(n, l)| line_prints_variable(pa, n, l))
                    {
                        continue;
                    }
                    let (tline, via) = match map.origin(out_line) {
                        Some((n, l)) if n == name => (l, None),
                        Some((n, _)) => (include_line_of(text, syntax, n).unwrap_or(0), Some(n.to_string())),
                        None => (0, None),
                    };
                    let fixes = map_fixes_to_template(&f.fixes, &r.text, &out_idx, &map, name, text, path);
                    let f_range = f.range.start..f.range.end;
                    let mut d = from_finding(path, f, false);
                    d.fixes = fixes;
                    d.range = line_span(text, tline);
                    if f_code_is_schema(d.code) {
                        d.range = narrow_to(text, d.range, r.text.get(f_range.clone()).unwrap_or_default());
                    }
                    d.message = match via {
                        Some(p) => format!("{} (rendered output line {}, from '{p}')", d.message, out_line + 1),
                        None => format!("{} (rendered output line {})", d.message, out_line + 1),
                    };
                    // A finding quotes the rendered text (a resource path, a name), which may
                    // hold a secret the template printed: diagnostics are published and
                    // logged, so a secret value of the data never appears in one.
                    d.message = super::secrets::mask_values_in(&d.message, pa.secret_values());
                    out.push(d);
                }
            }
        }
        Ok(_) => {}
    }
    suppress_in_template(text, syntax, out)
}

fn f_code_is_schema(code: &str) -> bool {
    code == crate::schema::validate::CODE
}

/// `range` (a template line) narrowed to where `needle` (the flagged key or value as
/// rendered) is written on it, when it is written there literally.
fn narrow_to(text: &str, range: Range<usize>, needle: &str) -> Range<usize> {
    let needle = needle.lines().next().unwrap_or("").trim();
    if needle.is_empty() {
        return range;
    }
    match text.get(range.clone()).and_then(|line| line.find(needle)) {
        Some(i) => range.start + i..range.start + i + needle.len(),
        None => range,
    }
}

/// Whether line `line` (0-based) of template `name` holds a `#{ … }#` tag.
fn line_prints_variable(pa: &ProjectAnalysis, name: &str, line: u32) -> bool {
    let Some(text) = pa.project.template_path(name).and_then(|p| pa.text(&p)) else { return false };
    let idx = LineIndex::new(&text);
    let (Some(start), end) = (idx.line_start(line as usize), idx.line_start(line as usize + 1).unwrap_or(text.len())) else { return false };
    lex(&text, pa.syntax()).iter().any(|t| t.kind == TokenKind::Variable && t.span.start < end && t.span.end > start)
}

/// While a template does not render, its rendered checks cannot run; but a credential
/// written as a literal is in every render. Checks the template text with its tags blanked
/// out (offsets unchanged) for `inline-credential` only: the other rules depend on what the
/// tags print.
fn literal_credentials(
    pa: &ProjectAnalysis,
    path: &Path,
    text: &str,
    tokens: &[crate::template::syntax::Token],
    index: &RepoIndex,
) -> Vec<Diag> {
    let output = pa.project.inventory.by_source(path).map(|e| e.output.clone()).unwrap_or_else(|| path.to_path_buf());
    if !crate::yaml::is_yaml_path(&output) {
        return Vec::new();
    }
    let masked = super::template_as_yaml(text, tokens);
    let opts = CheckOptions { check_references: false, yaml_syntax: false };
    yaml::check(&masked, &output, index, &opts)
        .into_iter()
        .filter(|f| f.code == "inline-credential")
        .map(|f| {
            let mut d = from_finding(path, f, true);
            d.message.push_str(" (found in the template text while it does not render)");
            d
        })
        .collect()
}

/// The line of `text` that includes `partial`.
fn include_line_of(text: &str, syntax: &crate::template::TemplateSyntax, partial: &str) -> Option<u32> {
    let tokens = lex(text, syntax);
    let t = tokens.iter().find(|t| include_target(text, t).is_some_and(|(p, _)| p == partial))?;
    Some(LineIndex::new(text).line_of(t.span.start) as u32)
}

/// `#| homelab-lsp: ignore[code] #|` on the line or the line above drops a diagnostic.
fn suppress_in_template(text: &str, syntax: &crate::template::TemplateSyntax, diags: Vec<Diag>) -> Vec<Diag> {
    let idx = LineIndex::new(text);
    let mut rules: Vec<(usize, Option<Vec<String>>)> = Vec::new();
    for t in lex(text, syntax).iter().filter(|t| t.kind == TokenKind::Comment) {
        let body = text[t.inner.clone()].trim();
        if let Some(rest) = body.strip_prefix("homelab-lsp:") {
            let rest = rest.trim();
            if let Some(list) = rest.strip_prefix("ignore") {
                let codes = list
                    .trim()
                    .strip_prefix('[')
                    .and_then(|l| l.split(']').next())
                    .map(|l| l.split(',').map(|c| c.trim().to_string()).collect());
                rules.push((idx.line_of(t.span.start), codes));
            }
        }
    }
    let _ = tag_keyword;
    if rules.is_empty() {
        return diags;
    }
    diags
        .into_iter()
        .filter(|d| {
            let line = idx.line_of(d.range.start);
            !rules.iter().any(|(l, codes)| (*l == line || *l + 1 == line) && codes.as_ref().is_none_or(|c| c.iter().any(|c| c == d.code)))
        })
        .collect()
}

fn generated_diagnostics(pa: &ProjectAnalysis, path: &Path, text: &str, entry: &crate::workspace::InventoryEntry) -> Vec<Diag> {
    let mut out = Vec::new();
    let rel = entry.source.strip_prefix(&pa.project.config.root).unwrap_or(&entry.source).display().to_string();
    let on_disk = crate::workspace::vfs::read_text_file(path).ok();
    let edited = pa.docs.contains_key(path) && on_disk.as_deref() != Some(text);
    // The configure task encrypts a generated `*.sops.*` file; one left in plaintext leaks.
    if yaml::is_sops_file_name(path) {
        let opts = CheckOptions { check_references: false, yaml_syntax: false };
        out.extend(
            yaml::check(text, path, &RepoIndex::default(), &opts)
                .into_iter()
                .filter(|f| f.code == "plaintext-secret")
                .map(|f| from_finding(path, f, false)),
        );
    }
    // One render serves the drift check and both quick fixes. It is only what makejinja would
    // write with the real data and every plugin name emulated.
    let fresh = pa.renderer().render(&entry.name).ok().filter(|f| pa.project.data_is_real() && !plugins::has_placeholder(f));
    if edited {
        let mut d = Diag::new(
            "generated-file",
            Severity::Warning,
            line_span(text, 0),
            format!("generated from {rel} by makejinja; `task configure` will overwrite this — edit the template instead"),
        );
        d.related.push(RelatedInfo { path: entry.source.clone(), range: None, message: "the template".into() });
        d.fixes.extend(fresh.as_deref().and_then(|f| restore_fix(pa, entry, path, text, &rel, f)));
        out.push(d);
    }
    // Drift: the committed file differs from a fresh render of its template.
    if let (Some(disk), Some(fresh)) = (on_disk.as_deref(), fresh.as_deref()) {
        if !edited && disk != fresh {
            let first = disk
                .lines()
                .zip(fresh.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| disk.lines().count().min(fresh.lines().count()));
            let mut d = Diag::new(
                "drift",
                Severity::Warning,
                line_span(text, first as u32),
                format!(
                    "differs from a fresh render of {rel} (first difference on this line); run `task configure` or update the template"
                ),
            );
            d.related.push(RelatedInfo { path: entry.source.clone(), range: None, message: "the template".into() });
            d.fixes.extend(restore_fix(pa, entry, path, text, &rel, fresh));
            out.push(d);
        }
    }
    out
}

/// Replaces a generated file's whole text with a fresh render of its template: what
/// `task configure` would write, proposed as an edit. Not offered when the template uses
/// `encrypt`, whose bcrypt hashes only a real render produces.
fn restore_fix(
    pa: &ProjectAnalysis,
    entry: &crate::workspace::InventoryEntry,
    path: &Path,
    text: &str,
    rel: &str,
    fresh: &str,
) -> Option<FixIt> {
    if pa.text(&entry.source)?.contains("encrypt") {
        return None;
    }
    (fresh != text).then(|| FixIt {
        title: format!("Replace with a fresh render of {rel}"),
        edits: vec![(path.to_path_buf(), 0..text.len(), fresh.to_string())],
    })
}

/// Plain YAML files of the project (not templates, not generated outputs).
pub fn plain_yaml_files(pa: &ProjectAnalysis) -> Vec<PathBuf> {
    walk_project(pa, |p| is_plain_yaml_name(&pa.project, p))
}

/// `*.yaml.j2` files outside the template inputs (bootstrap manifests a task pipes through
/// makejinja into `kubectl apply`): what their literal text defines exists in the cluster.
fn stray_yaml_templates(pa: &ProjectAnalysis) -> Vec<PathBuf> {
    walk_project(pa, |p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        (name.ends_with(".yaml.j2") || name.ends_with(".yml.j2")) && !pa.project.config.inputs.iter().any(|i| p.starts_with(i))
    })
}

/// Files under the root, sorted, outside skipped directories, that `keep` accepts.
fn walk_project(pa: &ProjectAnalysis, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let root = &pa.project.config.root;
    walkdir::WalkDir::new(root)
        .max_depth(PLAIN_YAML_MAX_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !(e.file_type().is_dir() && is_skipped_dir(&e.file_name().to_string_lossy())))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| keep(p))
        .collect()
}

/// The files of the repository's hidden task directories (`.taskfiles/`, …), which the
/// project walk skips with every other hidden directory.
fn task_dir_files(pa: &ProjectAnalysis) -> Vec<PathBuf> {
    let root = &pa.project.config.root;
    yaml::command_secrets::TASK_DIRS
        .iter()
        .map(|d| root.join(d))
        .filter(|d| d.is_dir())
        .flat_map(|d| {
            walkdir::WalkDir::new(d)
                .max_depth(PLAIN_YAML_MAX_DEPTH)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| yaml::command_secrets::is_command_file(p))
        })
        .collect()
}

/// How deep below the root [`plain_yaml_files`] looks.
const PLAIN_YAML_MAX_DEPTH: usize = 16;

/// Directories the plain-YAML walk does not enter.
fn is_skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "node_modules" || name == "target"
}

/// A YAML file that is neither a template input, a generated output nor a data file.
fn is_plain_yaml_name(project: &crate::workspace::Project, p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "yaml" || x == "yml")
        && !project.config.inputs.iter().any(|i| p.starts_with(i))
        && project.inventory.by_output(p).is_none()
        && !project.data_files.iter().any(|d| d.path == p)
        && !project.config.data.iter().any(|d| p.starts_with(d))
}

/// Whether nothing the project reads can live at `path`: inside a directory the plain-YAML
/// walk skips (`.git`, `.github`, `node_modules`, …) and outside every template input,
/// data file, config and plugin module (inputs may hold hidden files: makejinja renders
/// them).
pub fn is_ignored(project: &crate::workspace::Project, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(&project.config.root) else { return false };
    let in_skipped_dir = rel.parent().is_some_and(|d| d.components().any(|c| is_skipped_dir(&c.as_os_str().to_string_lossy())));
    in_skipped_dir
        && !project.config.inputs.iter().any(|i| path.starts_with(i))
        && !project.data_files.iter().any(|d| d.path == path)
        && !project.config.data.iter().any(|d| path.starts_with(d))
        && project.config.config_file.as_deref() != Some(path)
        && project.plugin.file.as_deref() != Some(path)
        && !(path.extension().is_some_and(|e| e == "py") && project.config.import_paths.iter().any(|i| path.starts_with(i)))
}

/// Whether `path` is one of the hand-written YAML files [`plain_yaml_files`] lists (the
/// same walk rules, without walking): such a change needs no project reload.
pub fn is_plain_yaml(project: &crate::workspace::Project, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(&project.config.root) else { return false };
    let dirs: Vec<_> = rel.parent().map(|p| p.components().collect()).unwrap_or_default();
    dirs.len() < PLAIN_YAML_MAX_DEPTH
        && !dirs.iter().any(|c| is_skipped_dir(&c.as_os_str().to_string_lossy()))
        && is_plain_yaml_name(project, path)
}

/// Generated outputs that exist on disk.
pub fn generated_files(pa: &ProjectAnalysis) -> Vec<PathBuf> {
    pa.project.inventory.templates().map(|e| e.output.clone()).filter(|p| p.is_file()).collect()
}

/// What the whole repo defines: Gateways, Secrets and Flux sources, from hand-written YAML,
/// from the rendered output of every template, and from the generated files committed on
/// disk. Flux applies what is committed, so a generated file's definitions hold even when
/// its template cannot render (most forks gitignore their data file); a template that does
/// not render still defines what its literal text names.
pub fn repo_index(pa: &ProjectAnalysis) -> RepoIndex {
    let plain = plain_yaml_files(pa);
    let plain_facts = crate::parallel::map_in_order(&plain, |p| pa.text(p).map(|text| yaml::facts(&text, p)), || None);
    let renderer = pa.renderer();
    let templates: Vec<_> =
        pa.project.inventory.templates().filter(|e| e.output.extension().is_some_and(|x| x == "yaml" || x == "yml")).collect();
    let rendered_facts = crate::parallel::map_in_order(
        &templates,
        |e| {
            let mut facts = match renderer.render(&e.name) {
                Ok(text) => yaml::facts(&text, &e.output),
                Err(_) => pa
                    .text(&e.source)
                    .map(|text| yaml::facts(&super::template_as_yaml(&text, &lex(&text, pa.syntax())), &e.output))
                    .unwrap_or_default(),
            };
            if let Some(committed) = crate::workspace::vfs::read_text_file(&e.output).ok().map(|t| yaml::facts(&t, &e.output)) {
                facts.merge(committed);
            }
            Some(facts)
        },
        || None,
    );
    let stray = stray_yaml_templates(pa);
    let stray_facts = crate::parallel::map_in_order(
        &stray,
        |p| pa.text(p).map(|text| yaml::facts(&super::template_as_yaml(&text, &lex(&text, pa.syntax())), p)),
        || None,
    );
    let mut index = RepoIndex::default();
    for facts in plain_facts.into_iter().chain(rendered_facts).chain(stray_facts).flatten() {
        index.add(facts);
    }
    // The Flux model resolves paths against the root and needs to know which other files
    // exist (generator inputs, JSON, verbatim copies of the templates).
    index.flux.set_root(&pa.project.config.root);
    let mut others = walk_project(pa, |p| !is_plain_yaml_name(&pa.project, p));
    // Secrets made by `kubectl create secret` in scripts, task files and setup notes (a
    // Taskfile that is plain YAML already gave its own through `yaml::facts`).
    let command_files: Vec<PathBuf> =
        others.iter().filter(|p| yaml::command_secrets::is_command_file(p)).cloned().chain(task_dir_files(pa)).collect();
    let command_facts = crate::parallel::map_in_order(
        &command_files,
        |p| crate::workspace::vfs::read_text_file(p).ok().map(|text| yaml::command_facts(&text, p)),
        || None,
    );
    for facts in command_facts.into_iter().flatten() {
        index.add(facts);
    }
    others.extend(pa.project.inventory.entries.iter().map(|e| e.output.clone()));
    index.flux.add_other_paths(others);
    index.flux.generated.extend(pa.project.inventory.entries.iter().map(|e| e.output.clone()));
    index
}

/// `committed-secret` over the files git tracks (`tracked`, from the workspace layer): key
/// and token files, and the project's data files. Per file, like [`file_diagnostics`].
pub fn committed_secret_diagnostics(pa: &ProjectAnalysis, tracked: &[PathBuf]) -> Vec<(PathBuf, Diag)> {
    let mut out = Vec::new();
    for file in tracked {
        let data_file = pa.project.data_files.iter().any(|d| &d.path == file);
        let Ok(text) = crate::workspace::vfs::read_text_file(file) else { continue };
        for f in yaml::committed_secrets(file, &text, data_file) {
            out.push((file.clone(), from_finding(file, f, false)));
        }
    }
    out
}

/// Excluded from rendering and included by no template: makejinja never reads it.
fn is_dead_template(pa: &ProjectAnalysis, path: &Path, name: &str) -> bool {
    let excluded = pa
        .project
        .inventory
        .skipped
        .iter()
        .any(|s| s.source == path && matches!(s.reason, crate::workspace::inventory::SkipReason::Excluded { .. }));
    excluded && includers(pa, name).is_empty()
}

/// Inventory templates that include `name`.
fn includers(pa: &ProjectAnalysis, name: &str) -> Vec<String> {
    pa.includers(name).to_vec()
}

/// Lines of template `name` that produce output with the current data: from its own
/// traced render, or for a partial, from the templates that include it.
fn covered_lines(pa: &ProjectAnalysis, name: &str, rendered: bool) -> Option<std::collections::HashSet<u32>> {
    let renders: Vec<String> = if rendered { vec![name.to_string()] } else { includers(pa, name) };
    let mut lines = std::collections::HashSet::new();
    let mut any = false;
    for r in renders {
        let Ok(out) = pa.render_traced(&r) else { continue };
        any = true;
        for (n, l) in out.line_map.unwrap_or_default().lines.into_iter().flatten() {
            if &*n == name {
                lines.insert(l);
            }
        }
    }
    any.then_some(lines)
}

/// Carries a fix computed on the rendered output over to the template, when every edit
/// sits on an output line that is a verbatim copy of the template line behind it (plain
/// YAML with no template parts): then the same edit at the same column is valid there.
fn map_fixes_to_template(
    fixes: &[yaml::Fix],
    rendered: &str,
    out_idx: &LineIndex,
    map: &crate::template::SourceLineMap,
    name: &str,
    text: &str,
    path: &Path,
) -> Vec<FixIt> {
    let tidx = LineIndex::new(text);
    let line_text = |t: &str, idx: &LineIndex, l: usize| -> Option<(usize, String)> {
        let start = idx.line_start(l)?;
        let end = idx.line_start(l + 1).map_or(t.len(), |e| e - 1);
        Some((start, t[start..end].to_string()))
    };
    let map_offset = |offset: usize| -> Option<usize> {
        let l = out_idx.line_of(offset);
        let (ostart, otext) = line_text(rendered, out_idx, l)?;
        let (n, tl) = map.origin(l)?;
        if n != name {
            return None;
        }
        let (tstart, ttext) = line_text(text, &tidx, tl as usize)?;
        // Valid when the output line matches the template line up to the edit's column
        // (a verbatim line, or an insertion inside the shared indentation).
        let col = offset - ostart;
        let common = otext.bytes().zip(ttext.bytes()).take_while(|(a, b)| a == b).count();
        (otext == ttext || col <= common).then_some(tstart + col)
    };
    fixes
        .iter()
        .filter_map(|f| {
            let edits: Option<Vec<(PathBuf, Range<usize>, String)>> = f
                .edits
                .iter()
                .map(|e| {
                    let start = map_offset(e.range.start)?;
                    let end = if e.range.end == e.range.start { start } else { map_offset(e.range.end)? };
                    Some((path.to_path_buf(), start..end, e.new_text.clone()))
                })
                .collect();
            edits.map(|edits| FixIt { title: f.title.clone(), edits })
        })
        .collect()
}
