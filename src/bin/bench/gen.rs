//! A generated makejinja repo of realistic shape (onedr0p cluster-template family after
//! `task configure`), deterministic for a given size and seed.
//!
//! Layout:
//! - `makejinja.toml` (`#{ }#` delimiters, `bootstrap/overrides` before `bootstrap/templates`,
//!   partials excluded, chainable undefined, no Python plugin so the real makejinja renders it
//!   as is), `config.yaml` with nested data (nodes list, feature flags, a cloudflare block and
//!   one entry per templated app).
//! - A few hundred `.j2` templates: per templated app a Flux `ks.yaml`, an app-template
//!   HelmRelease (loops over `.items()`, inline `if`, `default`, includes of partials inside
//!   `filter indent` blocks, nested data access), a `kustomization.yaml` and sometimes a
//!   `secret.sops.yaml`; some apps wrapped whole-file in a feature flag (off ones render to
//!   nothing); talconfig looping over nodes; Gateways; cluster settings/secrets; one
//!   override; and one 500-line template ([`BIG_TEMPLATE`]).
//! - The rendered output committed next to it (`kubernetes/...`, written by the caller with
//!   `homelab-lsp render --output <root>`, as `task configure` would).
//! - Hand-written YAML filling the rest: per app a Flux Kustomization, app-template
//!   HelmReleases with routes/parentRefs, kustomizations, SOPS-encrypted secrets (`sops:`
//!   block, `ENC[...]` values), HTTPRoutes, PVCs; per namespace a kustomization and a
//!   Namespace; Flux sources; and one 2,000-line HelmRelease ([`BIG_YAML`]). A few
//!   deliberate mistakes (about 1 in 100 files) so diagnostics exist.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The 500-line template the keystroke benchmark types into.
pub const BIG_TEMPLATE: &str = "bootstrap/templates/kubernetes/apps/kube-system/cilium/app/helmrelease.yaml.j2";
pub const BIG_TEMPLATE_LINES: usize = 500;
/// The 2,000-line plain YAML file the keystroke benchmark types into.
pub const BIG_YAML: &str = "kubernetes/apps/observability/kube-prometheus-stack/app/helmrelease.yaml";
pub const BIG_YAML_LINES: usize = 2000;
/// The comment line (in both big files) where typing happens.
pub const TYPING_MARKER: &str = "# bench-typing:";

/// A deterministic generator (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    pub fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(len);
        s
    }
    pub fn b64(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len).map(|_| A[self.below(64)] as char).collect()
    }
}

const NAMESPACES: [&str; 16] = [
    "default",
    "media",
    "home-automation",
    "network",
    "kube-system",
    "observability",
    "database",
    "security",
    "downloads",
    "storage",
    "tools",
    "games",
    "ai",
    "backup",
    "cert-manager",
    "system-upgrade",
];

const APP_NAMES: [&str; 64] = [
    "plex",
    "jellyfin",
    "sonarr",
    "radarr",
    "lidarr",
    "prowlarr",
    "bazarr",
    "overseerr",
    "tautulli",
    "immich",
    "paperless",
    "home-assistant",
    "zigbee2mqtt",
    "mosquitto",
    "frigate",
    "esphome",
    "node-red",
    "grafana",
    "gatus",
    "loki",
    "vector",
    "unpoller",
    "blackbox-exporter",
    "smartctl-exporter",
    "postgres",
    "redis",
    "dragonfly",
    "mariadb",
    "authelia",
    "lldap",
    "vaultwarden",
    "qbittorrent",
    "sabnzbd",
    "autobrr",
    "recyclarr",
    "minio",
    "syncthing",
    "nextcloud",
    "filebrowser",
    "code-server",
    "atuin",
    "echo-server",
    "homepage",
    "minecraft",
    "factorio",
    "ollama",
    "open-webui",
    "volsync",
    "kopia",
    "mealie",
    "actual",
    "linkding",
    "miniflux",
    "searxng",
    "thelounge",
    "wikijs",
    "bookstack",
    "freshrss",
    "changedetection",
    "uptime-kuma",
    "stirling-pdf",
    "it-tools",
    "excalidraw",
    "ntfy",
];

const IMAGES: [&str; 8] = [
    "ghcr.io/home-operations/app",
    "ghcr.io/onedr0p/app",
    "docker.io/library/app",
    "ghcr.io/linuxserver/app",
    "quay.io/app/app",
    "ghcr.io/bjw-s-labs/app",
    "docker.io/app/app",
    "ghcr.io/app/app",
];

const PARTIALS: [&str; 10] =
    ["probes", "persistence", "resources", "security-context", "pod-options", "service", "route", "envfrom", "monitor", "gatus"];

/// What the generator wrote.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub root: PathBuf,
    pub templates: usize,
    pub partials: usize,
    pub plain_yaml: usize,
    pub templated_apps: usize,
    pub plain_apps: usize,
}

fn write(root: &Path, rel: &str, text: &str) -> std::io::Result<()> {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(p, text)
}

fn key(name: &str) -> String {
    name.replace('-', "_")
}

/// Unique app names: the base list, then `name-N`.
fn app_name(i: usize) -> String {
    let base = APP_NAMES[i % APP_NAMES.len()];
    let round = i / APP_NAMES.len();
    if round == 0 {
        base.to_string()
    } else {
        format!("{base}-{round}")
    }
}

struct TemplatedApp {
    ns: &'static str,
    name: String,
    /// Wrapped in `#% if features.<flag> %#`: Some(enabled).
    flag: Option<bool>,
    secret: bool,
    persistence: bool,
}

/// Number of templates for a repo of `files` files.
pub fn template_budget(files: usize) -> usize {
    (files * 3 / 20).clamp(100, 600)
}

