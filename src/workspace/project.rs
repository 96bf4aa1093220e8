//! One makejinja project, loaded: configuration, data with positions, plugin emulation,
//! the template inventory and every template's text. A `Project` is an immutable snapshot;
//! the server builds a new one (cheaply) when files change.

use super::config::{self, ConfigError, Layout, ProjectConfig};
use super::data::{self, DataEntry, DataError, DataNode, DataValue, SourceLoc};
use super::fresh_clone::{self, MissingData};
use super::inventory::{build_inventory, EntryKind, Inventory, InventoryEntry};
use super::vfs::Vfs;
use crate::template::live::LivePlugin;
use crate::template::plugins::{self, PluginDeclarations, PluginFlavor, PluginInputs};
use crate::template::{RenderError, RenderSettings, Rendered, Renderer, TemplateLoader};
use minijinja::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Something wrong with the project itself (not with one template's render).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectProblem {
    pub severity: Severity,
    /// Stable rule code (`data-error`, `plugin-not-emulated`, ...).
    pub code: &'static str,
    pub file: PathBuf,
    /// 0-based line and column, when known.
    pub line: Option<u32>,
    pub col: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for ProjectProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

/// One file of the `data` list.
#[derive(Debug, Clone)]
pub struct DataFile {
    pub path: PathBuf,
    pub text: Option<Arc<str>>,
    /// The parsed root mapping, when the file parsed.
    pub root: Option<DataNode>,
    pub error: Option<DataError>,
    /// When this is the repo's sample data loaded in place of a missing data file: that file.
    pub sample_for: Option<PathBuf>,
}

/// The plugin as far as the emulation understands it.
#[derive(Debug, Clone, Default)]
pub struct PluginSetup {
    /// The plugin's Python file, when found in `import_paths`.
    pub file: Option<PathBuf>,
    pub declarations: PluginDeclarations,
    pub flavor: Option<PluginFlavor>,
    pub inputs: Arc<PluginInputs>,
}

/// Template text as loaded: the text or why it could not be read.
pub type SourceText = Result<Arc<str>, String>;

#[derive(Debug, Clone)]
pub struct Project {
    pub config: ProjectConfig,
    pub data_files: Vec<DataFile>,
    /// All data files merged (shallowly, later over earlier), before plugin defaults.
    pub data: DataNode,
    pub plugin: PluginSetup,
    /// Values the plugin's `data()` adds when absent (name, value).
    pub plugin_defaults: Vec<(String, Value)>,
    pub inventory: Inventory,
    /// Text of every `*.j2` (and excluded) file under the inputs, by absolute path.
    pub sources: Arc<HashMap<PathBuf, SourceText>>,
    pub problems: Vec<ProjectProblem>,
    /// The plugin run for real (see `crate::bridge`); replaces the emulation when set.
    pub live: Option<Arc<LivePlugin>>,
    /// Data files the configuration lists that do not exist (a fresh clone of a fork).
    pub missing_data: Vec<MissingData>,
    /// Key files the plugin reads for these templates that do not exist (`age.key`, …).
    pub missing_key_files: Vec<String>,
}

/// Code of the one notice about what a fresh clone lacks.
pub const DATA_MISSING: &str = "data-missing";
/// Code of the notice on a `makejinja.toml` whose inputs are only given at run time.
pub const CONFIG_INCOMPLETE: &str = "config-incomplete";
/// The `info` problems editors and `check` show (the others are only logged).
const SHOWN_INFO: &[&str] = &[DATA_MISSING, CONFIG_INCOMPLETE, PLUGIN_NOT_EMULATED, "plugin-worker"];
/// Code of the notice on a plugin name the emulation does not implement.
pub const PLUGIN_NOT_EMULATED: &str = "plugin-not-emulated";

impl ProjectProblem {
    /// Whether editors and `check` show it.
    pub fn is_shown(&self) -> bool {
        self.severity != Severity::Info || SHOWN_INFO.contains(&self.code)
    }
}

/// What rendering one inventory entry produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderOutcome {
    /// The file makejinja writes.
    Text(String),
    /// Whitespace only: makejinja writes no file.
    Empty,
    /// Copied verbatim (not a template).
    Copy,
    Failed(RenderError),
}

