//! The plugin bridge against the real makejinja: fixture repos with their own plugins
//! (filters, functions, tests, a computing and validating `data()`, path filters, strict
//! undefined, pydantic, a plugin that raises) render byte for byte as makejinja renders
//! them, and the shared corpora stay exact with and without the bridge.

mod support;

use std::path::Path;
use support::*;

/// A plugin with every hook: filters (with keyword arguments), functions, the deprecated
/// `globals()`, tests, a `data()` that computes from and validates the data, and a path
/// filter; values Python prints its own way (tuples, floats, IP objects, big ints).
const CUSTOM: &str = r##"//- /makejinja.toml
[makejinja]
inputs = ["./templates"]
output = "./out"
data = ["./config.yaml"]
import_paths = ["./scripts"]
plugins = ["helpers.plugin:Plugin"]
loaders = ["legacy:Legacy"]
jinja_suffix = ".j2"
undefined = "strict"
//- /config.yaml
cluster:
  name: Lab
  cidr: 10.20.0.0/24
nodes:
  - {name: cp-1, role: controller}
  - {name: w-1, role: worker}
  - {name: w-2, role: worker}
features: {gpu: false}
//- /scripts/helpers/__init__.py
//- /scripts/helpers/plugin.py
import ipaddress
from pathlib import Path


class Plugin:
    def __init__(self, data):
        self._data = data

    def data(self):
        print("a plugin printing to stdout must not break the worker's protocol")
        net = ipaddress.ip_network(self._data["cluster"]["cidr"])
        nodes = self._data["nodes"]
        if not any(n["role"] == "controller" for n in nodes):
            raise ValueError("at least one controller is required")
        return {
            "controllers": [n["name"] for n in nodes if n["role"] == "controller"],
            "gateway": net[1],
            "pair": ("a", 1),
            "ratio": len(nodes) / 2,
            "whole": 2.0,
            "huge": 2**70,
            "by_role": {n["name"]: n["role"] for n in nodes},
            "none_value": None,
        }

    def filters(self):
        def shout(value, suffix="!", times=1):
            return str(value).upper() + suffix * times

        def nth(cidr, n):
            return ipaddress.ip_network(cidr)[n]

        return [shout, nth]

    def functions(self):
        def node_names(role=None):
            return [n["name"] for n in self._data["nodes"] if role is None or n["role"] == role]

        return [node_names]

    def tests(self):
        def worker(node):
            return node["role"] == "worker"

        return [worker]

    def path_filters(self):
        def no_gpu(path: Path) -> bool:
            return self._data["features"]["gpu"] or "gpu" not in path.parts

        return [no_gpu]
//- /scripts/legacy.py
class Legacy:
    def globals(self):
        def legacy_greeting(who):
            return f"hello {who}"

        return [legacy_greeting]
//- /templates/cluster.yaml.j2
name: {{ cluster.name | shout }}
loud: {{ cluster.name | shout(suffix="?", times=2) }}
gateway: {{ gateway }}
gateways: {{ [gateway] }}
fifth: {{ cluster.cidr | nth(5) }}
pair: {{ pair }}
ratio: {{ ratio }}
whole: {{ whole }}
huge: {{ huge }}
roles: {{ by_role }}
none: {{ none_value }}
controllers: {{ controllers | join(",") }}
workers: {{ node_names(role="worker") }}
{% for n in nodes if n is worker %}
- worker: {{ n.name }}
{% endfor %}
greeting: {{ legacy_greeting("lab") }}
//- /templates/gpu/operator.yaml.j2
gpu: true
//- /templates/static.txt
copied as is
"##;

