//! The Flux model: Kustomization trees, parent patches and variable scopes, built from the
//! [`FluxIndex`] (facts of every file) without I/O.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::patch::{self, Target};
use super::{FluxFacts, FluxIndex, FluxKustomization, PostBuild, VarValue};

/// How a file takes part in a Kustomization's build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A manifest in the output (listed in `resources`, or found by the generated kustomization).
    Resource,
    /// The `kustomization.yaml` that lists the build.
    Kustomization,
    /// A patch file merged into the output.
    Patch,
    /// A `configMapGenerator`/`secretGenerator` input; `disabled`: its generated object
    /// carries the substitute-disabled annotation.
    GeneratorFile { disabled: bool },
    /// Read by kustomize but not part of the output (Helm values, configurations, …).
    Other,
}

impl Role {
    /// Whether Flux substitutes variables in this file's content.
    pub fn is_substituted(self) -> bool {
        matches!(self, Role::Resource | Role::Patch | Role::GeneratorFile { disabled: false })
    }
}

/// One file's part in one Flux Kustomization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Index into [`FluxModel::kustomizations`].
    pub ks: usize,
    pub role: Role,
    /// kustomize patches (`kustomization.yaml`, index in its `ks_patches`) on the way from
    /// the Kustomization's path to the file; `usize::MAX`: a patch file we cannot read.
    chain: Vec<(PathBuf, usize)>,
    /// The outermost kustomization `namespace:` on the way (kustomize sets it on every object).
    namespace: Option<String>,
}

/// One Flux Kustomization of the repository.
#[derive(Debug, Clone)]
pub struct KsNode {
    pub file: PathBuf,
    pub def: FluxKustomization,
    /// The directory `spec.path` names, when it is in this repository and exists.
    pub dir: Option<PathBuf>,
    /// Its source is this repository (its paths can be checked).
    pub source_is_repo: bool,
    /// The namespaces it ends up in (`metadata.namespace`, overridden by kustomize
    /// `namespace:` and the parent's `targetNamespace`); empty when unknown.
    pub namespaces: Vec<String>,
    /// The variables in scope, one per way the Kustomization is applied (one per parent).
    pub scopes: Vec<Scope>,
}

/// The variables one Kustomization substitutes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Flux substitutes at all (a `postBuild` with at least one variable).
    pub substitutes: bool,
    /// Every variable is known: no source outside the repository, no patch not modelled.
    pub complete: bool,
    /// Sorted by name.
    pub vars: Vec<Arc<ScopeVar>>,
    /// Sources the repository does not define (`Secret/name (optional)`).
    pub unknown_sources: Vec<String>,
}

impl Scope {
    pub fn get(&self, name: &str) -> Option<&ScopeVar> {
        self.vars.binary_search_by(|v| v.name.as_str().cmp(name)).ok().map(|i| &*self.vars[i])
    }
}

/// One variable in scope and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeVar {
    pub name: String,
    pub value: VarValue,
    pub file: PathBuf,
    pub line: u32,
    /// `postBuild.substitute` or `ConfigMap/cluster-settings`.
    pub via: String,
}

/// The Flux model of the repository.
#[derive(Debug, Default)]
pub struct FluxModel {
    pub kustomizations: Vec<KsNode>,
    // Paths are keyed by their bytes: `Path`'s own hash and order parse components, and
    // building the model looks paths up tens of thousands of times.
    applied: HashMap<OsString, Vec<Applied>>,
    files: HashSet<OsString>,
    dirs: HashSet<OsString>,
    /// Every path some kustomization names (resources, patches, generator files, …).
    referenced: HashSet<OsString>,
    /// The kustomization file of each directory that has one.
    kustomization_files: HashMap<OsString, PathBuf>,
    repo_sources: HashSet<(String, String)>,
    pub root: Option<PathBuf>,
}

const KUSTOMIZATION_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// `a/./b/../c` → `a/c`, without touching the disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A kustomize entry that is fetched, not read from the repository.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("github.com/")
        || entry.starts_with("git@")
        || entry.contains("?ref=")
        || entry.contains("?version=")
}

