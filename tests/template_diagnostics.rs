//! Diagnostics on templates: each rule fires at the exact template line (checks on the
//! rendered output are mapped back through the line map) and stays quiet on the guarded,
//! referenced and suppressed forms.

mod support;

use homelab_lsp::ide::diagnostics::{file_diagnostics, repo_index, Diag};
use homelab_lsp::ide::ProjectAnalysis;
use homelab_lsp::workspace::{DiskVfs, Project};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::*;

fn project(fixture: &str, undefined: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = format!(
        "//- /makejinja.toml\n[makejinja]\ninputs = [\"./templates\"]\noutput = \"./\"\ndata = [\"./config.yaml\"]\njinja_suffix = \".j2\"\nundefined = \"{undefined}\"\nexclude_patterns = [\"*.partial.yaml.j2\"]\n[makejinja.delimiter]\nblock_start = \"#%\"\nblock_end = \"%#\"\ncomment_start = \"#|\"\ncomment_end = \"#|\"\nvariable_start = \"#{{\"\nvariable_end = \"}}#\"\n"
    );
    write_fixture(tmp.path(), &format!("{cfg}{fixture}"));
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    (tmp, root)
}

fn analysis(root: &Path, docs: &[(&str, &str)]) -> ProjectAnalysis {
    let project = Project::discover(root, &DiskVfs).unwrap();
    let docs: HashMap<PathBuf, Arc<str>> = docs.iter().map(|(p, t)| (root.join(p), Arc::from(*t))).collect();
    ProjectAnalysis::new(Arc::new(project), Arc::new(docs))
}

fn diags(pa: &ProjectAnalysis, rel: &str) -> Vec<Diag> {
    let index = repo_index(pa);
    file_diagnostics(pa, &pa.project.config.root.join(rel), Some(&index))
}

/// (code, 1-based line) of each diagnostic.
fn codes_lines(pa: &ProjectAnalysis, rel: &str) -> Vec<(&'static str, usize)> {
    let text = pa.text(&pa.project.config.root.join(rel)).unwrap();
    diags(pa, rel).iter().map(|d| (d.code, text[..d.range.start].matches('\n').count() + 1)).collect()
}

const GATEWAY: &str = "//- /kubernetes/gateway.yaml
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: internal
  namespace: network
spec:
  gatewayClassName: cilium
  listeners:
    - name: https
      protocol: HTTPS
      port: 443
";

#[test]
fn missing_parent_refs_lands_on_the_template_line_through_a_loop_and_its_fix_applies() {
    let fixture = format!(
        "{GATEWAY}//- /config.yaml
apps: [web, api]
//- /templates/routes.yaml.j2
#% for app in apps %#
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: #{{ app }}#
spec:
  hostnames: [\"#{{ app }}#.example.com\"]
#% endfor %#
"
    );
    let (_t, root) = project(&fixture, "chainable");
    let pa = analysis(&root, &[]);
    let got: Vec<Diag> = diags(&pa, "templates/routes.yaml.j2");
    let mpr: Vec<&Diag> = got.iter().filter(|d| d.code == "missing-parent-refs").collect();
    assert!(!mpr.is_empty(), "{got:?}");
    let text = pa.text(&root.join("templates/routes.yaml.j2")).unwrap();
    for d in &mpr {
        assert_eq!(&text[d.range.clone()], "kind: HTTPRoute", "lands on the template's kind line");
    }
    // The fix edits the template and names the Gateway the repo defines.
    let fix = mpr[0].fixes.first().expect("a parentRefs fix on the template");
    let mut fixed = text.to_string();
    let mut edits = fix.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.1.start));
    for (p, r, t) in edits {
        assert_eq!(p, root.join("templates/routes.yaml.j2"));
        fixed.replace_range(r, &t);
    }
    assert!(fixed.contains("parentRefs") && fixed.contains("internal"), "{fixed}");
    let pa2 = analysis(&root, &[("templates/routes.yaml.j2", &fixed)]);
    assert!(codes_lines(&pa2, "templates/routes.yaml.j2").iter().all(|(c, _)| *c != "missing-parent-refs"), "{fixed}");
}

