//! Python values and their semantics: truthiness, equality, ordering, `repr`/`str`, arithmetic,
//! subscripts and slices.

use super::*;

#[derive(Debug, Clone)]
pub(super) enum PStr<'a> {
    B(&'a str),
    O(Rc<str>),
}

impl PStr<'_> {
    pub(super) fn as_str(&self) -> &str {
        match self {
            PStr::B(s) => s,
            PStr::O(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum ViewKind {
    Keys,
    Values,
    Items,
}

#[derive(Debug)]
pub(super) struct Closure<'a> {
    pub(super) def: Rc<FuncDef>,
    pub(super) defaults: Vec<Option<Val<'a>>>,
}

#[derive(Debug, Clone)]
pub(super) enum Val<'a> {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(PStr<'a>),
    /// A date/datetime from the data, as `str()` prints it.
    Date(&'a str),
    DList(&'a Vec<DataNode>),
    DMap(&'a Vec<DataEntry>),
    List(Rc<Vec<Val<'a>>>),
    Tuple(Rc<Vec<Val<'a>>>),
    Set(Rc<Vec<Val<'a>>>),
    Dict(Rc<Vec<(Val<'a>, Val<'a>)>>),
    View(ViewKind, Rc<Vec<Val<'a>>>),
    /// A generator expression used outside `any()`/`all()`, evaluated eagerly.
    Gen(Rc<Vec<Val<'a>>>),
    Func(Rc<Closure<'a>>),
    Builtin(&'static str),
    /// An imported name or another object this evaluator cannot model.
    Opaque(Rc<str>),
}

pub(super) fn owned_str<'a>(s: impl Into<Rc<str>>) -> Val<'a> {
    Val::Str(PStr::O(s.into()))
}

pub(super) fn from_node(n: &DataNode) -> Val<'_> {
    match &n.value {
        DataValue::Null => Val::None,
        DataValue::Bool(b) => Val::Bool(*b),
        DataValue::Int(i) => Val::Int(*i),
        DataValue::Float(f) => Val::Float(*f),
        DataValue::Str(s) => Val::Str(PStr::B(s)),
        DataValue::Timestamp(t) => Val::Date(t),
        DataValue::List(l) => Val::DList(l),
        DataValue::Map(m) => Val::DMap(m),
    }
}

pub(super) fn type_name(v: &Val) -> &'static str {
    match v {
        Val::None => "NoneType",
        Val::Bool(_) => "bool",
        Val::Int(_) => "int",
        Val::Float(_) => "float",
        Val::Str(_) => "str",
        Val::Date(_) => "date",
        Val::DList(_) | Val::List(_) => "list",
        Val::DMap(_) | Val::Dict(_) => "dict",
        Val::Tuple(_) => "tuple",
        Val::Set(_) => "set",
        Val::View(ViewKind::Keys, _) => "dict_keys",
        Val::View(ViewKind::Values, _) => "dict_values",
        Val::View(ViewKind::Items, _) => "dict_items",
        Val::Gen(_) => "generator",
        Val::Func(_) => "function",
        Val::Builtin(b) if TYPE_BUILTINS.contains(b) => "type",
        Val::Builtin(_) => "builtin_function_or_method",
        Val::Opaque(_) => "module",
    }
}

pub(super) fn opaque_err<T>(what: &str, line: u32) -> R<T> {
    fail(line, format!("unsupported: uses '{what}', which cannot be evaluated without Python"))
}

pub(super) fn truthy(v: &Val, line: u32) -> R<bool> {
    Ok(match v {
        Val::None => false,
        Val::Bool(b) => *b,
        Val::Int(i) => *i != 0,
        Val::Float(f) => *f != 0.0,
        Val::Str(s) => !s.as_str().is_empty(),
        Val::Date(_) => true,
        Val::DList(l) => !l.is_empty(),
        Val::DMap(m) => !m.is_empty(),
        Val::List(x) | Val::Tuple(x) | Val::Set(x) | Val::View(_, x) => !x.is_empty(),
        Val::Dict(d) => !d.is_empty(),
        Val::Gen(_) | Val::Func(_) | Val::Builtin(_) => true,
        Val::Opaque(d) => return opaque_err(d, line),
    })
}

#[derive(Clone, Copy)]
pub(super) enum Num {
    I(i128),
    F(f64),
}

pub(super) fn as_num(v: &Val) -> Option<Num> {
    match v {
        Val::Bool(b) => Some(Num::I(*b as i128)),
        Val::Int(i) => Some(Num::I(*i)),
        Val::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

pub(super) fn num_eq(a: Num, b: Num) -> bool {
    match (a, b) {
        (Num::I(x), Num::I(y)) => x == y,
        (Num::F(x), Num::F(y)) => x == y,
        (Num::I(i), Num::F(f)) | (Num::F(f), Num::I(i)) => f.is_finite() && f.fract() == 0.0 && f.abs() < 1.7e38 && f as i128 == i,
    }
}

pub(super) fn num_cmp(op: CmpOp, a: Num, b: Num) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
        (Num::I(x), Num::F(y)) => (x as f64).partial_cmp(&y),
        (Num::F(x), Num::I(y)) => x.partial_cmp(&(y as f64)),
    };
    match (op, ord) {
        (_, None) => false,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        _ => false,
    }
}

/// Items of a list-like value (`list` from data or built here).
pub(super) fn list_items<'a>(v: &Val<'a>) -> Option<Vec<Val<'a>>> {
    match v {
        Val::DList(l) => Some(l.iter().map(from_node).collect()),
        Val::List(x) => Some(x.as_ref().clone()),
        _ => None,
    }
}

/// Entries of a dict-like value.
pub(super) fn dict_items<'a>(v: &Val<'a>) -> Option<Vec<(Val<'a>, Val<'a>)>> {
    match v {
        Val::DMap(m) => Some(m.iter().map(|e| (from_node(&e.key), from_node(&e.value))).collect()),
        Val::Dict(d) => Some(d.as_ref().clone()),
        _ => None,
    }
}

pub(super) fn dict_len(v: &Val) -> usize {
    match v {
        Val::DMap(m) => m.len(),
        Val::Dict(d) => d.len(),
        _ => 0,
    }
}

pub(super) fn check_hashable(v: &Val, line: u32) -> R<()> {
    match v {
        Val::DList(_) | Val::List(_) | Val::DMap(_) | Val::Dict(_) | Val::Set(_) | Val::View(..) => {
            fail(line, format!("TypeError: unhashable type: '{}'", type_name(v)))
        }
        Val::Tuple(items) => items.iter().try_for_each(|i| check_hashable(i, line)),
        Val::Opaque(d) => opaque_err(d, line),
        _ => Ok(()),
    }
}

thread_local! {
    /// Steps left for the evaluation running on this thread (see [`MAX_STEPS`]). Shared by
    /// the interpreter and the value helpers, whose cost grows with the data.
    pub(super) static BUDGET: Cell<u64> = const { Cell::new(0) };
}

pub(super) fn charge(cost: u64, line: u32) -> R<()> {
    let left = BUDGET.with(Cell::get);
    if left < cost {
        BUDGET.with(|b| b.set(0));
        return fail(line, format!("unsupported: evaluation takes more than {MAX_STEPS} steps"));
    }
    BUDGET.with(|b| b.set(left - cost));
    Ok(())
}

pub(super) fn py_eq(a: &Val, b: &Val, line: u32, depth: u32) -> R<bool> {
    charge(1, line)?;
    if depth > MAX_VALUE_DEPTH {
        return fail(line, "unsupported: values nested too deeply to compare");
    }
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return Ok(num_eq(x, y));
    }
    let seq_eq = |x: &[Val], y: &[Val]| -> R<bool> {
        if x.len() != y.len() {
            return Ok(false);
        }
        for (i, j) in x.iter().zip(y) {
            if !py_eq(i, j, line, depth + 1)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    match (a, b) {
        (Val::Opaque(d), _) | (_, Val::Opaque(d)) => opaque_err(d, line),
        (Val::View(..), _) | (_, Val::View(..)) => fail(line, "unsupported: comparing dict views"),
        (Val::None, Val::None) => Ok(true),
        (Val::Str(x), Val::Str(y)) => Ok(x.as_str() == y.as_str()),
        (Val::Date(x), Val::Date(y)) => Ok(x == y),
        (Val::DList(_) | Val::List(_), Val::DList(_) | Val::List(_)) => {
            seq_eq(&list_items(a).unwrap_or_default(), &list_items(b).unwrap_or_default())
        }
        (Val::Tuple(x), Val::Tuple(y)) => seq_eq(x, y),
        (Val::DMap(_) | Val::Dict(_), Val::DMap(_) | Val::Dict(_)) => {
            if dict_len(a) != dict_len(b) {
                return Ok(false);
            }
            for (k, v) in dict_items(a).unwrap_or_default() {
                match dict_lookup(b, &k, line, depth + 1)? {
                    Some(w) if py_eq(&v, &w, line, depth + 1)? => {}
                    _ => return Ok(false),
                }
            }
            Ok(true)
        }
        (Val::Set(x), Val::Set(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for i in x.iter() {
                if !seq_contains(y, i, line, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Val::Gen(x), Val::Gen(y)) => Ok(Rc::ptr_eq(x, y)),
        (Val::Func(x), Val::Func(y)) => Ok(Rc::ptr_eq(x, y)),
        (Val::Builtin(x), Val::Builtin(y)) => Ok(x == y),
        _ => Ok(false),
    }
}

pub(super) fn seq_contains(items: &[Val], item: &Val, line: u32, depth: u32) -> R<bool> {
    for i in items {
        if py_eq(i, item, line, depth)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `d[key]` lookup with Python's key equality (`1 == 1.0 == True`).
pub(super) fn dict_lookup<'a>(d: &Val<'a>, key: &Val, line: u32, depth: u32) -> R<Option<Val<'a>>> {
    check_hashable(key, line)?;
    match d {
        Val::DMap(m) => {
            for e in m.iter() {
                if py_eq(&from_node(&e.key), key, line, depth)? {
                    return Ok(Some(from_node(&e.value)));
                }
            }
            Ok(None)
        }
        Val::Dict(entries) => {
            for (k, v) in entries.iter() {
                if py_eq(k, key, line, depth)? {
                    return Ok(Some(v.clone()));
                }
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

pub(super) fn is_same(a: &Val, b: &Val, line: u32) -> R<bool> {
    Ok(match (a, b) {
        (Val::Opaque(d), _) | (_, Val::Opaque(d)) => return opaque_err(d, line),
        (Val::None, Val::None) => true,
        (Val::None, _) | (_, Val::None) => false,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Bool(_), _) | (_, Val::Bool(_)) => false,
        // The address of the node's Vec identifies the Python object.
        (Val::DList(x), Val::DList(y)) => std::ptr::eq(*x, *y),
        (Val::DMap(x), Val::DMap(y)) => std::ptr::eq(*x, *y),
        (Val::List(x), Val::List(y))
        | (Val::Tuple(x), Val::Tuple(y))
        | (Val::Set(x), Val::Set(y))
        | (Val::View(_, x), Val::View(_, y))
        | (Val::Gen(x), Val::Gen(y)) => Rc::ptr_eq(x, y),
        (Val::Dict(x), Val::Dict(y)) => Rc::ptr_eq(x, y),
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        (Val::Builtin(x), Val::Builtin(y)) => x == y,
        _ if type_name(a) != type_name(b) => false,
        _ => return fail(line, format!("unsupported: 'is' between two {} values depends on object identity", type_name(a))),
    })
}

pub(super) fn rich_cmp(op: CmpOp, a: &Val, b: &Val, line: u32, depth: u32) -> R<bool> {
    if depth > MAX_VALUE_DEPTH {
        return fail(line, "unsupported: values nested too deeply to compare");
    }
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return Ok(num_cmp(op, x, y));
    }
    let ord_result = |o: std::cmp::Ordering| match op {
        CmpOp::Lt => o.is_lt(),
        CmpOp::Le => o.is_le(),
        CmpOp::Gt => o.is_gt(),
        _ => o.is_ge(),
    };
    let seq_cmp = |x: &[Val], y: &[Val]| -> R<bool> {
        for (i, j) in x.iter().zip(y) {
            if !py_eq(i, j, line, depth + 1)? {
                return rich_cmp(op, i, j, line, depth + 1);
            }
        }
        Ok(ord_result(x.len().cmp(&y.len())))
    };
    match (a, b) {
        (Val::Opaque(d), _) | (_, Val::Opaque(d)) => opaque_err(d, line),
        (Val::Str(x), Val::Str(y)) => Ok(ord_result(x.as_str().cmp(y.as_str()))),
        (Val::DList(_) | Val::List(_), Val::DList(_) | Val::List(_)) => {
            seq_cmp(&list_items(a).unwrap_or_default(), &list_items(b).unwrap_or_default())
        }
        (Val::Tuple(x), Val::Tuple(y)) => seq_cmp(x, y),
        (Val::Set(_), Val::Set(_)) | (Val::Date(_), Val::Date(_)) => fail(line, format!("unsupported: ordering {} values", type_name(a))),
        _ => {
            fail(line, format!("TypeError: '{}' not supported between instances of '{}' and '{}'", op.symbol(), type_name(a), type_name(b)))
        }
    }
}

/// Items produced by iterating over `v` (`for x in v`).
pub(super) fn iterate<'a>(v: &Val<'a>, line: u32) -> R<Vec<Val<'a>>> {
    charge(1, line)?;
    Ok(match v {
        Val::DList(l) => l.iter().map(from_node).collect(),
        Val::DMap(m) => m.iter().map(|e| from_node(&e.key)).collect(),
        Val::List(x) | Val::Tuple(x) | Val::Set(x) | Val::View(_, x) | Val::Gen(x) => x.as_ref().clone(),
        Val::Dict(d) => d.iter().map(|(k, _)| k.clone()).collect(),
        Val::Str(s) => s.as_str().chars().map(|c| owned_str(c.to_string())).collect(),
        Val::Opaque(d) => return opaque_err(d, line),
        _ => return fail(line, format!("TypeError: '{}' object is not iterable", type_name(v))),
    })
}

pub(super) fn contains(container: &Val, item: &Val, line: u32) -> R<bool> {
    match container {
        Val::DMap(_) | Val::Dict(_) => Ok(dict_lookup(container, item, line, 0)?.is_some()),
        Val::Set(x) => {
            check_hashable(item, line)?;
            seq_contains(x, item, line, 0)
        }
        Val::View(ViewKind::Keys, x) => {
            check_hashable(item, line)?;
            seq_contains(x, item, line, 0)
        }
        Val::List(x) | Val::Tuple(x) | Val::View(_, x) | Val::Gen(x) => seq_contains(x, item, line, 0),
        Val::DList(l) => {
            for n in l.iter() {
                if py_eq(&from_node(n), item, line, 0)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Val::Str(s) => match item {
            Val::Str(sub) => Ok(s.as_str().contains(sub.as_str())),
            Val::Opaque(d) => opaque_err(d, line),
            _ => fail(line, format!("TypeError: 'in <string>' requires string as left operand, not {}", type_name(item))),
        },
        Val::Opaque(d) => opaque_err(d, line),
        _ => fail(line, format!("TypeError: argument of type '{}' is not iterable", type_name(container))),
    }
}

pub(super) fn py_len(v: &Val, line: u32) -> R<usize> {
    Ok(match v {
        Val::Str(s) => s.as_str().chars().count(),
        Val::DList(l) => l.len(),
        Val::DMap(m) => m.len(),
        Val::List(x) | Val::Tuple(x) | Val::Set(x) | Val::View(_, x) => x.len(),
        Val::Dict(d) => d.len(),
        Val::Opaque(d) => return opaque_err(d, line),
        _ => return fail(line, format!("TypeError: object of type '{}' has no len()", type_name(v))),
    })
}

// ---- str() / repr()

/// Python's `repr(float)`.
pub(super) fn float_repr(f: f64) -> String {
    crate::pyfmt::float_repr(f)
}

pub(super) fn str_repr(s: &str, out: &mut String) {
    crate::pyfmt::write_str_repr(out, s)
}

/// `repr()` of a date from the data: `datetime.date(2024, 1, 2)` for plain dates; other
/// timestamps keep their `str()` text.
pub(super) fn date_repr(text: &str, out: &mut String) {
    let parts: Vec<&str> = text.split('-').collect();
    let is_date = parts.len() == 3 && [4, 2, 2].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()));
    if !is_date {
        out.push_str(text);
        return;
    }
    let num = |p: &str| p.trim_start_matches('0').parse::<u32>().unwrap_or(0);
    let _ = write!(out, "datetime.date({}, {}, {})", num(parts[0]), num(parts[1]), num(parts[2]));
}

pub(super) fn repr_into(v: &Val, out: &mut String, depth: u32) {
    if depth > MAX_VALUE_DEPTH {
        out.push_str("...");
        return;
    }
    let seq = |items: &[Val], out: &mut String| {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            repr_into(item, out, depth + 1);
        }
    };
    match v {
        Val::None => out.push_str("None"),
        Val::Bool(true) => out.push_str("True"),
        Val::Bool(false) => out.push_str("False"),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Float(f) => out.push_str(&float_repr(*f)),
        Val::Str(s) => str_repr(s.as_str(), out),
        Val::Date(d) => date_repr(d, out),
        Val::DList(_) | Val::List(_) => {
            out.push('[');
            seq(&list_items(v).unwrap_or_default(), out);
            out.push(']');
        }
        Val::Tuple(x) => {
            out.push('(');
            seq(x, out);
            if x.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Val::Set(x) if x.is_empty() => out.push_str("set()"),
        Val::Set(x) => {
            out.push('{');
            seq(x, out);
            out.push('}');
        }
        Val::DMap(_) | Val::Dict(_) => {
            out.push('{');
            for (i, (k, val)) in dict_items(v).unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_into(k, out, depth + 1);
                out.push_str(": ");
                repr_into(val, out, depth + 1);
            }
            out.push('}');
        }
        Val::View(_, x) => {
            out.push_str(type_name(v));
            out.push_str("([");
            seq(x, out);
            out.push_str("])");
        }
        Val::Gen(_) => out.push_str("<generator object <genexpr>>"),
        Val::Func(c) => {
            let _ = write!(out, "<function {}>", c.def.name);
        }
        Val::Builtin(b) if TYPE_BUILTINS.contains(b) => {
            let _ = write!(out, "<class '{b}'>");
        }
        Val::Builtin(b) => {
            let _ = write!(out, "<built-in function {b}>");
        }
        Val::Opaque(d) => {
            let _ = write!(out, "<{d}>");
        }
    }
}

pub(super) fn py_repr(v: &Val) -> String {
    let mut s = String::new();
    repr_into(v, &mut s, 0);
    s
}

pub(super) fn py_str(v: &Val, line: u32) -> R<String> {
    match v {
        Val::Str(s) => Ok(s.as_str().to_string()),
        Val::Date(d) => Ok(d.to_string()),
        Val::Opaque(d) => opaque_err(d, line),
        _ => Ok(py_repr(v)),
    }
}

pub(super) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

pub(super) fn py_int(v: &Val, line: u32) -> R<Val<'static>> {
    match v {
        Val::Bool(b) => Ok(Val::Int(*b as i128)),
        Val::Int(i) => Ok(Val::Int(*i)),
        Val::Float(f) => {
            if f.is_nan() {
                fail(line, "ValueError: cannot convert float NaN to integer")
            } else if f.is_infinite() {
                fail(line, "OverflowError: cannot convert float infinity to integer")
            } else if f.abs() >= 1.7e38 {
                fail(line, "unsupported: integer too large")
            } else {
                Ok(Val::Int(f.trunc() as i128))
            }
        }
        Val::Str(s) => {
            let raw = s.as_str();
            let t = raw.trim_matches(is_py_space);
            let (neg, digits) = match t.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, t.strip_prefix('+').unwrap_or(t)),
            };
            let bad = || {
                let mut r = String::new();
                str_repr(raw, &mut r);
                fail(line, format!("ValueError: invalid literal for int() with base 10: {r}"))
            };
            if !digits.is_ascii() {
                return fail(line, "unsupported: int() of a string with non-ASCII characters");
            }
            let b = digits.as_bytes();
            if b.is_empty() || !b[0].is_ascii_digit() || !b[b.len() - 1].is_ascii_digit() {
                return bad();
            }
            if b.iter().any(|c| !c.is_ascii_digit() && *c != b'_') || digits.contains("__") {
                return bad();
            }
            let clean: String = digits.chars().filter(|c| *c != '_').collect();
            match clean.parse::<i128>() {
                Ok(i) => Ok(Val::Int(if neg { -i } else { i })),
                Err(_) => fail(line, "unsupported: integer too large"),
            }
        }
        Val::Opaque(d) => opaque_err(d, line),
        _ => {
            fail(line, format!("TypeError: int() argument must be a string, a bytes-like object or a real number, not '{}'", type_name(v)))
        }
    }
}

pub(super) fn py_float(v: &Val, line: u32) -> R<Val<'static>> {
    match v {
        Val::Bool(b) => Ok(Val::Float(*b as i128 as f64)),
        Val::Int(i) => Ok(Val::Float(*i as f64)),
        Val::Float(f) => Ok(Val::Float(*f)),
        Val::Str(s) => {
            let raw = s.as_str();
            let t = raw.trim_matches(is_py_space);
            let body = t.strip_prefix(['+', '-']).unwrap_or(t);
            let lower = body.to_ascii_lowercase();
            let special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
            let valid_chars = body.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-' | '_'));
            let underscores_ok = !body.contains('_')
                || body.split('_').all(|part| !part.is_empty())
                    && body.char_indices().filter(|(_, c)| *c == '_').all(|(i, _)| {
                        body[..i].ends_with(|c: char| c.is_ascii_digit()) && body[i + 1..].starts_with(|c: char| c.is_ascii_digit())
                    });
            let parsed = if special || (valid_chars && underscores_ok) { t.replace('_', "").parse::<f64>().ok() } else { None };
            match parsed {
                Some(f) => Ok(Val::Float(f)),
                None => {
                    let mut r = String::new();
                    str_repr(raw, &mut r);
                    fail(line, format!("ValueError: could not convert string to float: {r}"))
                }
            }
        }
        Val::Opaque(d) => opaque_err(d, line),
        _ => fail(line, format!("TypeError: float() argument must be a string or a real number, not '{}'", type_name(v))),
    }
}

// ---- operators

pub(super) fn int_overflow<T>(line: u32) -> R<T> {
    fail(line, "unsupported: integer result too large")
}

pub(super) fn repeat<'a>(items: &[Val<'a>], n: i128, line: u32) -> R<Vec<Val<'a>>> {
    let n = n.max(0);
    if items.is_empty() || n == 0 {
        return Ok(Vec::new());
    }
    if items.len() as i128 * n > MAX_SEQ_LEN {
        return fail(line, "unsupported: sequence repetition result too large");
    }
    let mut out = Vec::with_capacity(items.len() * n as usize);
    for _ in 0..n {
        out.extend(items.iter().cloned());
    }
    Ok(out)
}

pub(super) fn binop<'a>(op: BinOp, a: Val<'a>, b: Val<'a>, line: u32) -> R<Val<'a>> {
    if let (Some(x), Some(y)) = (as_num(&a), as_num(&b)) {
        return num_binop(op, x, y, line);
    }
    if let (Val::Opaque(d), _) | (_, Val::Opaque(d)) = (&a, &b) {
        return opaque_err(d, line);
    }
    let type_err =
        || fail(line, format!("TypeError: unsupported operand type(s) for {}: '{}' and '{}'", op.symbol(), type_name(&a), type_name(&b)));
    match op {
        BinOp::Add => match (&a, &b) {
            (Val::Str(x), Val::Str(y)) => {
                let mut s = String::with_capacity(x.as_str().len() + y.as_str().len());
                s.push_str(x.as_str());
                s.push_str(y.as_str());
                Ok(owned_str(s))
            }
            (Val::Str(_), _) => fail(line, format!("TypeError: can only concatenate str (not \"{}\") to str", type_name(&b))),
            (Val::DList(_) | Val::List(_), Val::DList(_) | Val::List(_)) => {
                let mut v = list_items(&a).unwrap_or_default();
                v.extend(list_items(&b).unwrap_or_default());
                Ok(Val::List(Rc::new(v)))
            }
            (Val::DList(_) | Val::List(_), _) => {
                fail(line, format!("TypeError: can only concatenate list (not \"{}\") to list", type_name(&b)))
            }
            (Val::Tuple(x), Val::Tuple(y)) => {
                let mut v = x.as_ref().clone();
                v.extend(y.iter().cloned());
                Ok(Val::Tuple(Rc::new(v)))
            }
            (Val::Tuple(_), _) => fail(line, format!("TypeError: can only concatenate tuple (not \"{}\") to tuple", type_name(&b))),
            _ => type_err(),
        },
        BinOp::Mul => {
            let (seq, n) = match (&a, &b) {
                (_, Val::Int(_) | Val::Bool(_)) => (&a, as_num(&b)),
                (Val::Int(_) | Val::Bool(_), _) => (&b, as_num(&a)),
                (Val::Str(_) | Val::List(_) | Val::DList(_) | Val::Tuple(_), _)
                | (_, Val::Str(_) | Val::List(_) | Val::DList(_) | Val::Tuple(_)) => {
                    let other = if matches!(a, Val::Str(_) | Val::List(_) | Val::DList(_) | Val::Tuple(_)) { &b } else { &a };
                    return fail(line, format!("TypeError: can't multiply sequence by non-int of type '{}'", type_name(other)));
                }
                _ => return type_err(),
            };
            let Some(Num::I(n)) = n else { return type_err() };
            match seq {
                Val::Str(s) => {
                    let s = s.as_str();
                    if s.is_empty() || n <= 0 {
                        return Ok(owned_str(""));
                    }
                    if s.len() as i128 * n > MAX_SEQ_LEN {
                        return fail(line, "unsupported: sequence repetition result too large");
                    }
                    Ok(owned_str(s.repeat(n as usize)))
                }
                Val::List(_) | Val::DList(_) => Ok(Val::List(Rc::new(repeat(&list_items(seq).unwrap_or_default(), n, line)?))),
                Val::Tuple(x) => Ok(Val::Tuple(Rc::new(repeat(x, n, line)?))),
                _ => type_err(),
            }
        }
        BinOp::Mod if matches!(a, Val::Str(_)) => fail(line, "unsupported: %-formatting of strings"),
        _ => type_err(),
    }
}

pub(super) fn num_binop<'a>(op: BinOp, x: Num, y: Num, line: u32) -> R<Val<'a>> {
    if let (Num::I(a), Num::I(b)) = (x, y) {
        return match op {
            BinOp::Add => a.checked_add(b).map(Val::Int).map_or_else(|| int_overflow(line), Ok),
            BinOp::Sub => a.checked_sub(b).map(Val::Int).map_or_else(|| int_overflow(line), Ok),
            BinOp::Mul => a.checked_mul(b).map(Val::Int).map_or_else(|| int_overflow(line), Ok),
            BinOp::Div => {
                if b == 0 {
                    fail(line, "ZeroDivisionError: division by zero")
                } else {
                    Ok(Val::Float(a as f64 / b as f64))
                }
            }
            BinOp::FloorDiv | BinOp::Mod => {
                if b == 0 {
                    return fail(
                        line,
                        if op == BinOp::Mod {
                            "ZeroDivisionError: integer modulo by zero"
                        } else {
                            "ZeroDivisionError: integer division or modulo by zero"
                        },
                    );
                }
                let (Some(q), Some(r)) = (a.checked_div(b), a.checked_rem(b)) else { return int_overflow(line) };
                let adjust = r != 0 && ((r < 0) != (b < 0));
                if op == BinOp::FloorDiv {
                    Ok(Val::Int(if adjust { q - 1 } else { q }))
                } else {
                    Ok(Val::Int(if adjust { r + b } else { r }))
                }
            }
            BinOp::Pow => {
                if b >= 0 {
                    let Ok(e) = u32::try_from(b) else { return int_overflow(line) };
                    a.checked_pow(e).map(Val::Int).map_or_else(|| int_overflow(line), Ok)
                } else if a == 0 {
                    fail(line, "ZeroDivisionError: 0.0 cannot be raised to a negative power")
                } else {
                    Ok(Val::Float((a as f64).powf(b as f64)))
                }
            }
        };
    }
    let f = |n: Num| match n {
        Num::I(i) => i as f64,
        Num::F(f) => f,
    };
    let (a, b) = (f(x), f(y));
    Ok(Val::Float(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                return fail(line, "ZeroDivisionError: float division by zero");
            }
            a / b
        }
        BinOp::FloorDiv => {
            if b == 0.0 {
                return fail(line, "ZeroDivisionError: float floor division by zero");
            }
            (a / b).floor()
        }
        BinOp::Mod => {
            if b == 0.0 {
                return fail(line, "ZeroDivisionError: float modulo");
            }
            let r = a % b;
            if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
                r + b
            } else {
                r
            }
        }
        BinOp::Pow => {
            if a == 0.0 && b < 0.0 {
                return fail(line, "ZeroDivisionError: 0.0 cannot be raised to a negative power");
            }
            if a < 0.0 && b.fract() != 0.0 {
                return fail(line, "unsupported: complex result of a power");
            }
            a.powf(b)
        }
    }))
}

