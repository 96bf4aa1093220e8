//! The rules the Flux model answers, on one checked text: `undefined-substitution`,
//! `missing-kustomize-resource`, `unlisted-manifest`, `missing-flux-path`,
//! `unknown-depends-on`. Ranges come from the checked text (it may be newer than the
//! index); what the rest of the repository says comes from the model.

use std::path::Path;

use super::model::{is_remote, normalize, FluxModel, Role};
use super::{envsubst, FluxIndex, VarUse, DISABLE_KEY};
use crate::yaml::edit::{add_key, Skeleton};
use crate::yaml::tree::Stream;
use crate::yaml::{Finding, Fix, Related, Severity, TextEdit, TextRange};

/// The Flux findings of `text` (the file at `file`).
pub fn check(stream: &Stream, text: &str, file: &Path, index: &FluxIndex, local: &super::FluxFacts) -> Vec<Finding> {
    let Some(root) = index.root.as_deref() else { return Vec::new() };
    if !file.starts_with(root) {
        return Vec::new();
    }
    let model = index.model();
    let mut out = Vec::new();
    undefined_substitutions(Some(stream), text, file, &local.uses, &model, &mut out);
    kustomize_entries(file, local, &model, &mut out);
    unlisted(file, local, index, &model, &mut out);
    flux_paths(local, &model, root, &mut out);
    out
}

/// A finding without code (set by the caller, where the rule table's scan sees it).
/// `undefined-substitution` in a file a `configMapGenerator`/`secretGenerator` reads
/// (a script, a config file): Flux substitutes the generated object's data, the whole text.
pub fn check_generator_input(text: &str, file: &Path, index: &FluxIndex) -> Vec<Finding> {
    let model = index.model();
    if !model.applied(file).iter().any(|a| matches!(a.role, Role::GeneratorFile { disabled: false })) {
        return Vec::new();
    }
    let uses: Vec<VarUse> = envsubst::scan(text)
        .into_iter()
        .map(|e| VarUse {
            range: TextRange::new(e.start, e.end),
            name_range: TextRange::new(e.name_start, e.name_start + e.name.len()),
            name: e.name,
            has_default: e.has_default,
            disabled: false,
        })
        .collect();
    let mut out = Vec::new();
    undefined_substitutions(None, text, file, &uses, &model, &mut out);
    out
}

/// Non-YAML files generators read, for `check` to visit.
pub fn generator_inputs(index: &FluxIndex) -> Vec<std::path::PathBuf> {
    let model = index.model();
    let mut out: Vec<_> = index
        .other_paths
        .iter()
        .filter(|p| model.applied(p).iter().any(|a| matches!(a.role, Role::GeneratorFile { disabled: false })))
        .cloned()
        .collect();
    out.sort();
    out
}