/// Phase 1: configuration, data and templates (before the render commits the outputs).
pub fn generate_templates(root: &Path, files: usize, seed: u64) -> std::io::Result<Generated> {
    let mut rng = Rng::new(seed);
    let budget = template_budget(files);
    let mut g = Generated { root: root.to_path_buf(), ..Default::default() };
    let fixed_templates = 9; // .sops.yaml, talconfig, flux ks, cluster settings + secrets, envoy, big, cilium ks, override
    let mut apps: Vec<TemplatedApp> = Vec::new();
    let mut count = fixed_templates + PARTIALS.len();
    let mut i = 0;
    while count < budget {
        let ns = NAMESPACES[(i * 7 + 3) % NAMESPACES.len()];
        let flag = if rng.chance(1, 6) { Some(!rng.chance(1, 3)) } else { None };
        let secret = rng.chance(1, 3);
        let persistence = rng.chance(1, 2);
        count += 3 + secret as usize;
        apps.push(TemplatedApp { ns, name: app_name(i), flag, secret, persistence });
        i += 1;
    }
    g.templated_apps = apps.len();

    write(root, "makejinja.toml", MAKEJINJA_TOML)?;
    write(root, "config.yaml", &config_yaml(&apps, &mut rng))?;
    write(root, "README.md", "# home-ops\n\nGenerated benchmark repository (homelab-bench).\n")?;
    write(root, ".gitignore", "*.agekey\n.task/\n.private/\n")?;

    let t = "bootstrap/templates";
    let mut templates = 0usize;
    let mut put = |rel: String, text: String| -> std::io::Result<()> {
        templates += 1;
        write(root, &rel, &text)
    };
    put(format!("{t}/.sops.yaml.j2"), SOPS_YAML_J2.into())?;
    put(format!("{t}/talos/talconfig.yaml.j2"), TALCONFIG_J2.into())?;
    put(format!("{t}/kubernetes/flux/cluster/ks.yaml.j2"), FLUX_KS_J2.into())?;
    put(format!("{t}/kubernetes/components/common/cluster-settings.yaml.j2"), CLUSTER_SETTINGS_J2.into())?;
    put(format!("{t}/kubernetes/components/common/cluster-secrets.sops.yaml.j2"), CLUSTER_SECRETS_J2.into())?;
    put(format!("{t}/kubernetes/apps/network/envoy-gateway/app/envoy.yaml.j2"), ENVOY_J2.into())?;
    put(BIG_TEMPLATE.to_string(), big_template())?;
    put(format!("{t}/kubernetes/apps/kube-system/cilium/ks.yaml.j2"), ks_template("kube-system", "cilium", None, false))?;
    for app in &apps {
        let dir = format!("{t}/kubernetes/apps/{}/{}", app.ns, app.name);
        put(format!("{dir}/ks.yaml.j2"), ks_template(app.ns, &app.name, app.flag.map(|_| &app.name), true))?;
        put(format!("{dir}/app/helmrelease.yaml.j2"), helmrelease_template(app))?;
        put(format!("{dir}/app/kustomization.yaml.j2"), app_kustomization_template(app))?;
        if app.secret {
            put(format!("{dir}/app/secret.sops.yaml.j2"), secret_template(app))?;
        }
    }
    // One override (first input wins): the first app's HelmRelease.
    if let Some(app) = apps.first() {
        let text = helmrelease_template(app).replace("interval: 1h", "interval: 30m");
        put(format!("bootstrap/overrides/kubernetes/apps/{}/{}/app/helmrelease.yaml.j2", app.ns, app.name), text)?;
    }
    g.templates = templates;
    for p in PARTIALS {
        write(root, &format!("{t}/partials/{p}.partial.yaml.j2"), &partial(p))?;
    }
    g.partials = PARTIALS.len();
    Ok(g)
}

/// Files under `root` (recursively).
pub fn count_files(root: &Path) -> usize {
    walkdir::WalkDir::new(root).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()).count()
}