/// A generator `files:` entry: `key=path` or `path`.
pub fn generator_path(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(_, p)| p).trim()
}

struct Builder<'a> {
    index: &'a FluxIndex,
    files: &'a HashSet<OsString>,
    dirs: &'a HashSet<OsString>,
    /// Directory → its kustomization file and facts (looked up for every file below a path).
    kustomizations: &'a HashMap<OsString, (&'a PathBuf, &'a FluxFacts)>,
}

impl Builder<'_> {
    fn kustomization_in(&self, dir: &Path) -> Option<(&PathBuf, &FluxFacts)> {
        self.kustomizations.get(dir.as_os_str()).copied()
    }

    /// Every file of the build of `dir`, as kustomize (and Flux's generated kustomization) reads it.
    fn walk(
        &self,
        dir: &Path,
        ks: usize,
        chain: &[(PathBuf, usize)],
        namespace: Option<&str>,
        visited: &mut HashSet<PathBuf>,
        out: &mut Vec<(PathBuf, Applied)>,
    ) {
        if !visited.insert(dir.to_path_buf()) || visited.len() > 10_000 {
            return;
        }
        let push = |out: &mut Vec<(PathBuf, Applied)>, p: PathBuf, role: Role, chain: &[(PathBuf, usize)], ns: Option<&str>| {
            out.push((p, Applied { ks, role, chain: chain.to_vec(), namespace: ns.map(str::to_string) }))
        };
        let Some((kfile, facts)) = self.kustomization_in(dir) else {
            // Flux generates a kustomization of every YAML file below, taking a
            // subdirectory with its own kustomization.yaml whole.
            let mut subdirs: Vec<PathBuf> = Vec::new();
            for (f, _) in self.index.files.range(dir.to_path_buf()..) {
                if !f.starts_with(dir) {
                    break;
                }
                if !crate::yaml::is_yaml_path(f) {
                    continue;
                }
                let governed = f
                    .parent()
                    .into_iter()
                    .flat_map(Path::ancestors)
                    .take_while(|a| *a != dir && a.starts_with(dir))
                    .filter(|a| self.kustomization_in(a).is_some())
                    .last()
                    .map(Path::to_path_buf);
                match governed {
                    Some(sub) => {
                        if !subdirs.contains(&sub) {
                            subdirs.push(sub);
                        }
                    }
                    None => push(out, f.clone(), Role::Resource, chain, namespace),
                }
            }
            for sub in subdirs {
                self.walk(&sub, ks, chain, namespace, visited, out);
            }
            return;
        };
        let Some(k) = facts.kustomize.as_ref() else { return };
        let ns = namespace.or(k.namespace.as_deref());
        push(out, kfile.clone(), Role::Kustomization, chain, ns);
        let mut chain = chain.to_vec();
        chain.extend((0..k.ks_patches.len()).map(|i| (kfile.clone(), i)));
        if k.opaque_ks_patch {
            chain.push((kfile.clone(), usize::MAX));
        }
        for e in k.resources.iter().chain(&k.components) {
            if is_remote(&e.value) {
                continue;
            }
            let p = normalize(&dir.join(&e.value));
            if self.files.contains(p.as_os_str()) {
                push(out, p, Role::Resource, &chain, ns);
            } else if self.dirs.contains(p.as_os_str()) {
                self.walk(&p, ks, &chain, ns, visited, out);
            }
        }
        for e in &k.patch_files {
            push(out, normalize(&dir.join(&e.value)), Role::Patch, &chain, ns);
        }
        for g in &k.generators {
            for f in &g.files {
                push(
                    out,
                    normalize(&dir.join(generator_path(&f.value))),
                    Role::GeneratorFile { disabled: g.substitution_disabled },
                    &chain,
                    ns,
                );
            }
        }
        for e in &k.other_files {
            push(out, normalize(&dir.join(&e.value)), Role::Other, &chain, ns);
        }
    }
}

