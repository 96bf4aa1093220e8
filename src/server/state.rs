//! The server's mutable state: open documents (ropes), loaded projects and settings. All
//! changes go through `&mut State` under one lock, in the order notifications arrive;
//! requests take an immutable [`Analysis`] snapshot and work without the lock.

use super::convert::{Encoding, LineIndex};
use super::settings::Settings;
use crate::ide::{Analysis, FeatureSettings, ProjectAnalysis};
use crate::workspace::{Project, Vfs};
use ropey::Rope;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::ls_types::TextDocumentContentChangeEvent;

pub struct Document {
    pub rope: Rope,
    pub version: i32,
    /// The text as an `Arc<str>`, rebuilt lazily after edits.
    text: Option<Arc<str>>,
}

impl Document {
    pub fn new(text: &str, version: i32) -> Self {
        Self { rope: Rope::from_str(text), version, text: None }
    }

    pub fn text(&mut self) -> Arc<str> {
        if self.text.is_none() {
            self.text = Some(Arc::from(self.rope.to_string()));
        }
        self.text.clone().unwrap_or_default()
    }

    /// Applies one incremental (or full) change.
    pub fn apply(&mut self, change: &TextDocumentContentChangeEvent, enc: Encoding) {
        self.text = None;
        match change.range {
            None => self.rope = Rope::from_str(&change.text),
            Some(range) => {
                let start = self.char_index(range.start, enc);
                let end = self.char_index(range.end, enc).max(start);
                self.rope.remove(start..end);
                self.rope.insert(start, &change.text);
            }
        }
    }

    fn char_index(&self, pos: tower_lsp_server::ls_types::Position, enc: Encoding) -> usize {
        let line = pos.line as usize;
        if line >= self.rope.len_lines() {
            return self.rope.len_chars();
        }
        let line_start = self.rope.line_to_char(line);
        let line_slice = self.rope.line(line);
        // Exclude the line break from the addressable columns.
        let mut line_len = line_slice.len_chars();
        // (With ropey's `cr_lines` and without `unicode_lines`, a line ends in `\n`, `\r\n`
        // or a lone `\r` — exactly LSP's line breaks.)
        if line_len > 0 && line_slice.char(line_len - 1) == '\n' {
            line_len -= 1;
            if line_len > 0 && line_slice.char(line_len - 1) == '\r' {
                line_len -= 1;
            }
        } else if line_len > 0 && line_slice.char(line_len - 1) == '\r' {
            line_len -= 1;
        }
        let col = match enc {
            Encoding::Utf16 => {
                let units = pos.character as usize;
                let start_units = self.rope.char_to_utf16_cu(line_start);
                let max_units = self.rope.char_to_utf16_cu(line_start + line_len) - start_units;
                self.rope.utf16_cu_to_char(start_units + units.min(max_units)) - line_start
            }
            Encoding::Utf8 => {
                let start_byte = self.rope.char_to_byte(line_start);
                let max = self.rope.char_to_byte(line_start + line_len) - start_byte;
                let mut b = start_byte + (pos.character as usize).min(max);
                while b > start_byte && self.rope.try_byte_to_char(b).is_err() {
                    b -= 1;
                }
                self.rope.byte_to_char(b) - line_start
            }
        };
        line_start + col.min(line_len)
    }
}

/// What the client said it supports at `initialize`: the server only sends requests the
/// client promised to answer (an unanswered request would stall startup).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCaps {
    /// `workspace.configuration`
    pub configuration: bool,
    /// `workspace.didChangeWatchedFiles.dynamicRegistration`
    pub watch_registration: bool,
    /// `window.workDoneProgress`
    pub work_done_progress: bool,
}

#[derive(Default)]
pub struct State {
    pub encoding: Encoding,
    pub client_caps: ClientCaps,
    pub folders: Vec<PathBuf>,
    pub docs: HashMap<PathBuf, Document>,
    /// Loaded projects by root.
    pub projects: HashMap<PathBuf, Arc<Project>>,
    /// Roots that failed to load, with the error (shown as a diagnostic on makejinja.toml).
    pub broken: HashMap<PathBuf, crate::workspace::ConfigError>,
    pub settings: Settings,
    /// Counts every change to what answers and diagnostics are computed from (documents,
    /// projects, settings, files on disk): the newer of two diagnostics runs is the one
    /// that started from the higher count (see `publish_gate`).
    seq: u64,
    snapshot: Option<Snapshot>,
    /// JSON schemas per project root (`.homelab-lsp.toml` read once), dropped when settings change.
    pub schemas: HashMap<PathBuf, (Arc<crate::schema::Schemas>, crate::schema::RepoConfig)>,
    /// Called (off the async runtime) when a schema finished loading in the background.
    pub on_schema_ready: Option<Arc<dyn Fn() + Send + Sync>>,
}

