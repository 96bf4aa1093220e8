//! A small JSON-RPC client that drives the real `homelab-lsp` binary over stdio.
//!
//! Content-Length framing over the child's stdin/stdout; a reader thread sorts what the
//! server sends into responses (matched by id), notifications (kept in arrival order) and
//! server→client requests, which it answers at once (`window/workDoneProgress/create`,
//! `client/registerCapability`, `workspace/configuration`). Every wait has a timeout, so a
//! hung server fails the test instead of hanging it. Dropping the client sends
//! `shutdown` + `exit` and kills the child if it does not exit.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a request may take before the test fails (debug build, shared machine).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long startup indexing may take.
pub const INDEX_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Default)]
struct Inbox {
    responses: HashMap<i64, Value>,
    notifications: Vec<Value>,
    server_requests: Vec<Value>,
    /// The server's stdout closed (it exited or crashed).
    closed: bool,
}

type Shared = Arc<(Mutex<Inbox>, Condvar)>;

/// What the client tells the server at `initialize`.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Workspace folders (absolute paths).
    pub folders: Vec<PathBuf>,
    pub initialization_options: Option<Value>,
    /// The answer to each `workspace/configuration` item (`None` → `null`).
    pub configuration: Option<Value>,
    /// Offer UTF-8 positions (the server then uses them); default UTF-16 only.
    pub utf8: bool,
    /// Extra arguments for the binary (none = LSP on stdio).
    pub args: Vec<String>,
    /// A bare client: declares no capabilities and never answers server→client requests.
    pub minimal: bool,
    /// Environment variables for the server process.
    pub env: Vec<(String, String)>,
    /// The action a `window/showMessageRequest` is answered with (`None` → dismissed).
    pub message_action: Option<String>,
}

pub struct Client {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    shared: Shared,
    next_id: i64,
    stderr: Arc<Mutex<String>>,
    /// `$/progress` end notifications seen so far that the tests consumed.
    progress_ends_seen: usize,
    pub initialize_result: Value,
}

fn write_message(stdin: &Mutex<ChildStdin>, msg: &Value) -> std::io::Result<()> {
    let body = serde_json::to_string(msg).expect("serialize");
    let mut w = stdin.lock().unwrap_or_else(|e| e.into_inner());
    write!(w, "Content-Length: {}\r\n\r\n{}", body.len(), body)?;
    w.flush()
}