#[test]
fn undefined_variables_fire_unless_guarded() {
    let fixture = "//- /config.yaml
domain: example.com
flags:
  enabled: true
//- /templates/app.yaml.j2
a: #{ domian }#
b: #{ flags.enabeld }#
c: #{ missing | default('x') }#
#% if missing is defined %#
d: #{ missing }#
#% endif %#
#% if other %#
e: #{ other.x }#
#% endif %#
f: #{ missing2 is defined }#
#% for x in [1] %#
g: #{ x }# #{ loop.index }#
#% endfor %#
";
    let (_t, root) = project(fixture, "chainable");
    let pa = analysis(&root, &[]);
    let got = diags(&pa, "templates/app.yaml.j2");
    let undefined: Vec<(usize, &str)> = got
        .iter()
        .filter(|d| d.code == "undefined-variable")
        .map(|d| (pa.text(&root.join("templates/app.yaml.j2")).unwrap()[..d.range.start].matches('\n').count() + 1, d.message.as_str()))
        .collect();
    assert_eq!(
        undefined,
        vec![
            (1, "'domian' is not defined in the data; did you mean 'domain'?"),
            (2, "'flags.enabeld' is not defined in the data; did you mean 'flags.enabled'?")
        ],
        "{got:?}"
    );
    assert!(got.iter().filter(|d| d.code == "undefined-variable").all(|d| d.severity == homelab_lsp::yaml::Severity::Warning));
    // Under strict, it is an error (the render fails on it).
    let (_t2, root2) = project(fixture, "strict");
    let pa2 = analysis(&root2, &[]);
    let strict = diags(&pa2, "templates/app.yaml.j2");
    assert!(strict.iter().any(|d| d.code == "undefined-variable" && d.severity == homelab_lsp::yaml::Severity::Error), "{strict:?}");
}

#[test]
fn syntax_unknown_names_includes_and_render_errors() {
    let fixture = "//- /config.yaml
n: 3
//- /templates/syntax.yaml.j2
ok: 1
bad: #{ n + }#
//- /templates/names.yaml.j2
a: #{ n | no_such_filter }#
b: #{ no_such_function(1) }#
c: #{ n | lower }#
#% include 'partials/missing.partial.yaml.j2' %#
//- /templates/runtime.yaml.j2
x: #{ n / 0 }#
";
    let (_t, root) = project(fixture, "chainable");
    let pa = analysis(&root, &[]);
    let syn = diags(&pa, "templates/syntax.yaml.j2");
    let text = pa.text(&root.join("templates/syntax.yaml.j2")).unwrap();
    let d = syn.iter().find(|d| d.code == "template-syntax").expect("syntax error");
    assert_eq!(text[..d.range.start].matches('\n').count(), 1, "on line 2");
    assert_eq!(codes_lines(&pa, "templates/names.yaml.j2"), vec![("unknown-filter", 1), ("unknown-function", 2), ("missing-include", 4)]);
    let rt = codes_lines(&pa, "templates/runtime.yaml.j2");
    assert_eq!(rt, vec![("render-error", 1)]);
}