/// An analysis snapshot with the state it was taken from.
#[derive(Clone)]
pub struct Snapshot {
    pub analysis: Analysis,
    /// The change count at the snapshot (`State::seq`).
    pub seq: u64,
    /// The open documents' versions, matching the texts in `analysis`.
    pub versions: Arc<HashMap<PathBuf, i32>>,
}

impl State {
    /// Drops the cached snapshot after any change.
    pub fn invalidate(&mut self) {
        self.seq += 1;
        self.snapshot = None;
    }

    /// Counts a change the snapshot does not hold (a file on disk that is read when used):
    /// diagnostics computed before it are older than those computed after.
    pub fn touch(&mut self) {
        self.seq += 1;
        if let Some(s) = &mut self.snapshot {
            s.seq = self.seq;
        }
    }

    pub fn doc_texts(&mut self) -> Arc<HashMap<PathBuf, Arc<str>>> {
        Arc::new(self.docs.iter_mut().map(|(p, d)| (p.clone(), d.text())).collect())
    }

    /// An immutable snapshot for requests; cached until the next change.
    pub fn analysis(&mut self) -> Analysis {
        self.snapshot().analysis
    }

    /// The snapshot with its change count and document versions (diagnostics runs).
    pub fn snapshot(&mut self) -> Snapshot {
        if let Some(s) = &self.snapshot {
            return s.clone();
        }
        let docs = self.doc_texts();
        let roots: Vec<PathBuf> = self.projects.keys().cloned().collect();
        for root in roots {
            self.schemas_for(&root);
        }
        let projects = self
            .projects
            .iter()
            .map(|(root, p)| {
                Arc::new(ProjectAnalysis::new(p.clone(), docs.clone()).with_schemas(self.schemas.get(root).map(|s| s.0.clone())))
            })
            .collect();
        let analysis = Analysis { projects, settings: FeatureSettings { show_secrets: self.settings.show_secrets } };
        let versions = Arc::new(self.docs.iter().map(|(p, d)| (p.clone(), d.version)).collect());
        let snapshot = Snapshot { analysis, seq: self.seq, versions };
        self.snapshot = Some(snapshot.clone());
        snapshot
    }

    /// The schemas of the project at `root`: its `.homelab-lsp.toml` under the editor's
    /// `homelabLsp.schemas.*`, fetched in the background (never on a request's path).
    fn schemas_for(&mut self, root: &Path) {
        if self.schemas.contains_key(root) {
            return;
        }
        // An open, unsaved `.homelab-lsp.toml` counts as it reads in the editor.
        let open = self.docs.get_mut(&root.join(crate::schema::config::FILE_NAME)).map(|d| d.text());
        let repo = match open {
            Some(text) => crate::schema::RepoConfig::parse(&text, root),
            None => crate::schema::RepoConfig::load(root),
        };
        let o = &self.settings.schemas;
        let source = Arc::new(crate::schema::fetch::CachedHttp::new(crate::schema::fetch_options(&repo, o)));
        let store = crate::schema::Store::new(source, crate::schema::Mode::Background);
        if let Some(cb) = self.on_schema_ready.clone() {
            store.set_on_ready(move |_| cb());
        }
        let schemas = Arc::new(crate::schema::Schemas::new(store, &repo, o, root));
        self.schemas.insert(root.to_path_buf(), (schemas, repo));
    }

    /// `.homelab-lsp.toml` at `root` changed (on disk or in the editor): its schemas, rules
    /// and mirrors are read again; returns what the file gets wrong now.
    pub fn reload_repo_config(&mut self, root: &Path) -> Vec<String> {
        self.schemas.remove(root);
        self.invalidate();
        self.repo_config_problems(root)
    }

    /// What `.homelab-lsp.toml` at `root` gets wrong (read now if it was not yet).
    pub fn repo_config_problems(&mut self, root: &Path) -> Vec<String> {
        self.schemas_for(root);
        self.schemas.get(root).map(|(_, repo)| repo.problems.clone()).unwrap_or_default()
    }

    /// Rule severities for a file: its project's `.homelab-lsp.toml` [rules] under the editor's.
    pub fn rules_for(&self, path: &Path) -> HashMap<String, String> {
        let repo = self.schemas.iter().filter(|(root, _)| path.starts_with(root)).max_by_key(|(root, _)| root.components().count());
        let mut rules = repo.map(|(_, (_, r))| r.rules.clone()).unwrap_or_default();
        rules.extend(self.settings.rules.iter().map(|(k, v)| (k.clone(), v.clone())));
        rules
    }

    /// The current text of a path: open document or disk.
    pub fn text_of(&mut self, path: &Path) -> Option<Arc<str>> {
        if let Some(d) = self.docs.get_mut(path) {
            return Some(d.text());
        }
        crate::workspace::vfs::read_text_file(path).ok().map(Arc::from)
    }

    /// A reader that sees open documents before the disk.
    pub fn overlay_vfs(&mut self) -> OverlayVfs {
        OverlayVfs { docs: self.doc_texts() }
    }

