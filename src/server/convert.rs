//! Conversions between the editor's positions (line + UTF-16 or UTF-8 column) and byte
//! offsets, and between `file:` URIs and paths.

use std::ops::Range;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::{Position, Range as LspRange, Uri};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf16,
    Utf8,
}

/// Line starts of a text, for fast conversions. Lines end where LSP says they do: at `\n`,
/// `\r\n` or a lone `\r` — never at U+2028/U+2029/U+0085 or form feed.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        Self { text, starts }
    }

    /// End of a line's text, before its line break.
    fn line_end(&self, line: usize) -> usize {
        let next = self.starts.get(line + 1).map_or(self.text.len(), |e| *e);
        let content = &self.text[self.starts[line]..next];
        self.starts[line] + content.trim_end_matches(['\n', '\r']).len()
    }

    /// Byte offset of a position; positions past a line's end clamp to its end, past the
    /// last line to the end of the text.
    pub fn offset(&self, pos: Position, enc: Encoding) -> usize {
        let line = pos.line as usize;
        let Some(&start) = self.starts.get(line) else { return self.text.len() };
        let end = self.line_end(line);
        let line_text = &self.text[start..end];
        let mut units = 0u32;
        for (i, c) in line_text.char_indices() {
            units += match enc {
                Encoding::Utf16 => c.len_utf16() as u32,
                Encoding::Utf8 => c.len_utf8() as u32,
            };
            // A column inside a character (half a surrogate pair) means that character's
            // start, as the rope's conversion does for edits.
            if units > pos.character {
                return start + i;
            }
        }
        end
    }

    pub fn position(&self, offset: usize, enc: Encoding) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        // An offset between `\r` and `\n` is the end of the line.
        let offset = offset.min(self.line_end(line));
        let col = match enc {
            Encoding::Utf16 => self.text[start..offset].encode_utf16().count(),
            Encoding::Utf8 => offset - start,
        };
        Position::new(line as u32, col as u32)
    }

    pub fn range(&self, r: &Range<usize>, enc: Encoding) -> LspRange {
        LspRange::new(self.position(r.start, enc), self.position(r.end, enc))
    }
}

pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let p = uri.to_file_path()?.into_owned();
    // Resolve symlinks so the editor's paths match the walked ones.
    Some(std::fs::canonicalize(&p).unwrap_or(p))
}

pub fn path_to_uri(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_count_surrogate_pairs() {
        let text = "a😀b\nxé";
        let idx = LineIndex::new(text);
        // 😀 is 2 UTF-16 units, 4 bytes.
        assert_eq!(idx.offset(Position::new(0, 3), Encoding::Utf16), 5);
        assert_eq!(idx.position(5, Encoding::Utf16), Position::new(0, 3));
        assert_eq!(idx.offset(Position::new(0, 5), Encoding::Utf8), 5);
        assert_eq!(idx.offset(Position::new(1, 2), Encoding::Utf16), text.len());
        // Past the end clamps.
        assert_eq!(idx.offset(Position::new(9, 0), Encoding::Utf16), text.len());
        assert_eq!(idx.offset(Position::new(0, 99), Encoding::Utf16), 6);
    }

    #[test]
    fn only_lsp_line_breaks_end_lines() {
        let text = "a\u{2028}b\u{85}c\u{c}d\re\r\nf";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text.find('e').unwrap(), Encoding::Utf16), Position::new(1, 0));
        assert_eq!(idx.position(text.find('f').unwrap(), Encoding::Utf16), Position::new(2, 0));
        assert_eq!(idx.offset(Position::new(0, 99), Encoding::Utf16), text.find('\r').unwrap());
        // Between `\r` and `\n` is the end of line 1.
        assert_eq!(idx.position(text.rfind('\n').unwrap(), Encoding::Utf16), Position::new(1, 1));
    }
}