/// Phase 2: hand-written YAML until the repo holds `files` files.
pub fn generate_plain(g: &mut Generated, files: usize, seed: u64) -> std::io::Result<()> {
    let root = g.root.clone();
    let mut rng = Rng::new(seed ^ 0x5151_5151);
    let mut have = count_files(&root);
    let put = |rel: &str, text: &str, have: &mut usize, plain: &mut usize| -> std::io::Result<()> {
        let exists = root.join(rel).exists();
        write(&root, rel, text)?;
        if !exists {
            *have += 1;
            *plain += 1;
        }
        Ok(())
    };
    let mut plain = 0usize;
    // Flux sources.
    put("kubernetes/flux/meta/repos/app-template.yaml", OCI_APP_TEMPLATE, &mut have, &mut plain)?;
    for (name, url) in HELM_REPOS {
        put(&format!("kubernetes/flux/meta/repos/{name}.yaml"), &helm_repository(name, url), &mut have, &mut plain)?;
    }
    put("kubernetes/flux/meta/repos/kustomization.yaml", &repos_kustomization(), &mut have, &mut plain)?;
    put(BIG_YAML, &big_yaml(&mut rng), &mut have, &mut plain)?;
    put(
        "kubernetes/apps/observability/kube-prometheus-stack/app/kustomization.yaml",
        &plain_kustomization(&["./helmrelease.yaml"]),
        &mut have,
        &mut plain,
    )?;
    put(
        "kubernetes/apps/observability/kube-prometheus-stack/ks.yaml",
        &plain_ks("observability", "kube-prometheus-stack"),
        &mut have,
        &mut plain,
    )?;
    put("Taskfile.yaml", TASKFILE, &mut have, &mut plain)?;

    // Per-namespace files are written at the end (they list the apps).
    let ns_files = NAMESPACES.len() * 2;
    let mut apps_by_ns: Vec<Vec<String>> = vec![Vec::new(); NAMESPACES.len()];
    let mut i = g.templated_apps + 1;
    let mut napps = 0usize;
    let mut n = 0usize;
    while have + ns_files < files {
        let budget = files - have - ns_files;
        let ns_i = (n * 5 + 1) % NAMESPACES.len();
        let ns = NAMESPACES[ns_i];
        let name = app_name(i + 10_000);
        i += 1;
        n += 1;
        let dir = format!("kubernetes/apps/{ns}/{name}");
        // Which files this app gets, trimmed to the remaining budget.
        let secret = rng.chance(3, 5);
        let route = rng.chance(3, 10);
        let pvc = rng.chance(3, 10);
        let mut list: Vec<(String, String)> = Vec::new();
        let mut resources = vec!["./helmrelease.yaml".to_string()];
        if secret {
            resources.push("./secret.sops.yaml".into());
        }
        if route {
            resources.push("./httproute.yaml".into());
        }
        if pvc {
            resources.push("./pvc.yaml".into());
        }
        let res: Vec<&str> = resources.iter().map(String::as_str).collect();
        list.push((format!("{dir}/ks.yaml"), plain_ks(ns, &name)));
        list.push((format!("{dir}/app/helmrelease.yaml"), plain_helmrelease(ns, &name, secret, !route, &mut rng)));
        list.push((format!("{dir}/app/kustomization.yaml"), plain_kustomization(&res)));
        if secret {
            list.push((format!("{dir}/app/secret.sops.yaml"), sops_secret(&name, &mut rng)));
        }
        if route {
            list.push((format!("{dir}/app/httproute.yaml"), httproute(ns, &name, &mut rng)));
        }
        if pvc {
            list.push((format!("{dir}/app/pvc.yaml"), pvc_yaml(&name)));
        }
        list.truncate(budget);
        for (rel, text) in &list {
            put(rel, text, &mut have, &mut plain)?;
        }
        apps_by_ns[ns_i].push(name);
        napps += 1;
    }
    for (ns_i, ns) in NAMESPACES.iter().enumerate() {
        let mut entries: Vec<String> = vec!["./namespace.yaml".into()];
        entries.extend(apps_by_ns[ns_i].iter().map(|a| format!("./{a}/ks.yaml")));
        let refs: Vec<&str> = entries.iter().map(String::as_str).collect();
        put(&format!("kubernetes/apps/{ns}/kustomization.yaml"), &ns_kustomization(ns, &refs), &mut have, &mut plain)?;
        put(&format!("kubernetes/apps/{ns}/namespace.yaml"), &namespace_yaml(ns), &mut have, &mut plain)?;
    }
    g.plain_yaml = plain;
    g.plain_apps = napps;
    Ok(())
}

const MAKEJINJA_TOML: &str = r##"[makejinja]
inputs = ["./bootstrap/overrides", "./bootstrap/templates"]
output = "./"
exclude_patterns = ["*.partial.yaml.j2"]
data = ["./config.yaml"]
jinja_suffix = ".j2"
force = true
undefined = "chainable"

[makejinja.delimiter]
block_start = "#%"
block_end = "%#"
comment_start = "#|"
comment_end = "#|"
variable_start = "#{"
variable_end = "}#"
"##;

fn config_yaml(apps: &[TemplatedApp], rng: &mut Rng) -> String {
    let mut s = String::from(
        "---\n# Generated benchmark data: every value is a placeholder.\ntimezone: Etc/UTC\ncluster_name: home\nnode_cidr: 192.168.42.0/24\nnode_default_gateway: 192.168.42.1\ncluster_api_addr: 192.168.42.20\ncluster_dns_gateway_addr: 192.168.42.21\ncluster_gateway_addr: 192.168.42.22\ncluster_pod_cidr: 10.42.0.0/16\ncluster_svc_cidr: 10.43.0.0/16\ncluster_tls_sans:\n  - k8s.example.com\n  - 192.168.42.20\nrepository_name: example/home-ops\nrepository_branch: main\nsops_age_pubkey: age1fakefakefakefakefakefakefakefakefakefakefakefakefakefake00\n",
    );
    s.push_str("nodes:\n");
    for n in 0..6 {
        let _ = write!(
            s,
            "  - name: k8s-{n}\n    address: 192.168.42.{}\n    controller: {}\n    disk: /dev/nvme0n1\n    mac_addr: \"aa:bb:cc:dd:ee:{:02x}\"\n    schematic_id: \"{}\"\n    mtu: 1500\n",
            10 + n,
            n < 3,
            n,
            rng.hex(64)
        );
    }
    s.push_str(
        "features:\n  monitoring: true\n  spegel: true\n  cilium_bgp: false\n  cloudflare_tunnel: true\n  gatus: true\n  volsync: false\n",
    );
    for app in apps.iter().filter(|a| a.flag.is_some()) {
        let _ = writeln!(s, "  {}: {}", key(&app.name), app.flag.unwrap_or(false));
    }
    let _ = write!(
        s,
        "cloudflare:\n  enabled: true\n  domain: example.com\n  token: fake-cloudflare-api-token-{}\n  acme:\n    email: admin@example.com\n    production: false\n  tunnel:\n    id: 00000000-0000-4000-8000-000000000000\n    account_id: \"{}\"\n    secret: \"{}\"\n  gateway_addr: 192.168.42.23\n",
        rng.hex(16),
        rng.hex(32),
        rng.b64(40)
    );
    s.push_str("apps:\n");
    let mut by_ns: Vec<(&str, Vec<&TemplatedApp>)> = Vec::new();
    for app in apps {
        match by_ns.iter_mut().find(|(n, _)| *n == app.ns) {
            Some((_, v)) => v.push(app),
            None => by_ns.push((app.ns, vec![app])),
        }
    }
    for (ns, list) in by_ns {
        let _ = writeln!(s, "  {}:", key(ns));
        for app in list {
            let image = rng.pick(&IMAGES).replace("app", &app.name);
            let _ = write!(
                s,
                "    {}:\n      replicas: {}\n      image:\n        repository: {image}\n        tag: {}.{}.{}\n      port: {}\n      external: {}\n      resources:\n        cpu: {}m\n        memory: {}Mi\n      env:\n        LOG_LEVEL: info\n        {}_INSTANCE_NAME: {}\n",
                key(&app.name),
                1 + rng.below(3),
                rng.below(5),
                rng.below(30),
                rng.below(10),
                8000 + rng.below(1000),
                rng.chance(1, 3),
                10 * (1 + rng.below(50)),
                64 * (1 + rng.below(32)),
                key(&app.name).to_uppercase(),
                app.name,
            );
            if rng.chance(1, 2) {
                let _ = writeln!(s, "      subdomain: {}", app.name.split('-').next().unwrap_or("app"));
            }
            if app.persistence {
                let _ = writeln!(s, "      persistence:\n        size: {}Gi\n        path: /config", 1 + rng.below(50));
            }
            if app.secret {
                let _ = writeln!(s, "      api_key: \"{}\"", rng.hex(32));
            }
        }
    }
    s
}

