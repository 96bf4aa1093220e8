//! Golden tests: `homelab-lsp render` over each corpus equals makejinja's output byte for
//! byte, with exactly the same files and directories.

mod support;

use homelab_lsp::workspace::{DiskVfs, EntryKind, Project, RenderOutcome};
use support::*;

fn golden(name: &str) {
    let Some(corpora) = corpora_dir() else { return };
    let repo = corpus_copy(&corpora, name);
    let out = tempfile::tempdir().unwrap();
    let (code, _stdout, stderr) =
        run_cli(&["render", "--root", repo.path().to_str().unwrap(), "--output", out.path().to_str().unwrap()], repo.path());
    assert_eq!(code, 0, "render failed for {name}:\n{stderr}");
    let expected_root = corpora.join(format!("{name}.rendered"));
    let expected = read_tree(&expected_root);
    let got = read_tree(out.path());
    let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{name}: file sets differ\n  missing: {missing:?}\n  extra: {extra:?}");
    let mut mismatches = Vec::new();
    for (path, want) in &expected {
        let have = &got[path];
        if !same_modulo_bcrypt(want, have) {
            mismatches.push(format!("{path}: {}", first_difference(want, have)));
        }
    }
    assert!(mismatches.is_empty(), "{name}: {} of {} files differ:\n{}", mismatches.len(), expected.len(), mismatches.join("\n"));
    assert_eq!(read_dirs(&expected_root), read_dirs(out.path()), "{name}: directory sets differ");
}

#[test]
fn golden_cluster_template_bootstrap() {
    golden("cluster-template-bootstrap");
}

#[test]
fn golden_cluster_template_bootstrap_k3s() {
    golden("cluster-template-bootstrap-k3s");
}

#[test]
fn golden_cluster_template_yaml() {
    golden("cluster-template-yaml");
}

/// The instrumented render behind previews and jump-to-source prints the same text as the
/// plain render, for every template of every corpus, and maps every non-blank line.
#[test]
fn traced_render_matches_plain_render_on_corpora() {
    let Some(corpora) = corpora_dir() else { return };
    for name in CORPORA {
        let repo = corpus_copy(&corpora, name);
        let root = std::fs::canonicalize(repo.path()).unwrap();
        let project = Project::discover(&root, &DiskVfs).unwrap();
        let renderer = project.renderer(Default::default());
        let mut checked = 0;
        for entry in project.inventory.entries.iter().filter(|e| e.kind == EntryKind::Template) {
            let RenderOutcome::Text(plain) = project.render_entry(&renderer, entry) else { continue };
            let traced = project.render_entry_traced(&renderer, entry).unwrap();
            assert_eq!(plain, traced.text, "{name}/{}: traced text differs", entry.name);
            let map = traced.line_map.unwrap();
            for (i, line) in plain.lines().enumerate() {
                if !line.trim().is_empty() {
                    assert!(map.origin(i).is_some(), "{name}/{}: output line {} ({line:?}) has no origin", entry.name, i + 1);
                }
            }
            checked += 1;
        }
        assert!(checked > 50, "{name}: only {checked} templates checked");
    }
}

/// The render fuel (which also bounds the memory one render may take) leaves every real
/// template at least ten times what it uses: lowering it to bound memory changes no output.
#[test]
fn corpus_templates_use_under_a_tenth_of_the_render_fuel() {
    let Some(corpora) = corpora_dir() else { return };
    let mut most = (0, String::new());
    for name in CORPORA {
        let repo = corpus_copy(&corpora, name);
        let root = std::fs::canonicalize(repo.path()).unwrap();
        let project = Project::discover(&root, &DiskVfs).unwrap();
        let renderer = project.renderer(Default::default());
        let mut measured = 0;
        for entry in project.inventory.entries.iter().filter(|e| e.kind == EntryKind::Template) {
            let Some(used) = renderer.fuel_used(&entry.name) else { continue };
            measured += 1;
            if used > most.0 {
                most = (used, format!("{name}/{}", entry.name));
            }
        }
        assert!(measured > 50, "{name}: only {measured} templates measured");
    }
    let budget = homelab_lsp::template::budget::RENDER_FUEL;
    eprintln!("most fuel used: {} by {}", most.0, most.1);
    assert!(most.0 * 10 < budget, "{} uses {} of {budget} fuel", most.1, most.0);
}
