//! Values between the worker's JSON and minijinja. JSON's own types map directly; what JSON
//! cannot say is tagged `{"__hl__": kind, ...}` by the worker (see worker.py): big ints,
//! NaN/infinity, tuples, dicts with non-string keys, and opaque objects (kept in the worker
//! and printed with their own `str()`/`repr()`).

use crate::template::live::{PyObject, PyTuple};
use minijinja::value::{Value, ValueKind};
use serde_json::{json, Map, Value as Json};

const TAG: &str = "__hl__";

pub fn to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(u)) => Value::from(u),
            _ => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::from(items.iter().map(to_value).collect::<Vec<_>>()),
        Json::Object(map) => match map.get(TAG).and_then(Json::as_str) {
            None => Value::from_pairs(map.iter().map(|(k, v)| (Value::from(k.as_str()), to_value(v))).collect::<Vec<_>>()),
            Some(tag) => tagged(tag, map),
        },
    }
}

fn tagged(tag: &str, map: &Map<String, Json>) -> Value {
    let text = |k: &str| map.get(k).and_then(Json::as_str).unwrap_or_default().to_string();
    let items = || map.get("v").and_then(Json::as_array).cloned().unwrap_or_default();
    match tag {
        "int" => text("v").parse::<i128>().map(Value::from).unwrap_or_else(|_| opaque(&text("v"), &text("v"), Json::Null)),
        "float" => Value::from(match text("v").as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => other.parse().unwrap_or(f64::NAN),
        }),
        "tuple" => Value::from_object(PyTuple(items().iter().map(to_value).collect())),
        "list" => Value::from(items().iter().map(to_value).collect::<Vec<_>>()),
        "dict" => Value::from_pairs(items().iter().filter_map(|kv| Some((to_value(kv.get(0)?), to_value(kv.get(1)?)))).collect::<Vec<_>>()),
        _ => opaque(&text("str"), &text("repr"), Json::Object(map.clone())),
    }
}

fn opaque(str: &str, repr: &str, handle: Json) -> Value {
    Value::from_object(PyObject { str: str.to_string(), repr: repr.to_string(), handle })
}

/// A template value as the worker reads it back.
pub fn to_json(v: &Value) -> Json {
    to_json_depth(v, 0)
}

fn to_json_depth(v: &Value, depth: usize) -> Json {
    if depth > 64 {
        return Json::Null;
    }
    if let Some(o) = v.downcast_object_ref::<PyObject>() {
        return o.handle.clone();
    }
    if let Some(t) = v.downcast_object_ref::<PyTuple>() {
        return json!({TAG: "tuple", "v": t.0.iter().map(|x| to_json_depth(x, depth + 1)).collect::<Vec<_>>()});
    }
    match v.kind() {
        ValueKind::Undefined => json!({TAG: "undefined"}),
        ValueKind::None => Json::Null,
        ValueKind::Bool => Json::Bool(v.is_true()),
        ValueKind::Number => {
            if let Ok(i) = i64::try_from(v.clone()) {
                Json::from(i)
            } else if v.is_integer() {
                json!({TAG: "int", "v": v.to_string()})
            } else {
                let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
                if f.is_finite() {
                    Json::from(f)
                } else {
                    json!({TAG: "float", "v": if f.is_nan() { "nan".to_string() } else if f > 0.0 { "inf".into() } else { "-inf".into() }})
                }
            }
        }
        ValueKind::String => Json::String(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Bytes => Json::String(String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned()),
        ValueKind::Seq | ValueKind::Iterable => {
            Json::Array(v.try_iter().map(|it| it.map(|x| to_json_depth(&x, depth + 1)).collect()).unwrap_or_default())
        }
        ValueKind::Map => {
            let keys: Vec<Value> = v.try_iter().map(|it| it.collect()).unwrap_or_default();
            if keys.iter().all(|k| k.as_str().is_some_and(|s| s != TAG)) {
                let mut m = Map::new();
                for k in keys {
                    let val = v.get_item(&k).unwrap_or_default();
                    m.insert(k.as_str().unwrap_or_default().to_string(), to_json_depth(&val, depth + 1));
                }
                Json::Object(m)
            } else {
                let pairs: Vec<Json> = keys
                    .iter()
                    .map(|k| json!([to_json_depth(k, depth + 1), to_json_depth(&v.get_item(k).unwrap_or_default(), depth + 1)]))
                    .collect();
                json!({TAG: "dict", "v": pairs})
            }
        }
        _ => Json::String(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::pyvalue::py_str;

    #[test]
    fn tagged_values_print_like_python() {
        let j: Json = serde_json::from_str(
            r#"{"t": {"__hl__": "tuple", "v": [1, "x"]}, "one": {"__hl__": "tuple", "v": [1]},
                "ip": {"__hl__": "obj", "id": 0, "g": 1, "str": "10.0.0.1", "repr": "IPv4Address('10.0.0.1')"},
                "big": {"__hl__": "int", "v": "123456789012345678901234"}, "f": 1.0,
                "d": {"__hl__": "dict", "v": [[1, "a"]]}}"#,
        )
        .unwrap();
        let v = to_value(&j);
        assert_eq!(py_str(&v.get_attr("t").unwrap()), "(1, 'x')");
        assert_eq!(py_str(&v.get_attr("one").unwrap()), "(1,)");
        assert_eq!(py_str(&v.get_attr("ip").unwrap()), "10.0.0.1");
        assert_eq!(py_str(&Value::from(vec![v.get_attr("ip").unwrap()])), "[IPv4Address('10.0.0.1')]");
        assert_eq!(py_str(&v.get_attr("big").unwrap()), "123456789012345678901234");
        assert_eq!(py_str(&v.get_attr("f").unwrap()), "1.0");
        assert_eq!(py_str(&v.get_attr("d").unwrap()), "{1: 'a'}");
    }

    #[test]
    fn round_trip_keeps_objects_and_shapes() {
        let j: Json = serde_json::from_str(
            r#"[{"__hl__": "obj", "id": 3, "g": 2, "str": "s", "repr": "r"}, {"__hl__": "tuple", "v": [1]}, {"a": [true, null]}]"#,
        )
        .unwrap();
        let back = to_json(&to_value(&j));
        assert_eq!(back[0]["id"], 3);
        assert_eq!(back[1], json!({"__hl__": "tuple", "v": [1]}));
        assert_eq!(back[2], json!({"a": [true, null]}));
        assert_eq!(to_json(&Value::UNDEFINED), json!({"__hl__": "undefined"}));
    }
}
