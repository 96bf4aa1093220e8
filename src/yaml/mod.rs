//! YAML with exact positions and the checks on it.
//!
//! Pure functions of text: no I/O, never panics. [`facts`] extracts what a file defines
//! (Gateways, Secrets, Flux sources) so the caller can build a [`RepoIndex`]; [`check`]
//! returns [`Finding`]s with byte ranges into the same text, with fixes as edits on it.
//!
//! Rule codes are stable: `invalid-yaml`, `missing-parent-refs`, `unknown-gateway`,
//! `tailscale-ingress-class`, `plaintext-secret`, `inline-credential`,
//! `unknown-secret-ref`, `unknown-source-ref`. A comment `# homelab-lsp: ignore[code]`
//! (or `ignore[a, b]`, or a bare `ignore`) on the finding's line, or alone on the line
//! above, suppresses it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub mod command_secrets;
mod committed;
mod credentials;
pub(crate) mod edit;
mod facts;
pub mod lenient;
pub mod outline;
mod reference_syntax;
pub mod refs;
mod routes;
mod secret_creators;
mod secrets;
mod sources;
pub mod structure;
mod suppress;
pub mod tree;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use committed::committed_secrets;
pub use facts::{command_facts, facts};
pub use secrets::is_sops_file_name;
pub use secrets::NOT_YET_ENCRYPTED;
pub(crate) use suppress::filter as suppress_findings;

/// Whether a value has the shape of a known secret (private key block, age key, GitHub,
/// Slack or AWS token), whatever key holds it.
pub fn is_secret_shaped(value: &str) -> bool {
    credentials::secret_shape(value).is_some()
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
    Hint,
}

/// Byte offsets into the checked text, `start..end`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> Self {
        TextRange { start, end: end.max(start) }
    }

    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }
}

/// One problem found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable rule code, e.g. `unknown-gateway`.
    pub code: &'static str,
    pub severity: Severity,
    pub range: TextRange,
    pub message: String,
    pub related: Vec<Related>,
    pub fixes: Vec<Fix>,
}

/// A place elsewhere (usually another file) that explains a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub file: PathBuf,
    /// Byte range in that file, when known.
    pub range: Option<TextRange>,
    /// 0-based line in that file, when known.
    pub line: Option<u32>,
    pub message: String,
}

/// A fix: edits on the same text the finding came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<TextEdit>,
}

/// Replace `range` with `new_text` (an insertion when the range is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub new_text: String,
}

/// What one file defines, for repo-wide checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    pub gateways: Vec<GatewayDef>,
    pub secrets: Vec<NamedDef>,
    pub sources: Vec<SourceDef>,
    /// Some document of the file is SOPS-encrypted (a top-level `sops:` mapping and `ENC[` values).
    pub encrypted: bool,
    /// What the file says about Flux and kustomize.
    pub flux: crate::flux::FluxFacts,
}

impl FileFacts {
    /// Adds what `other` defines that `self` does not already (same name and namespace).
    pub fn merge(&mut self, other: FileFacts) {
        for g in other.gateways {
            if !self.gateways.iter().any(|h| h.name == g.name && h.namespace == g.namespace) {
                self.gateways.push(g);
            }
        }
        for s in other.secrets {
            if !self.secrets.iter().any(|t| t.name == s.name && t.namespace == s.namespace) {
                self.secrets.push(s);
            }
        }
        for s in other.sources {
            if !self.sources.iter().any(|t| t.kind == s.kind && t.name == s.name && t.namespace == s.namespace) {
                self.sources.push(s);
            }
        }
        self.encrypted |= other.encrypted;
        self.flux.merge(other.flux);
    }
}

/// A `kind: Gateway` (gateway.networking.k8s.io) with its listener names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayDef {
    pub name: String,
    pub namespace: Option<String>,
    pub section_names: Vec<String>,
    pub file: PathBuf,
    /// 0-based line of `metadata.name`'s value (the document start when absent).
    pub line: u32,
}