impl FluxModel {
    pub fn build(index: &FluxIndex) -> FluxModel {
        let mut files: HashSet<OsString> = index.files.keys().map(|p| p.as_os_str().to_owned()).collect();
        files.extend(index.other_paths.iter().map(|p| p.as_os_str().to_owned()));
        let mut dirs: HashSet<OsString> = HashSet::new();
        for f in &files {
            for a in Path::new(f).ancestors().skip(1) {
                if !dirs.insert(a.as_os_str().to_owned()) {
                    break;
                }
            }
        }
        let root = index.root.clone();
        let mut kustomizations: Vec<KsNode> = Vec::new();
        for (file, facts) in &index.files {
            for def in &facts.kustomizations {
                let dir = match (&root, &def.path, &def.source) {
                    (Some(root), Some(path), Some((kind, _))) if kind == "GitRepository" || kind == "OCIRepository" => {
                        Some(normalize(&root.join(path.value.trim_start_matches('/'))))
                    }
                    _ => None,
                };
                kustomizations.push(KsNode {
                    file: file.clone(),
                    def: def.clone(),
                    dir,
                    source_is_repo: false,
                    namespaces: Vec::new(),
                    scopes: Vec::new(),
                });
            }
        }
        // A source is this repository when one of its Kustomizations' paths exists here
        // (or it is the `flux-system` GitRepository that `flux bootstrap` creates).
        // The root itself is no evidence (every path is below it); an OCIRepository is this
        // repository only as the `flux-system` artifact flux-operator syncs.
        let repo_sources: HashSet<(String, String)> = kustomizations
            .iter()
            .filter(|k| k.dir.as_ref().is_some_and(|d| dirs.contains(d.as_os_str()) && Some(d) != root.as_ref()))
            .filter_map(|k| k.def.source.clone())
            .filter(|(kind, name)| kind == "GitRepository" || name == "flux-system")
            .chain(std::iter::once(("GitRepository".to_string(), "flux-system".to_string())))
            .collect();
        for k in &mut kustomizations {
            k.source_is_repo = k.def.source.as_ref().is_some_and(|s| repo_sources.contains(s));
            if !k.source_is_repo || !k.dir.as_ref().is_some_and(|d| dirs.contains(d.as_os_str())) {
                k.dir = k.dir.take().filter(|d| k.source_is_repo && dirs.contains(d.as_os_str()));
            }
        }
        // The kustomization file of each directory, in kustomize's order of names.
        let mut kustomization_files: HashMap<OsString, PathBuf> = HashMap::new();
        for (file, facts) in &index.files {
            let (Some(_), Some(dir), Some(name)) = (&facts.kustomize, file.parent(), file.file_name()) else { continue };
            let Some(rank) = KUSTOMIZATION_NAMES.iter().position(|n| name == *n) else { continue };
            let better = kustomization_files
                .get(dir.as_os_str())
                .and_then(|f| f.file_name())
                .and_then(|n| KUSTOMIZATION_NAMES.iter().position(|k| n == *k))
                .is_none_or(|r| rank < r);
            if better {
                kustomization_files.insert(dir.as_os_str().to_owned(), file.clone());
            }
        }
        let kfacts: HashMap<OsString, (&PathBuf, &FluxFacts)> =
            kustomization_files.iter().filter_map(|(d, f)| index.files.get_key_value(f).map(|kv| (d.clone(), kv))).collect();
        let builder = Builder { index, files: &files, dirs: &dirs, kustomizations: &kfacts };
        let mut applied: HashMap<OsString, Vec<Applied>> = HashMap::new();
        for (i, k) in kustomizations.iter().enumerate() {
            let Some(dir) = &k.dir else { continue };
            let mut out = Vec::new();
            let mut visited = HashSet::new();
            builder.walk(dir, i, &[], None, &mut visited, &mut out);
            // Flux adds `spec.components` to the kustomization of the path.
            for c in &k.def.components {
                let p = normalize(&dir.join(&c.value));
                if dirs.contains(p.as_os_str()) {
                    builder.walk(&p, i, &[], None, &mut visited, &mut out);
                }
            }
            for (p, a) in out {
                let list = applied.entry(p.into_os_string()).or_default();
                if !list.iter().any(|b| b.ks == a.ks && b.role == a.role) {
                    list.push(a);
                }
            }
        }
        let namespaces: Vec<Vec<String>> = kustomizations
            .iter()
            .map(|k| {
                let parents: Vec<&Applied> =
                    applied.get(k.file.as_os_str()).into_iter().flatten().filter(|a| a.role == Role::Resource).collect();
                let mut ns: Vec<String> = if parents.is_empty() {
                    k.def.namespace.iter().cloned().collect()
                } else {
                    parents
                        .iter()
                        .filter_map(|a| {
                            kustomizations[a.ks]
                                .def
                                .target_namespace
                                .clone()
                                .or_else(|| a.namespace.clone())
                                .or_else(|| k.def.namespace.clone())
                        })
                        .collect()
                };
                ns.sort();
                ns.dedup();
                ns
            })
            .collect();
        for (k, ns) in kustomizations.iter_mut().zip(namespaces) {
            k.namespaces = ns;
        }
        // Variable sources by kind and name.
        // Each key becomes one shared variable, whatever number of scopes hold it.
        let mut sources: Sources = HashMap::new();
        for facts in index.files.values() {
            for s in &facts.var_sources {
                let via = format!("{}/{}", s.kind, s.name);
                let entry = sources.entry((s.kind.as_str(), s.name.as_str())).or_insert_with(|| (Vec::new(), true));
                entry.1 &= s.complete;
                entry.0.extend(s.keys.iter().map(|key| {
                    Arc::new(ScopeVar {
                        name: key.name.clone(),
                        value: key.value.clone(),
                        file: s.file.clone(),
                        line: key.line,
                        via: via.clone(),
                    })
                }));
            }
        }
        // A parent whose tree is unknown may patch Kustomizations we see as roots.
        let unseen_patcher = kustomizations.iter().any(|k| k.dir.is_none() && !k.def.patches.is_empty());
        let scopes: Vec<Vec<Scope>> = kustomizations
            .iter()
            .map(|k| {
                let parents: Vec<&Applied> =
                    applied.get(k.file.as_os_str()).into_iter().flatten().filter(|a| a.role == Role::Resource).collect();
                let variants: Vec<(Option<PostBuild>, bool)> = if parents.is_empty() {
                    vec![(k.def.post_build.clone(), !unseen_patcher)]
                } else {
                    parents.iter().map(|a| patched(index, k, &kustomizations[a.ks].def, &a.chain)).collect()
                };
                variants.into_iter().map(|(pb, known)| resolve(pb, known, &sources)).collect()
            })
            .collect();
        for (k, s) in kustomizations.iter_mut().zip(scopes) {
            k.scopes = s;
        }
        let mut referenced = HashSet::new();
        for (file, facts) in &index.files {
            let (Some(k), Some(dir)) = (&facts.kustomize, file.parent()) else { continue };
            let entries = k.resources.iter().chain(&k.components).chain(&k.patch_files).chain(&k.other_files);
            referenced.extend(entries.map(|e| normalize(&dir.join(&e.value)).into_os_string()));
            referenced.extend(
                k.generators.iter().flat_map(|g| &g.files).map(|f| normalize(&dir.join(generator_path(&f.value))).into_os_string()),
            );
        }
        FluxModel { kustomizations, applied, files, dirs, referenced, kustomization_files, repo_sources, root }
    }

