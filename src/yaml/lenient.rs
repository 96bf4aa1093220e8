//! What the YAML consumers of a homelab repo accept but a strict YAML 1.2 parser (saphyr)
//! rejects. Kubernetes and Flux read YAML with go-yaml, data files are read with PyYAML; both
//! descend from libyaml, which
//! - ignores indentation inside flow collections (`key: [` … `]` with the `]` back at the
//!   key's column, or at column 0), and
//! - ends an anchor or alias name at the first character that is not alphanumeric, `-` or `_`
//!   (so `*app: x` is the alias `app` used as a key; YAML 1.2 would read the alias `app:`).
//!
//! [`rewrite`] produces a text saphyr reads the way they do, by inserting spaces only (a space
//! before such an alias's `:`, indentation at the start of under-indented flow lines — leading
//! space of a flow line is never part of a value), plus where it inserted them, so positions
//! map back to the original exactly.

/// A rewritten text and the byte offsets (in the rewritten text) of every inserted space.
pub struct Rewrite {
    pub text: String,
    inserted: Vec<usize>,
}

impl Rewrite {
    /// The original offset of a rewritten offset.
    pub fn original(&self, offset: usize) -> usize {
        offset - self.inserted.partition_point(|&i| i < offset)
    }
}

/// PyYAML's and go-yaml's anchor name characters.
fn is_anchor_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// The rewrite of `text`, or `None` when nothing would change.
pub fn rewrite(text: &str) -> Option<Rewrite> {
    rewrite_with(text, true)
}

/// Only the aliases used as keys (for loaders that handle flow indentation themselves).
pub fn alias_keys(text: &str) -> Option<Rewrite> {
    rewrite_with(text, false)
}

fn rewrite_with(text: &str, flow_lines: bool) -> Option<Rewrite> {
    let bytes = text.as_bytes();
    // Per original line start: spaces to insert there. Per original offset: a space before it.
    let mut inserts: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    // Column (chars) the content of the current flow collection must reach.
    let mut want = 0usize;
    let mut i = 0usize;
    let mut line_start = 0usize;
    // Indentation of a block scalar's parent line while inside the scalar.
    let mut block_scalar: Option<usize> = None;
    let mut prev = b'\n';
    while i < bytes.len() {
        if i == line_start {
            let indent = bytes[i..].iter().take_while(|&&c| c == b' ').count();
            let blank = matches!(bytes.get(i + indent), None | Some(b'\n' | b'\r'));
            if let Some(parent) = block_scalar {
                if blank || indent > parent {
                    i = next_line(bytes, i);
                    line_start = i;
                    continue;
                }
                block_scalar = None;
            }
            if flow_lines && depth > 0 && !blank && !matches!(bytes.get(i + indent), Some(b'#')) {
                let col = indent;
                if col < want {
                    inserts.push((i, want - col));
                }
            }
        }
        let c = bytes[i];
        match c {
            b'\n' => {
                line_start = i + 1;
                prev = c;
                i += 1;
                continue;
            }
            b'#' if matches!(prev, b' ' | b'\t' | b'\n' | b'\r') => {
                i = line_end(bytes, i);
                continue;
            }
            b'"' | b'\'' if matches!(prev, b' ' | b'\t' | b'\n' | b'[' | b'{' | b',' | b':' | b'-' | b'?') => {
                let Some(end) = quoted_end(bytes, i) else { return finish(text, inserts) };
                i = end;
                prev = b'"';
                continue;
            }
            b'[' | b'{' if depth > 0 || matches!(prev, b' ' | b'\t' | b'\n' | b'-' | b':') => {
                if depth == 0 {
                    want = text[line_start..i].chars().count() + 1;
                }
                depth += 1;
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            b'*' if matches!(prev, b' ' | b'\t' | b'\n' | b'-' | b'?' | b'[' | b'{' | b',') => {
                let name_end = i + 1 + bytes[i + 1..].iter().take_while(|&&c| is_anchor_char(c)).count();
                if name_end > i + 1 && bytes.get(name_end) == Some(&b':') {
                    inserts.push((name_end, 1));
                }
            }
            b'|' | b'>' if depth == 0 && matches!(prev, b' ') && is_block_scalar_header(bytes, i) => {
                let indent = bytes[line_start..].iter().take_while(|&&c| c == b' ').count();
                block_scalar = Some(indent);
                i = next_line(bytes, i);
                line_start = i;
                prev = b'\n';
                continue;
            }
            _ => {}
        }
        prev = c;
        i += 1;
    }
    finish(text, inserts)
}

fn finish(text: &str, mut inserts: Vec<(usize, usize)>) -> Option<Rewrite> {
    if inserts.is_empty() {
        return None;
    }
    inserts.sort();
    let mut out = String::with_capacity(text.len() + inserts.len() * 4);
    let mut inserted = Vec::new();
    let mut last = 0;
    for (at, n) in inserts {
        out.push_str(&text[last..at]);
        for _ in 0..n {
            inserted.push(out.len());
            out.push(' ');
        }
        last = at;
    }
    out.push_str(&text[last..]);
    Some(Rewrite { text: out, inserted })
}

fn line_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

fn next_line(bytes: &[u8], i: usize) -> usize {
    (line_end(bytes, i) + 1).min(bytes.len())
}

/// `|`, `>`, with optional chomping/indentation indicators, then only a comment.
fn is_block_scalar_header(bytes: &[u8], i: usize) -> bool {
    let rest = &bytes[i + 1..line_end(bytes, i)];
    let head = rest.iter().take_while(|c| matches!(c, b'+' | b'-' | b'1'..=b'9')).count();
    let tail = &rest[head..];
    let trimmed: Vec<u8> = tail.iter().copied().skip_while(|c| *c == b' ' || *c == b'\t').collect();
    trimmed.is_empty() || trimmed[0] == b'#' || trimmed == b"\r"
}

/// The byte just past the closing quote of the quoted scalar starting at `start`.
pub(crate) fn quoted_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = *bytes.get(start)?;
    let mut i = start + 1;
    while i < bytes.len() {
        let c = bytes[i];
        if quote == b'"' && c == b'\\' {
            i += 2;
            continue;
        }
        if c == quote {
            if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_flow_lines_and_separates_alias_keys() {
        let r = rewrite("a: {\n  b: 1\n}\n").unwrap();
        assert_eq!(r.text, "a: {\n    b: 1\n    }\n");
        assert_eq!(r.original(r.text.find('}').unwrap()), 12);
        let r = rewrite("x: &app 1\nm:\n  *app: 2\n").unwrap();
        assert_eq!(r.text, "x: &app 1\nm:\n  *app : 2\n");
        assert_eq!(r.original(r.text.rfind(':').unwrap()), 19);
        // Nothing to do, and block scalars and quotes are left alone.
        assert!(rewrite("a: [1, 2]\nb: |\n  {\n  *x: y\nc: '{'\n").is_none());
    }
}
