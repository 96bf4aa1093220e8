//! The makejinja rules on fresh fixture repos the engine has never seen, through the real
//! `render` CLI, plus the line map through loops, includes, filter blocks and whitespace
//! control, and bad input.

mod support;

use homelab_lsp::workspace::{DiskVfs, Project};
use support::*;

fn repo(fixture: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path(), fixture);
    tmp
}

fn render_tree(dir: &std::path::Path) -> (i32, std::collections::BTreeMap<String, Vec<u8>>, String) {
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = run_cli(&["render", "--root", dir.to_str().unwrap(), "--output", out.path().to_str().unwrap()], dir);
    (code, read_tree(out.path()), err)
}

fn text(tree: &std::collections::BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(tree.get(path).unwrap_or_else(|| panic!("{path} missing; have {:?}", tree.keys().collect::<Vec<_>>())).clone())
        .unwrap()
}

fn config(extra: &str) -> String {
    config_with(extra, "\"./templates\"")
}

fn config_with(extra: &str, inputs: &str) -> String {
    format!("//- /makejinja.toml\n[makejinja]\ninputs = [{inputs}]\noutput = \"./\"\ndata = [\"./config.yaml\"]\njinja_suffix = \".j2\"\nundefined = \"chainable\"\nexclude_patterns = [\"*.partial.yaml.j2\", \".mjfilter.py\"]\n{extra}\n{HASH_DELIMS}")
}

