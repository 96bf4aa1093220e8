//! JSON data files, loaded as Python's `json.load` would (makejinja's `from_json`), by a small
//! recursive-descent parser that keeps key order and the position of every key and value.
//!
//! Python specifics followed: `NaN`, `Infinity` and `-Infinity` are accepted; numbers without
//! `.`/exponent are ints, others floats (`1e400` is `inf`); a duplicate key replaces the earlier
//! value (dict assignment); error messages are `json.JSONDecodeError`'s. Differences: a lone
//! UTF-16 surrogate escape (`"\ud800"`) becomes U+FFFD (Rust strings cannot hold it), integers
//! beyond `i128` become a string of their digits, nesting deeper than [`MAX_DEPTH`] is an
//! error (Python's limit is its recursion limit, about 1000), and a leading BOM is skipped.
//!
//! Positions: a key sits on its opening quote, a value on its first character.

use super::common::{Dict, LineIndex};
use super::model::{DataEntry, DataError, DataNode, DataValue, FileId, SourceLoc};

/// Deepest nesting of arrays/objects accepted.
pub const MAX_DEPTH: usize = 512;

/// Loads a JSON data file; its top level must be an object.
pub fn load_json(text: &str, file: FileId) -> Result<DataNode, DataError> {
    let mut p = JsonParser { text, b: text.as_bytes(), i: 0, lines: LineIndex::new(text), file, depth: 0 };
    if text.starts_with('\u{feff}') {
        p.i = 3;
    }
    p.skip_ws();
    let root = p.value()?;
    p.skip_ws();
    if p.i < p.b.len() {
        return Err(p.error("Extra data", p.i));
    }
    match root.value {
        DataValue::Map(_) => Ok(root),
        _ => Err(p.error("top-level of a data document must be a mapping", root.loc.offset)),
    }
}

struct JsonParser<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    lines: LineIndex<'a>,
    file: FileId,
    depth: usize,
}

impl JsonParser<'_> {
    fn loc(&self, offset: usize) -> SourceLoc {
        let (line, col) = self.lines.line_col(offset);
        SourceLoc { file: self.file, line, col, offset }
    }

    fn error(&self, msg: &str, offset: usize) -> DataError {
        let (line, col) = self.lines.line_col(offset);
        DataError::at(msg, line, col)
    }

    fn skip_ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// A value at the current position. Positions are always computed before moving on
    /// (the line index counts columns incrementally, so going back would cost).
    fn value(&mut self) -> Result<DataNode, DataError> {
        let start = self.i;
        let loc = self.loc(start);
        let lit = |p: &mut Self, word: &str, v: DataValue| -> Result<DataNode, DataError> {
            if p.b[p.i..].starts_with(word.as_bytes()) {
                p.i += word.len();
                Ok(DataNode::new(v, loc))
            } else {
                Err(p.error("Expecting value", start))
            }
        };
        match self.peek() {
            Some(b'{') => self.object(loc),
            Some(b'[') => self.array(loc),
            Some(b'"') => {
                let s = self.string()?;
                Ok(DataNode::new(DataValue::Str(s), loc))
            }
            Some(b'n') => lit(self, "null", DataValue::Null),
            Some(b't') => lit(self, "true", DataValue::Bool(true)),
            Some(b'f') => lit(self, "false", DataValue::Bool(false)),
            Some(b'N') => lit(self, "NaN", DataValue::Float(f64::NAN)),
            Some(b'I') => lit(self, "Infinity", DataValue::Float(f64::INFINITY)),
            Some(b'-') if self.b[self.i..].starts_with(b"-Infinity") => lit(self, "-Infinity", DataValue::Float(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(loc),
            _ => Err(self.error("Expecting value", start)),
        }
    }

    fn enter(&mut self, start: usize) -> Result<(), DataError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(&format!("data nested more than {MAX_DEPTH} levels deep"), start));
        }
        Ok(())
    }

    fn object(&mut self, loc: SourceLoc) -> Result<DataNode, DataError> {
        let start = self.i;
        self.enter(start)?;
        self.i += 1;
        let mut dict = Dict::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(self.error("Expecting property name enclosed in double quotes", self.i));
                }
                let key_loc = self.loc(self.i);
                let key = self.string()?;
                let key = DataNode::new(DataValue::Str(key), key_loc);
                self.skip_ws();
                if self.peek() != Some(b':') {
                    return Err(self.error("Expecting ':' delimiter", self.i));
                }
                self.i += 1;
                self.skip_ws();
                let value = self.value()?;
                dict.insert(DataEntry { key, value });
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        self.skip_ws();
                    }
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.error("Expecting ',' delimiter", self.i)),
                }
            }
        }
        self.depth -= 1;
        Ok(DataNode::new(DataValue::Map(dict.into_entries()), loc))
    }

    fn array(&mut self, loc: SourceLoc) -> Result<DataNode, DataError> {
        let start = self.i;
        self.enter(start)?;
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                items.push(self.value()?);
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        self.skip_ws();
                    }
                    Some(b']') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.error("Expecting ',' delimiter", self.i)),
                }
            }
        }
        self.depth -= 1;
        Ok(DataNode::new(DataValue::List(items), loc))
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let s = self.text.get(at..at + 4)?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    }

    /// A string starting at the current `"`; leaves the index after the closing quote.
    fn string(&mut self) -> Result<String, DataError> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let chunk_start = self.i;
            while self.i < self.b.len() && !matches!(self.b[self.i], b'"' | b'\\' | 0..=0x1f) {
                self.i += 1;
            }
            out.push_str(&self.text[chunk_start..self.i]);
            match self.peek() {
                None => return Err(self.error("Unterminated string starting at", start)),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc = self.i;
                    let c = match self.b.get(self.i + 1) {
                        None => return Err(self.error("Unterminated string starting at", start)),
                        Some(c) => *c,
                    };
                    self.i += 2;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let Some(hi) = self.hex4(self.i) else {
                                return Err(self.error("Invalid \\uXXXX escape", esc + 1));
                            };
                            self.i += 4;
                            let mut code = hi;
                            if (0xD800..0xDC00).contains(&hi) && self.b[self.i..].starts_with(b"\\u") {
                                if let Some(lo) = self.hex4(self.i + 2) {
                                    if (0xDC00..0xE000).contains(&lo) {
                                        code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                        self.i += 6;
                                    }
                                }
                            }
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(self.error("Invalid \\escape", esc)),
                    }
                }
                Some(_) => return Err(self.error("Invalid control character at", self.i)),
            }
        }
    }

    fn number(&mut self, loc: SourceLoc) -> Result<DataNode, DataError> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.i < p.b.len() && p.b[p.i].is_ascii_digit() {
                p.i += 1;
            }
            p.i - s
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("Expecting value", start)),
        }
        let mut is_float = false;
        // Fraction and exponent are only taken when complete (Python's regex backtracks).
        if self.peek() == Some(b'.') && self.b.get(self.i + 1).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
            digits(self);
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                self.i = save;
            } else {
                is_float = true;
            }
        }
        let text = &self.text[start..self.i];
        let value = if is_float {
            DataValue::Float(text.parse().unwrap_or(f64::NAN))
        } else {
            match text.parse::<i128>() {
                Ok(v) => DataValue::Int(v),
                // Beyond i128: keep the digits (what Python's str() of the int prints).
                Err(_) => DataValue::Str(text.to_string()),
            }
        };
        Ok(DataNode::new(value, loc))
    }
}

