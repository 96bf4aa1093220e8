//! One fuzzing round: a fresh copy of a repo, a server on it, a seeded stream of actions,
//! then the end-of-round checks (quiescence, the final diagnostics against a fresh server's,
//! the CLI on the mutated copy).

use crate::client::{file_uri, Event, Server};
use crate::repo::{self, Repo, SECRET_KEY};
use crate::rng::Rng;
use crate::{mutate, text, Figures};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Config {
    pub server: PathBuf,
    pub hang: Duration,
    pub actions: usize,
    pub cli: bool,
    /// The Python the plugin rounds run the repos' makejinja plugins with (none: every
    /// round runs with plugins off).
    pub python: Option<PathBuf>,
    /// A schema store laid out as `HOST/PATH` that every `https://` schema is read from
    /// (a `file://` mirror, so schema validation, hover and completion are fuzzed too and
    /// nothing is fetched); none: schemas are off (offline, no cache).
    pub schemas: Option<PathBuf>,
}

/// Answers that may show the secret: they show generated files (or edits to them).
const MAY_SHOW_VALUES: &[&str] = &["homelab/renderedPreview", "homelab/renderDiff", "textDocument/codeAction"];

const INDEX_TIMEOUT: Duration = Duration::from_secs(300);
const CLI_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, PartialEq)]
enum Disk {
    Text(String),
    /// A FIFO, a link to `/dev/zero`, invalid UTF-8 or a huge file: never read back.
    Special,
    Missing,
}

struct FileState {
    path: PathBuf,
    /// The editor's text while open.
    editor: Option<String>,
    version: i64,
    disk: Disk,
    /// Line lengths of each version sent (recent ones).
    versions: BTreeMap<i64, Vec<u32>>,
    /// Line lengths of the recent texts (editor or disk), for unversioned publishes and
    /// related locations, which may describe any recent state.
    recent: VecDeque<Vec<u32>>,
    original: Option<String>,
}

impl FileState {
    fn current(&self) -> &str {
        match (&self.editor, &self.disk) {
            (Some(t), _) | (None, Disk::Text(t)) => t,
            _ => "",
        }
    }

    fn remember(&mut self) {
        let lengths = text::line_lengths(self.current());
        if self.editor.is_some() {
            self.versions.insert(self.version, lengths.clone());
            while self.versions.len() > 2000 {
                let first = *self.versions.keys().next().expect("non-empty");
                self.versions.remove(&first);
            }
        }
        self.recent.push_back(lengths);
        while self.recent.len() > 16 {
            self.recent.pop_front();
        }
    }
}

struct Pending {
    method: String,
    sent: Instant,
    flagged: bool,
    what: String,
}

struct Live {
    server: Server,
    pending: HashMap<i64, Pending>,
    /// The last diagnostics published per URI.
    diags: HashMap<String, Vec<Value>>,
    indexed: bool,
    stopping: bool,
    rss_flagged: bool,
    stacks_dumped: bool,
    /// The last answer to `homelab/backgroundWork` (request id, tasks alive).
    background: Option<(i64, u64)>,
}

struct Fuzzer<'a> {
    cfg: &'a Config,
    rng: Rng,
    repo: Repo,
    files: HashMap<String, FileState>,
    figures: &'a mut Figures,
    /// The last actions, for violation reports.
    log: VecDeque<String>,
    round_name: String,
    special_counter: usize,
    violations_this_round: usize,
    /// This round runs the repo's plugin in Python (`Config::python`).
    plugins: bool,
    /// `XDG_STATE_HOME` of the round's servers (the plugin trust store).
    state_dir: repo::TempDir,
}

fn read_disk(path: &Path) -> Disk {
    match std::fs::symlink_metadata(path) {
        Err(_) => Disk::Missing,
        Ok(m) if !m.is_file() || m.len() > 32 << 20 => Disk::Special,
        Ok(_) => match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => Disk::Text(t),
            _ => Disk::Special,
        },
    }
}