// ---- subscripts

pub(super) fn subscript<'a>(obj: &Val<'a>, idx: &Val<'a>, line: u32) -> R<Val<'a>> {
    let seq_index = |len: usize, what: &str| -> R<usize> {
        let i = match idx {
            Val::Int(i) => *i,
            Val::Bool(b) => *b as i128,
            Val::Opaque(d) => return opaque_err(d, line),
            _ if what == "string" => return fail(line, format!("TypeError: string indices must be integers, not '{}'", type_name(idx))),
            _ => return fail(line, format!("TypeError: {what} indices must be integers or slices, not {}", type_name(idx))),
        };
        let adj = if i < 0 { i + len as i128 } else { i };
        if adj < 0 || adj >= len as i128 {
            return fail(line, format!("IndexError: {what} index out of range"));
        }
        Ok(adj as usize)
    };
    match obj {
        Val::DMap(_) | Val::Dict(_) => match dict_lookup(obj, idx, line, 0)? {
            Some(v) => Ok(v),
            None => fail(line, format!("KeyError: {}", py_repr(idx))),
        },
        Val::DList(l) => Ok(from_node(&l[seq_index(l.len(), "list")?])),
        Val::List(x) => Ok(x[seq_index(x.len(), "list")?].clone()),
        Val::Tuple(x) => Ok(x[seq_index(x.len(), "tuple")?].clone()),
        Val::Str(s) => {
            let s = s.as_str();
            let i = seq_index(s.chars().count(), "string")?;
            Ok(owned_str(s.chars().nth(i).map(String::from).unwrap_or_default()))
        }
        Val::Opaque(d) => opaque_err(d, line),
        _ => fail(line, format!("TypeError: '{}' object is not subscriptable", type_name(obj))),
    }
}