#[test]
fn rendered_yaml_checks_map_back_and_suppressions_work() {
    let fixture = "//- /config.yaml
password: hunter2
//- /templates/broken.yaml.j2
a: [unclosed
//- /templates/creds.yaml.j2
env:
  - name: DB_PASSWORD
    value: \"#{ password }#\"
  - name: API_TOKEN
    value: \"literal-token-1\"
#| homelab-lsp: ignore[inline-credential] #|
apiKey: literal-value-123
//- /templates/secret.yaml.j2
apiVersion: v1
kind: Secret
metadata:
  name: s
stringData:
  token: abc
";
    let (_t, root) = project(fixture, "chainable");
    let pa = analysis(&root, &[]);
    assert_eq!(codes_lines(&pa, "templates/broken.yaml.j2"), vec![("invalid-yaml", 1)]);
    // Line 3 takes the password from a makejinja variable (a reference, like `${VAR}`);
    // line 5 is a literal; line 7 is suppressed by the comment above it.
    assert_eq!(codes_lines(&pa, "templates/creds.yaml.j2"), vec![("inline-credential", 5)]);
    assert_eq!(codes_lines(&pa, "templates/secret.yaml.j2"), vec![("plaintext-secret", 5)]);
}

#[test]
fn generated_files_edited_and_drifted() {
    let fixture = "//- /config.yaml
v: 1
//- /templates/app.yaml.j2
a: #{ v }#
b: 2
//- /app.yaml
a: 1
b: 3
";
    let (_t, root) = project(fixture, "chainable");
    // On disk the committed file differs from a fresh render: drift on line 2.
    let pa = analysis(&root, &[]);
    assert_eq!(codes_lines(&pa, "app.yaml"), vec![("drift", 2)]);
    // Opened and edited in the editor: generated-file, pointing at the template.
    let pa = analysis(&root, &[("app.yaml", "a: 1\nb: 3\nc: typed\n")]);
    let got = diags(&pa, "app.yaml");
    let d = got.iter().find(|d| d.code == "generated-file").expect("generated-file");
    assert_eq!(d.related[0].path, root.join("templates/app.yaml.j2"));
    assert!(d.message.contains("templates/app.yaml.j2"), "{}", d.message);
    // Both offer to put back what makejinja writes, as an edit of the whole file.
    for (pa, code, text) in [
        (analysis(&root, &[]), "drift", "a: 1\nb: 3\n"),
        (analysis(&root, &[("app.yaml", "a: 1\nb: 3\nc: typed\n")]), "generated-file", "a: 1\nb: 3\nc: typed\n"),
    ] {
        let got = diags(&pa, "app.yaml");
        let d = got.iter().find(|d| d.code == code).unwrap();
        let fix = d.fixes.iter().find(|f| f.title == "Replace with a fresh render of templates/app.yaml.j2").expect("restore fix");
        assert_eq!(fix.edits, vec![(root.join("app.yaml"), 0..text.len(), "a: 1\nb: 2\n".to_string())]);
    }
}

#[test]
fn literal_credentials_are_reported_while_the_template_does_not_render() {
    let (_tmp, root) = project(
        "//- /config.yaml
name: web
db_password: from-data
gh: ghp_0123456789abcdefghijklmnopqrstuvwxyz
//- /templates/app.yaml.j2
apiVersion: v1
kind: ConfigMap
metadata:
  name: #{ name | frobnicate }#
data:
  password: hunter2
  token: #{ db_password }#
  banner: #{ gh }#
",
        "chainable",
    );
    let pa = analysis(&root, &[]);
    let found = codes_lines(&pa, "templates/app.yaml.j2");
    assert_eq!(found, vec![("unknown-filter", 4), ("inline-credential", 6)], "the literal, not the variable: {found:?}");
    let d = diags(&pa, "templates/app.yaml.j2");
    let cred = d.iter().find(|d| d.code == "inline-credential").unwrap();
    assert!(cred.message.ends_with("(found in the template text while it does not render)"), "{}", cred.message);
    // Once it renders, the check on the rendered output takes over: the token comes from a
    // makejinja variable, a reference; a GitHub token is reported wherever it comes from.
    let fixed = std::fs::read_to_string(root.join("templates/app.yaml.j2")).unwrap().replace(" | frobnicate", "");
    let pa = analysis(&root, &[("templates/app.yaml.j2", &fixed)]);
    let found = codes_lines(&pa, "templates/app.yaml.j2");
    assert_eq!(found, vec![("inline-credential", 6), ("inline-credential", 8)], "{found:?}");
    assert!(diags(&pa, "templates/app.yaml.j2").iter().all(|d| !d.message.contains("does not render")));
}