impl Project {
    /// This project with every source re-read through `vfs` (the same files, their texts as
    /// they are now). While `makejinja.toml` does not load, the last good project answers;
    /// its templates must still be the texts on disk and in the editor, or findings computed
    /// from their old texts land anywhere in the new ones.
    pub fn with_current_sources(&self, vfs: &dyn Vfs) -> Project {
        let sources = self.sources.keys().map(|path| (path.clone(), read_source(vfs, path))).collect();
        Project { sources: Arc::new(sources), ..self.clone() }
    }

    /// Finds and loads the project containing `start`.
    pub fn discover(start: &Path, vfs: &dyn Vfs) -> Result<Project, ConfigError> {
        let Some((root, layout)) = config::discover_root(start) else {
            return Err(ConfigError {
                file: start.to_path_buf(),
                message: "no makejinja.toml found here or in any parent directory, no bootstrap/templates + config.yaml or templates/config + cluster.yaml layout, and no repository with a kubernetes/ directory".into(),
                line: None,
                col: None,
            });
        };
        Self::load(&root, layout, vfs)
    }

    /// Loads the project rooted at `root`.
    pub fn load(root: &Path, layout: Layout, vfs: &dyn Vfs) -> Result<Project, ConfigError> {
        let read = |p: &Path| vfs.read_text(p);
        let config = config::load_config(root, layout, &read)?;
        Ok(Self::from_config(config, vfs))
    }

    /// Loads everything else once the configuration is known.
    pub fn from_config(config: ProjectConfig, vfs: &dyn Vfs) -> Project {
        let mut problems = Vec::new();
        let read = |p: &Path| vfs.read_text(p);
        for (i, input) in config.inputs.iter().enumerate() {
            if !input.exists() {
                problems.push(ProjectProblem {
                    severity: Severity::Error,
                    code: "missing-input",
                    file: config.config_file.clone().unwrap_or_else(|| config.root.clone()),
                    line: None,
                    col: None,
                    message: format!("input '{}' does not exist", config.input_labels[i]),
                });
            }
        }
        if let (Some(message), Some(file)) = (&config.incomplete, &config.config_file) {
            problems.push(ProjectProblem {
                severity: Severity::Info,
                code: CONFIG_INCOMPLETE,
                file: file.clone(),
                line: None,
                col: None,
                message: message.clone(),
            });
        }
        let (data_files, data, missing_data) = load_data(&config, vfs, &mut problems);
        let plugin = load_plugin(&config, vfs, &mut problems);
        let inventory = build_inventory(&config, &data, &read);
        for p in &inventory.filter_problems {
            problems.push(ProjectProblem {
                severity: Severity::Warning,
                code: "path-filter",
                file: p.filter.clone(),
                line: Some(p.line),
                col: None,
                message: format!("cannot evaluate this path filter ({}); the directory is rendered", p.reason),
            });
        }
        let mut sources = HashMap::new();
        for (_, name, path) in &inventory.all_files {
            let is_template = match &config.jinja_suffix {
                Some(s) => name.ends_with(s.as_str()),
                None => true,
            };
            if is_template || inventory.by_source(path).is_none() {
                let text = read_source(vfs, path);
                sources.insert(path.clone(), text);
            }
        }
        let missing_key_files = missing_key_files(&plugin, &sources, vfs);
        let mut project = Project {
            config,
            data_files,
            data,
            plugin,
            plugin_defaults: Vec::new(),
            inventory,
            sources: Arc::new(sources),
            problems,
            live: None,
            missing_data,
            missing_key_files,
        };
        project.plugin_defaults = project.compute_plugin_defaults();
        project.problems.extend(project.fresh_clone_notice(vfs));
        project
    }

    /// Whether renders use the repo's real data: false while a data file is missing (then
    /// they use its sample, or nothing), so what depends on the data is not reported.
    pub fn data_is_real(&self) -> bool {
        self.missing_data.is_empty()
    }

    /// The sample data files loaded in place of missing ones (for labels in hovers and previews).
    pub fn sample_data_files(&self) -> impl Iterator<Item = &DataFile> {
        self.data_files.iter().filter(|d| d.sample_for.is_some())
    }

    /// Whether a render error only says that a missing key file could not be read.
    pub fn is_missing_key_file_error(&self, message: &str) -> bool {
        self.missing_key_files.iter().any(|f| message.contains(&format!("cannot read {f}:")))
    }

