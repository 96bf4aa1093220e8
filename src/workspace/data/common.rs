//! Helpers shared by the data loaders: byte offset → (line, column) conversion and a
//! Python-dict-like map builder.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r` (as in the LSP specification and in YAML).
//! Columns count Unicode scalar values (chars) from the start of the line.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::model::{DataEntry, DataValue};

pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the start of every line.
    starts: Vec<usize>,
    ascii: bool,
    /// Last answer (line, byte offset, col), so that queries moving forward along one long
    /// line do not recount it from its start each time.
    cache: Cell<(usize, usize, u32)>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' => {
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    starts.push(i + 1);
                }
                _ => {}
            }
            i += 1;
        }
        LineIndex { text, starts, ascii: text.is_ascii(), cache: Cell::new((0, 0, 0)) }
    }

    /// 0-based line and char column of a byte offset (clamped to the text, moved back to a
    /// char boundary).
    pub(crate) fn line_col(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        };
        let start = self.starts[line];
        let col = if self.ascii {
            (offset - start) as u32
        } else {
            let (cl, coff, ccol) = self.cache.get();
            let col = if cl == line && coff <= offset {
                ccol + self.text[coff..offset].chars().count() as u32
            } else if cl == line && coff - offset < offset - start {
                ccol - self.text[offset..coff].chars().count() as u32
            } else {
                self.text[start..offset].chars().count() as u32
            };
            self.cache.set((line, offset, col));
            col
        };
        (line as u32, col)
    }

    pub(crate) fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.text.len())
    }

    pub(crate) fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// Converts char indices to byte offsets, walking from the previous answer (the YAML parser
/// reports positions as char indices, nearly always in increasing order).
pub(crate) struct CharCursor<'a> {
    text: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'a> CharCursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        CharCursor { text, ascii: text.is_ascii(), chars: 0, bytes: 0 }
    }

    pub(crate) fn byte_offset(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        let bytes = self.text.as_bytes();
        if char_index < self.chars / 2 {
            // Far back: restart from the beginning.
            self.chars = 0;
            self.bytes = 0;
        }
        while self.chars < char_index && self.bytes < bytes.len() {
            self.bytes += 1;
            while self.bytes < bytes.len() && (bytes[self.bytes] & 0xC0) == 0x80 {
                self.bytes += 1;
            }
            self.chars += 1;
        }
        while self.chars > char_index && self.bytes > 0 {
            self.bytes -= 1;
            while self.bytes > 0 && (bytes[self.bytes] & 0xC0) == 0x80 {
                self.bytes -= 1;
            }
            self.chars -= 1;
        }
        self.bytes
    }
}

