//! Python's `PurePosixPath(path).match(pattern)`, as makejinja uses it for `exclude_patterns`.
//!
//! makejinja skips an input path when `input_path.match(pattern)` holds for any exclude
//! pattern. The rules (CPython 3.12/3.13 `PurePath.match`):
//!
//! * Both path and pattern are normalised like `PurePosixPath`: empty and `.` components are
//!   dropped, a trailing `/` is ignored, `..` is kept, a leading `//` (exactly two slashes)
//!   is a distinct root from `/`.
//! * A relative pattern matches from the right: its N components must match the last N
//!   components of the path. A pattern with more components than the path never matches.
//! * An absolute pattern must match the whole path (same root, same number of components).
//! * Each component is matched with `fnmatch.fnmatchcase`: `*` (any run of characters,
//!   never crossing `/`), `?` (one character), `[seq]`, `[!seq]`, ranges `a-z`; an unclosed
//!   `[` is a literal. `**` is not special (it behaves like `*`). Matching is case-sensitive.
//! * An empty pattern (`""`, `"."`, `"./"`) raises `ValueError: empty pattern` in Python;
//!   here it is a [`PatternError`].
//!
//! Two corner cases where CPython versions disagree, neither reachable from makejinja (its
//! input paths are relative and never empty):
//!
//! * a relative pattern component matching the root of an absolute path:
//!   `PurePosixPath("/b").match("*/b")` is `True` on 3.11, `False` on 3.12+ — this module
//!   follows 3.12+;
//! * the empty path: `PurePosixPath("").match("**")` is `True` on 3.12 only — this module
//!   follows 3.11 and 3.13 (`False`).
//!
//! Checked against CPython 3.11, 3.12 and 3.13 with the table in the tests and 70,000 random
//! path/pattern pairs.

use std::fmt;

/// Why a pattern cannot be used. Python raises when matching with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// `""`, `"."` and the like: Python raises `ValueError("empty pattern")`.
    Empty,
    /// A character class whose range runs backwards after fnmatch's clean-up, which makes
    /// Python's `re` raise `bad character range`.
    BadCharacterRange(String),
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Empty => f.write_str("empty pattern"),
            PatternError::BadCharacterRange(r) => write!(f, "bad character range {r}"),
        }
    }
}

impl std::error::Error for PatternError {}

/// `PurePosixPath(path).match(pattern)`. An invalid pattern (empty, see [`PatternError`])
/// matches nothing; use [`try_pure_path_match`] to see the error.
pub fn pure_path_match(path: &str, pattern: &str) -> bool {
    try_pure_path_match(path, pattern).unwrap_or(false)
}

/// `PurePosixPath(path).match(pattern)`, reporting the `ValueError` Python would raise.
pub fn try_pure_path_match(path: &str, pattern: &str) -> Result<bool, PatternError> {
    Ok(PathPattern::new(pattern)?.matches(path))
}

/// The root of a POSIX path, as `PurePosixPath` parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    None,
    /// `/` (also `///` and more).
    Single,
    /// Exactly two leading slashes, which POSIX leaves implementation-defined.
    Double,
}

fn split_root(path: &str) -> (Root, &str) {
    if let Some(rest) = path.strip_prefix("//") {
        if rest.starts_with('/') {
            (Root::Single, rest)
        } else {
            (Root::Double, rest)
        }
    } else if let Some(rest) = path.strip_prefix('/') {
        (Root::Single, rest)
    } else {
        (Root::None, path)
    }
}

/// The components of a (root-less) path from right to left, normalised like `PurePosixPath`.
fn components_rev(rest: &str) -> impl Iterator<Item = &str> {
    rest.rsplit('/').filter(|p| !p.is_empty() && *p != ".")
}

/// One compiled `exclude_patterns` entry.
#[derive(Debug, Clone)]
pub struct PathPattern {
    source: String,
    root: Root,
    /// Components, rightmost first.
    parts_rev: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    /// No wildcard at all: plain string equality.
    Literal(String),
    /// A lone `*` (or `**`, ...): any non-empty component.
    NonEmpty,
    Glob(Vec<Tok>),
}

#[derive(Debug, Clone)]
enum Tok {
    Char(char),
    /// `?`
    Any,
    /// `*`
    Star,
    Class(Box<CharClass>),
}

#[derive(Debug, Clone)]
struct CharClass {
    negated: bool,
    /// Inclusive ranges; a single character is `(c, c)`.
    ranges: Vec<(char, char)>,
}

