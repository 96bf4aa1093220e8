//! What one YAML text says about Flux and kustomize ([`FluxFacts`]).

use std::path::Path;

use super::{
    envsubst, patch, DependsOn, FluxFacts, FluxKustomization, Generator, InlineVar, KsPatch, KustomizeFile, PostBuild, Spanned, VarDef,
    VarSource, VarUse, VarValue, DISABLE_KEY,
};
use crate::template::syntax::LineIndex;
use crate::yaml::tree::{Document, NodeId, NodeKind, Stream};
use crate::yaml::TextRange;

/// The Flux facts of a parsed text.
pub fn extract(stream: &Stream, text: &str, file: &Path) -> FluxFacts {
    let lines = LineIndex::new(text);
    let mut out = FluxFacts { file: file.to_path_buf(), ..FluxFacts::default() };
    for doc in &stream.docs {
        let Some(root) = doc.root.filter(|&r| doc.is_mapping(r)) else { continue };
        let cx = Cx { doc, text, file, lines: &lines };
        let api = doc.path_str(root, &["apiVersion"]).unwrap_or("");
        let kind = doc.path_str(root, &["kind"]).unwrap_or("");
        let group = api.split_once('/').map_or("", |(g, _)| g);
        out.manifest |= !api.is_empty() && !kind.is_empty();
        let disabled = is_disabled(doc, root, &["metadata", "annotations"]) || is_disabled(doc, root, &["metadata", "labels"]);
        uses(&cx, disabled, &mut out.uses);
        match (group, kind) {
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => out.kustomizations.extend(cx.flux_kustomization(root)),
            ("kustomize.config.k8s.io", "Kustomization" | "Component") => {
                let k = cx.kustomize_file(root, kind);
                out.var_sources.extend(cx.generated_sources(root, &k));
                out.kustomize = Some(k);
            }
            ("", "ConfigMap" | "Secret") => out.var_sources.extend(cx.var_source(root, kind)),
            _ => {}
        }
    }
    out
}

struct Cx<'a> {
    doc: &'a Document,
    text: &'a str,
    file: &'a Path,
    lines: &'a LineIndex,
}

/// `kustomize.toolkit.fluxcd.io/substitute: disabled` in the mapping at `path`.
fn is_disabled(doc: &Document, root: NodeId, path: &[&str]) -> bool {
    doc.path(root, path).and_then(|m| doc.path_str(m, &[DISABLE_KEY])).is_some_and(|v| v == "disabled")
}

/// Every `${VAR}` in the document's scalars (keys and values): comments are not part of
/// what kustomize hands to the substitution.
fn uses(cx: &Cx, disabled: bool, out: &mut Vec<VarUse>) {
    for node in &cx.doc.nodes {
        if !matches!(node.kind, NodeKind::Scalar { .. }) {
            continue;
        }
        let Some(raw) = cx.text.get(node.range.start..node.range.end) else { continue };
        if !raw.contains("${") {
            continue;
        }
        for e in envsubst::scan(raw) {
            let base = node.range.start;
            out.push(VarUse {
                name: e.name.clone(),
                range: TextRange::new(base + e.start, base + e.end),
                name_range: TextRange::new(base + e.name_start, base + e.name_start + e.name.len()),
                has_default: e.has_default,
                disabled,
            });
        }
    }
}