#[cfg(test)]
mod tests {
    use super::super::pystr::py_repr;
    use super::*;

    fn repr(text: &str) -> String {
        match load_json(text, 2) {
            Ok(n) => py_repr(&n.value),
            Err(e) => format!("ERR {e}"),
        }
    }

    /// Inputs with `repr(json.loads(text))` or the JSONDecodeError `line:col: msg` printed by
    /// Python 3.11 (pasted).
    #[rustfmt::skip]
    const PY_JSON_CASES: &[(&str, &str)] = &[
        ("{\"a\": 1, \"b\": -0, \"c\": 1.5, \"d\": 1e5, \"e\": 1E-5, \"f\": -0.0, \"g\": 1e400, \"h\": NaN, \"i\": Infinity, \"j\": -Infinity, \"k\": 12345678901234567890, \"l\": 0.1, \"m\": 1e16}",
         "{'a': 1, 'b': 0, 'c': 1.5, 'd': 100000.0, 'e': 1e-05, 'f': -0.0, 'g': inf, 'h': nan, 'i': inf, 'j': -inf, 'k': 12345678901234567890, 'l': 0.1, 'm': 1e+16}"),
        ("{\"s\": \"q\\\"b\\\\s\\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 x\", \"u\": \"日本\", \"e\": \"\", \"n\": null, \"t\": true, \"f\": false}",
         "{'s': 'q\"b\\\\s/ \\x08\\x0c\\n\\r\\t é 😀 x', 'u': '日本', 'e': '', 'n': None, 't': True, 'f': False}"),
        ("{\"a\": [1, [2, [3]], {\"b\": {}}, []], \"c\": {\"d\": {\"e\": [null]}}}",
         "{'a': [1, [2, [3]], {'b': {}}, []], 'c': {'d': {'e': [None]}}}"),
        ("{\"a\": 1, \"b\": 2, \"a\": 3}",
         "{'a': 3, 'b': 2}"),
        (" \t\r\n{\"ws\" : [ 1 , 2 ] }  \n",
         "{'ws': [1, 2]}"),
        ("{}",
         "{}"),
        ("{\"big\": -123456789012345678901234567890123456789012}",
         // Python: an int; here: its digits as a string (beyond i128).
         "{'big': '-123456789012345678901234567890123456789012'}"),
        ("[1, 2]",
         "ERR 1:1: top-level of a data document must be a mapping"),
        ("\"str\"",
         "ERR 1:1: top-level of a data document must be a mapping"),
        ("1",
         "ERR 1:1: top-level of a data document must be a mapping"),
        ("",
         "ERR 1:1: Expecting value"),
        ("   ",
         "ERR 1:4: Expecting value"),
        ("{\"a\": 1,}",
         "ERR 1:9: Expecting property name enclosed in double quotes"),
        ("[1,]",
         "ERR 1:4: Expecting value"),
        ("{\"a\" 1}",
         "ERR 1:6: Expecting ':' delimiter"),
        ("{\"a\": 1 \"b\": 2}",
         "ERR 1:9: Expecting ',' delimiter"),
        ("{a: 1}",
         "ERR 1:2: Expecting property name enclosed in double quotes"),
        ("{'a': 1}",
         "ERR 1:2: Expecting property name enclosed in double quotes"),
        ("{\"a\": 01}",
         "ERR 1:8: Expecting ',' delimiter"),
        ("{\"a\": 1.}",
         "ERR 1:8: Expecting ',' delimiter"),
        ("{\"a\": .5}",
         "ERR 1:7: Expecting value"),
        ("{\"a\": -}",
         "ERR 1:7: Expecting value"),
        ("{\"a\": \"x\ny\"}",
         "ERR 1:9: Invalid control character at"),
        ("{\"a\": \"\\q\"}",
         "ERR 1:8: Invalid \\escape"),
        ("{\"a\": \"\\u12\"}",
         "ERR 1:9: Invalid \\uXXXX escape"),
        ("{\"a\": \"unterminated",
         "ERR 1:7: Unterminated string starting at"),
        ("{\"a\": tru}",
         "ERR 1:7: Expecting value"),
        ("{\"a\": 1} x",
         "ERR 1:10: Extra data"),
        ("{\"a\": 1}}",
         "ERR 1:9: Extra data"),
        ("{\"a\": +1}",
         "ERR 1:7: Expecting value"),
        ("{\"a\": 1e}",
         "ERR 1:8: Expecting ',' delimiter"),
        ("{\"a\": [1 2]}",
         "ERR 1:10: Expecting ',' delimiter"),
    ];

