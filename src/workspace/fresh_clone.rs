//! What a fresh clone of a fork lacks: the gitignored data file (`config.yaml`,
//! `cluster.yaml`, …) and the key files the plugin reads (`age.key`, …). That is the normal
//! state of a repo someone just opened, not a defect: it is said once, with how to create the
//! files, and the repo's sample data (`config.sample.yaml`, …) stands in for previews.

use std::path::{Path, PathBuf};

/// How sample copies of a data file are named, relative to the data file: `{stem}` is the
/// name without its extension, `{ext}` the extension, `{name}` the whole file name.
const SAMPLE_NAMES: &[&str] = &[
    "{stem}.sample.{ext}",
    "{stem}.example.{ext}",
    "{stem}.template.{ext}",
    "{stem}.dist.{ext}",
    "{name}.sample",
    "{name}.example",
    "{name}.dist",
    "sample.{name}",
    "example.{name}",
];

/// The plugin functions of the cluster-template family and the key file each reads by default.
pub const KEY_FILE_FUNCTIONS: &[(&str, &str)] = &[
    ("age_key", "age.key"),
    ("cloudflare_tunnel_id", "cloudflare-tunnel.json"),
    ("cloudflare_tunnel_secret", "cloudflare-tunnel.json"),
    ("github_deploy_key", "github-deploy.key"),
    ("github_push_token", "github-push-token.txt"),
];

/// A data file the configuration lists that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingData {
    pub path: PathBuf,
    /// The repo's sample of it, loaded in its place for previews.
    pub sample: Option<PathBuf>,
}

/// The sample copy of a missing data file, if the repo has one beside it.
pub fn sample_for(path: &Path) -> Option<PathBuf> {
    let dir = path.parent()?;
    let name = path.file_name()?.to_str()?;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    SAMPLE_NAMES
        .iter()
        .filter(|p| !ext.is_empty() || !p.contains("{ext}"))
        .map(|p| dir.join(p.replace("{stem}", stem).replace("{ext}", ext).replace("{name}", name)))
        .find(|p| p.is_file())
}

/// The repo's own command that creates the missing files: an `init` task in the Taskfile
/// (`task init`) or an `init` recipe in the justfile (`just init`).
pub fn init_command(root: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Option<&'static str> {
    let mut taskfiles = vec![root.join("Taskfile.yaml"), root.join("Taskfile.yml"), root.join("taskfile.yaml")];
    if let Ok(dirs) = std::fs::read_dir(root.join(".taskfiles")) {
        let mut more: Vec<PathBuf> = dirs.flatten().map(|d| d.path().join("Taskfile.yaml")).collect();
        more.sort();
        taskfiles.extend(more);
    }
    let has_task = |line: &str| {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        (1..=4).contains(&indent) && (t.starts_with("init:") || t.starts_with(":init:"))
    };
    if taskfiles.iter().filter_map(|f| read(f)).any(|t| t.lines().any(has_task)) {
        return Some("task init");
    }
    let justfiles = [root.join("justfile"), root.join(".justfile"), root.join("Justfile")];
    let has_recipe = |line: &str| line.starts_with("init:") || line.starts_with("init ");
    if justfiles.iter().filter_map(|f| read(f)).any(|t| t.lines().any(has_recipe)) {
        return Some("just init");
    }
    None
}

/// Whether the repo's top-level `.gitignore` names `rel` (a root-relative path) by a plain
/// line (`/config.yaml`, `config.yaml`, `bootstrap/vars/config.yaml`).
pub fn is_gitignored(root: &Path, rel: &str, read: &dyn Fn(&Path) -> Option<String>) -> bool {
    let Some(text) = read(&root.join(".gitignore")) else { return false };
    let name = rel.rsplit('/').next().unwrap_or(rel);
    text.lines().map(str::trim).any(|l| l.trim_start_matches('/') == rel || l == name)
}

