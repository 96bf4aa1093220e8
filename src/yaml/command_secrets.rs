//! Secrets a repository creates by command rather than by manifest: `kubectl create secret
//! generic sops-age …` in a Taskfile, a bootstrap script, a justfile or the README's setup
//! steps. The cluster-template bootstrap and most home-ops repos make Flux's SOPS key this
//! way, so a manifest-only index called it missing in every such repo. Like the manifest
//! creators (`secret_creators`), this errs towards "created": a miss only silences a warning.
//!
//! Both tables below are data: which files hold commands, and which commands create a
//! Secret under the name that follows them.

use std::path::Path;

/// Programs and the words after them (flags aside) that create a Secret, followed by the
/// Secret's type (any word) and then its name.
const CREATE_COMMANDS: &[(&str, &[&str])] = &[("kubectl", &["create", "secret"]), ("oc", &["create", "secret"])];

/// Flags of those commands that take their value as the next word (`-n flux-system`); any
/// other flag written without `=` is taken to be boolean.
const FLAGS_WITH_VALUE: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "--cluster",
    "--user",
    "-s",
    "--server",
    "-o",
    "--output",
    "--type",
    "--from-file",
    "--from-literal",
    "--from-env-file",
    "--cert",
    "--key",
    "--docker-server",
    "--docker-username",
    "--docker-password",
    "--docker-email",
    "--field-manager",
];

/// File names that hold commands, wherever they are.
const COMMAND_FILE_NAMES: &[&str] = &[
    "Taskfile.yml",
    "Taskfile.yaml",
    "Taskfile.dist.yml",
    "Taskfile.dist.yaml",
    "taskfile.yml",
    "taskfile.yaml",
    "Makefile",
    "makefile",
    "GNUmakefile",
    "justfile",
    "Justfile",
    ".justfile",
    "mise.toml",
    ".mise.toml",
];

/// Extensions of files that hold commands (scripts, just modules, setup documentation).
const COMMAND_FILE_EXTENSIONS: &[&str] = &["sh", "bash", "zsh", "fish", "just", "mk", "md"];

/// Hidden directories (at any depth) whose files are tasks: the plain-YAML walk skips
/// hidden directories, so these are walked on purpose.
pub const TASK_DIRS: &[&str] = &[".taskfiles", ".justfiles", ".just", ".mise", ".scripts"];

/// Whether `file` is one whose text may create Secrets by command.
pub fn is_command_file(file: &Path) -> bool {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if COMMAND_FILE_NAMES.contains(&name) {
        return true;
    }
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if COMMAND_FILE_EXTENSIONS.contains(&ext) {
        return true;
    }
    let in_task_dir = file.components().any(|c| c.as_os_str().to_str().is_some_and(|c| TASK_DIRS.contains(&c)));
    in_task_dir && matches!(ext, "yaml" | "yml" | "toml" | "")
}

/// One Secret a command creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSecret {
    pub name: String,
    pub namespace: Option<String>,
    /// 0-based line of the name.
    pub line: u32,
}

/// The Secrets the commands in `text` create. A name that is not a literal Kubernetes name
/// (`"$NAME"`, `{{.NAME}}`) is left out: no name is known.
pub fn secrets_created_by_commands(text: &str) -> Vec<CommandSecret> {
    let mut out = Vec::new();
    for &(program, verbs) in CREATE_COMMANDS {
        // Most texts never name the program: one substring search and done.
        let mut from = 0;
        while let Some(found) = text[from..].find(program) {
            let at = from + found;
            from = at + program.len();
            if !starts_command(text, at) || !text[from..].starts_with([' ', '\t']) {
                continue;
            }
            if let Some(made) = parse_create(text, from, verbs) {
                if !out.contains(&made) {
                    out.push(made);
                }
            }
        }
    }
    out
}

/// The program name at `at` begins a word: start of text, after blank space, a shell
/// operator, a quote or a path (`/usr/local/bin/kubectl`).
fn starts_command(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || matches!(c, '|' | ';' | '&' | '(' | '\'' | '"' | '`' | '/' | '}' | '$'))
}

/// Reads `verbs`, a type and a name after the program at `from`, skipping flags.
fn parse_create(text: &str, from: usize, verbs: &[&str]) -> Option<CommandSecret> {
    let mut words = Words { text, at: from };
    let mut namespace = None;
    let mut next_word = |namespace: &mut Option<String>| -> Option<(usize, String)> {
        loop {
            let (at, word) = words.next()?;
            if !word.starts_with('-') || word == "-" {
                return Some((at, word));
            }
            let (flag, inline) = match word.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (word.clone(), None),
            };
            let value = match inline {
                Some(v) => Some(v),
                None if FLAGS_WITH_VALUE.contains(&flag.as_str()) => Some(words.next()?.1),
                None => None,
            };
            if flag == "-n" || flag == "--namespace" {
                *namespace = value.filter(|v| is_literal_name(v));
            }
        }
    };
    for verb in verbs {
        if next_word(&mut namespace)?.1 != *verb {
            return None;
        }
    }
    let _secret_type = next_word(&mut namespace)?;
    let (at, name) = next_word(&mut namespace)?;
    // A flag after the name may still give the namespace (`… sops-age -n flux-system`).
    while let Some(_word) = next_word(&mut namespace) {}
    is_literal_name(&name).then(|| CommandSecret { name, namespace, line: text[..at].matches('\n').count() as u32 })
}

