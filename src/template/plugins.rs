//! Built-in emulation of the cluster-template family's makejinja plugin: its filters,
//! functions and `data()` defaults. Python is never run; the repo's plugin file is only
//! read as text (see [`scan_plugin_source`]) to learn which names it declares.
//!
//! Everything here is pure: files the functions read (`age.key`, ...) and directory
//! listings (`talos_patches`) are gathered by the workspace layer into [`PluginInputs`].

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Which generation of the cluster-template plugin a repo carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginFlavor {
    /// 2024/2025 `bootstrap/` layout: `nthhost` via netaddr (out of range → the network).
    Bootstrap,
    /// 2026 `templates/` layout: `nthhost` via ipaddress (out of range → False) and
    /// `data()` defaults.
    Cluster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PluginNameKind {
    Filter,
    Function,
    Test,
}

impl PluginNameKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginNameKind::Filter => "filter",
            PluginNameKind::Function => "function",
            PluginNameKind::Test => "test",
        }
    }
}

/// A name the plugin file declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredName {
    pub name: String,
    pub kind: PluginNameKind,
    /// 0-based line in the plugin file.
    pub line: u32,
}

/// What the plugin file says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginDeclarations {
    pub names: Vec<DeclaredName>,
    pub has_data_method: bool,
    pub has_path_filters: bool,
    pub uses_ipaddress: bool,
    pub uses_netaddr: bool,
}

/// Everything the emulated functions need from disk, gathered up front.
#[derive(Debug, Clone, Default)]
pub struct PluginInputs {
    /// `talos_patches(kind)`: kind → sorted repo-relative paths of `*.yaml.j2` files.
    pub talos_patches: BTreeMap<String, Vec<String>>,
    /// Files at the repo root that key functions read, by file name (`age.key`, ...).
    pub files: BTreeMap<String, Result<String, String>>,
    /// Run real bcrypt for `encrypt` (the CLI); previews use a stable placeholder instead.
    pub real_encrypt: bool,
}

/// The emulated names, with one line of documentation each (used by completion/hover).
pub const EMULATED: &[(&str, PluginNameKind, &str, &str)] = &[
    ("nthhost", PluginNameKind::Filter, "nthhost(cidr, n)", "The n-th address of a network (`'10.0.0.0/24' | nthhost(1)` → `10.0.0.1`)."),
    ("basename", PluginNameKind::Filter, "basename(path)", "File name without its last suffix (`a/b/x.yaml.j2` → `x.yaml`)."),
    ("encrypt", PluginNameKind::Filter, "encrypt(s)", "bcrypt hash of the value; random salt, so the output changes on every render."),
    (
        "talos_patches",
        PluginNameKind::Function,
        "talos_patches(kind)",
        "Sorted list of the `*.yaml.j2` Talos patch files for `kind` (global, controller, worker or a node name).",
    ),
    (
        "age_key",
        PluginNameKind::Function,
        "age_key(kind, file='age.key')",
        "The `age1…` public key (`'public'`) or `AGE-SECRET-KEY-…` (`'private'`) from the age key file.",
    ),
    (
        "cloudflare_tunnel_id",
        PluginNameKind::Function,
        "cloudflare_tunnel_id(file='cloudflare-tunnel.json')",
        "The tunnel's `TunnelID` from the Cloudflare tunnel credentials file.",
    ),
    (
        "cloudflare_tunnel_secret",
        PluginNameKind::Function,
        "cloudflare_tunnel_secret(file='cloudflare-tunnel.json')",
        "base64 of `{\"a\":AccountTag,\"t\":TunnelID,\"s\":TunnelSecret}` from the credentials file.",
    ),
    (
        "github_deploy_key",
        PluginNameKind::Function,
        "github_deploy_key(file='github-deploy.key')",
        "The GitHub deploy key file's content, stripped.",
    ),
    (
        "github_push_token",
        PluginNameKind::Function,
        "github_push_token(file='github-push-token.txt')",
        "The GitHub push token file's content, stripped.",
    ),
];