const SOPS_YAML_J2: &str = r##"---
creation_rules:
  - path_regex: talos/.*\.sops\.ya?ml
    mac_only_encrypted: true
    key_groups:
      - age:
          - "#{ sops_age_pubkey }#"
  - path_regex: (bootstrap|kubernetes)/.*\.sops\.ya?ml
    encrypted_regex: "^(data|stringData)$"
    mac_only_encrypted: true
    key_groups:
      - age:
          - "#{ sops_age_pubkey }#"
stores:
  yaml:
    indent: 2
"##;

const TALCONFIG_J2: &str = r##"---
clusterName: #{ cluster_name }#
talosVersion: v1.10.0
kubernetesVersion: v1.33.0
endpoint: https://#{ cluster_api_addr }#:6443
additionalApiServerCertSans: &sans
  - "127.0.0.1"
#% for san in cluster_tls_sans %#
  - "#{ san }#"
#% endfor %#
additionalMachineCertSans: *sans
clusterPodNets: ["#{ cluster_pod_cidr }#"]
clusterSvcNets: ["#{ cluster_svc_cidr }#"]
cniConfig:
  name: none
nodes:
#% for node in nodes %#
  - hostname: "#{ node.name }#"
    ipAddress: "#{ node.address }#"
    controlPlane: #{ 'true' if node.controller else 'false' }#
    installDisk: "#{ node.disk }#"
    talosImageURL: factory.talos.dev/installer/#{ node.schematic_id }#
    networkInterfaces:
      - deviceSelector:
          hardwareAddr: "#{ node.mac_addr | lower }#"
        dhcp: false
        addresses:
          - "#{ node.address }#/#{ node_cidr.split('/') | last }#"
        routes:
          - network: "0.0.0.0/0"
            gateway: "#{ node_default_gateway }#"
        mtu: #{ node.mtu | default(1500) }#
#% if node.controller %#
        vip:
          ip: "#{ cluster_api_addr }#"
#% endif %#
#% endfor %#
controlPlane:
  patches:
    - "@./patches/global/machine-files.yaml"
    - "@./patches/controller/cluster.yaml"
worker:
  patches:
    - "@./patches/global/machine-files.yaml"
"##;

const FLUX_KS_J2: &str = r##"---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substituteFrom:
      - name: cluster-settings
        kind: ConfigMap
      - name: cluster-secrets
        kind: Secret
#% if features.spegel %#
  dependsOn:
    - name: spegel
      namespace: kube-system
#% endif %#
"##;

const CLUSTER_SETTINGS_J2: &str = r##"---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-settings
  namespace: flux-system
data:
  TIMEZONE: "#{ timezone }#"
  CLUSTER_NAME: "#{ cluster_name }#"
  NODE_CIDR: "#{ node_cidr }#"
  CLUSTER_POD_CIDR: "#{ cluster_pod_cidr }#"
  CLUSTER_SVC_CIDR: "#{ cluster_svc_cidr }#"
  NODE_COUNT: "#{ nodes | length }#"
  CONTROLLERS: "#{ nodes | selectattr('controller') | map(attribute='name') | join(',') }#"
#% for name, enabled in features.items() %#
  FEATURE_#{ name | upper }#: "#{ enabled | string | lower }#"
#% endfor %#
"##;

const CLUSTER_SECRETS_J2: &str = r##"---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-secrets
  namespace: flux-system
stringData:
  SECRET_DOMAIN: "#{ cloudflare.domain }#"
  SECRET_ACME_EMAIL: "#{ cloudflare.acme.email }#"
  SECRET_CLOUDFLARE_TUNNEL_ID: "#{ cloudflare.tunnel.id }#"
"##;

const ENVOY_J2: &str = r##"---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: envoy-external
  annotations:
    external-dns.alpha.kubernetes.io/target: &hostname external.#{ cloudflare.domain }#
spec:
  gatewayClassName: envoy
  infrastructure:
    annotations:
      external-dns.alpha.kubernetes.io/hostname: *hostname
      lbipam.cilium.io/ips: #{ cloudflare.gateway_addr }#
  listeners:
    - name: http
      protocol: HTTP
      port: 80
      hostname: "*.#{ cloudflare.domain }#"
      allowedRoutes:
        namespaces:
          from: Same
    - name: https
      protocol: HTTPS
      port: 443
      hostname: "*.#{ cloudflare.domain }#"
      allowedRoutes:
        namespaces:
          from: All
      tls:
        certificateRefs:
          - kind: Secret
            name: #{ cloudflare.domain | replace('.', '-') }#-production-tls
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: envoy-internal
  annotations:
    external-dns.alpha.kubernetes.io/target: &hostname internal.#{ cloudflare.domain }#