    /// How `file` takes part in the repository's Flux Kustomizations.
    pub fn applied(&self, file: &Path) -> &[Applied] {
        self.applied.get(file.as_os_str()).map_or(&[], Vec::as_slice)
    }

    /// The scopes Flux substitutes `file` in, with the Kustomization of each; empty when
    /// no known Kustomization applies it.
    pub fn scopes(&self, file: &Path) -> Vec<(&KsNode, &Scope)> {
        let mut out = Vec::new();
        for a in self.applied(file).iter().filter(|a| a.role.is_substituted()) {
            let k = &self.kustomizations[a.ks];
            out.extend(k.scopes.iter().map(|s| (k, s)));
        }
        out
    }

    /// Whether some kustomization names `path`.
    pub fn is_referenced(&self, path: &Path) -> bool {
        self.referenced.contains(path.as_os_str())
    }

    /// The `kustomization.yaml` of `dir`.
    pub fn kustomization_file(&self, dir: &Path) -> Option<&Path> {
        self.kustomization_files.get(dir.as_os_str()).map(PathBuf::as_path)
    }

    /// Whether a `sourceRef` (kind, name) is this repository.
    pub fn is_repo_source(&self, source: &(String, String)) -> bool {
        self.repo_sources.contains(source)
    }

    /// Whether a file or directory is known to exist.
    pub fn exists(&self, path: &Path) -> bool {
        self.files.contains(path.as_os_str()) || self.dirs.contains(path.as_os_str())
    }

