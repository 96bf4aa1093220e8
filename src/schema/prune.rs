//! A schema cut down to what one document reaches, so `check` compiles a few dozen nodes
//! per document instead of a whole 0.1–2 MB CRD schema per process.
//!
//! The cut keeps the document's results exactly: a `properties` entry only ever applies to
//! a key the instance has, so the entries of keys no instance at that place has are
//! dropped, and the walk goes on below the kept ones with the values found there. Every
//! other keyword is kept as it is (whole, below it too) unless it is a place where a
//! subschema applies to a part of the instance that is known: `allOf`/`anyOf`/`oneOf` and
//! `if`/`then`/`else` (same instance), `items`/`prefixItems`/`additionalItems`/`contains`
//! (the array's elements), `additionalProperties` (every value of the instance, a
//! superset of the ones it applies to: keeping more is always safe). `not` stays whole:
//! its error message prints its schema, and messages must not change. Only schemas without
//! any `$ref` are cut ([`cuttable`]): a JSON pointer into `properties` could name a dropped
//! entry, and remote documents are compiled whole anyway.

use super::tape::{NodeId, Tape};
use serde_json::{Map, Value};

/// Deeper than this the rest of the schema is kept whole (the instance tree is no deeper
/// than the YAML tree's limit; this only bounds the recursion).
const MAX_DEPTH: usize = 128;

/// Whether `schema` has no reference of any kind (`$ref`, `$dynamicRef`, `$recursiveRef`),
/// so cutting it cannot leave a reference pointing at a dropped part. Any string counts,
/// not only keys: conservative, never wrong.
pub fn cuttable(schema: &Tape) -> bool {
    !schema.has_string(&["$ref", "$dynamicRef", "$recursiveRef"])
}

/// How many values (objects, arrays, scalars) `v` holds, bounded in depth.
pub fn values(v: &Value) -> usize {
    fn walk(v: &Value, depth: usize) -> usize {
        match v {
            _ if depth > MAX_DEPTH => 1,
            Value::Object(map) => 1 + map.values().map(|c| walk(c, depth + 1)).sum::<usize>(),
            Value::Array(items) => 1 + items.iter().map(|c| walk(c, depth + 1)).sum::<usize>(),
            _ => 1,
        }
    }
    walk(v, 0)
}

/// `schema` cut to what `instance` reaches, for compiling.
pub fn for_instance(schema: &Tape, instance: &Value) -> Value {
    cut(schema, 0, &[instance], 0, Dropped::Omit)
}

/// `schema` cut to what `instance` reaches, for the messages: every `properties` entry the
/// document does not have stays as its descriptions alone, so "did you mean" sees every
/// allowed key and a missing required key is described as in the whole schema. Compiling
/// this would cost a node per allowed key, so only documents with findings get it.
pub fn for_messages(schema: &Tape, instance: &Value) -> Value {
    cut(schema, 0, &[instance], 0, Dropped::Describe)
}

/// What becomes of a `properties` entry no instance has.
#[derive(Clone, Copy, PartialEq)]
enum Dropped {
    Omit,
    Describe,
}

fn cut(t: &Tape, schema: NodeId, instances: &[&Value], depth: usize, dropped: Dropped) -> Value {
    if !t.is_object(schema) || depth > MAX_DEPTH {
        return t.value(schema);
    }
    let mut out = Map::new();
    for (k, v) in t.entries(schema) {
        let kept = match k {
            "properties" if t.is_object(v) => {
                let mut kept = Map::new();
                for (name, sub) in t.entries(v) {
                    let values: Vec<&Value> = instances.iter().filter_map(|i| i.as_object()?.get(name)).collect();
                    if !values.is_empty() {
                        kept.insert(name.to_string(), cut(t, sub, &values, depth + 1, dropped));
                    } else if dropped == Dropped::Describe {
                        kept.insert(name.to_string(), descriptions(t, sub, depth + 1));
                    }
                }
                Value::Object(kept)
            }
            "additionalProperties" if t.is_object(v) => {
                let values: Vec<&Value> = instances.iter().filter_map(|i| i.as_object()).flat_map(|m| m.values()).collect();
                cut(t, v, &values, depth + 1, dropped)
            }
            "allOf" | "anyOf" | "oneOf" if t.is_array(v) => {
                Value::Array(t.elements(v).map(|s| cut(t, s, instances, depth + 1, dropped)).collect())
            }
            // Not `not`: its error prints its schema, which must read as the whole one's.
            "if" | "then" | "else" if t.is_object(v) => cut(t, v, instances, depth + 1, dropped),
            "items" | "additionalItems" | "contains" | "unevaluatedItems" if t.is_object(v) => {
                cut(t, v, &elements(instances, 0), depth + 1, dropped)
            }
            "items" | "prefixItems" if t.is_array(v) => {
                Value::Array(t.elements(v).enumerate().map(|(i, s)| cut(t, s, &element_at(instances, i), depth + 1, dropped)).collect())
            }
            _ => t.value(v),
        };
        out.insert(k.to_string(), kept);
    }
    Value::Object(out)
}