spec:
  gatewayClassName: envoy
  infrastructure:
    annotations:
      external-dns.alpha.kubernetes.io/hostname: *hostname
      lbipam.cilium.io/ips: #{ cluster_gateway_addr }#
  listeners:
    - name: http
      protocol: HTTP
      port: 80
      hostname: "*.#{ cloudflare.domain }#"
      allowedRoutes:
        namespaces:
          from: Same
    - name: https
      protocol: HTTPS
      port: 443
      hostname: "*.#{ cloudflare.domain }#"
      allowedRoutes:
        namespaces:
          from: All
      tls:
        certificateRefs:
          - kind: Secret
            name: #{ cloudflare.domain | replace('.', '-') }#-production-tls
"##;

fn wrap_flag(body: String, flag: Option<&String>) -> String {
    match flag {
        Some(name) => format!("#% if features.{} %#\n{body}#% endif %#\n", key(name)),
        None => body,
    }
}

fn ks_template(ns: &str, name: &str, flag: Option<&String>, has_data: bool) -> String {
    let app = format!("apps.{}.{}", key(ns), key(name));
    let mut s = String::new();
    if has_data {
        let _ = writeln!(s, "#% set app = {app} %#");
    }
    let _ = write!(
        s,
        r##"---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: &app {name}
  namespace: &namespace {ns}
spec:
  commonMetadata:
    labels:
      app.kubernetes.io/name: *app
#% if features.gatus %#
  components:
    - ../../../../components/gatus/#{{ 'external' if {ext} else 'guarded' }}#
#% endif %#
  interval: 1h
  path: ./kubernetes/apps/{ns}/{name}/app
  postBuild:
    substitute:
      APP: *app
      GATUS_SUBDOMAIN: #{{ {sub} }}#
  prune: true
  retryInterval: 2m
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  targetNamespace: *namespace
  timeout: 5m
  wait: false
"##,
        ext = if has_data { "app.external" } else { "false" },
        sub = if has_data { format!("app.subdomain | default('{name}')") } else { format!("'{name}'") },
    );
    wrap_flag(s, flag)
}

fn helmrelease_template(app: &TemplatedApp) -> String {
    let a = &app.name;
    let mut s = format!("#% set app = apps.{}.{} %#\n", key(app.ns), key(a));
    let _ = write!(
        s,
        r##"---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {a}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-template
    namespace: flux-system
  install:
    remediation:
      retries: -1
  upgrade:
    cleanupOnFail: true
    remediation:
      retries: 3
  values:
    controllers:
      {a}:
        replicas: #{{ app.replicas | default(1) }}#
        strategy: #{{ 'RollingUpdate' if app.replicas > 1 else 'Recreate' }}#
        annotations:
          reloader.stakater.com/auto: "true"
        containers:
          app:
            image:
              repository: #{{ app.image.repository }}#
              tag: #{{ app.image.tag }}#
            env:
              TZ: #{{ timezone }}#
#% for name, value in app.env.items() %#
              #{{ name }}#: "#{{ value }}#"
#% endfor %#
            #% filter indent(width=12, first=True) %#
            #% include 'partials/probes.partial.yaml.j2' %#
            #% endfilter %#
            #% filter indent(width=12, first=True) %#
            #% include 'partials/resources.partial.yaml.j2' %#
            #% endfilter %#
            #% filter indent(width=12, first=True) %#
            #% include 'partials/security-context.partial.yaml.j2' %#
            #% endfilter %#
"##
    );
    if app.secret {
        s.push_str(
            "            #% filter indent(width=12, first=True) %#\n            #% include 'partials/envfrom.partial.yaml.j2' %#\n            #% endfilter %#\n",
        );
    }
    let _ = write!(
        s,
        r##"    defaultPodOptions:
      #% filter indent(width=6, first=True) %#
      #% include 'partials/pod-options.partial.yaml.j2' %#
      #% endfilter %#
    service:
      #% filter indent(width=6, first=True) %#
      #% include 'partials/service.partial.yaml.j2' %#
      #% endfilter %#
    route:
      #% filter indent(width=6, first=True) %#
      #% include 'partials/route.partial.yaml.j2' %#
      #% endfilter %#
#% if features.monitoring %#
    serviceMonitor:
      #% filter indent(width=6, first=True) %#
      #% include 'partials/monitor.partial.yaml.j2' %#
      #% endfilter %#
#% endif %#
#% if app.persistence is defined %#
    persistence:
      #% filter indent(width=6, first=True) %#
      #% include 'partials/persistence.partial.yaml.j2' %#
      #% endfilter %#
#% endif %#
"##
    );
    wrap_flag(s, app.flag.map(|_| &app.name))
}

fn app_kustomization_template(app: &TemplatedApp) -> String {
    let mut s = format!(
        "#% set app = apps.{}.{} %#\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./helmrelease.yaml\n",
        key(app.ns),
        key(&app.name)
    );
    s.push_str("#% if app.api_key is defined %#\n  - ./secret.sops.yaml\n#% endif %#\n");
    wrap_flag(s, app.flag.map(|_| &app.name))
}

fn secret_template(app: &TemplatedApp) -> String {
    let a = &app.name;
    let s = format!(
        r##"#% set app = apps.{}.{} %#
---
apiVersion: v1
kind: Secret
metadata:
  name: {a}-secret
stringData:
  {upper}_API_KEY: "#{{ app.api_key }}#"
  {upper}_DOMAIN: "#{{ cloudflare.domain }}#"
  {upper}_URL: "https://#{{ app.subdomain | default('{a}') }}#.#{{ cloudflare.domain }}#"
"##,
        key(app.ns),
        key(a),
        upper = key(a).to_uppercase()
    );
    wrap_flag(s, app.flag.map(|_| &app.name))
}

