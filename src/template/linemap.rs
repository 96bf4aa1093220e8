//! The output-to-source line map.
//!
//! A second, instrumented render carries invisible markers woven into the template's raw
//! text (see [`crate::template::prepare`]). Markers survive loops, includes and
//! `filter indent` blocks because they are just text, so after rendering each output line
//! can be traced to the template line that produced it. The markers are then stripped; the
//! remaining text is the same as an uninstrumented render.
//!
//! A marker is `U+E000`, a kind letter, `template_id:line`, `U+E001` — private-use code
//! points that real templates do not contain.

const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// Raw text starting at this template line: later newlines advance the line.
    Raw,
    /// Output of an expression on this line: its newlines stay on this line.
    Expr,
}

pub fn marker(kind: MarkerKind, template: u32, line: u32) -> String {
    let k = match kind {
        MarkerKind::Raw => 'R',
        MarkerKind::Expr => 'E',
    };
    format!("{MARK_OPEN}{k}{template}:{line}{MARK_CLOSE}")
}

/// Where one output line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineOrigin {
    /// Index into the render's template table (0 is the rendered template itself).
    pub template: u32,
    /// 0-based line in that template's source.
    pub line: u32,
}

/// For every output line (0-based), the template line that produced it, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMap {
    pub lines: Vec<Option<LineOrigin>>,
}

impl LineMap {
    pub fn origin(&self, output_line: usize) -> Option<LineOrigin> {
        self.lines.get(output_line).copied().flatten()
    }

    /// Output lines produced by `template`'s `line` (for template → output navigation).
    pub fn output_lines_for(&self, template: u32, line: u32) -> Vec<usize> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, o)| matches!(o, Some(o) if o.template == template && o.line == line))
            .map(|(i, _)| i)
            .collect()
    }
}

/// True when `text` holds any marker (a cheap check before stripping).
pub fn has_markers(text: &str) -> bool {
    text.contains(MARK_OPEN)
}

/// Removes markers and computes the line map of the clean text.
pub fn extract(instrumented: &str) -> (String, LineMap) {
    let mut clean = String::with_capacity(instrumented.len());
    let mut lines: Vec<Option<LineOrigin>> = Vec::new();
    let mut state: Option<(LineOrigin, MarkerKind)> = None;
    // Origin of the current output line: the first marker on it, else the state at its start.
    let mut line_origin: Option<LineOrigin> = None;
    let mut line_has_marker = false;
    let mut rest = instrumented;
    loop {
        let next_special = rest.find(['\n', MARK_OPEN]);
        let Some(idx) = next_special else {
            clean.push_str(rest);
            break;
        };
        clean.push_str(&rest[..idx]);
        let ch = rest[idx..].chars().next().unwrap_or('\n');
        if ch == '\n' {
            clean.push('\n');
            lines.push(line_origin);
            if let Some((origin, MarkerKind::Raw)) = &mut state {
                origin.line += 1;
            }
            line_origin = state.map(|(o, _)| o);
            line_has_marker = false;
            rest = &rest[idx + 1..];
            continue;
        }
        // A marker: parse it; anything malformed is kept as text.
        let after = &rest[idx + MARK_OPEN.len_utf8()..];
        match parse_marker(after) {
            Some((kind, origin, consumed)) => {
                state = Some((origin, kind));
                if !line_has_marker {
                    line_origin = Some(origin);
                    line_has_marker = true;
                }
                rest = &after[consumed..];
            }
            None => {
                clean.push(MARK_OPEN);
                rest = after;
            }
        }
    }
    // The last line, unless the text ended with a newline (no line follows it).
    if !clean.is_empty() && !clean.ends_with('\n') {
        lines.push(line_origin);
    }
    (clean, LineMap { lines })
}

fn parse_marker(s: &str) -> Option<(MarkerKind, LineOrigin, usize)> {
    let close = s.find(MARK_CLOSE)?;
    let body = &s[..close];
    let kind = match body.as_bytes().first()? {
        b'R' => MarkerKind::Raw,
        b'E' => MarkerKind::Expr,
        _ => return None,
    };
    let (t, l) = body[1..].split_once(':')?;
    let origin = LineOrigin { template: t.parse().ok()?, line: l.parse().ok()? };
    Some((kind, origin, close + MARK_CLOSE.len_utf8()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_marker_advances_lines_expr_does_not() {
        let text =
            format!("{}a\nb\n{}x\ny\n{}c\n", marker(MarkerKind::Raw, 0, 3), marker(MarkerKind::Expr, 0, 10), marker(MarkerKind::Raw, 1, 0));
        let (clean, map) = extract(&text);
        assert_eq!(clean, "a\nb\nx\ny\nc\n");
        let got: Vec<_> = map.lines.iter().map(|o| o.map(|o| (o.template, o.line))).collect();
        assert_eq!(got, vec![Some((0, 3)), Some((0, 4)), Some((0, 10)), Some((0, 10)), Some((1, 0))]);
    }

    #[test]
    fn text_without_markers_is_unchanged() {
        let (clean, map) = extract("plain\ntext");
        assert_eq!(clean, "plain\ntext");
        assert_eq!(map.lines, vec![None, None]);
    }
}
