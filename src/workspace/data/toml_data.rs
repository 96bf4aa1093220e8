//! TOML data files, loaded as Python's `tomllib.load` would (makejinja's `from_toml`), with
//! positions from the `toml` crate's spanned document parser (`toml::de::DeTable`).
//!
//! Table order is the document order (this needs the `toml` crate's `preserve_order`
//! feature). Datetimes become [`DataValue::Timestamp`] holding Python's `str()` of the
//! `datetime`/`date`/`time` tomllib returns (fractions truncated to microseconds as tomllib does).
//!
//! Positions: a key sits on its first character (for a dotted key or a table header, on that
//! part of the key where it first appears); a value on its first character. A table made by
//! a `[header]` or by dotted keys sits where the `toml` crate's span for it starts.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::common::LineIndex;
use super::model::{DataEntry, DataError, DataNode, DataValue, FileId, SourceLoc};

/// Loads a TOML data file. The result is always a mapping.
pub fn load_toml(text: &str, file: FileId) -> Result<DataNode, DataError> {
    let lines = LineIndex::new(text);
    let doc = DeTable::parse(text).map_err(|e| {
        let message = e.message().trim().to_string();
        match e.span() {
            Some(span) => {
                let (line, col) = lines.line_col(span.start);
                DataError::at(message, line, col)
            }
            None => DataError::new(message),
        }
    })?;
    let conv = Conv { lines: &lines, file };
    let root_loc = SourceLoc { file, line: 0, col: 0, offset: 0 };
    let entries = conv.table(doc.get_ref())?;
    Ok(DataNode::new(DataValue::Map(entries), root_loc))
}

struct Conv<'a> {
    lines: &'a LineIndex<'a>,
    file: FileId,
}

impl Conv<'_> {
    fn loc(&self, offset: usize) -> SourceLoc {
        let (line, col) = self.lines.line_col(offset);
        SourceLoc { file: self.file, line, col, offset }
    }

    fn table(&self, table: &DeTable<'_>) -> Result<Vec<DataEntry>, DataError> {
        let mut out = Vec::with_capacity(table.len());
        for (k, v) in table.iter() {
            let key = DataNode::new(DataValue::Str(k.get_ref().to_string()), self.loc(k.span().start));
            out.push(DataEntry { key, value: self.value(v)? });
        }
        Ok(out)
    }

    fn value(&self, v: &Spanned<DeValue<'_>>) -> Result<DataNode, DataError> {
        let loc = self.loc(v.span().start);
        let value = match v.get_ref() {
            DeValue::String(s) => DataValue::Str(s.to_string()),
            DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => DataValue::Int(n),
                Err(_) => return Err(DataError::at("integer out of range", loc.line, loc.col)),
            },
            DeValue::Float(f) => DataValue::Float(parse_float(f.as_str())),
            DeValue::Boolean(b) => DataValue::Bool(*b),
            DeValue::Datetime(d) => DataValue::Timestamp(datetime_text(d)),
            DeValue::Array(items) => DataValue::List(items.iter().map(|i| self.value(i)).collect::<Result<_, _>>()?),
            DeValue::Table(t) => DataValue::Map(self.table(t)?),
        };
        Ok(DataNode::new(value, loc))
    }
}

fn parse_float(s: &str) -> f64 {
    let s = s.replace('_', "");
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, &s[..]),
    };
    let v = match body {
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => body.parse().unwrap_or(f64::NAN),
    };
    if neg {
        -v
    } else {
        v
    }
}