impl Cx<'_> {
    fn line(&self, node: NodeId) -> u32 {
        self.lines.line_of(self.doc.range(node).start) as u32
    }

    fn spanned(&self, node: NodeId) -> Option<Spanned> {
        let value = self.doc.scalar(node)?.trim();
        (!value.is_empty()).then(|| Spanned { value: value.to_string(), range: self.doc.range(node), line: self.line(node) })
    }

    fn pairs(&self, map: Option<NodeId>) -> Vec<(String, String)> {
        let Some(map) = map else { return Vec::new() };
        self.doc
            .entries(map)
            .iter()
            .filter_map(|&(k, v)| Some((self.doc.scalar(k)?.to_string(), self.doc.scalar(v).unwrap_or("").to_string())))
            .collect()
    }

    fn flux_kustomization(&self, root: NodeId) -> Option<FluxKustomization> {
        let doc = self.doc;
        let name_node = doc.path(root, &["metadata", "name"])?;
        let name = doc.scalar(name_node)?.to_string();
        let spec = doc.get(root, "spec");
        let at = |keys: &[&str]| spec.and_then(|s| doc.path(s, keys));
        let post_build = at(&["postBuild"]).filter(|&pb| !doc.is_null(pb)).map(|pb| PostBuild {
            substitute: doc
                .get(pb, "substitute")
                .map(|m| {
                    doc.entries(m)
                        .iter()
                        .filter_map(|&(k, v)| {
                            Some(InlineVar {
                                name: doc.scalar(k)?.to_string(),
                                value: doc.scalar(v).unwrap_or("").to_string(),
                                file: self.file.to_path_buf(),
                                line: self.line(k),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
            substitute_from: doc
                .get(pb, "substituteFrom")
                .map(|l| doc.items(l).iter().filter_map(|&i| patch::substitute_ref(doc, i, self.file, self.line(i))).collect())
                .unwrap_or_default(),
        });
        let patches = at(&["patches"]).map(|p| self.ks_patches(p)).unwrap_or_default();
        Some(FluxKustomization {
            name,
            namespace: doc.path_str(root, &["metadata", "namespace"]).filter(|s| !s.is_empty()).map(str::to_string),
            labels: self.pairs(doc.path(root, &["metadata", "labels"])),
            annotations: self.pairs(doc.path(root, &["metadata", "annotations"])),
            line: self.line(name_node),
            path: at(&["path"]).and_then(|p| self.spanned(p)),
            components: spec.map(|s| self.list(s, "components")).unwrap_or_default(),
            source: at(&["sourceRef"])
                .and_then(|s| Some((doc.path_str(s, &["kind"])?.to_string(), doc.path_str(s, &["name"])?.to_string()))),
            depends_on: at(&["dependsOn"])
                .map(|l| {
                    doc.items(l)
                        .iter()
                        .filter_map(|&i| {
                            Some(DependsOn {
                                name: self.spanned(doc.get(i, "name")?)?,
                                namespace: doc.path_str(i, &["namespace"]).map(str::to_string),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
            target_namespace: at(&["targetNamespace"]).and_then(|n| doc.scalar(n)).map(str::to_string),
            post_build,
            patches,
        })
    }

    /// Inline `patches` (Flux `spec.patches` or kustomize `patches`) that can change Flux Kustomizations.
    fn ks_patches(&self, list: NodeId) -> Vec<KsPatch> {
        let doc = self.doc;
        let mut out = Vec::new();
        for &item in doc.items(list) {
            let Some(text_node) = doc.get(item, "patch") else { continue };
            let Some(text) = doc.scalar(text_node) else { continue };
            let line = self.line(item);
            let Some((ops, implied)) = patch::parse_patch(text, self.file, line) else { continue };
            let target = doc.get(item, "target").map(|t| patch::selector(doc, t)).or(implied).unwrap_or_default();
            if !target.selects_flux_kustomization() || ops.is_empty() {
                continue;
            }
            out.push(KsPatch { target, ops, line });
        }
        out
    }

    fn list(&self, root: NodeId, key: &str) -> Vec<Spanned> {
        self.doc.get(root, key).map(|l| self.doc.items(l).iter().filter_map(|&i| self.spanned(i)).collect()).unwrap_or_default()
    }

    fn kustomize_file(&self, root: NodeId, kind: &str) -> KustomizeFile {
        let doc = self.doc;
        let mut k = KustomizeFile {
            kind: kind.to_string(),
            namespace: doc.path_str(root, &["namespace"]).map(str::to_string),
            resources: self.list(root, "resources"),
            components: self.list(root, "components"),
            ..KustomizeFile::default()
        };
        // Older `bases:` are resources too.
        k.resources.extend(self.list(root, "bases"));
        let targets_flux = |item: NodeId| {
            doc.get(item, "target")
                .map(|t| patch::selector(doc, t))
                .is_some_and(|s| s.kind.as_deref() == Some("Kustomization") && s.selects_flux_kustomization())
        };
        for key in ["patches", "patchesJson6902"] {
            if let Some(l) = doc.get(root, key) {
                for &item in doc.items(l) {
                    if let Some(p) = doc.get(item, "path").and_then(|p| self.spanned(p)) {
                        k.opaque_ks_patch |= targets_flux(item);
                        k.patch_files.push(p);
                    }
                }
                k.ks_patches.extend(self.ks_patches(l));
            }
        }
        k.patch_files.extend(self.list(root, "patchesStrategicMerge").into_iter().filter(|p| !p.value.contains('\n')));
        for key in ["configurations", "crds", "transformers", "generators", "validators"] {
            k.other_files.extend(self.list(root, key));
        }
        if let Some(p) = doc.path(root, &["openapi", "path"]).and_then(|p| self.spanned(p)) {
            k.other_files.push(p);
        }
        if let Some(l) = doc.get(root, "replacements") {
            k.other_files.extend(doc.items(l).iter().filter_map(|&i| doc.get(i, "path")).filter_map(|p| self.spanned(p)));
        }
        if let Some(l) = doc.get(root, "helmCharts") {
            for &c in doc.items(l) {
                k.other_files.extend(doc.get(c, "valuesFile").and_then(|p| self.spanned(p)));
                k.other_files.extend(self.list(c, "additionalValuesFiles"));
            }
        }
        let doc_text = self.text.get(doc.range.start..doc.range.end).unwrap_or("");
        for line in doc_text.lines() {
            let Some(comment) = line.split_once('#').map(|(_, c)| c) else { continue };
            k.commented.extend(
                comment
                    .split(|c: char| c.is_whitespace() || c == ',' || c == '"' || c == '\'')
                    .filter(|w| w.ends_with(".yaml") || w.ends_with(".yml") || w.starts_with("./"))
                    .map(str::to_string),
            );
        }
        let all_disabled =
            is_disabled(doc, root, &["generatorOptions", "annotations"]) || is_disabled(doc, root, &["generatorOptions", "labels"]);
        for (key, gen_kind) in [("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")] {
            let Some(l) = doc.get(root, key) else { continue };
            for &g in doc.items(l) {
                let mut files: Vec<Spanned> = self.list(g, "files");
                files.extend(self.list(g, "envs"));
                files.extend(doc.get(g, "env").and_then(|e| self.spanned(e)));
                k.generators.push(Generator {
                    kind: gen_kind.to_string(),
                    name: doc.path_str(g, &["name"]).unwrap_or("").to_string(),
                    files,
                    substitution_disabled: all_disabled
                        || is_disabled(doc, g, &["options", "annotations"])
                        || is_disabled(doc, g, &["options", "labels"]),
                });
            }
        }
        k
    }

    /// ConfigMaps and Secrets a kustomization generates, with the keys it says they hold.
    fn generated_sources(&self, root: NodeId, k: &KustomizeFile) -> Vec<VarSource> {
        let doc = self.doc;
        let ns = k.namespace.clone();
        let mut out = Vec::new();
        for (key, kind) in [("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")] {
            let Some(l) = doc.get(root, key) else { continue };
            for &g in doc.items(l) {
                let Some(name_node) = doc.get(g, "name") else { continue };
                let Some(name) = doc.scalar(name_node).filter(|n| !n.is_empty()) else { continue };
                let mut keys = Vec::new();
                if let Some(lits) = doc.get(g, "literals") {
                    for &lit in doc.items(lits) {
                        if let Some((k, v)) = doc.scalar(lit).and_then(|s| s.split_once('=')) {
                            keys.push(VarDef { name: k.trim().to_string(), value: VarValue::Plain(v.to_string()), line: self.line(lit) });
                        }
                    }
                }
                if let Some(files) = doc.get(g, "files") {
                    for &f in doc.items(files) {
                        let Some(s) = doc.scalar(f) else { continue };
                        let (key, path) = s.split_once('=').unwrap_or_else(|| (s.rsplit('/').next().unwrap_or(s), s));
                        keys.push(VarDef {
                            name: key.trim().to_string(),
                            value: VarValue::FromFile(path.trim().to_string()),
                            line: self.line(f),
                        });
                    }
                }
                let complete = doc.get(g, "envs").is_none()
                    && doc.get(g, "env").is_none()
                    && doc.path_str(g, &["behavior"]).is_none_or(|b| b == "create");
                out.push(VarSource {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    namespace: doc.path_str(g, &["namespace"]).map(str::to_string).or_else(|| ns.clone()),
                    file: self.file.to_path_buf(),
                    line: self.line(name_node),
                    keys,
                    complete,
                });
            }
        }
        out
    }

    /// A written ConfigMap or Secret: its `data` (and a Secret's `stringData`) keys.
    fn var_source(&self, root: NodeId, kind: &str) -> Option<VarSource> {
        let doc = self.doc;
        let name_node = doc.path(root, &["metadata", "name"])?;
        let name = doc.scalar(name_node).filter(|n| !n.is_empty())?;
        let mut keys = Vec::new();
        let sections: &[&str] = if kind == "Secret" { &["data", "stringData"] } else { &["data"] };
        for section in sections {
            let Some(m) = doc.get(root, section) else { continue };
            for &(k, v) in doc.entries(m) {
                let Some(key) = doc.scalar(k) else { continue };
                let value = doc.scalar(v).unwrap_or("");
                let value = if value.starts_with("ENC[") { VarValue::Encrypted } else { VarValue::Plain(value.to_string()) };
                keys.push(VarDef { name: key.to_string(), value, line: self.line(k) });
            }
        }
        Some(VarSource {
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: doc.path_str(root, &["metadata", "namespace"]).map(str::to_string),
            file: self.file.to_path_buf(),
            line: self.line(name_node),
            keys,
            complete: true,
        })
    }
}
