//! `makejinja.toml`: discovery, parsing with makejinja's defaults, and the fallback layouts
//! for repos without the file.

use crate::template::{TemplateSyntax, UndefinedMode};
use std::fmt;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "makejinja.toml";

/// How the project was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// From a `makejinja.toml`.
    Configured,
    /// No `makejinja.toml`; `bootstrap/templates` + `config.yaml` (2024/2025 cluster-template).
    FallbackBootstrap,
    /// No `makejinja.toml`; `templates/config` + `templates/overrides` + `cluster.yaml`/`nodes.yaml`.
    FallbackTemplates,
    /// No templates at all: a Flux repo whose templates were rendered and tidied away
    /// (`kubernetes/` at a repository root). The YAML checks still apply to every file.
    PlainRepo,
}

/// One project's makejinja settings, with every path made absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    /// The directory makejinja runs from: where `makejinja.toml` is.
    pub root: PathBuf,
    pub config_file: Option<PathBuf>,
    pub layout: Layout,
    /// Input directories (or files), in precedence order, absolute.
    pub inputs: Vec<PathBuf>,
    /// The same inputs as makejinja's `Path` prints them (`./a/b` → `a/b`), for
    /// `exclude_patterns` matching.
    pub input_labels: Vec<String>,
    pub output: PathBuf,
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    /// `None` when the suffix is empty (every file is a template).
    pub jinja_suffix: Option<String>,
    pub keep_jinja_suffix: bool,
    pub keep_empty: bool,
    pub copy_metadata: bool,
    pub force: bool,
    pub data: Vec<PathBuf>,
    pub data_vars: Vec<(String, String)>,
    pub import_paths: Vec<PathBuf>,
    /// `loaders` and `plugins`, in makejinja's order (plugins first).
    pub plugins: Vec<String>,
    pub undefined: UndefinedMode,
    pub syntax: TemplateSyntax,
    pub newline_sequence: String,
    /// Why the templates are not rendered although a `makejinja.toml` exists (its options are
    /// passed on a command line homelab-lsp cannot resolve), and what to add.
    pub incomplete: Option<String>,
}

