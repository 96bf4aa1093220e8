//! The Flux model of a repository: which Flux `Kustomization` applies each file, and the
//! post-build variables (`${VAR}`) in scope there.
//!
//! Three parts, all pure (no I/O):
//! - [`facts`]: what one YAML text says about Flux and kustomize (Flux Kustomizations,
//!   `kustomization.yaml` entries, ConfigMaps/Secrets usable as variable sources, `${VAR}`
//!   uses). Extracted with the other facts of a file and kept in the repo index.
//! - [`model`]: built lazily from the facts of every file ([`FluxIndex`]): each Flux
//!   Kustomization's tree (its `spec.path`, followed through `resources`, `components`,
//!   patches and generator files as kustomize and kustomize-controller do), parent
//!   `spec.patches` applied to the child Kustomizations they target, and the resulting
//!   variable scopes. Patching one file's facts drops the model; the next question
//!   rebuilds it (a few hundred Kustomizations: well under a millisecond).
//! - [`checks`]: the rules asked of the model (`undefined-substitution`,
//!   `missing-kustomize-resource`, `unlisted-manifest`, `missing-flux-path`,
//!   `unknown-depends-on`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::yaml::TextRange;

pub mod checks;
pub mod envsubst;
pub mod facts;
pub mod model;
mod patch;

pub use model::{Applied, FluxModel, Role, Scope, ScopeVar};

/// A scalar as written: value, byte range and 0-based line in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned {
    pub value: String,
    pub range: TextRange,
    pub line: u32,
}

/// What one file says about Flux and kustomize.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FluxFacts {
    pub file: PathBuf,
    /// Flux `Kustomization` objects (kustomize.toolkit.fluxcd.io).
    pub kustomizations: Vec<FluxKustomization>,
    /// A kustomize `Kustomization`/`Component` (kustomize.config.k8s.io) in this file.
    pub kustomize: Option<KustomizeFile>,
    /// ConfigMaps and Secrets (written or generated) whose keys can be substituted.
    pub var_sources: Vec<VarSource>,
    /// `${VAR}` expressions in the file's scalars.
    pub uses: Vec<VarUse>,
    /// Some document is a Kubernetes object (`apiVersion` and `kind`).
    pub manifest: bool,
}

impl FluxFacts {
    /// Whether `other` defines the same (everything but the `${VAR}` uses): only a change
    /// of definitions can change what other files' checks say.
    /// ConfigMaps and Secrets count only when `is_source` says some Kustomization reads them.
    pub fn same_definitions(&self, other: &FluxFacts, is_source: impl Fn(&VarSource) -> bool) -> bool {
        let used = |f: &FluxFacts| f.var_sources.iter().filter(|s| is_source(s)).cloned().collect::<Vec<_>>();
        self.file == other.file
            && self.kustomizations == other.kustomizations
            && self.kustomize == other.kustomize
            && used(self) == used(other)
            && self.manifest == other.manifest
    }

    fn is_empty(&self) -> bool {
        self.kustomizations.is_empty() && self.kustomize.is_none() && self.var_sources.is_empty() && self.uses.is_empty() && !self.manifest
    }

    /// Keeps `self` unless it says nothing (a template that did not render), then takes
    /// `other` (the committed file at the same path).
    pub fn merge(&mut self, other: FluxFacts) {
        if self.is_empty() {
            *self = other;
        }
    }
}

/// A Flux `Kustomization` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FluxKustomization {
    pub name: String,
    pub namespace: Option<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// 0-based line of `metadata.name` (the document start when absent).
    pub line: u32,
    pub path: Option<Spanned>,
    /// `spec.components`: kustomize components, relative to `spec.path`.
    pub components: Vec<Spanned>,
    /// `sourceRef` kind and name.
    pub source: Option<(String, String)>,
    pub depends_on: Vec<DependsOn>,
    pub target_namespace: Option<String>,
    pub post_build: Option<PostBuild>,
    /// `spec.patches` whose target can be a Flux Kustomization.
    pub patches: Vec<KsPatch>,
}

/// One `dependsOn` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependsOn {
    pub name: Spanned,
    pub namespace: Option<String>,
}

/// `spec.postBuild`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostBuild {
    /// `substitute` entries: name, value, where.
    pub substitute: Vec<InlineVar>,
    pub substitute_from: Vec<SubstituteRef>,
}

/// One `postBuild.substitute` entry and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineVar {
    pub name: String,
    pub value: String,
    pub file: PathBuf,
    pub line: u32,
}

/// One `postBuild.substituteFrom` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubstituteRef {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    pub name: String,
    pub optional: bool,
    pub file: PathBuf,
    pub line: u32,
}

/// A patch that may change child Kustomizations' `postBuild`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KsPatch {
    pub target: patch::Selector,
    pub ops: Vec<patch::Op>,
    pub line: u32,
}

