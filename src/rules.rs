//! The rule table: every diagnostic code the server and `check` can report, its default
//! severity and what it means. `homelab-lsp rules`, `check --help`, `--rule` validation,
//! SARIF rule metadata, the README's list and the VS Code settings schema all come from (or
//! are tested against) this one table.

use crate::yaml::Severity;
use std::collections::HashMap;

/// One diagnostic rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    /// The severity it is reported with unless overridden.
    pub default: Severity,
    /// When the default depends on the case, how (empty otherwise).
    pub default_note: &'static str,
    /// One line, Markdown (backticks for names).
    pub summary: &'static str,
}

const fn rule(code: &'static str, default: Severity, default_note: &'static str, summary: &'static str) -> Rule {
    Rule { code, default, default_note, summary }
}

use Severity::{Error, Info, Warning};

/// Every rule, in the order users read them: templates, rendered YAML, generated files, the
/// project's configuration.
pub const RULES: &[Rule] = &[
    rule(
        "template-syntax",
        Error,
        "",
        "A template that does not parse with the configured delimiters (unclosed `#{`, `#%`, `#|`, mismatched blocks).",
    ),
    rule(
        "undefined-variable",
        Warning,
        "error under undefined = \"strict\"",
        "A variable that is not defined by the data files, the plugin or the template itself.",
    ),
    rule("unknown-filter", Error, "", "A filter after `|` (or a test after `is`) that neither Jinja nor the repository's plugin provides."),
    rule("unknown-function", Error, "", "A called function that neither Jinja nor the repository's plugin provides."),
    rule("missing-include", Error, "", "An `include` whose target is found in none of the makejinja inputs."),
    rule("render-error", Error, "", "The template fails to render with the current data."),
    rule("invalid-yaml", Error, "", "The rendered output (or a plain YAML file) is not valid YAML."),
    rule(
        "yaml-too-large",
        Info,
        "",
        "A YAML text over 4 MB (a vendored bundle, say): it is not read into a tree, so none of the YAML, reference or schema checks look at it.",
    ),
    rule(
        "schema-violation",
        Error,
        "warning for a key the schema does not list: the API server drops unknown fields",
        "A value the document's JSON schema rejects (type, enum, pattern, required key), from its `$schema` modeline, a `[[schemas]]` glob or its `apiVersion`/`kind`; templates are checked on their rendered output.",
    ),
    rule(
        "schema-mismatch",
        Warning,
        "",
        "A `$schema` modeline naming the CRD schema of another kind (copied from a neighbour file); the document is checked against its own kind's schema.",
    ),
    rule("schema-error", Info, "", "A document's schema that cannot be used (not JSON, a broken `$ref`): the document is not validated."),
    rule("missing-parent-refs", Error, "", "An HTTPRoute without `parentRefs` (it never routes)."),
    rule("unknown-gateway", Error, "", "A `parentRefs` entry naming a Gateway that is not defined in the repository."),
    rule("tailscale-ingress-class", Warning, "", "An Ingress meant for Tailscale that does not use the `tailscale` ingress class."),
    rule(
        "plaintext-secret",
        Error,
        "warning for a *.sops.yaml file not yet encrypted that git does not track",
        "A Kubernetes Secret with plaintext data in a file that is not SOPS-encrypted.",
    ),
    rule("inline-credential", Warning, "", "A password, token or key written inline in a manifest instead of coming from a Secret."),
    rule(
        "committed-secret",
        Error,
        "warning for a credential-named key in a tracked data file",
        "A private key or token in a file git tracks (`*.key`, `id_*`, `*token*.txt`, the data file); `check` in a git checkout only.",
    ),
    rule("unknown-secret-ref", Warning, "", "A reference to a Secret that is not defined in the repository."),
    rule(
        "unknown-source-ref",
        Error,
        "",
        "A Flux `sourceRef` naming a HelmRepository, GitRepository or OCIRepository that is not defined in the repository.",
    ),
    rule(
        "undefined-substitution",
        Error,
        "",
        "A Flux `${VAR}` without default that no variable of the Kustomization applying the file defines (strict substitution fails the build); only when every source is in the repository.",
    ),
    rule("missing-kustomize-resource", Error, "", "A `resources:` or `components:` entry of a `kustomization.yaml` that does not exist."),
    rule(
        "unlisted-manifest",
        Warning,
        "",
        "A manifest beside a `kustomization.yaml` that Flux builds but that no kustomization lists: it is never applied.",
    ),
    rule("missing-flux-path", Error, "", "A Flux Kustomization whose `spec.path` does not exist in the repository it is built from."),
    rule("unknown-depends-on", Warning, "", "A Flux Kustomization `dependsOn` entry naming a Kustomization the repository does not define."),
    rule("generated-file", Warning, "", "An edit to a file that is generated from a template (the next render overwrites it)."),
    rule("drift", Warning, "", "A generated file whose content differs from what its template renders to now."),
    rule("data-error", Error, "", "A data file named in `makejinja.toml` that is missing or is not valid YAML."),
    rule(
        "data-missing",
        Info,
        "",
        "The data files (or key files) a fresh clone lacks, named once on `makejinja.toml`; templates render with what there is.",
    ),
    rule(
        "config-incomplete",
        Info,
        "",
        "A `makejinja.toml` whose inputs are only given at run time (on the command line of a task); says which command and what to add.",
    ),
    rule("missing-input", Error, "", "An input directory named in `makejinja.toml` that does not exist (makejinja refuses to run)."),
    rule("config-error", Error, "", "A `makejinja.toml` that cannot be read (bad TOML, wrong types, unknown delimiters)."),
    rule(
        "plugin-error",
        Error,
        "",
        "The repository's Python plugin raised while run for real (`--plugins python`); shown on the data key or plugin line it names.",
    ),
    rule("plugin-worker", Info, "", "The Python worker that runs the repository's plugins could not run; the built-in emulation is used."),
    rule(
        "plugin-not-emulated",
        Info,
        "",
        "A filter or function of the repository's Python plugin that the server does not emulate; it renders as a visible placeholder.",
    ),
    rule(
        "plugin-not-found",
        Info,
        "",
        "A plugin named in `makejinja.toml` that is not in its `import_paths`; the built-in cluster-template emulation is used.",
    ),
    rule("path-filter", Warning, "", "A `.mjfilter.py` path filter the server cannot evaluate; the directory is rendered as if it passed."),
];

