//! Inlay hints: after each `#{ expr }#` of a template, what it prints with the current data
//! (`#{ cluster_name }#` ` = home`), so a template reads like its output without hovering.
//!
//! Inside one `for` loop over the data, the hint lists the first iterations' values
//! (`#{ node.name }#` ` = k8s-0, k8s-1, … (3 times)`). Names bound otherwise (`set`,
//! `macro`, nested loops) have no single value and get no hint, and an undefined name is the
//! `undefined-variable` diagnostic's business. Secret-looking values are masked as in hovers.

use super::cursor::BindingScopes;
use super::secrets::{is_secret_key, looks_like_secret, mask_rendered_line_with, MASK};
use super::{Analysis, FileRole};
use crate::template::expr::{names_in_tag, NameRole, Tok};
use crate::template::pyvalue::py_str;
use crate::template::syntax::{lex, TokenKind};
use minijinja::value::Value;
use std::ops::Range;
use std::path::Path;

/// Longest label shown; longer values end in `…` (the hover has the whole value).
const MAX_LABEL_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlayHint {
    /// Byte offset the hint sits at: just after the tag's end delimiter.
    pub offset: usize,
    /// `= value`, one line, shortened.
    pub label: String,
    /// The whole printed value when the label had to be shortened.
    pub tooltip: Option<String>,
}

/// The hints for the tags of `path` that end inside `range` (byte offsets).
pub fn inlay_hints(analysis: &Analysis, path: &Path, range: Range<usize>) -> Vec<InlayHint> {
    let Some(pa) = analysis.project_for(path) else { return Vec::new() };
    if !matches!(pa.role(path), FileRole::Template { .. }) {
        return Vec::new();
    }
    let Some(src) = pa.text(path) else { return Vec::new() };
    let show = analysis.settings.show_secrets;
    let tokens = lex(&src, pa.syntax());
    let scopes = BindingScopes::new(&src, pa.syntax());
    let renderer = pa.renderer();
    let secrets = if show { &[][..] } else { pa.secret_values() };
    let loops = for_loops(&src, &tokens);
    let mut hints = Vec::new();
    for t in tokens.iter().filter(|t| t.kind == TokenKind::Variable && t.closed) {
        if t.span.end < range.start || t.span.start > range.end {
            continue;
        }
        let names = names_in_tag(&src, t);
        let vars: Vec<_> = names.iter().filter(|u| u.role == NameRole::Variable).collect();
        if vars.is_empty() {
            continue; // a literal prints itself
        }
        let expr = &src[t.inner.clone()];
        let bound: Vec<&str> = vars.iter().filter(|u| scopes.is_bound(&u.path[0], u.ranges[0].start)).map(|u| u.path[0].as_str()).collect();
        // (printed values, iterations when inside a loop)
        let (printed, total): (Vec<String>, Option<usize>) = if bound.is_empty() {
            match renderer.eval_expression(expr) {
                Ok(v) if !v.is_undefined() => (vec![py_str(&v)], None),
                _ => continue,
            }
        } else {
            let enclosing: Vec<&ForLoop> = loops.iter().filter(|l| l.body.contains(&t.span.start)).collect();
            let [one] = enclosing[..] else { continue };
            if !bound.iter().all(|n| *n == "loop" || one.targets.iter().any(|x| x == n)) {
                continue;
            }
            match loop_values(renderer, one, expr) {
                Some((values, n)) => (values, Some(n)),
                None => continue,
            }
        };
        // Anything reached through a secret-looking key is masked whole, containers too.
        let masked =
            !show && (vars.iter().any(|u| u.path.iter().any(|k| is_secret_key(k))) || printed.iter().any(|p| looks_like_secret(p)));
        let shown: Vec<String> = printed
            .iter()
            .map(|p| {
                if masked {
                    MASK.to_string()
                } else if show {
                    p.clone()
                } else {
                    mask_rendered_line_with(p, secrets)
                }
            })
            .collect();
        let joined = match total {
            Some(n) if n > shown.len() => format!("{}, … ({n} times)", shown.join(", ")),
            Some(n) if n > 1 => format!("{} ({n} times)", shown.join(", ")),
            _ => shown.join(", "),
        };
        let (label, shortened) = shorten(&joined);
        hints.push(InlayHint { offset: t.span.end, label: format!("= {label}"), tooltip: shortened.then_some(joined) });
    }
    hints
}

/// Iterations shown in a loop's hint.
const SHOWN_ITERATIONS: usize = 3;

/// The names one loop iteration binds, with their values.
type Iteration = Vec<(String, Value)>;

/// A `for` block: the names it binds, its iterable and condition, and the byte range of
/// its body.
struct ForLoop {
    targets: Vec<String>,
    iterable: String,
    condition: Option<String>,
    body: Range<usize>,
    /// [`iterations`], evaluated for the first hint of the body and shared by the others.
    items: std::cell::OnceCell<Option<Vec<Iteration>>>,
}