/// Python's `str()` of the `datetime` / `date` / `time` tomllib returns.
fn datetime_text(d: &toml::value::Datetime) -> String {
    let mut out = String::new();
    if let Some(date) = &d.date {
        out.push_str(&format!("{:04}-{:02}-{:02}", date.year, date.month, date.day));
    }
    if let Some(time) = &d.time {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{:02}:{:02}:{:02}", time.hour, time.minute, time.second));
        let micros = time.nanosecond / 1000;
        if micros != 0 {
            out.push_str(&format!(".{micros:06}"));
        }
    }
    if let Some(offset) = &d.offset {
        let minutes = match offset {
            toml::value::Offset::Z => 0,
            toml::value::Offset::Custom { minutes } => *minutes as i32,
        };
        let sign = if minutes < 0 { '-' } else { '+' };
        out.push_str(&format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::pystr::py_repr;
    use super::*;

    fn repr(text: &str) -> String {
        match load_toml(text, 3) {
            Ok(n) => py_repr(&n.value),
            Err(e) => format!("ERR {e}"),
        }
    }

    // Expected values printed by Python 3.11's `repr(tomllib.loads(text))`.
    #[rustfmt::skip]
    const TOMLLIB_CASES: &[(&str, &str)] = &[
        ("title = \"x\"\na.b.c = 1\na.d = 2.5_0\n[srv]\nip = \"1.2.3.4\"\nports = [1, 2, {x = 3}]\n[srv.sub]\nk = 1979-05-27T07:32:00.123456789-07:00\n[[arr]]\nn = 1\n[[arr]]\nn = 2\n[z.y]\nq = 07:32:00\n[z]\nw = 1979-05-27\nf = [inf, -inf, nan, 1e10, 0x1F, 0o17, 0b11, +1_000, -0.0, 5e-324, 1e16]\n",
         "{'title': 'x', 'a': {'b': {'c': 1}, 'd': 2.5}, 'srv': {'ip': '1.2.3.4', 'ports': [1, 2, {'x': 3}], 'sub': {'k': datetime.datetime(1979, 5, 27, 7, 32, 0, 123456, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=61200)))}}, 'arr': [{'n': 1}, {'n': 2}], 'z': {'y': {'q': datetime.time(7, 32)}, 'w': datetime.date(1979, 5, 27), 'f': [inf, -inf, nan, 10000000000.0, 31, 15, 3, 1000, -0.0, 5e-324, 1e+16]}}"),
        ("odt1 = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00.999999-07:00\nodt3 = 1979-05-27 07:32:00+05:30\nldt = 1979-05-27T07:32:00\nldt2 = 1979-05-27T00:32:00.5\nld = 1979-05-27\nlt = 00:32:00.999999\nodt4 = 1979-05-27T07:32:00+00:00\n",
         "{'odt1': datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc), 'odt2': datetime.datetime(1979, 5, 27, 0, 32, 0, 999999, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=61200))), 'odt3': datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800))), 'ldt': datetime.datetime(1979, 5, 27, 7, 32), 'ldt2': datetime.datetime(1979, 5, 27, 0, 32, 0, 500000), 'ld': datetime.date(1979, 5, 27), 'lt': datetime.time(0, 32, 0, 999999), 'odt4': datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc)}"),
        ("\"quoted key\" = 1\n'lit' = 'C:\\path'\nml = \"\"\"\nline1\nline2\"\"\"\nmll = '''\n raw \\n'''\nesc = \"tab\\tnl\\nq\\\"u\\u00e9\\U0001F600\"\nbig = 9223372036854775807\nneg = -9223372036854775808\nbools = [true, false]\nempty = {}\nemptyarr = []\n\"ü\" = \"日本\"\n",
         "{'quoted key': 1, 'lit': 'C:\\\\path', 'ml': 'line1\\nline2', 'mll': ' raw \\\\n', 'esc': 'tab\\tnl\\nq\"ué😀', 'big': 9223372036854775807, 'neg': -9223372036854775808, 'bools': [True, False], 'empty': {}, 'emptyarr': [], 'ü': '日本'}"),
        ("", "{}"),
    ];

    #[test]
    fn tomllib_parity() {
        for (text, want) in TOMLLIB_CASES {
            assert_eq!(repr(text), *want, "{text:?}");
        }
    }

    #[test]
    fn positions_of_keys_and_values() {
        let text = "# c\n\"ü\" = \"日本\"  \nx = 1\n[srv]\nname = \"é\" # c\nports = [1, {p = 2}]\n[[arr]]\nn = 1\n";
        let root = load_toml(text, 3).unwrap();
        let at = |n: &DataNode| &text[n.loc.offset..];
        let u = root.entry("ü").unwrap();
        assert_eq!((u.key.loc.line, u.key.loc.col), (1, 0));
        assert!(at(&u.key).starts_with("\"ü\""));
        assert_eq!((u.value.loc.line, u.value.loc.col), (1, 6));
        assert!(at(&u.value).starts_with("\"日本\""));
        assert_eq!(u.value.loc.file, 3);
        let x = root.entry("x").unwrap();
        assert_eq!((x.value.loc.line, x.value.loc.col), (2, 4));
        let srv = root.entry("srv").unwrap();
        assert!(at(&srv.key).starts_with("srv]"));
        assert!(at(&srv.value).starts_with("[srv]"));
        let name = srv.value.entry("name").unwrap();
        assert_eq!((name.key.loc.line, name.key.loc.col), (4, 0));
        assert_eq!((name.value.loc.line, name.value.loc.col), (4, 7));
        let ports = srv.value.get("ports").unwrap();
        let DataValue::List(items) = &ports.value else { panic!() };
        assert!(at(&items[1]).starts_with("{p = 2}"));
        let p = items[1].entry("p").unwrap();
        assert!(at(&p.value).starts_with("2}"));
        assert_eq!((p.value.loc.line, p.value.loc.col), (5, 17));
        let DataValue::List(arr) = &root.get("arr").unwrap().value else { panic!() };
        assert!(at(&arr[0].entry("n").unwrap().value).starts_with("1\n"));
    }

    #[test]
    fn errors_have_positions() {
        let e = load_toml("a = 1\nb = \n", 0).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(!e.message.is_empty());
        let e = load_toml("a = 1\na = 2\n", 0).unwrap_err();
        assert_eq!(e.line, Some(1), "{e:?}");
        let e = load_toml("é = \"x\"\n[t\n", 0).unwrap_err();
        assert_eq!(e.line, Some(1), "{e:?}");
        let e = load_toml("x = \"unterminated\n", 0).unwrap_err();
        assert_eq!(e.line, Some(0), "{e:?}");
    }

    #[test]
    fn never_panics() {
        let text = TOMLLIB_CASES[0].0;
        for (i, _) in text.char_indices() {
            let _ = load_toml(&text[..i], 0);
        }
        let _ = load_toml(&"[".repeat(100_000), 0);
        let _ = load_toml(&format!("a = {}", "[".repeat(100_000)), 0);
        let _ = load_toml(&format!("a = {}", "{a = ".repeat(100_000)), 0);
    }
}
