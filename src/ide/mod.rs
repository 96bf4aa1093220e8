//! Editor features as plain functions of an immutable snapshot. Inputs and outputs are in
//! editor terms (paths, byte offsets, labels); nothing here knows LSP or JSON.

pub mod completion;
pub mod cursor;
pub mod diagnostics;
pub mod flux;
pub mod goto;
pub mod highlight;
pub mod hover;
pub mod inlay;
pub mod navigation;
pub mod object_refs;
pub mod references;
pub mod secrets;
pub mod signature;
pub mod symbols;
pub mod tokens;
pub mod workspace_symbols;

use crate::template::{RenderError, Rendered, Renderer};
use crate::workspace::data::DataNode;
use crate::workspace::{EntryKind, InventoryEntry, Project};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// User settings that change what features return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureSettings {
    /// Show secret-looking values in hovers and completion instead of masking them.
    pub show_secrets: bool,
}

/// A place in a file: byte range in that file's current text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileRange {
    pub path: PathBuf,
    pub range: Range<usize>,
}

/// One project with the open documents laid over it, immutable.
pub struct ProjectAnalysis {
    pub project: Arc<Project>,
    /// Open documents' text, by absolute path (templates, data files, YAML).
    pub docs: Arc<HashMap<PathBuf, Arc<str>>>,
    renderer: OnceLock<Renderer>,
    /// Traced renders of this snapshot, by template name (diagnostics, hover and coverage
    /// all ask for the same ones).
    traced: std::sync::Mutex<HashMap<String, Result<Rendered, RenderError>>>,
    /// Include name → names of the rendered templates that include it.
    includers: OnceLock<HashMap<String, Vec<String>>>,
    /// Every secret value of the data, for masking (a walk of all the data: done once).
    secret_values: OnceLock<Vec<String>>,
    /// JSON schemas of the project's YAML (none: schema features off).
    pub schemas: Option<Arc<crate::schema::Schemas>>,
}

/// What a file is to a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRole<'a> {
    /// A template under an input (rendered or excluded/partial); `name` is input-relative.
    Template {
        name: String,
        entry: Option<&'a InventoryEntry>,
    },
    /// An output path of a template (a generated file).
    Generated {
        entry: &'a InventoryEntry,
    },
    /// One of the project's data files.
    Data {
        file: usize,
    },
    /// `makejinja.toml`.
    Config,
    Other,
}

impl ProjectAnalysis {
    pub fn new(project: Arc<Project>, docs: Arc<HashMap<PathBuf, Arc<str>>>) -> Self {
        Self {
            project,
            docs,
            renderer: OnceLock::new(),
            traced: Default::default(),
            includers: OnceLock::new(),
            secret_values: OnceLock::new(),
            schemas: None,
        }
    }

    /// The same snapshot with JSON schemas for validation, hover and completion.
    pub fn with_schemas(mut self, schemas: Option<Arc<crate::schema::Schemas>>) -> Self {
        self.schemas = schemas;
        self
    }

    /// Schema findings of a YAML text at `file` (`plain`: hand-written YAML, which
    /// `homelabLsp.schemas.plainYaml` can leave to another server).
    pub fn schema_findings(&self, text: &str, stream: &crate::yaml::tree::Stream, file: &Path, plain: bool) -> Vec<crate::yaml::Finding> {
        match &self.schemas {
            Some(s) if !plain || s.plain_yaml => s.validate_parsed(text, stream, file).findings,
            _ => Vec::new(),
        }
    }

    /// The renderer over the project with unsaved template texts laid over.
    pub fn renderer(&self) -> &Renderer {
        self.renderer.get_or_init(|| {
            let overlay =
                self.docs.iter().filter(|(p, _)| self.project.template_name(p).is_some()).map(|(p, t)| (p.clone(), t.clone())).collect();
            self.project.renderer(overlay)
        })
    }