/// Something with a name (and maybe a namespace) defined in a file: Secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedDef {
    pub name: String,
    pub namespace: Option<String>,
    pub file: PathBuf,
    /// 0-based line of the name's value.
    pub line: u32,
}

/// A Flux source: `HelmRepository`, `OCIRepository`, `GitRepository` or `Bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDef {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub file: PathBuf,
    /// 0-based line of `metadata.name`'s value.
    pub line: u32,
}

/// Everything the repository defines, gathered from [`facts`] of every file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoIndex {
    pub gateways: Vec<GatewayDef>,
    pub secrets: Vec<NamedDef>,
    pub sources: Vec<SourceDef>,
    /// Flux facts of every file and the Flux model built from them.
    pub flux: crate::flux::FluxIndex,
    /// Positions in `secrets` and `sources` by name, built on first use: every checked file
    /// looks names up, and scanning the lists each time made `check` quadratic in repo size.
    by_name: NameLookup,
}

/// Name → positions in one of the index's lists.
type Positions = HashMap<String, Vec<usize>>;

/// [`Positions`] of [`RepoIndex::secrets`] and of [`RepoIndex::sources`].
#[derive(Debug, Clone, Default)]
struct NameLookup(std::sync::OnceLock<(Positions, Positions)>);

impl PartialEq for NameLookup {
    /// Derived data: two indexes with the same lists are equal whatever was looked up.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for NameLookup {}

impl RepoIndex {
    /// Adds what one file defines.
    pub fn add(&mut self, facts: FileFacts) {
        self.gateways.extend(facts.gateways);
        self.secrets.extend(facts.secrets);
        self.sources.extend(facts.sources);
        if !facts.flux.file.as_os_str().is_empty() {
            self.flux.insert(facts.flux);
        }
        self.by_name = NameLookup::default();
    }

    /// Forgets everything defined in `file` (before re-adding its new facts).
    pub fn remove_file(&mut self, file: &Path) {
        self.gateways.retain(|g| g.file != file);
        self.secrets.retain(|s| s.file != file);
        self.sources.retain(|s| s.file != file);
        self.flux.remove(file);
        self.by_name = NameLookup::default();
    }

    /// Replaces what `file` defines with `facts` (none when the file is gone); true when
    /// that changed what the repository defines, i.e. other files' reference checks may
    /// now read differently.
    pub fn replace_file(&mut self, file: &Path, facts: Option<FileFacts>) -> bool {
        let gone = facts.is_none();
        let facts = facts.unwrap_or_default();
        let flux_same = match self.flux.files.get(file) {
            Some(old) => !gone && old.same_definitions(&facts.flux, |s| self.flux.is_substitution_source(s)),
            None => gone,
        };
        let same = self.gateways.iter().filter(|g| g.file == file).eq(facts.gateways.iter())
            && self.secrets.iter().filter(|s| s.file == file).eq(facts.secrets.iter())
            && self.sources.iter().filter(|s| s.file == file).eq(facts.sources.iter())
            && flux_same;
        let uses_same = self.flux.files.get(file).is_some_and(|old| old.uses == facts.flux.uses);
        if !same || !uses_same {
            self.remove_file(file);
            self.add(facts);
        }
        !same
    }

    fn lookup(&self) -> &(Positions, Positions) {
        self.by_name.0.get_or_init(|| {
            let mut secrets = Positions::new();
            for (i, s) in self.secrets.iter().enumerate() {
                secrets.entry(s.name.clone()).or_default().push(i);
            }
            let mut sources = Positions::new();
            for (i, s) in self.sources.iter().enumerate() {
                sources.entry(s.name.clone()).or_default().push(i);
            }
            (secrets, sources)
        })
    }

    /// Whether some Secret is called `name`, or made under a name pattern (`${APP}-app`)
    /// that fits it and that `keep` accepts; `skip` leaves out one file's definitions.
    pub fn has_secret_matching(&self, name: &str, skip: &Path, keep: impl Fn(&str) -> bool) -> bool {
        self.secrets_named(name).any(|s| s.file != skip) || self.secrets.iter().any(|s| s.file != skip && pattern_fits(s, name, &keep))
    }

