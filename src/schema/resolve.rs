//! Which schema a YAML document follows, highest first: its modeline
//! (`# yaml-language-server: $schema=URL`, `# $schema: URL`), a `[[schemas]]` glob of the
//! repo config, then `apiVersion` + `kind` through a URL template.

use std::path::Path;

use super::config::{RepoConfig, DEFAULT_URL_TEMPLATE};

/// API groups served by Kubernetes itself: the CRD store has no schemas for them, so they
/// only resolve through `kubernetes-url-template` (asking the CRD host would be 404s).
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// Why a document got its schema (hover and logs say it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Modeline,
    ConfigGlob,
    Kind,
}

/// The schema of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub url: String,
    pub origin: Origin,
}

/// How documents are matched to schemas in one project.
#[derive(Debug, Clone)]
pub struct Resolver {
    globs: Vec<(globset::GlobMatcher, String)>,
    url_template: String,
    kubernetes_url_template: String,
}

impl Resolver {
    pub fn new(config: &RepoConfig) -> Resolver {
        let mut globs = Vec::new();
        for g in &config.globs {
            for f in &g.files {
                if let Ok(glob) = globset::GlobBuilder::new(f).literal_separator(true).build() {
                    globs.push((glob.compile_matcher(), g.url.clone()));
                }
            }
        }
        Resolver {
            globs,
            url_template: config.url_template.clone().unwrap_or_else(|| DEFAULT_URL_TEMPLATE.to_string()),
            kubernetes_url_template: config.kubernetes_url_template.clone().unwrap_or_default(),
        }
    }

    /// The schema of the document spanning `doc_text` (its own lines, leading comments
    /// included) of the file at `rel` (relative to the root; `file` absolute, for relative
    /// modeline URLs), whose top level says `api_version` and `kind`.
    pub fn resolve(&self, doc_text: &str, file: &Path, rel: &Path, api_version: &str, kind: &str) -> Option<Resolved> {
        if let Some(url) = modeline(doc_text) {
            return Some(Resolved { url: absolute_url(url, file), origin: Origin::Modeline });
        }
        if let Some((_, url)) = self.globs.iter().find(|(g, _)| g.is_match(rel)) {
            return Some(Resolved { url: url.clone(), origin: Origin::ConfigGlob });
        }
        let url = self.kind_url(api_version, kind)?;
        Some(Resolved { url, origin: Origin::Kind })
    }

    /// `apiVersion` + `kind` through the templates; `None` for built-in kinds without a
    /// kubernetes template, and for anything that is not a plain identifier.
    pub fn kind_url(&self, api_version: &str, kind: &str) -> Option<String> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !ok(version) || !ok(kind) || !(group.is_empty() || ok(group)) {
            return None;
        }
        let template = if BUILT_IN_GROUPS.contains(&group) { &self.kubernetes_url_template } else { &self.url_template };
        if template.is_empty() {
            return None;
        }
        Some(
            template
                .replace("{group}", &group.to_ascii_lowercase())
                .replace("{kind}", &kind.to_ascii_lowercase())
                .replace("{version}", &version.to_ascii_lowercase()),
        )
    }
}

/// The URL of a `# yaml-language-server: $schema=URL` or `# $schema: URL` comment line.
pub fn modeline(text: &str) -> Option<&str> {
    text.lines().find_map(|line| modeline_in_line(line).map(|(_, url)| url))
}

/// The URL of a modeline comment line, with its byte offset in the line.
fn modeline_in_line(line: &str) -> Option<(usize, &str)> {
    let comment = line.trim_start().strip_prefix('#')?;
    let c = comment.trim_start();
    let rest = if let Some(rest) = c.strip_prefix("yaml-language-server:") {
        rest.trim_start().strip_prefix("$schema=")
    } else {
        c.strip_prefix("$schema:")
    }?;
    let url = rest.split_whitespace().next().filter(|u| !u.is_empty())?;
    // `url` is a slice of `line`: its offset is the distance between the two.
    Some((url.as_ptr() as usize - line.as_ptr() as usize, url))
}

/// Every modeline URL of `text` (of the file at `file`), as (byte range, absolute URL): the
/// editor turns them into links that open the schema.
pub fn modeline_links(text: &str, file: &Path) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        if let Some((at, url)) = modeline_in_line(line) {
            out.push((off + at..off + at + url.len(), absolute_url(url, file)));
        }
        off += line.len();
    }
    out
}

/// A relative modeline URL (`../schemas/x.json`) is a file next to the document.
fn absolute_url(url: &str, file: &Path) -> String {
    if url.contains("://") {
        return url.to_string();
    }
    let base = file.parent().unwrap_or(Path::new("/"));
    let mut path = base.to_path_buf();
    for part in url.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                path.pop();
            }
            p => path.push(p),
        }
    }
    format!("file://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn modelines() {
        assert_eq!(modeline("---\n# yaml-language-server: $schema=https://x/a.json\nkind: A\n"), Some("https://x/a.json"));
        assert_eq!(modeline("#   $schema: https://x/b.json  \n"), Some("https://x/b.json"));
        assert_eq!(modeline("a: 1 # $schema: nope\n"), None);
        assert_eq!(modeline("# yaml-language-server: $schema=\n"), None);
    }

    #[test]
    fn modeline_links_cover_the_url() {
        let text =
            "---\n# yaml-language-server: $schema=https://x/a.json\nkind: A\n---\n  #  $schema: ../b.json extra\nb: 1 # $schema: no\n";
        let links = modeline_links(text, Path::new("/r/apps/f.yaml"));
        assert_eq!(links.len(), 2, "{links:?}");
        assert_eq!(&text[links[0].0.clone()], "https://x/a.json");
        assert_eq!(links[0].1, "https://x/a.json");
        assert_eq!(&text[links[1].0.clone()], "../b.json");
        assert_eq!(links[1].1, "file:///r/b.json");
    }

    #[test]
    fn kinds_and_globs() {
        let mut c = RepoConfig::default();
        c.globs.push(super::super::config::SchemaGlob { url: "https://g/s.json".into(), files: vec!["apps/**/values.yaml".into()] });
        let r = Resolver::new(&c);
        let f = PathBuf::from("/r/apps/x/values.yaml");
        let hr = r.resolve("kind: HelmRelease\n", &f, Path::new("apps/x/values.yaml"), "helm.toolkit.fluxcd.io/v2", "HelmRelease");
        assert_eq!(hr.map(|r| r.origin), Some(Origin::ConfigGlob));
        let hr = r.resolve("", &f, Path::new("other.yaml"), "helm.toolkit.fluxcd.io/v2", "HelmRelease").unwrap();
        assert_eq!(hr.url, "https://k8s-schemas.home-operations.com/helm.toolkit.fluxcd.io/helmrelease_v2.json");
        assert_eq!(r.kind_url("apps/v1", "Deployment"), None);
        assert_eq!(r.kind_url("v1", "Service"), None);
        assert_eq!(r.kind_url("a/b/v1", "X"), None);
        let m = r.resolve("# $schema: ../s.json\n", &f, Path::new("x"), "", "").unwrap();
        assert_eq!(m.url, "file:///r/apps/s.json");
        c.kubernetes_url_template = Some("https://k/{kind}-{version}.json".into());
        assert_eq!(Resolver::new(&c).kind_url("v1", "Service").as_deref(), Some("https://k/service-v1.json"));
    }
}
