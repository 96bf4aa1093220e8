//! `check` on repos as people actually open them: a fork without its gitignored data file,
//! a broken data file, Flux repos recognised by their tooling, makejinja options passed on a
//! task runner's command line, YAML every consumer accepts, and drift only where the render
//! can be trusted. Each test writes a small repo of its own.

mod support;

use support::*;

fn repo(fixture: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path(), fixture);
    tmp
}

fn config(extra: &str) -> String {
    format!(
        "//- /makejinja.toml\n[makejinja]\ninputs = [\"./templates\"]\noutput = \"./\"\ndata = [\"./cluster.yaml\"]\njinja_suffix = \".j2\"\nundefined = \"chainable\"\n{extra}\n{HASH_DELIMS}"
    )
}

/// (path, line, severity, code, message) of one report.
type Report = (String, u64, String, String, String);

/// (exit code, reports) of `check --format json`.
fn check(dir: &std::path::Path) -> (i32, Vec<Report>) {
    let (code, stdout, stderr) = run_cli(&["check", "--root", dir.to_str().unwrap(), "--format", "json"], dir);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{stdout}\n{stderr}"));
    let reports = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap(),
                r["severity"].as_str().unwrap().to_string(),
                r["code"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (code, reports)
}

fn codes(reports: &[Report]) -> Vec<(&str, &str)> {
    reports.iter().map(|r| (r.0.as_str(), r.3.as_str())).collect()
}

/// A fork as cloned: templates, committed output, a sample of the gitignored data file.
fn fresh_fork() -> String {
    format!(
        "{}\
//- /.gitignore
/cluster.yaml
//- /Taskfile.yaml
version: '3'
tasks:
  init:
    cmd: cp cluster.sample.yaml cluster.yaml
//- /cluster.sample.yaml
domain: sample.example.com
//- /templates/kubernetes/app.yaml.j2
host: #{{ domain }}#
name: #{{ cluster.name.split('-')[0] }}#
//- /templates/kubernetes/host.yaml.j2
host: #{{ domain }}#
//- /kubernetes/app.yaml
host: real.example.org
name: home
",
        config("")
    )
}

#[test]
fn a_missing_data_file_is_said_once_with_how_to_create_it_and_its_cascade_is_not_reported() {
    let r = repo(&fresh_fork());
    let (code, reports) = check(r.path());
    assert_eq!(codes(&reports), vec![("makejinja.toml", "data-missing")], "{reports:#?}");
    let (_, line, severity, _, message) = &reports[0];
    assert_eq!((*line, severity.as_str()), (4, "info"), "on the `data` line, not an error: nothing in Flux fails");
    assert!(message.starts_with("data file 'cluster.yaml' does not exist (it is gitignored, as in most forks)"), "{message}");
    assert!(message.contains("`cp cluster.sample.yaml cluster.yaml`") && message.contains("`task init`"), "{message}");
    assert!(message.contains("sample data in cluster.sample.yaml"), "{message}");
    assert_eq!(code, 0);
    // makejinja itself refuses to run without the data: so does `render`.
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = run_cli(&["render", "--root", r.path().to_str().unwrap(), "--output", out.path().to_str().unwrap()], r.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("data-missing"), "{err}");
    // With the data file, the same repo's drift and undefined names are reported again.
    std::fs::write(r.path().join("cluster.yaml"), "domain: real.example.org\n").unwrap();
    let (_, reports) = check(r.path());
    let got = codes(&reports);
    assert!(
        got.contains(&("kubernetes/app.yaml", "drift")) || got.contains(&("templates/kubernetes/app.yaml.j2", "render-error")),
        "{got:?}"
    );
    assert!(!got.iter().any(|(_, c)| *c == "data-missing"), "{got:?}");
}

#[test]
fn previews_use_the_sample_data_and_say_so() {
    let r = repo(&fresh_fork());
    let root = std::fs::canonicalize(r.path()).unwrap();
    let project = homelab_lsp::workspace::Project::discover(&root, &homelab_lsp::workspace::DiskVfs).unwrap();
    assert!(!project.data_is_real());
    let samples: Vec<_> = project.sample_data_files().map(|d| d.path.clone()).collect();
    assert_eq!(samples, vec![root.join("cluster.sample.yaml")]);
    let pa = homelab_lsp::ide::ProjectAnalysis::new(std::sync::Arc::new(project), Default::default());
    let preview = homelab_lsp::ide::navigation::rendered_preview(&pa, &root.join("templates/kubernetes/host.yaml.j2")).unwrap();
    assert_eq!(preview.text, "host: sample.example.com\n");
    assert_eq!(preview.data_note.as_deref(), Some("rendered from sample data (cluster.sample.yaml): cluster.yaml is missing"));
    // Hovers say where a value comes from: the sample, labelled.
    let template = root.join("templates/kubernetes/host.yaml.j2");
    let analysis = homelab_lsp::ide::Analysis { projects: vec![std::sync::Arc::new(pa)], settings: Default::default() };
    let offset = std::fs::read_to_string(&template).unwrap().find("domain").unwrap() + 1;
    let hover = homelab_lsp::ide::hover::hover(&analysis, &template, offset, None).unwrap();
    assert!(hover.markdown.contains("sample.example.com"), "{}", hover.markdown);
    assert!(
        hover.markdown.contains("Defined in `cluster.sample.yaml` line 1 — **sample data**: `cluster.yaml` is missing"),
        "{}",
        hover.markdown
    );
}

#[test]
fn a_broken_data_file_exits_2() {
    let fx = format!("{}//- /cluster.yaml\ndomain: [unclosed\n//- /templates/a.yaml.j2\na: 1\n", config(""));
    let r = repo(&fx);
    let (code, reports) = check(r.path());
    assert_eq!(code, 2, "{reports:#?}");
    assert!(codes(&reports).contains(&("cluster.yaml", "data-error")), "{reports:#?}");
}

#[test]
fn flux_repos_are_recognised_by_their_tooling() {
    // onedr0p/home-ops style: `.justfile`, `.minijinja.toml`, a Flux tree, no `.git` (an export).
    let fx = "//- /.justfile\nset quiet\n//- /.minijinja.toml\nstrict = true\n//- /kubernetes/flux/cluster/ks.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  password: hunter2\n";
    let r = repo(fx);
    let (code, reports) = check(r.path());
    assert_eq!(code, 0, "{reports:#?}");
    assert_eq!(codes(&reports), vec![("kubernetes/flux/cluster/ks.yaml", "inline-credential")]);
    // A `kubernetes/` folder with nothing around it is still not taken for a repository.
    let bare = repo("//- /kubernetes/a.yaml\na: 1\n");
    assert_eq!(run_cli(&["check", "--root", bare.path().to_str().unwrap()], bare.path()).0, 2);
}

#[test]
fn makejinja_options_passed_on_the_task_runner_command_line_are_read() {
    let fx = format!(
        "//- /makejinja.toml\n[makejinja]\njinja_suffix = \".j2\"\nundefined = \"chainable\"\n{HASH_DELIMS}\
//- /Taskfile.yaml
version: '3'
vars:
  TEMPLATE_DIR: '{{{{.ROOT_DIR}}}}/templates'
tasks:
  configure:
    cmd: makejinja --input {{{{.TEMPLATE_DIR}}}} --output ./ --data ./config.yaml
//- /config.yaml
domain: example.com
//- /templates/kubernetes/app.yaml.j2
host: #{{ domian }}#
"
    );
    let r = repo(&fx);
    let (code, reports) = check(r.path());
    assert_eq!(code, 0, "{reports:#?}");
    // The template was found through `--input` and rendered with `--data`: the typo shows.
    assert_eq!(codes(&reports), vec![("templates/kubernetes/app.yaml.j2", "undefined-variable")], "{reports:#?}");
    assert!(reports[0].4.contains("did you mean 'domain'"), "{reports:#?}");
}

#[test]
fn options_known_only_at_run_time_are_explained_and_the_yaml_is_still_checked() {
    // kadaan/homelab style: each template piped to kubectl, its path a loop variable.
    let fx = format!(
        "//- /makejinja.toml\n[makejinja]\njinja_suffix = \".j2\"\n{HASH_DELIMS}\
//- /Taskfile.yaml
version: '3'
tasks:
  bootstrap:
    cmds:
      - for: {{ var: TEMPLATES }}
        cmd: makejinja --input '{{{{.ITEM}}}}' --output /dev/stdout | kubectl apply -f -
//- /kubernetes/apps/a.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  password: hunter2
"
    );
    let r = repo(&fx);
    let (code, reports) = check(r.path());
    assert_eq!(code, 0, "{reports:#?}");
    assert_eq!(codes(&reports), vec![("kubernetes/apps/a.yaml", "inline-credential"), ("makejinja.toml", "config-incomplete")]);
    let message = &reports[1].4;
    assert!(message.contains("`makejinja --input '{{.ITEM}}' --output /dev/stdout` (Taskfile.yaml line 6)"), "{message}");
    assert!(message.contains("add `inputs = [\"<template directory>\"]`"), "{message}");
    assert_eq!(reports[1].2, "info");
    // Without any makejinja command line, a makejinja.toml without inputs is still an error.
    std::fs::remove_file(r.path().join("Taskfile.yaml")).unwrap();
    std::fs::write(r.path().join(".sops.yaml"), "creation_rules: []\n").unwrap();
    assert_eq!(run_cli(&["check", "--root", r.path().to_str().unwrap()], r.path()).0, 2);
}

#[test]
fn yaml_that_go_yaml_and_pyyaml_accept_is_not_invalid() {
    let fx = "//- /.sops.yaml\ncreation_rules: []\n\
//- /kubernetes/values.yaml
defaults: &app
  replicas: 1
apps:
  *app: main
podAnnotations: {
   lbipam.cilium.io/ips: \"192.168.1.26\"
  }
securityContext: {
}
spec:
  exec:
    command: [
      \"bash\",
      \"-c\"
    ]
//- /kubernetes/broken.yaml
a: [1, 2
";
    let r = repo(fx);
    let (code, reports) = check(r.path());
    assert_eq!(codes(&reports), vec![("kubernetes/broken.yaml", "invalid-yaml")], "{reports:#?}");
    assert_eq!(code, 1, "truly invalid YAML is still an error");
}

#[test]
fn drift_is_not_reported_where_the_render_uses_a_plugin_name_that_is_not_emulated() {
    let fx = format!(
        "{}\
//- /cluster.yaml
domain: example.com
//- /scripts/plugin.py
class Plugin:
    def functions(self):
        return [stamp]
//- /templates/kubernetes/app.yaml.j2
host: #{{ domain }}#
built: #{{ stamp() }}#
//- /templates/kubernetes/other.yaml.j2
host: #{{ domain }}#
//- /kubernetes/app.yaml
host: example.com
built: 2026-01-01
//- /kubernetes/other.yaml
host: old.example.com
",
        config("import_paths = [\"./scripts\"]\nloaders = [\"plugin:Plugin\"]")
    );
    let r = repo(&fx);
    let (_, reports) = check(r.path());
    let drift: Vec<_> = reports.iter().filter(|r| r.3 == "drift").map(|r| r.0.as_str()).collect();
    assert_eq!(drift, vec!["kubernetes/other.yaml"], "{reports:#?}");
}

#[test]
fn a_missing_key_file_is_in_the_notice_not_a_render_error() {
    let fx = format!(
        "{}//- /cluster.yaml\ndomain: example.com\n//- /templates/kubernetes/sops.yaml.j2\nkey: #{{ age_key('public') }}#\n//- /templates/kubernetes/app.yaml.j2\nhost: #{{ domian }}#\n",
        config("loaders = [\"plugin:Plugin\"]")
    );
    let r = repo(&fx);
    let (code, reports) = check(r.path());
    assert_eq!(
        codes(&reports),
        vec![("makejinja.toml", "data-missing"), ("templates/kubernetes/app.yaml.j2", "undefined-variable")],
        "the data is real, so its checks still run: {reports:#?}"
    );
    assert!(reports[0].4.starts_with("age.key (read by the plugin) does not exist"), "{reports:#?}");
    assert_eq!(code, 0);
}
