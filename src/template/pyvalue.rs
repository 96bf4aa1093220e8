//! Python's `str()` and `repr()` of minijinja values.
//!
//! Jinja2 prints `#{ x }#` with `str(x)`: `True`, `None`, `['a', 'b']`, `{'k': 'v'}`.
//! minijinja would print `true`, `none`, `["a", "b"]`; makejinja output must match Python.

use minijinja::value::{Value, ValueKind};
use std::fmt::Write;

/// `str(value)` as Python prints it. Undefined prints as the empty string.
pub fn py_str(value: &Value) -> String {
    let mut out = String::new();
    write_str(&mut out, value);
    out
}

/// `repr(value)` as Python prints it.
pub fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value, 0);
    out
}

pub fn write_str(out: &mut String, value: &Value) {
    if let Some(o) = value.downcast_object_ref::<super::live::PyObject>() {
        out.push_str(&o.str);
        return;
    }
    match value.kind() {
        ValueKind::String => out.push_str(value.as_str().unwrap_or_default()),
        ValueKind::Undefined => {}
        _ => write_repr(out, value, 0),
    }
}

const MAX_DEPTH: usize = 64;

fn write_repr(out: &mut String, value: &Value, depth: usize) {
    // Past the text budget the caller reports an error; stop walking (a lazily repeated
    // `[[1] * 10000] * 10000` has 10⁸ items).
    if out.len() > super::budget::MAX_TEXT_BYTES {
        return;
    }
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    if write_python_object(out, value, depth) {
        return;
    }
    match value.kind() {
        ValueKind::Undefined => {}
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::Number => write_number(out, value),
        ValueKind::String => write_str_repr(out, value.as_str().unwrap_or_default()),
        ValueKind::Bytes => {
            out.push('b');
            let bytes = value.as_bytes().unwrap_or_default();
            write_str_repr(out, &String::from_utf8_lossy(bytes));
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(iter) = value.try_iter() {
                for (i, item) in iter.enumerate() {
                    if out.len() > super::budget::MAX_TEXT_BYTES {
                        break;
                    }
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item, depth + 1);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = value.try_iter() {
                for (i, key) in iter.enumerate() {
                    if out.len() > super::budget::MAX_TEXT_BYTES {
                        break;
                    }
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key, depth + 1);
                    out.push_str(": ");
                    let v = value.get_item(&key).unwrap_or_default();
                    write_repr(out, &v, depth + 1);
                }
            }
            out.push('}');
        }
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

/// Values that came from a running plugin print with Python's own `repr()`.
fn write_python_object(out: &mut String, value: &Value, depth: usize) -> bool {
    if let Some(o) = value.downcast_object_ref::<super::live::PyObject>() {
        out.push_str(&o.repr);
    } else if let Some(t) = value.downcast_object_ref::<super::live::PyTuple>() {
        out.push('(');
        for (i, item) in t.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_repr(out, item, depth + 1);
        }
        out.push_str(if t.0.len() == 1 { ",)" } else { ")" });
    } else {
        return false;
    }
    true
}

fn write_number(out: &mut String, value: &Value) {
    if value.is_integer() {
        let _ = write!(out, "{value}");
    } else if let Ok(f) = f64::try_from(value.clone()) {
        out.push_str(&float_repr(f));
    } else {
        let _ = write!(out, "{value}");
    }
}

pub use crate::pyfmt::{float_repr, write_str_repr};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_print_like_python() {
        assert_eq!(py_str(&Value::from(true)), "True");
        assert_eq!(py_str(&Value::from(())), "None");
        assert_eq!(py_str(&Value::UNDEFINED), "");
        assert_eq!(py_str(&Value::from(42)), "42");
        assert_eq!(py_str(&Value::from("x'y")), "x'y");
    }

    #[test]
    fn containers_print_like_python() {
        let v = Value::from(vec![Value::from("a"), Value::from(1), Value::from(false)]);
        assert_eq!(py_str(&v), "['a', 1, False]");
        let m = Value::from_pairs([("k", Value::from("v")), ("n", Value::from(()))]);
        assert_eq!(py_str(&m), "{'k': 'v', 'n': None}");
        assert_eq!(py_repr(&Value::from("it's")), "\"it's\"");
        assert_eq!(py_repr(&Value::from("a\nb")), "'a\\nb'");
    }

    #[test]
    fn floats_print_like_python() {
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(float_repr(1e-5), "1e-05");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(-2.5), "-2.5");
        assert_eq!(float_repr(1.5e300), "1.5e+300");
    }
}