/// Reads one framed message; `None` at end of stream.
fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len: Option<usize> = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().ok();
            }
        }
    }
    let mut body = vec![0u8; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn answer(req: &Value, configuration: &Option<Value>, action: &Option<String>) -> Value {
    let id = req["id"].clone();
    let result = match req["method"].as_str().unwrap_or_default() {
        "workspace/configuration" => {
            let n = req["params"]["items"].as_array().map_or(1, Vec::len);
            Value::Array(vec![configuration.clone().unwrap_or(Value::Null); n])
        }
        "workspace/workspaceFolders" => Value::Null,
        "window/showMessageRequest" => action.as_ref().map_or(Value::Null, |a| json!({"title": a})),
        // window/workDoneProgress/create, client/registerCapability, and anything else.
        _ => Value::Null,
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

impl Client {
    /// Starts the binary, initializes with `opts`, and waits for startup indexing to end.
    pub fn start(opts: ClientOptions) -> Client {
        let mut c = Client::spawn(&opts);
        c.initialize(&opts);
        c.wait_indexed();
        c
    }

    /// Starts the binary without talking to it.
    pub fn spawn(opts: &ClientOptions) -> Client {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_homelab-lsp"));
        crate::support::schema_env(&mut cmd);
        cmd.envs(opts.env.iter().map(|(k, v)| (k, v))).args(&opts.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(dir) = opts.folders.first() {
            cmd.current_dir(dir);
        }
        let mut child = cmd.spawn().expect("start homelab-lsp");
        let stdin = Arc::new(Mutex::new(child.stdin.take().expect("stdin")));
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        let shared: Shared = Arc::new((Mutex::new(Inbox::default()), Condvar::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(stderr_pipe);
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    stderr.lock().unwrap_or_else(|e| e.into_inner()).push_str(&line);
                    line.clear();
                }
            });
        }
        {
            let shared = shared.clone();
            let stdin = stdin.clone();
            let configuration = opts.configuration.clone();
            let action = opts.message_action.clone();
            let silent = opts.minimal;
            std::thread::spawn(move || {
                let mut r = BufReader::new(stdout);
                while let Some(msg) = read_message(&mut r) {
                    let (lock, cvar) = &*shared;
                    let is_request = msg.get("method").is_some() && msg.get("id").is_some();
                    if is_request && !silent {
                        let _ = write_message(&stdin, &answer(&msg, &configuration, &action));
                    }
                    let mut inbox = lock.lock().unwrap_or_else(|e| e.into_inner());
                    if is_request {
                        inbox.server_requests.push(msg);
                    } else if msg.get("method").is_some() {
                        inbox.notifications.push(msg);
                    } else if let Some(id) = msg.get("id").and_then(Value::as_i64) {
                        inbox.responses.insert(id, msg);
                    }
                    cvar.notify_all();
                }
                let (lock, cvar) = &*shared;
                lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
                cvar.notify_all();
            });
        }
        Client { child, stdin, shared, next_id: 0, stderr, progress_ends_seen: 0, initialize_result: Value::Null }
    }

    pub fn initialize(&mut self, opts: &ClientOptions) {
        let folders: Vec<Value> = opts
            .folders
            .iter()
            .map(|f| json!({"uri": uri(f), "name": f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()}))
            .collect();
        let encodings = if opts.utf8 { json!(["utf-8", "utf-16"]) } else { json!(["utf-16"]) };
        let capabilities = if opts.minimal {
            json!({})
        } else {
            json!({
                "general": {"positionEncodings": encodings},
                "window": {"workDoneProgress": true},
                "workspace": {
                    "configuration": true,
                    "workspaceFolders": true,
                    "didChangeWatchedFiles": {"dynamicRegistration": true}
                },
                "textDocument": {
                    "synchronization": {"didSave": true},
                    "completion": {"completionItem": {"snippetSupport": false}},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "rename": {"prepareSupport": true},
                    "publishDiagnostics": {"relatedInformation": true},
                    "documentSymbol": {"hierarchicalDocumentSymbolSupport": true}
                }
            })
        };
        let params = json!({
            "processId": std::process::id(),
            "rootUri": opts.folders.first().map(|f| uri(f)),
            "workspaceFolders": folders,
            "initializationOptions": opts.initialization_options,
            "capabilities": capabilities
        });
        self.initialize_result = self.request("initialize", params).expect("initialize failed");
        self.notify("initialized", json!({}));
    }

    fn fail(&self, what: &str) -> ! {
        let stderr = self.stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let tail: String = stderr.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        panic!("{what}\n--- server stderr (tail) ---\n{tail}");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        if let Err(e) = write_message(&self.stdin, &json!({"jsonrpc": "2.0", "method": method, "params": params})) {
            self.fail(&format!("cannot send {method}: {e}"));
        }
    }

    /// Sends a request and waits for its response: `Ok(result)` or `Err(error object)`.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.request_timeout(method, params, REQUEST_TIMEOUT)
    }

    pub fn request_timeout(&mut self, method: &str, params: Value, timeout: Duration) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        if let Err(e) = write_message(&self.stdin, &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})) {
            self.fail(&format!("cannot send {method}: {e}"));
        }
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.shared;
        let mut inbox = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(msg) = inbox.responses.remove(&id) {
                return match msg.get("error") {
                    Some(err) => Err(err.clone()),
                    None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
                };
            }
            if inbox.closed {
                drop(inbox);
                self.fail(&format!("the server exited before answering {method}"));
            }
            let now = Instant::now();
            if now >= deadline {
                drop(inbox);
                self.fail(&format!("no response to {method} within {timeout:?}"));
            }
            inbox = cvar.wait_timeout(inbox, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Sends several requests without waiting in between, then collects every response
    /// (in the order sent).
    pub fn request_many(&mut self, requests: &[(&str, Value)]) -> Vec<Result<Value, Value>> {
        let mut ids = Vec::new();
        for (method, params) in requests {
            self.next_id += 1;
            ids.push(self.next_id);
            if let Err(e) = write_message(&self.stdin, &json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})) {
                self.fail(&format!("cannot send {method}: {e}"));
            }
        }
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let (lock, cvar) = &*self.shared;
        let mut inbox = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if ids.iter().all(|id| inbox.responses.contains_key(id)) {
                return ids
                    .iter()
                    .map(|id| {
                        let msg = inbox.responses.remove(id).unwrap();
                        match msg.get("error") {
                            Some(err) => Err(err.clone()),
                            None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
                        }
                    })
                    .collect();
            }
            let now = Instant::now();
            if inbox.closed || now >= deadline {
                let missing = ids.iter().filter(|id| !inbox.responses.contains_key(id)).count();
                drop(inbox);
                self.fail(&format!("{missing} of {} pipelined requests unanswered", ids.len()));
            }
            inbox = cvar.wait_timeout(inbox, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// A request that must succeed.
    pub fn ok(&mut self, method: &str, params: Value) -> Value {
        match self.request(method, params.clone()) {
            Ok(v) => v,
            Err(e) => self.fail(&format!("{method} {params} failed: {e}")),
        }
    }

    /// Waits until `pred` holds for the notifications received so far; returns its value.
    pub fn wait_until<T>(&self, what: &str, timeout: Duration, mut pred: impl FnMut(&[Value]) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.shared;
        let mut inbox = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(v) = pred(&inbox.notifications) {
                return v;
            }
            let now = Instant::now();
            if inbox.closed || now >= deadline {
                let closed = inbox.closed;
                let recent: Vec<String> = inbox.notifications.iter().rev().take(8).map(|n| truncate(&n.to_string(), 300)).collect();
                drop(inbox);
                self.fail(&format!("timed out waiting for {what} (server exited: {closed}); last notifications:\n{}", recent.join("\n")));
            }
            inbox = cvar.wait_timeout(inbox, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Waits until no notification has arrived for `quiet` (at most `REQUEST_TIMEOUT`).
    pub fn wait_quiet(&self, quiet: Duration) {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let mut seen = usize::MAX;
        let mut since = Instant::now();
        while Instant::now() < deadline {
            let n = self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).notifications.len();
            if n != seen {
                seen = n;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.fail("the server kept sending notifications");
    }

    /// All notifications received so far.
    pub fn notifications(&self) -> Vec<Value> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).notifications.clone()
    }

    /// All server→client requests received so far (they were answered already).
    pub fn server_requests(&self) -> Vec<Value> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).server_requests.clone()
    }

    /// Waits for the next `$/progress` end of an "Indexing" run.
    pub fn wait_indexed(&mut self) {
        let seen = self.progress_ends_seen;
        let n = self.wait_until("indexing to end ($/progress end)", INDEX_TIMEOUT, |notes| {
            let ends = indexing_progress(notes).filter(|v| v["kind"] == "end").count();
            (ends > seen).then_some(ends)
        });
        self.progress_ends_seen = n;
    }

    /// The latest diagnostics published for `uri`, once `pred` holds for them.
    pub fn wait_diagnostics(&self, uri: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        self.wait_until(&format!("diagnostics for {uri}"), REQUEST_TIMEOUT, |notes| {
            let latest = notes.iter().rev().find(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri)?;
            let diags = latest["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            pred(&diags).then_some(diags)
        })
    }

    /// The latest diagnostics published for `uri` so far (empty if none).
    pub fn latest_diagnostics(&self, uri: &str) -> Vec<Value> {
        self.notifications()
            .iter()
            .rev()
            .find(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri)
            .and_then(|n| n["params"]["diagnostics"].as_array().cloned())
            .unwrap_or_default()
    }

    pub fn did_open(&mut self, path: &Path, text: &str) {
        let lang = if path.extension().is_some_and(|e| e == "j2") { "jinja" } else { "yaml" };
        self.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri(path), "languageId": lang, "version": 1, "text": text}}));
    }

    /// Replaces the whole text of an open document.
    pub fn did_change_full(&mut self, path: &Path, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(path), "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    pub fn did_save(&mut self, path: &Path) {
        self.notify("textDocument/didSave", json!({"textDocument": {"uri": uri(path)}}));
    }

    /// `workspace/didChangeWatchedFiles` with (path, 1 created | 2 changed | 3 deleted).
    pub fn watched(&mut self, changes: &[(&Path, u32)]) {
        let changes: Vec<Value> = changes.iter().map(|(p, t)| json!({"uri": uri(p), "type": t})).collect();
        self.notify("workspace/didChangeWatchedFiles", json!({"changes": changes}));
    }

    /// `{textDocument, position}` params.
    pub fn pos_params(path: &Path, pos: (u32, u32)) -> Value {
        json!({"textDocument": {"uri": uri(path)}, "position": {"line": pos.0, "character": pos.1}})
    }

    pub fn hover(&mut self, path: &Path, pos: (u32, u32)) -> Value {
        self.ok("textDocument/hover", Self::pos_params(path, pos))
    }

    /// The hover's markdown, or a test failure when there is none.
    pub fn hover_text(&mut self, path: &Path, pos: (u32, u32)) -> String {
        let h = self.hover(path, pos);
        match h["contents"]["value"].as_str() {
            Some(s) => s.to_string(),
            None => self.fail(&format!("no hover at {}:{pos:?}: {h}", path.display())),
        }
    }

    /// Completion items (from a list or an array).
    pub fn completion(&mut self, path: &Path, pos: (u32, u32)) -> Vec<Value> {
        let r = self.ok("textDocument/completion", Self::pos_params(path, pos));
        match &r {
            Value::Null => Vec::new(),
            Value::Array(a) => a.clone(),
            _ => r["items"].as_array().cloned().unwrap_or_default(),
        }
    }

    pub fn definition(&mut self, path: &Path, pos: (u32, u32)) -> Vec<Value> {
        let r = self.ok("textDocument/definition", Self::pos_params(path, pos));
        match r {
            Value::Null => Vec::new(),
            Value::Array(a) => a,
            one => vec![one],
        }
    }

    /// Whether the server process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `shutdown` + `exit`; returns the exit code (kills the child after a timeout).
    pub fn shutdown(&mut self) -> Option<i32> {
        if self.is_alive() {
            let _ = self.request_timeout("shutdown", Value::Null, Duration::from_secs(10));
            self.notify("exit", Value::Null);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.code(),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return None;
                }
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return;
        }
        if self.is_alive() {
            let _ = write_message(&self.stdin, &json!({"jsonrpc": "2.0", "id": -1, "method": "shutdown", "params": null}));
            let (lock, cvar) = &*self.shared;
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut inbox = lock.lock().unwrap_or_else(|e| e.into_inner());
            while !inbox.responses.contains_key(&-1) && !inbox.closed && Instant::now() < deadline {
                inbox = cvar.wait_timeout(inbox, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
            }
            drop(inbox);
            let _ = write_message(&self.stdin, &json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$/progress` values of the "Indexing" runs (begin, report, end), in order.
pub fn indexing_progress(notes: &[Value]) -> impl Iterator<Item = &Value> {
    let mut tokens: Vec<Value> = Vec::new();
    notes.iter().filter(|n| n["method"] == "$/progress").filter_map(move |n| {
        let p = &n["params"];
        if p["value"]["kind"] == "begin" && p["value"]["title"] == "Indexing" && !tokens.contains(&p["token"]) {
            tokens.push(p["token"].clone());
        }
        tokens.contains(&p["token"]).then_some(&p["value"])
    })
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s.to_string()
    }
}

/// A `file://` URI for an absolute path, as the server writes them.
pub fn uri(path: &Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => s.push(b as char),
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

/// The path of a `file://` URI.
pub fn uri_path(uri: &str) -> PathBuf {
    let rest = uri.strip_prefix("file://").unwrap_or(uri);
    let bytes = rest.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let Ok(b) = u8::from_str_radix(&rest[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}