/// A subschema reduced to what [`super::navigate::description`] reads: its description and
/// those of its combinators' members.
fn descriptions(t: &Tape, schema: NodeId, depth: usize) -> Value {
    let mut out = Map::new();
    if !t.is_object(schema) || depth > MAX_DEPTH {
        return Value::Object(out);
    }
    for (k, v) in t.entries(schema) {
        match k {
            "description" => {
                out.insert(k.to_string(), t.value(v));
            }
            "allOf" | "anyOf" | "oneOf" if t.is_array(v) => {
                out.insert(k.to_string(), Value::Array(t.elements(v).map(|s| descriptions(t, s, depth + 1)).collect()));
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// Every element of every array instance from index `from` on.
fn elements<'a>(instances: &[&'a Value], from: usize) -> Vec<&'a Value> {
    instances.iter().filter_map(|i| i.as_array()).flat_map(|a| a.iter().skip(from)).collect()
}

fn element_at<'a>(instances: &[&'a Value], index: usize) -> Vec<&'a Value> {
    instances.iter().filter_map(|i| i.as_array()?.get(index)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tape(v: &Value) -> Tape {
        Tape::parse(serde_json::to_vec(v).unwrap()).unwrap()
    }

    fn errors(schema: &Value, instance: &Value) -> Vec<String> {
        let v = jsonschema::options().should_validate_formats(false).build(schema).unwrap();
        v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path().as_str())).collect()
    }

    #[test]
    fn drops_the_properties_the_document_does_not_have() {
        let schema = json!({
            "type": "object",
            "required": ["spec"],
            "properties": {
                "spec": {"type": "object", "additionalProperties": false, "properties": {
                    "a": {"type": "integer"}, "b": {"type": "string", "description": "big"}
                }},
                "status": {"type": "object", "properties": {"x": {"type": "string"}}}
            }
        });
        let instance = json!({"spec": {"a": "no", "c": 1}});
        let cut = for_instance(&tape(&schema), &instance);
        assert_eq!(
            cut,
            json!({
                "type": "object",
                "required": ["spec"],
                "properties": {"spec": {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "integer"}}}}
            })
        );
        assert_eq!(errors(&cut, &instance), errors(&schema, &instance));
        assert_eq!(errors(&cut, &instance).len(), 2);
    }

    #[test]
    fn follows_arrays_combinators_and_maps() {
        let schema = json!({"properties": {
            "list": {"type": "array", "items": {"properties": {"n": {"type": "integer"}, "m": {"type": "string"}}}},
            "pair": {"prefixItems": [{"type": "string"}, {"properties": {"k": {"enum": [1]}, "unused": {}}}]},
            "one": {"oneOf": [{"properties": {"a": {"type": "string"}, "z": {}}, "required": ["a"]}, {"required": ["b"]}]},
            "map": {"additionalProperties": {"properties": {"v": {"type": "boolean"}, "w": {}}}}
        }});
        let instance = json!({
            "list": [{"n": 1}, {"n": "x"}],
            "pair": ["s", {"k": 2}],
            "one": {"a": 1},
            "map": {"first": {"v": 3}}
        });
        let cut = for_instance(&tape(&schema), &instance);
        assert_eq!(cut["properties"]["list"]["items"]["properties"], json!({"n": {"type": "integer"}}));
        assert_eq!(cut["properties"]["pair"]["prefixItems"][1]["properties"], json!({"k": {"enum": [1]}}));
        assert_eq!(cut["properties"]["one"]["oneOf"][0]["properties"], json!({"a": {"type": "string"}}));
        assert_eq!(cut["properties"]["map"]["additionalProperties"]["properties"], json!({"v": {"type": "boolean"}}));
        let (full, short) = (errors(&schema, &instance), errors(&cut, &instance));
        assert_eq!(full, short);
        assert_eq!(full.len(), 4, "{full:?}");
    }

    #[test]
    fn only_reference_free_schemas_are_cut() {
        assert!(cuttable(&tape(&json!({"properties": {"a": {"type": "string"}}}))));
        assert!(!cuttable(&tape(&json!({"properties": {"a": {"$ref": "#/definitions/a"}}, "definitions": {"a": {}}}))));
        assert!(!cuttable(&tape(&json!({"allOf": [{"$dynamicRef": "#meta"}]}))));
        // A property named `$ref` counts too: conservative, never wrong.
        assert!(!cuttable(&tape(&json!({"properties": {"$ref": {}}}))));
    }
}
