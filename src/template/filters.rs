//! Filters and helpers where minijinja and Jinja2 part ways, re-implemented with Jinja2's
//! behaviour, plus the runtime side of the source rewrites in [`super::prepare`].

use super::budget;
use super::pyvalue::{py_repr, py_str};
use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};
use std::sync::{Arc, Mutex};

/// Registers every override on an environment.
pub fn register(env: &mut minijinja::Environment<'_>) {
    env.add_filter("indent", indent);
    env.add_filter("string", string);
    env.add_filter("join", join);
    env.add_filter("__pyformat", pyformat);
    env.add_function("__mutable_list", mutable_list);
}

/// Python's `str.splitlines()` (without keepends).
pub fn py_splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let is_break = matches!(c, '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if is_break {
            lines.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some((j, '\n')) = iter.peek().copied() {
                    iter.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// Jinja2's `indent(width=4, first=False, blank=False)`; unlike minijinja's it keeps a
/// trailing newline of its input.
pub fn indent(value: &Value, width: Option<Value>, first: Option<bool>, blank: Option<bool>, kwargs: Kwargs) -> Result<Value, Error> {
    let width = match kwargs.get::<Option<Value>>("width")? {
        Some(w) => Some(w),
        None => width,
    };
    let first = kwargs.get::<Option<bool>>("first")?.or(first).unwrap_or(false);
    let blank = kwargs.get::<Option<bool>>("blank")?.or(blank).unwrap_or(false);
    kwargs.assert_all_used()?;
    let indention = match width {
        None => "    ".to_string(),
        Some(w) if w.kind() == ValueKind::String => w.as_str().unwrap_or_default().to_string(),
        Some(w) => {
            let n = i64::try_from(w.clone()).map_err(|_| {
                Error::new(ErrorKind::InvalidOperation, format!("indent width must be an integer or string, got {}", py_repr(&w)))
            })?;
            " ".repeat(n.clamp(0, budget::MAX_FORMAT_WIDTH as i64) as usize)
        }
    };
    let mut s = py_str(value);
    // Jinja2 appends a newline so that splitlines keeps a trailing empty line.
    s.push('\n');
    let lines = py_splitlines(&s);
    budget::check_text_len(s.len().saturating_add(lines.len().saturating_mul(indention.len())))?;
    let mut rv = String::with_capacity(s.len() + lines.len() * indention.len());
    if blank {
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                rv.push('\n');
                rv.push_str(&indention);
            }
            rv.push_str(line);
        }
    } else {
        let mut iter = lines.iter();
        if let Some(head) = iter.next() {
            rv.push_str(head);
        }
        let rest: Vec<&&str> = iter.collect();
        if !rest.is_empty() {
            rv.push('\n');
            for (i, line) in rest.iter().enumerate() {
                if i > 0 {
                    rv.push('\n');
                }
                if !line.is_empty() {
                    rv.push_str(&indention);
                }
                rv.push_str(line);
            }
        }
    }
    if first {
        rv.insert_str(0, &indention);
    }
    Ok(Value::from(rv))
}

/// Jinja2's `string`: Python's `str()`.
pub fn string(value: &Value) -> Value {
    if value.kind() == ValueKind::String {
        value.clone()
    } else {
        Value::from(py_str(value))
    }
}

/// Jinja2's `join(d='', attribute=None)`, joining items by their `str()`.
pub fn join(state: &State, value: &Value, d: Option<&str>, attribute: Option<&str>, kwargs: Kwargs) -> Result<Value, Error> {
    let d = kwargs.get::<Option<&str>>("d")?.or(d).unwrap_or("");
    let attribute = kwargs.get::<Option<&str>>("attribute")?.or(attribute);
    kwargs.assert_all_used()?;
    let _ = state;
    if value.is_undefined() || value.is_none() {
        return Ok(Value::from(""));
    }
    if value.kind() == ValueKind::String {
        let s = value.as_str().unwrap_or_default();
        budget::check_text_len(s.len().saturating_add(s.chars().count().saturating_mul(d.len())))?;
        let parts: Vec<String> = s.chars().map(String::from).collect();
        return Ok(Value::from(parts.join(d)));
    }
    let mut out = String::new();
    for (i, item) in value.try_iter()?.enumerate() {
        if i > 0 {
            out.push_str(d);
        }
        // A lazily repeated list (`[x] * 10**8`) is cheap until it is joined.
        budget::check_text_len(out.len())?;
        let item = match attribute {
            Some(attr) => lookup_attribute(&item, attr)?,
            None => item,
        };
        out.push_str(&py_str(&item));
    }
    Ok(Value::from(out))
}

