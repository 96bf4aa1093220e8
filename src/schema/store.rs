//! Compiled schemas by URL, each compiled once. In the server, a schema that is not loaded
//! yet is [`Entry::Pending`]: one worker thread fetches and compiles it and then calls back
//! (the server re-checks and republishes), so no request ever waits on the network. The
//! CLI loads on first use instead ([`Mode::Blocking`]), which is fine off a request path.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::fetch::{Fetched, Source};
use super::tape::Tape;

/// One loaded schema.
pub struct Compiled {
    pub url: String,
    root: Root,
    /// Every document the root reaches through remote `$ref`s, by URL (for hover/completion).
    pub docs: HashMap<String, Arc<Value>>,
    /// The whole schema compiled: at load time in the server (the worker pays once, each
    /// keystroke then only validates), on first need in `check` when kept as a tape.
    whole: OnceLock<Result<jsonschema::Validator, String>>,
}

/// A schema's root document.
enum Root {
    /// Parsed whole and adjusted ([`adjust_kubernetes`]): the server, whose hover and
    /// completion walk it, and every schema with `$ref`s.
    Parsed(Arc<Value>),
    /// `check` on a reference-free schema (every CRD schema): kept as a tape and each
    /// document validated against the schema cut to what it reaches ([`super::prune`]).
    /// Reading a 2 MB CRD schema into a `Value` for a few documents costs far more than
    /// compiling each document's few dozen nodes; it is parsed whole only when compiled whole.
    Tape {
        tape: Tape,
        parsed: OnceLock<Arc<Value>>,
        /// Values of the tape: what compiling it whole costs, in the unit of `cut_values`.
        values: u64,
        /// Values compiled so far in cut schemas of this one.
        cut_values: AtomicU64,
    },
}

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
    /// The root document, adjusted (parsed now if it was kept as a tape).
    pub fn root(&self) -> &Value {
        match &self.root {
            Root::Parsed(v) => v,
            Root::Tape { tape, parsed, .. } => parsed.get_or_init(|| {
                let mut v = tape.value(0);
                adjust_kubernetes(&mut v, 0);
                Arc::new(v)
            }),
        }
    }

    /// The schema for walking (hover, completion, descriptions in messages).
    pub fn nav(&self) -> super::navigate::Nav<'_> {
        super::navigate::Nav { url: &self.url, root: self.root(), docs: &self.docs }
    }

    /// For the messages about `instance`: the root cut to what it reaches (keeping every
    /// allowed key's description) when the schema is kept as a tape, so a finding does not
    /// parse the whole schema; None: walk [`Compiled::nav`].
    pub fn messages_root(&self, instance: &Value) -> Option<Value> {
        match &self.root {
            Root::Tape { tape, parsed, .. } if parsed.get().is_none() => {
                let mut v = super::prune::for_messages(tape, instance);
                adjust_kubernetes(&mut v, 0);
                Some(v)
            }
            _ => None,
        }
    }

    /// The validator for `instance`, or why the schema cannot be used (the same message as
    /// [`Entry::Broken`] gives when the schema is compiled whole at load time).
    ///
    /// Both give the same findings, so which one a document gets is only a matter of cost,
    /// decided as in ski rental: documents get cut schemas until those have compiled as many
    /// values as the whole schema has (compiling costs about the same per value), then the
    /// whole one (a Kustomization schema shared by 250 documents is compiled whole once; a
    /// 2 MB schema used by two documents never is). At most about twice the cheaper choice,
    /// and counted, not timed, so the same on every machine.
    pub fn validator_for(&self, instance: &Value) -> Result<DocValidator<'_>, String> {
        if let Root::Tape { tape, values, cut_values, .. } = &self.root {
            if cut_values.load(Ordering::Relaxed) >= *values {
                if let Ok(v) = self.whole() {
                    return Ok(DocValidator::Whole(v));
                }
                // The whole schema does not compile: go on cutting (the parts this
                // document reaches may), as every document before this one got.
            }
            let mut cut = super::prune::for_instance(tape, instance);
            adjust_kubernetes(&mut cut, 0);
            cut_values.fetch_add(super::prune::values(&cut) as u64, Ordering::Relaxed);
            let built = build_plain(&self.url, &cut);
            if let Ok(v) = built {
                return Ok(DocValidator::Cut(v));
            }
            // Cutting removes only; let the whole schema say what is wrong with it.
        }
        self.whole().map(DocValidator::Whole)
    }

    /// The whole schema compiled, or why it cannot be.
    pub fn whole(&self) -> Result<&jsonschema::Validator, String> {
        self.whole.get_or_init(|| build_plain(&self.url, self.root())).as_ref().map_err(Clone::clone)
    }
}

