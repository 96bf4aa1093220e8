//! Limits on the work one render may do. A language server renders every half-typed state
//! of a template; a loop of 10⁸ iterations, `'x' * 10**9` or a 5,000-deep `not not … x`
//! must end in a clear `render-error`, not in a hang, an out-of-memory abort or a stack
//! overflow (which no `catch_unwind` can stop).

use minijinja::{Error, ErrorKind};
use std::ops::Range;

/// minijinja's fuel for one render: about one unit per instruction, plus the bytes of
/// strings and list slots it builds or writes. The biggest corpus template uses well
/// under 1% of it; in a release build it runs out in roughly a second.
pub const RENDER_FUEL: u64 = 30_000_000;

/// Most bytes one printed value, filter result or formatted string may have. Generated
/// Kubernetes files are kilobytes; this only stops runaway output.
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// Widest field or precision in `'%10d' % x` and `'{:>10}'.format(x)` (Python has no
/// limit; a width of 10⁹ is a gigabyte of spaces).
pub const MAX_FORMAT_WIDTH: usize = 10_000;

/// Most operators, attribute/index/call links and filters in one tag. minijinja's parser
/// and compiler recurse once per link of `not not … x` or `a + a + … a`; thousands of them
/// overflow the stack. Real tags have a few dozen.
pub const MAX_TAG_OPERATORS: usize = 1_000;

/// The message every budget error starts with, so diagnostics read `stopped after …`.
pub fn stopped(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("stopped after {what}"))
}

/// Refuses a text that would exceed [`MAX_TEXT_BYTES`].
pub fn check_text_len(len: usize) -> Result<(), Error> {
    if len > MAX_TEXT_BYTES {
        return Err(stopped(format!("{} MB of text from one value (the limit is {} MB)", len >> 20, MAX_TEXT_BYTES >> 20)));
    }
    Ok(())
}

/// Refuses a format width or precision above [`MAX_FORMAT_WIDTH`].
pub fn check_format_width(width: usize) -> Result<(), Error> {
    if width > MAX_FORMAT_WIDTH {
        return Err(stopped(format!("a format width of {width} (the limit is {MAX_FORMAT_WIDTH})")));
    }
    Ok(())
}

/// Every number in the replacement fields' format specs of a `str.format` string
/// (`{0:>20.3}` → 20, 3), checked against [`MAX_FORMAT_WIDTH`].
pub fn check_str_format_spec(format: &str) -> Result<(), Error> {
    let mut in_field = false;
    let mut in_spec = false;
    let mut number = 0usize;
    for c in format.chars() {
        match c {
            '{' => (in_field, in_spec) = (true, false),
            '}' => (in_field, in_spec) = (false, false),
            ':' if in_field => in_spec = true,
            _ => {}
        }
        if in_spec && c.is_ascii_digit() {
            number = number.saturating_mul(10).saturating_add(c as usize - '0' as usize);
            check_format_width(number)?;
        } else {
            number = 0;
        }
    }
    Ok(())
}

/// How many operators, postfix links and filters a tag's expression text has (string
/// literals skipped). A linear scan, so it is safe on any input.
pub fn tag_operator_count(inner: &str) -> usize {
    let bytes = inner.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'~' | b'|' | b'.' | b'[' | b'(' | b'<' | b'>' | b'=' | b'!' => count += 1,
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if matches!(&inner[start..i], "not" | "and" | "or" | "is" | "in" | "if" | "else") {
                    count += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    count
}

/// The range of the first tag (by its inner text range) with too many operators, and the
/// message to report for it.
pub fn too_complex(inner: &str, range: Range<usize>) -> Option<(Range<usize>, String)> {
    let n = tag_operator_count(inner);
    (n > MAX_TAG_OPERATORS)
        .then(|| (range, format!("expression too complex: {n} operators in one tag (the limit is {MAX_TAG_OPERATORS}); split it up")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_operators_outside_strings() {
        assert_eq!(tag_operator_count("a.b | default('x.y|z') + 1"), 4);
        assert_eq!(tag_operator_count("not not x and y"), 3);
        assert_eq!(tag_operator_count("nothing_is_inside"), 0);
        assert_eq!(tag_operator_count("'unterminated \\' string"), 0);
    }

    #[test]
    fn str_format_widths_are_bounded() {
        assert!(check_str_format_spec("{0:>10} {1:.3f} {}").is_ok());
        assert!(check_str_format_spec("{0:>999999999}").is_err());
        assert!(check_str_format_spec("{:.70000f}").is_err());
        // Digits outside a spec are not widths.
        assert!(check_str_format_spec("1234567890 {1234567890}").is_ok());
    }
}
