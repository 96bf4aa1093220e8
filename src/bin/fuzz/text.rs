//! The client's model of a document as LSP sees it: lines end at `\n`, `\r\n` or `\r` only
//! (not at U+2028, U+2029, U+0085 or form feed), columns count UTF-16 code units. The
//! fuzzer applies its own edits with this model, so it knows the exact text of every
//! version it sent and can tell whether a published range lies inside it.

/// Byte offsets where each line starts.
pub fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => starts.push(i + 1),
            b'\r' if b.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// Each line's length in UTF-16 code units, without its line break.
pub fn line_lengths(text: &str) -> Vec<u32> {
    let starts = line_starts(text);
    (0..starts.len())
        .map(|i| {
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            let line = text[starts[i]..end].trim_end_matches(['\n', '\r']);
            line.encode_utf16().count() as u32
        })
        .collect()
}

/// Byte offset of an LSP position; a column past the line's end means its end (as the
/// protocol says), a line past the last one means the end of the text.
pub fn offset(text: &str, line: u32, col: u32) -> usize {
    let starts = line_starts(text);
    let Some(&start) = starts.get(line as usize) else { return text.len() };
    let end = starts.get(line as usize + 1).copied().unwrap_or(text.len());
    let content = text[start..end].trim_end_matches(['\n', '\r']);
    let mut units = 0u32;
    for (i, c) in content.char_indices() {
        if units >= col {
            return start + i;
        }
        units += c.len_utf16() as u32;
    }
    start + content.len()
}

/// LSP position of a byte offset (on a char boundary).
pub fn position(text: &str, offset: usize) -> (u32, u32) {
    let starts = line_starts(text);
    let line = starts.partition_point(|&s| s <= offset) - 1;
    let col = text[starts[line]..offset].encode_utf16().count();
    (line as u32, col as u32)
}

/// Whether `(line, col)` lies inside a document with these line lengths.
pub fn inside(lengths: &[u32], line: u64, col: u64) -> bool {
    (line as usize) < lengths.len() && col <= lengths[line as usize] as u64
}

/// Whether an LSP range (JSON) lies inside the document and starts before it ends.
pub fn range_inside(lengths: &[u32], range: &serde_json::Value) -> bool {
    let get = |p: &str, k: &str| range[p][k].as_u64();
    let (Some(sl), Some(sc), Some(el), Some(ec)) =
        (get("start", "line"), get("start", "character"), get("end", "line"), get("end", "character"))
    else {
        return false;
    };
    inside(lengths, sl, sc) && inside(lengths, el, ec) && (sl, sc) <= (el, ec)
}

/// The nearest offset at or before `at` that an LSP position can name: a char boundary,
/// and not between the `\r` and `\n` of a CRLF (no position lies there).
pub fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    if at > 0 && text.as_bytes()[at - 1] == b'\r' && text.as_bytes().get(at) == Some(&b'\n') {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsp_line_breaks_only() {
        let t = "a\u{2028}b\u{85}c\x0cd\r\ne\rf\ng";
        assert_eq!(line_starts(t).len(), 4);
        assert_eq!(line_lengths(t), vec![9 - 2, 1, 1, 1]);
        let o = offset(t, 1, 0);
        assert_eq!(&t[o..o + 1], "e");
        assert_eq!(position(t, o), (1, 0));
        assert_eq!(offset(t, 0, 99), t.find('\r').unwrap());
        assert_eq!(offset(t, 9, 0), t.len());
        assert!(range_inside(
            &line_lengths(t),
            &serde_json::json!({"start": {"line": 3, "character": 1}, "end": {"line": 3, "character": 1}})
        ));
        assert!(!range_inside(
            &line_lengths(t),
            &serde_json::json!({"start": {"line": 3, "character": 2}, "end": {"line": 3, "character": 2}})
        ));
    }
}