/// Like the current cluster-template: `makejinja.toml` lists no data; the plugin reads
/// `cluster.toml` itself, validates it with pydantic and supplies every template value.
const PYDANTIC: &str = r##"//- /makejinja.toml
[makejinja]
inputs = ["./templates"]
output = "./out"
import_paths = ["./templates/scripts"]
plugins = ["plugin:Plugin"]
jinja_suffix = ".j2"
undefined = "strict"
exclude_patterns = ["*.py"]
[makejinja.delimiter]
block_start = "#%"
block_end = "%#"
comment_start = "#|"
comment_end = "#|"
variable_start = "#{"
variable_end = "}#"
//- /cluster.toml
network = "10.0.0.0/24"
domain = "lab.example"
[[nodes]]
name = "k8s-0"
address = "10.0.0.10"
controller = true
[[nodes]]
name = "k8s-1"
address = "10.0.0.11"
//- /templates/scripts/plugin.py
import ipaddress
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, IPvAnyAddress, field_validator


class Node(BaseModel):
    name: str
    address: IPvAnyAddress
    controller: bool = False
    disk: str = "/dev/sda"


class Cluster(BaseModel):
    network: str
    domain: str
    timezone: str = "Etc/UTC"
    nodes: list[Node] = Field(min_length=1)
    flux_replicas: int = 2

    @field_validator("network")
    @classmethod
    def valid_network(cls, v):
        ipaddress.ip_network(v)
        return v


class Plugin:
    def __init__(self, data):
        self._data = data

    def data(self):
        raw = tomllib.loads(Path("cluster.toml").read_text())
        cluster = Cluster.model_validate(raw)
        values = cluster.model_dump(mode="json")
        values["controllers"] = [n.name for n in cluster.nodes if n.controller]
        values["api_address"] = str(ipaddress.ip_network(cluster.network)[254])
        return values

    def filters(self):
        def nthhost(cidr, n):
            try:
                return str(ipaddress.ip_network(cidr, strict=False)[n])
            except (ValueError, IndexError):
                return False

        return [nthhost]
//- /templates/config/cluster.yaml.j2
domain: #{ domain }#
timezone: #{ timezone }#
api: #{ api_address }#
dns: #{ network | nthhost(53) }#
outside: #{ network | nthhost(999) }#
replicas: #{ flux_replicas }#
nodes:
#% for node in nodes %#
  - name: #{ node.name }#
    address: #{ node.address }#
    disk: #{ node.disk }#
    controller: #{ node.controller }#
#% endfor %#
controllers: #{ controllers }#
"##;

/// `data()` raises on a line of its own.
const RAISES: &str = r##"//- /makejinja.toml
[makejinja]
inputs = ["./templates"]
output = "./out"
data = ["./config.yaml"]
import_paths = ["."]
plugins = ["plugin:Plugin"]
//- /config.yaml
node_ip: 10.0.0.300
//- /plugin.py
import ipaddress


class Plugin:
    def __init__(self, data):
        self._data = data

    def data(self):
        return {"ip": ipaddress.ip_address(self._data["node_ip"])}
//- /templates/a.yaml
ip: {{ ip }}
"##;

fn repo(fixture: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path(), fixture);
    tmp
}