#[test]
fn suffix_precedence_copy_exclusion_and_empty_output() {
    let fx = format!(
        "{}\
//- /config.yaml
name: demo
enabled: false
//- /templates/a/app.yaml.j2
name: #{{ name }}#
//- /templates/a/values.yaml.gotmpl.j2
v: 1
//- /templates/a/double.yaml.j2.j2
x: 1
//- /templates/a/plain.txt
copied #{{ verbatim }}#
//- /templates/a/over.yaml.j2
from: templates
//- /overrides/a/over.yaml.j2
from: overrides
//- /templates/a/skip.partial.yaml.j2
partial: 1
//- /templates/flag/feature.yaml.j2
#% if enabled %#
on: true
#% endif %#
//- /templates/.hidden.yaml.j2
hidden: #{{ name }}#
",
        config_with("", "\"./overrides\", \"./templates\"")
    );
    let r = repo(&fx);
    let (code, tree, err) = render_tree(r.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(text(&tree, "a/app.yaml"), "name: demo\n");
    assert_eq!(text(&tree, "a/values.yaml.gotmpl"), "v: 1\n");
    assert_eq!(text(&tree, "a/double.yaml.j2"), "x: 1\n", "only the last suffix is removed");
    assert_eq!(text(&tree, "a/plain.txt"), "copied #{ verbatim }#\n", "non-templates are copied verbatim");
    assert_eq!(text(&tree, "a/over.yaml"), "from: overrides\n", "the first input wins");
    assert_eq!(text(&tree, ".hidden.yaml"), "hidden: demo\n");
    assert!(!tree.contains_key("a/skip.partial.yaml"), "excluded");
    assert!(!tree.contains_key("flag/feature.yaml"), "whitespace-only output writes no file");
    let out = tempfile::tempdir().unwrap();
    run_cli(&["render", "--root", r.path().to_str().unwrap(), "--output", out.path().to_str().unwrap()], r.path());
    assert!(!out.path().join("flag").exists(), "directories left empty are removed");
}

#[test]
fn yaml_11_scalars_print_like_python() {
    let fx = format!(
        "{}\
//- /config.yaml
b1: yes
b2: off
oct: 0755
under: 1_000
hex: 0x1F
sexa: 1:30
f: 1.0e+3
notfloat: 1e3
nul: ~
quoted: \"0755\"
lst: [a, 1, true, null, 1.5]
dct: {{k: v, n: 1}}
date: 2024-01-01
//- /templates/out.txt.j2
#{{ b1 }}# #{{ b2 }}# #{{ oct }}# #{{ under }}# #{{ hex }}# #{{ sexa }}# #{{ f }}# #{{ notfloat }}# #{{ nul }}# #{{ quoted }}#
#{{ lst }}# #{{ dct }}# #{{ date }}#
",
        config("")
    );
    let r = repo(&fx);
    let (code, tree, err) = render_tree(r.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        text(&tree, "out.txt"),
        "True False 493 1000 31 90 1000.0 1e3 None 0755\n['a', 1, True, None, 1.5] {'k': 'v', 'n': 1} 2024-01-01\n"
    );
}

#[test]
fn toml_data_and_custom_delimiters() {
    let fx = "//- /makejinja.toml
[makejinja]
inputs = [\"./t\"]
output = \"./out\"
data = [\"./vars.toml\"]
jinja_suffix = \".tmpl\"
[makejinja.delimiter]
block_start = \"<%\"
block_end = \"%>\"
variable_start = \"<<\"
variable_end = \">>\"
comment_start = \"<#\"
comment_end = \"#>\"
//- /vars.toml
[cluster]
name = \"lab\"
nodes = [\"a\", \"b\"]
//- /t/x.yaml.tmpl
<# a comment #>
<% for n in cluster.nodes %>
- << n >>.<< cluster.name >> {{ untouched }}
<% endfor %>
";
    let r = repo(fx);
    let (code, tree, err) = render_tree(r.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(text(&tree, "x.yaml"), "- a.lab {{ untouched }}\n- b.lab {{ untouched }}\n");
}

#[test]
fn strict_and_chainable_undefined() {
    let body = "//- /config.yaml\na: 1\n//- /templates/x.yaml.j2\nv: \"#{ missing.deep.key }#\"\n";
    let chainable = repo(&format!("{}{body}", config("")));
    let (code, tree, err) = render_tree(chainable.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(text(&tree, "x.yaml"), "v: \"\"\n");
    let strict = repo(&format!("{}{body}", config("").replace("undefined = \"chainable\"", "undefined = \"strict\"")));
    let (code, _, err) = render_tree(strict.path());
    assert_eq!(code, 1);
    assert!(err.contains("x.yaml.j2:1:"), "error names file:line:col: {err}");
    assert!(err.contains("undefined"), "{err}");
}

#[test]
fn includes_resolve_through_inputs_in_order_and_stay_inside() {
    let fx = format!(
        "{}\
//- /config.yaml
items: [1, 2]
//- /templates/partials/p.partial.yaml.j2
#% for i in items %#
- #{{ i }}#
#% endfor %#
//- /overrides/partials/o.partial.yaml.j2
over: true
//- /templates/partials/o.partial.yaml.j2
over: false
//- /templates/main.yaml.j2
list:
  #% filter indent(width=2, first=True) %#
  #% include 'partials/p.partial.yaml.j2' %#
  #% endfilter %#
#% include 'partials/o.partial.yaml.j2' %#
//- /templates/escape.yaml.j2
#% include '../config.yaml' %#
",
        config_with("", "\"./overrides\", \"./templates\"")
    );
    let r = repo(&fx);
    let (code, tree, err) = render_tree(r.path());
    assert_eq!(text(&tree, "main.yaml"), "list:\n  - 1\n  - 2\nover: true\n");
    assert_eq!(code, 1, "the escaping include fails");
    assert!(err.contains("escape.yaml.j2:1:"), "{err}");
    assert!(err.contains("escapes the template inputs"), "{err}");
    assert!(!tree.contains_key("escape.yaml"));
}

#[test]
fn path_filters() {
    let fx = format!(
        "{}\
//- /config.yaml
bootstrap_distribution: talos
cloudflare:
  enabled: true
nodes:
  - controller: true
//- /templates/k3s/.mjfilter.py
main = lambda data: data.get(\"bootstrap_distribution\", \"k3s\") == \"k3s\"
//- /templates/k3s/x.yaml.j2
k3s: 1
//- /templates/cf/.mjfilter.py
main = lambda data: bool((data.get(\"cloudflare\") or {{}}).get(\"enabled\"))
//- /templates/cf/sub/y.yaml.j2
cf: 1
//- /templates/workers/.mjfilter.py
main = lambda data: any(
    n.get(\"controller\") is False for n in data.get(\"nodes\", [])
)
//- /templates/workers/w.yaml.j2
w: 1
//- /templates/odd/.mjfilter.py
import os
main = lambda data: os.path.exists(\"/x\")
//- /templates/odd/o.yaml.j2
o: 1
",
        config("")
    );
    let r = repo(&fx);
    let (code, tree, err) = render_tree(r.path());
    assert_eq!(code, 0, "{err}");
    assert!(!tree.contains_key("k3s/x.yaml"));
    assert_eq!(text(&tree, "cf/sub/y.yaml"), "cf: 1\n");
    assert!(!tree.contains_key("workers/w.yaml"));
    assert_eq!(text(&tree, "odd/o.yaml"), "o: 1\n", "an unevaluable filter renders");
    assert!(err.contains(".mjfilter.py") && err.contains("cannot evaluate"), "reported: {err}");
}

#[test]
fn line_map_through_loops_includes_filters_and_whitespace_control() {
    let fx = format!(
        "{}\
//- /config.yaml
nodes: [a, b]
//- /templates/partials/p.partial.yaml.j2
x: 1
y: 2
//- /templates/m.yaml.j2
head: 1
#% for n in nodes %#
- name: #{{ n }}#
  idx: #{{ loop.index }}#
#% endfor %#
nested:
  #% filter indent(width=2, first=True) %#
  #% include 'partials/p.partial.yaml.j2' %#
  #% endfilter %#
tight: #%- if true -%# yes #%- endif %#
tail: 1
",
        config("")
    );
    let r = repo(&fx);
    let root = std::fs::canonicalize(r.path()).unwrap();
    let project = Project::discover(&root, &DiskVfs).unwrap();
    let renderer = project.renderer(Default::default());
    let plain = renderer.render("m.yaml.j2").unwrap();
    let traced = renderer.render_with_line_map("m.yaml.j2").unwrap();
    assert_eq!(plain, traced.text);
    let map = traced.line_map.unwrap();
    let got: Vec<(String, Option<(String, u32)>)> =
        plain.lines().enumerate().map(|(i, l)| (l.to_string(), map.origin(i).map(|(n, l)| (n.to_string(), l)))).collect();
    let m = |l: u32| Some(("m.yaml.j2".to_string(), l));
    let p = |l: u32| Some(("partials/p.partial.yaml.j2".to_string(), l));
    assert_eq!(
        got,
        vec![
            ("head: 1".into(), m(0)),
            ("- name: a".into(), m(2)),
            ("  idx: 1".into(), m(3)),
            ("- name: b".into(), m(2)),
            ("  idx: 2".into(), m(3)),
            ("nested:".into(), m(5)),
            ("  x: 1".into(), p(0)),
            ("  y: 2".into(), p(1)),
            ("tight:yestail: 1".into(), m(9)),
        ]
    );
}

#[test]
fn bad_input_gives_clear_errors_without_panics() {
    // Malformed makejinja.toml: exit 2 with file:line.
    let r = repo("//- /makejinja.toml\n[makejinja]\ninputs = [\"./t\"\n");
    let (code, _, err) = run_cli(&["render", "--root", r.path().to_str().unwrap(), "--output", "/tmp/never-written"], r.path());
    assert_eq!(code, 2);
    assert!(err.contains("makejinja.toml:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // YAML syntax error in data: exit 2 with the data file's line.
    let r = repo(&format!("{}//- /config.yaml\na: 1\nb: [unclosed\n//- /templates/x.yaml.j2\nx: 1\n", config("")));
    let (code, _, err) = render_tree(r.path());
    assert_eq!(code, 2);
    assert!(err.contains("config.yaml:"), "{err}");

    // Missing data file.
    let r = repo(&format!("{}//- /templates/x.yaml.j2\nx: 1\n", config("")));
    let (code, _, err) = render_tree(r.path());
    assert_eq!(code, 2);
    assert!(err.contains("config.yaml") && err.contains("does not exist"), "{err}");

    // Template syntax error: that template fails with a position, the others render.
    let r = repo(&format!(
        "{}//- /config.yaml\na: 1\n//- /templates/bad.yaml.j2\nok: 1\nx: #{{ a + }}#\n//- /templates/good.yaml.j2\ng: #{{ a }}#\n",
        config("")
    ));
    let (code, tree, err) = render_tree(r.path());
    assert_eq!(code, 1);
    assert!(err.contains("bad.yaml.j2:2:"), "{err}");
    assert_eq!(text(&tree, "good.yaml"), "g: 1\n");

    // Non-UTF-8 template and a 10 MB template.
    let r = repo(&format!("{}//- /config.yaml\na: 1\n//- /templates/good.yaml.j2\ng: 1\n", config("")));
    std::fs::write(r.path().join("templates/latin1.yaml.j2"), b"name: caf\xe9\n").unwrap();
    let big: String = "line: #{ a }#\n".repeat(10 * 1024 * 1024 / 14);
    std::fs::write(r.path().join("templates/big.yaml.j2"), &big).unwrap();
    let (code, tree, err) = render_tree(r.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("latin1.yaml.j2") && err.contains("not valid UTF-8") && err.contains("line 1, column 10"), "{err}");
    assert_eq!(tree.get("big.yaml").map(|b| b.len()), Some(big.len() / 14 * 8), "the 10 MB template renders");
    assert_eq!(text(&tree, "good.yaml"), "g: 1\n");
}

#[test]
fn plugin_names_not_emulated_render_as_placeholders_and_are_reported() {
    let fx = format!(
        "{}\
//- /config.yaml
net: 10.0.0.0/24
//- /scripts/plugin.py
import netaddr

class Plugin:
    def filters(self):
        return [
            nthhost,
            my_filter,
        ]

    def functions(self):
        return [my_function]
//- /templates/x.yaml.j2
gw: #{{ net | nthhost(1) }}#
a: #{{ net | my_filter }}#
b: #{{ my_function() }}#
",
        config("import_paths = [\"./scripts\"]\nloaders = [\"plugin:Plugin\"]")
    );
    let r = repo(&fx);
    // The emulation's behaviour; run for real, this plugin raises NameError (tests/bridge_render.rs).
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = run_cli(
        &["render", "--plugins", "emulate", "--root", r.path().to_str().unwrap(), "--output", out.path().to_str().unwrap()],
        r.path(),
    );
    let tree = read_tree(out.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        text(&tree, "x.yaml"),
        "gw: 10.0.0.1\na: <homelab-lsp: plugin filter 'my_filter' is not emulated>\nb: <homelab-lsp: plugin function 'my_function' is not emulated>\n"
    );
    assert!(err.contains("plugin.py:7: plugin filter 'my_filter' is not emulated"), "{err}");
    assert!(err.contains("plugin.py:11: plugin function 'my_function' is not emulated"), "{err}");
}

#[test]
fn render_diff_lists_new_changed_and_removed_files_and_writes_nothing() {
    let fx = format!(
        "{}\
//- /config.yaml
name: demo
gone: false
//- /templates/kubernetes/same.yaml.j2
name: #{{ name }}#
//- /templates/kubernetes/changed.yaml.j2
a: 1
name: #{{ name }}#
//- /templates/kubernetes/new.yaml.j2
fresh: true
//- /templates/kubernetes/gone.yaml.j2
#% if gone %#
still: here
#% endif %#
//- /kubernetes/same.yaml
name: demo
//- /kubernetes/changed.yaml
a: 1
name: old
//- /kubernetes/gone.yaml
still: here
",
        config("")
    );
    let tmp = repo(&fx);
    let root = tmp.path().to_str().unwrap();
    let before = read_tree(tmp.path());
    let (code, out, err) = run_cli(&["render", "--root", root, "--diff"], tmp.path());
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("--- a/kubernetes/changed.yaml\n+++ b/kubernetes/changed.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-name: old\n+name: demo\n"),
        "{out}"
    );
    assert!(out.contains("--- /dev/null\n+++ b/kubernetes/new.yaml\n@@ -0,0 +1 @@\n+fresh: true\n"), "{out}");
    assert!(out.contains("--- a/kubernetes/gone.yaml\n+++ /dev/null\n"), "{out}");
    assert!(!out.contains("same.yaml"), "{out}");
    assert!(err.contains("1 changed, 1 new, 1 removed"), "{err}");
    assert_eq!(read_tree(tmp.path()), before, "--diff must not write");
    // Once rendered, nothing is left to show.
    let (code, _, err) = run_cli(&["render", "--root", root, "--output", root], tmp.path());
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(tmp.path().join("kubernetes/gone.yaml")).unwrap();
    let (code, out, err) = run_cli(&["render", "--root", root, "--diff"], tmp.path());
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[test]
fn render_usage_errors_exit_2_and_say_what_is_wrong() {
    let fx = format!("{}//- /config.yaml\nname: demo\n//- /templates/app.yaml.j2\nname: #{{ name }}#\n//- /other.txt\nx\n", config(""));
    let tmp = repo(&fx);
    let root = tmp.path().to_str().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    // A relative FILE is taken against --root, wherever the command runs.
    let (code, out, err) = run_cli(&["render", "--root", root, "templates/app.yaml.j2"], elsewhere.path());
    assert_eq!((code, out.as_str()), (0, "name: demo\n"), "{err}");
    let (code, _, err) = run_cli(&["render", "--root", root, "templates/nope.yaml.j2"], elsewhere.path());
    assert_eq!(code, 2);
    assert!(err.contains("templates/nope.yaml.j2: no such file"), "{err}");
    let (code, _, err) = run_cli(&["render", "--root", root, "other.txt"], elsewhere.path());
    assert_eq!(code, 2);
    assert!(err.contains("not inside the project's template inputs"), "{err}");
    let missing = tmp.path().join("missing");
    let (code, _, err) = run_cli(&["render", "--root", missing.to_str().unwrap(), "--diff"], elsewhere.path());
    assert_eq!(code, 2);
    assert!(err.contains("no such directory"), "{err}");
    for args in [&["render", "--root", root][..], &["render", "--bogus"], &["render", "--diff", "-o", "x"], &["frobnicate"]] {
        let (code, _, err) = run_cli(args, elsewhere.path());
        assert_eq!(code, 2, "{args:?}: {err}");
    }
}

/// A verbatim copy that is no regular file (a link to `/dev/zero`, which never ends) is
/// refused with a clear error; the rest of the tree is still written.
#[test]
fn special_files_among_the_inputs_are_refused_not_read() {
    let fx = format!("{}\n//- /config.yaml\nname: x\n//- /templates/a.yaml.j2\nname: #{{ name }}#\n", config(""));
    let r = repo(&fx);
    std::os::unix::fs::symlink("/dev/zero", r.path().join("templates/zero.bin")).unwrap();
    let (code, tree, err) = render_tree(r.path());
    assert_eq!(text(&tree, "a.yaml"), "name: x\n");
    assert!(!tree.contains_key("zero.bin"), "{:?}", tree.keys().collect::<Vec<_>>());
    assert!(err.contains("zero.bin") && err.contains("not a regular file"), "{err}");
    assert_ne!(code, 0, "a file that could not be copied fails the render");
}

/// What `render` rejects, `check` reports: a template that is a link to `/dev/zero`.
#[test]
fn check_reports_a_template_render_cannot_read() {
    let fx = format!("{}\n//- /config.yaml\nname: x\n//- /templates/a.yaml.j2\nname: #{{ name }}#\n", config(""));
    let r = repo(&fx);
    std::os::unix::fs::symlink("/dev/zero", r.path().join("templates/zero.yaml.j2")).unwrap();
    let (render_code, _, render_err) = render_tree(r.path());
    assert_ne!(render_code, 0, "{render_err}");
    let (code, stdout, err) = run_cli(&["check", "--root", r.path().to_str().unwrap(), "--format", "json"], r.path());
    assert_eq!(code, 1, "{err}");
    assert_eq!(report_tuples(&stdout), vec![("templates/zero.yaml.j2".to_string(), 1, "error".to_string(), "render-error".to_string())]);
}
