//! `makejinja` command lines in a repo's task runners (Taskfile, justfile): some repos pass
//! their options as flags there instead of writing them into `makejinja.toml`. Each
//! invocation's flags are read, with the runner's own variables (`{{.ROOT_DIR}}`,
//! `{{ justfile_dir() }}`, simple `vars:` / `name := '…'`) filled in; a flag whose value is
//! only known at run time stays unresolved and is reported as such.

use std::path::{Path, PathBuf};

/// Task-runner files looked at, relative to the root; `*` is one directory level.
const RUNNER_FILES: &[&str] = &[
    "Taskfile.yaml",
    "Taskfile.yml",
    "taskfile.yaml",
    "taskfile.yml",
    ".taskfiles/*/Taskfile.yaml",
    ".taskfiles/*/Taskfile.yml",
    ".taskfiles/*.yaml",
    "justfile",
    ".justfile",
    "Justfile",
    "*/mod.just",
    ".just/*.just",
];

/// makejinja's command-line flags and the `makejinja.toml` key each sets (flags that take
/// no value are `None`-valued booleans set to true).
const FLAGS: &[(&str, &str, bool)] = &[
    // (flag, key, takes a value)
    ("--input", "inputs", true),
    ("-i", "inputs", true),
    ("--output", "output", true),
    ("-o", "output", true),
    ("--data", "data", true),
    ("-d", "data", true),
    ("--data-var", "data_vars", true),
    ("-D", "data_vars", true),
    ("--jinja-suffix", "jinja_suffix", true),
    ("--import-path", "import_paths", true),
    ("--loader", "loaders", true),
    ("-l", "loaders", true),
    ("--plugin", "plugins", true),
    ("--exclude-pattern", "exclude_patterns", true),
    ("--include-pattern", "include_patterns", true),
    ("--undefined", "undefined", true),
    ("--keep-empty", "keep_empty", false),
    ("--keep-jinja-suffix", "keep_jinja_suffix", false),
    ("--copy-metadata", "copy_metadata", false),
    ("--force", "force", false),
    ("-f", "force", false),
];

/// One `makejinja …` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub file: PathBuf,
    /// 0-based line.
    pub line: u32,
    /// The command as written (for messages).
    pub command: String,
    /// `(makejinja.toml key, value)` for every flag, values with variables filled in.
    pub options: Vec<(&'static str, String)>,
    /// Flag values that stay unknown until the task runs (`{{.ITEM}}`, `$VAR`).
    pub unresolved: Vec<String>,
}

impl Invocation {
    /// The values given for a key, in order.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.options.iter().filter(|(k, _)| *k == key).map(|(_, v)| v.as_str()).collect()
    }
}

/// Every `makejinja` command line in the repo's task runners, in file order.
pub fn find(root: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Vec<Invocation> {
    let mut out = Vec::new();
    for file in runner_files(root) {
        let Some(text) = read(&file) else { continue };
        let vars = runner_vars(root, &text);
        let lines: Vec<&str> = text.lines().collect();
        for (n, first) in lines.iter().enumerate() {
            // A command continued over several lines with `\` is one command line.
            let mut line = first.to_string();
            let mut next = n + 1;
            while line.trim_end().ends_with('\\') && next < lines.len() {
                line = format!("{} {}", line.trim_end().trim_end_matches('\\'), lines[next].trim());
                next += 1;
            }
            let Some(command) = command_after_makejinja(&line) else { continue };
            let mut inv = Invocation {
                file: file.clone(),
                line: n as u32,
                command: format!("makejinja {command}").trim_end().to_string(),
                options: Vec::new(),
                unresolved: Vec::new(),
            };
            let words = shell_words(command);
            let mut i = 0;
            while i < words.len() {
                let word = &words[i];
                let (flag, inline) = match word.split_once('=') {
                    Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                    _ => (word.as_str(), None),
                };
                i += 1;
                let Some(&(_, key, takes)) = FLAGS.iter().find(|(f, ..)| *f == flag) else { continue };
                let value = if !takes {
                    "true".to_string()
                } else if let Some(v) = inline {
                    v
                } else if let Some(v) = words.get(i) {
                    i += 1;
                    v.clone()
                } else {
                    continue;
                };
                let filled = fill_vars(&value, &vars);
                if filled.contains("{{") || filled.contains('$') {
                    inv.unresolved.push(format!("{flag} {value}"));
                } else {
                    inv.options.push((key, filled));
                }
            }
            out.push(inv);
        }
    }
    out
}

fn runner_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for pattern in RUNNER_FILES {
        match pattern.split_once('*') {
            None => files.push(root.join(pattern)),
            Some((dir, rest)) => {
                let dir = root.join(dir.trim_end_matches('/'));
                let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                let mut found: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter_map(|p| {
                        if rest.starts_with('/') {
                            Some(p.join(rest.trim_start_matches('/')))
                        } else {
                            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(rest)).then_some(p)
                        }
                    })
                    .collect();
                found.sort();
                files.extend(found);
            }
        }
    }
    files.retain(|f| f.is_file());
    files.dedup();
    files
}