    /// The Secrets named `name`.
    pub fn secrets_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a NamedDef> + 'a {
        self.lookup().0.get(name).into_iter().flatten().map(|&i| &self.secrets[i])
    }

    /// The Flux sources named `name`.
    pub fn sources_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a SourceDef> + 'a {
        self.lookup().1.get(name).into_iter().flatten().map(|&i| &self.sources[i])
    }
}

/// Which checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOptions {
    /// Report references to Gateways/Secrets/sources missing from the index.
    /// Pass `false` while the index is incomplete.
    pub check_references: bool,
    /// Report `invalid-yaml`.
    pub yaml_syntax: bool,
}

impl Default for CheckOptions {
    /// Everything on.
    fn default() -> Self {
        CheckOptions { check_references: true, yaml_syntax: true }
    }
}

/// Whether a path names a YAML file (`.yaml` or `.yml`).
pub fn is_yaml_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// Checks one YAML text. Findings are sorted by position; suppressed ones are removed.
///
/// Definitions in `text` itself count as known even when `index` does not hold them yet.
pub fn check(text: &str, file: &Path, index: &RepoIndex, opts: &CheckOptions) -> Vec<Finding> {
    check_stream(text, &tree::parse(text), file, index, opts)
}

/// [`check`] with the text already parsed (by [`tree::parse`]).
pub fn check_stream(text: &str, stream: &tree::Stream, file: &Path, index: &RepoIndex, opts: &CheckOptions) -> Vec<Finding> {
    if text.len() > tree::MAX_TREE_BYTES {
        // Said once, on the first line, so an unchecked file is never mistaken for a clean one.
        let first_line = text.find('\n').unwrap_or(text.len()).min(200);
        let end = (0..=first_line).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        return vec![Finding {
            code: "yaml-too-large",
            severity: Severity::Info,
            range: TextRange::new(0, end),
            message: format!(
                "not checked: {:.1} MB of YAML is over the {} MB that the YAML, reference and schema checks read",
                text.len() as f64 / (1024.0 * 1024.0),
                tree::MAX_TREE_BYTES >> 20
            ),
            related: Vec::new(),
            fixes: Vec::new(),
        }];
    }
    let local = facts::facts_from(stream, text, file);
    let known = Known::new(index, &local, file);
    let mut cx = Ctx { text, file, known: &known, opts, file_encrypted: local.encrypted, out: Vec::new() };

    if opts.yaml_syntax {
        for err in &stream.errors {
            cx.out.push(Finding {
                code: "invalid-yaml",
                severity: Severity::Error,
                range: error_range(text, err.offset),
                message: format!("invalid YAML: {}", err.message),
                related: Vec::new(),
                fixes: Vec::new(),
            });
        }
    }

    for doc in &stream.docs {
        let Some(info) = facts::DocInfo::new(doc) else { continue };
        routes::check(&mut cx, &info);
        secrets::check(&mut cx, &info);
        credentials::check(&mut cx, &info);
        sources::check(&mut cx, &info);
    }
    if opts.check_references {
        cx.out.extend(crate::flux::checks::check(stream, text, file, &index.flux, &local.flux));
    }

    let mut out = suppress::filter(text, cx.out);
    out.sort_by(|a, b| (a.range, a.code).cmp(&(b.range, b.code)));
    out.dedup_by(|a, b| a.range == b.range && a.code == b.code);
    out
}