pub fn is_emulated(name: &str) -> bool {
    EMULATED.iter().any(|(n, ..)| *n == name)
}

/// The text a declared-but-not-emulated plugin name renders as.
pub fn placeholder(kind: PluginNameKind, name: &str) -> String {
    format!("<homelab-lsp: plugin {} '{name}' is not emulated>", kind.as_str())
}

/// Whether a render printed a not-emulated plugin name's placeholder (so it is not what
/// makejinja writes).
pub fn has_placeholder(rendered: &str) -> bool {
    rendered.contains("<homelab-lsp: plugin ")
}

/// Registers the emulated names and placeholders for declared names it cannot run.
pub fn register(env: &mut minijinja::Environment<'static>, flavor: PluginFlavor, inputs: Arc<PluginInputs>, declared: &PluginDeclarations) {
    env.add_filter("nthhost", move |value: Value, n: Value| nthhost(&value, &n, flavor));
    env.add_filter("basename", |value: Value| basename(&super::pyvalue::py_str(&value)));
    register_encrypt(env, inputs.real_encrypt);
    let tp = inputs.clone();
    env.add_function("talos_patches", move |kind: Value| {
        let kind = super::pyvalue::py_str(&kind);
        Value::from(tp.talos_patches.get(&kind).cloned().unwrap_or_default())
    });
    let fi = inputs.clone();
    env.add_function("age_key", move |kind: String, file: Option<String>, kwargs: Kwargs| {
        let file = kwarg_file(file, &kwargs, "age.key")?;
        age_key(&kind, read(&fi, &file)?)
    });
    let fi = inputs.clone();
    env.add_function("cloudflare_tunnel_id", move |file: Option<String>, kwargs: Kwargs| {
        let file = kwarg_file(file, &kwargs, "cloudflare-tunnel.json")?;
        let json = tunnel_json(read(&fi, &file)?)?;
        Ok(Value::from(json_str(&json, "TunnelID")?))
    });
    let fi = inputs.clone();
    env.add_function("cloudflare_tunnel_secret", move |file: Option<String>, kwargs: Kwargs| {
        let file = kwarg_file(file, &kwargs, "cloudflare-tunnel.json")?;
        let json = tunnel_json(read(&fi, &file)?)?;
        cloudflare_tunnel_secret(&json)
    });
    let fi = inputs.clone();
    env.add_function("github_deploy_key", move |file: Option<String>, kwargs: Kwargs| {
        let file = kwarg_file(file, &kwargs, "github-deploy.key")?;
        Ok(Value::from(read(&fi, &file)?.trim()))
    });
    let fi = inputs;
    env.add_function("github_push_token", move |file: Option<String>, kwargs: Kwargs| {
        let file = kwarg_file(file, &kwargs, "github-push-token.txt")?;
        Ok(Value::from(read(&fi, &file)?.trim()))
    });
    for d in &declared.names {
        if is_emulated(&d.name) {
            continue;
        }
        let text = placeholder(d.kind, &d.name);
        match d.kind {
            PluginNameKind::Filter => {
                env.add_filter(d.name.clone(), move |_v: Value, _rest: minijinja::value::Rest<Value>| Value::from(text.clone()))
            }
            PluginNameKind::Function => {
                env.add_function(d.name.clone(), move |_rest: minijinja::value::Rest<Value>| Value::from(text.clone()))
            }
            PluginNameKind::Test => env.add_test(d.name.clone(), |_v: Value| false),
        }
    }
}

/// `encrypt`: real bcrypt (the CLI) or the preview placeholder.
pub fn register_encrypt(env: &mut minijinja::Environment<'static>, real: bool) {
    env.add_filter("encrypt", move |value: Value| encrypt(&super::pyvalue::py_str(&value), real));
}