impl CharClass {
    fn matches(&self, c: char) -> bool {
        let hit = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        hit != self.negated
    }
}

impl PathPattern {
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let (root, rest) = split_root(pattern);
        let mut parts_rev = Vec::new();
        for part in components_rev(rest) {
            parts_rev.push(compile_part(part)?);
        }
        if root == Root::None && parts_rev.is_empty() {
            return Err(PatternError::Empty);
        }
        Ok(Self { source: pattern.to_string(), root, parts_rev })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// `PurePosixPath(path).match(self)`. Does not allocate.
    pub fn matches(&self, path: &str) -> bool {
        let (root, rest) = split_root(path);
        let mut path_parts = components_rev(rest);
        if self.root != Root::None {
            if root != self.root {
                return false;
            }
            for part in &self.parts_rev {
                match path_parts.next() {
                    Some(name) if part.matches(name) => {}
                    _ => return false,
                }
            }
            // An absolute pattern must cover the whole path.
            path_parts.next().is_none()
        } else {
            self.parts_rev.iter().all(|part| path_parts.next().is_some_and(|name| part.matches(name)))
        }
    }
}

impl Part {
    fn matches(&self, name: &str) -> bool {
        match self {
            Part::Literal(lit) => lit == name,
            Part::NonEmpty => !name.is_empty(),
            Part::Glob(toks) => glob_match(toks, name),
        }
    }
}

/// Compiles one pattern component following `fnmatch.translate`.
fn compile_part(part: &str) -> Result<Part, PatternError> {
    if !part.contains(['*', '?', '[']) {
        return Ok(Part::Literal(part.to_string()));
    }
    let pat: Vec<char> = part.chars().collect();
    let n = pat.len();
    let mut toks: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < n {
        let c = pat[i];
        i += 1;
        match c {
            '*' => {
                // Consecutive stars collapse, as in fnmatch.
                if !matches!(toks.last(), Some(Tok::Star)) {
                    toks.push(Tok::Star);
                }
            }
            '?' => toks.push(Tok::Any),
            '[' => {
                let mut j = i;
                if j < n && pat[j] == '!' {
                    j += 1;
                }
                if j < n && pat[j] == ']' {
                    j += 1;
                }
                while j < n && pat[j] != ']' {
                    j += 1;
                }
                if j >= n {
                    toks.push(Tok::Char('['));
                } else {
                    toks.push(compile_class(&pat, i, j)?);
                    i = j + 1;
                }
            }
            _ => toks.push(Tok::Char(c)),
        }
    }
    if toks.iter().all(|t| matches!(t, Tok::Star)) {
        return Ok(Part::NonEmpty);
    }
    Ok(Part::Glob(toks))
}

/// A token of the regex character-class body fnmatch builds: a literal character or the
/// unescaped `-` that joins two chunks into a range.
#[derive(Clone, Copy, PartialEq)]
enum ClassTok {
    Lit(char),
    Dash,
}