/// The levels `--rule CODE=LEVEL` and `homelabLsp.diagnostics.rules` accept.
pub const LEVELS: &[&str] = &["error", "warning", "info", "hint", "off"];

pub fn find(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
        Severity::Hint => "hint",
    }
}

impl Rule {
    /// `warning`, or `warning (error under …)`.
    pub fn default_label(&self) -> String {
        if self.default_note.is_empty() {
            severity_name(self.default).to_string()
        } else {
            format!("{} ({})", severity_name(self.default), self.default_note)
        }
    }

    /// The summary without Markdown backticks (for terminals).
    pub fn summary_plain(&self) -> String {
        self.summary.replace('`', "")
    }
}

/// The closest of `candidates` to `wanted`, when it is close enough to be a typo.
fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    // A prefix (`warn`, `unknown-sec`) counts as close as a one-letter typo.
    candidates
        .map(|c| (if c.starts_with(wanted) && !wanted.is_empty() { 1 } else { crate::ide::completion::edit_distance(c, wanted) }, c))
        .filter(|(d, c)| *d <= (c.len().max(wanted.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Parses `--rule CODE=LEVEL` arguments; the error names what was wrong and, for a typo,
/// what was meant.
pub fn parse_overrides(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for arg in args {
        let Some((code, level)) = arg.split_once('=') else {
            return Err(format!("--rule takes CODE=LEVEL (got '{arg}'); LEVEL is one of {}", LEVELS.join(", ")));
        };
        if find(code).is_none() {
            let hint = match closest(code, RULES.iter().map(|r| r.code)) {
                Some(c) => format!("did you mean '{c}'? "),
                None => String::new(),
            };
            return Err(format!("unknown rule '{code}' in --rule {arg}; {hint}`homelab-lsp rules` lists them all"));
        }
        if !LEVELS.contains(&level) {
            let hint = closest(level, LEVELS.iter().copied()).map(|l| format!("did you mean '{l}'? ")).unwrap_or_default();
            return Err(format!("unknown level '{level}' in --rule {arg}; {hint}LEVEL is one of {}", LEVELS.join(", ")));
        }
        out.insert(code.to_string(), level.to_string());
    }
    Ok(out)
}

/// `homelab-lsp rules`: one rule a line, aligned.
pub fn text_listing() -> String {
    let code_w = RULES.iter().map(|r| r.code.len()).max().unwrap_or(0);
    let sev_w = RULES.iter().map(|r| severity_name(r.default).len()).max().unwrap_or(0);
    let mut s = String::new();
    for r in RULES {
        let mut summary = r.summary_plain();
        if !r.default_note.is_empty() {
            summary.push_str(&format!(" ({})", r.default_note));
        }
        s.push_str(&format!("{:code_w$}  {:sev_w$}  {summary}\n", r.code, severity_name(r.default)));
    }
    s
}

/// The Markdown table README.md carries between its `rules` markers.
pub fn markdown_table() -> String {
    let mut s = String::from("| code | default | what it reports |\n| --- | --- | --- |\n");
    for r in RULES {
        // A `|` splits a table cell even inside backticks.
        let cell = |t: &str| t.replace('|', "\\|").replace('*', "\\*");
        s.push_str(&format!("| `{}` | {} | {} |\n", r.code, cell(&r.default_label()), cell(r.summary)));
    }
    s
}

/// `homelab-lsp rules --format json`.
pub fn json_listing() -> serde_json::Value {
    RULES
        .iter()
        .map(|r| serde_json::json!({ "code": r.code, "default": severity_name(r.default), "defaultNote": r.default_note, "summary": r.summary }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "{} twice", r.code);
            assert!(r.code.split('-').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase())), "{}", r.code);
            assert!(r.summary.ends_with('.') && !r.summary.contains('\n'), "{}", r.code);
        }
    }

    #[test]
    fn overrides_accept_known_codes_and_levels() {
        let m = parse_overrides(&args(&["drift=off", "plaintext-secret=error"])).unwrap();
        assert_eq!(m.get("drift").map(String::as_str), Some("off"));
        assert_eq!(m.get("plaintext-secret").map(String::as_str), Some("error"));
    }

    #[test]
    fn overrides_reject_typos_with_a_suggestion() {
        let e = parse_overrides(&args(&["drfit=off"])).unwrap_err();
        assert!(e.contains("unknown rule 'drfit'") && e.contains("did you mean 'drift'"), "{e}");
        let e = parse_overrides(&args(&["bogus=error"])).unwrap_err();
        assert!(e.contains("unknown rule 'bogus'") && !e.contains("did you mean"), "{e}");
        let e = parse_overrides(&args(&["drift=warn"])).unwrap_err();
        assert!(e.contains("did you mean 'warning'"), "{e}");
        let e = parse_overrides(&args(&["drift"])).unwrap_err();
        assert!(e.contains("CODE=LEVEL"), "{e}");
    }

    #[test]
    fn listings_have_every_rule() {
        let text = text_listing();
        let md = markdown_table();
        for r in RULES {
            assert!(text.lines().any(|l| l.starts_with(&format!("{} ", r.code))), "{}", r.code);
            assert!(md.contains(&format!("| `{}` |", r.code)), "{}", r.code);
        }
        assert_eq!(json_listing().as_array().map(Vec::len), Some(RULES.len()));
    }
}