    /// The one `data-missing` notice, on the configuration (its `data` line), when a fresh
    /// clone lacks files.
    fn fresh_clone_notice(&self, vfs: &dyn Vfs) -> Option<ProjectProblem> {
        let read = |p: &Path| vfs.read_text(p).ok();
        let message = fresh_clone::notice(&self.config.root, &self.missing_data, &self.missing_key_files, &read)?;
        let file = self.config.config_file.clone().or_else(|| {
            ["Taskfile.yaml", "Taskfile.yml", "justfile", ".justfile"].iter().map(|f| self.config.root.join(f)).find(|f| f.is_file())
        })?;
        let line = read(&file).and_then(|t| t.lines().position(|l| l.trim_start().starts_with("data")).map(|l| l as u32));
        Some(ProjectProblem { severity: Severity::Info, code: DATA_MISSING, file, line, col: None, message })
    }

    fn compute_plugin_defaults(&self) -> Vec<(String, Value)> {
        let is_cluster = self.plugin.flavor == Some(PluginFlavor::Cluster);
        let has_data = self.plugin.file.is_none() || self.plugin.declarations.has_data_method;
        if !(is_cluster && has_data) {
            return Vec::new();
        }
        let map: BTreeMap<String, Value> =
            self.data.entries().iter().filter_map(|e| e.key.as_str().map(|k| (k.to_string(), to_value(&e.value)))).collect();
        plugins::cluster_data_defaults(&map)
    }

    /// This snapshot with the plugin's real results in place of the emulation: its data,
    /// its names, its path filters. The emulation's warnings about the plugin go.
    pub fn with_live_plugin(mut self, live: Arc<LivePlugin>) -> Project {
        self.problems.retain(|p| !matches!(p.code, PLUGIN_NOT_EMULATED | "plugin-not-found" | "path-filter"));
        self.inventory.drop_filtered(&self.config.inputs, &live.excluded);
        self.plugin_defaults.clear();
        self.declare_live_names(&live);
        self.live = Some(live);
        self
    }

    /// The names the running plugin registered join the declared ones (the text scan can
    /// miss some), each at its `def` line in the plugin file when there is one.
    fn declare_live_names(&mut self, live: &LivePlugin) {
        let text = self.plugin.file.as_deref().and_then(|f| std::fs::read_to_string(f).ok()).unwrap_or_default();
        for (name, kind) in &live.names {
            if self.plugin.declarations.names.iter().any(|d| &d.name == name && d.kind == *kind) {
                continue;
            }
            let def = format!("def {name}(");
            let line = text.lines().position(|l| l.trim_start().starts_with(&def)).unwrap_or(0) as u32;
            self.plugin.declarations.names.push(plugins::DeclaredName { name: name.clone(), kind: *kind, line });
        }
    }

    /// The variables templates see: data, `data_vars`, plugin defaults and `env`.
    pub fn context(&self) -> Value {
        if let Some(live) = &self.live {
            let mut pairs: Vec<(Value, Value)> = live
                .data
                .try_iter()
                .map(|it| it.map(|k| (k.clone(), live.data.get_item(&k).unwrap_or_default())).collect())
                .unwrap_or_default();
            let env: BTreeMap<String, String> = std::env::vars().collect();
            set_pair(&mut pairs, Value::from("env"), Value::from(env));
            return Value::from_pairs(pairs);
        }
        let mut pairs: Vec<(Value, Value)> = self.data.entries().iter().map(|e| (to_value(&e.key), to_value(&e.value))).collect();
        for (dotted, value) in &self.config.data_vars {
            set_dotted(&mut pairs, dotted, Value::from(value.clone()));
        }
        for (k, v) in &self.plugin_defaults {
            set_pair(&mut pairs, Value::from(k.clone()), v.clone());
        }
        let env: BTreeMap<String, String> = std::env::vars().collect();
        set_pair(&mut pairs, Value::from("env"), Value::from(env));
        Value::from_pairs(pairs)
    }

    pub fn render_settings(&self) -> RenderSettings {
        RenderSettings {
            syntax: self.config.syntax.clone(),
            undefined: self.config.undefined,
            plugin_flavor: self.plugin.flavor,
            declared: self.plugin.declarations.clone(),
            plugin_inputs: self.plugin.inputs.clone(),
            live: self.live.clone(),
        }
    }

    /// A renderer over this snapshot. `overlay` replaces template texts (unsaved edits).
    pub fn renderer(&self, overlay: HashMap<PathBuf, Arc<str>>) -> Renderer {
        let loader = ProjectLoader { inputs: self.config.inputs.clone(), sources: self.sources.clone(), overlay };
        Renderer::new(&self.render_settings(), Arc::new(loader), self.context())
    }