/// Compiles `pat[i..j]` (the text between `[` and `]`) the way `fnmatch.translate` does,
/// including its quirks: backwards ranges such as `z-a` are dropped, a trailing `-` is a
/// literal, `[!]` alone would be "any character".
fn compile_class(pat: &[char], i: usize, j: usize) -> Result<Tok, PatternError> {
    let body = &pat[i..j];
    let mut stuff: Vec<ClassTok> = Vec::new();
    if !body.contains(&'-') {
        stuff.extend(body.iter().map(|&c| ClassTok::Lit(c)));
    } else {
        let mut chunks: Vec<Vec<char>> = Vec::new();
        let mut start = i;
        let mut k = if pat[i] == '!' { i + 2 } else { i + 1 };
        loop {
            let found = if k < j { pat[k..j].iter().position(|&c| c == '-').map(|p| p + k) } else { None };
            let Some(dash) = found else { break };
            chunks.push(pat[start..dash].to_vec());
            start = dash + 1;
            k = dash + 3;
        }
        let last = &pat[start..j];
        if !last.is_empty() {
            chunks.push(last.to_vec());
        } else if let Some(prev) = chunks.last_mut() {
            prev.push('-');
        }
        // Remove empty (backwards) ranges, right to left.
        let mut k = chunks.len();
        while k > 1 {
            k -= 1;
            let (a, b) = (chunks[k - 1].last().copied(), chunks[k].first().copied());
            if let (Some(a), Some(b)) = (a, b) {
                if a > b {
                    let tail: Vec<char> = chunks[k][1..].to_vec();
                    let prev = &mut chunks[k - 1];
                    prev.pop();
                    prev.extend(tail);
                    chunks.remove(k);
                }
            }
        }
        for (idx, chunk) in chunks.iter().enumerate() {
            if idx > 0 {
                stuff.push(ClassTok::Dash);
            }
            stuff.extend(chunk.iter().map(|&c| ClassTok::Lit(c)));
        }
    }
    if stuff.is_empty() {
        // Empty range: never matches.
        return Ok(Tok::Class(Box::new(CharClass { negated: false, ranges: Vec::new() })));
    }
    if stuff == [ClassTok::Lit('!')] {
        return Ok(Tok::Any);
    }
    let mut negated = false;
    let mut toks = &stuff[..];
    if toks[0] == ClassTok::Lit('!') {
        negated = true;
        toks = &toks[1..];
    }
    let as_char = |t: ClassTok| match t {
        ClassTok::Lit(c) => c,
        ClassTok::Dash => '-',
    };
    // Parse the body as Python's `re` parses a set: `x-y` is a range when the `-` is
    // unescaped and followed by another item; otherwise everything is literal.
    let mut ranges = Vec::new();
    let mut p = 0;
    while p < toks.len() {
        let lo = as_char(toks[p]);
        if p + 1 < toks.len() && toks[p + 1] == ClassTok::Dash {
            if p + 2 >= toks.len() {
                ranges.push((lo, lo));
                ranges.push(('-', '-'));
                break;
            }
            let hi = as_char(toks[p + 2]);
            if lo > hi {
                return Err(PatternError::BadCharacterRange(format!("{lo}-{hi}")));
            }
            ranges.push((lo, hi));
            p += 3;
        } else {
            ranges.push((lo, lo));
            p += 1;
        }
    }
    Ok(Tok::Class(Box::new(CharClass { negated, ranges })))
}