    /// The project root a path belongs to (deepest), loaded or broken.
    pub fn root_for(&self, path: &Path) -> Option<PathBuf> {
        self.projects.keys().chain(self.broken.keys()).filter(|r| path.starts_with(r)).max_by_key(|r| r.components().count()).cloned()
    }

    pub fn line_index_offset(&mut self, path: &Path, pos: tower_lsp_server::ls_types::Position) -> Option<usize> {
        let enc = self.encoding;
        let text = self.text_of(path)?;
        Some(LineIndex::new(&text).offset(pos, enc))
    }
}

/// Open documents over the disk.
#[derive(Clone)]
pub struct OverlayVfs {
    pub docs: Arc<HashMap<PathBuf, Arc<str>>>,
}

impl Vfs for OverlayVfs {
    fn read_text(&self, path: &Path) -> std::io::Result<String> {
        match self.docs.get(path) {
            Some(t) => Ok(t.to_string()),
            None => crate::workspace::vfs::read_text_file(path),
        }
    }

    fn is_overlaid(&self, path: &Path) -> bool {
        self.docs.contains_key(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::{Position, Range};

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_edits_utf16() {
        let mut d = Document::new("a: 😀x\nb: 2\n", 1);
        d.apply(&change(0, 5, 0, 6, "y"), Encoding::Utf16);
        assert_eq!(&*d.text(), "a: 😀y\nb: 2\n");
        d.apply(&change(1, 3, 1, 4, "30"), Encoding::Utf16);
        assert_eq!(&*d.text(), "a: 😀y\nb: 30\n");
        // Past-the-end positions clamp instead of panicking.
        d.apply(&change(0, 99, 7, 0, ""), Encoding::Utf16);
        assert_eq!(&*d.text(), "a: 😀y");
    }

    #[test]
    fn incremental_edits_utf8() {
        let mut d = Document::new("é=1\n", 1);
        d.apply(&change(0, 2, 0, 3, ":"), Encoding::Utf8);
        assert_eq!(&*d.text(), "é:1\n");
    }

    #[test]
    fn only_lsp_line_breaks_count_for_edits() {
        // U+2028, U+2029, U+0085 and form feed are not line breaks in LSP; a lone `\r` is.
        let mut d = Document::new("a\u{2028}b\u{2029}c\u{85}d\u{c}e\nx\ry\n", 1);
        d.apply(&change(1, 0, 1, 1, "X"), Encoding::Utf16);
        d.apply(&change(2, 0, 2, 1, "Y"), Encoding::Utf16);
        assert_eq!(&*d.text(), "a\u{2028}b\u{2029}c\u{85}d\u{c}e\nX\rY\n");
        d.apply(&change(1, 9, 1, 9, "!"), Encoding::Utf16);
        assert_eq!(&*d.text(), "a\u{2028}b\u{2029}c\u{85}d\u{c}e\nX!\rY\n");
    }

    /// Property test (a fixed-seed random walk, no dependency): incremental edits applied to
    /// the rope equal the same edits spliced into a string at the offsets `LineIndex` gives,
    /// and every offset maps to a position inside the document and back.
    #[test]
    fn random_edits_match_line_index_splices() {
        const PIECES: [&str; 12] = ["a", "é", "😀", "\n", "\r\n", "\r", "\u{2028}", "\u{2029}", "\u{85}", "\u{c}", "#{ x }#", "  "];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for enc in [Encoding::Utf16, Encoding::Utf8] {
            let mut text = String::new();
            let mut doc = Document::new("", 1);
            for _ in 0..3000 {
                let idx = LineIndex::new(&text);
                let pick = |r: usize| {
                    let mut o = r % (text.len() + 1);
                    while !text.is_char_boundary(o) {
                        o -= 1;
                    }
                    o
                };
                let (a, b) = (pick(next(1 << 16)), pick(next(1 << 16)));
                let (a, b) = (a.min(b), a.max(b));
                let (mut pa, mut pb) = (idx.position(a, enc), idx.position(b, enc));
                if next(10) == 0 {
                    pb = Position::new(pb.line + next(3) as u32, pb.character + next(50) as u32);
                }
                if next(20) == 0 {
                    pa.character += 7;
                }
                let insert: String = (0..next(4)).map(|_| PIECES[next(PIECES.len())]).collect();
                let start = idx.offset(pa, enc);
                let end = idx.offset(pb, enc).max(start);
                for p in [pa, pb] {
                    let o = idx.offset(p, enc);
                    assert!(o <= text.len() && text.is_char_boundary(o));
                }
                text.replace_range(start..end, &insert);
                doc.apply(&change(pa.line, pa.character, pb.line, pb.character, &insert), enc);
                assert_eq!(&*doc.text(), text.as_str(), "{enc:?}");
            }
            let idx = LineIndex::new(&text);
            let lines = idx.position(text.len(), enc).line;
            for o in 0..=text.len() + 3 {
                assert!(idx.position(o, enc).line <= lines);
            }
        }
    }
}