fn for_loops(src: &str, tokens: &[crate::template::syntax::Token]) -> Vec<ForLoop> {
    let mut open: Vec<ForLoop> = Vec::new();
    let mut out = Vec::new();
    for t in tokens.iter().filter(|t| t.kind == TokenKind::Block) {
        match crate::template::syntax::tag_keyword(src, t) {
            Some("for") => {
                let inner = &src[t.inner.clone()];
                let toks = crate::template::expr::tokenize(src, t.inner.clone());
                let word = |i: usize| &src[toks[i].range.clone()];
                let is_ident = |i: usize, w: &str| toks[i].kind == Tok::Ident && word(i) == w;
                let Some(in_at) = (0..toks.len()).find(|&i| is_ident(i, "in")) else { continue };
                // A top-level `if` after the iterable filters the items.
                let mut depth = 0i32;
                let mut if_at = None;
                for (i, tok) in toks.iter().enumerate().skip(in_at + 1) {
                    match tok.kind {
                        Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
                        Tok::RParen | Tok::RBracket | Tok::RBrace => depth -= 1,
                        _ if depth == 0 && (is_ident(i, "if") || is_ident(i, "recursive")) => {
                            if_at = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let iter_end = if_at.map_or(t.inner.end, |i| toks[i].range.start);
                let recursive = inner.trim_end().ends_with("recursive");
                let condition = if_at.filter(|&i| is_ident(i, "if")).map(|i| {
                    let end = if recursive { t.inner.end - "recursive".len() } else { t.inner.end };
                    src[toks[i].range.end..end.max(toks[i].range.end)].trim().to_string()
                });
                let targets = (1..in_at).filter(|&i| toks[i].kind == Tok::Ident).map(|i| word(i).to_string()).collect();
                open.push(ForLoop {
                    targets,
                    iterable: src[toks[in_at].range.end..iter_end].trim().to_string(),
                    condition,
                    body: t.span.end..usize::MAX,
                    items: Default::default(),
                });
            }
            Some("endfor") => {
                if let Some(mut l) = open.pop() {
                    l.body.end = t.span.start;
                    out.push(l);
                }
            }
            _ => {}
        }
    }
    out.extend(open);
    out
}

/// The values `expr` prints in the first iterations of `l`, and how many times the loop
/// runs; `None` when the loop cannot be evaluated with the data alone.
fn loop_values(renderer: &crate::template::Renderer, l: &ForLoop, expr: &str) -> Option<(Vec<String>, usize)> {
    let items = l.items.get_or_init(|| iterations(renderer, l)).as_ref()?;
    let n = items.len();
    let mut out = Vec::new();
    for (i, names) in items.iter().enumerate().take(SHOWN_ITERATIONS) {
        let mut names = names.clone();
        names.push((
            "loop".to_string(),
            map([
                ("index".to_string(), Value::from(i + 1)),
                ("index0".to_string(), Value::from(i)),
                ("first".to_string(), Value::from(i == 0)),
                ("last".to_string(), Value::from(i + 1 == n)),
                ("length".to_string(), Value::from(n)),
                ("revindex".to_string(), Value::from(n - i)),
                ("revindex0".to_string(), Value::from(n - i - 1)),
            ]),
        ));
        let v = renderer.eval_expression_with(expr, map(names)).ok()?;
        if v.is_undefined() {
            return None;
        }
        out.push(py_str(&v));
    }
    (!out.is_empty()).then_some((out, n))
}

/// The loop's iterations as the names they bind (items the condition drops left out).
fn iterations(renderer: &crate::template::Renderer, l: &ForLoop) -> Option<Vec<Iteration>> {
    let iterable = renderer.eval_expression(&l.iterable).ok()?;
    let mut out = Vec::new();
    for item in iterable.try_iter().ok()? {
        let names: Vec<(String, Value)> = match &l.targets[..] {
            [one] => vec![(one.clone(), item)],
            many => many.iter().enumerate().map(|(i, n)| (n.clone(), item.get_item_by_index(i).unwrap_or_default())).collect(),
        };
        if let Some(cond) = &l.condition {
            if !renderer.eval_expression_with(cond, map(names.clone())).ok()?.is_true() {
                continue;
            }
        }
        out.push(names);
        if out.len() > 10_000 {
            return None; // not a loop anyone reads value by value
        }
    }
    Some(out)
}

/// A map value of names (`Value::from_iter` of pairs would make a list of tuples).
fn map(pairs: impl IntoIterator<Item = (String, Value)>) -> Value {
    Value::from(pairs.into_iter().collect::<std::collections::BTreeMap<String, Value>>())
}

/// The first line of `s`, at most `MAX_LABEL_CHARS` characters; true when cut.
fn shorten(s: &str) -> (String, bool) {
    let first = s.lines().next().unwrap_or_default();
    let multi_line = first.len() < s.trim_end().len();
    if first.chars().count() > MAX_LABEL_CHARS {
        let cut: String = first.chars().take(MAX_LABEL_CHARS - 1).collect();
        return (format!("{cut}…"), true);
    }
    if multi_line {
        return (format!("{first} …"), true);
    }
    (first.to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn labels_are_one_short_line() {
        assert_eq!(shorten("home"), ("home".to_string(), false));
        assert_eq!(shorten("a\nb\n"), ("a …".to_string(), true));
        let long = "x".repeat(60);
        let (label, cut) = shorten(&long);
        assert!(cut);
        assert_eq!(label.chars().count(), 40);
        assert!(label.ends_with('…'));
    }
}