/// The draft meta-schemas, prepared once: compiling against them saves each per-document
/// compile from preparing its own registry (a third of the time of a small compile).
fn meta_registry() -> Option<&'static jsonschema::Registry<'static>> {
    static REGISTRY: std::sync::LazyLock<Option<jsonschema::Registry<'static>>> =
        std::sync::LazyLock::new(|| jsonschema::Registry::new().retrieve_known_draft_meta_schemas(true).prepare().ok());
    REGISTRY.as_ref()
}

/// Compiled `pattern`s, shared by every compile of the process: `check` compiles a
/// schema's cut once per document, and recompiling the same regexes was a third of that.
/// Schemas hold a few hundred distinct patterns at most.
fn patterns() -> jsonschema::PatternCache {
    static CACHE: std::sync::LazyLock<jsonschema::PatternCache> = std::sync::LazyLock::new(jsonschema::PatternCache::new);
    CACHE.clone()
}

/// Compiles a schema without remote documents (reference-free: nothing to retrieve).
fn build_plain(url: &str, schema: &Value) -> Result<jsonschema::Validator, String> {
    let options = match meta_registry() {
        Some(r) => jsonschema::options().with_registry(r),
        None => jsonschema::options(),
    };
    options
        .with_pattern_cache(patterns())
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
    /// Bumped by [`Store::clear`]: a background load queued before it installs nothing (it
    /// read through the old settings) and does not count in [`Store::loading`] any more.
    generation: AtomicU64,
    worker: Mutex<Option<std::sync::mpsc::Sender<(String, u64)>>>,
    on_ready: Mutex<Option<Callback>>,
}