fn finding(severity: Severity, range: TextRange, message: String) -> Finding {
    Finding { code: "", severity, range, message, related: Vec::new(), fixes: Vec::new() }
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A `${VAR}` without default that no scope defines, in a file every Kustomization that
/// applies it substitutes with fully known variables: Flux (strict substitution, the
/// default since 2.9) fails the build.
fn undefined_substitutions(stream: Option<&Stream>, text: &str, file: &Path, uses: &[VarUse], model: &FluxModel, out: &mut Vec<Finding>) {
    if uses.is_empty() {
        return;
    }
    let scopes = model.scopes(file);
    if scopes.is_empty() || !scopes.iter().all(|(_, s)| s.substitutes && s.complete) {
        return;
    }
    for u in uses.iter().filter(|u| !u.has_default && !u.disabled) {
        if scopes.iter().any(|(_, s)| s.get(&u.name).is_some()) {
            continue;
        }
        let (ks, scope) = scopes[0];
        let mut sources: Vec<String> = scope.vars.iter().map(|v| v.via.clone()).collect();
        sources.sort();
        sources.dedup();
        let message = format!(
            "'${{{name}}}' is not defined by Flux Kustomization '{ks}' ({file}; variables from {from}): strict substitution fails its build",
            name = u.name,
            ks = ks.def.name,
            file = file_name(&ks.file),
            from = sources.join(", "),
        );
        let mut f = Finding { code: "undefined-substitution", ..finding(Severity::Error, u.range, message) };
        f.related.push(Related {
            file: ks.file.clone(),
            range: None,
            line: Some(ks.def.line),
            message: format!("Flux Kustomization '{}'", ks.def.name),
        });
        f.fixes.push(Fix {
            title: format!("Escape as $${{{}}} (keep it literal)", u.name),
            edits: vec![TextEdit { range: TextRange::new(u.range.start, u.range.start), new_text: "$".into() }],
        });
        if let Some(edit) = stream.and_then(|stream| disable_annotation(stream, text, u.range.start)) {
            f.fixes.push(Fix { title: format!("Add the annotation {DISABLE_KEY}: disabled to this object"), edits: vec![edit] });
        }
        out.push(f);
    }
}

/// An edit adding `kustomize.toolkit.fluxcd.io/substitute: disabled` to the annotations of
/// the document holding `offset`.
fn disable_annotation(stream: &Stream, text: &str, offset: usize) -> Option<TextEdit> {
    let doc = stream.docs.iter().find(|d| d.range.start <= offset && offset <= d.range.end)?;
    let root = doc.root?;
    let metadata = doc.get(root, "metadata")?;
    let value = Skeleton::str("disabled");
    match doc.get(metadata, "annotations") {
        Some(a) if doc.is_mapping(a) && !doc.entries(a).is_empty() => add_key(text, doc, a, DISABLE_KEY, &value),
        Some(_) => None,
        None => add_key(text, doc, metadata, "annotations", &Skeleton::map(&[(DISABLE_KEY, value)])),
    }
}

/// `resources:`/`components:` entries that name nothing in the repository.
fn kustomize_entries(file: &Path, local: &super::FluxFacts, model: &FluxModel, out: &mut Vec<Finding>) {
    let Some(k) = &local.kustomize else { return };
    let Some(dir) = file.parent() else { return };
    let Some(root) = model.root.as_deref() else { return };
    for (key, e) in k.resources.iter().map(|e| ("resources", e)).chain(k.components.iter().map(|e| ("components", e))) {
        if is_remote(&e.value) || e.value.contains("${") {
            continue;
        }
        let p = normalize(&dir.join(&e.value));
        // Only what the repository walk sees: nothing hidden, nothing outside the root.
        let hidden = p.strip_prefix(root).map_or(true, |rel| rel.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.')));
        if hidden || model.exists(&p) {
            continue;
        }
        out.push(Finding {
            code: "missing-kustomize-resource",
            ..finding(Severity::Error, e.range, format!("'{}' in {key} does not exist: kustomize build fails", e.value))
        });
    }
}

/// A manifest beside a `kustomization.yaml` that Flux builds, listed by no kustomization.
fn unlisted(file: &Path, local: &super::FluxFacts, index: &FluxIndex, model: &FluxModel, out: &mut Vec<Finding>) {
    if !local.manifest || local.kustomize.is_some() || !model.applied(file).is_empty() || model.is_referenced(file) {
        return;
    }
    let name = file_name(file);
    if name.starts_with('.') || !(name.ends_with(".yaml") || name.ends_with(".yml")) {
        return;
    }
    let Some(dir) = file.parent() else { return };
    let Some(kfile) = model.kustomization_file(dir) else { return };
    // A template lists files depending on the data (`#% if %#`): not knowable here.
    if index.generated.contains(file) || index.generated.contains(kfile) {
        return;
    }
    if !model.applied(kfile).iter().any(|a| a.role == Role::Kustomization) {
        return;
    }
    // Named in a comment of the kustomization (`# - ./grafana.yaml`): left out on purpose.
    let commented = index.files.get(kfile).and_then(|f| f.kustomize.as_ref()).is_some_and(|k| {
        k.commented.iter().any(|c| normalize(&dir.join(c)) == file || Path::new(c).file_name().is_some_and(|n| n.to_string_lossy() == name))
    });
    if commented {
        return;
    }
    let ks = model.applied(kfile).iter().find(|a| a.role == Role::Kustomization).map(|a| &model.kustomizations[a.ks]);
    let mut f = Finding {
        code: "unlisted-manifest",
        ..finding(
            Severity::Warning,
            TextRange::new(0, 0),
            format!(
                "{name} is not listed in {}: Flux Kustomization '{}' does not apply it; add it to resources or delete it",
                file_name(kfile),
                ks.map(|k| k.def.name.as_str()).unwrap_or("")
            ),
        )
    };
    f.related.push(Related { file: kfile.to_path_buf(), range: None, line: Some(0), message: "the kustomization".into() });
    out.push(f);
}

/// `spec.path` of a Kustomization whose source is this repository that does not exist,
/// and `dependsOn` naming no Kustomization of the repository.
fn flux_paths(local: &super::FluxFacts, model: &FluxModel, root: &Path, out: &mut Vec<Finding>) {
    for k in &local.kustomizations {
        if let (Some(path), Some(source)) = (&k.path, &k.source) {
            let dir = normalize(&root.join(path.value.trim_start_matches('/')));
            if model.is_repo_source(source) && !path.value.contains("${") && !model.is_dir(&dir) {
                out.push(Finding {
                    code: "missing-flux-path",
                    ..finding(
                        Severity::Error,
                        path.range,
                        format!(
                            "spec.path '{}' does not exist in this repository ({} {}): the Kustomization fails",
                            path.value, source.0, source.1
                        ),
                    )
                });
            }
        }
        for d in &k.depends_on {
            // Without an explicit namespace Flux looks in the Kustomization's own, which
            // kustomize may have changed: the name alone is compared then.
            let ns = d.namespace.as_deref();
            if d.name.value.contains("${") || model.named(&d.name.value, ns).next().is_some() {
                continue;
            }
            out.push(Finding {
                code: "unknown-depends-on",
                ..finding(
                    Severity::Warning,
                    d.name.range,
                    format!(
                        "dependsOn '{}': no Flux Kustomization of that name is defined in this repository; it never becomes ready",
                        d.name.value
                    ),
                )
            });
        }
    }
}