fn lookup_attribute(item: &Value, path: &str) -> Result<Value, Error> {
    let mut v = item.clone();
    for part in path.split('.') {
        v = match part.parse::<usize>() {
            Ok(idx) => v.get_item_by_index(idx)?,
            Err(_) => v.get_attr(part)?,
        };
    }
    Ok(v)
}

/// Python's `fmt % args` (printf-style), the target of the `'%s' % x` rewrite.
pub fn pyformat(fmt: &str, args: Value, spread: bool) -> Result<Value, Error> {
    // A format uses at most one argument per `%`: more only make the error below, so a huge
    // (lazily repeated) tuple is never collected.
    let args: Vec<Value> = if spread { args.try_iter()?.take(fmt.len() + 1).collect() } else { vec![args] };
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut next_arg = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // %[flags][width][.precision]conversion
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+ 0#".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() {
                width.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() {
                    p.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            precision = Some(parse_width(&p)?);
        }
        let w = parse_width(&width)?;
        let conv = chars.next().ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "incomplete format"))?;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = next_arg.next().ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "not enough arguments for format string"))?;
        let body = match conv {
            's' => {
                let s = py_str(arg);
                match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'r' | 'a' => py_repr(arg),
            'd' | 'i' | 'u' => {
                let n = arg_to_int(arg)?;
                with_sign(n.to_string(), n >= 0, &flags)
            }
            'x' | 'X' | 'o' => {
                let n = arg_to_int(arg)?;
                let digits = match conv {
                    'x' => format!("{:x}", n.unsigned_abs()),
                    'X' => format!("{:X}", n.unsigned_abs()),
                    _ => format!("{:o}", n.unsigned_abs()),
                };
                let digits = if n < 0 { format!("-{digits}") } else { digits };
                with_sign(digits, n >= 0, &flags)
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let f = f64::try_from(arg.clone()).map_err(|_| {
                    Error::new(ErrorKind::InvalidOperation, format!("%{conv} format: a real number is required, not {}", arg.kind()))
                })?;
                let p = precision.unwrap_or(6);
                let s = match conv {
                    'f' | 'F' => format!("{f:.p$}"),
                    'e' => python_exp(f, p, false),
                    'E' => python_exp(f, p, true),
                    _ => super::pyvalue::float_repr(f),
                };
                with_sign(s, f >= 0.0, &flags)
            }
            other => return Err(Error::new(ErrorKind::InvalidOperation, format!("unsupported format character '{other}'"))),
        };
        let len = body.chars().count();
        if len < w {
            let pad = w - len;
            if flags.contains('-') {
                out.push_str(&body);
                out.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && conv != 's' && conv != 'r' {
                let (sign, digits) = body.split_at(if body.starts_with(['-', '+', ' ']) { 1 } else { 0 });
                out.push_str(sign);
                out.push_str(&"0".repeat(pad));
                out.push_str(digits);
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(&body);
            }
        } else {
            out.push_str(&body);
        }
    }
    if next_arg.next().is_some() {
        return Err(Error::new(ErrorKind::InvalidOperation, "not all arguments converted during string formatting"));
    }
    budget::check_text_len(out.len())?;
    Ok(Value::from(out))
}

/// A printf width or precision, refused past the budget (Rust's formatting panics above
/// 65535, and a width of 10⁹ would be a gigabyte of padding).
fn parse_width(digits: &str) -> Result<usize, Error> {
    let n = digits.bytes().fold(0usize, |n, d| n.saturating_mul(10).saturating_add((d - b'0') as usize));
    budget::check_format_width(n)?;
    Ok(n)
}

fn arg_to_int(arg: &Value) -> Result<i128, Error> {
    if let Ok(i) = i128::try_from(arg.clone()) {
        return Ok(i);
    }
    if let Ok(f) = f64::try_from(arg.clone()) {
        return Ok(f.trunc() as i128);
    }
    Err(Error::new(ErrorKind::InvalidOperation, format!("%d format: a real number is required, not {}", arg.kind())))
}

fn with_sign(s: String, non_negative: bool, flags: &str) -> String {
    if non_negative && flags.contains('+') {
        format!("+{s}")
    } else if non_negative && flags.contains(' ') {
        format!(" {s}")
    } else {
        s
    }
}

