//! Fixture repos for the LSP tests: several files in one string with `//- /path` headers
//! (see `support::parse_fixture`); `$0` marks the cursor. The text is dedented first, so
//! fixtures can be indented with the test code.

use super::client::{Client, ClientOptions};
use crate::support::parse_fixture;
use std::path::{Path, PathBuf};

/// The cluster-template family's project file: `#{ }#` delimiters, overrides before
/// templates, one data file.
pub const MAKEJINJA_TOML: &str = r##"
    //- /makejinja.toml
    [makejinja]
    inputs = ["./bootstrap/overrides", "./bootstrap/templates"]
    output = "./"
    exclude_patterns = [".mjfilter.py", "*.partial.yaml.j2"]
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

pub struct Fixture {
    _dir: tempfile::TempDir,
    /// The repo root (canonical, as the server sees paths).
    pub root: PathBuf,
    /// (root-relative path, text without the cursor marker).
    pub files: Vec<(String, String)>,
    /// The `$0` cursor: (absolute path, byte offset).
    pub cursor: Option<(PathBuf, usize)>,
}

/// Removes the common leading indentation of the non-blank lines.
pub fn dedent(s: &str) -> String {
    let indent = s.lines().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    s.split_inclusive('\n')
        .map(|l| if l.trim().is_empty() { l.trim_start_matches([' ', '\t']) } else { &l[indent.min(l.len())..] })
        .collect()
}

impl Fixture {
    /// Writes the fixture into a fresh temporary directory.
    pub fn new(text: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonicalize");
        let mut files = Vec::new();
        let mut cursor = None;
        // Headers may be indented like the rest; each file is dedented on its own.
        let normalized: String =
            text.split_inclusive('\n').map(|l| if l.trim_start().starts_with("//- ") { l.trim_start() } else { l }).collect();
        for (path, content) in parse_fixture(&normalized) {
            let mut content = dedent(&content);
            if let Some(i) = content.find("$0") {
                assert!(cursor.is_none(), "more than one $0 in the fixture");
                content.replace_range(i..i + 2, "");
                cursor = Some((root.join(&path), i));
            }
            let target = root.join(&path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, &content).unwrap();
            files.push((path, content));
        }
        Fixture { _dir: dir, root, files, cursor }
    }

    /// The project file of the cluster-template family plus `text`.
    pub fn project(text: &str) -> Fixture {
        Fixture::new(&format!("{MAKEJINJA_TOML}\n{text}"))
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    pub fn text(&self, rel: &str) -> &str {
        let rel = rel.trim_start_matches('/');
        &self.files.iter().find(|(p, _)| p == rel).unwrap_or_else(|| panic!("no fixture file {rel}")).1
    }

    /// The cursor's file and LSP position.
    pub fn cursor(&self) -> (PathBuf, (u32, u32)) {
        let (path, offset) = self.cursor.clone().expect("the fixture has no $0");
        let rel = path.strip_prefix(&self.root).unwrap().to_string_lossy().into_owned();
        (path, position(self.text(&rel), offset))
    }

    /// The LSP position of the `nth` (0-based) occurrence of `needle` in a file, plus `delta`
    /// bytes into it.
    pub fn find(&self, rel: &str, needle: &str, nth: usize, delta: usize) -> (u32, u32) {
        let text = self.text(rel);
        let (i, _) = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("{needle:?} (#{nth}) not in {rel}"));
        position(text, i + delta)
    }

    /// The LSP position of the first occurrence of `needle` in a file.
    pub fn pos(&self, rel: &str, needle: &str) -> (u32, u32) {
        self.find(rel, needle, 0, 0)
    }

    /// Starts a server on this fixture's root with default options.
    pub fn start(&self) -> Client {
        self.start_with(ClientOptions::default())
    }

    /// Starts a server on this fixture's root (added as the only folder unless given).
    pub fn start_with(&self, mut opts: ClientOptions) -> Client {
        if opts.folders.is_empty() {
            opts.folders.push(self.root.clone());
        }
        Client::start(opts)
    }
}

/// LSP position (line, UTF-16 column) of a byte offset.
pub fn position(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].encode_utf16().count() as u32)
}

/// Byte offset of an LSP position (line, UTF-16 column).
pub fn offset(text: &str, pos: (u32, u32)) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.0 {
        line_start = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i + 1);
    }
    let mut units = 0;
    for (i, c) in text[line_start..].char_indices() {
        if units >= pos.1 || c == '\n' {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

/// The text an LSP range covers.
pub fn range_text<'a>(text: &'a str, range: &serde_json::Value) -> &'a str {
    let p = |v: &serde_json::Value| (v["line"].as_u64().unwrap() as u32, v["character"].as_u64().unwrap() as u32);
    &text[offset(text, p(&range["start"]))..offset(text, p(&range["end"]))]
}

/// (start line, start char, end line, end char) of an LSP range, for compact asserts.
pub fn range_tuple(range: &serde_json::Value) -> (u64, u64, u64, u64) {
    (
        range["start"]["line"].as_u64().unwrap(),
        range["start"]["character"].as_u64().unwrap(),
        range["end"]["line"].as_u64().unwrap(),
        range["end"]["character"].as_u64().unwrap(),
    )
}

/// Labels of completion items.
pub fn labels(items: &[serde_json::Value]) -> Vec<String> {
    items.iter().filter_map(|i| i["label"].as_str().map(str::to_string)).collect()
}

/// The completion item with `label`, or a failure listing what was offered.
pub fn item<'a>(items: &'a [serde_json::Value], label: &str) -> &'a serde_json::Value {
    items.iter().find(|i| i["label"] == label).unwrap_or_else(|| panic!("no completion {label:?} in {:?}", labels(items)))
}

/// Reads a file relative to a root (for comparisons with what the server returns).
pub fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}