pub(super) fn slice_value<'a>(o: &Val<'a>, vals: [Option<Val<'a>>; 3], line: u32) -> R<Val<'a>> {
    match o {
        Val::DList(_) | Val::List(_) => {
            let items = list_items(o).unwrap_or_default();
            let idx = slice_indices(items.len(), vals, line)?;
            Ok(Val::List(Rc::new(idx.into_iter().map(|i| items[i].clone()).collect())))
        }
        Val::Tuple(items) => {
            let idx = slice_indices(items.len(), vals, line)?;
            Ok(Val::Tuple(Rc::new(idx.into_iter().map(|i| items[i].clone()).collect())))
        }
        Val::Str(s) => {
            let chars: Vec<char> = s.as_str().chars().collect();
            let idx = slice_indices(chars.len(), vals, line)?;
            Ok(owned_str(idx.into_iter().map(|i| chars[i]).collect::<String>()))
        }
        Val::DMap(_) | Val::Dict(_) => {
            // Slices are hashable since Python 3.12 (3.11 raised "unhashable type").
            let part = |v: &Option<Val>| v.as_ref().map_or_else(|| "None".to_string(), py_repr);
            fail(line, format!("KeyError: slice({}, {}, {})", part(&vals[0]), part(&vals[1]), part(&vals[2])))
        }
        Val::Opaque(d) => opaque_err(d, line),
        _ => fail(line, format!("TypeError: '{}' object is not subscriptable", type_name(o))),
    }
}

pub(super) fn slice_indices(len: usize, parts: [Option<Val>; 3], line: u32) -> R<Vec<usize>> {
    let get = |v: &Option<Val>| -> R<Option<i128>> {
        match v {
            None | Some(Val::None) => Ok(None),
            Some(Val::Int(i)) => Ok(Some(*i)),
            Some(Val::Bool(b)) => Ok(Some(*b as i128)),
            Some(_) => fail(line, "TypeError: slice indices must be integers or None or have an __index__ method"),
        }
    };
    let [start, stop, step] = parts;
    let step = get(&step)?.unwrap_or(1);
    if step == 0 {
        return fail(line, "ValueError: slice step cannot be zero");
    }
    let n = len as i128;
    let clamp = |v: Option<i128>, default: i128| -> i128 {
        match v {
            None => default,
            Some(mut v) => {
                if v < 0 {
                    v += n;
                    if v < 0 {
                        v = if step < 0 { -1 } else { 0 };
                    }
                } else if v >= n {
                    v = if step < 0 { n - 1 } else { n };
                }
                v
            }
        }
    };
    let (start, stop) =
        if step > 0 { (clamp(get(&start)?, 0), clamp(get(&stop)?, n)) } else { (clamp(get(&start)?, n - 1), clamp(get(&stop)?, -1)) };
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}

// ---- builtins

pub(super) const BUILTINS: &[&str] = &["bool", "len", "any", "all", "str", "int", "float", "list", "tuple", "dict", "set", "isinstance"];
pub(super) const TYPE_BUILTINS: &[&str] = &["bool", "str", "int", "float", "list", "tuple", "dict", "set"];
pub(super) const OTHER_BUILTINS: &[&str] = &[
    "abs",
    "aiter",
    "anext",
    "ascii",
    "bin",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "delattr",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "filter",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "issubclass",
    "iter",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "range",
    "repr",
    "reversed",
    "round",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "sum",
    "super",
    "type",
    "vars",
    "zip",
    "__import__",
    "__build_class__",
    "__file__",
    "__doc__",
    "__spec__",
    "__loader__",
    "__package__",
    "__builtins__",
    "NotImplemented",
    "Ellipsis",
    "copyright",
    "credits",
    "license",
    "exit",
    "quit",
];

pub(super) const DICT_ATTRS: &[&str] =
    &["clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"];
pub(super) const LIST_ATTRS: &[&str] =
    &["append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"];
pub(super) const STR_ATTRS: &[&str] = &[
    "capitalize",
    "casefold",
    "center",
    "count",
    "encode",
    "endswith",
    "expandtabs",
    "find",
    "format",
    "format_map",
    "index",
    "isalnum",
    "isalpha",
    "isascii",
    "isdecimal",
    "isdigit",
    "isidentifier",
    "islower",
    "isnumeric",
    "isprintable",
    "isspace",
    "istitle",
    "isupper",
    "join",
    "ljust",
    "lower",
    "lstrip",
    "maketrans",
    "partition",
    "removeprefix",
    "removesuffix",
    "replace",
    "rfind",
    "rindex",
    "rjust",
    "rpartition",
    "rsplit",
    "rstrip",
    "split",
    "splitlines",
    "startswith",
    "strip",
    "swapcase",
    "title",
    "translate",
    "upper",
    "zfill",
];
pub(super) const INT_ATTRS: &[&str] = &[
    "as_integer_ratio",
    "bit_count",
    "bit_length",
    "conjugate",
    "denominator",
    "from_bytes",
    "imag",
    "numerator",
    "real",
    "to_bytes",
    "is_integer",
    "hex",
    "fromhex",
];
pub(super) const SET_ATTRS: &[&str] = &[
    "add",
    "clear",
    "copy",
    "difference",
    "difference_update",
    "discard",
    "intersection",
    "intersection_update",
    "isdisjoint",
    "issubset",
    "issuperset",
    "pop",
    "remove",
    "symmetric_difference",
    "symmetric_difference_update",
    "union",
    "update",
];

/// The error for `obj.name` when the attribute is not one this evaluator supports.
pub(super) fn attr_error<T>(v: &Val, name: &str, line: u32) -> R<T> {
    let attrs: &[&str] = match v {
        Val::Opaque(d) => return opaque_err(&format!("{d}.{name}"), line),
        Val::None => &[],
        Val::DMap(_) | Val::Dict(_) => DICT_ATTRS,
        Val::DList(_) | Val::List(_) => LIST_ATTRS,
        Val::Tuple(_) => &["count", "index"],
        Val::Str(_) => STR_ATTRS,
        Val::Bool(_) | Val::Int(_) | Val::Float(_) => INT_ATTRS,
        Val::Set(_) => SET_ATTRS,
        Val::View(..) => &["mapping", "isdisjoint"],
        _ => return fail(line, format!("unsupported: attribute '{name}' of a {} value", type_name(v))),
    };
    if attrs.contains(&name) || name.starts_with("__") {
        fail(line, format!("unsupported: '{}.{name}'", type_name(v)))
    } else {
        fail(line, format!("AttributeError: '{}' object has no attribute '{name}'", type_name(v)))
    }
}

pub(super) fn isinstance_of(v: &Val, ty: &str) -> bool {
    match ty {
        "bool" => matches!(v, Val::Bool(_)),
        "int" => matches!(v, Val::Bool(_) | Val::Int(_)),
        "float" => matches!(v, Val::Float(_)),
        "str" => matches!(v, Val::Str(_)),
        "list" => matches!(v, Val::DList(_) | Val::List(_)),
        "dict" => matches!(v, Val::DMap(_) | Val::Dict(_)),
        "tuple" => matches!(v, Val::Tuple(_)),
        "set" => matches!(v, Val::Set(_)),
        _ => false,
    }
}

pub(super) fn dedupe<'a>(items: Vec<Val<'a>>, line: u32) -> R<Vec<Val<'a>>> {
    let mut out: Vec<Val<'a>> = Vec::new();
    for item in items {
        check_hashable(&item, line)?;
        if !seq_contains(&out, &item, line, 0)? {
            out.push(item);
        }
    }
    Ok(out)
}

pub(super) fn arity_exact(name: &str, n: usize, want: usize, line: u32) -> R<()> {
    if n == want {
        return Ok(());
    }
    if want == 1 {
        fail(line, format!("TypeError: {name}() takes exactly one argument ({n} given)"))
    } else {
        fail(line, format!("TypeError: {name} expected {want} arguments, got {n}"))
    }
}

pub(super) fn arity_max(name: &str, n: usize, max: usize, line: u32) -> R<()> {
    if n <= max {
        return Ok(());
    }
    let s = if max == 1 { "" } else { "s" };
    fail(line, format!("TypeError: {name} expected at most {max} argument{s}, got {n}"))
}

// ---------------------------------------------------------------------------------------