fn partial(name: &str) -> String {
    match name {
        "probes" => "probes:\n  liveness: &probes\n    enabled: true\n    custom: true\n    spec:\n      httpGet:\n        path: /healthz\n        port: #{ app.port }#\n      initialDelaySeconds: 0\n      periodSeconds: 10\n      timeoutSeconds: 1\n      failureThreshold: 3\n  readiness: *probes\n".into(),
        "persistence" => "config:\n  existingClaim: \"#{ app.image.repository.split('/') | last }#\"\n  globalMounts:\n    - path: #{ app.persistence.path | default('/config') }#\ntmp:\n  type: emptyDir\n".into(),
        "resources" => "resources:\n  requests:\n    cpu: #{ app.resources.cpu }#\n  limits:\n    memory: #{ app.resources.memory }#\n".into(),
        "security-context" => "securityContext:\n  allowPrivilegeEscalation: false\n  readOnlyRootFilesystem: true\n  capabilities: { drop: [\"ALL\"] }\n".into(),
        "pod-options" => "securityContext:\n  runAsNonRoot: true\n  runAsUser: 1000\n  runAsGroup: 1000\n  fsGroup: 1000\n  fsGroupChangePolicy: OnRootMismatch\n".into(),
        "service" => "app:\n  ports:\n    http:\n      port: #{ app.port }#\n".into(),
        "route" => "app:\n  hostnames: [\"#{ app.subdomain | default('app') }#.#{ cloudflare.domain }#\"]\n  parentRefs:\n    - name: #{ 'envoy-external' if app.external else 'envoy-internal' }#\n      namespace: network\n      sectionName: https\n".into(),
        "envfrom" => "envFrom:\n  - secretRef:\n      name: \"{{ .Release.Name }}-secret\"\n".into(),
        "monitor" => "app:\n  serviceName: app\n  endpoints:\n    - port: http\n      scheme: http\n      path: /metrics\n      interval: 1m\n      scrapeTimeout: 10s\n".into(),
        _ => "gatus:\n  enabled: #{ features.gatus | default(false) }#\n".into(),
    }
}

