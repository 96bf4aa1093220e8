//! Signature help inside a call in a template tag: `#{ x | indent(4, |) }#` shows
//! `indent(s, width=4, first=False, blank=False)` with `first` active. Filters count the
//! piped value as their first parameter, as Jinja passes it; a `name=` argument activates
//! the parameter of that name.

use super::cursor::tag_at;
use super::{Analysis, FileRole};
use crate::template::builtins::{self, FILTERS, FUNCTIONS, METHODS, TESTS};
use crate::template::expr::{tokenize, Tok};
use crate::template::plugins::{PluginNameKind, EMULATED};
use crate::template::syntax::lex;
use std::ops::Range;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHelp {
    /// `indent(s, width=4, first=False, blank=False)`
    pub label: String,
    pub documentation: String,
    /// Byte ranges of each parameter inside `label`.
    pub parameters: Vec<Range<usize>>,
    pub active_parameter: Option<usize>,
}

/// How the callee is reached, which decides where the arguments start in its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallKind {
    Filter,
    Test,
    Function,
    Method,
}

/// One open `(` before the cursor: the callee and the arguments seen so far.
struct Frame {
    callee: Option<(String, CallKind)>,
    /// Top-level commas so far.
    commas: usize,
    /// Byte offset where the current argument starts.
    arg_start: usize,
}

pub fn signature_help(analysis: &Analysis, path: &Path, offset: usize) -> Option<SignatureHelp> {
    let pa = analysis.project_for(path)?;
    if !matches!(pa.role(path), FileRole::Template { .. }) {
        return None;
    }
    let src = pa.text(path)?;
    let offset = offset.min(src.len());
    let tokens = lex(&src, pa.syntax());
    let tag = tag_at(&tokens, offset)?;
    if !src.is_char_boundary(offset) || offset < tag.inner.start {
        return None;
    }
    let toks = tokenize(&src, tag.inner.start..offset);
    let mut stack: Vec<Frame> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            Tok::LParen => {
                let callee = i.checked_sub(1).and_then(|p| callee_of(&src, &toks, p));
                stack.push(Frame { callee, commas: 0, arg_start: t.range.end });
            }
            Tok::LBracket | Tok::LBrace => stack.push(Frame { callee: None, commas: 0, arg_start: t.range.end }),
            Tok::RParen | Tok::RBracket | Tok::RBrace => {
                stack.pop();
            }
            Tok::Comma => {
                if let Some(f) = stack.last_mut() {
                    f.commas += 1;
                    f.arg_start = t.range.end;
                }
            }
            _ => {}
        }
    }
    let frame = stack.last()?;
    let (name, kind) = frame.callee.clone()?;
    let (signature, documentation) = describe(pa, &name, kind)?;
    let parameters = parameter_ranges(&signature);
    // The piped value is a filter's first parameter.
    let shift = usize::from(kind == CallKind::Filter);
    let typed = src[frame.arg_start..offset].trim_start();
    let by_name = typed.split_once('=').filter(|(n, rest)| !rest.starts_with('=') && is_ident(n.trim())).and_then(|(n, _)| {
        let n = n.trim();
        parameters.iter().position(|r| signature[r.clone()].split('=').next().is_some_and(|p| p.trim() == n))
    });
    let active = by_name.unwrap_or(frame.commas + shift);
    Some(SignatureHelp { label: signature, documentation, active_parameter: (active < parameters.len()).then_some(active), parameters })
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_') && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// The callee whose name is token `i` (just before a `(`), and how it is reached.
fn callee_of(src: &str, toks: &[crate::template::expr::ExprToken], i: usize) -> Option<(String, CallKind)> {
    let t = &toks[i];
    if t.kind != Tok::Ident {
        return None;
    }
    let name = src[t.range.clone()].to_string();
    let before = i.checked_sub(1).map(|p| &toks[p]);
    let kind = match before {
        Some(b) if b.kind == Tok::Pipe => CallKind::Filter,
        Some(b) if b.kind == Tok::Dot => CallKind::Method,
        Some(b) if b.kind == Tok::Ident && matches!(&src[b.range.clone()], "is" | "not") => CallKind::Test,
        _ => CallKind::Function,
    };
    Some((name, kind))
}

/// The signature and documentation of a callee, built in or emulated.
fn describe(pa: &super::ProjectAnalysis, name: &str, kind: CallKind) -> Option<(String, String)> {
    let emulated = |want: PluginNameKind| {
        EMULATED.iter().find(|(n, k, ..)| *n == name && *k == want).map(|(_, _, sig, doc)| (sig.to_string(), doc.to_string()))
    };
    let table = |t: &[builtins::Doc]| builtins::lookup(t, name).map(|(_, sig, doc)| (sig.to_string(), doc.to_string()));
    let has_plugin = pa.project.plugin.flavor.is_some();
    match kind {
        CallKind::Filter => has_plugin.then(|| emulated(PluginNameKind::Filter)).flatten().or_else(|| table(FILTERS)),
        CallKind::Function => has_plugin.then(|| emulated(PluginNameKind::Function)).flatten().or_else(|| table(FUNCTIONS)),
        CallKind::Test => table(TESTS),
        CallKind::Method => table(METHODS),
    }
}

/// Byte ranges of the parameters between the signature's outer parentheses.
fn parameter_ranges(signature: &str) -> Vec<Range<usize>> {
    let Some(open) = signature.find('(') else { return Vec::new() };
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = open + 1;
    let mut quote: Option<char> = None;
    for (i, c) in signature.char_indices().skip_while(|(i, _)| *i <= open) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth > 0 => depth -= 1,
            ')' => {
                push_trimmed(signature, start..i, &mut out);
                break;
            }
            ',' if depth == 0 => {
                push_trimmed(signature, start..i, &mut out);
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

fn push_trimmed(s: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let text = &s[r.clone()];
    let lead = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    if !trimmed.is_empty() {
        out.push(r.start + lead..r.start + lead + trimmed.len());
    }
}

#[cfg(test)]
mod tests {
    use super::parameter_ranges;

    #[test]
    fn parameters_of_a_signature() {
        let sig = "indent(s, width=4, first=False, blank=False)";
        let names: Vec<&str> = parameter_ranges(sig).into_iter().map(|r| &sig[r]).collect();
        assert_eq!(names, vec!["s", "width=4", "first=False", "blank=False"]);
        let sig = "d.items()";
        assert!(parameter_ranges(sig).is_empty());
        let sig = "x is divisibleby(n)";
        assert_eq!(parameter_ranges(sig).into_iter().map(|r| &sig[r]).collect::<Vec<_>>(), vec!["n"]);
        let sig = "join(seq, d=', ', attribute=None)";
        assert_eq!(parameter_ranges(sig).into_iter().map(|r| &sig[r]).collect::<Vec<_>>(), vec!["seq", "d=', '", "attribute=None"]);
    }
}