impl Store {
    pub fn new(source: Arc<dyn Source>, mode: Mode) -> Arc<Store> {
        Arc::new(Store {
            source,
            mode,
            entries: Mutex::new(HashMap::new()),
            queued: Mutex::new(HashSet::new()),
            generation: AtomicU64::new(0),
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
        let mut entries = lock(&self.entries);
        let mut queued = lock(&self.queued);
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
        queued.clear();
    }

    /// Schemas queued or being loaded in the background (part of the server's idle signal).
    pub fn loading(&self) -> usize {
        lock(&self.queued).len()
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
        let generation = {
            let mut queued = lock(&self.queued);
            if !queued.insert(url.to_string()) {
                return;
            }
            self.generation.load(Ordering::SeqCst)
        };
        let mut worker = lock(&self.worker);
        if worker.is_none() {
            let (tx, rx) = std::sync::mpsc::channel::<(String, u64)>();
            let weak = Arc::downgrade(self);
            let spawned = std::thread::Builder::new().name("schema-fetch".into()).spawn(move || {
                while let Ok((url, generation)) = rx.recv() {
                    let Some(store) = weak.upgrade() else { break };
                    store.load_in_background(&url, generation);
                }
            });
            if spawned.is_err() {
                // Nothing will load it: it must not count as loading forever.
                lock(&self.queued).remove(url);
                return;
            }
            *worker = Some(tx);
        }
        if let Some(tx) = worker.as_ref() {
            let _ = tx.send((url.to_string(), generation));
        }
    }

    /// One load of the worker. Neither a panic in the load nor one in the callback ends the
    /// worker (every later schema would stay pending) or leaves the URL counted as loading.
    fn load_in_background(&self, url: &str, generation: u64) {
        let current = || self.generation.load(Ordering::SeqCst) == generation;
        if !current() {
            return;
        }
        let entry = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load(&self.source, url, Mode::Background)))
            .unwrap_or_else(|_| Entry::Broken("internal error while loading the schema".into()));
        // No schema (404) or none to be had: nothing to re-check.
        let changes = matches!(entry, Entry::Ready(_) | Entry::Broken(_));
        // The cell is taken under the lock `clear` holds, so a load of the old settings
        // never lands in the new map (at worst in a cell `clear` already dropped).
        let cell = {
            let mut entries = lock(&self.entries);
            current().then(|| entries.entry(url.to_string()).or_default().clone())
        };
        let Some(cell) = cell else { return };
        let _ = cell.set(entry);
        // The callback first: it queues the re-check, and only then does this load stop
        // counting in `loading`, so the server is never seen idle between the two.
        let cb = lock(&self.on_ready).clone();
        if let (Some(cb), true) = (cb, changes) {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(url)));
        }
        let mut queued = lock(&self.queued);
        if current() {
            queued.remove(url);
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
    let not_json = |e: String| Entry::Broken(format!("the schema {url} is not valid JSON: {e}"));
    let mut root: Value = if mode == Mode::Blocking {
        let tape = match Tape::parse(bytes) {
            Ok(t) => t,
            Err(e) => return not_json(e),
        };
        if !(tape.is_object(0) || tape.is_bool(0)) {
            return Entry::Broken(format!("the schema {url} is not a JSON object"));
        }
        if super::prune::cuttable(&tape) {
            return Entry::Ready(Arc::new(Compiled {
                url: url.to_string(),
                root: Root::Tape { values: tape.values() as u64, tape, parsed: OnceLock::new(), cut_values: AtomicU64::new(0) },
                docs: HashMap::new(),
                whole: OnceLock::new(),
            }));
        }
        tape.value(0)
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return not_json(e.to_string()),
        }
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
    let registry = jsonschema::Registry::new()
        .retriever(Retriever { source: source.clone(), docs: Arc::new(Mutex::new(HashMap::new())) })
        .extend(docs.iter().map(|(u, v)| (u.as_str(), jsonschema::Resource::from_contents((**v).clone()))))
        .and_then(|b| b.prepare());
    let registry = match registry {
        Ok(r) => r,
        Err(e) => return Entry::Broken(format!("the schema {url} cannot be used: {e}")),
    };
    let built = jsonschema::options()
        .with_registry(&registry)
        .with_pattern_cache(patterns())
        .with_base_uri(url.to_string())
        .should_validate_formats(false)
        .build(&root);
    match built {
        Ok(validator) => {
            Entry::Ready(Arc::new(Compiled { url: url.to_string(), root: Root::Parsed(root), docs, whole: OnceLock::from(Ok(validator)) }))
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Memory(Vec<u8>);

    impl Source for Memory {
        fn get(&self, _url: &str) -> Result<Fetched, String> {
            Ok(Fetched::Body(self.0.clone()))
        }
    }

    fn findings(mode: Mode, schema: &Value, yaml: &str) -> Vec<String> {
        let store = Store::new(Arc::new(Memory(serde_json::to_vec(schema).unwrap())), mode);
        store.load_now("https://h/s.json");
        let schemas = super::super::Schemas::new(store, &Default::default(), &Default::default(), std::path::Path::new("/r"));
        let out = schemas.validate(yaml, std::path::Path::new("/r/a.yaml"));
        assert!(!out.pending);
        out.findings.iter().map(|f| format!("{:?} {:?} {}", f.range, f.severity, f.message)).collect()
    }

    /// Answers its n-th call once the test has released n calls.
    #[derive(Default)]
    struct Gated {
        calls: std::sync::atomic::AtomicUsize,
        released: std::sync::atomic::AtomicUsize,
    }

    impl Source for Gated {
        fn get(&self, _url: &str) -> Result<Fetched, String> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            while self.released.load(Ordering::SeqCst) < n {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Ok(Fetched::Body(br#"{"type": "object"}"#.to_vec()))
        }
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !done() {
            assert!(std::time::Instant::now() < end, "timed out waiting for {what}");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// The server's idle signal counts background loads: a load begun before `clear` (other
    /// settings) neither installs its result nor ends the count of the load after it, and a
    /// panicking callback neither kills the worker nor leaves a URL counted forever.
    #[test]
    fn background_loads_are_counted_until_they_land() {
        let source = Arc::new(Gated::default());
        let store = Store::new(source.clone(), Mode::Background);
        assert!(matches!(store.get("https://h/a.json"), Entry::Pending));
        assert_eq!(store.loading(), 1);
        wait_for("the first load to start", || source.calls.load(Ordering::SeqCst) == 1);
        store.clear();
        assert_eq!(store.loading(), 0);
        assert!(matches!(store.get("https://h/a.json"), Entry::Pending));
        // The load from before `clear` ends; the one after it is in flight, still counted.
        source.released.store(1, Ordering::SeqCst);
        wait_for("the second load to start", || source.calls.load(Ordering::SeqCst) == 2);
        assert_eq!(store.loading(), 1, "the load from before `clear` ended the count of the one after it");
        assert!(matches!(store.get("https://h/a.json"), Entry::Pending), "the old load installed its result");
        source.released.store(2, Ordering::SeqCst);
        wait_for("idle", || store.loading() == 0);
        assert!(matches!(store.get("https://h/a.json"), Entry::Ready(_)));

        store.set_on_ready(|_| panic!("a callback that fails"));
        source.released.store(usize::MAX, Ordering::SeqCst);
        assert!(matches!(store.get("https://h/b.json"), Entry::Pending));
        wait_for("idle after a failing callback", || store.loading() == 0);
        assert!(matches!(store.get("https://h/c.json"), Entry::Pending));
        wait_for("idle again", || store.loading() == 0);
        assert!(matches!(store.get("https://h/c.json"), Entry::Ready(_)), "the worker survives the callback");
    }

    /// `check` keeps a reference-free schema as a tape and cuts it per document; the server
    /// parses it whole. Both must say the same, descriptions and "did you mean" included.
    #[test]
    fn a_schema_cut_per_document_says_what_the_whole_one_says() {
        let schema = json!({
            "type": "object",
            "required": ["spec"],
            "properties": {
                "kind": {"type": "string"},
                "spec": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["interval", "sourceRef"],
                    "properties": {
                        "interval": {"type": "string", "description": "How often to reconcile. More text."},
                        "sourceRef": {"description": "Where the manifests come from.", "type": "object"},
                        "suspend": {"type": "boolean", "description": "Stop reconciling."},
                        "port": {"x-kubernetes-int-or-string": true, "type": "integer"},
                        "extra": {"x-kubernetes-preserve-unknown-fields": true, "additionalProperties": false, "type": "object"},
                        "mode": {"not": {"required": ["a"], "properties": {"a": {}, "b": {"type": "string"}}}}
                    }
                },
                "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
            }
        });
        let yaml = "# yaml-language-server: $schema=https://h/s.json\nkind: X\nspec:\n  suspnd: true\n  suspend: maybe\n  port: http\n  extra: {a: 1}\n  mode: {a: 1}\n";
        let cut = findings(Mode::Blocking, &schema, yaml);
        assert_eq!(cut, findings(Mode::Background, &schema, yaml));
        let all = cut.join("\n");
        assert!(all.contains("did you mean `suspend`?"), "{all}");
        assert!(all.contains("lacks the required key `interval` — How often to reconcile."), "{all}");
        assert!(all.contains("lacks the required key `sourceRef` — Where the manifests come from."), "{all}");
        assert!(all.contains("Stop reconciling."), "{all}");
        // `not` prints its schema: the whole one, `b` included.
        assert!(all.contains(r#""b":{"type":"string"}"#), "{all}");
        assert_eq!(cut.len(), 5, "{all}");
    }
}
