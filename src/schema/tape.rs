//! A JSON document read into one flat array of nodes (a "tape") instead of a tree of maps:
//! `check` reads a 2 MB CRD schema to validate two documents against a few dozen of its
//! nodes, and building the whole `serde_json::Value` (a map, a key and a value allocated
//! per node) cost more than everything else `check` does. The tape borrows every string
//! that has no escapes from the text, and the parts a document reaches are turned into
//! `Value`s on demand ([`Tape::value`]).
//!
//! serde_json does the parsing (its grammar, UTF-8 checks, numbers and nesting limit); this
//! module only chooses what to keep.

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// One JSON value. Containers hold the index one past their last descendant; an object's
/// children alternate key ([`Node::Str`]) and value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    PosInt(u64),
    NegInt(i64),
    Float(f64),
    /// `text[start..end]`, or (`start == u32::MAX`) the decoded string `owned[end]`.
    Str {
        start: u32,
        end: u32,
    },
    Array {
        end: u32,
    },
    Object {
        end: u32,
    },
}

/// A parsed JSON text; node 0 is the root.
pub struct Tape {
    text: Box<[u8]>,
    nodes: Vec<Node>,
    /// Strings that had escapes, decoded.
    owned: Vec<Box<str>>,
}

/// The index of a node of a [`Tape`].
pub type NodeId = usize;

impl Tape {
    /// Parses `text` (the size is bounded by the fetcher; offsets are 32-bit).
    pub fn parse(text: Vec<u8>) -> Result<Tape, String> {
        if text.len() >= u32::MAX as usize {
            return Err("the document is too large".into());
        }
        let text = text.into_boxed_slice();
        let mut builder = Builder { base: text.as_ptr() as usize, len: text.len(), nodes: Vec::new(), owned: Vec::new() };
        let mut de = serde_json::Deserializer::from_slice(&text);
        (&mut builder).deserialize(&mut de).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        let Builder { nodes, owned, .. } = builder;
        Ok(Tape { text, nodes, owned })
    }

    /// How many values the document holds (objects, arrays, scalars; keys not counted).
    pub fn values(&self) -> usize {
        // Every object entry is a key node plus a value node.
        let keys: usize =
            self.nodes.iter().enumerate().filter(|(_, n)| matches!(n, Node::Object { .. })).map(|(i, _)| self.entries(i).count()).sum();
        self.nodes.len() - keys
    }

    pub fn is_object(&self, id: NodeId) -> bool {
        matches!(self.nodes[id], Node::Object { .. })
    }

    pub fn is_array(&self, id: NodeId) -> bool {
        matches!(self.nodes[id], Node::Array { .. })
    }

    pub fn is_bool(&self, id: NodeId) -> bool {
        matches!(self.nodes[id], Node::Bool(_))
    }

    /// Whether any string in the document (key or value) is one of `needles`.
    pub fn has_string(&self, needles: &[&str]) -> bool {
        // Bytes, not `str_of`: this looks at every string of a 2 MB schema.
        self.nodes.iter().any(|n| match *n {
            Node::Str { start: u32::MAX, end } => needles.contains(&&*self.owned[end as usize]),
            Node::Str { start, end } => needles.iter().any(|w| w.as_bytes() == &self.text[start as usize..end as usize]),
            _ => false,
        })
    }

    fn str_of(&self, n: &Node) -> &str {
        match *n {
            Node::Str { start: u32::MAX, end } => &self.owned[end as usize],
            // Borrowed strings are whole JSON strings of the text, which serde_json checked.
            Node::Str { start, end } => std::str::from_utf8(&self.text[start as usize..end as usize]).unwrap_or_default(),
            _ => "",
        }
    }

    /// One past the last node of `id`'s subtree.
    fn end(&self, id: NodeId) -> NodeId {
        match self.nodes[id] {
            Node::Array { end } | Node::Object { end } => end as usize,
            _ => id + 1,
        }
    }

    /// The entries of an object, in order: (key, value node).
    pub fn entries(&self, id: NodeId) -> impl Iterator<Item = (&str, NodeId)> + '_ {
        let (mut at, end) = if self.is_object(id) { (id + 1, self.end(id)) } else { (0, 0) };
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let key = self.str_of(&self.nodes[at]);
            let value = at + 1;
            at = self.end(value);
            Some((key, value))
        })
    }

    /// The elements of an array, in order.
    pub fn elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let (mut at, end) = if self.is_array(id) { (id + 1, self.end(id)) } else { (0, 0) };
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let item = at;
            at = self.end(item);
            Some(item)
        })
    }

    /// The value of `key` in an object.
    pub fn get(&self, id: NodeId, key: &str) -> Option<NodeId> {
        self.entries(id).find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The string at `id`, when it is one.
    pub fn as_str(&self, id: NodeId) -> Option<&str> {
        matches!(self.nodes[id], Node::Str { .. }).then(|| self.str_of(&self.nodes[id]))
    }

    /// The subtree at `id` as a `Value`.
    pub fn value(&self, id: NodeId) -> Value {
        // Iterative: the tape's depth is serde_json's (128), but a `Value` is built bottom-up
        // either way; recursion on 128 levels is fine.
        match self.nodes[id] {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::PosInt(n) => Value::Number(n.into()),
            Node::NegInt(n) => Value::Number(n.into()),
            Node::Float(f) => Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
            Node::Str { .. } => Value::String(self.str_of(&self.nodes[id]).to_string()),
            Node::Array { .. } => Value::Array(self.elements(id).map(|c| self.value(c)).collect()),
            Node::Object { .. } => {
                let mut map = Map::new();
                for (k, v) in self.entries(id) {
                    map.insert(k.to_string(), self.value(v));
                }
                Value::Object(map)
            }
        }
    }
}