/// A dict key as Python compares it: `1`, `1.0` and `True` are the same key; every NaN
/// made by the YAML loader is the same object (PyYAML shares one `nan_value`).
#[derive(PartialEq, Eq, Hash)]
enum PyKey<'a> {
    None,
    Num(i128),
    Nan,
    Float(u64),
    Str(&'a str),
    Ts(&'a str),
}

impl<'a> PyKey<'a> {
    fn of(v: &'a DataValue) -> Option<PyKey<'a>> {
        Some(match v {
            DataValue::Null => PyKey::None,
            DataValue::Bool(b) => PyKey::Num(*b as i128),
            DataValue::Int(i) => PyKey::Num(*i),
            DataValue::Float(f) => {
                if f.is_nan() {
                    PyKey::Nan
                } else if f.fract() == 0.0 && f.abs() < 1.0e38 {
                    PyKey::Num(*f as i128)
                } else {
                    PyKey::Float(f.to_bits())
                }
            }
            DataValue::Str(s) => PyKey::Str(s),
            DataValue::Timestamp(s) => PyKey::Ts(s),
            DataValue::List(_) | DataValue::Map(_) => return None,
        })
    }

    fn hash64(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }
}

/// Whether a value can be a dict key (lists and dicts are unhashable in Python).
pub(crate) fn is_hashable(v: &DataValue) -> bool {
    PyKey::of(v).is_some()
}

/// Builds the entries of a mapping with Python dict assignment semantics: a key equal to an
/// earlier one (by Python equality) replaces its value in place; the entry keeps its place in
/// the order and the first key's value, and takes the later key's position (as
/// [`super::model::map_insert`] does). Large maps are indexed by hash so building stays linear.
#[derive(Default)]
pub(crate) struct Dict {
    entries: Vec<DataEntry>,
    /// Hash of key → index of the first entry with that hash.
    index: Option<HashMap<u64, usize>>,
}

const INDEX_THRESHOLD: usize = 12;

impl Dict {
    pub(crate) fn new() -> Self {
        Dict::default()
    }

    fn find(&mut self, key: &PyKey<'_>) -> Option<usize> {
        if self.index.is_none() && self.entries.len() >= INDEX_THRESHOLD {
            let mut ix = HashMap::with_capacity(self.entries.len() * 2);
            for (i, e) in self.entries.iter().enumerate() {
                if let Some(k) = PyKey::of(&e.key.value) {
                    ix.entry(k.hash64()).or_insert(i);
                }
            }
            self.index = Some(ix);
        }
        let linear = |entries: &[DataEntry]| entries.iter().position(|e| PyKey::of(&e.key.value).as_ref() == Some(key));
        match &self.index {
            None => linear(&self.entries),
            Some(ix) => match ix.get(&key.hash64()) {
                None => None,
                Some(&i) if PyKey::of(&self.entries[i].key.value).as_ref() == Some(key) => Some(i),
                // A hash collision: fall back to a scan.
                Some(_) => linear(&self.entries),
            },
        }
    }

    /// Inserts an entry. The key must be hashable (see [`is_hashable`]); an unhashable key is
    /// simply appended.
    pub(crate) fn insert(&mut self, entry: DataEntry) {
        let found = match PyKey::of(&entry.key.value) {
            Some(k) => self.find(&k),
            None => None,
        };
        match found {
            Some(i) => {
                let existing = &mut self.entries[i];
                existing.value = entry.value;
                existing.key.loc = entry.key.loc;
            }
            None => {
                let i = self.entries.len();
                if let (Some(ix), Some(k)) = (&mut self.index, PyKey::of(&entry.key.value)) {
                    ix.entry(k.hash64()).or_insert(i);
                }
                self.entries.push(entry);
            }
        }
    }

    pub(crate) fn into_entries(self) -> Vec<DataEntry> {
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::{DataNode, SourceLoc};
    use super::*;

    fn entry(k: DataValue, v: i128, line: u32) -> DataEntry {
        let loc = SourceLoc { line, ..SourceLoc::default() };
        DataEntry { key: DataNode::new(k, loc), value: DataNode::new(DataValue::Int(v), loc) }
    }

    #[test]
    fn dict_uses_python_key_equality() {
        let mut d = Dict::new();
        d.insert(entry(DataValue::Int(1), 1, 0));
        d.insert(entry(DataValue::Str("a".into()), 2, 1));
        d.insert(entry(DataValue::Bool(true), 3, 2));
        d.insert(entry(DataValue::Float(1.0), 4, 3));
        d.insert(entry(DataValue::Float(f64::NAN), 5, 4));
        d.insert(entry(DataValue::Float(f64::NAN), 6, 5));
        d.insert(entry(DataValue::Null, 7, 6));
        let e = d.into_entries();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].key.value, DataValue::Int(1));
        assert_eq!(e[0].value.value, DataValue::Int(4));
        assert_eq!(e[0].key.loc.line, 3);
        assert_eq!(e[2].value.value, DataValue::Int(6));
    }

    #[test]
    fn dict_large_is_indexed_and_keeps_order() {
        let mut d = Dict::new();
        for i in 0..1000 {
            d.insert(entry(DataValue::Str(format!("k{i}")), i, 0));
        }
        for i in (0..1000).step_by(7) {
            d.insert(entry(DataValue::Str(format!("k{i}")), -i, 1));
        }
        let e = d.into_entries();
        assert_eq!(e.len(), 1000);
        assert_eq!(e[7].key.value, DataValue::Str("k7".into()));
        assert_eq!(e[7].value.value, DataValue::Int(-7));
        assert_eq!(e[8].value.value, DataValue::Int(8));
    }

    #[test]
    fn line_col_handles_all_line_breaks_and_non_ascii() {
        let text = "ab\r\ncé\rx\ny😀z";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.line_col(0), (0, 0));
        assert_eq!(idx.line_col(4), (1, 0));
        let z = text.find('z').unwrap();
        assert_eq!(idx.line_col(z), (3, 2));
        let x = text.find('x').unwrap();
        assert_eq!(idx.line_col(x), (2, 0));
        // Backwards query after a forward one on the same line.
        assert_eq!(idx.line_col(z), (3, 2));
        assert_eq!(idx.line_col(text.find('y').unwrap()), (3, 0));
    }

    #[test]
    fn char_cursor_walks_both_ways() {
        let text = "aé😀b";
        let mut c = CharCursor::new(text);
        assert_eq!(c.byte_offset(3), 7);
        assert_eq!(c.byte_offset(2), 3);
        assert_eq!(c.byte_offset(1), 1);
        assert_eq!(c.byte_offset(4), 8);
        assert_eq!(c.byte_offset(0), 0);
        assert_eq!(c.byte_offset(99), 8);
    }
}
