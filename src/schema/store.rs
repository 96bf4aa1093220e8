//! Compiled schemas by URL, each compiled once. In the server, a schema that is not loaded
//! yet is [`Entry::Pending`]: one worker thread fetches and compiles it and then calls back
//! (the server re-checks and republishes), so no request ever waits on the network. The
//! CLI loads on first use instead ([`Mode::Blocking`]), which is fine off a request path.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::fetch::{Fetched, Source};

/// One loaded schema.
pub struct Compiled {
    pub url: String,
    /// The root document (after the Kubernetes adjustments of [`adjust_kubernetes`]).
    pub root: Arc<Value>,
    /// Every document the root reaches through remote `$ref`s, by URL (for hover/completion).
    pub docs: HashMap<String, Arc<Value>>,
    /// The whole schema compiled: at load time in the server (the worker pays once, each
    /// keystroke then only validates), on first need in `check` when `per_document`.
    whole: OnceLock<Result<jsonschema::Validator, String>>,
    /// Validate each document with the schema cut to what it reaches ([`super::prune`]):
    /// `check` on a reference-free schema, where compiling a 2 MB CRD schema for a few
    /// documents costs far more than compiling each document's few dozen nodes.
    per_document: bool,
    /// Nodes of `root`: what compiling it whole is predicted to cost.
    nodes: usize,
    /// Time spent so far compiling cut schemas of this one, in nanoseconds.
    cut_nanos: AtomicU64,
}

/// What compiling one schema node whole costs, about (measured on CRD schemas, release
/// build: 1–5 µs, more with big patterns); the upper end, so that whole compiles are
/// predicted dear and cutting goes on a little longer rather than too short.
const WHOLE_NANOS_PER_NODE: u64 = 5_000;

/// The validator for one document: the whole schema's, or one compiled for it alone.
pub enum DocValidator<'a> {
    Whole(&'a jsonschema::Validator),
    Cut(jsonschema::Validator),
}

impl std::ops::Deref for DocValidator<'_> {
    type Target = jsonschema::Validator;
    fn deref(&self) -> &jsonschema::Validator {
        match self {
            DocValidator::Whole(v) => v,
            DocValidator::Cut(v) => v,
        }
    }
}

impl Compiled {
    /// The validator for `instance`, or why the schema cannot be used (the same message as
    /// [`Entry::Broken`] gives when the schema is compiled whole at load time).
    ///
    /// Both give the same findings, so which one a document gets is only a matter of cost,
    /// decided as in ski rental: documents get cut schemas until the time spent on them
    /// reaches what compiling the whole schema is predicted to cost, then the whole one
    /// (a Kustomization schema shared by 250 documents is compiled whole once; a 2 MB
    /// schema used by two documents never is). At most about twice the cheaper choice.
    pub fn validator_for(&self, instance: &Value) -> Result<DocValidator<'_>, String> {
        if self.per_document {
            let budget = self.nodes as u64 * WHOLE_NANOS_PER_NODE;
            if self.cut_nanos.load(Ordering::Relaxed) >= budget {
                if let Ok(v) = self.whole() {
                    return Ok(DocValidator::Whole(v));
                }
                // The whole schema does not compile: go on cutting (the parts this
                // document reaches may), as every document before this one got.
            }
            let start = std::time::Instant::now();
            let built = build_plain(&self.url, &super::prune::for_instance(&self.root, instance));
            self.cut_nanos.fetch_add(start.elapsed().as_nanos().min(u64::MAX as u128) as u64, Ordering::Relaxed);
            if let Ok(v) = built {
                return Ok(DocValidator::Cut(v));
            }
            // Cutting removes only; let the whole schema say what is wrong with it.
        }
        self.whole().map(DocValidator::Whole)
    }

    /// The whole schema compiled, or why it cannot be.
    pub fn whole(&self) -> Result<&jsonschema::Validator, String> {
        self.whole.get_or_init(|| build_plain(&self.url, &self.root)).as_ref().map_err(Clone::clone)
    }
}