    /// The current text of a file: the open document, else the loaded source, else disk.
    pub fn text(&self, path: &Path) -> Option<Arc<str>> {
        if let Some(t) = self.docs.get(path) {
            return Some(t.clone());
        }
        if let Some(Ok(t)) = self.project.sources.get(path) {
            return Some(t.clone());
        }
        if let Some(df) = self.project.data_files.iter().find(|d| d.path == path) {
            if let Some(t) = &df.text {
                return Some(t.clone());
            }
        }
        crate::workspace::vfs::read_text_file(path).ok().map(Arc::from)
    }

    pub fn role(&self, path: &Path) -> FileRole<'_> {
        let p = &self.project;
        if p.config.config_file.as_deref() == Some(path) {
            return FileRole::Config;
        }
        if let Some(i) = p.data_files.iter().position(|d| d.path == path) {
            return FileRole::Data { file: i };
        }
        if let Some(name) = p.template_name(path) {
            return FileRole::Template { entry: p.inventory.by_source(path), name };
        }
        if let Some(entry) = p.inventory.by_output(path) {
            if entry.kind == EntryKind::Template {
                return FileRole::Generated { entry };
            }
        }
        FileRole::Other
    }

    /// Renders the template with its line map (current unsaved text included).
    pub fn render_traced(&self, name: &str) -> Result<Rendered, RenderError> {
        if let Some(r) = self.traced.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
            return r.clone();
        }
        let r = self.renderer().render_with_line_map(name);
        // A render stopped by a request's clock or cancellation says nothing about the
        // template: the next request on this snapshot renders it again.
        if !r.as_ref().is_err_and(|e| e.stopped_by_clock()) {
            self.traced.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), r.clone());
        }
        r
    }

    /// The rendered templates that include `name` (one scan of all templates, cached).
    pub fn includers(&self, name: &str) -> &[String] {
        let graph = self.includers.get_or_init(|| {
            let mut graph: HashMap<String, Vec<String>> = HashMap::new();
            for e in self.project.inventory.templates() {
                let Some(src) = self.text(&e.source) else { continue };
                let tokens = crate::template::syntax::lex(&src, self.syntax());
                for t in &tokens {
                    if let Some((target, _)) = crate::template::expr::include_target(&src, t) {
                        graph.entry(target).or_default().push(e.name.clone());
                    }
                }
            }
            graph
        });
        graph.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The secret values of the data, longest first (see [`secrets::secret_values`]).
    pub fn secret_values(&self) -> &[String] {
        self.secret_values.get_or_init(|| secrets::secret_values(self.renderer().context()))
    }

    pub fn data(&self) -> &DataNode {
        &self.project.data
    }

    pub fn syntax(&self) -> &crate::template::TemplateSyntax {
        &self.project.config.syntax
    }
}

/// A template read as YAML: every tag blanked out, newlines and byte offsets kept, so YAML
/// positions are template positions (what the literal-YAML features of templates parse).
pub(crate) fn template_as_yaml(text: &str, tokens: &[crate::template::syntax::Token]) -> String {
    let spans: Vec<Range<usize>> = tokens.iter().filter(|t| t.is_tag()).map(|t| t.span.clone()).collect();
    crate::yaml::mask_template(text, &spans)
}

/// The projects of the workspace, each with the open documents.
#[derive(Clone, Default)]
pub struct Analysis {
    pub projects: Vec<Arc<ProjectAnalysis>>,
    pub settings: FeatureSettings,
}

impl Analysis {
    /// The current text of a file of some project (empty when no project holds it).
    pub fn text(&self, path: &Path) -> Arc<str> {
        self.project_for(path).and_then(|pa| pa.text(path)).unwrap_or_default()
    }

    /// The project a file belongs to: the deepest root containing it.
    pub fn project_for(&self, path: &Path) -> Option<&Arc<ProjectAnalysis>> {
        self.projects.iter().filter(|p| path.starts_with(&p.project.config.root)).max_by_key(|p| p.project.config.root.components().count())
    }
}