    #[test]
    fn python_json_parity() {
        for (text, want) in PY_JSON_CASES {
            assert_eq!(repr(text), *want, "{text:?}");
        }
    }

    #[test]
    fn positions_of_keys_and_values() {
        let text = "{\r\n  \"ключ\": \"значение\",\n  \"n\": [1, {\"é\": -2.5e3}],\n\t\"t\": true\n}";
        let root = load_json(text, 2).unwrap();
        let at = |n: &DataNode| &text[n.loc.offset..];
        assert_eq!((root.loc.line, root.loc.col, root.loc.offset), (0, 0, 0));
        let k = root.entry("ключ").unwrap();
        assert_eq!((k.key.loc.line, k.key.loc.col), (1, 2));
        assert!(at(&k.key).starts_with("\"ключ\""));
        assert_eq!((k.value.loc.line, k.value.loc.col), (1, 10));
        assert!(at(&k.value).starts_with("\"значение\""));
        assert_eq!(k.value.loc.file, 2);
        let DataValue::List(items) = &root.get("n").unwrap().value else { panic!() };
        let e = items[1].entry("é").unwrap();
        assert_eq!((e.key.loc.line, e.key.loc.col), (2, 12));
        assert_eq!((e.value.loc.line, e.value.loc.col), (2, 17));
        assert_eq!(e.value.value, DataValue::Float(-2500.0));
        let t = root.entry("t").unwrap();
        assert_eq!((t.key.loc.line, t.key.loc.col), (3, 1));
        assert!(at(&t.value).starts_with("true"));
    }

    #[test]
    fn bom_and_duplicates() {
        let text = "\u{feff}{\"a\": 1, \"b\": 2, \"a\": 3}";
        let root = load_json(text, 0).unwrap();
        assert_eq!(py_repr(&root.value), "{'a': 3, 'b': 2}");
        let a = root.entry("a").unwrap();
        assert_eq!(&text[a.key.loc.offset..a.key.loc.offset + 3], "\"a\"");
        assert_eq!(a.key.loc.col, 18);
    }

    #[test]
    fn never_panics_and_is_linear() {
        let text = PY_JSON_CASES[1].0;
        for (i, _) in text.char_indices() {
            let _ = load_json(&text[..i], 0);
        }
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let e = load_json(&deep, 0).unwrap_err();
        assert!(e.message.contains("nested"), "{e:?}");
        let ok = format!("{{\"a\": {}{}}}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(load_json(&ok, 0).is_ok());
        // A 10 MB single-line document with non-ASCII text.
        let mut big = String::from("{");
        let mut i = 0;
        while big.len() < 10 << 20 {
            big.push_str(&format!("\"k{i}\": {{\"v\": [1, 2.5, \"ü日本\", null]}}, "));
            i += 1;
        }
        big.push_str("\"end\": 0}");
        let start = std::time::Instant::now();
        let root = load_json(&big, 0).unwrap();
        assert_eq!(root.entries().len(), i + 1);
        let end = root.entry("end").unwrap();
        assert_eq!(end.key.loc.col as usize, big[..end.key.loc.offset].chars().count());
        assert!(start.elapsed().as_secs() < 60);
        eprintln!("10 MB JSON loaded in {:?}", start.elapsed());
    }
}