fn kwarg_file(file: Option<String>, kwargs: &Kwargs, default: &str) -> Result<String, Error> {
    let kw: Option<String> = kwargs.get("file")?;
    kwargs.assert_all_used()?;
    Ok(kw.or(file).unwrap_or_else(|| default.to_string()))
}

fn read<'a>(inputs: &'a PluginInputs, file: &str) -> Result<&'a str, Error> {
    match inputs.files.get(file) {
        Some(Ok(text)) => Ok(text),
        Some(Err(e)) => Err(Error::new(ErrorKind::InvalidOperation, format!("cannot read {file}: {e}"))),
        None => Err(Error::new(ErrorKind::InvalidOperation, format!("{file} is not a file the plugin emulation reads"))),
    }
}

/// `nthhost(cidr, n)`.
pub fn nthhost(value: &Value, n: &Value, flavor: PluginFlavor) -> Value {
    let text = super::pyvalue::py_str(value);
    let Some((addr, prefix)) = parse_cidr(&text) else {
        return Value::from(false);
    };
    let n = match i128::try_from(n.clone()) {
        Ok(n) => n,
        Err(_) => match n.as_str().and_then(|s| s.trim().parse::<i128>().ok()) {
            Some(n) => n,
            None => return Value::from(false),
        },
    };
    let bits: u32 = if addr.is_ipv4() { 32 } else { 128 };
    let size: u128 = if bits - prefix >= 128 { u128::MAX } else { 1u128 << (bits - prefix) };
    let base = ip_to_u128(addr) & network_mask(bits, prefix);
    match flavor {
        PluginFlavor::Bootstrap => {
            // netaddr: `value[n]` when `size > n` (negative n counts from the end).
            let idx = if n < 0 { size as i128 + n } else { n };
            if (size as i128) > n && idx >= 0 && (idx as u128) < size {
                Value::from(u128_to_ip(base + idx as u128, addr.is_ipv4()).to_string())
            } else {
                Value::from(text.trim().to_string())
            }
        }
        PluginFlavor::Cluster => {
            if n >= 0 && (n as u128) < size {
                Value::from(u128_to_ip(base + n as u128, addr.is_ipv4()).to_string())
            } else {
                Value::from(false)
            }
        }
    }
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u32)> {
    let text = text.trim();
    let (ip, prefix) = match text.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None => (text, None),
    };
    let addr: IpAddr = ip.parse().ok()?;
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p.parse::<u32>().ok().filter(|p| *p <= bits)?,
        None => bits,
    };
    Some((addr, prefix))
}

fn network_mask(bits: u32, prefix: u32) -> u128 {
    let full: u128 = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
    if prefix == 0 {
        0
    } else {
        full & !(full >> prefix)
    }
}

fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn u128_to_ip(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(std::net::Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(v))
    }
}

/// `Path(path).stem`.
pub fn basename(path: &str) -> Value {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = match name.rfind('.') {
        Some(0) | None => name,
        Some(i) => &name[..i],
    };
    Value::from(stem)
}

/// `encrypt(s)`: bcrypt with a random salt, or a stable hash-shaped placeholder.
pub fn encrypt(s: &str, real: bool) -> Result<Value, Error> {
    if real {
        bcrypt::hash(s, 12).map(Value::from).map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("bcrypt failed: {e}")))
    } else {
        // Same shape as a real hash, but obviously not one: previews never show secrets.
        Ok(Value::from(format!("$2b$12${}", "x".repeat(53))))
    }
}

fn age_key(kind: &str, text: &str) -> Result<Value, Error> {
    match kind {
        "public" => text
            .lines()
            .find_map(|l| l.trim().strip_prefix("# public key:").map(|k| k.trim().to_string()))
            .map(Value::from)
            .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "no '# public key:' line in the age key file")),
        "private" => text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .map(Value::from)
            .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "no AGE-SECRET-KEY line in the age key file")),
        other => {
            Err(Error::new(ErrorKind::InvalidOperation, format!("age_key: unknown key type '{other}' (expected 'public' or 'private')")))
        }
    }
}