/// Where the secret line lies in `t` (line start to after its line break).
fn protected_span(t: &str, secret: &str) -> Option<(usize, usize)> {
    let at = t.find(secret)?;
    let start = t[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let end = t[at..].find('\n').map_or(t.len(), |i| at + i + 1);
    Some((start, end))
}

fn shorten(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out.replace('\n', "\\n")
}

impl<'a> Fuzzer<'a> {
    fn note(&mut self, what: String) {
        // HOMELAB_FUZZ_TRACE=1 prints every action (to replay a round by hand).
        if std::env::var_os("HOMELAB_FUZZ_TRACE").is_some() {
            eprintln!("action: {}", shorten(&what, 300));
        }
        self.log.push_back(what);
        while self.log.len() > 12 {
            self.log.pop_front();
        }
    }

    /// The editor settings of the round's servers (initialization options and the answer to
    /// `workspace/configuration`).
    fn settings(&self) -> Value {
        let plugins = json!({"run": if self.plugins { "always" } else { "never" }});
        let schemas = match &self.cfg.schemas {
            // Offline still reads `file://` mirrors; an `http://` modeline must not wait on a
            // network that may answer slowly.
            Some(store) => json!({
                "offline": true,
                "mirrors": {"https://": schema_mirror(store)},
                "cacheDir": self.state_dir.path().join("schemas"),
            }),
            None => json!({"offline": true, "cacheDir": self.state_dir.path().join("schemas")}),
        };
        json!({"plugins": plugins, "schemas": schemas})
    }

    fn violation(&mut self, what: String) {
        self.violations_this_round += 1;
        if self.violations_this_round > 3 {
            self.figures.sample(format!("[{}] {what}", self.round_name));
            return;
        }
        let recent: Vec<String> = self.log.iter().map(|l| format!("      {l}")).collect();
        self.figures.sample(format!("[{}] {what}\n    last actions:\n{}", self.round_name, recent.join("\n")));
    }

    /// With `HOMELAB_FUZZ_GDB=1`, the server's thread stacks at the first hang of a session
    /// (gdb must be installed), to see what it waits for.
    fn dump_stacks(&mut self, live: &mut Live) {
        if live.stacks_dumped || std::env::var("HOMELAB_FUZZ_GDB").is_err() {
            return;
        }
        live.stacks_dumped = true;
        let out = std::env::temp_dir().join(format!("homelab-fuzz-stacks-{}.txt", live.server.pid()));
        let Ok(file) = std::fs::File::create(&out) else { return };
        let _ = std::process::Command::new("gdb")
            .args(["-p", &live.server.pid().to_string(), "-batch", "-ex", "thread apply all bt 30"])
            .stdout(file)
            .stderr(std::process::Stdio::null())
            .status();
        eprintln!("homelab-fuzz: server stacks at the hang written to {}", out.display());
    }

    fn file(&mut self, uri: &str) -> &mut FileState {
        if !self.files.contains_key(uri) {
            let path = PathBuf::from(uri.strip_prefix("file://").unwrap_or(uri).replace("%20", " "));
            let disk = read_disk(&path);
            let mut f = FileState {
                path,
                editor: None,
                version: 0,
                disk: disk.clone(),
                versions: BTreeMap::new(),
                recent: VecDeque::new(),
                original: match disk {
                    Disk::Text(t) => Some(t),
                    _ => None,
                },
            };
            f.remember();
            self.files.insert(uri.to_string(), f);
        }
        self.files.get_mut(uri).expect("inserted")
    }

    fn open_uris(&self) -> Vec<String> {
        let mut v: Vec<String> = self.files.iter().filter(|(_, f)| f.editor.is_some()).map(|(u, _)| u.clone()).collect();
        v.sort();
        v
    }

    // ---- the server ---------------------------------------------------------------------

    fn start(&mut self) -> std::io::Result<Live> {
        let env = match (&self.plugins, &self.cfg.python) {
            // The trust store goes to the round's own directory, never the user's.
            (true, Some(python)) => {
                vec![
                    ("HOMELAB_LSP_PYTHON".to_string(), python.clone()),
                    ("XDG_STATE_HOME".to_string(), self.state_dir.path().to_path_buf()),
                ]
            }
            _ => Vec::new(),
        };
        let server = Server::spawn(&self.cfg.server, self.repo.root(), &env, &self.repo.secret)?;
        let mut live = Live {
            server,
            pending: HashMap::new(),
            diags: HashMap::new(),
            indexed: false,
            stopping: false,
            rss_flagged: false,
            stacks_dumped: false,
            background: None,
        };
        let root_uri = file_uri(self.repo.root());
        let id = live.server.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": root_uri,
                "initializationOptions": {"homelabLsp": self.settings()},
                "workspaceFolders": [{"uri": root_uri, "name": "fuzz"}],
                "capabilities": {
                    "general": {"positionEncodings": ["utf-16"]},
                    "window": {"workDoneProgress": true},
                    "workspace": {"configuration": true, "workspaceFolders": true, "didChangeWatchedFiles": {"dynamicRegistration": true}},
                    "textDocument": {
                        "synchronization": {"didSave": true},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "rename": {"prepareSupport": true},
                        "publishDiagnostics": {"relatedInformation": true, "versionSupport": true},
                        "documentSymbol": {"hierarchicalDocumentSymbolSupport": true}
                    }
                }
            }),
        );
        live.pending.insert(id, Pending { method: "initialize".into(), sent: Instant::now(), flagged: true, what: String::new() });
        let end = Instant::now() + INDEX_TIMEOUT;
        while live.pending.contains_key(&id) && Instant::now() < end && !live.server.closed {
            self.pump(&mut live, Duration::from_millis(50));
        }
        live.server.notify("initialized", json!({}));
        while !live.indexed && Instant::now() < end && !live.server.closed {
            self.pump(&mut live, Duration::from_millis(50));
        }
        if !live.indexed {
            return Err(std::io::Error::other(format!("the server did not finish indexing\n{}", live.server.stderr_tail(10))));
        }
        for uri in self.open_uris() {
            let f = &self.files[&uri];
            let lang = if uri.ends_with(".toml") {
                "toml"
            } else if uri.ends_with(".j2") {
                "jinja"
            } else {
                "yaml"
            };
            let params = json!({"textDocument": {"uri": uri, "languageId": lang, "version": f.version, "text": f.current()}});
            live.server.notify("textDocument/didOpen", params);
        }
        Ok(live)
    }

    /// Reads what arrives within `wait` (at least one wait, then whatever is queued).
    fn pump(&mut self, live: &mut Live, wait: Duration) {
        let mut timeout = wait;
        while let Some(ev) = live.server.next(timeout) {
            timeout = Duration::ZERO;
            match ev {
                Event::Closed => {
                    if !live.stopping {
                        self.figures.deaths += 1;
                        let status = live.server.exit_status(Duration::from_secs(2));
                        let tail = live.server.stderr_tail(8);
                        self.violation(format!("the server died ({status:?}); stderr:\n{tail}"));
                    }
                    live.pending.clear();
                    return;
                }
                Event::Msg(at, v) => self.handle(live, at, v),
            }
        }
        let now = Instant::now();
        let mut late = Vec::new();
        for (id, p) in live.pending.iter_mut() {
            if !p.flagged && now.duration_since(p.sent) > self.cfg.hang {
                p.flagged = true;
                late.push(format!("no answer to {} (id {id}) after {} ms: {}", p.method, self.cfg.hang.as_millis(), p.what));
            }
        }
        if !late.is_empty() {
            self.dump_stacks(live);
        }
        for l in late {
            self.figures.hangs += 1;
            self.violation(l);
        }
    }

    fn scan_secret(&mut self, channel: &str, v: &Value, leak: bool) {
        let s = v.to_string();
        let Some(at) = s.find(&self.repo.secret) else { return };
        let a = text::boundary(&s, at.saturating_sub(120));
        let b = text::boundary(&s, at + self.repo.secret.len() + 80);
        let context = s[a..b].replace(&self.repo.secret, "<SECRET>");
        if leak {
            self.figures.secret_leaks += 1;
            self.violation(format!("secret value in {channel}: …{context}…"));
        } else {
            self.figures.secret_unmasked += 1;
            self.violation(format!("secret value unmasked in {channel}: …{context}…"));
        }
    }

    fn handle(&mut self, live: &mut Live, at: Instant, v: Value) {
        let method = v.get("method").and_then(Value::as_str).map(str::to_string);
        let id = v.get("id").cloned();
        match (method, id) {
            (Some(m), Some(id)) => {
                self.scan_secret(&m, &v, true);
                let result = match m.as_str() {
                    "workspace/configuration" => {
                        let n = v["params"]["items"].as_array().map_or(1, Vec::len);
                        Value::Array(vec![self.settings(); n])
                    }
                    _ => Value::Null,
                };
                live.server.respond(id, result);
            }
            (Some(m), None) => {
                self.scan_secret(&m, &v, true);
                match m.as_str() {
                    "textDocument/publishDiagnostics" => self.check_publish(live, &v["params"]),
                    // What a plugin round covers: the plugin's status and the messages of the
                    // round (the Python found, the plugin's errors and events).
                    "homelab/pluginStatus" => {
                        let state = v["params"]["state"].as_str().unwrap_or("?").to_string();
                        *self.figures.plugin_states.entry(state).or_default() += 1;
                    }
                    "window/logMessage" | "window/showMessage" if self.plugins => self.figures.plugin_messages += 1,
                    "$/progress" if v["params"]["token"] == "homelab-lsp/indexing" && v["params"]["value"]["kind"] == "end" => {
                        live.indexed = true;
                    }
                    _ => {}
                }
            }
            (None, Some(id)) => {
                let Some(p) = id.as_i64().and_then(|i| live.pending.remove(&i)) else { return };
                if p.method == "homelab/backgroundWork" {
                    live.background = Some((id.as_i64().unwrap_or(-1), v["result"]["tasks"].as_u64().unwrap_or(u64::MAX)));
                }
                let ms = at.duration_since(p.sent).as_millis() as u64;
                if ms > self.figures.slowest_ms && p.method != "initialize" && p.method != "shutdown" {
                    self.figures.slowest_ms = ms;
                    self.figures.slowest = format!("{} {}", p.method, shorten(&p.what, 100));
                }
                if !p.flagged && at.duration_since(p.sent) > self.cfg.hang {
                    self.figures.hangs += 1;
                    self.violation(format!("{} took {ms} ms: {}", p.method, p.what));
                }
                if let Some(e) = v.get("error") {
                    *self.figures.error_codes.entry(e["code"].as_i64().unwrap_or(0)).or_default() += 1;
                    self.scan_secret(&format!("the error answer to {}", p.method), e, true);
                    if e["code"] == -32603 {
                        self.figures.internal_errors += 1;
                        // Where it panicked is on the server's stderr (the answer says only
                        // that it did); give the stderr reader a moment to catch up.
                        std::thread::sleep(std::time::Duration::from_millis(100));
                        let tail = live.server.stderr_tail(12).replace(&self.repo.secret, "<SECRET>");
                        let at: Vec<&str> = tail.lines().filter(|l| l.contains("panicked at")).collect();
                        self.violation(format!(
                            "{} failed with an internal error: {}: {}\n    server: {}",
                            p.method,
                            e["message"],
                            p.what,
                            at.last().copied().unwrap_or("(no panic location on stderr)")
                        ));
                    }
                } else if !MAY_SHOW_VALUES.contains(&p.method.as_str()) {
                    self.scan_secret(&format!("the answer to {}", p.method), &v, false);
                } else if v.to_string().contains(&self.repo.secret) {
                    self.figures.secret_shown_allowed += 1;
                }
            }
            (None, None) => {}
        }
    }

    fn range_ok(&mut self, uri: &str, version: Option<i64>, range: &Value) -> bool {
        let f = self.file(uri);
        if let Some(l) = version.and_then(|v| f.versions.get(&v)) {
            return text::range_inside(l, range);
        }
        f.recent.iter().any(|l| text::range_inside(l, range))
    }

    fn check_publish(&mut self, live: &mut Live, params: &Value) {
        let Some(uri) = params["uri"].as_str().map(str::to_string) else { return };
        let version = params["version"].as_i64();
        let diags = params["diagnostics"].as_array().cloned().unwrap_or_default();
        self.figures.publishes += 1;
        self.figures.diagnostics += diags.len();
        for d in &diags {
            if !self.range_ok(&uri, version, &d["range"]) {
                self.figures.out_of_range += 1;
                let f = self.file(&uri);
                let lines = f.versions.get(&version.unwrap_or(-1)).map(Vec::len);
                // What the fuzzer knows of the file, to tell a server bug from bookkeeping.
                let known = format!(
                    "disk {}, {}, {} recent texts",
                    match &f.disk {
                        Disk::Text(t) => format!("{} lines", t.lines().count()),
                        Disk::Special => "special".into(),
                        Disk::Missing => "missing".into(),
                    },
                    if f.editor.is_some() { "open" } else { "closed" },
                    f.recent.len()
                );
                self.violation(format!(
                    "diagnostic out of range in {uri} (version {version:?}, {lines:?} lines; {known}): {} {}: {}",
                    d["code"],
                    d["range"],
                    shorten(d["message"].as_str().unwrap_or_default(), 120)
                ));
            }
            for r in d["relatedInformation"].as_array().into_iter().flatten() {
                let Some(ruri) = r["location"]["uri"].as_str().map(str::to_string) else { continue };
                if !self.range_ok(&ruri, None, &r["location"]["range"]) {
                    self.figures.out_of_range += 1;
                    self.violation(format!(
                        "related location out of range: {ruri} {} (from {} in {uri})",
                        r["location"]["range"], d["code"]
                    ));
                }
            }
        }
        live.diags.insert(uri, diags);
    }

    fn request(&mut self, live: &mut Live, method: &str, params: Value) -> i64 {
        let what = shorten(&params.to_string(), 160);
        self.note(format!("request {method} {what}"));
        let id = live.server.request(method, params);
        live.pending.insert(id, Pending { method: method.to_string(), sent: Instant::now(), flagged: false, what });
        self.figures.requests += 1;
        id
    }

    fn check_rss(&mut self, live: &mut Live, limit_kib: u64) {
        if let Some(kib) = live.server.peak_rss_kib() {
            self.figures.peak_rss_kib = self.figures.peak_rss_kib.max(kib);
            if kib > limit_kib && !live.rss_flagged {
                live.rss_flagged = true;
                self.violation(format!("peak RSS {} MB", kib / 1024));
            }
        }
    }

    /// Waits until the server is idle: every request answered, nothing arriving for
    /// `quiet`, and then `homelab/backgroundWork` answered with no task alive and no
    /// publish for another `quiet`: silence alone can be a busy server (a heavy check
    /// queued behind another publishes nothing for seconds).
    fn quiesce(&mut self, live: &mut Live, quiet: Duration, max: Duration) {
        let end = Instant::now() + max;
        let mut last = Instant::now();
        let mut probe: Option<i64> = None;
        let mut probed_clean = false;
        while Instant::now() < end && !live.server.closed {
            let before = live.pending.len();
            let publishes = self.figures.publishes;
            self.pump(live, Duration::from_millis(100));
            if self.figures.publishes != publishes {
                last = Instant::now();
                probed_clean = false;
            } else if live.pending.len() != before {
                last = Instant::now();
            }
            if let Some(id) = probe.filter(|id| !live.pending.contains_key(id)) {
                probe = None;
                // Busy: wait for another quiet period and ask again.
                probed_clean = live.background.is_some_and(|(answered, tasks)| answered == id && tasks == 0);
                last = Instant::now();
            }
            if live.pending.is_empty() && last.elapsed() >= quiet {
                if probed_clean {
                    return;
                }
                let id = live.server.request("homelab/backgroundWork", Value::Null);
                live.pending.insert(
                    id,
                    Pending { method: "homelab/backgroundWork".into(), sent: Instant::now(), flagged: false, what: "(idle probe)".into() },
                );
                probe = Some(id);
            }
        }
    }

    fn stop(&mut self, mut live: Live) {
        live.stopping = true;
        let id = self.request(&mut live, "shutdown", Value::Null);
        let end = Instant::now() + Duration::from_secs(10);
        while live.pending.contains_key(&id) && Instant::now() < end && !live.server.closed {
            self.pump(&mut live, Duration::from_millis(50));
        }
        self.figures.requests -= 1;
        live.server.notify("exit", Value::Null);
        match live.server.exit_status(Duration::from_secs(30)) {
            Some(s) if s.success() => {}
            other => {
                self.figures.deaths += 1;
                let tail = live.server.stderr_tail(8);
                self.violation(format!("the server did not exit cleanly after shutdown/exit ({other:?}); stderr:\n{tail}"));
            }
        }
        if live.server.stderr_secret_hits.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            self.figures.secret_leaks += 1;
            let tail = live.server.stderr_tail(20).replace(&self.repo.secret, "<SECRET>");
            self.violation(format!("secret value in the server's stderr; its last lines:\n{tail}"));
        }
        live.server.kill();
    }

    // ---- actions ------------------------------------------------------------------------

    fn random_open(&mut self) -> Option<String> {
        let open = self.open_uris();
        (!open.is_empty()).then(|| self.rng.pick(&open).clone())
    }

    fn did_change(&mut self, live: &mut Live, uri: &str, changes: Vec<Value>, new_text: String) {
        let f = self.file(uri);
        f.version += 1;
        f.editor = Some(new_text);
        f.remember();
        let version = f.version;
        live.server.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}));
        self.figures.edits += 1;
    }

    /// An incremental edit (or, sometimes, a whole new text) of an open document.
    fn edit(&mut self, live: &mut Live) {
        let Some(uri) = self.random_open() else { return };
        let secret = self.repo.secret.clone();
        let includable = self.repo.includable.clone();
        let cur = self.file(&uri).current().to_string();
        let protected = protected_span(&cur, &secret);
        if self.rng.chance(8) {
            let new = mutate::mutate_text(&mut self.rng, &cur, SECRET_KEY, &includable);
            if protected.is_some() && protected_span(&new, &secret).map(|(a, b)| &new[a..b]) != protected.map(|(a, b)| &cur[a..b]) {
                return;
            }
            self.note(format!("full change of {uri}"));
            self.did_change(live, &uri, vec![json!({"text": new})], new);
            return;
        }
        for _ in 0..4 {
            let start = text::boundary(&cur, self.rng.below(cur.len() + 1));
            let end = if self.rng.chance(40) { text::boundary(&cur, start + self.rng.below(80)).max(start) } else { start };
            if protected.is_some_and(|(a, b)| start <= b && end >= a) {
                continue;
            }
            let insert = if self.rng.chance(20) { String::new() } else { mutate::fragment(&mut self.rng, SECRET_KEY, &cur, &includable) };
            if insert.contains(&secret) {
                continue;
            }
            let (sl, sc) = text::position(&cur, start);
            let (el, ec) = text::position(&cur, end);
            // Sometimes a column past the line's end, which the protocol says means its end.
            let ec = if start == end && self.rng.chance(3) { ec + 7 } else { ec };
            let new_start = text::offset(&cur, sl, sc);
            let new_end = text::offset(&cur, el, ec).max(new_start);
            let mut new = cur.clone();
            new.replace_range(new_start..new_end, &insert);
            self.note(format!("edit {uri} {sl}:{sc}-{el}:{ec} insert {}", shorten(&insert, 80)));
            let range = json!({"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}});
            self.did_change(live, &uri, vec![json!({"range": range, "text": insert})], new);
            return;
        }
    }

    /// Types a fragment one character per change, as an editor sends keystrokes.
    fn keystrokes(&mut self, live: &mut Live) {
        let Some(uri) = self.random_open() else { return };
        let secret = self.repo.secret.clone();
        let includable = self.repo.includable.clone();
        let cur = self.file(&uri).current().to_string();
        let mut at = text::boundary(&cur, self.rng.below(cur.len() + 1));
        if protected_span(&cur, &secret).is_some_and(|(a, b)| at >= a && at <= b) {
            return;
        }
        let frag = mutate::fragment(&mut self.rng, SECRET_KEY, &cur, &includable);
        if frag.contains(&secret) {
            return;
        }
        self.note(format!("typing {} into {uri} at byte {at}", shorten(&frag, 80)));
        let mut t = cur;
        for c in frag.chars().take(200) {
            at = text::boundary(&t, at);
            let (l, col) = text::position(&t, at);
            t.insert(at, c);
            at += c.len_utf8();
            let range = json!({"start": {"line": l, "character": col}, "end": {"line": l, "character": col}});
            self.did_change(live, &uri, vec![json!({"range": range, "text": c.to_string()})], t.clone());
            if self.rng.chance(30) {
                let ms = self.rng.below(4) as u64;
                self.pump(live, Duration::from_millis(ms));
            }
        }
    }

    fn random_position(&mut self, uri: &str) -> (u32, u32) {
        let t = self.file(uri).current().to_string();
        if self.rng.chance(12) {
            let lines = text::line_starts(&t).len() as u32;
            return match self.rng.below(4) {
                0 => (lines + self.rng.below(1000) as u32, 0),
                1 => (0, 1_000_000),
                2 => (u32::MAX, u32::MAX),
                _ => (lines.saturating_sub(1), 9_999),
            };
        }
        text::position(&t, text::boundary(&t, self.rng.below(t.len() + 1)))
    }

    fn random_request(&mut self, live: &mut Live) {
        let uri = match self.rng.below(100) {
            0..=84 => self.random_open(),
            85..=96 => {
                let all: Vec<String> = self.files.keys().cloned().collect();
                (!all.is_empty()).then(|| self.rng.pick(&all).clone())
            }
            97 => Some("untitled:Untitled-1".to_string()),
            _ => Some(file_uri(&self.repo.root().join("no/such/file.yaml.j2"))),
        };
        let Some(uri) = uri else { return };
        let (line, character) = self.random_position(&uri);
        let pos = json!({"line": line, "character": character});
        let doc = json!({"uri": uri});
        let at = json!({"textDocument": doc, "position": pos});
        let (method, params) = match self.rng.below(20) {
            0..=3 => ("textDocument/hover", at),
            4..=6 => ("textDocument/completion", at),
            7 => ("textDocument/signatureHelp", at),
            8 => ("textDocument/definition", at),
            9 => ("textDocument/references", json!({"textDocument": doc, "position": pos, "context": {"includeDeclaration": true}})),
            10 => ("textDocument/documentHighlight", at),
            11 => {
                if self.rng.chance(50) {
                    ("textDocument/prepareRename", at)
                } else {
                    let name = *self.rng.pick(&["x", "new_name", "", "a b", "😀", "cluster.name"]);
                    ("textDocument/rename", json!({"textDocument": doc, "position": pos, "newName": name}))
                }
            }
            12 => ("textDocument/documentSymbol", json!({"textDocument": doc})),
            13 => ("workspace/symbol", json!({"query": *self.rng.pick(&["", "a", "cilium", "zz", "*"])})),
            14 => (
                *self.rng.pick(&["textDocument/foldingRange", "textDocument/documentLink", "textDocument/semanticTokens/full"]),
                json!({"textDocument": doc}),
            ),
            15 => ("textDocument/inlayHint", json!({"textDocument": doc, "range": {"start": {"line": 0, "character": 0}, "end": pos}})),
            16 => {
                let diags = live.diags.get(&uri).cloned().unwrap_or_default();
                (
                    "textDocument/codeAction",
                    json!({"textDocument": doc, "range": {"start": pos, "end": pos}, "context": {"diagnostics": diags}}),
                )
            }
            17 => ("homelab/renderedPreview", doc),
            18 => (*self.rng.pick(&["homelab/generatedFile", "homelab/renderDiff"]), doc),
            _ => ("homelab/templateSource", json!({"uri": uri, "line": line})),
        };
        let id = self.request(live, method, params);
        if self.rng.chance(15) {
            if self.rng.chance(50) {
                let ms = self.rng.below(30) as u64;
                self.pump(live, Duration::from_millis(ms));
            }
            live.server.notify("$/cancelRequest", json!({"id": id}));
            self.figures.cancels += 1;
        }
    }

    fn watched(&mut self, live: &mut Live, path: &Path, kind: u8) {
        live.server.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": file_uri(path), "type": kind}]}));
    }

    /// Replaces what is at `path` on disk (a special file there is removed first: writing
    /// into a FIFO would block) and tells the server.
    fn write_disk(&mut self, live: &mut Live, path: &Path, content: Disk, make: impl FnOnce(&Path) -> std::io::Result<()>) {
        let uri = file_uri(path);
        let existed = std::fs::symlink_metadata(path).is_ok();
        let _ = self.file(&uri);
        if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) || content == Disk::Missing {
            let _ = std::fs::remove_file(path);
        }
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if content != Disk::Missing && make(path).is_err() {
            return;
        }
        let f = self.file(&uri);
        let kind = match (&content, existed) {
            (Disk::Missing, _) => 3,
            (_, true) => 2,
            (_, false) => 1,
        };
        f.disk = content;
        f.remember();
        self.figures.disk_changes += 1;
        self.watched(live, path, kind);
    }

    fn write_text(&mut self, live: &mut Live, path: &Path, t: String) {
        self.note(format!("write {} ({} bytes)", path.display(), t.len()));
        let data = t.clone();
        self.write_disk(live, path, Disk::Text(t), move |p| std::fs::write(p, data));
    }

    fn closed(&mut self, paths: &[PathBuf]) -> Option<PathBuf> {
        let v: Vec<&PathBuf> = paths.iter().filter(|p| self.files.get(&file_uri(p)).is_none_or(|f| f.editor.is_none())).collect();
        (!v.is_empty()).then(|| (*self.rng.pick(&v)).clone())
    }

    /// Somewhere a new template goes: beside an existing one.
    fn template_dir(&mut self) -> PathBuf {
        if self.repo.templates.is_empty() {
            return self.repo.root().join("kubernetes");
        }
        let t = self.rng.pick(&self.repo.templates).clone();
        t.parent().map(Path::to_path_buf).unwrap_or_else(|| self.repo.root().to_path_buf())
    }

    /// Changes files on disk behind the editor's back (and says so with a watched-files
    /// notification, as a client would).
    fn disk_change(&mut self, live: &mut Live) {
        let secret = self.repo.secret.clone();
        let includable = self.repo.includable.clone();
        self.special_counter += 1;
        let n = self.special_counter;
        match self.rng.below(12) {
            0..=2 => {
                let Some(p) = self.closed(&self.repo.templates.clone()) else { return };
                let cur = self.file(&file_uri(&p)).current().to_string();
                let t = mutate::mutate_text(&mut self.rng, &cur, SECRET_KEY, &includable);
                self.write_text(live, &p, t);
            }
            3 => {
                let data = self.repo.data.clone();
                let Some(p) = self.closed(&data) else { return };
                let cur = self.file(&file_uri(&p)).current().to_string();
                let mut t = if self.rng.chance(50) {
                    format!("{cur}{}", mutate::billion_laughs())
                } else {
                    mutate::mutate_text(&mut self.rng, &cur, SECRET_KEY, &[])
                };
                if cur.contains(&secret)
                    && protected_span(&t, &secret).map(|(a, b)| t[a..b].to_string())
                        != protected_span(&cur, &secret).map(|(a, b)| cur[a..b].to_string())
                {
                    t = format!("{cur}{}", mutate::billion_laughs());
                }
                self.write_text(live, &p, t);
            }
            4 => {
                let Some(cfg) = self.repo.config.clone() else { return };
                if self.files.get(&file_uri(&cfg)).is_some_and(|f| f.editor.is_some()) {
                    return;
                }
                let original = self.file(&file_uri(&cfg)).original.clone().unwrap_or_default();
                let t = if self.rng.chance(40) { original } else { mutate::broken_config(&mut self.rng, &original) };
                self.write_text(live, &cfg, t);
            }
            5 => {
                let p = self.template_dir().join(format!("fuzz-fifo-{n}.yaml.j2"));
                self.note(format!("mkfifo {}", p.display()));
                self.write_disk(live, &p, Disk::Special, |p| {
                    let ok = std::process::Command::new("mkfifo").arg(p).status()?.success();
                    if ok {
                        Ok(())
                    } else {
                        Err(std::io::Error::other("mkfifo failed"))
                    }
                });
            }
            6 => {
                let p = if self.rng.chance(50) {
                    self.template_dir().join(format!("fuzz-zero-{n}.yaml.j2"))
                } else if let Some(d) = self.closed(&self.repo.data.clone()).filter(|d| !d.to_string_lossy().is_empty()) {
                    if self.file(&file_uri(&d)).current().contains(&secret) {
                        self.repo.root().join(format!("kubernetes/fuzz-zero-{n}.yaml"))
                    } else {
                        d
                    }
                } else {
                    self.repo.root().join(format!("kubernetes/fuzz-zero-{n}.yaml"))
                };
                self.note(format!("symlink /dev/zero as {}", p.display()));
                self.write_disk(live, &p, Disk::Special, |p| std::os::unix::fs::symlink("/dev/zero", p));
            }
            7 => {
                let p = self.template_dir().join(format!("fuzz-bad-{n}.yaml.j2"));
                self.note(format!("invalid UTF-8 in {}", p.display()));
                self.write_disk(live, &p, Disk::Special, |p| std::fs::write(p, b"a: \xff\xfe #{ x }#\n\xc3\x28\n"));
            }
            8 => {
                // An include cycle between two new templates.
                if includable.is_empty() {
                    return;
                }
                let base = self.rng.pick(&includable).clone();
                let dir = Path::new(&base).parent().map(Path::to_path_buf).unwrap_or_default();
                let (a, b) = (dir.join(format!("fuzz-cycle-a{n}.yaml.j2")), dir.join(format!("fuzz-cycle-b{n}.yaml.j2")));
                let Some(input_dir) = self.repo.templates.iter().find(|t| t.to_string_lossy().ends_with(&base)).map(|t| {
                    let s = t.to_string_lossy();
                    PathBuf::from(&s[..s.len() - base.len()])
                }) else {
                    return;
                };
                let (sa, sb) = (a.to_string_lossy().into_owned(), b.to_string_lossy().into_owned());
                self.write_text(live, &input_dir.join(&a), format!("a: 1\n#% include '{sb}' %#\n"));
                self.write_text(live, &input_dir.join(&b), format!("b: 1\n#% include '{sa}' %#\n#% include '{sb}' %#\n"));
            }
            9 => {
                let Some(p) = self.closed(&self.repo.templates.clone()) else { return };
                self.note(format!("delete {}", p.display()));
                self.write_disk(live, &p, Disk::Missing, |_| Ok(()));
            }
            10 if self.rng.chance(10) => {
                // Past the 32 MB limit.
                let p = self.repo.root().join(format!("kubernetes/fuzz-huge-{n}.yaml"));
                self.note(format!("33 MB file {}", p.display()));
                self.write_disk(live, &p, Disk::Special, |p| std::fs::write(p, "a: b\n".repeat(7 << 20)));
            }
            _ => {
                let yaml = self.repo.yaml.clone();
                let Some(p) = self.closed(&yaml) else { return };
                let cur = self.file(&file_uri(&p)).current().to_string();
                if cur.contains(&secret) {
                    return;
                }
                let t = mutate::mutate_text(&mut self.rng, &cur, SECRET_KEY, &includable);
                self.write_text(live, &p, t);
            }
        }
    }

    /// Saves an open document: its text to disk, `didSave`, and the watcher's notification.
    fn save(&mut self, live: &mut Live) {
        let Some(uri) = self.random_open() else { return };
        let f = self.file(&uri);
        let (path, t) = (f.path.clone(), f.current().to_string());
        self.write_text(live, &path, t);
        live.server.notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}));
    }

    fn open(&mut self, live: &mut Live, path: &Path) {
        let uri = file_uri(path);
        let f = self.file(&uri);
        if f.editor.is_some() {
            return;
        }
        let Disk::Text(t) = f.disk.clone() else { return };
        f.editor = Some(t.clone());
        f.version += 1;
        f.remember();
        let version = f.version;
        let lang = if uri.ends_with(".toml") {
            "toml"
        } else if uri.ends_with(".j2") {
            "jinja"
        } else {
            "yaml"
        };
        self.note(format!("open {uri}"));
        live.server
            .notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": lang, "version": version, "text": t}}));
    }

    fn toggle_open(&mut self, live: &mut Live) {
        if self.rng.chance(50) && self.open_uris().len() > 2 {
            let Some(uri) = self.random_open() else { return };
            let f = self.file(&uri);
            f.editor = None;
            f.remember();
            self.note(format!("close {uri}"));
            live.server.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
        } else {
            let mut all = self.repo.templates.clone();
            all.extend(self.repo.yaml.iter().take(50).cloned());
            if all.is_empty() {
                return;
            }
            let p = self.rng.pick(&all).clone();
            self.open(live, &p);
        }
    }

    fn act(&mut self, live: &mut Live) {
        match self.rng.below(100) {
            0..=39 => self.edit(live),
            40..=49 => self.keystrokes(live),
            50..=82 => self.random_request(live),
            83..=93 => self.disk_change(live),
            94..=96 => self.save(live),
            _ => self.toggle_open(live),
        }
    }

    // ---- the round ----------------------------------------------------------------------

    fn run(&mut self) -> std::io::Result<()> {
        let limit_kib = 500 * 1024;
        // Open the data and config files, a few templates and a few YAML files.
        let mut first: Vec<PathBuf> = self.repo.data.iter().filter(|p| p.is_file()).cloned().collect();
        first.extend(self.repo.config.clone());
        for _ in 0..4 {
            if !self.repo.templates.is_empty() {
                first.push(self.rng.pick(&self.repo.templates).clone());
            }
        }
        for _ in 0..2 {
            if !self.repo.yaml.is_empty() {
                first.push(self.rng.pick(&self.repo.yaml).clone());
            }
        }
        let secret_manifest = self.repo.root().join("kubernetes/apps/fuzz/secret.yaml");
        if secret_manifest.is_file() {
            first.push(secret_manifest);
        }
        for p in &first {
            let uri = file_uri(p);
            let f = self.file(&uri);
            if let Disk::Text(t) = f.disk.clone() {
                f.editor = Some(t);
                f.version = 1;
                f.remember();
            }
        }
        let mut live = self.start()?;
        for i in 0..self.cfg.actions {
            if live.server.closed {
                live = self.start()?;
            }
            self.act(&mut live);
            let wait = self.rng.below(25) as u64;
            self.pump(&mut live, Duration::from_millis(wait));
            if i % 25 == 0 {
                self.check_rss(&mut live, limit_kib);
            }
        }
        // The data and config files end valid, so the comparison with a fresh server is
        // fair: a broken data file is read as its last valid text, which a fresh server
        // never saw.
        let mut restore: Vec<PathBuf> = self.repo.data.clone();
        restore.extend(self.repo.config.clone());
        for p in restore {
            let uri = file_uri(&p);
            let Some(original) = self.file(&uri).original.clone() else { continue };
            if self.file(&uri).editor.is_some() {
                self.note(format!("restore {uri}"));
                self.did_change(&mut live, &uri, vec![json!({"text": original.clone()})], original.clone());
            }
            if self.file(&uri).disk != Disk::Text(original.clone()) {
                self.write_text(&mut live, &p, original);
            }
        }
        self.quiesce(&mut live, Duration::from_millis(2500), Duration::from_secs(120));
        self.check_rss(&mut live, limit_kib);
        let open = self.open_uris();
        let dead = live.server.closed;
        let fuzzed: Vec<Vec<String>> = open.iter().map(|u| normalize(live.diags.get(u))).collect();
        self.stop(live);
        if !dead {
            let mut fresh = self.start()?;
            // A fresh server's first check waits for its repo index, which can take longer
            // than the quiet period (debug builds): wait for a publish for every document
            // the fuzzed server has diagnostics for (at most a minute), then for quiet.
            let expect: Vec<String> = open.iter().zip(&fuzzed).filter(|(_, d)| !d.is_empty()).map(|(u, _)| u.clone()).collect();
            let end = Instant::now() + Duration::from_secs(60);
            while Instant::now() < end && !fresh.server.closed && !expect.iter().all(|u| fresh.diags.contains_key(u)) {
                self.pump(&mut fresh, Duration::from_millis(100));
            }
            self.quiesce(&mut fresh, Duration::from_millis(2500), Duration::from_secs(120));
            let clean: Vec<Vec<String>> = open.iter().map(|u| normalize(fresh.diags.get(u))).collect();
            self.stop(fresh);
            for ((uri, a), b) in open.iter().zip(&fuzzed).zip(&clean) {
                if a != b {
                    self.figures.stale_final += 1;
                    let only_a: Vec<&String> = a.iter().filter(|x| !b.contains(x)).take(3).collect();
                    let only_b: Vec<&String> = b.iter().filter(|x| !a.contains(x)).take(3).collect();
                    self.violation(format!(
                        "stale final diagnostics for {uri}:\n      fuzzed server only: {only_a:?}\n      fresh server only:  {only_b:?}"
                    ));
                }
            }
        }
        if self.cfg.cli {
            self.cli_runs();
        }
        Ok(())
    }

    fn cli(&mut self, args: &[&str]) -> Option<(i32, String)> {
        let out = std::env::temp_dir().join(format!("homelab-fuzz-cli-{}.out", std::process::id()));
        let file = std::fs::File::create(&out).ok()?;
        let err = file.try_clone().ok()?;
        let mut command = std::process::Command::new(&self.cfg.server);
        command.env("HOMELAB_LSP_SCHEMA_CACHE", self.state_dir.path().join("schemas"));
        if let Some(store) = &self.cfg.schemas {
            command.env("HOMELAB_LSP_SCHEMA_MIRROR", format!("https://={}", schema_mirror(store)));
        }
        let mut child =
            command.args(args).current_dir(self.repo.root()).stdin(std::process::Stdio::null()).stdout(file).stderr(err).spawn().ok()?;
        self.figures.cli_runs += 1;
        let end = Instant::now() + CLI_TIMEOUT;
        let status = loop {
            if let Ok(Some(s)) = child.try_wait() {
                break Some(s);
            }
            if Instant::now() >= end {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = String::from_utf8_lossy(&std::fs::read(&out).unwrap_or_default()).into_owned();
        let _ = std::fs::remove_file(&out);
        let what = args.join(" ");
        if text.contains(&self.repo.secret) {
            self.figures.secret_leaks += 1;
            let line = text.lines().find(|l| l.contains(&self.repo.secret)).unwrap_or_default().replace(&self.repo.secret, "<SECRET>");
            self.violation(format!("secret value in the output of `{what}`: {}", shorten(&line, 200)));
        }
        match status.and_then(|s| s.code()) {
            // 0: clean, 1: findings, 2: the project cannot be loaded (reported).
            Some(c @ (0..=2)) => Some((c, text)),
            other => {
                self.figures.cli_failures += 1;
                let tail: Vec<&str> = text.lines().rev().take(5).collect();
                self.violation(format!("`{what}` ended with {other:?} (timeout or signal or panic): {}", tail.join(" | ")));
                None
            }
        }
    }

    fn cli_runs(&mut self) {
        let out = std::env::temp_dir().join(format!("homelab-fuzz-render-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let check = self.cli(&["check", "--plugins", "emulate", "--offline"]);
        if self.repo.config.is_some() {
            let o = out.to_string_lossy().into_owned();
            let render = self.cli(&["render", "--plugins", "emulate", "-o", &o]);
            if let (Some((0, _)), Some((1 | 2, r))) = (&check, &render) {
                self.figures.cli_failures += 1;
                let tail: Vec<&str> = r.lines().rev().take(4).collect();
                self.violation(format!("`check` passes what `render` rejects: {}", tail.join(" | ")));
            }
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// The `file://` URL of a `HOST/PATH` schema store, as a mirror of `https://`.
fn schema_mirror(store: &Path) -> String {
    format!("file://{}/", store.display())
}

/// Diagnostics as comparable strings (range, severity, code, message), sorted.
fn normalize(d: Option<&Vec<Value>>) -> Vec<String> {
    let mut v: Vec<String> =
        d.into_iter().flatten().map(|d| format!("{} {} {} {}", d["range"], d["severity"], d["code"], d["message"])).collect();
    v.sort();
    v
}

/// One round on a copy of `src`; `plugins`: with the repo's plugin run in Python (when the
/// config names a Python), so its errors and logs pass the secret checks too.
pub fn round(cfg: &Config, src: &Path, seed: u64, plugins: bool, figures: &mut Figures) -> std::io::Result<()> {
    let repo = repo::prepare(src, seed)?;
    let round_name = format!("{} seed {seed}", src.file_name().unwrap_or_default().to_string_lossy());
    let mut fz = Fuzzer {
        cfg,
        rng: Rng::new(seed),
        repo,
        files: HashMap::new(),
        figures,
        log: VecDeque::new(),
        round_name,
        special_counter: 0,
        violations_this_round: 0,
        plugins: plugins && cfg.python.is_some(),
        state_dir: repo::TempDir::named("homelab-fuzz-state", seed)?,
    };
    if fz.plugins {
        fz.figures.plugin_rounds += 1;
    }
    fz.run()
}