/// The one message about everything a fresh clone lacks, or `None` when nothing is missing.
pub fn notice(root: &Path, missing: &[MissingData], key_files: &[String], read: &dyn Fn(&Path) -> Option<String>) -> Option<String> {
    if missing.is_empty() && key_files.is_empty() {
        return None;
    }
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace('\\', "/");
    let mut parts = Vec::new();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|m| format!("'{}'", rel(&m.path))).collect();
        let ignored = missing.iter().all(|m| is_gitignored(root, &rel(&m.path), read));
        let one = missing.len() == 1;
        parts.push(format!(
            "data file {} {}{}",
            names.join(" and "),
            if one { "does not exist" } else { "do not exist" },
            match (ignored, one) {
                (false, _) => "",
                (true, true) => " (it is gitignored, as in most forks)",
                (true, false) => " (they are gitignored, as in most forks)",
            }
        ));
    }
    if !key_files.is_empty() {
        parts.push(format!(
            "{} (read by the plugin) {}",
            key_files.join(", "),
            if key_files.len() == 1 { "does not exist" } else { "do not exist" }
        ));
    }
    let them = if missing.len() + key_files.len() == 1 { "it" } else { "them" };
    let copies: Vec<String> =
        missing.iter().filter_map(|m| m.sample.as_ref().map(|s| format!("`cp {} {}`", rel(s), rel(&m.path)))).collect();
    let mut message = parts.join("; ");
    match (copies.is_empty(), init_command(root, read)) {
        (false, Some(cmd)) => {
            message.push_str(&format!("; create {them} with {} or `{cmd}` (the repo's setup task)", copies.join(" and ")))
        }
        (false, None) => message.push_str(&format!("; create {them} with {}", copies.join(" and "))),
        (true, Some(cmd)) => message.push_str(&format!("; run `{cmd}` (the repo's setup task) or create {them} by hand")),
        (true, None) if missing.is_empty() => message.push_str(&format!("; create {them} as the repo's README describes")),
        (true, None) => message.push_str(&format!("; create {them} with the keys the templates use")),
    }
    let samples: Vec<String> = missing.iter().filter_map(|m| m.sample.as_ref().map(|s| rel(s))).collect();
    if missing.is_empty() {
        message.push_str(". Until then the templates that read them do not render (not reported as render-error)");
    } else {
        if samples.is_empty() {
            message.push_str(". Until then templates render without data");
        } else {
            message.push_str(&format!(". Until then previews and hovers use the sample data in {}", samples.join(", ")));
        }
        message.push_str(", and checks that depend on a real render (undefined-variable, render-error, drift) are skipped");
    }
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> Option<String> {
        std::fs::read_to_string(p).ok()
    }

    #[test]
    fn finds_samples_and_the_init_command() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        assert_eq!(sample_for(&root.join("cluster.yaml")), None);
        std::fs::write(root.join("cluster.sample.yaml"), "a: 1\n").unwrap();
        assert_eq!(sample_for(&root.join("cluster.yaml")), Some(root.join("cluster.sample.yaml")));
        std::fs::write(root.join("config.toml.example"), "a = 1\n").unwrap();
        assert_eq!(sample_for(&root.join("config.toml")), Some(root.join("config.toml.example")));
        assert_eq!(init_command(root, &read), None);
        std::fs::write(root.join("justfile"), "set quiet\ninit:\n    cp a b\n").unwrap();
        assert_eq!(init_command(root, &read), Some("just init"));
        std::fs::create_dir_all(root.join(".taskfiles/template")).unwrap();
        std::fs::write(root.join(".taskfiles/template/Taskfile.yaml"), "version: '3'\ntasks:\n  :init:\n    cmds: []\n").unwrap();
        assert_eq!(init_command(root, &read), Some("task init"));
    }

    #[test]
    fn the_notice_says_what_is_missing_and_how_to_create_it() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join(".gitignore"), "/cluster.yaml\n").unwrap();
        let missing = [MissingData { path: root.join("cluster.yaml"), sample: Some(root.join("cluster.sample.yaml")) }];
        let n = notice(root, &missing, &["age.key".into()], &read).unwrap();
        assert!(n.starts_with("data file 'cluster.yaml' does not exist (it is gitignored, as in most forks)"), "{n}");
        assert!(n.contains("age.key (read by the plugin) does not exist"), "{n}");
        assert!(n.contains("`cp cluster.sample.yaml cluster.yaml`"), "{n}");
        assert!(n.contains("sample data in cluster.sample.yaml"), "{n}");
        assert_eq!(notice(root, &[], &[], &read), None);
        let keys_only = notice(root, &[], &["age.key".into()], &read).unwrap();
        assert!(keys_only.starts_with("age.key (read by the plugin) does not exist;"), "{keys_only}");
        assert!(keys_only.contains("templates that read them do not render") && !keys_only.contains("drift"), "{keys_only}");
    }
}