struct Builder {
    base: usize,
    len: usize,
    nodes: Vec<Node>,
    owned: Vec<Box<str>>,
}

impl Builder {
    fn push_str(&mut self, s: &str) {
        let at = (s.as_ptr() as usize).wrapping_sub(self.base);
        let node = if at <= self.len && at + s.len() <= self.len {
            Node::Str { start: at as u32, end: (at + s.len()) as u32 }
        } else {
            self.push_owned(s.into())
        };
        self.nodes.push(node);
    }

    fn push_owned(&mut self, s: Box<str>) -> Node {
        self.owned.push(s);
        Node::Str { start: u32::MAX, end: (self.owned.len() - 1) as u32 }
    }

    fn close(&mut self, open: usize) {
        let end = self.nodes.len() as u32;
        match &mut self.nodes[open] {
            Node::Array { end: e } | Node::Object { end: e } => *e = end,
            _ => {}
        }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Builder {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// Reads one object key onto the tape.
struct Key<'a>(&'a mut Builder);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<(), E> {
        self.0.push_str(s);
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<(), E> {
        let n = self.0.push_owned(s.into());
        self.0.nodes.push(n);
        Ok(())
    }
}

impl<'de> Visitor<'de> for &mut Builder {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.nodes.push(Node::Null);
        Ok(())
    }
    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.nodes.push(Node::Bool(b));
        Ok(())
    }
    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.nodes.push(Node::PosInt(n));
        Ok(())
    }
    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.nodes.push(if n >= 0 { Node::PosInt(n as u64) } else { Node::NegInt(n) });
        Ok(())
    }
    fn visit_f64<E>(self, f: f64) -> Result<(), E> {
        self.nodes.push(Node::Float(f));
        Ok(())
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<(), E> {
        self.push_str(s);
        Ok(())
    }
    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        let n = self.push_owned(s.into());
        self.nodes.push(n);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let open = self.nodes.len();
        self.nodes.push(Node::Array { end: 0 });
        while seq.next_element_seed(&mut *self)?.is_some() {}
        self.close(open);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let open = self.nodes.len();
        self.nodes.push(Node::Object { end: 0 });
        while map.next_key_seed(Key(self))?.is_some() {
            map.next_value_seed(&mut *self)?;
        }
        if self.nodes.len() >= u32::MAX as usize {
            return Err(A::Error::custom("the document has too many values"));
        }
        self.close(open);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tape(v: &Value) -> Tape {
        Tape::parse(serde_json::to_vec(v).unwrap()).unwrap()
    }

    #[test]
    fn values_come_back_as_serde_json_reads_them() {
        let v = json!({
            "a": [1, -2, 3.5, true, null, "x\"y\\u00e9", {}],
            "b\nc": {"d": {"e": [[], [[]]]}, "f": 18446744073709551615u64, "g": -9223372036854775808i64},
            "": "plain"
        });
        let t = tape(&v);
        assert_eq!(t.value(0), v);
        assert_eq!(t.values(), 18);
        let a = t.get(0, "a").unwrap();
        assert_eq!(t.elements(a).count(), 7);
        assert_eq!(t.entries(0).map(|(k, _)| k).collect::<Vec<_>>(), ["a", "b\nc", ""]);
        assert_eq!(t.as_str(t.get(0, "").unwrap()), Some("plain"));
        assert!(t.has_string(&["b\nc"]) && !t.has_string(&["$ref"]));
    }

    #[test]
    fn broken_text_is_an_error_not_a_panic() {
        for text in ["", "{", "{\"a\": }", "[1,]", "{} {}", "\"\\ud800\"", "nul"] {
            assert!(Tape::parse(text.as_bytes().to_vec()).is_err(), "{text:?}");
        }
        // Deeper than serde_json's nesting limit.
        assert!(Tape::parse("[".repeat(10_000).into_bytes()).is_err());
        assert!(Tape::parse(b"\xff".to_vec()).is_err());
    }
}