fn python_exp(f: f64, p: usize, upper: bool) -> String {
    let s = format!("{f:.p$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let sign = if e < 0 { '-' } else { '+' };
    let out = format!("{m}e{sign}{:02}", e.abs());
    if upper {
        out.to_uppercase()
    } else {
        out
    }
}

/// A list that Python-style `.append()` can change, for `set x = [...]` literals.
#[derive(Debug, Default)]
pub struct MutableList(Mutex<Vec<Value>>);

impl MutableList {
    fn items(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        // A poisoned lock only means another render panicked mid-append; the data is fine.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Object for MutableList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.items();
        let idx = i64::try_from(key.clone()).ok()?;
        let idx = if idx < 0 { items.len() as i64 + idx } else { idx };
        items.get(usize::try_from(idx).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let snapshot = self.items().clone();
        Enumerator::Iter(Box::new(snapshot.into_iter()))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items().len())
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match (method, args) {
            ("append", [v]) => {
                self.items().push(v.clone());
                Ok(Value::from(()))
            }
            ("extend", [v]) => {
                let new: Vec<Value> = v.try_iter()?.collect();
                self.items().extend(new);
                Ok(Value::from(()))
            }
            ("insert", [i, v]) => {
                let mut items = self.items();
                let i = usize::try_from(i.clone()).unwrap_or(0).min(items.len());
                items.insert(i, v.clone());
                Ok(Value::from(()))
            }
            ("pop", []) => Ok(self.items().pop().unwrap_or_default()),
            ("count", [v]) => Ok(Value::from(self.items().iter().filter(|x| *x == v).count())),
            ("index", [v]) => self
                .items()
                .iter()
                .position(|x| x == v)
                .map(Value::from)
                .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "value is not in list")),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

pub fn mutable_list(initial: Value) -> Result<Value, Error> {
    let items: Vec<Value> = initial.try_iter()?.collect();
    Ok(Value::from_object(MutableList(Mutex::new(items))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> minijinja::Environment<'static> {
        let mut env = minijinja::Environment::new();
        register(&mut env);
        env
    }

    #[test]
    fn indent_keeps_trailing_newline_like_jinja2() {
        let env = env();
        let out = env.render_str("{{ 'a\nb\n' | indent(2) }}|", ()).unwrap();
        assert_eq!(out, "a\n  b\n|");
        let out = env.render_str("{{ 'a\n\nb' | indent(2, true) }}|", ()).unwrap();
        assert_eq!(out, "  a\n\n  b|");
        let out = env.render_str("{{ 'a\n\nb' | indent(width=2, blank=true) }}|", ()).unwrap();
        assert_eq!(out, "a\n  \n  b|");
    }

    #[test]
    fn pyformat_matches_python() {
        let f = |fmt: &str, v: Value, spread| pyformat(fmt, v, spread).unwrap().to_string();
        assert_eq!(f("%s", Value::from("x"), false), "x");
        assert_eq!(f("%s-%d", Value::from(vec![Value::from("a"), Value::from(3)]), true), "a-3");
        assert_eq!(f("%05.1f%%", Value::from(2.25), false), "002.2%");
        assert_eq!(f("%s", Value::from(true), false), "True");
        assert!(pyformat("%s %s", Value::from("x"), false).is_err());
    }

    #[test]
    fn pyformat_widths_stay_in_budget() {
        for fmt in ["%999999999999d", "%.70000f", "%99999999999999999999999s", "%.99999999999999999999999f"] {
            let err = pyformat(fmt, Value::from(1), false).unwrap_err();
            assert!(err.to_string().contains("stopped after a format width"), "{fmt}: {err}");
        }
        assert_eq!(pyformat("%10000d", Value::from(1), false).unwrap().to_string().len(), 10_000);
    }

    #[test]
    fn mutable_list_appends() {
        let env = env();
        let out = env
            .render_str("{% set x = __mutable_list([]) %}{% set _ = x.append(1) %}{% set _ = x.append('b') %}{{ x|length }}{{ x[1] }}", ())
            .unwrap();
        assert_eq!(out, "2b");
    }

    #[test]
    fn splitlines_like_python() {
        assert_eq!(py_splitlines("a\r\nb\rc\n"), vec!["a", "b", "c"]);
        assert_eq!(py_splitlines(""), Vec::<&str>::new());
        assert_eq!(py_splitlines("\n"), vec![""]);
    }
}