fn tunnel_json(text: &str) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("cloudflare tunnel file is not valid JSON: {e}")))
}

fn json_str(json: &serde_json::Value, key: &str) -> Result<String, Error> {
    match json.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(Error::new(ErrorKind::InvalidOperation, format!("cloudflare tunnel file has no {key}"))),
    }
}

fn cloudflare_tunnel_secret(json: &serde_json::Value) -> Result<Value, Error> {
    use base64::Engine;
    let compact = serde_json::json!({
        "a": json.get("AccountTag").cloned().unwrap_or(serde_json::Value::Null),
        "t": json.get("TunnelID").cloned().unwrap_or(serde_json::Value::Null),
        "s": json.get("TunnelSecret").cloned().unwrap_or(serde_json::Value::Null),
    });
    let text = serde_json::to_string(&compact).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(Value::from(base64::engine::general_purpose::STANDARD.encode(text)))
}

/// Reads a plugin file's text for the names it declares in `filters()`, `functions()`,
/// `globals()` and `tests()`, and whether it has `data()` / `path_filters()`.
pub fn scan_plugin_source(source: &str) -> PluginDeclarations {
    let mut decl = PluginDeclarations {
        uses_ipaddress: source.contains("import ipaddress"),
        uses_netaddr: source.contains("import netaddr") || source.contains("from netaddr"),
        ..Default::default()
    };
    let lines: Vec<&str> = source.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let method = trimmed.strip_prefix("def ").and_then(|r| r.split('(').next()).map(str::trim);
        let kind = match method {
            Some("filters") => Some(PluginNameKind::Filter),
            Some("functions") | Some("globals") => Some(PluginNameKind::Function),
            Some("tests") => Some(PluginNameKind::Test),
            Some("data") => {
                decl.has_data_method = true;
                None
            }
            Some("path_filters") => {
                decl.has_path_filters = true;
                None
            }
            _ => None,
        };
        if let Some(kind) = kind {
            // Collect identifiers between the `return [` and the closing `]`.
            let mut j = i + 1;
            while j < lines.len() && !lines[j].contains("return") {
                j += 1;
            }
            if j < lines.len() {
                let mut text = String::new();
                let mut k = j;
                let mut positions = Vec::new();
                while k < lines.len() {
                    positions.push((text.len(), k));
                    text.push_str(lines[k]);
                    text.push('\n');
                    if lines[k].contains(']') || (k == j && !lines[k].contains('[')) {
                        break;
                    }
                    k += 1;
                }
                if let (Some(open), Some(close)) = (text.find('['), text.rfind(']')) {
                    let body = &text[open + 1..close];
                    let mut offset = open + 1;
                    for item in body.split(',') {
                        let name = item.trim();
                        let name = name.rsplit('.').next().unwrap_or(name);
                        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                            let at = offset + item.find(name).unwrap_or(0);
                            let line = positions.iter().rev().find(|(p, _)| *p <= at).map_or(j, |(_, l)| *l);
                            decl.names.push(DeclaredName { name: name.to_string(), kind, line: line as u32 });
                        }
                        offset += item.len() + 1;
                    }
                }
                i = k;
            }
        }
        i += 1;
    }
    decl
}

