//! Values that stand for something resolved elsewhere, not literals: the reference syntaxes
//! of the tools home-ops repos feed their YAML to. One table, so a new tool is one row.

/// How a reference is written.
enum Form {
    /// Anywhere in the value.
    Contains(&'static str),
    /// The value (trimmed) starts with it.
    Prefix(&'static str),
    /// The whole value (trimmed) is `open NAME close`, NAME an identifier.
    Wrapped(&'static str, &'static str),
    /// The whole value is `$NAME`.
    ShellVar,
}

/// The reference syntaxes, with who resolves them (for the reader; not used in messages).
const SYNTAXES: &[(Form, &str)] = &[
    (Form::Contains("${"), "Flux postBuild substitution, envsubst, shell"),
    (Form::Contains("{{"), "Go/Helm/ExternalSecret templates, Authelia `{{ secret }}`"),
    (Form::Contains("ENC["), "SOPS ciphertext"),
    (Form::Prefix("<path:"), "argocd-vault-plugin placeholder"),
    (Form::Prefix("op://"), "1Password secret reference"),
    (Form::Prefix("os.environ/"), "LiteLLM environment reference"),
    (Form::Prefix("!env_var "), "recyclarr environment tag written into the text"),
    (Form::Prefix("ref+"), "vals reference"),
    (Form::Prefix("vault:"), "Vault reference (bank-vaults, vals)"),
    (Form::Wrapped("<<", ">>"), "Kometa variable"),
    (Form::Wrapped("@@", "@@"), "placeholder replaced by sed at startup"),
    (Form::Wrapped("%{", "}"), "placeholder filled by an init script"),
    (Form::ShellVar, "shell or envsubst variable"),
    // `mask_template` blanks template parts of a template's text: a run of three spaces.
    (Form::Contains("   "), "masked template part"),
];

/// Whether `value` is a reference in one of the [`SYNTAXES`].
pub(crate) fn is_reference(value: &str) -> bool {
    let t = value.trim();
    SYNTAXES.iter().any(|(form, _)| match form {
        Form::Contains(s) => value.contains(s),
        Form::Prefix(p) => t.starts_with(p),
        Form::Wrapped(open, close) => t
            .strip_prefix(open)
            .and_then(|r| r.strip_suffix(close))
            .is_some_and(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')),
        Form::ShellVar => t.strip_prefix('$').is_some_and(is_identifier),
    })
}

/// Whether a YAML tag makes the consumer resolve the value (`!env_var NAME` in recyclarr,
/// `!secret name` in Home Assistant, `!ENV`, `!include`): any local tag. Core tags
/// (`!!str`, `tag:yaml.org,2002:…`) do not.
pub(crate) fn is_resolving_tag(tag: &str) -> bool {
    let t = tag.trim();
    t.starts_with('!') && !t.starts_with("!!") && t.len() > 1 && !t.contains("yaml.org,2002:")
}

/// `SONARR_API_KEY`, `name`: letters, digits, `_`, starting with a letter or `_`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syntax_is_a_reference() {
        for v in [
            "${SECRET_TOKEN}",
            "{{ .password }}",
            "ENC[AES256_GCM,data:x,type:str]",
            "<path:kv/data/app#token>",
            "op://kubernetes/1password/OP_CONNECT_TOKEN",
            "op://vault/item/field\n",
            "os.environ/OPENCODE_API_KEY",
            "!env_var SONARR_API_KEY",
            "ref+vault://secret/app#token",
            "<<TRAKT_CLIENT_SECRET>>",
            "@@RELAY_PASSWORD@@",
            "$DB_PASSWORD",
            "a   b",
        ] {
            assert!(is_reference(v), "{v:?} is a reference");
        }
        for v in ["hunter2", "s3cr3t", "$2b$12$abcdefghijklmnopqrstuv", "<<not a name>>", "@@", "$", "op:/x", "a-b-c"] {
            assert!(!is_reference(v), "{v:?} is a literal");
        }
    }

    #[test]
    fn local_tags_resolve() {
        assert!(is_resolving_tag("!env_var"));
        assert!(is_resolving_tag("!secret"));
        assert!(!is_resolving_tag("!!str"));
        assert!(!is_resolving_tag("tag:yaml.org,2002:str"));
        assert!(!is_resolving_tag("!"));
    }
}