/// Renders with makejinja and with `homelab-lsp render --plugins python`; both trees must
/// be equal, file for file and byte for byte, directories included.
fn assert_renders_like_makejinja(python: &Path, root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let expected = tempfile::tempdir().unwrap();
    let (code, err) = run_makejinja(python, root, &expected.path().join("out"));
    assert_eq!(code, 0, "makejinja failed: {err}");
    let got = tempfile::tempdir().unwrap();
    let out = got.path().join("out");
    let (code, _, err) = run_cli(
        &[
            "render",
            "--plugins",
            "python",
            "--python",
            python.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        root,
    );
    assert_eq!(code, 0, "homelab-lsp render failed: {err}");
    assert!(err.contains("run with"), "the plugin line says which Python ran: {err}");
    let (want, have) = (read_tree(&expected.path().join("out")), read_tree(&out));
    assert_eq!(want.keys().collect::<Vec<_>>(), have.keys().collect::<Vec<_>>(), "same files");
    for (path, bytes) in &want {
        assert!(bytes == &have[path], "{path} differs from makejinja: {}", first_difference(bytes, &have[path]));
    }
    assert_eq!(read_dirs(&expected.path().join("out")), read_dirs(&out), "same directories");
    want
}

#[test]
fn custom_plugin_renders_exactly_like_makejinja() {
    let Some(python) = python() else { return };
    let r = repo(CUSTOM);
    let tree = assert_renders_like_makejinja(&python, r.path());
    let text = String::from_utf8(tree["cluster.yaml"].clone()).unwrap();
    // The values only running the plugin gives (guards against both sides being empty).
    for line in ["loud: LAB??", "gateways: [IPv4Address('10.20.0.1')]", "pair: ('a', 1)", "whole: 2.0", "huge: 1180591620717411303424"] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    assert!(!tree.contains_key("gpu/operator.yaml"), "the path filter excluded gpu/");
    // Flip the feature: the path filter lets the directory through.
    std::fs::write(
        r.path().join("config.yaml"),
        std::fs::read_to_string(r.path().join("config.yaml")).unwrap().replace("gpu: false", "gpu: true"),
    )
    .unwrap();
    let tree = assert_renders_like_makejinja(&python, r.path());
    assert!(tree.contains_key("gpu/operator.yaml"));
}

#[test]
fn pydantic_plugin_without_data_files_renders_exactly_like_makejinja() {
    let Some(python) = python() else { return };
    let r = repo(PYDANTIC);
    let tree = assert_renders_like_makejinja(&python, r.path());
    let text = String::from_utf8(tree["config/cluster.yaml"].clone()).unwrap();
    assert!(text.contains("timezone: Etc/UTC") && text.contains("outside: False"), "{text}");
    // Emulation alone cannot know these values: strict undefined fails the render.
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) = run_cli(
        &["render", "--plugins", "emulate", "--root", r.path().to_str().unwrap(), "--output", out.path().to_str().unwrap()],
        r.path(),
    );
    assert_ne!(code, 0, "{err}");
}

#[test]
fn pydantic_error_is_reported_on_the_cluster_toml_key() {
    let Some(python) = python() else { return };
    let r = repo(PYDANTIC);
    std::fs::write(
        r.path().join("cluster.toml"),
        std::fs::read_to_string(r.path().join("cluster.toml")).unwrap().replace("10.0.0.11", "10.0.0.999"),
    )
    .unwrap();
    let (code, mj_err) = run_makejinja(&python, r.path(), &r.path().join("out-mj"));
    assert_ne!(code, 0, "makejinja fails too: {mj_err}");
    let (code, stdout, err) =
        run_cli(&["check", "--plugins", "python", "--python", python.to_str().unwrap(), "--root", r.path().to_str().unwrap()], r.path());
    assert_eq!(code, 1, "{stdout}\n{err}");
    let line = stdout.lines().find(|l| l.contains("[plugin-error]")).unwrap_or_else(|| panic!("no plugin-error in\n{stdout}"));
    assert!(line.starts_with("cluster.toml:9:1: error[plugin-error]"), "{line}");
    assert!(line.contains("nodes.1.address"), "{line}");
    assert!(err.contains("emulated instead"), "the summary says it fell back: {err}");
}

#[test]
fn a_raising_plugin_is_a_diagnostic_on_its_line_and_render_fails_like_makejinja() {
    let Some(python) = python() else { return };
    let r = repo(RAISES);
    let (code, _) = run_makejinja(&python, r.path(), &r.path().join("out-mj"));
    assert_ne!(code, 0);
    let root = r.path().to_str().unwrap();
    let py = python.to_str().unwrap();
    let (code, stdout, err) = run_cli(&["check", "--plugins", "python", "--python", py, "--root", root], r.path());
    assert_eq!(code, 1, "{stdout}\n{err}");
    let line = stdout.lines().find(|l| l.contains("[plugin-error]")).unwrap_or_else(|| panic!("no plugin-error in\n{stdout}"));
    assert!(line.starts_with("plugin.py:9:") && line.contains("ValueError"), "{line}");
    let out = tempfile::tempdir().unwrap();
    let (code, _, err) =
        run_cli(&["render", "--plugins", "python", "--python", py, "--root", root, "--output", out.path().to_str().unwrap()], r.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("plugin-error"), "{err}");
}