/// The 2026 plugin's `data()`: defaults for absent keys, computed from the data.
pub fn cluster_data_defaults(data: &BTreeMap<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let absent = |k: &str| !data.contains_key(k);
    if absent("node_default_gateway") {
        if let Some(cidr) = data.get("node_cidr") {
            out.push(("node_default_gateway".into(), nthhost(cidr, &Value::from(1), PluginFlavor::Cluster)));
        }
    }
    let defaults: [(&str, Value); 7] = [
        ("node_dns_servers", Value::from(vec!["1.1.1.1", "1.0.0.1"])),
        ("node_ntp_servers", Value::from(vec!["162.159.200.1", "162.159.200.123"])),
        ("cluster_pod_cidr", Value::from("10.42.0.0/16")),
        ("cluster_svc_cidr", Value::from("10.43.0.0/16")),
        ("repository_branch", Value::from("main")),
        ("repository_visibility", Value::from("public")),
        ("cilium_loadbalancer_mode", Value::from("dsr")),
    ];
    for (k, v) in defaults {
        if absent(k) {
            out.push((k.to_string(), v));
        }
    }
    if absent("cilium_bgp_enabled") {
        let all = ["cilium_bgp_router_addr", "cilium_bgp_router_asn", "cilium_bgp_node_asn"]
            .iter()
            .all(|k| data.get(*k).is_some_and(|v| v.is_true()));
        out.push(("cilium_bgp_enabled".into(), Value::from(all)));
    }
    if absent("spegel_enabled") {
        let n = data.get("nodes").and_then(|n| n.len()).unwrap_or(0);
        out.push(("spegel_enabled".into(), Value::from(n > 1)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nthhost_variants() {
        let v = |s: &str| Value::from(s);
        assert_eq!(nthhost(&v("10.0.0.0/24"), &Value::from(1), PluginFlavor::Bootstrap).to_string(), "10.0.0.1");
        assert_eq!(nthhost(&v("10.0.0.0/24"), &Value::from(300), PluginFlavor::Bootstrap).to_string(), "10.0.0.0/24");
        assert_eq!(nthhost(&v("10.0.0.0/24"), &Value::from(-1), PluginFlavor::Bootstrap).to_string(), "10.0.0.255");
        assert_eq!(nthhost(&v("10.0.0.0/24"), &Value::from(300), PluginFlavor::Cluster), Value::from(false));
        assert_eq!(nthhost(&v("not-a-cidr"), &Value::from(1), PluginFlavor::Cluster), Value::from(false));
        assert_eq!(nthhost(&v("fd00::/64"), &Value::from(2), PluginFlavor::Cluster).to_string(), "fd00::2");
        assert_eq!(nthhost(&v("10.1.2.3/16"), &Value::from(10), PluginFlavor::Cluster).to_string(), "10.1.0.10");
    }

    #[test]
    fn basename_strips_last_suffix() {
        assert_eq!(basename("a/b/x.yaml.j2").to_string(), "x.yaml");
        assert_eq!(basename(".hidden").to_string(), ".hidden");
    }

    #[test]
    fn scans_declared_names() {
        let src = "import ipaddress\nclass Plugin:\n    def filters(self):\n        return [\n            basename,\n            nthhost,\n            my_filter\n        ]\n    def functions(self) -> list:\n        return [age_key, custom_fn]\n    def data(self):\n        return {}\n";
        let d = scan_plugin_source(src);
        let names: Vec<_> = d.names.iter().map(|n| (n.name.as_str(), n.kind, n.line)).collect();
        assert_eq!(
            names,
            vec![
                ("basename", PluginNameKind::Filter, 4),
                ("nthhost", PluginNameKind::Filter, 5),
                ("my_filter", PluginNameKind::Filter, 6),
                ("age_key", PluginNameKind::Function, 9),
                ("custom_fn", PluginNameKind::Function, 9),
            ]
        );
        assert!(d.has_data_method && d.uses_ipaddress);
    }

    #[test]
    fn age_key_reads_both_forms() {
        let text = "# created: 2024\n# public key: age1abc\nAGE-SECRET-KEY-1XYZ\n";
        assert_eq!(age_key("public", text).unwrap().to_string(), "age1abc");
        assert_eq!(age_key("private", text).unwrap().to_string(), "AGE-SECRET-KEY-1XYZ");
        assert!(age_key("other", text).is_err());
    }
}
