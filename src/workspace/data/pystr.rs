//! Python's `str()` and `repr()` of data values, for hover text and for rendering values the
//! way makejinja's Jinja (running on Python) would print them.

use super::model::{DataNode, DataValue};

/// Python `str(v)`: strings and timestamps as their text, everything else as `repr(v)`.
pub fn py_str(v: &DataValue) -> String {
    match v {
        DataValue::Str(s) => s.clone(),
        DataValue::Timestamp(t) => t.clone(),
        other => py_repr(other),
    }
}

/// Python `repr(v)`.
pub fn py_repr(v: &DataValue) -> String {
    let mut out = String::new();
    write_repr(&mut out, v);
    out
}

/// Python `repr()` of a string: quoted and escaped the way CPython does.
pub fn py_repr_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_str_repr(&mut out, s);
    out
}

/// Python `repr()` of a float (the shortest text that reads back as the same float).
pub fn py_float_repr(f: f64) -> String {
    crate::pyfmt::float_repr(f)
}

fn write_repr(out: &mut String, v: &DataValue) {
    match v {
        DataValue::Null => out.push_str("None"),
        DataValue::Bool(true) => out.push_str("True"),
        DataValue::Bool(false) => out.push_str("False"),
        DataValue::Int(i) => out.push_str(&i.to_string()),
        DataValue::Float(f) => out.push_str(&py_float_repr(*f)),
        DataValue::Str(s) => write_str_repr(out, s),
        DataValue::Timestamp(t) => out.push_str(&timestamp_repr(t)),
        DataValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_node(out, item);
            }
            out.push(']');
        }
        DataValue::Map(entries) => {
            out.push('{');
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_node(out, &e.key);
                out.push_str(": ");
                write_node(out, &e.value);
            }
            out.push('}');
        }
    }
}

fn write_node(out: &mut String, n: &DataNode) {
    write_repr(out, &n.value)
}

fn write_str_repr(out: &mut String, s: &str) {
    crate::pyfmt::write_str_repr(out, s)
}

/// Parses the `str()` text of a date / time / datetime back into its fields.
struct TsParts {
    date: Option<(u32, u32, u32)>,
    time: Option<(u32, u32, u32, u32)>,
    /// UTC offset in minutes.
    tz: Option<i32>,
}