/// A kustomize `kustomization.yaml` (or `Component`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KustomizeFile {
    pub kind: String,
    pub namespace: Option<String>,
    pub resources: Vec<Spanned>,
    pub components: Vec<Spanned>,
    /// Files merged into the output: `patches[].path`, `patchesStrategicMerge`, `patchesJson6902[].path`.
    pub patch_files: Vec<Spanned>,
    /// Other files kustomize reads (Helm values, configurations, replacements, …): not output.
    pub other_files: Vec<Spanned>,
    pub generators: Vec<Generator>,
    /// Inline patches that can change Flux Kustomizations built here.
    pub ks_patches: Vec<KsPatch>,
    /// A patch file targets Flux Kustomizations: what it does is not modelled.
    pub opaque_ks_patch: bool,
    /// Paths named in comments (`# - ./old.yaml`): files left out on purpose.
    pub commented: Vec<String>,
}

/// A `configMapGenerator` / `secretGenerator` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    pub name: String,
    pub files: Vec<Spanned>,
    /// `generatorOptions` or the entry's `options` carry the substitute-disabled annotation or label.
    pub substitution_disabled: bool,
}

/// A ConfigMap or Secret whose keys are variables for `substituteFrom`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarSource {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub file: PathBuf,
    pub line: u32,
    pub keys: Vec<VarDef>,
    /// Every key is known (false for `envs:` files and generator entries we cannot read).
    pub complete: bool,
}

/// One key of a variable source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarDef {
    pub name: String,
    pub value: VarValue,
    pub line: u32,
}

/// What a variable's value is, as far as the repository says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    Plain(String),
    /// SOPS ciphertext.
    Encrypted,
    /// The content of a file (generator `files:`).
    FromFile(String),
}

/// One `${VAR}` in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarUse {
    pub name: String,
    /// The whole `${…}`.
    pub range: TextRange,
    /// The name inside it.
    pub name_range: TextRange,
    pub has_default: bool,
    /// The object carries `kustomize.toolkit.fluxcd.io/substitute: disabled`.
    pub disabled: bool,
}

/// The annotation (or label) that turns substitution off for one object.
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// The Flux facts of every file of the repository, and the model built from them.
#[derive(Debug, Clone, Default)]
pub struct FluxIndex {
    /// The repository root: `spec.path` of a Kustomization whose source is this repository is relative to it.
    pub root: Option<PathBuf>,
    pub files: BTreeMap<PathBuf, FluxFacts>,
    /// Other files known to exist (non-YAML generator inputs, verbatim copies, …).
    pub other_paths: HashSet<PathBuf>,
    /// Files makejinja generates: what they list can depend on the data.
    pub generated: HashSet<PathBuf>,
    model: Lazy,
}

impl PartialEq for FluxIndex {
    fn eq(&self, other: &Self) -> bool {
        self.root == other.root && self.files == other.files && self.other_paths == other.other_paths && self.generated == other.generated
    }
}

impl Eq for FluxIndex {}

/// The model, built on first use after a change.
#[derive(Debug, Clone, Default)]
struct Lazy(OnceLock<Arc<FluxModel>>);

impl FluxIndex {
    /// Records one file's facts (replacing what it said before).
    pub fn insert(&mut self, facts: FluxFacts) {
        self.files.insert(facts.file.clone(), facts);
        self.model = Lazy::default();
    }

    pub fn remove(&mut self, file: &Path) {
        if self.files.remove(file).is_some() {
            self.model = Lazy::default();
        }
    }

    pub fn set_root(&mut self, root: &Path) {
        self.root = Some(root.to_path_buf());
        self.model = Lazy::default();
    }

    pub fn add_other_paths(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        self.other_paths.extend(paths);
        self.model = Lazy::default();
    }

    /// Whether some Flux Kustomization (or a patch on one) names `source` in `substituteFrom`.
    pub fn is_substitution_source(&self, source: &VarSource) -> bool {
        let names = |r: &SubstituteRef| r.kind == source.kind && r.name == source.name;
        self.files.values().flat_map(|f| &f.kustomizations).any(|k| {
            k.post_build.as_ref().is_some_and(|pb| pb.substitute_from.iter().any(names))
                || k.patches.iter().flat_map(|p| &p.ops).any(|op| match op {
                    patch::Op::SetSubstituteFrom(Some(list)) => list.iter().any(names),
                    patch::Op::InsertSubstituteFrom(_, r) => names(r),
                    patch::Op::SetPostBuild(pb) => pb.substitute_from.iter().any(names),
                    _ => false,
                })
        })
    }

    /// The model of the repository as the index says it is now.
    pub fn model(&self) -> Arc<FluxModel> {
        self.model.0.get_or_init(|| Arc::new(FluxModel::build(self))).clone()
    }
}

#[cfg(test)]
mod tests;