/// Wildcard matching with single-star backtracking: every token but `*` consumes exactly one
/// character, so remembering the last star is enough. Works on byte offsets; no allocation.
fn glob_match(toks: &[Tok], name: &str) -> bool {
    let mut ti = 0;
    let mut si = 0;
    // (token index after the star, string offset the star has absorbed up to)
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        if ti < toks.len() {
            match &toks[ti] {
                Tok::Star => {
                    ti += 1;
                    backtrack = Some((ti, si));
                    continue;
                }
                tok => {
                    if let Some(c) = name[si..].chars().next() {
                        let ok = match tok {
                            Tok::Char(p) => *p == c,
                            Tok::Any => true,
                            Tok::Class(class) => class.matches(c),
                            Tok::Star => unreachable!(),
                        };
                        if ok {
                            ti += 1;
                            si += c.len_utf8();
                            continue;
                        }
                    }
                }
            }
        } else if si == name.len() {
            return true;
        }
        // Mismatch: let the last star absorb one more character.
        match backtrack {
            Some((bt, bs)) => match name[bs..].chars().next() {
                Some(c) => {
                    let ns = bs + c.len_utf8();
                    backtrack = Some((bt, ns));
                    ti = bt;
                    si = ns;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

/// A compiled list of makejinja `exclude_patterns`.
#[derive(Debug, Clone, Default)]
pub struct ExcludeSet {
    patterns: Vec<PathPattern>,
    invalid: Vec<(String, PatternError)>,
}

impl ExcludeSet {
    /// Compiles every pattern once. Invalid patterns (see [`PatternError`]) are kept aside in
    /// [`ExcludeSet::invalid_patterns`] and never match.
    pub fn new(patterns: &[String]) -> ExcludeSet {
        let mut set = ExcludeSet::default();
        for p in patterns {
            match PathPattern::new(p) {
                Ok(pat) => set.patterns.push(pat),
                Err(e) => set.invalid.push((p.clone(), e)),
            }
        }
        set
    }

    /// Whether makejinja would skip `path` (`any(path.match(p) for p in patterns)`).
    pub fn is_excluded(&self, path: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(path))
    }

    /// The first pattern (in configuration order) that matches `path`.
    pub fn matching_pattern(&self, path: &str) -> Option<&str> {
        self.patterns.iter().find(|p| p.matches(path)).map(|p| p.as_str())
    }

    /// Patterns that could not be compiled, with the reason. makejinja would crash with a
    /// `ValueError` on the first path it tests against such a pattern.
    pub fn invalid_patterns(&self) -> &[(String, PatternError)] {
        &self.invalid
    }

    /// The usable patterns.
    pub fn patterns(&self) -> &[PathPattern] {
        &self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (path, pattern, expected) — every row checked against CPython 3.11.7, 3.12.1 and 3.13.0
    /// with `PurePosixPath(path).match(pattern)` (rows marked 3.12 differ on 3.11).
    const TABLE: &[(&str, &str, bool)] = &[
        // makejinja's usual patterns over typical input paths
        ("bootstrap/templates/kubernetes/apps/x/.mjfilter.py", ".mjfilter.py", true),
        ("bootstrap/templates/kubernetes/apps/x/.mjfilter.py", "*.py", true),
        ("bootstrap/templates/kubernetes/apps/x/.mjfilter.py", "*.mjfilter.py", true),
        ("bootstrap/templates/kubernetes/apps/x/.mjfilter.py", "mjfilter.py", false),
        ("bootstrap/templates/kubernetes/apps/x/.mjfilter.py", "x/.mjfilter.py", true),
        ("bootstrap/templates/kubernetes/apps/x/.mjfilter.py", "apps/*/.mjfilter.py", true),
        ("bootstrap/templates/kubernetes/apps/x/.mjfilter.py", "apps/.mjfilter.py", false),
        ("bootstrap/templates/kubernetes/apps/x/.mjfilter.py", "kubernetes/**/.mjfilter.py", false),
        ("bootstrap/templates/kubernetes/apps/x", ".mjfilter.py", false),
        ("bootstrap/templates/a/helmrelease.partial.yaml.j2", "*.partial.yaml.j2", true),
        ("bootstrap/templates/a/helmrelease.yaml.j2", "*.partial.yaml.j2", false),
        ("bootstrap/templates/a/.partial.yaml.j2", "*.partial.yaml.j2", true),
        ("bootstrap/templates/a/partial.yaml.j2", "*.partial.yaml.j2", false),
        ("bootstrap/templates/a/x.partial.yaml.j2", "a/*.partial.yaml.j2", true),
        ("bootstrap/templates/a/x.partial.yaml.j2", "b/*.partial.yaml.j2", false),
        // hidden files: `*` matches a leading dot (unlike shell globbing)
        (".hidden", "*", true),
        ("dir/.hidden", "*", true),
        ("dir/.hidden", ".*", true),
        ("dir/visible", ".*", false),
        ("dir/.git", ".git", true),
        ("dir/.github/workflows/x.yaml", ".github", false),
        ("dir/.github/workflows/x.yaml", ".github/*/*", true),
        // pattern longer than the path
        ("a.py", "x/a.py", false),
        ("a.py", "*/a.py", false),
        ("b/a.py", "*/*/a.py", false),
        ("b/a.py", "*/a.py", true),
        // the docs' examples
        ("a/b.py", "*.py", true),
        ("/a/b/c.py", "b/*.py", true),
        ("/a/b/c.py", "a/*.py", false),
        ("/a.py", "/*.py", true),
        ("a/b.py", "/*.py", false),
        ("b.py", "*.PY", false),
        // absolute patterns must match the whole path
        ("/a/b", "/a/b", true),
        ("/a/b", "/b", false),
        ("/a/b", "/*/b", true),
        ("/a/b", "/*", false),
        ("a/b", "/a/b", false),
        ("a", "/*", false),
        ("/", "/", true),
        ("/a", "/", false),
        ("//a", "/a", false),
        ("//a", "//a", true),
        ("///a", "/a", true),
        ("/a", "//a", false),
        // 3.12+: a relative component never matches the root (3.11 says true)
        ("/b", "*/b", false),
        // normalisation
        ("a", "a/", true),
        ("a/./b", "a/b", true),
        ("./a/b", "a/b", true),
        ("a//b", "a/b", true),
        ("a/b/", "b", true),
        ("a/b", "./b", true),
        ("../a", "../a", true),
        ("../a", "*/a", true),
        ("a", "..", false),
        ("", "a", false),
        (".", "*", false),
        // `**` is just `*` within one component
        ("a/b", "**/b", true),
        ("b", "**/b", false),
        ("a/b", "a/**", true),
        ("a/b/c", "a/**", false),
        ("x/a/b/c", "**", true),
        ("abc", "a**c", true),
        // `?`
        ("abc", "a?c", true),
        ("ac", "a?c", false),
        ("a/c", "a?c", false),
        ("aéc", "a?c", true),
        // character classes
        ("a.py", "[ab].py", true),
        ("c.py", "[ab].py", false),
        ("c.py", "[!ab].py", true),
        ("a.py", "[!ab].py", false),
        ("m", "[a-z]", true),
        ("M", "[a-z]", false),
        ("-", "[a-]", true),
        ("-", "[-a]", true),
        ("]", "[]]", true),
        ("]", "[!]]", false),
        ("x", "[!]]", true),
        ("b", "[]-a]", false),
        ("a.py", "[!]a.py", false),
        ("[!]a.py", "[!]a.py", true),
        ("-", "[z-a-]", true),
        ("a", "[z-a-]", false),
        ("c", "[z-a-c]", true),
        ("-", "[a-c-e]", true),
        ("d", "[a-c-e]", false),
        ("e", "[a-c-e]", true),
        ("abc", "a[b-]c", true),
        ("a-c", "a[b-]c", true),
        ("x", "[!z-a]", true),
        ("^", "[^]", true),
        ("\\", "[\\]", true),
        // an unclosed `[` is a literal
        ("[a", "[a", true),
        ("a", "[a", false),
        ("x[", "x[", true),
        ("[", "[", true),
        ("x[!", "x[!", true),
        ("a[b", "a[*", true),
        ("a[/b]", "a[/b]", true),
        // star backtracking
        ("aaab", "*a*b", true),
        ("aaa", "*a*b", false),
        ("abcabd", "*abd", true),
        ("mississippi", "m*iss*ppi", true),
        ("mississippi", "m*iss*ppx", false),
        ("", "*", false),
        // case-sensitive
        ("README.md", "readme.md", false),
        ("README.md", "README.*", true),
    ];

    #[test]
    fn python_table() {
        let mut failures = Vec::new();
        for &(path, pattern, expected) in TABLE {
            let got = pure_path_match(path, pattern);
            if got != expected {
                failures.push(format!("{path:?}.match({pattern:?}) = {got}, expected {expected}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn empty_pattern_is_an_error() {
        for p in ["", ".", "./", "./.", "//"] {
            if p == "//" {
                // `//` is a root, not an empty pattern: it matches only `//` itself.
                assert_eq!(try_pure_path_match("//", p), Ok(true));
                assert_eq!(try_pure_path_match("/", p), Ok(false));
                continue;
            }
            assert_eq!(try_pure_path_match("a", p), Err(PatternError::Empty), "{p:?}");
            assert!(!pure_path_match("a", p));
        }
        assert_eq!(PatternError::Empty.to_string(), "empty pattern");
    }

    #[test]
    fn exclude_set() {
        let set = ExcludeSet::new(&[
            ".mjfilter.py".to_string(),
            "".to_string(),
            "*.partial.yaml.j2".to_string(),
            "apps/*/secret.sops.yaml".to_string(),
        ]);
        assert_eq!(set.patterns().len(), 3);
        assert_eq!(set.invalid_patterns(), &[(String::new(), PatternError::Empty)]);
        assert!(set.is_excluded("bootstrap/templates/kubernetes/apps/x/.mjfilter.py"));
        assert_eq!(set.matching_pattern("bootstrap/templates/kubernetes/apps/x/.mjfilter.py"), Some(".mjfilter.py"));
        assert_eq!(set.matching_pattern("t/a/b.partial.yaml.j2"), Some("*.partial.yaml.j2"));
        assert_eq!(set.matching_pattern("t/apps/x/secret.sops.yaml"), Some("apps/*/secret.sops.yaml"));
        assert_eq!(set.matching_pattern("t/apps/x/y/secret.sops.yaml"), None);
        assert!(!set.is_excluded("t/a/b.yaml.j2"));
        assert!(!ExcludeSet::default().is_excluded("x"));
        assert!(ExcludeSet::default().is_empty());
    }

    #[test]
    fn many_paths_are_fast() {
        let set = ExcludeSet::new(&[".mjfilter.py".to_string(), "*.partial.yaml.j2".to_string(), "*a*a*a*a*a*a*a*b".to_string()]);
        let long = "a".repeat(200);
        let mut hits = 0;
        for i in 0..5000 {
            let path = format!("bootstrap/templates/kubernetes/apps/ns{i}/{long}");
            if set.is_excluded(&path) {
                hits += 1;
            }
        }
        assert_eq!(hits, 0);
    }
}