fn parse_ts(t: &str) -> Option<TsParts> {
    fn num(s: &str, len: usize) -> Option<u32> {
        (s.len() == len && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    }
    fn time(s: &str) -> Option<(u32, u32, u32, u32)> {
        let (hms, us) = match s.split_once('.') {
            Some((a, b)) => (a, num(b, 6)?),
            None => (s, 0),
        };
        let mut it = hms.split(':');
        let h = num(it.next()?, 2)?;
        let m = num(it.next()?, 2)?;
        let sec = num(it.next()?, 2)?;
        if it.next().is_some() {
            return None;
        }
        Some((h, m, sec, us))
    }
    fn date(s: &str) -> Option<(u32, u32, u32)> {
        let mut it = s.split('-');
        let d = (num(it.next()?, 4)?, num(it.next()?, 2)?, num(it.next()?, 2)?);
        it.next().is_none().then_some(d)
    }
    match t.split_once(' ') {
        None if t.contains(':') => Some(TsParts { date: None, time: Some(time(t)?), tz: None }),
        None => Some(TsParts { date: Some(date(t)?), time: None, tz: None }),
        Some((d, rest)) => {
            let d = date(d)?;
            let (tm, tz) = match rest.rfind(['+', '-']) {
                Some(i) => {
                    let (tm, off) = rest.split_at(i);
                    let (oh, om) = off[1..].split_once(':')?;
                    let minutes = (num(oh, 2)? * 60 + num(om, 2)?) as i32;
                    (tm, Some(if off.starts_with('-') { -minutes } else { minutes }))
                }
                None => (rest, None),
            };
            Some(TsParts { date: Some(d), time: Some(time(tm)?), tz })
        }
    }
}

/// Python's `repr()` of the date/time/datetime whose `str()` is `t` (best effort: text that
/// is not such a `str()` is shown as a string).
fn timestamp_repr(t: &str) -> String {
    let Some(p) = parse_ts(t) else {
        return py_repr_str(t);
    };
    let time_args = |(h, m, s, us): (u32, u32, u32, u32)| {
        let mut v = vec![h, m, s, us];
        if v[3] == 0 {
            v.pop();
            if v[2] == 0 {
                v.pop();
            }
        }
        v
    };
    let (name, mut args) = match (p.date, p.time) {
        (Some((y, mo, d)), None) => ("date", vec![y, mo, d]),
        (None, Some(tm)) => ("time", time_args(tm)),
        (Some((y, mo, d)), Some(tm)) => {
            let mut a = vec![y, mo, d];
            a.extend(time_args(tm));
            ("datetime", a)
        }
        (None, None) => return py_repr_str(t),
    };
    if name == "datetime" && args.len() < 5 {
        args.resize(5, 0);
    }
    let mut out = format!("datetime.{name}({})", args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "));
    if let Some(minutes) = p.tz {
        out.pop();
        let secs = minutes as i64 * 60;
        let tz = if secs == 0 {
            "datetime.timezone.utc".to_string()
        } else if secs < 0 {
            format!("datetime.timezone(datetime.timedelta(days=-1, seconds={}))", 86400 + secs)
        } else {
            format!("datetime.timezone(datetime.timedelta(seconds={secs}))")
        };
        out.push_str(&format!(", tzinfo={tz})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::model::{DataEntry, SourceLoc};
    use super::*;

    fn n(v: DataValue) -> DataNode {
        DataNode::new(v, SourceLoc::default())
    }

    #[test]
    fn floats_match_python_repr() {
        // Expected values printed by CPython 3.11's repr().
        let cases: &[(f64, &str)] = &[
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.1, "0.1"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.5e300, "1.5e+300"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (2.5, "2.5"),
            (1.0 / 3.0, "0.3333333333333333"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (100.0, "100.0"),
            (12345.678, "12345.678"),
            (0.00012345, "0.00012345"),
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (685230.15, "685230.15"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float_repr(*f), *want, "{f:?}");
            assert_eq!(py_str(&DataValue::Float(*f)), *want);
        }
    }

    #[test]
    fn strings_match_python_repr() {
        assert_eq!(py_repr_str("a'b"), r#""a'b""#);
        assert_eq!(py_repr_str("a\"b"), r#"'a"b'"#);
        assert_eq!(py_repr_str("a'\"b"), r#"'a\'"b'"#);
        assert_eq!(
            py_repr_str("\x00\x7f\u{80}\u{a0}\u{ad}\u{200b}\u{2028}\u{feff}\u{1F600}\u{301}é\\\t\n\r"),
            "'\\x00\\x7f\\x80\\xa0\\xad\\u200b\\u2028\\ufeff\u{1F600}\u{301}é\\\\\\t\\n\\r'"
        );
        assert_eq!(py_repr_str(""), "''");
        assert_eq!(py_repr_str("\u{e000}"), "'\\ue000'");
        assert_eq!(py_repr_str("\u{F0000}"), "'\\U000f0000'");
        assert_eq!(py_repr_str("日本語 ok"), "'日本語 ok'");
    }

    #[test]
    fn containers_and_scalars() {
        let list = DataValue::List(vec![
            n(DataValue::Str("a".into())),
            n(DataValue::Int(1)),
            n(DataValue::Bool(true)),
            n(DataValue::Null),
            n(DataValue::Float(1.0)),
        ]);
        assert_eq!(py_repr(&list), "['a', 1, True, None, 1.0]");
        assert_eq!(py_str(&list), "['a', 1, True, None, 1.0]");
        let map = DataValue::Map(vec![
            DataEntry { key: n(DataValue::Str("k".into())), value: n(DataValue::Str("v".into())) },
            DataEntry { key: n(DataValue::Int(1)), value: n(DataValue::Null) },
            DataEntry { key: n(DataValue::Bool(false)), value: n(list.clone()) },
        ]);
        assert_eq!(py_repr(&map), "{'k': 'v', 1: None, False: ['a', 1, True, None, 1.0]}");
        assert_eq!(py_repr(&DataValue::Map(vec![])), "{}");
        assert_eq!(py_repr(&DataValue::List(vec![])), "[]");
        assert_eq!(py_str(&DataValue::Str("it's".into())), "it's");
        assert_eq!(py_repr(&DataValue::Str("it's".into())), "\"it's\"");
        assert_eq!(py_str(&DataValue::Null), "None");
        assert_eq!(py_str(&DataValue::Bool(false)), "False");
        assert_eq!(py_str(&DataValue::Int(-42)), "-42");
    }

    #[test]
    fn timestamps() {
        let ts = |s: &str| DataValue::Timestamp(s.into());
        assert_eq!(py_str(&ts("2001-12-14")), "2001-12-14");
        assert_eq!(py_repr(&ts("2001-12-14")), "datetime.date(2001, 12, 14)");
        assert_eq!(
            py_repr(&ts("2001-12-14 21:59:43.100000-05:00")),
            "datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))"
        );
        assert_eq!(
            py_repr(&ts("2001-12-14 21:59:43.100000+00:00")),
            "datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone.utc)"
        );
        assert_eq!(py_repr(&ts("2001-12-14 21:59:43")), "datetime.datetime(2001, 12, 14, 21, 59, 43)");
        assert_eq!(py_repr(&ts("2001-01-01 05:00:00")), "datetime.datetime(2001, 1, 1, 5, 0)");
        assert_eq!(
            py_repr(&ts("2001-01-01 05:00:00+05:30")),
            "datetime.datetime(2001, 1, 1, 5, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))"
        );
        assert_eq!(py_repr(&ts("07:32:00")), "datetime.time(7, 32)");
        assert_eq!(py_repr(&ts("07:32:00.000005")), "datetime.time(7, 32, 0, 5)");
        assert_eq!(py_repr(&ts("nonsense")), "'nonsense'");
        let list = DataValue::List(vec![n(ts("2001-12-14"))]);
        assert_eq!(py_str(&list), "[datetime.date(2001, 12, 14)]");
    }
}