/// The table against the places that list the rules by hand or emit them.
#[cfg(test)]
mod agreement {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

    fn read(rel: &str) -> String {
        std::fs::read_to_string(Path::new(MANIFEST).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn table_codes() -> BTreeSet<&'static str> {
        RULES.iter().map(|r| r.code).collect()
    }

    /// The string literal right after `at` (whitespace and newlines skipped), when it looks
    /// like a rule code.
    fn code_literal(rest: &str) -> Option<&str> {
        let rest = rest.trim_start().strip_prefix('"')?;
        let lit = &rest[..rest.find('"')?];
        let kebab = !lit.is_empty() && lit.split('-').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()));
        kebab.then_some(lit)
    }

    /// Where an inline `#[cfg(test)] mod … {` begins (they close the file), else the end.
    fn test_module_start(text: &str) -> usize {
        text.match_indices("#[cfg(test)]")
            .map(|(i, _)| i)
            .find(|&i| text[i..].lines().nth(1).is_some_and(|l| l.trim_start().starts_with("mod ") && l.trim_end().ends_with('{')))
            .unwrap_or(text.len())
    }

    /// `const NAME: &str = "kebab-code";` in `text`: (NAME, code).
    fn code_consts(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter_map(|l| {
                let rest = l.trim_start().trim_start_matches("pub ").strip_prefix("const ")?;
                let (name, value) = rest.split_once(": &str = ")?;
                Some((name.to_string(), code_literal(value)?.to_string()))
            })
            .collect()
    }

    /// Every code the sources emit: `code: "…"` fields (or `code: NAME` of a `const NAME:
    /// &str = "…"`), `Diag::new("…"`, `push("…"` of findings, and the render-error kind →
    /// code match. Test modules are skipped.
    fn emitted_codes() -> Vec<(String, String)> {
        let mut found = Vec::new();
        let sources: Vec<(String, String)> = walkdir::WalkDir::new(Path::new(MANIFEST).join("src"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
            .filter_map(|e| Some((e.path().strip_prefix(MANIFEST).ok()?.display().to_string(), std::fs::read_to_string(e.path()).ok()?)))
            .collect();
        let consts: HashMap<String, String> = sources.iter().flat_map(|(_, text)| code_consts(text)).collect();
        for (rel, text) in &sources {
            let code_part = &text[..test_module_start(text)];
            for (i, _) in code_part.match_indices("code: ") {
                let ident: String = code_part[i + 6..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                if let Some(code) = ident.rsplit("::").next().and_then(|name| consts.get(name)) {
                    found.push((code.clone(), rel.clone()));
                }
            }
        }
        for entry in walkdir::WalkDir::new(Path::new(MANIFEST).join("src")).into_iter().filter_map(Result::ok) {
            let path = entry.path();
            let test_file = ["rules.rs", "tests.rs", "testutil.rs"].iter().any(|f| path.ends_with(f));
            if path.extension().is_none_or(|e| e != "rs") || test_file {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            let code_part = &text[..test_module_start(&text)];
            let rel = path.strip_prefix(MANIFEST).unwrap().display().to_string();
            for needle in ["code: ", "Diag::new(", ".push("] {
                for (i, _) in code_part.match_indices(needle) {
                    if let Some(code) = code_literal(&code_part[i + needle.len()..]) {
                        found.push((code.to_string(), rel.clone()));
                    }
                }
            }
            for line in code_part.lines().filter(|l| l.contains("RenderErrorKind::")) {
                if let Some((_, rhs)) = line.split_once("=> ") {
                    if let Some(code) = code_literal(rhs) {
                        found.push((code.to_string(), rel.clone()));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn every_emitted_code_is_in_the_table() {
        let emitted = emitted_codes();
        assert!(emitted.len() >= RULES.len(), "the source scan found only {emitted:?}; has the emitting code changed shape?");
        let codes = table_codes();
        let mut seen = BTreeSet::new();
        let missing: Vec<String> = emitted
            .iter()
            .filter(|(c, _)| !codes.contains(c.as_str()) && seen.insert(c.clone()))
            .map(|(c, file)| format!("add `{c}` (emitted in {file}) to RULES in src/rules.rs, the VS Code settings in editors/vscode/package.json and RULE_CODES in editors/vscode/src/lib/settings.ts, the code lists in editors/helix/languages.toml editors/nvim/lsp/homelab_lsp.lua and editors/vscode/README.md, then paste `homelab-lsp rules --format markdown` into README.md"))
            .collect();
        assert!(missing.is_empty(), "{}", missing.join("\n"));
        let emitted: BTreeSet<&str> = emitted.iter().map(|(c, _)| c.as_str()).collect();
        let unused: Vec<_> = codes.difference(&emitted).collect();
        assert!(unused.is_empty(), "in RULES (src/rules.rs) but emitted nowhere: {unused:?}; remove them");
    }

    #[test]
    fn readme_lists_the_table() {
        let readme = read("README.md");
        let (start, end) = ("<!-- rules:start -->\n", "<!-- rules:end -->");
        let block = readme
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(b, _)| b)
            .expect("README.md has no <!-- rules:start --> … <!-- rules:end --> block");
        assert_eq!(block, markdown_table(), "README.md's rule table is stale: replace it with `homelab-lsp rules --format markdown`");
    }

    #[test]
    fn vscode_settings_list_the_table() {
        let pkg: serde_json::Value = serde_json::from_str(&read("editors/vscode/package.json")).unwrap();
        let rules = &pkg["contributes"]["configuration"]["properties"]["homelabLsp.diagnostics.rules"]["properties"];
        let props = rules.as_object().expect("homelabLsp.diagnostics.rules has properties");
        let listed: BTreeSet<&str> = props.keys().map(String::as_str).collect();
        let codes = table_codes();
        let missing: Vec<_> = codes.difference(&listed).collect();
        let extra: Vec<_> = listed.difference(&codes).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "editors/vscode/package.json homelabLsp.diagnostics.rules: add {missing:?}, remove {extra:?}"
        );
        for r in RULES {
            let p = &props[r.code];
            assert_eq!(p["markdownDescription"], r.summary, "package.json description of {} differs from src/rules.rs", r.code);
            let levels: Vec<&str> = p["enum"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
            // VS Code shows no `hint` in the Problems panel; its settings offer the rest.
            let vscode_levels: Vec<&str> = LEVELS.iter().copied().filter(|l| *l != "hint").collect();
            assert_eq!(levels, vscode_levels, "package.json levels of {}", r.code);
        }
    }

    #[test]
    fn editor_code_lists_match_the_table() {
        for rel in ["editors/helix/languages.toml", "editors/nvim/lsp/homelab_lsp.lua", "editors/vscode/README.md"] {
            let text = read(rel);
            let at = text.find("Codes:").unwrap_or_else(|| panic!("{rel} has no 'Codes:' list")) + "Codes:".len();
            let list = &text[at..at + text[at..].find('.').unwrap()];
            let codes = table_codes();
            // Code-shaped words: kebab-case with a hyphen, or a one-word code of the table.
            let listed: BTreeSet<&str> = list
                .split(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                .filter(|w| code_literal(&format!("\"{w}\"")).is_some() && (w.contains('-') || codes.contains(w)))
                .collect();
            let missing: Vec<_> = codes.difference(&listed).collect();
            let extra: Vec<_> = listed.difference(&codes).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{rel}'s 'Codes:' list: add {missing:?}, remove {extra:?}");
        }
    }
}