/// A Kubernetes object name written out (no shell or template variable in it).
fn is_literal_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// The words of one command line, unquoted, from a byte offset: a backslash before a line
/// break continues the line, and the line ends at a shell operator or a template's `{{`.
struct Words<'a> {
    text: &'a str,
    at: usize,
}

impl Words<'_> {
    /// The next word and where it starts, or `None` at the end of the command.
    fn next(&mut self) -> Option<(usize, String)> {
        let bytes = self.text.as_bytes();
        // Blank space, and line continuations.
        loop {
            match bytes.get(self.at) {
                Some(b' ' | b'\t') => self.at += 1,
                Some(b'\\') if matches!(bytes.get(self.at + 1), Some(b'\n' | b'\r')) => {
                    self.at += 1;
                    while matches!(bytes.get(self.at), Some(b'\n' | b'\r')) {
                        self.at += 1;
                    }
                }
                _ => break,
            }
        }
        let start = self.at;
        let mut word = String::new();
        let mut quote: Option<u8> = None;
        while let Some(&b) = bytes.get(self.at) {
            match (quote, b) {
                (Some(q), _) if b == q => quote = None,
                (Some(_), b'\n' | b'\r') => break,
                (Some(_), _) => word.push(b as char),
                (None, b' ' | b'\t' | b'\n' | b'\r' | b'|' | b';' | b'&' | b'>' | b'<' | b')' | b'`') => break,
                (None, b'\'' | b'"') => quote = Some(b),
                (None, b'{') if bytes.get(self.at + 1) == Some(&b'{') => break,
                (None, _) => word.push(b as char),
            }
            self.at += 1;
        }
        // Only ASCII bytes were pushed as chars when they are ASCII; anything else is not a
        // name, so a lossy word is fine.
        (!word.is_empty()).then_some((start, word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, Option<String>, u32)> {
        secrets_created_by_commands(text).into_iter().map(|s| (s.name, s.namespace, s.line)).collect()
    }

    #[test]
    fn the_cluster_template_bootstrap_task() {
        let text = "tasks:\n  flux:\n    cmds:\n      - '{{if eq .SOPS_SECRET_EXISTS \"false\"}}cat {{.SOPS_AGE_KEY_FILE}} | kubectl --namespace flux-system create secret generic sops-age --from-file=age.agekey=/dev/stdin{{end}}'\n";
        assert_eq!(names(text), vec![("sops-age".into(), Some("flux-system".into()), 3)]);
        let k3s = "      - cat {{.AGE_FILE}} | kubectl -n flux-system create secret generic sops-age --from-file=age.agekey=/dev/stdin\n";
        assert_eq!(names(k3s), vec![("sops-age".into(), Some("flux-system".into()), 0)]);
    }

    #[test]
    fn scripts_with_continuations_and_flags_after_the_name() {
        let text = "#!/usr/bin/env bash\ncat \"$dir/key\" |\nkubectl create secret generic sops-age \\\n  --namespace=flux-system \\\n  --from-file=\"age.agekey=/dev/stdin\"\n";
        assert_eq!(names(text), vec![("sops-age".into(), Some("flux-system".into()), 2)]);
        let text = "add:\n    /usr/local/bin/kubectl create secret tls -n web wildcard-tls --cert=a --key b\n";
        assert_eq!(names(text), vec![("wildcard-tls".into(), Some("web".into()), 1)]);
    }

    #[test]
    fn only_literal_names_of_real_create_commands() {
        // A variable or template name: no name is known.
        assert!(names("kubectl create secret generic \"$NAME\" --from-literal=a=b\n").is_empty());
        assert!(names("kubectl create secret generic {{.NAME}}\n").is_empty());
        // Other verbs and other programs.
        assert!(names("kubectl get secret sops-age\nkubectl delete secret sops-age\n").is_empty());
        assert!(names("mykubectl create secret generic x\n").is_empty());
        assert!(names("kubectl create configmap generic x\n").is_empty());
        // The command ends at a pipe: the name is not read from the next command.
        assert!(names("kubectl create secret generic | tee x\n").is_empty());
        assert_eq!(names("oc create secret generic db-pass\n"), vec![("db-pass".into(), None, 0)]);
    }

    #[test]
    fn command_files() {
        for f in [
            "Taskfile.yaml",
            ".taskfiles/bootstrap/Taskfile.yaml",
            ".taskfiles/flux/tasks.yml",
            "scripts/bootstrap.sh",
            "justfile",
            "docs/setup.md",
            "README.md",
        ] {
            assert!(is_command_file(Path::new(f)), "{f}");
        }
        for f in ["kubernetes/apps/x/helmrelease.yaml", "config.yaml", "main.py"] {
            assert!(!is_command_file(Path::new(f)), "{f}");
        }
    }
}