/// The text after a `makejinja` command word on this line, up to the end of the command
/// (`|`, `&&`, `;`, `>`, a comment). `None` when the line does not run makejinja.
fn command_after_makejinja(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') {
        return None;
    }
    let mut search = 0;
    while let Some(i) = line[search..].find("makejinja") {
        let at = search + i;
        let end = at + "makejinja".len();
        let before = line[..at].chars().next_back();
        let after = line[end..].chars().next();
        let starts_word = before.is_none_or(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '(' | ';' | '&' | '|' | '=' | ':'));
        let ends_word = after.is_none_or(|c| c.is_whitespace() || matches!(c, '\'' | '"'));
        // `MAKEJINJA_SETTINGS`, `makejinja.toml`, `import makejinja` are not commands.
        if starts_word && ends_word && !line[..at].trim_end().ends_with("import") {
            let rest = &line[end..];
            let stop = ["|", "&&", ";", " >", " #"].iter().filter_map(|s| rest.find(s)).min().unwrap_or(rest.len());
            return Some(rest[..stop].trim().trim_end_matches(['\'', '"']));
        }
        search = end;
    }
    None
}

/// Splits a command line into words, honouring single and double quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, '\\') => {}
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Variables a runner file defines with a literal value: Taskfile `vars:` entries
/// (`NAME: 'value'`) and justfile assignments (`name := 'value'`), plus the root.
fn runner_vars(root: &Path, text: &str) -> Vec<(String, String)> {
    let root = root.to_string_lossy().into_owned();
    let mut vars: Vec<(String, String)> = vec![
        ("ROOT_DIR".into(), root.clone()),
        ("TASKFILE_DIR".into(), root.clone()),
        ("USER_WORKING_DIR".into(), root.clone()),
        ("justfile_dir()".into(), root.clone()),
        ("justfile_directory()".into(), root.clone()),
        ("invocation_directory()".into(), root),
    ];
    for line in text.lines() {
        let t = line.trim();
        let (name, value) = if let Some((n, v)) = t.split_once(":=") {
            (n.trim().trim_start_matches("export ").trim(), v.trim())
        } else if let Some((n, v)) = t.split_once(": ") {
            (n.trim(), v.trim())
        } else {
            continue;
        };
        let quoted = (value.starts_with('\'') && value.ends_with('\'')) || (value.starts_with('"') && value.ends_with('"'));
        let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_name && quoted && value.len() >= 2 {
            let v = value[1..value.len() - 1].to_string();
            if !vars.iter().any(|(n, _)| n == name) {
                vars.push((name.to_string(), v));
            }
        }
    }
    vars
}

/// Fills `{{.NAME}}` (Task), `{{ name }}` and `{{ name + '/x' }}`-free forms (just), and
/// `{{ justfile_dir() }}`; repeated so variables defined through others resolve.
fn fill_vars(value: &str, vars: &[(String, String)]) -> String {
    let mut out = value.to_string();
    for _ in 0..4 {
        let mut next = String::new();
        let mut rest = out.as_str();
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else { break };
            let inner = rest[start + 2..start + len].trim();
            let name = inner.trim_start_matches('.');
            next.push_str(&rest[..start]);
            match vars.iter().find(|(n, _)| n == name) {
                Some((_, v)) => next.push_str(v),
                None => next.push_str(&rest[start..start + len + 2]),
            }
            rest = &rest[start + len + 2..];
        }
        next.push_str(rest);
        if next == out {
            break;
        }
        out = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flags_from_taskfiles_and_justfiles() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(
            root.join("Taskfile.yaml"),
            "version: '3'\nvars:\n  TEMPLATE_DIR: '{{.ROOT_DIR}}/templates'\ntasks:\n  render:\n    cmd: makejinja --input {{.TEMPLATE_DIR}} --output ./ --data=config.yaml -D a.b=c --force\n  apply:\n    cmd: makejinja --input '{{.ITEM}}' --output /dev/stdout | kubectl apply -f -\n",
        )
        .unwrap();
        let justfile = "render:\n    PYTHONDONTWRITEBYTECODE=1 makejinja -i \"{{ justfile_dir() }}/t\" \\\n      -o out \\\n      --jinja-suffix .j2\n";
        std::fs::write(root.join("justfile"), justfile).unwrap();
        let read = |p: &Path| std::fs::read_to_string(p).ok();
        let found = find(root, &read);
        assert_eq!(found.len(), 3, "{found:?}");
        let t = &found[0];
        assert_eq!(t.line, 5);
        assert_eq!(t.values("inputs"), vec![format!("{}/templates", root.display())]);
        assert_eq!(t.values("output"), vec!["./"]);
        assert_eq!(t.values("data"), vec!["config.yaml"]);
        assert_eq!(t.values("data_vars"), vec!["a.b=c"]);
        assert_eq!(t.values("force"), vec!["true"]);
        assert!(t.unresolved.is_empty());
        assert_eq!(found[1].unresolved, vec!["--input {{.ITEM}}"]);
        assert_eq!(found[1].values("output"), vec!["/dev/stdout"]);
        assert_eq!(found[2].values("inputs"), vec![format!("{}/t", root.display())]);
        assert_eq!((found[2].values("output"), found[2].values("jinja_suffix")), (vec!["out"], vec![".j2"]), "continued lines");
        // Mentions that are not commands.
        assert_eq!(command_after_makejinja("  MAKEJINJA_SETTINGS: '{{.ROOT_DIR}}/makejinja.toml'"), None);
        assert_eq!(command_after_makejinja("import makejinja"), None);
        assert_eq!(command_after_makejinja("    # makejinja --input x"), None);
    }
}
