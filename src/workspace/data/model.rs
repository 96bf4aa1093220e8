//! The data model shared by every data loader: a tree of values that remembers where each
//! key and value was written, so hover and go-to-definition can point at the exact spot.

use std::fmt;

/// Index of a data file in the project's `data` list (0-based, in load order).
pub type FileId = u32;

/// A position inside a data file. `line` and `col` are 0-based; `col` counts
/// Unicode scalar values (chars) from the start of the line; `offset` is a byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SourceLoc {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
    pub offset: usize,
}

/// A value as Python would hold it after `yaml.safe_load`, `tomllib.load` or `json.load`.
#[derive(Debug, Clone, PartialEq)]
pub enum DataValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// A date or datetime scalar (YAML 1.1 timestamp, TOML datetime). Kept as the text
    /// Python's `str()` would print for it.
    Timestamp(String),
    List(Vec<DataNode>),
    /// Insertion-ordered like a Python dict. Keys are unique (a later duplicate replaces
    /// the earlier value in place, keeping the first key's position in the order, as
    /// Python dict assignment does).
    Map(Vec<DataEntry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct DataEntry {
    pub key: DataNode,
    pub value: DataNode,
}

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct DataNode {
    pub value: DataValue,
    pub loc: SourceLoc,
}

impl DataNode {
    pub fn new(value: DataValue, loc: SourceLoc) -> Self {
        Self { value, loc }
    }

    /// An empty mapping, used as the root when a file holds no documents.
    pub fn empty_map(loc: SourceLoc) -> Self {
        Self::new(DataValue::Map(Vec::new()), loc)
    }

    /// Looks up a string key in a mapping.
    pub fn get(&self, key: &str) -> Option<&DataNode> {
        self.entry(key).map(|e| &e.value)
    }

    /// Looks up the whole entry (key node included) for a string key.
    pub fn entry(&self, key: &str) -> Option<&DataEntry> {
        match &self.value {
            DataValue::Map(entries) => entries.iter().find(|e| matches!(&e.key.value, DataValue::Str(k) if k == key)),
            _ => None,
        }
    }

    /// Follows a dotted path such as `bootstrap_cloudflare.domain`.
    pub fn get_path<'a>(&self, path: impl IntoIterator<Item = &'a str>) -> Option<&DataNode> {
        let mut node = self;
        for part in path {
            node = node.get(part)?;
        }
        Some(node)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            DataValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[DataEntry] {
        match &self.value {
            DataValue::Map(entries) => entries,
            _ => &[],
        }
    }

    /// Python truthiness.
    pub fn is_truthy(&self) -> bool {
        self.value.is_truthy()
    }
}

impl DataValue {
    /// Python truthiness: empty containers, 0, "", None and False are false.
    pub fn is_truthy(&self) -> bool {
        match self {
            DataValue::Null => false,
            DataValue::Bool(b) => *b,
            DataValue::Int(i) => *i != 0,
            DataValue::Float(f) => *f != 0.0,
            DataValue::Str(s) => !s.is_empty(),
            DataValue::Timestamp(_) => true,
            DataValue::List(l) => !l.is_empty(),
            DataValue::Map(m) => !m.is_empty(),
        }
    }

    /// The Python type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            DataValue::Null => "NoneType",
            DataValue::Bool(_) => "bool",
            DataValue::Int(_) => "int",
            DataValue::Float(_) => "float",
            DataValue::Str(_) => "str",
            DataValue::Timestamp(_) => "date",
            DataValue::List(_) => "list",
            DataValue::Map(_) => "dict",
        }
    }
}

/// Inserts or replaces `key` in a map's entries, Python dict style.
pub fn map_insert(entries: &mut Vec<DataEntry>, entry: DataEntry) {
    if let Some(existing) = entries.iter_mut().find(|e| e.key.value == entry.key.value) {
        existing.value = entry.value;
        existing.key.loc = entry.key.loc;
    } else {
        entries.push(entry);
    }
}

/// A data file that could not be read, with the position of the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct DataError {
    pub message: String,
    /// 0-based line and column of the problem, when known.
    pub line: Option<u32>,
    pub col: Option<u32>,
}

impl DataError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), line: None, col: None }
    }

    pub fn at(message: impl Into<String>, line: u32, col: u32) -> Self {
        Self { message: message.into(), line: Some(line), col: Some(col) }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.col) {
            (Some(l), Some(c)) => write!(f, "{}:{}: {}", l + 1, c + 1, self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DataError {}