/// The draft meta-schemas, prepared once: compiling against them saves each per-document
/// compile from preparing its own registry (a third of the time of a small compile).
fn meta_registry() -> Option<&'static jsonschema::Registry<'static>> {
    static REGISTRY: std::sync::LazyLock<Option<jsonschema::Registry<'static>>> =
        std::sync::LazyLock::new(|| jsonschema::Registry::new().retrieve_known_draft_meta_schemas(true).prepare().ok());
    REGISTRY.as_ref()
}

/// Compiles a schema without remote documents (reference-free: nothing to retrieve).
fn build_plain(url: &str, schema: &Value) -> Result<jsonschema::Validator, String> {
    let options = match meta_registry() {
        Some(r) => jsonschema::options().with_registry(r),
        None => jsonschema::options(),
    };
    options
        .with_base_uri(url.to_string())
        .should_validate_formats(false)
        .build(schema)
        .map_err(|e| format!("the schema {url} cannot be used: {e}"))
}

/// The state of one URL.
#[derive(Clone)]
pub enum Entry {
    Ready(Arc<Compiled>),
    /// 404, or a `file://` path that does not exist: no schema, silently.
    Missing,
    /// The document is not a usable schema (bad JSON, a bad `$ref`, …): said once.
    Broken(String),
    /// Could not be fetched (offline without a cached copy, timeout, too large).
    Unavailable(String),
    /// Being fetched in the background.
    Pending,
}

/// How [`Store::get`] behaves for a URL it has not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Load now (the CLI).
    Blocking,
    /// Queue it for the worker and answer `Pending` (the server).
    Background,
}

type Callback = Arc<dyn Fn(&str) + Send + Sync>;

/// Compiled schemas, shared by every project of a server or a `check` run.
pub struct Store {
    source: Arc<dyn Source>,
    mode: Mode,
    entries: Mutex<HashMap<String, Arc<OnceLock<Entry>>>>,
    queued: Mutex<HashSet<String>>,
    worker: Mutex<Option<std::sync::mpsc::Sender<String>>>,
    on_ready: Mutex<Option<Callback>>,
}

impl Store {
    pub fn new(source: Arc<dyn Source>, mode: Mode) -> Arc<Store> {
        Arc::new(Store {
            source,
            mode,
            entries: Mutex::new(HashMap::new()),
            queued: Mutex::new(HashSet::new()),
            worker: Mutex::new(None),
            on_ready: Mutex::new(None),
        })
    }

    /// Called with the URL after a background load found a schema (usable or broken).
    pub fn set_on_ready(&self, f: impl Fn(&str) + Send + Sync + 'static) {
        *lock(&self.on_ready) = Some(Arc::new(f));
    }

    fn cell(&self, url: &str) -> Arc<OnceLock<Entry>> {
        lock(&self.entries).entry(url.to_string()).or_default().clone()
    }

    /// The schema at `url` as far as it is known now.
    pub fn get(self: &Arc<Self>, url: &str) -> Entry {
        let cell = self.cell(url);
        if let Some(e) = cell.get() {
            return e.clone();
        }
        match self.mode {
            Mode::Blocking => cell.get_or_init(|| load(&self.source, url, Mode::Blocking)).clone(),
            Mode::Background => {
                self.enqueue(url);
                Entry::Pending
            }
        }
    }

    /// Loads `url` now whatever the mode (`schemas pull`, tests).
    pub fn load_now(&self, url: &str) -> Entry {
        self.cell(url).get_or_init(|| load(&self.source, url, self.mode)).clone()
    }

    /// Forgets everything (settings changed: other mirrors, cache, offline).
    pub fn clear(&self) {
        lock(&self.entries).clear();
        lock(&self.queued).clear();
    }