    /// Renders one entry as makejinja would.
    pub fn render_entry(&self, renderer: &Renderer, entry: &InventoryEntry) -> RenderOutcome {
        if entry.kind == EntryKind::Copy {
            return RenderOutcome::Copy;
        }
        match renderer.render(&entry.name) {
            Ok(text) if !self.config.keep_empty && is_python_blank(&text) => RenderOutcome::Empty,
            Ok(text) => RenderOutcome::Text(text),
            Err(e) => RenderOutcome::Failed(e),
        }
    }

    /// Renders one entry with its line map (for previews and jump-to-source).
    pub fn render_entry_traced(&self, renderer: &Renderer, entry: &InventoryEntry) -> Result<Rendered, RenderError> {
        renderer.render_with_line_map(&entry.name)
    }

    /// The data file a loc points into.
    pub fn data_file(&self, loc: &SourceLoc) -> Option<&DataFile> {
        self.data_files.get(loc.file as usize)
    }

    /// Absolute path of a template name (first input that has it).
    pub fn template_path(&self, name: &str) -> Option<PathBuf> {
        self.config.inputs.iter().map(|i| i.join(name)).find(|p| self.sources.contains_key(p) || p.is_file())
    }

    /// The template name (input-relative) of an absolute path inside an input.
    pub fn template_name(&self, path: &Path) -> Option<String> {
        self.config.inputs.iter().find_map(|i| path.strip_prefix(i).ok()).map(|r| r.to_string_lossy().replace('\\', "/"))
    }
}

/// Python's `str.strip() == ""`.
pub fn is_python_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

fn set_pair(pairs: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match pairs.iter_mut().find(|(k, _)| *k == key) {
        Some(p) => p.1 = value,
        None => pairs.push((key, value)),
    }
}