#[test]
fn plugins_emulate_never_needs_python_and_python_mode_needs_one() {
    let r = repo(RAISES);
    let root = r.path().to_str().unwrap();
    let (code, stdout, err) = run_cli(&["check", "--plugins", "emulate", "--root", root], r.path());
    assert!(!stdout.contains("plugin-error"), "{stdout}");
    assert!(err.contains("emulated (--plugins emulate)"), "{err}");
    assert_eq!(code, 0, "{stdout}\n{err}");
    let (code, _, err) = run_cli(&["check", "--plugins", "python", "--python", "/nonexistent/python", "--root", root], r.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot import makejinja"), "{err}");
}

#[test]
fn corpora_stay_exact_with_and_without_the_bridge() {
    let Some(python) = python() else { return };
    let Some(corpora) = corpora_dir() else { return };
    for name in CORPORA {
        let repo = corpus_copy(&corpora, name);
        let plugin = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/makejinja/plugins").join(name).join("plugin.py");
        let toml = std::fs::read_to_string(repo.path().join("makejinja.toml")).unwrap();
        let import_path = toml::from_str::<toml::Value>(&toml).unwrap()["makejinja"]
            .get("import_paths")
            .and_then(|p| p.as_array()?.first()?.as_str().map(String::from))
            .unwrap_or_else(|| ".".into());
        std::fs::create_dir_all(repo.path().join(&import_path)).unwrap();
        std::fs::copy(&plugin, repo.path().join(&import_path).join("plugin.py")).unwrap();
        let golden = read_tree(&corpora.join(format!("{name}.rendered")));
        for mode in ["python", "emulate"] {
            let out = tempfile::tempdir().unwrap();
            let (code, _, err) = run_cli(
                &[
                    "render",
                    "--plugins",
                    mode,
                    "--python",
                    python.to_str().unwrap(),
                    "--root",
                    repo.path().to_str().unwrap(),
                    "--output",
                    out.path().to_str().unwrap(),
                ],
                repo.path(),
            );
            assert_eq!(code, 0, "{name} --plugins {mode}: {err}");
            let got = read_tree(out.path());
            assert_eq!(golden.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>(), "{name} --plugins {mode}: same files");
            for (path, bytes) in &golden {
                assert!(same_modulo_bcrypt(bytes, &got[path]), "{name} --plugins {mode}: {path}: {}", first_difference(bytes, &got[path]));
            }
        }
    }
}

/// A plugin whose output depends on the order of a set of strings.
const SET_ORDER: &str = r##"//- /makejinja.toml
[makejinja]
inputs = ["./templates"]
output = "./out"
import_paths = ["./scripts"]
plugins = ["order:Plugin"]
jinja_suffix = ".j2"
//- /scripts/order.py
class Plugin:
    def __init__(self, data):
        pass

    def data(self):
        return {"names": list({"node-%d" % i for i in range(40)})}
//- /templates/a.yaml.j2
names: {{ names | join(",") }}
"##;

#[test]
fn a_plugin_iterating_a_set_renders_the_same_in_every_run() {
    let Some(python) = python() else { return };
    let r = repo(SET_ORDER);
    let render = |n: usize| {
        let out = r.path().join(format!("out-{n}"));
        let (code, _, err) = run_cli(
            &["render", "--plugins", "python", "--python", python.to_str().unwrap(), "--root", r.path().to_str().unwrap(), "--output"]
                .into_iter()
                .chain([out.to_str().unwrap()])
                .collect::<Vec<_>>(),
            r.path(),
        );
        assert_eq!(code, 0, "{err}");
        std::fs::read_to_string(out.join("a.yaml")).unwrap()
    };
    let first = render(0);
    assert!(first.contains("node-39"), "{first}");
    // Each run starts its own Python, whose string hashes would be seeded anew.
    for n in 1..4 {
        assert_eq!(render(n), first, "run {n} printed the set in another order");
    }
}