/// The 500-line template: a cilium HelmRelease with a long values block.
fn big_template() -> String {
    let mut lines: Vec<String> = Vec::new();
    let head = r##"---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cilium
spec:
  interval: 1h
  chart:
    spec:
      chart: cilium
      version: 1.17.4
      sourceRef:
        kind: HelmRepository
        name: cilium
        namespace: flux-system
  install:
    remediation:
      retries: -1
  upgrade:
    cleanupOnFail: true
    remediation:
      retries: 3
  values:
    autoDirectNodeRoutes: true
    bandwidthManager:
      enabled: true
      bbr: true
    bpf:
      masquerade: true
      datapathMode: netkit
      preallocateMaps: true
    cgroup:
      automount:
        enabled: false
      hostRoot: /sys/fs/cgroup
    cluster:
      id: 1
      name: #{ cluster_name }#
    clusterLabel: "#{ cluster_nmae }#"
    cni:
      exclusive: false
    dashboards:
      enabled: #{ features.monitoring }#
    endpointRoutes:
      enabled: true
    envoy:
      enabled: false
#% if features.cilium_bgp %#
    bgpControlPlane:
      enabled: true
#% endif %#
    hubble:
      enabled: false
    ipam:
      mode: kubernetes
    ipv4NativeRoutingCIDR: "#{ cluster_pod_cidr }#"
    k8sServiceHost: 127.0.0.1
    k8sServicePort: 7445
    kubeProxyReplacement: true
    kubeProxyReplacementHealthzBindAddr: 0.0.0.0:10256
    l2announcements:
      enabled: #{ not features.cilium_bgp }#
    loadBalancer:
      algorithm: maglev
      mode: #{ 'dsr' if nodes | length > 1 else 'snat' }#
    localRedirectPolicy: true
    operator:
      dashboards:
        enabled: #{ features.monitoring }#
      prometheus:
        enabled: #{ features.monitoring }#
        serviceMonitor:
          enabled: #{ features.monitoring }#
      replicas: #{ nodes | selectattr('controller') | list | length }#
      rollOutPods: true
    prometheus:
      enabled: true
      serviceMonitor:
        enabled: true
        trustCRDsExist: true
    rollOutCiliumPods: true
    routingMode: native
    securityContext:
      capabilities:
        ciliumAgent:
          - CHOWN
          - KILL
          - NET_ADMIN
          - NET_RAW
          - IPC_LOCK
          - SYS_ADMIN
          - SYS_RESOURCE
          - PERFMON
          - BPF
          - DAC_OVERRIDE
          - FOWNER
          - SETGID
          - SETUID
        cleanCiliumState:
          - NET_ADMIN
          - SYS_ADMIN
          - SYS_RESOURCE
    nodeSelectorLabels:
#% for node in nodes %#
      - name: #{ node.name }#
        address: #{ node.address }#
        role: #{ 'controller' if node.controller else 'worker' }#
#% if loop.last %#
        last: true
#% endif %#
#% endfor %#
    #% filter indent(width=4, first=True) %#
    #% include 'partials/pod-options.partial.yaml.j2' %#
    #% endfilter %#
"##;
    lines.extend(head.lines().map(String::from));
    // Filler sections to reach the size, with a typing line in the middle.
    let mut i = 0;
    let mut typed = false;
    while lines.len() < BIG_TEMPLATE_LINES - 2 {
        if !typed && lines.len() >= BIG_TEMPLATE_LINES / 2 {
            lines.push(format!("    {TYPING_MARKER}"));
            typed = true;
            continue;
        }
        let section = [
            format!("    extraConfig{i}:"),
            format!("      name: #{{ cluster_name }}#-extra-{i}"),
            format!("      domain: \"extra{i}.#{{ cloudflare.domain }}#\""),
            "      nodes: #{ nodes | length }#".to_string(),
            "      enabled: true".to_string(),
            "      gateway: #{ node_default_gateway }#".to_string(),
            "      timezone: #{ timezone | default('UTC') }#".to_string(),
        ];
        for l in section {
            if lines.len() < BIG_TEMPLATE_LINES - 2 {
                lines.push(l);
            }
        }
        if i % 5 == 4 && lines.len() + 3 < BIG_TEMPLATE_LINES - 2 {
            lines.push("#% if features.monitoring %#".into());
            lines.push(format!("      monitoring{i}: #{{ cloudflare.acme.email }}#"));
            lines.push("#% endif %#".into());
        }
        i += 1;
    }
    lines.push("    tail:".into());
    lines.push("      done: true".into());
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// The 2,000-line plain YAML: kube-prometheus-stack with a long rules block, and an
/// HTTPRoute to a Gateway that does not exist (a persistent diagnostic).
fn big_yaml(rng: &mut Rng) -> String {
    let mut lines: Vec<String> = Vec::new();
    let head = r##"---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: kube-prometheus-stack
spec:
  interval: 1h
  chart:
    spec:
      chart: kube-prometheus-stack
      version: 72.6.2
      sourceRef:
        kind: HelmRepository
        name: prometheus-community
        namespace: flux-system
  install:
    crds: Skip
  upgrade:
    crds: Skip
  values:
    crds:
      enabled: false
    cleanPrometheusOperatorObjectNames: true
    alertmanager:
      enabled: true
    prometheus:
      prometheusSpec:
        retention: 14d
        retentionSize: 50GB
        scrapeInterval: 1m
    additionalPrometheusRulesMap:
      bench-rules:
        groups:"##;
    lines.extend(head.lines().map(String::from));
    let tail = r##"---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: prometheus
spec:
  hostnames: ["prometheus.${SECRET_DOMAIN}"]
  parentRefs:
    - name: envoy-internl
      namespace: network
      sectionName: https
  rules:
    - backendRefs:
        - name: kube-prometheus-stack-prometheus
          port: 9090"##;
    let tail_lines: Vec<&str> = tail.lines().collect();
    let mut g = 0;
    let mut typed = false;
    while lines.len() + tail_lines.len() < BIG_YAML_LINES {
        if !typed && lines.len() >= BIG_YAML_LINES / 2 {
            lines.push(format!("          {TYPING_MARKER}"));
            typed = true;
            continue;
        }
        let group = [
            format!("          - name: bench-group-{g}"),
            "            rules:".to_string(),
            format!("              - alert: BenchAlert{g}"),
            format!("                expr: rate(http_requests_total{{job=\"app-{g}\",code=~\"5..\"}}[5m]) > {}", rng.below(100)),
            "                for: 10m".to_string(),
            "                labels:".to_string(),
            "                  severity: warning".to_string(),
            "                annotations:".to_string(),
            format!("                  summary: \"{{{{ $labels.job }}}} error rate is {{{{ $value }}}} ({g})\""),
        ];
        for l in group {
            if lines.len() + tail_lines.len() < BIG_YAML_LINES {
                lines.push(l);
            }
        }
        g += 1;
    }
    lines.extend(tail_lines.into_iter().map(String::from));
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

const HELM_REPOS: [(&str, &str); 8] = [
    ("cilium", "https://helm.cilium.io"),
    ("prometheus-community", "oci://ghcr.io/prometheus-community/charts"),
    ("grafana", "https://grafana.github.io/helm-charts"),
    ("jetstack", "https://charts.jetstack.io"),
    ("bitnami", "oci://registry-1.docker.io/bitnamicharts"),
    ("ingress-nginx", "https://kubernetes.github.io/ingress-nginx"),
    ("external-dns", "https://kubernetes-sigs.github.io/external-dns"),
    ("csi-driver-nfs", "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts"),
];

const OCI_APP_TEMPLATE: &str = r##"---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: app-template
  namespace: flux-system
spec:
  interval: 15m
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ref:
    tag: 4.1.1
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
"##;

fn helm_repository(name: &str, url: &str) -> String {
    let oci = if url.starts_with("oci://") { "\n  type: oci" } else { "" };
    format!(
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: {url}{oci}\n"
    )
}

fn repos_kustomization() -> String {
    let mut s =
        String::from("---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./app-template.yaml\n");
    for (name, _) in HELM_REPOS {
        let _ = writeln!(s, "  - ./{name}.yaml");
    }
    s
}

const TASKFILE: &str = r##"---
version: "3"
vars:
  BOOTSTRAP_DIR: "{{.ROOT_DIR}}/bootstrap"
  KUBERNETES_DIR: "{{.ROOT_DIR}}/kubernetes"
tasks:
  default: task --list
  configure:
    desc: Render the templates with makejinja
    cmd: makejinja
"##;

fn plain_ks(ns: &str, name: &str) -> String {
    format!(
        r##"---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: &app {name}
  namespace: &namespace {ns}
spec:
  commonMetadata:
    labels:
      app.kubernetes.io/name: *app
  interval: 1h
  path: ./kubernetes/apps/{ns}/{name}/app
  postBuild:
    substitute:
      APP: *app
      VOLSYNC_CAPACITY: 5Gi
  prune: true
  retryInterval: 2m
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  targetNamespace: *namespace
  timeout: 5m
  wait: false
"##
    )
}

fn plain_helmrelease(ns: &str, name: &str, secret: bool, app_route: bool, rng: &mut Rng) -> String {
    let image = rng.pick(&IMAGES).replace("app", name);
    let mut s = format!(
        r##"---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-template
    namespace: flux-system
  install:
    remediation:
      retries: -1
  upgrade:
    cleanupOnFail: true
    remediation:
      retries: 3
  values:
    controllers:
      {name}:
        annotations:
          reloader.stakater.com/auto: "true"
        containers:
          app:
            image:
              repository: {image}
              tag: {}.{}.{}@sha256:{}
            env:
              TZ: ${{TIMEZONE}}
              {upper}__PORT: &port {port}
              {upper}__LOG_LEVEL: info
"##,
        rng.below(5),
        rng.below(30),
        rng.below(10),
        rng.hex(64),
        upper = key(name).to_uppercase(),
        port = 8000 + rng.below(1000),
    );
    // About 1 in 90: references a Secret nobody defines.
    let dangling = rng.chance(1, 90);
    if secret || dangling {
        let target = if dangling { format!("{name}-credentials") } else { format!("{name}-secret") };
        let _ = write!(s, "            envFrom:\n              - secretRef:\n                  name: {target}\n");
    }
    s.push_str(
        r##"            probes:
              liveness: &probes
                enabled: true
                custom: true
                spec:
                  httpGet:
                    path: /ping
                    port: *port
                  initialDelaySeconds: 0
                  periodSeconds: 10
                  timeoutSeconds: 1
                  failureThreshold: 3
              readiness: *probes
            securityContext:
              allowPrivilegeEscalation: false
              readOnlyRootFilesystem: true
              capabilities: { drop: ["ALL"] }
            resources:
              requests:
                cpu: 10m
              limits:
                memory: 512Mi
    defaultPodOptions:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        fsGroup: 1000
        fsGroupChangePolicy: OnRootMismatch
    service:
      app:
        controller: {name}
        ports:
          http:
            port: *port
"##
        .replace("{name}", name)
        .as_str(),
    );
    if app_route {
        let gw = if rng.chance(1, 100) {
            "envoy-externl"
        } else if rng.chance(1, 2) {
            "envoy-external"
        } else {
            "envoy-internal"
        };
        let _ = write!(
            s,
            "    route:\n      app:\n        hostnames: [\"{{{{ .Release.Name }}}}.${{SECRET_DOMAIN}}\"]\n        parentRefs:\n          - name: {gw}\n            namespace: network\n            sectionName: https\n"
        );
    }
    let _ = write!(
        s,
        "    persistence:\n      config:\n        existingClaim: {name}\n      tmp:\n        type: emptyDir\n      media:\n        type: nfs\n        server: nas.internal\n        path: /mnt/tank/{ns}\n        globalMounts:\n          - path: /media\n            readOnly: true\n"
    );
    s
}

fn plain_kustomization(resources: &[&str]) -> String {
    let mut s = String::from("---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n");
    for r in resources {
        let _ = writeln!(s, "  - {r}");
    }
    s
}

fn enc(rng: &mut Rng, len: usize) -> String {
    format!("ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]", rng.b64(len), rng.b64(43), rng.b64(22))
}

fn sops_secret(name: &str, rng: &mut Rng) -> String {
    let upper = key(name).to_uppercase();
    format!(
        r##"apiVersion: v1
kind: Secret
metadata:
    name: {name}-secret
stringData:
    {upper}_API_KEY: {}
    {upper}_DB_PASSWORD: {}
    {upper}_OIDC_SECRET: {}
sops:
    age:
        - recipient: age1fakefakefakefakefakefakefakefakefakefakefakefakefakefake00
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            {}
            {}
            {}
            {}
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2025-05-0{}T12:00:00Z"
    mac: {}
    encrypted_regex: ^(data|stringData)$
    mac_only_encrypted: true
    version: 3.10.2
"##,
        enc(rng, 44),
        enc(rng, 32),
        enc(rng, 40),
        rng.b64(64),
        rng.b64(64),
        rng.b64(64),
        rng.b64(36),
        1 + rng.below(9),
        enc(rng, 88),
    )
}

fn httproute(ns: &str, name: &str, rng: &mut Rng) -> String {
    // About 1 in 100: no parentRefs at all.
    if rng.chance(1, 100) {
        return format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: {name}\nspec:\n  hostnames: [\"{name}.${{SECRET_DOMAIN}}\"]\n  rules:\n    - backendRefs:\n        - name: {name}\n          namespace: {ns}\n          port: 80\n"
        );
    }
    let gw = if rng.chance(1, 2) { "envoy-external" } else { "envoy-internal" };
    format!(
        r##"---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
spec:
  hostnames: ["{name}.${{SECRET_DOMAIN}}"]
  parentRefs:
    - name: {gw}
      namespace: network
      sectionName: https
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
      backendRefs:
        - name: {name}
          namespace: {ns}
          port: 80
"##
    )
}

fn pvc_yaml(name: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\nspec:\n  accessModes: [\"ReadWriteOnce\"]\n  resources:\n    requests:\n      storage: 5Gi\n  storageClassName: ceph-block\n"
    )
}

fn ns_kustomization(ns: &str, resources: &[&str]) -> String {
    let mut s = format!(
        "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\ncomponents:\n  - ../../components/common\nresources:\n"
    );
    for r in resources {
        let _ = writeln!(s, "  - {r}");
    }
    s
}

fn namespace_yaml(ns: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(8).next_u64(), xs[0]);
    }

    #[test]
    fn big_files_have_their_sizes_and_typing_lines() {
        let t = big_template();
        assert_eq!(t.lines().count(), BIG_TEMPLATE_LINES);
        assert_eq!(t.matches(TYPING_MARKER).count(), 1);
        let y = big_yaml(&mut Rng::new(1));
        assert_eq!(y.lines().count(), BIG_YAML_LINES);
        assert_eq!(y.matches(TYPING_MARKER).count(), 1);
    }

    #[test]
    fn generation_is_deterministic_and_sized() {
        let base = std::env::temp_dir().join(format!("homelab-bench-gen-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (a, b) = (base.join("a"), base.join("b"));
        for dir in [&a, &b] {
            let mut g = generate_templates(dir, 500, 42).unwrap();
            generate_plain(&mut g, 500, 42).unwrap();
            assert_eq!(count_files(dir), 500);
        }
        for e in walkdir::WalkDir::new(&a).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
            let rel = e.path().strip_prefix(&a).unwrap();
            assert_eq!(std::fs::read(e.path()).unwrap(), std::fs::read(b.join(rel)).unwrap(), "{}", rel.display());
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
