//! A schema cut down to what one document reaches, so `check` compiles a few dozen nodes
//! per document instead of a whole 0.1–2 MB CRD schema per process.
//!
//! The cut keeps the document's results exactly: a `properties` entry only ever applies to
//! a key the instance has, so the entries of keys no instance at that place has are
//! dropped, and the walk goes on below the kept ones with the values found there. Every
//! other keyword is kept as it is (whole, below it too) unless it is a place where a
//! subschema applies to a part of the instance that is known: the combinators and
//! conditionals (same instance), `items`/`prefixItems`/`additionalItems`/`contains`
//! (the array's elements), `additionalProperties` (every value of the instance, a
//! superset of the ones it applies to: keeping more is always safe). Only schemas without
//! any `$ref` are cut ([`cuttable`]): a JSON pointer into `properties` could name a dropped
//! entry, and remote documents are compiled whole anyway.

use serde_json::{Map, Value};

/// Deeper than this the rest of the schema is kept whole (the instance tree is no deeper
/// than the YAML tree's limit; this only bounds the recursion).
const MAX_DEPTH: usize = 128;

/// Whether `schema` has no reference of any kind (`$ref`, `$dynamicRef`, `$recursiveRef`),
/// so cutting it cannot leave a reference pointing at a dropped part.
pub fn cuttable(schema: &Value) -> bool {
    fn walk(v: &Value, depth: usize) -> bool {
        if depth > 512 {
            return false;
        }
        match v {
            Value::Object(map) => {
                map.iter().all(|(k, child)| !matches!(k.as_str(), "$ref" | "$dynamicRef" | "$recursiveRef") && walk(child, depth + 1))
            }
            Value::Array(items) => items.iter().all(|c| walk(c, depth + 1)),
            _ => true,
        }
    }
    walk(schema, 0)
}

/// How many JSON values `schema` holds (objects, arrays and scalars), bounded in depth.
pub fn nodes(schema: &Value) -> usize {
    fn walk(v: &Value, depth: usize) -> usize {
        if depth > 512 {
            return 1;
        }
        match v {
            Value::Object(map) => 1 + map.values().map(|c| walk(c, depth + 1)).sum::<usize>(),
            Value::Array(items) => 1 + items.iter().map(|c| walk(c, depth + 1)).sum::<usize>(),
            _ => 1,
        }
    }
    walk(schema, 0)
}

/// `schema` cut to what `instance` reaches.
pub fn for_instance(schema: &Value, instance: &Value) -> Value {
    cut(schema, &[instance], 0)
}

fn cut(schema: &Value, instances: &[&Value], depth: usize) -> Value {
    let Value::Object(map) = schema else { return schema.clone() };
    if depth > MAX_DEPTH {
        return schema.clone();
    }
    let mut out = Map::with_capacity(map.len());
    for (k, v) in map {
        let kept = match (k.as_str(), v) {
            ("properties", Value::Object(props)) => {
                let mut kept = Map::new();
                for (name, sub) in props {
                    let values: Vec<&Value> = instances.iter().filter_map(|i| i.as_object()?.get(name)).collect();
                    if !values.is_empty() {
                        kept.insert(name.clone(), cut(sub, &values, depth + 1));
                    }
                }
                Value::Object(kept)
            }
            ("additionalProperties", Value::Object(_)) => {
                let values: Vec<&Value> = instances.iter().filter_map(|i| i.as_object()).flat_map(|m| m.values()).collect();
                cut(v, &values, depth + 1)
            }
            ("allOf" | "anyOf" | "oneOf", Value::Array(subs)) => Value::Array(subs.iter().map(|s| cut(s, instances, depth + 1)).collect()),
            ("not" | "if" | "then" | "else", Value::Object(_)) => cut(v, instances, depth + 1),
            ("items" | "additionalItems" | "contains" | "unevaluatedItems", Value::Object(_)) => cut(v, &elements(instances, 0), depth + 1),
            ("items" | "prefixItems", Value::Array(subs)) => {
                Value::Array(subs.iter().enumerate().map(|(i, s)| cut(s, &element_at(instances, i), depth + 1)).collect())
            }
            _ => v.clone(),
        };
        out.insert(k.clone(), kept);
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
        let cut = for_instance(&schema, &instance);
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
        let cut = for_instance(&schema, &instance);
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
        assert!(cuttable(&json!({"properties": {"a": {"type": "string"}}})));
        assert!(!cuttable(&json!({"properties": {"a": {"$ref": "#/definitions/a"}}, "definitions": {"a": {}}})));
        assert!(!cuttable(&json!({"allOf": [{"$dynamicRef": "#meta"}]})));
        // A property named `$ref` counts too: conservative, never wrong.
        assert!(!cuttable(&json!({"properties": {"$ref": {}}})));
    }
}