/// A `makejinja.toml` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub message: String,
    /// 0-based line and column, when known.
    pub line: Option<u32>,
    pub col: Option<u32>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{}", l + 1)?;
            if let Some(c) = self.col {
                write!(f, ":{}", c + 1)?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Finds the project that contains `start` (a file or directory): the nearest ancestor
/// with `makejinja.toml`, else the nearest with a fallback layout.
pub fn discover_root(start: &Path) -> Option<(PathBuf, Layout)> {
    let start = if start.is_file() { start.parent()? } else { start };
    for dir in start.ancestors() {
        if dir.join(CONFIG_FILE).is_file() {
            return Some((dir.to_path_buf(), Layout::Configured));
        }
    }
    // Template layouts anywhere above win over a plain repository nearer by.
    for dir in start.ancestors() {
        if let Some(layout) = template_layout(dir) {
            return Some((dir.to_path_buf(), layout));
        }
    }
    start.ancestors().find(|dir| is_plain_repo(dir)).map(|dir| (dir.to_path_buf(), Layout::PlainRepo))
}

/// Files and directories that mark a repository root: version control, SOPS, task runners
/// (Task, just, mise), template and update tooling.
const REPO_MARKERS: &[&str] = &[
    ".git",
    ".sops.yaml",
    "Taskfile.yaml",
    "Taskfile.yml",
    "justfile",
    ".justfile",
    "Justfile",
    ".mise.toml",
    "mise.toml",
    ".minijinja.toml",
    ".renovaterc.json5",
    "renovate.json",
    ".github",
];

/// A repository root holding Kubernetes manifests but no templates: `kubernetes/` beside
/// one of [`REPO_MARKERS`] (so a stray `kubernetes/` folder in a home directory is not taken
/// for a repository), or a Flux tree (`kubernetes/flux`).
fn is_plain_repo(dir: &Path) -> bool {
    dir.join("kubernetes").is_dir() && (REPO_MARKERS.iter().any(|m| dir.join(m).exists()) || dir.join("kubernetes/flux").is_dir())
}

/// The data file itself or, in a fresh clone, its sample (`config.sample.yaml`).
fn data_or_sample(dir: &Path, name: &str) -> bool {
    dir.join(name).is_file() || super::fresh_clone::sample_for(&dir.join(name)).is_some()
}

/// The fallback layout of `dir` (without `makejinja.toml`), if it has one.
pub fn fallback_layout(dir: &Path) -> Option<Layout> {
    template_layout(dir).or_else(|| is_plain_repo(dir).then_some(Layout::PlainRepo))
}

/// One of the two template layouts makejinja users had before `makejinja.toml`.
fn template_layout(dir: &Path) -> Option<Layout> {
    if dir.join("bootstrap/templates").is_dir() && data_or_sample(dir, "config.yaml") {
        return Some(Layout::FallbackBootstrap);
    }
    if dir.join("templates/config").is_dir() && (data_or_sample(dir, "cluster.yaml") || data_or_sample(dir, "nodes.yaml")) {
        return Some(Layout::FallbackTemplates);
    }
    None
}

/// Loads the project rooted at `root` (a directory found by [`discover_root`]).
pub fn load_config(root: &Path, layout: Layout, read: &dyn Fn(&Path) -> std::io::Result<String>) -> Result<ProjectConfig, ConfigError> {
    match layout {
        Layout::Configured => {
            let file = root.join(CONFIG_FILE);
            let text =
                read(&file).map_err(|e| ConfigError { file: file.clone(), message: format!("cannot read: {e}"), line: None, col: None })?;
            match parse_config(root, &file, &text) {
                Err(e) if lacks_paths(&e) => with_command_line_options(root, &file, &text, e, read),
                other => other,
            }
        }
        Layout::FallbackBootstrap => Ok(fallback_config(
            root,
            layout,
            &["./bootstrap/overrides", "./bootstrap/templates"],
            &["./config.yaml"],
            "./bootstrap/scripts",
        )),
        Layout::FallbackTemplates => {
            let data: Vec<&str> = ["./cluster.yaml", "./nodes.yaml"].into_iter().filter(|d| data_or_sample(root, d)).collect();
            Ok(fallback_config(root, layout, &["./templates/overrides", "./templates/config"], &data, "./templates/scripts"))
        }
        Layout::PlainRepo => Ok(fallback_config(root, layout, &[], &[], "./templates/scripts")),
    }
}

/// The errors of a `makejinja.toml` whose `inputs`/`output` may come from the command line.
fn lacks_paths(e: &ConfigError) -> bool {
    e.message.starts_with("`inputs` is missing") || e.message.starts_with("`output` is missing")
}

/// makejinja keys that hold lists (a flag given several times adds to the list).
const LIST_KEYS: &[&str] = &["inputs", "data", "import_paths", "loaders", "plugins", "exclude_patterns", "include_patterns"];

/// A `makejinja.toml` without `inputs`/`output`, completed from the first `makejinja`
/// command line of the repo's Taskfile or justfile that gives them. When every such command
/// takes them from a value known only at run time, the repo is checked as a plain repo
/// (its YAML) and `incomplete` says what to add. Without any command line, the error stands.
fn with_command_line_options(
    root: &Path,
    file: &Path,
    text: &str,
    error: ConfigError,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<ProjectConfig, ConfigError> {
    let found = super::invocations::find(root, &|p| read(p).ok());
    if found.is_empty() {
        return Err(error);
    }
    let Ok(mut table) = toml::from_str::<toml::Table>(text) else { return Err(error) };
    for inv in &found {
        if inv.values("inputs").is_empty() {
            continue;
        }
        let mut mj = table.get("makejinja").and_then(|t| t.as_table()).cloned().unwrap_or_default();
        for key in LIST_KEYS {
            let values = inv.values(key);
            if !values.is_empty() {
                mj.insert(key.to_string(), toml::Value::Array(values.into_iter().map(|v| toml::Value::String(v.into())).collect()));
            }
        }
        for (key, value) in &inv.options {
            match *key {
                k if LIST_KEYS.contains(&k) => {}
                "data_vars" => {
                    if let Some((k, v)) = value.split_once('=') {
                        let vars = mj.entry("data_vars").or_insert_with(|| toml::Value::Table(toml::Table::new()));
                        if let Some(t) = vars.as_table_mut() {
                            t.insert(k.to_string(), toml::Value::String(v.to_string()));
                        }
                    }
                }
                "keep_empty" | "keep_jinja_suffix" | "copy_metadata" | "force" => {
                    mj.insert(key.to_string(), toml::Value::Boolean(true));
                }
                _ => {
                    mj.insert(key.to_string(), toml::Value::String(value.clone()));
                }
            }
        }
        table.insert("makejinja".into(), toml::Value::Table(mj));
        let merged = toml::to_string(&table).unwrap_or_default();
        if let Ok(cfg) = parse_config(root, file, &merged) {
            return Ok(cfg);
        }
    }
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let inv = &found[0];
    let why = if inv.unresolved.is_empty() {
        "gives no `--input`".to_string()
    } else {
        format!("takes {} from a value known only when the task runs", inv.unresolved.join(", "))
    };
    let mut cfg = fallback_config(root, Layout::PlainRepo, &[], &[], "./templates/scripts");
    cfg.config_file = Some(file.to_path_buf());
    cfg.incomplete = Some(format!(
        "this file sets no `inputs`/`output`, and `{}` ({} line {}) {why}: templates are not rendered or checked (the repo's YAML is). \
         To check them, add `inputs = [\"<template directory>\"]` and `output = \"<output directory>\"` under [makejinja]",
        inv.command,
        rel(&inv.file),
        inv.line + 1
    ));
    Ok(cfg)
}

fn fallback_config(root: &Path, layout: Layout, inputs: &[&str], data: &[&str], import_path: &str) -> ProjectConfig {
    let inputs: Vec<&str> = inputs.iter().copied().filter(|i| root.join(i).exists()).collect();
    ProjectConfig {
        root: root.to_path_buf(),
        config_file: None,
        layout,
        inputs: inputs.iter().map(|i| join_clean(root, i)).collect(),
        input_labels: inputs.iter().map(|i| python_path_str(i)).collect(),
        output: root.to_path_buf(),
        include_patterns: vec!["**/*".into()],
        exclude_patterns: vec!["*.partial.yaml.j2".into(), ".mjfilter.py".into()],
        jinja_suffix: Some(".j2".into()),
        keep_jinja_suffix: false,
        keep_empty: false,
        copy_metadata: false,
        force: true,
        data: data.iter().map(|d| join_clean(root, d)).collect(),
        data_vars: Vec::new(),
        import_paths: vec![join_clean(root, import_path)],
        plugins: vec!["plugin:Plugin".into()],
        undefined: UndefinedMode::Chainable,
        syntax: TemplateSyntax::hash_style(),
        newline_sequence: "\n".into(),
        incomplete: None,
    }
}

/// `Path(s)` as Python prints it: `./a/b/` → `a/b`, `.` stays `.`.
pub fn python_path_str(s: &str) -> String {
    let absolute = s.starts_with('/');
    let parts: Vec<&str> = s.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `root / rel`, without `.` components.
pub fn join_clean(root: &Path, rel: &str) -> PathBuf {
    let mut out = if rel.starts_with('/') { PathBuf::from("/") } else { root.to_path_buf() };
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            p => out.push(p),
        }
    }
    out
}

/// Parses a `makejinja.toml` text. `root` is the directory relative paths resolve against.
pub fn parse_config(root: &Path, file: &Path, text: &str) -> Result<ProjectConfig, ConfigError> {
    let err = |message: String, span: Option<std::ops::Range<usize>>| {
        let (line, col) = match span {
            Some(s) => {
                let before = &text[..s.start.min(text.len())];
                let line = before.matches('\n').count() as u32;
                let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32;
                (Some(line), Some(col))
            }
            None => (None, None),
        };
        ConfigError { file: file.to_path_buf(), message, line, col }
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| err(format!("invalid TOML: {}", e.message()), e.span()))?;
    // Find a key's position for messages about its value.
    let key_span = |key: &str| -> Option<std::ops::Range<usize>> {
        let needle = format!("\n{key}");
        let idx = text.find(&needle).map(|i| i + 1).or_else(|| text.starts_with(key).then_some(0))?;
        Some(idx..idx + key.len())
    };
    let Some(mj) = table.get("makejinja") else {
        return Err(err("no [makejinja] table: this file does not configure makejinja".into(), None));
    };
    let Some(mj) = mj.as_table() else {
        return Err(err("`makejinja` must be a table".into(), key_span("makejinja")));
    };

    let str_list = |key: &str, default: &[&str]| -> Result<Vec<String>, ConfigError> {
        match mj.get(key) {
            None => Ok(default.iter().map(|s| s.to_string()).collect()),
            Some(toml::Value::String(s)) => Ok(vec![s.clone()]),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| err(format!("`{key}` must be a list of strings"), key_span(key))))
                .collect(),
            Some(_) => Err(err(format!("`{key}` must be a list of strings"), key_span(key))),
        }
    };
    let boolean = |tbl: &toml::Table, key: &str, default: bool| -> Result<bool, ConfigError> {
        match tbl.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(err(format!("`{key}` must be true or false"), key_span(key))),
        }
    };
    let string = |tbl: &toml::Table, key: &str| -> Result<Option<String>, ConfigError> {
        match tbl.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(err(format!("`{key}` must be a string"), key_span(key))),
        }
    };
    let subtable = |key: &str| -> Result<toml::Table, ConfigError> {
        match mj.get(key) {
            None => Ok(toml::Table::new()),
            Some(toml::Value::Table(t)) => Ok(t.clone()),
            Some(_) => Err(err(format!("`{key}` must be a table ([makejinja.{key}])"), key_span(key))),
        }
    };

    let inputs = str_list("inputs", &[])?;
    if inputs.is_empty() {
        return Err(err("`inputs` is missing or empty: makejinja needs at least one input directory".into(), key_span("inputs")));
    }
    let output = string(mj, "output")?.ok_or_else(|| err("`output` is missing: makejinja needs an output directory".into(), None))?;
    let data = str_list("data", &[])?;
    let import_paths = str_list("import_paths", &["."])?;
    let mut plugins = str_list("plugins", &[])?;
    plugins.extend(str_list("loaders", &[])?);
    let undefined = match string(mj, "undefined")? {
        None => UndefinedMode::Default,
        Some(u) => UndefinedMode::parse(&u).ok_or_else(|| {
            err(format!("`undefined` must be one of default, chainable, debug, strict (got '{u}')"), key_span("undefined"))
        })?,
    };
    let jinja_suffix = match string(mj, "jinja_suffix")? {
        None => Some(".jinja".to_string()),
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s),
    };
    let data_vars = match mj.get("data_vars") {
        None => Vec::new(),
        Some(toml::Value::Table(t)) => {
            t.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect()
        }
        Some(_) => return Err(err("`data_vars` must be a table of strings".into(), key_span("data_vars"))),
    };

    let delim = subtable("delimiter")?;
    let ws = subtable("whitespace")?;
    let prefix = subtable("prefix")?;
    let defaults = TemplateSyntax::default();
    let pick = |tbl: &toml::Table, key: &str, default: &str| -> Result<String, ConfigError> {
        Ok(string(tbl, key)?.unwrap_or_else(|| default.to_string()))
    };
    // Whitespace keys are read from [makejinja.whitespace], and also accepted at the top
    // level, where people often put them.
    let ws_bool = |key: &str, default: bool| -> Result<bool, ConfigError> {
        if ws.contains_key(key) {
            boolean(&ws, key, default)
        } else {
            boolean(mj, key, default)
        }
    };
    let syntax = TemplateSyntax {
        block_start: pick(&delim, "block_start", &defaults.block_start)?,
        block_end: pick(&delim, "block_end", &defaults.block_end)?,
        variable_start: pick(&delim, "variable_start", &defaults.variable_start)?,
        variable_end: pick(&delim, "variable_end", &defaults.variable_end)?,
        comment_start: pick(&delim, "comment_start", &defaults.comment_start)?,
        comment_end: pick(&delim, "comment_end", &defaults.comment_end)?,
        line_statement_prefix: string(&prefix, "line_statement")?.or(string(mj, "line_statement_prefix")?),
        line_comment_prefix: string(&prefix, "line_comment")?.or(string(mj, "line_comment_prefix")?),
        trim_blocks: ws_bool("trim_blocks", true)?,
        lstrip_blocks: ws_bool("lstrip_blocks", true)?,
        keep_trailing_newline: ws_bool("keep_trailing_newline", true)?,
    };
    for (name, value) in [
        ("block_start", &syntax.block_start),
        ("variable_start", &syntax.variable_start),
        ("comment_start", &syntax.comment_start),
        ("block_end", &syntax.block_end),
        ("variable_end", &syntax.variable_end),
        ("comment_end", &syntax.comment_end),
    ] {
        if value.is_empty() {
            return Err(err(format!("delimiter `{name}` must not be empty"), key_span(name)));
        }
    }
    if syntax.block_start == syntax.variable_start
        || syntax.block_start == syntax.comment_start
        || syntax.variable_start == syntax.comment_start
    {
        return Err(err("block, variable and comment start delimiters must differ".into(), key_span("block_start")));
    }
    let newline_sequence = match string(&ws, "newline_sequence")?.or(string(mj, "newline_sequence")?) {
        None => "\n".to_string(),
        Some(s) if ["\n", "\r\n", "\r"].contains(&s.as_str()) => s,
        Some(s) => {
            return Err(err(format!("`newline_sequence` must be \"\\n\", \"\\r\\n\" or \"\\r\" (got {s:?})"), key_span("newline_sequence")))
        }
    };

    Ok(ProjectConfig {
        root: root.to_path_buf(),
        config_file: Some(file.to_path_buf()),
        layout: Layout::Configured,
        input_labels: inputs.iter().map(|i| python_path_str(i)).collect(),
        inputs: inputs.iter().map(|i| join_clean(root, i)).collect(),
        output: join_clean(root, &output),
        include_patterns: str_list("include_patterns", &["**/*"])?,
        exclude_patterns: str_list("exclude_patterns", &[])?,
        jinja_suffix,
        keep_jinja_suffix: boolean(mj, "keep_jinja_suffix", false)?,
        keep_empty: boolean(mj, "keep_empty", false)?,
        copy_metadata: boolean(mj, "copy_metadata", false)?,
        force: boolean(mj, "force", false)?,
        data: data.iter().map(|d| join_clean(root, d)).collect(),
        data_vars,
        import_paths: import_paths.iter().map(|p| join_clean(root, p)).collect(),
        plugins,
        undefined,
        syntax,
        newline_sequence,
        incomplete: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORPUS_TOML: &str = r##"[makejinja]
inputs = ["./bootstrap/overrides","./bootstrap/templates"]
output = "./"
exclude_patterns = [".mjfilter.py", "*.partial.yaml.j2"]
data = ["./config.yaml"]
import_paths = ["./bootstrap/scripts"]
loaders = ["plugin:Plugin"]
jinja_suffix = ".j2"
force = true
undefined = "chainable"

[makejinja.delimiter]
block_start = "#%"
block_end = "%#"
comment_start = "#|"
comment_end = "#|"
variable_start = "#{"
variable_end = "}#"
"##;

    #[test]
    fn parses_the_cluster_template_config() {
        let root = Path::new("/repo");
        let cfg = parse_config(root, &root.join(CONFIG_FILE), CORPUS_TOML).unwrap();
        assert_eq!(cfg.inputs, vec![PathBuf::from("/repo/bootstrap/overrides"), PathBuf::from("/repo/bootstrap/templates")]);
        assert_eq!(cfg.input_labels, vec!["bootstrap/overrides", "bootstrap/templates"]);
        assert_eq!(cfg.output, PathBuf::from("/repo"));
        assert_eq!(cfg.syntax, TemplateSyntax::hash_style());
        assert_eq!(cfg.undefined, UndefinedMode::Chainable);
        assert_eq!(cfg.jinja_suffix.as_deref(), Some(".j2"));
        assert_eq!(cfg.plugins, vec!["plugin:Plugin"]);
        assert!(cfg.force && !cfg.keep_empty);
    }

    #[test]
    fn makejinja_defaults_apply() {
        let cfg = parse_config(Path::new("/r"), Path::new("/r/makejinja.toml"), "[makejinja]\ninputs=['t']\noutput='out'\n").unwrap();
        assert_eq!(cfg.jinja_suffix.as_deref(), Some(".jinja"));
        assert_eq!(cfg.undefined, UndefinedMode::Default);
        assert_eq!(cfg.syntax, TemplateSyntax::default());
        assert!(cfg.syntax.trim_blocks && cfg.syntax.lstrip_blocks && cfg.syntax.keep_trailing_newline);
        assert_eq!(cfg.import_paths, vec![PathBuf::from("/r")]);
    }

    #[test]
    fn whitespace_table_is_honoured() {
        let cfg = parse_config(
            Path::new("/r"),
            Path::new("/r/m.toml"),
            "[makejinja]\ninputs=['t']\noutput='o'\n[makejinja.whitespace]\ntrim_blocks = false\n",
        )
        .unwrap();
        assert!(!cfg.syntax.trim_blocks);
        assert!(cfg.syntax.lstrip_blocks);
    }

    #[test]
    fn errors_have_positions() {
        let e = parse_config(Path::new("/r"), Path::new("/r/m.toml"), "[makejinja]\ninputs = [\n").unwrap_err();
        assert!(e.message.starts_with("invalid TOML"), "{e}");
        assert!(e.line.is_some());
        let e = parse_config(Path::new("/r"), Path::new("/r/m.toml"), "[makejinja]\ninputs=['t']\noutput='o'\nundefined = 'loud'\n")
            .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("undefined"));
        let e = parse_config(Path::new("/r"), Path::new("/r/m.toml"), "[tool]\n").unwrap_err();
        assert!(e.message.contains("[makejinja]"));
    }

    #[test]
    fn discovery_prefers_templates_then_a_plain_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let deep = root.join("repo/kubernetes/apps/echo");
        std::fs::create_dir_all(&deep).unwrap();
        // A `kubernetes/` folder alone is not a repository.
        assert_eq!(discover_root(&deep), None);
        std::fs::write(root.join("repo/.sops.yaml"), "creation_rules: []\n").unwrap();
        assert_eq!(discover_root(&deep), Some((root.join("repo"), Layout::PlainRepo)));
        let cfg = load_config(&root.join("repo"), Layout::PlainRepo, &|p| std::fs::read_to_string(p)).unwrap();
        assert!(cfg.inputs.is_empty() && cfg.data.is_empty());
        // A template layout above wins over the plain repository below it.
        std::fs::create_dir_all(root.join("bootstrap/templates")).unwrap();
        std::fs::write(root.join("config.yaml"), "a: 1\n").unwrap();
        assert_eq!(discover_root(&deep), Some((root.clone(), Layout::FallbackBootstrap)));
        // And a makejinja.toml anywhere above wins over both.
        std::fs::write(root.join("repo/makejinja.toml"), "[makejinja]\n").unwrap();
        assert_eq!(discover_root(&deep), Some((root.join("repo"), Layout::Configured)));
    }

    #[test]
    fn python_path_strings() {
        assert_eq!(python_path_str("./a/b/"), "a/b");
        assert_eq!(python_path_str("./"), ".");
        assert_eq!(python_path_str("/abs//x"), "/abs/x");
    }
}