    /// Every URL whose load failed, with why (for `check`'s stderr and the server log).
    pub fn unavailable(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = lock(&self.entries)
            .iter()
            .filter_map(|(u, c)| match c.get() {
                Some(Entry::Unavailable(why)) => Some((u.clone(), why.clone())),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }

    fn enqueue(self: &Arc<Self>, url: &str) {
        if !lock(&self.queued).insert(url.to_string()) {
            return;
        }
        let mut worker = lock(&self.worker);
        if worker.is_none() {
            let (tx, rx) = std::sync::mpsc::channel::<String>();
            let weak = Arc::downgrade(self);
            let spawned = std::thread::Builder::new().name("schema-fetch".into()).spawn(move || {
                while let Ok(url) = rx.recv() {
                    let Some(store) = weak.upgrade() else { break };
                    let entry = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load(&store.source, &url, Mode::Background)))
                        .unwrap_or_else(|_| Entry::Broken("internal error while loading the schema".into()));
                    // No schema (404) or none to be had: nothing to re-check.
                    let changes = matches!(entry, Entry::Ready(_) | Entry::Broken(_));
                    let _ = store.cell(&url).set(entry);
                    lock(&store.queued).remove(&url);
                    let cb = lock(&store.on_ready).clone();
                    if let (Some(cb), true) = (cb, changes) {
                        cb(&url);
                    }
                }
            });
            if spawned.is_err() {
                return;
            }
            *worker = Some(tx);
        }
        if let Some(tx) = worker.as_ref() {
            let _ = tx.send(url.to_string());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resolves remote `$ref`s through the same [`Source`] (mirrors, cache, offline), keeping
/// what it read for hover and completion.
struct Retriever {
    source: Arc<dyn Source>,
    docs: Arc<Mutex<HashMap<String, Arc<Value>>>>,
}

impl jsonschema::Retrieve for Retriever {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let url = uri.as_str();
        let url = url.split('#').next().unwrap_or(url);
        match self.source.get(url)? {
            Fetched::Body(bytes) => {
                let mut v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{url} is not JSON: {e}"))?;
                adjust_kubernetes(&mut v, 0);
                lock(&self.docs).insert(url.to_string(), Arc::new(v.clone()));
                Ok(v)
            }
            Fetched::NotFound => Err(format!("{url} was not found").into()),
        }
    }
}

/// At most this many documents behind one schema's remote `$ref`s.
const MAX_DOCS: usize = 256;

/// Fetches and compiles one schema. Every document its `$ref`s reach is fetched first
/// (wherever the `$ref` sits: the bjw-s common schemas keep definitions under plain keys
/// the validator does not crawl), so compiling never waits on a retrieval it cannot do.
fn load(source: &Arc<dyn Source>, url: &str, mode: Mode) -> Entry {
    let bytes = match source.get(url) {
        Ok(Fetched::Body(b)) => b,
        Ok(Fetched::NotFound) => return Entry::Missing,
        Err(e) => return Entry::Unavailable(e),
    };
    let mut root: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return Entry::Broken(format!("the schema {url} is not valid JSON: {e}")),
    };
    if !(root.is_object() || root.is_boolean()) {
        return Entry::Broken(format!("the schema {url} is not a JSON object"));
    }
    adjust_kubernetes(&mut root, 0);
    let root = Arc::new(root);
    let docs = match fetch_refs(source, url, &root) {
        Ok(d) => d,
        Err(e) => return Entry::Broken(e),
    };
    if mode == Mode::Blocking && docs.is_empty() && super::prune::cuttable(&root) {
        let nodes = super::prune::nodes(&root);
        return Entry::Ready(Arc::new(Compiled {
            url: url.to_string(),
            root,
            docs,
            whole: OnceLock::new(),
            per_document: true,
            nodes,
            cut_nanos: AtomicU64::new(0),
        }));
    }
    let registry = jsonschema::Registry::new()
        .retriever(Retriever { source: source.clone(), docs: Arc::new(Mutex::new(HashMap::new())) })
        .extend(docs.iter().map(|(u, v)| (u.as_str(), jsonschema::Resource::from_contents((**v).clone()))))
        .and_then(|b| b.prepare());
    let registry = match registry {
        Ok(r) => r,
        Err(e) => return Entry::Broken(format!("the schema {url} cannot be used: {e}")),
    };
    let built = jsonschema::options().with_registry(&registry).with_base_uri(url.to_string()).should_validate_formats(false).build(&root);
    match built {
        Ok(validator) => Entry::Ready(Arc::new(Compiled {
            url: url.to_string(),
            root,
            docs,
            whole: OnceLock::from(Ok(validator)),
            per_document: false,
            nodes: 0,
            cut_nanos: AtomicU64::new(0),
        })),
        Err(e) => Entry::Broken(format!("the schema {url} cannot be used: {e}")),
    }
}

/// Every document reachable from `root` through `$ref`s to other documents, by URL.
fn fetch_refs(source: &Arc<dyn Source>, url: &str, root: &Arc<Value>) -> Result<HashMap<String, Arc<Value>>, String> {
    let mut docs: HashMap<String, Arc<Value>> = HashMap::new();
    let mut queue = vec![(url.to_string(), root.clone())];
    let mut seen: HashSet<String> = HashSet::from([url.to_string()]);
    while let Some((doc_url, doc)) = queue.pop() {
        let base = doc.get("$id").and_then(Value::as_str).filter(|i| i.contains("://")).unwrap_or(&doc_url).to_string();
        if base != doc_url && base != url {
            // Its `$id` is another name for the same document.
            seen.insert(base.clone());
        }
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs, 0);
        for r in refs {
            let part = r.split('#').next().unwrap_or("");
            if part.is_empty() {
                continue;
            }
            let target = super::navigate::join_url(&base, part);
            if !seen.insert(target.clone()) {
                continue;
            }
            if docs.len() >= MAX_DOCS {
                return Err(format!("the schema {url} reaches more than {MAX_DOCS} documents through $ref"));
            }
            let bytes = match source.get(&target) {
                Ok(Fetched::Body(b)) => b,
                Ok(Fetched::NotFound) => return Err(format!("the schema {url} refers to {target}, which does not exist")),
                Err(e) => return Err(format!("the schema {url} refers to {target}: {e}")),
            };
            let mut v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{target} (a $ref of {url}) is not valid JSON: {e}"))?;
            adjust_kubernetes(&mut v, 0);
            let v = Arc::new(v);
            docs.insert(target.clone(), v.clone());
            queue.push((target, v));
        }
    }
    Ok(docs)
}

fn collect_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>, depth: usize) {
    if depth > 256 {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => collect_refs(child, out, depth + 1),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|c| collect_refs(c, out, depth + 1)),
        _ => {}
    }
}

/// What the API server does that plain JSON Schema does not say: a node marked
/// `x-kubernetes-preserve-unknown-fields` keeps any field, whatever `additionalProperties`
/// says; `x-kubernetes-int-or-string` takes both (schemas converted from CRDs usually spell
/// the `anyOf` out already).
pub(crate) fn adjust_kubernetes(v: &mut Value, depth: usize) {
    if depth > 256 {
        return;
    }
    match v {
        Value::Object(map) => {
            if map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
                && map.get("additionalProperties") == Some(&Value::Bool(false))
            {
                map.remove("additionalProperties");
            }
            if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) && !map.contains_key("anyOf") && !map.contains_key("oneOf")
            {
                map.remove("type");
                map.insert("anyOf".into(), serde_json::json!([{"type": "integer"}, {"type": "string"}]));
            }
            for (_, child) in map.iter_mut() {
                adjust_kubernetes(child, depth + 1);
            }
        }
        Value::Array(items) => {
            for child in items {
                adjust_kubernetes(child, depth + 1);
            }
        }
        _ => {}
    }
}