    pub fn is_dir(&self, path: &Path) -> bool {
        self.dirs.contains(path.as_os_str())
    }

    /// The Kustomizations defined in `file`.
    pub fn defined_in<'a>(&'a self, file: &'a Path) -> impl Iterator<Item = &'a KsNode> + 'a {
        self.kustomizations.iter().filter(move |k| k.file == file)
    }

    /// Kustomizations named `name` (and in `namespace`, when both are known).
    pub fn named<'a>(&'a self, name: &'a str, namespace: Option<&'a str>) -> impl Iterator<Item = &'a KsNode> + 'a {
        self.kustomizations.iter().filter(move |k| {
            k.def.name == name && namespace.is_none_or(|ns| k.namespaces.is_empty() || k.namespaces.iter().any(|n| n == ns))
        })
    }
}

/// A child's `postBuild` after the kustomize patches on its way and its parent's
/// `spec.patches`; false when a patch is not modelled.
fn patched(index: &FluxIndex, k: &KsNode, parent: &FluxKustomization, chain: &[(PathBuf, usize)]) -> (Option<PostBuild>, bool) {
    let mut pb = k.def.post_build.clone();
    let mut known = true;
    let target =
        Target { name: &k.def.name, namespace: k.def.namespace.as_deref(), labels: &k.def.labels, annotations: &k.def.annotations };
    for (kfile, i) in chain {
        let p = index.files.get(kfile).and_then(|f| f.kustomize.as_ref()).and_then(|kz| kz.ks_patches.get(*i));
        match p {
            Some(p) if p.target.matches(&target) => known &= patch::apply(&mut pb, &p.ops),
            Some(_) => {}
            None => known = false,
        }
    }
    for p in parent.patches.iter().filter(|p| p.target.matches(&target)) {
        known &= patch::apply(&mut pb, &p.ops);
    }
    (pb, known)
}

/// Variables of each source (kind, name), and whether every key is known.
type Sources<'a> = HashMap<(&'a str, &'a str), (Vec<Arc<ScopeVar>>, bool)>;

/// The variables a `postBuild` yields, as Flux loads them: `substituteFrom` in order
/// (later keys win), then `substitute` over them.
fn resolve(pb: Option<PostBuild>, known: bool, sources: &Sources) -> Scope {
    let Some(pb) = pb else { return Scope { substitutes: false, complete: known, ..Scope::default() } };
    let mut scope = Scope { complete: known, ..Scope::default() };
    let mut vars: HashMap<&str, Arc<ScopeVar>> = HashMap::new();
    let mut inline = Vec::new();
    for r in &pb.substitute_from {
        match sources.get(&(r.kind.as_str(), r.name.as_str())) {
            None => {
                scope.complete = false;
                scope.unknown_sources.push(format!("{}/{}{}", r.kind, r.name, if r.optional { " (optional)" } else { "" }));
            }
            Some((list, complete)) => {
                scope.complete &= complete;
                for v in list {
                    vars.insert(v.name.as_str(), v.clone());
                }
            }
        }
    }
    for v in &pb.substitute {
        inline.push(Arc::new(ScopeVar {
            name: v.name.clone(),
            value: VarValue::Plain(v.value.clone()),
            file: v.file.clone(),
            line: v.line,
            via: "postBuild.substitute".into(),
        }));
    }
    for v in &inline {
        vars.insert(v.name.as_str(), v.clone());
    }
    scope.vars = vars.into_values().collect();
    scope.vars.sort_by(|a, b| a.name.cmp(&b.name));
    // Flux runs the substitution only when some variable is set.
    scope.substitutes = !scope.vars.is_empty() || !scope.complete;
    scope
}