/// Replaces the given byte ranges with spaces, keeping line breaks, so that byte offsets
/// (and lines/columns) stay identical: a multi-byte character becomes one space per byte.
/// Ranges are clamped to the text and widened to character boundaries.
pub fn mask_template(text: &str, spans: &[std::ops::Range<usize>]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for span in spans {
        let mut start = span.start.min(text.len());
        let mut end = span.end.min(text.len());
        if start >= end {
            continue;
        }
        while start > 0 && !text.is_char_boundary(start) {
            start -= 1;
        }
        while end < text.len() && !text.is_char_boundary(end) {
            end += 1;
        }
        for b in &mut bytes[start..end] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// One character at `offset` (zero-width at a line break or the end).
fn error_range(text: &str, offset: usize) -> TextRange {
    let mut start = offset.min(text.len());
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    match text[start..].chars().next() {
        Some(c) if c != '\n' && c != '\r' => TextRange::new(start, start + c.len_utf8()),
        _ => TextRange::new(start, start),
    }
}

/// Shared state of one `check` run.
pub(crate) struct Ctx<'a> {
    pub text: &'a str,
    pub file: &'a Path,
    pub known: &'a Known<'a>,
    pub opts: &'a CheckOptions,
    /// Some document of the file is SOPS-encrypted.
    pub file_encrypted: bool,
    pub out: Vec<Finding>,
}

impl Ctx<'_> {
    pub fn push(&mut self, code: &'static str, severity: Severity, range: TextRange, message: String, fixes: Vec<Fix>) {
        self.out.push(Finding { code, severity, range, message, related: Vec::new(), fixes });
    }
}

/// The index plus what the checked text defines itself (other files' entries for the same
/// path are replaced by the text's own). Gateways are few and listed whole; Secrets and
/// sources are many and looked up by name.
pub(crate) struct Known<'a> {
    pub gateways: Vec<&'a GatewayDef>,
    index: &'a RepoIndex,
    local: &'a FileFacts,
    file: &'a Path,
}

/// Whether `def` is a name pattern that `keep` accepts and `name` fits.
fn pattern_fits(def: &NamedDef, name: &str, keep: &impl Fn(&str) -> bool) -> bool {
    secret_creators::is_pattern(&def.name) && keep(&def.name) && secret_creators::name_matches(&def.name, name)
}

impl<'a> Known<'a> {
    fn new(index: &'a RepoIndex, local: &'a FileFacts, file: &'a Path) -> Self {
        Known { gateways: index.gateways.iter().filter(|g| g.file != file).chain(&local.gateways).collect(), index, local, file }
    }

    /// Whether some Secret is called `name`.
    pub fn has_secret(&self, name: &str) -> bool {
        self.has_secret_where(name, |_| true)
    }

    /// Whether some Secret is called `name` that exists before a Helm chart is installed:
    /// what Flux reads first (`valuesFrom`) cannot be one the chart itself creates.
    pub fn has_secret_before_install(&self, name: &str) -> bool {
        self.has_secret_where(name, |pattern| !secret_creators::is_chart_made(pattern))
    }

    /// Whether some Secret is called `name`, counting only name patterns `keep` accepts.
    fn has_secret_where(&self, name: &str, keep: impl Fn(&str) -> bool) -> bool {
        self.local.secrets.iter().any(|s| s.name == name || pattern_fits(s, name, &keep))
            || self.index.has_secret_matching(name, self.file, &keep)
    }

    /// The Flux sources called `name`.
    pub fn sources_named(&self, name: &'a str) -> impl Iterator<Item = &'a SourceDef> + '_ {
        let file = self.file;
        self.index.sources_named(name).filter(move |s| s.file != file).chain(self.local.sources.iter().filter(move |s| s.name == name))
    }

    /// Every Flux source (for listing the ones that exist).
    pub fn sources(&self) -> impl Iterator<Item = &'a SourceDef> + '_ {
        let file = self.file;
        self.index.sources.iter().filter(move |s| s.file != file).chain(&self.local.sources)
    }
}

/// Values that stand for something resolved elsewhere (Flux `${VAR}`, templates, SOPS
/// ciphertext, 1Password `op://`, …): the table is in [`reference_syntax`].
pub(crate) fn is_reference_value(value: &str) -> bool {
    reference_syntax::is_reference(value)
}

/// A Kubernetes object name that can be compared: non-empty, no whitespace, no reference.
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(char::is_whitespace) && !is_reference_value(name)
}