/// makejinja's `data_vars`: `a.b.c = v` sets a nested key, creating dicts on the way.
fn set_dotted(pairs: &mut Vec<(Value, Value)>, dotted: &str, value: Value) {
    let parts: Vec<&str> = dotted.split('.').collect();
    if parts.len() == 1 {
        set_pair(pairs, Value::from(dotted), value);
        return;
    }
    // Rebuild the nested maps along the path.
    fn nested(existing: Option<&Value>, parts: &[&str], value: Value) -> Value {
        if parts.is_empty() {
            return value;
        }
        let mut entries: Vec<(Value, Value)> = match existing {
            Some(v) if v.kind() == minijinja::value::ValueKind::Map => {
                v.try_iter().map(|it| it.map(|k| (k.clone(), v.get_item(&k).unwrap_or_default())).collect()).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let key = Value::from(parts[0]);
        let current = entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
        let new = nested(current.as_ref(), &parts[1..], value);
        set_pair(&mut entries, key, new);
        Value::from_pairs(entries)
    }
    let key = Value::from(parts[0]);
    let current = pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
    let new = nested(current.as_ref(), &parts[1..], value);
    set_pair(pairs, key, new);
}

/// Converts loaded data to a template value.
pub fn to_value(node: &DataNode) -> Value {
    match &node.value {
        DataValue::Null => Value::from(()),
        DataValue::Bool(b) => Value::from(*b),
        DataValue::Int(i) => match i64::try_from(*i) {
            Ok(i) => Value::from(i),
            Err(_) => Value::from(*i),
        },
        DataValue::Float(f) => Value::from(*f),
        DataValue::Str(s) | DataValue::Timestamp(s) => Value::from(s.clone()),
        DataValue::List(items) => Value::from(items.iter().map(to_value).collect::<Vec<_>>()),
        DataValue::Map(entries) => Value::from_pairs(entries.iter().map(|e| (to_value(&e.key), to_value(&e.value)))),
    }
}

fn load_data(config: &ProjectConfig, vfs: &dyn Vfs, problems: &mut Vec<ProjectProblem>) -> (Vec<DataFile>, DataNode, Vec<MissingData>) {
    let mut missing = Vec::new();
    let mut files = Vec::new();
    for path in &config.data {
        if path.is_dir() {
            // makejinja loads every non-hidden file below a data directory, sorted.
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.into_path())
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut data_files = Vec::new();
    let mut merged: Vec<DataEntry> = Vec::new();
    for listed in files {
        let file_id = data_files.len() as u32;
        let mut path = listed.clone();
        let mut sample_for = None;
        let read = match vfs.read_text(&listed) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A fresh clone: said once by the `data-missing` notice; the sample stands in.
                let sample = fresh_clone::sample_for(&listed);
                missing.push(MissingData { path: listed.clone(), sample: sample.clone() });
                let Some(sample) = sample else { continue };
                path = sample;
                sample_for = Some(listed);
                vfs.read_text(&path)
            }
            other => other,
        };
        let text = match read {
            Ok(t) => t,
            Err(e) => {
                let message = format!("cannot read data file: {e}");
                problems.push(ProjectProblem {
                    severity: Severity::Error,
                    code: "data-error",
                    file: path.clone(),
                    line: None,
                    col: None,
                    message: message.clone(),
                });
                data_files.push(DataFile { path, text: None, root: None, error: Some(DataError::new(message)), sample_for });
                continue;
            }
        };
        let loaded = data::load_data_text(&path, &text, file_id);
        let (root, error) = match loaded {
            None => (None, None),
            Some(Ok(root)) => (Some(root), None),
            Some(Err(e)) => {
                problems.push(ProjectProblem {
                    severity: Severity::Error,
                    code: "data-error",
                    file: path.clone(),
                    line: e.line,
                    col: e.col,
                    message: e.message.clone(),
                });
                (None, Some(e))
            }
        };
        if let Some(root) = &root {
            for entry in root.entries() {
                data::map_insert(&mut merged, entry.clone());
            }
        }
        data_files.push(DataFile { path, text: Some(Arc::from(text)), root, error, sample_for });
    }
    (data_files, DataNode::new(DataValue::Map(merged), SourceLoc::default()), missing)
}

fn load_plugin(config: &ProjectConfig, vfs: &dyn Vfs, problems: &mut Vec<ProjectProblem>) -> PluginSetup {
    if config.plugins.is_empty() {
        return PluginSetup::default();
    }
    // `module.sub:Class` → `module/sub.py` under an import path.
    let mut file = None;
    let mut declarations = PluginDeclarations::default();
    for spec in &config.plugins {
        let module = spec.split(':').next().unwrap_or(spec).replace('.', "/");
        for base in &config.import_paths {
            for candidate in [base.join(format!("{module}.py")), base.join(&module).join("__init__.py")] {
                if let Ok(text) = vfs.read_text(&candidate) {
                    let d = plugins::scan_plugin_source(&text);
                    declarations.names.extend(d.names);
                    declarations.has_data_method |= d.has_data_method;
                    declarations.has_path_filters |= d.has_path_filters;
                    declarations.uses_ipaddress |= d.uses_ipaddress;
                    declarations.uses_netaddr |= d.uses_netaddr;
                    file.get_or_insert(candidate);
                }
            }
        }
    }
    let cluster_layout = config.inputs.iter().any(|i| i.ends_with("templates/config"))
        || config.data.iter().any(|d| d.file_name().is_some_and(|n| n == "cluster.yaml"));
    let flavor = if declarations.uses_ipaddress && !declarations.uses_netaddr {
        PluginFlavor::Cluster
    } else if declarations.uses_netaddr {
        PluginFlavor::Bootstrap
    } else if cluster_layout {
        PluginFlavor::Cluster
    } else {
        PluginFlavor::Bootstrap
    };
    match &file {
        Some(f) => {
            for d in &declarations.names {
                if !plugins::is_emulated(&d.name) {
                    // A limit of the emulation, not a fault of the repo: info, shown.
                    problems.push(ProjectProblem {
                        severity: Severity::Info,
                        code: PLUGIN_NOT_EMULATED,
                        file: f.clone(),
                        line: Some(d.line),
                        col: None,
                        message: format!(
                            "plugin {} '{}' is not emulated; it renders as a visible placeholder (run the repo's plugin for exact output: `--plugins python` in the CLI, `homelabLsp.plugins.run` in the editor)",
                            d.kind.as_str(),
                            d.name
                        ),
                    });
                }
            }
        }
        None => problems.push(ProjectProblem {
            severity: Severity::Info,
            code: "plugin-not-found",
            file: config.config_file.clone().unwrap_or_else(|| config.root.clone()),
            line: None,
            col: None,
            message: format!(
                "plugin {} not found in import_paths; using the built-in emulation of the cluster-template plugin",
                config.plugins.join(", ")
            ),
        }),
    }
    let inputs = plugin_inputs(config, flavor, vfs);
    PluginSetup { file, declarations, flavor: Some(flavor), inputs: Arc::new(inputs) }
}

/// The key files the emulated functions read that are missing, when a template calls them.
/// One source's text through `vfs`, or why it cannot be read.
fn read_source(vfs: &dyn Vfs, path: &Path) -> SourceText {
    vfs.read_text(path).map(Arc::<str>::from).map_err(|e| e.to_string())
}

/// The absent key files that templates call for. A template's text is read from disk here
/// even while an editor holds another: the server loads a project again when data or the
/// config change, not when a template does, so an unsaved template text would make the
/// notice depend on which edits happened to come before the last load.
fn missing_key_files(plugin: &PluginSetup, sources: &HashMap<PathBuf, SourceText>, vfs: &dyn Vfs) -> Vec<String> {
    if plugin.flavor.is_none() {
        return Vec::new();
    }
    let on_disk: HashMap<&PathBuf, SourceText> = sources
        .keys()
        .filter(|p| vfs.is_overlaid(p))
        .map(|p| (p, crate::workspace::vfs::read_text_file(p).map(Arc::<str>::from).map_err(|e| e.to_string())))
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (function, file) in fresh_clone::KEY_FILE_FUNCTIONS {
        let absent = plugin.inputs.files.get(*file).is_some_and(|r| r.is_err());
        let called = || sources.iter().any(|(p, t)| on_disk.get(p).unwrap_or(t).as_ref().is_ok_and(|t| t.contains(function)));
        if absent && !out.iter().any(|f| f == file) && called() {
            out.push(file.to_string());
        }
    }
    out
}

/// Gathers what the emulated functions read: Talos patch listings and key files.
fn plugin_inputs(config: &ProjectConfig, flavor: PluginFlavor, vfs: &dyn Vfs) -> PluginInputs {
    let patches_rel = match flavor {
        PluginFlavor::Bootstrap => "bootstrap/templates/kubernetes/bootstrap/talos/patches",
        PluginFlavor::Cluster => "templates/config/talos/patches",
    };
    let patches_dir = config.root.join(patches_rel);
    let mut talos_patches = BTreeMap::new();
    if let Ok(kinds) = std::fs::read_dir(&patches_dir) {
        for kind in kinds.flatten() {
            if !kind.path().is_dir() {
                continue;
            }
            let kind_name = kind.file_name().to_string_lossy().into_owned();
            let mut files: Vec<String> = std::fs::read_dir(kind.path())
                .map(|it| {
                    it.flatten()
                        .filter(|f| f.file_name().to_string_lossy().ends_with(".yaml.j2") && f.path().is_file())
                        .map(|f| format!("{patches_rel}/{kind_name}/{}", f.file_name().to_string_lossy()))
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            talos_patches.insert(kind_name, files);
        }
    }
    let mut files = BTreeMap::new();
    for name in ["age.key", "cloudflare-tunnel.json", "github-deploy.key", "github-push-token.txt"] {
        let path = config.root.join(name);
        files.insert(name.to_string(), vfs.read_text(&path).map_err(|e| e.to_string()));
    }
    PluginInputs { talos_patches, files, real_encrypt: false }
}

/// Loads templates from the project's inputs, in order, with unsaved texts laid over.
struct ProjectLoader {
    inputs: Vec<PathBuf>,
    sources: Arc<HashMap<PathBuf, SourceText>>,
    overlay: HashMap<PathBuf, Arc<str>>,
}

impl TemplateLoader for ProjectLoader {
    fn load(&self, name: &str) -> Result<Option<String>, String> {
        for input in &self.inputs {
            let path = input.join(name);
            if let Some(text) = self.overlay.get(&path) {
                return Ok(Some(text.to_string()));
            }
            match self.sources.get(&path) {
                Some(Ok(text)) => return Ok(Some(text.to_string())),
                Some(Err(e)) => return Err(e.clone()),
                None => {}
            }
        }
        // Not preloaded (a non-template file included by name): read it now.
        for input in &self.inputs {
            let path = input.join(name);
            if path.is_file() {
                return super::vfs::read_text_file(&path).map(Some).map_err(|e| e.to_string());
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_blank_matches_str_strip() {
        assert!(is_python_blank(" \n\t\u{1c}\u{3000}"));
        assert!(!is_python_blank(" a "));
    }

    #[test]
    fn data_vars_set_nested_keys() {
        let mut pairs = vec![(Value::from("a"), Value::from_pairs([(Value::from("x"), Value::from(1))]))];
        set_dotted(&mut pairs, "a.b.c", Value::from("v"));
        let a = &pairs[0].1;
        assert_eq!(a.get_attr("x").unwrap(), Value::from(1));
        assert_eq!(a.get_attr("b").unwrap().get_attr("c").unwrap(), Value::from("v"));
    }
}
