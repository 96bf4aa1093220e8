//! `committed-secret`: private keys and tokens in files git tracks. The caller passes only
//! tracked files (the workspace layer asks git); this module only reads their text.
//!
//! Which files are looked at is a table of names: key and token files always; the
//! project's data files (`cluster.toml`, `config.yaml`: gitignored in a healthy fork)
//! when the caller says the file is one.

use std::path::Path;

use super::credentials::{is_credential_key, is_credential_literal, secret_shape};
use super::{Finding, Severity, TextRange};

/// How a file name is matched.
enum Name {
    Suffix(&'static str),
    Exact(&'static str),
    /// Starts with it and is not a `.pub` public key.
    PrivatePrefix(&'static str),
    /// Contains `token` and ends with the suffix.
    TokenFile(&'static str),
}

/// Files that hold a key or token by name.
const KEY_FILES: &[Name] = &[
    Name::Suffix(".key"),
    Name::Suffix(".pem"),
    Name::Suffix(".agekey"),
    Name::Exact("age.key"),
    Name::PrivatePrefix("id_"),
    Name::TokenFile(".txt"),
    Name::Exact("cloudflare-tunnel.json"),
];

fn is_key_file(name: &str) -> bool {
    KEY_FILES.iter().any(|n| match n {
        Name::Suffix(s) => name.ends_with(s),
        Name::Exact(e) => name == *e,
        Name::PrivatePrefix(p) => name.starts_with(p) && !name.ends_with(".pub"),
        Name::TokenFile(s) => name.contains("token") && name.ends_with(s),
    })
}

/// What a tracked `file` exposes. `data_file`: it is one of the project's data files.
pub fn committed_secrets(file: &Path, text: &str, data_file: bool) -> Vec<Finding> {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !data_file && !is_key_file(name) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let rest = &text[offset..];
        let trimmed = line.trim_start();
        let start = offset + (line.len() - trimmed.len());
        let range = TextRange::new(start, offset + line.trim_end().len());
        if let Some(shape) = secret_shape(rest).filter(|_| shape_starts_here(line)) {
            out.push(finding(Severity::Error, range, format!("`{name}` is tracked by git and holds {shape}")));
        } else if data_file {
            if let Some((key, value)) = key_value(trimmed) {
                if is_credential_key(key) && is_credential_literal(value) {
                    out.push(finding(
                        Severity::Warning,
                        range,
                        format!("`{name}` is tracked by git and `{key}` holds a literal credential"),
                    ));
                }
            }
        }
        offset += line.len();
    }
    out
}

/// Whether the secret shape found from this line on begins on it (each shape is reported
/// once, on its first line).
fn shape_starts_here(line: &str) -> bool {
    secret_shape(line).is_some() || line.contains("-----BEGIN ")
}

fn finding(severity: Severity, range: TextRange, message: String) -> Finding {
    Finding {
        code: "committed-secret",
        severity,
        range,
        message: format!(
            "{message}: anyone who can read the repository has it; remove the file from git (`git rm --cached`), add it to .gitignore and rotate the secret"
        ),
        related: Vec::new(),
        fixes: Vec::new(),
    }
}

/// `key: value` (YAML) or `key = "value"` (TOML) on one line, comments and quotes removed.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(": ").or_else(|| line.split_once(" = ")).or_else(|| line.split_once('='))?;
    let key = key.trim().trim_matches(['"', '\'']);
    if key.is_empty() || key.starts_with('#') || key.contains(char::is_whitespace) {
        return None;
    }
    let value = value.trim();
    let value = match value.chars().next() {
        Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
        _ => value.split(" #").next().unwrap_or("").trim(),
    };
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";

    #[test]
    fn key_and_token_files() {
        let f = committed_secrets(Path::new("/r/github-deploy.key"), KEY, false);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].severity, f[0].range.start), (Severity::Error, 0));
        assert_eq!(committed_secrets(Path::new("/r/.ssh/id_ed25519"), KEY, false).len(), 1);
        assert!(committed_secrets(Path::new("/r/.ssh/id_ed25519.pub"), KEY, false).is_empty());
        let token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789\n";
        assert_eq!(committed_secrets(Path::new("/r/github-push-token.txt"), token, false).len(), 1);
        // Other files are not this rule's business, whatever they hold.
        assert!(committed_secrets(Path::new("/r/README.md"), token, false).is_empty());
        // A public key or a certificate in a `.pem` is no secret.
        assert!(
            committed_secrets(Path::new("/r/ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", false).is_empty()
        );
    }

    #[test]
    fn data_files() {
        let toml = "[cloudflare]\ndomain = \"example.com\"\napi_token = \"Xk3v9QeP0aLmZ7rT2wYc\" # the token\ntoken_ttl = \"1h\"\nsecret = \"${FROM_ENV}\"\n";
        let f = committed_secrets(Path::new("/r/cluster.toml"), toml, true);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(&toml[f[0].range.start..f[0].range.end], "api_token = \"Xk3v9QeP0aLmZ7rT2wYc\" # the token");
        let yaml = "cluster_name: home\nage_key: AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS\n";
        let f = committed_secrets(Path::new("/r/cluster.yaml"), yaml, true);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("an age secret key"));
    }
}
