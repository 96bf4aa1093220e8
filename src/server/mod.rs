//! The language server: the only code that knows LSP types and JSON. Notifications mutate
//! the state in arrival order under one lock; requests take a snapshot and run on the
//! blocking pool behind `catch_unwind`, so a panic becomes an error response.

mod background;
pub mod convert;
mod index_cache;
mod plugins;
mod publish_gate;
pub mod settings;
pub mod state;

use crate::ide::{self, Analysis, FileRange, ProjectAnalysis};
use crate::workspace::{config, Project};
use convert::{path_to_uri, uri_to_path, Encoding, LineIndex};
use serde::{Deserialize, Serialize};
use settings::Settings;
use state::{Document, State};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tower_lsp_server::jsonrpc::{Error as RpcError, Result as RpcResult};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

/// Debounce before re-checking the whole workspace (after reloads).
const PUBLISH_ALL_DEBOUNCE_MS: u64 = 100;
/// Watched-file changes re-checked one by one; more than this re-check the workspace.
const MAX_SINGLE_FILE_RECHECKS: usize = 32;

pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    /// Per-document generation: a diagnostics run publishes only if still the latest.
    generations: Arc<dashmap::DashMap<PathBuf, u64>>,
    /// Repo indexes (gateways, secrets, sources) by project root, one build at a time.
    indexes: Arc<index_cache::IndexCache>,
    /// Slots for background work (diagnostics runs, index builds): requests run outside
    /// them, so a storm of re-checks cannot take every core from them.
    background: Arc<background::Slots>,
    /// What was last published per file: an older run's result never replaces a newer
    /// one, and files holding diagnostics can be cleared. Held while sending, so the
    /// client receives publishes in the order they were admitted.
    published: Arc<tokio::sync::Mutex<publish_gate::PublishGate>>,
    /// Project loads in flight. tower-lsp runs handlers concurrently, so a notification
    /// that reloads a project (watched files, data or config edits, folders) counts itself
    /// here before its first `await`, and requests wait for the ones that began before
    /// them: they see every change sent before them.
    reloads: Arc<tokio::sync::watch::Sender<Reloads>>,
    /// Per-root load generation: only the latest started load installs its project.
    load_generations: Arc<dashmap::DashMap<PathBuf, u64>>,
    /// One load per root at a time; loads queued behind it that are no longer the latest
    /// are skipped (a burst of data-file keystrokes loads twice, not once per key).
    load_locks: Arc<dashmap::DashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    /// Whole-workspace diagnostics runs: a newer run supersedes (and stops) older ones.
    publish_generation: Arc<std::sync::atomic::AtomicU64>,
    /// Documents with a diagnostics run in flight (see `schedule`).
    checking: Arc<dashmap::DashMap<PathBuf, ()>>,
    /// The projects' plugins run in Python (see `plugins`).
    plugins: Arc<plugins::PluginHost>,
    /// Background tasks alive (`homelab/backgroundWork`).
    busy: Arc<background::Busy>,
}

/// A watched file that changed without needing its project reloaded.
struct ChangedFile {
    root: PathBuf,
    path: PathBuf,
    /// Hand-written YAML, whose definitions the repo index holds (a generated output's are
    /// its template's render).
    in_index: bool,
}

/// Unmarks a document's diagnostics run if it ends other than normally (a panic).
struct InFlight {
    checking: Arc<dashmap::DashMap<PathBuf, ()>>,
    path: PathBuf,
    armed: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.armed {
            self.checking.remove(&self.path);
        }
    }
}

/// The reloads in flight, by ticket (the order they began in).
#[derive(Default)]
struct Reloads {
    next: u64,
    in_flight: std::collections::BTreeSet<u64>,
}

/// Holds back requests while a reload runs (see `Backend::reloads`); released on drop.
struct ReloadGuard(Arc<tokio::sync::watch::Sender<Reloads>>, u64);

impl Drop for ReloadGuard {
    fn drop(&mut self) {
        let ticket = self.1;
        self.0.send_modify(|r| {
            r.in_flight.remove(&ticket);
        });
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wall-clock time of all the renders one request makes (a render diff or the index of
/// workspace symbols renders every template): past it they stop with a render error, so
/// the answer comes within about this time plus the work around the renders.
const REQUEST_RENDER_TIME: std::time::Duration = std::time::Duration::from_millis(1_500);

/// Sets the flag of a request's renders when the request future is dropped before its
/// work finished: the client cancelled it (tower-lsp-server answers -32800 and drops the
/// future), and the blocking work stops at its next budget check instead of running on.
struct CancelOnDrop(Option<Arc<std::sync::atomic::AtomicBool>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Runs `f` on the blocking pool under a request's budget (see [`REQUEST_RENDER_TIME`]);
/// a panic becomes an internal-error response.
async fn run<T: Send + 'static>(what: &'static str, f: impl FnOnce() -> T + Send + 'static) -> RpcResult<T> {
    run_within(what, Some(REQUEST_RENDER_TIME), f).await
}

/// [`run`] for work no one waits on (diagnostics): its renders are bounded by fuel and
/// output, not by the clock, so what is published does not depend on the machine's load
/// (a wall-clock stop under the load of a workspace check was a false `render-error`).
async fn run_background<T: Send + 'static>(what: &'static str, f: impl FnOnce() -> T + Send + 'static) -> RpcResult<T> {
    run_within(what, None, f).await
}

async fn run_within<T: Send + 'static>(
    what: &'static str,
    time: Option<std::time::Duration>,
    f: impl FnOnce() -> T + Send + 'static,
) -> RpcResult<T> {
    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let limits =
        crate::template::budget::JobLimits { deadline: time.map(|t| std::time::Instant::now() + t), cancelled: Some(cancelled.clone()) };
    let mut cancel_on_drop = CancelOnDrop(Some(cancelled));
    let joined = tokio::task::spawn_blocking(move || {
        crate::template::budget::with_job(limits, || std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)))
    })
    .await;
    // Finished: nothing is left to cancel.
    cancel_on_drop.0 = None;
    match joined {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(panic)) => {
            // Never the panic's message: it may quote the file being handled.
            let msg = crate::panics::describe(&*panic);
            Err(RpcError {
                code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
                message: format!("{what} failed: internal error ({msg})").into(),
                data: None,
            })
        }
        Err(e) => Err(RpcError {
            code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
            message: format!("{what} failed: {e}").into(),
            data: None,
        }),
    }
}

fn invalid_params(msg: impl Into<String>) -> RpcError {
    RpcError { code: tower_lsp_server::jsonrpc::ErrorCode::InvalidParams, message: msg.into().into(), data: None }
}

/// Finds the projects under a workspace folder: every `makejinja.toml` (not inside hidden
/// or vendored directories), else a fallback layout at the folder or an ancestor.
pub fn discover_projects(folder: &Path) -> Vec<(PathBuf, config::Layout)> {
    let mut out: Vec<(PathBuf, config::Layout)> = walkdir::WalkDir::new(folder)
        .max_depth(6)
        .into_iter()
        .filter_entry(|e| {
            let n = e.file_name().to_string_lossy();
            e.depth() == 0 || !(e.file_type().is_dir() && (n.starts_with('.') || n == "node_modules" || n == "target" || n == "kubernetes"))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name() == config::CONFIG_FILE)
        .filter_map(|e| e.path().parent().map(|p| (p.to_path_buf(), config::Layout::Configured)))
        .collect();
    if out.is_empty() {
        if let Some(found) = config::discover_root(folder) {
            out.push(found);
        }
    }
    out
}

impl Backend {
    fn new(client: Client) -> Self {
        Self {
            client,
            state: Arc::new(Mutex::new(State::default())),
            generations: Default::default(),
            indexes: Default::default(),
            background: Arc::new(background::Slots::for_this_machine()),
            published: Default::default(),
            reloads: Arc::new(tokio::sync::watch::channel(Reloads::default()).0),
            load_generations: Default::default(),
            load_locks: Default::default(),
            publish_generation: Default::default(),
            checking: Default::default(),
            plugins: Default::default(),
            busy: Default::default(),
        }
    }

    /// Marks a reload in flight until the guard drops. Call before the handler's first
    /// `await`, so requests that arrive after the notification wait for it.
    fn begin_reload(&self) -> ReloadGuard {
        let mut ticket = 0;
        self.reloads.send_modify(|r| {
            ticket = r.next;
            r.next += 1;
            r.in_flight.insert(ticket);
        });
        ReloadGuard(self.reloads.clone(), ticket)
    }

    /// Waits until the reloads that began before this call have ended (every request
    /// starts with this). Reloads that begin later (the next keystroke in a data file) are
    /// not waited for: under a stream of edits a request would otherwise never answer.
    async fn settled(&self) {
        let mut rx = self.reloads.subscribe();
        let before = rx.borrow().next;
        let _ = rx.wait_for(|r| r.in_flight.first().is_none_or(|&t| t >= before)).await;
    }

    fn snapshot(&self) -> Analysis {
        lock(&self.state).analysis()
    }

    /// The snapshot a diagnostics run computes from, with its change count and versions.
    fn stamped_snapshot(&self) -> state::Snapshot {
        lock(&self.state).snapshot()
    }

    fn encoding(&self) -> Encoding {
        lock(&self.state).encoding
    }

    /// (path, byte offset) of a text document position.
    fn locate(&self, params: &TextDocumentPositionParams) -> RpcResult<(PathBuf, usize)> {
        let path = uri_to_path(&params.text_document.uri).ok_or_else(|| invalid_params("not a file: URI"))?;
        let offset = lock(&self.state)
            .line_index_offset(&path, params.position)
            .ok_or_else(|| invalid_params(format!("unknown file {}", path.display())))?;
        Ok((path, offset))
    }

    /// Loads (or reloads) the projects of all folders, with work-done progress. `guard`
    /// (taken by the caller) is released once the projects are loaded.
    async fn index_all(&self, guard: ReloadGuard) {
        let folders = lock(&self.state).folders.clone();
        let token = NumberOrString::String("homelab-lsp/indexing".into());
        let can_progress = lock(&self.state).client_caps.work_done_progress;
        let created = can_progress && self.client.create_work_done_progress(token.clone()).await.is_ok();
        let progress = if created {
            Some(self.client.progress(token, "Indexing").with_message("looking for makejinja projects").begin().await)
        } else {
            None
        };
        let roots: Vec<(PathBuf, config::Layout)> = {
            let folders = folders.clone();
            tokio::task::spawn_blocking(move || folders.iter().flat_map(|f| discover_projects(f)).collect()).await.unwrap_or_default()
        };
        for (root, layout) in &roots {
            if let Some(p) = &progress {
                p.report(format!("loading {}", root.display())).await;
            }
            self.load_project(root, *layout).await;
        }
        drop(guard);
        let n = lock(&self.state).projects.len();
        if let Some(p) = progress {
            p.finish_with_message(format!("{n} project{} indexed", if n == 1 { "" } else { "s" })).await;
        }
        self.client.log_message(MessageType::INFO, format!("homelab-lsp: indexed {n} project(s)")).await;
        let roots: Vec<PathBuf> = lock(&self.state).projects.keys().cloned().collect();
        for root in roots {
            let problems = lock(&self.state).repo_config_problems(&root);
            self.log_repo_config_problems(&root, &problems).await;
        }
        self.schedule_publish_all();
    }

    /// If `path` is a project's `.homelab-lsp.toml`, reads it again (the open text, else
    /// the disk), logs what it gets wrong and re-checks the workspace. Whether it was one.
    async fn repo_config_changed(&self, path: &Path) -> bool {
        if path.file_name().is_none_or(|n| n != crate::schema::config::FILE_NAME) {
            return false;
        }
        let Some(root) = path.parent() else { return false };
        let problems = {
            let mut st = lock(&self.state);
            if !st.projects.contains_key(root) {
                return false;
            }
            st.reload_repo_config(root)
        };
        self.client.log_message(MessageType::INFO, format!("homelab-lsp: {} reloaded", path.display())).await;
        self.log_repo_config_problems(root, &problems).await;
        self.schedule_publish_all();
        true
    }

    async fn log_repo_config_problems(&self, root: &Path, problems: &[String]) {
        for p in problems {
            self.client.log_message(MessageType::WARNING, format!("homelab-lsp: {}: {p}", root.display())).await;
        }
    }

    async fn load_project(&self, root: &Path, layout: config::Layout) {
        let generation = {
            let mut g = self.load_generations.entry(root.to_path_buf()).or_insert(0);
            *g += 1;
            *g
        };
        let root_lock = self.load_locks.entry(root.to_path_buf()).or_default().clone();
        let _one_at_a_time = root_lock.lock().await;
        if self.load_generations.get(root).map(|g| *g) != Some(generation) {
            return; // a later change of this root is queued and will load the newer text
        }
        let (vfs, previous) = {
            let mut st = lock(&self.state);
            (st.overlay_vfs(), st.projects.get(root).cloned())
        };
        let root_owned = root.to_path_buf();
        let loaded = tokio::task::spawn_blocking(move || {
            let result = load_keeping_good_data(&root_owned, layout, vfs.clone(), previous.as_deref());
            // While the config does not load, the last good project answers, with its
            // templates' current texts: the ones it loaded may have changed on disk since.
            let refreshed = match (&result, previous.as_deref()) {
                (Err(_), Some(p)) => Some(Box::new(p.with_current_sources(&vfs))),
                _ => None,
            };
            (result, refreshed)
        })
        .await
        .map(|(result, refreshed)| result.map_err(|e| (e, refreshed)));
        let mut st = lock(&self.state);
        if self.load_generations.get(root).map(|g| *g) != Some(generation) {
            return; // a later load of this root (newer text) is running and will install its result
        }
        match loaded {
            Ok(Ok(project)) => {
                st.broken.remove(root);
                let project = self.plugins.loaded(root, project, st.projects.get(root));
                st.projects.insert(root.to_path_buf(), Arc::new(project));
                self.schedule_plugins(root.to_path_buf());
            }
            Ok(Err((e, refreshed))) => {
                // A config broken mid-edit keeps the last good project answering (the error
                // shows on makejinja.toml); a config that is gone takes the project with it.
                let still_there = st.docs.contains_key(&e.file) || e.file.is_file();
                if !still_there {
                    st.projects.remove(root);
                } else if let Some(p) = refreshed {
                    st.projects.insert(root.to_path_buf(), Arc::new(*p));
                }
                st.broken.insert(root.to_path_buf(), e);
            }
            Err(_) => {}
        }
        st.invalidate();
        drop(st);
        self.indexes.invalidate(root);
    }

    /// The repo index of a project, built on first use (off the async threads, in a
    /// background slot), one build per root at a time.
    async fn repo_index(&self, pa: &Arc<ProjectAnalysis>) -> Arc<crate::yaml::RepoIndex> {
        let root = pa.project.config.root.clone();
        let (pa2, project, state) = (pa.clone(), pa.project.clone(), self.state.clone());
        let still_current = move || lock(&state).projects.get(&project.config.root).is_some_and(|p| Arc::ptr_eq(p, &project));
        self.indexes.get_or_build(&root, self.background.semaphore(), move || ide::diagnostics::repo_index(&pa2), still_current).await
    }

    /// Checks every file of every project (after indexing and watched-file changes).
    /// Re-checks the whole workspace after a short pause, off the notification that asked:
    /// a burst of changes runs it once, and a newer run stops an older one.
    fn schedule_publish_all(&self) {
        let generation = self.publish_generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let this = self.clone_handles();
        self.busy.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(PUBLISH_ALL_DEBOUNCE_MS)).await;
            this.publish_all(generation).await;
        });
    }

    fn publish_superseded(&self, generation: u64) -> bool {
        self.publish_generation.load(std::sync::atomic::Ordering::SeqCst) != generation
    }

    async fn publish_all(&self, generation: u64) {
        if self.publish_superseded(generation) {
            return;
        }
        let snap = self.stamped_snapshot();
        let analysis = &snap.analysis;
        let mut files: Vec<PathBuf> = Vec::new();
        for pa in &analysis.projects {
            let pa2 = pa.clone();
            let mut f = tokio::task::spawn_blocking(move || {
                let mut v: Vec<PathBuf> = pa2
                    .project
                    .inventory
                    .all_files
                    .iter()
                    .map(|(_, _, p)| p.clone())
                    .filter(|p| p.to_string_lossy().ends_with(".j2"))
                    .collect();
                v.extend(ide::diagnostics::plain_yaml_files(&pa2));
                v.extend(ide::diagnostics::generated_files(&pa2));
                v.extend(pa2.project.problems.iter().map(|p| p.file.clone()));
                v
            })
            .await
            .unwrap_or_default();
            files.append(&mut f);
        }
        let broken: Vec<PathBuf> = lock(&self.state).broken.values().map(|e| e.file.clone()).collect();
        files.extend(broken);
        files.extend(lock(&self.state).docs.keys().cloned());
        files.sort();
        files.dedup();
        // Clear what no longer applies.
        let stale: Vec<PathBuf> = self.published.lock().await.nonempty().into_iter().filter(|p| !files.contains(p)).collect();
        for p in stale {
            let Some(uri) = path_to_uri(&p) else { continue };
            let mut gate = self.published.lock().await;
            if gate.admit(&p, snap.seq, true) {
                self.client.publish_diagnostics(uri, Vec::new(), None).await;
            }
        }
        for f in files {
            if self.publish_superseded(generation) {
                return;
            }
            // A document edited after this snapshot is left to its own run (`publish_file`).
            self.publish_file(&snap, &f, None).await;
        }
    }

    /// Re-checks one document now, without a debounce: a check of a normal file takes a
    /// few milliseconds, so waiting would only add latency. At most one run per document is
    /// in flight; edits that arrive during it are coalesced into one more run on the latest
    /// text, so a burst of changes never queues a run per change, and a result computed
    /// for an older version is dropped (`publish_file` compares generations).
    fn schedule(&self, path: PathBuf) {
        {
            let mut g = self.generations.entry(path.clone()).or_insert(0);
            *g += 1;
        }
        match self.checking.entry(path.clone()) {
            // The run in flight sees the new generation when it ends and goes once more.
            dashmap::Entry::Occupied(_) => return,
            dashmap::Entry::Vacant(v) => {
                v.insert(());
            }
        }
        let this = self.clone_handles();
        self.busy.spawn(async move {
            // Should the run die, the document must not stay marked as being checked.
            let mut in_flight = InFlight { checking: this.checking.clone(), path: path.clone(), armed: true };
            loop {
                let generation = this.generations.get(&path).map(|g| *g);
                let snap = this.stamped_snapshot();
                this.publish_file(&snap, &path, generation).await;
                // Done unless an edit arrived meanwhile (the generation moved on).
                let mut again = false;
                this.checking.remove_if(&path, |_, _| {
                    again = this.generations.get(&path).map(|g| *g) != generation;
                    !again
                });
                if !again {
                    in_flight.armed = false;
                    break;
                }
            }
        });
    }

    /// A request about one whole document: waits for reloads, then runs `f` on the blocking
    /// pool with the snapshot, the path, the document's current text and its line index.
    async fn on_document<T: Send + 'static>(
        &self,
        what: &'static str,
        uri: &Uri,
        f: impl FnOnce(&Analysis, &Path, &LineIndex, Encoding) -> T + Send + 'static,
    ) -> RpcResult<T> {
        self.settled().await;
        let path = uri_to_path(uri).ok_or_else(|| invalid_params("not a file: URI"))?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        run(what, move || {
            let text = analysis.text(&path);
            f(&analysis, &path, &LineIndex::new(&text), enc)
        })
        .await
    }

    /// Hand-written YAML files and generated outputs changed on disk: their own diagnostics
    /// are re-checked, and the repo index is patched with what each file now defines. Only
    /// when that changed (a Gateway, Secret or Flux source added, renamed or removed) do the
    /// other files' reference checks need a whole-workspace run.
    async fn update_plain_files(&self, changed: Vec<ChangedFile>) {
        if changed.is_empty() {
            return;
        }
        // A burst (`task configure` rewriting every generated file, a branch switch) is one
        // sequential workspace run over a rebuilt index, not hundreds of patches and checks.
        if changed.len() > MAX_SINGLE_FILE_RECHECKS {
            for c in &changed {
                self.indexes.invalidate(&c.root);
            }
            self.schedule_publish_all();
            return;
        }
        let mut definitions_changed = false;
        // Generated outputs are not in the index (their templates' renders are).
        for ChangedFile { root, path, .. } in changed.iter().filter(|c| c.in_index) {
            let Some(index) = self.indexes.get(root) else { continue };
            let open = lock(&self.state).docs.get_mut(path).map(|d| d.text());
            let (path2, before) = (path.clone(), index.clone());
            let patched = tokio::task::spawn_blocking(move || {
                let text = open.or_else(|| crate::workspace::vfs::read_text_file(&path2).ok().map(Arc::from));
                let mut index = (*before).clone();
                let changed = index.replace_file(&path2, text.map(|t| crate::yaml::facts(&t, &path2)));
                (changed, index)
            })
            .await;
            if let Ok((true, patched)) = patched {
                definitions_changed = true;
                // Only over the index it was made from: a reload meanwhile dropped it, and
                // the next use rebuilds it from scratch.
                self.indexes.patch(root, &index, patched);
            }
        }
        if definitions_changed {
            self.schedule_publish_all();
        } else {
            for c in changed {
                self.schedule(c.path);
            }
        }
    }

    /// The repo index of the project holding `path` when it is built already: requests never
    /// wait for a whole-repo build (references resolve once the first check has run).
    fn cached_index(&self, analysis: &Analysis, path: &Path) -> Option<Arc<crate::yaml::RepoIndex>> {
        let pa = analysis.project_for(path)?;
        self.indexes.get(&pa.project.config.root)
    }

    fn clone_handles(&self) -> Backend {
        Backend {
            client: self.client.clone(),
            state: self.state.clone(),
            generations: self.generations.clone(),
            indexes: self.indexes.clone(),
            background: self.background.clone(),
            published: self.published.clone(),
            reloads: self.reloads.clone(),
            load_generations: self.load_generations.clone(),
            load_locks: self.load_locks.clone(),
            publish_generation: self.publish_generation.clone(),
            checking: self.checking.clone(),
            plugins: self.plugins.clone(),
            busy: self.busy.clone(),
        }
    }

    /// Computes one file's diagnostics from `snap` and publishes them, unless the document
    /// changed since the snapshot (its own run publishes the newer text), a newer edit of it
    /// has a run of its own (`generation`, for per-document runs), or a run from a newer
    /// state published already (`publish_gate`).
    async fn publish_file(&self, snap: &state::Snapshot, path: &Path, generation: Option<u64>) {
        let Some(uri) = path_to_uri(path) else { return };
        let analysis = &snap.analysis;
        let version = snap.versions.get(path).copied();
        let (enc, rules, config_error, open_text, config_broken) = {
            let mut st = lock(&self.state);
            let config_error = st.broken.values().find(|e| e.file == path).cloned();
            let config_broken = st.root_for(path).is_some_and(|r| st.broken.contains_key(&r));
            let open = st.docs.get_mut(path).map(|d| d.text());
            (st.encoding, st.rules_for(path), config_error, open, config_broken)
        };
        let pa = analysis.project_for(path).cloned();
        // The editor's text this run checks, if the document was open in the snapshot.
        let snapshot_text = pa.as_ref().and_then(|pa| pa.docs.get(path).cloned());
        let index = match &pa {
            Some(pa) => Some(self.repo_index(pa).await),
            None => None,
        };
        // Queued behind other background work: a run whose result would be dropped anyway
        // (a newer edit has its own run, the document moved on) ends without working.
        let still_wanted = || generation.is_none_or(|g| self.generations.get(path).map(|x| *x) == Some(g)) && self.still_at(path, version);
        let path_owned = path.to_path_buf();
        let closed = version.is_none();
        let result = self
            .background
            .run_if(
                still_wanted,
                run_background("diagnostics", move || {
                    // A closed file is read from disk, more than once in a run: when it changed
                    // meanwhile, the ranges found in one read would be placed in another.
                    let disk_before = closed.then(|| disk_stamp(&path_owned));
                    let mut diags = Vec::new();
                    let mut text: Option<Arc<str>> = None;
                    if let Some(pa) = &pa {
                        diags = ide::diagnostics::file_diagnostics(pa, &path_owned, index.as_deref());
                        text = pa.text(&path_owned);
                        // While makejinja.toml does not load, the project answering is the last good
                        // one, whose data-file errors are those of the text it loaded: a data file's
                        // syntax is checked on its current text instead. The same when the project
                        // holds another text of the data file than the file has now (its last valid
                        // version while it does not parse, or a reload is still running): findings
                        // positioned in that text would land anywhere in this one.
                        if let Some(df) = pa.project.data_files.iter().find(|d| d.path == path_owned) {
                            let current: Option<Arc<str>> = match pa.docs.get(&path_owned) {
                                Some(t) => Some(t.clone()),
                                None => crate::workspace::vfs::read_text_file(&path_owned).ok().map(Arc::from),
                            };
                            let loaded_other = current.as_deref() != df.text.as_deref();
                            if let (true, Some(t)) = (config_broken || loaded_other, current) {
                                // The project parsed a text this one is not: its last valid one.
                                let kept_last_valid = !config_broken && df.root.is_some();
                                if loaded_other {
                                    diags.clear();
                                } else {
                                    diags.retain(|d| d.code != "data-error");
                                }
                                if let Some(Err(e)) = crate::workspace::data::load_data_text(&path_owned, &t, 0) {
                                    let start = ide::diagnostics::offset_of(&t, e.line.unwrap_or(0), e.col.unwrap_or(0));
                                    diags.push(ide::diagnostics::Diag {
                                        code: "data-error",
                                        severity: crate::yaml::Severity::Error,
                                        range: start..(start + 1).min(t.len()).max(start),
                                        message: if kept_last_valid { format!("{}{KEPT_LAST_VALID}", e.message) } else { e.message },
                                        related: Vec::new(),
                                        fixes: Vec::new(),
                                    });
                                }
                                text = Some(t);
                            }
                        }
                    }
                    if let Some(e) = config_error {
                        // The error was found in the text the load read: the editor's while the file
                        // is open (the version published), else the file on disk.
                        let t = match open_text {
                            Some(t) => t.to_string(),
                            None => crate::workspace::vfs::read_text_file(&path_owned).unwrap_or_default(),
                        };
                        let start = ide::diagnostics::offset_of(&t, e.line.unwrap_or(0), e.col.unwrap_or(0));
                        diags.push(ide::diagnostics::Diag {
                            code: "config-error",
                            severity: crate::yaml::Severity::Error,
                            range: start..(start + 1).min(t.len()).max(start),
                            message: e.message.clone(),
                            related: Vec::new(),
                            fixes: Vec::new(),
                        });
                        text = Some(Arc::from(t));
                    }
                    let text = text.unwrap_or_default();
                    // Related locations in other files are positioned in the text this run saw
                    // (an open document's, else the file on disk).
                    let text_of = |p: &Path| pa.as_ref().and_then(|pa| pa.text(p));
                    let diags = to_lsp_diagnostics(&diags, &text, enc, &rules, &text_of);
                    let changed_meanwhile = disk_before.is_some_and(|b| b != disk_stamp(&path_owned));
                    (diags, changed_meanwhile)
                }),
            )
            .await;
        let Some(Ok((diags, changed_meanwhile))) = result else { return };
        if changed_meanwhile {
            // Checked again on what is there now (without waiting for the watcher's event).
            self.schedule(path.to_path_buf());
            return;
        }
        if let Some(g) = generation {
            if self.generations.get(path).map(|x| *x) != Some(g) {
                return; // a newer edit arrived; its run will publish
            }
        }
        // Publish only diagnostics of the text the document has at the version named: a
        // workspace run may have started from an older snapshot than the latest edit, open
        // or close. Its result would be stale (and its ranges may lie past the end of the
        // document); the edit, open or close started a run of its own on the newer text.
        let current = {
            let mut st = lock(&self.state);
            st.docs.get_mut(path).map(|d| (d.version, d.text()))
        };
        let unchanged = match (current, version) {
            (Some((now_version, now_text)), Some(v)) => now_version == v && snapshot_text.is_none_or(|t| *t == *now_text),
            (None, None) => true,
            _ => false,
        };
        if !unchanged {
            return;
        }
        let mut gate = self.published.lock().await;
        if gate.admit(path, snap.seq, diags.is_empty()) {
            self.client.publish_diagnostics(uri, diags, version).await;
        }
    }

    /// Whether the document is still at `version` (None: closed), so a run on a snapshot
    /// with that version may publish.
    fn still_at(&self, path: &Path, version: Option<i32>) -> bool {
        let now = lock(&self.state).docs.get(path).map(|d| d.version);
        now == version
    }

    /// The root of the project whose loaded sources hold another text of `path` than the
    /// disk: a template open while its project loaded was read from the editor, and once
    /// closed it must be checked (and rendered) as the file on disk, as a fresh server does.
    fn holds_editor_text(st: &State, path: &Path) -> Option<PathBuf> {
        let root = st.root_for(path)?;
        let loaded = st.projects.get(&root)?.sources.get(path)?.clone();
        let disk = crate::workspace::vfs::read_text_file(path).map_err(|e| e.to_string());
        let same = match (&loaded, &disk) {
            (Ok(a), Ok(b)) => **a == **b,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        (!same).then_some(root)
    }

    /// Whether a path change requires reloading its project (data, config, plugin, inventory).
    fn affects_project(st: &State, path: &Path) -> Option<PathBuf> {
        let root = st.root_for(path)?;
        if let Some(p) = st.projects.get(&root) {
            let is_data = p.data_files.iter().any(|d| d.path == path) || p.config.data.iter().any(|d| path.starts_with(d));
            let is_config = p.config.config_file.as_deref() == Some(path);
            let is_plugin = p.plugin.file.as_deref() == Some(path) || path.extension().is_some_and(|e| e == "py");
            // A plugin may read data files of its own at the root (`cluster.toml`).
            let is_plugin = is_plugin || (!p.config.plugins.is_empty() && plugins::is_root_data_file(&root, path));
            if is_data || is_config || is_plugin {
                return Some(root);
            }
        } else {
            return Some(root);
        }
        None
    }
}

/// Appended to the error of a data file that no longer parses while its last valid text is used.
const KEPT_LAST_VALID: &str = " (using the last valid version of this file meanwhile)";

/// What tells a file's versions on disk apart without reading it: size and modification time.
fn disk_stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Loads a project; a data file that no longer parses (typically mid-edit) is read as its
/// last good text, so values, hovers and checks of the templates stay put while the data
/// file shows its error.
fn load_keeping_good_data(
    root: &Path,
    layout: config::Layout,
    vfs: state::OverlayVfs,
    previous: Option<&Project>,
) -> Result<Project, config::ConfigError> {
    let project = Project::load(root, layout, &vfs)?;
    let Some(previous) = previous else { return Ok(project) };
    let fallbacks: Vec<(PathBuf, Arc<str>)> = project
        .data_files
        .iter()
        .filter(|d| d.root.is_none() && d.error.is_some())
        .filter_map(|d| {
            let good = previous.data_files.iter().find(|o| o.path == d.path && o.root.is_some())?;
            Some((d.path.clone(), good.text.clone()?))
        })
        .collect();
    if fallbacks.is_empty() {
        return Ok(project);
    }
    let errors: Vec<crate::workspace::ProjectProblem> = project
        .problems
        .iter()
        .filter(|p| fallbacks.iter().any(|(f, _)| *f == p.file))
        .map(|p| crate::workspace::ProjectProblem { message: format!("{}{KEPT_LAST_VALID}", p.message), ..p.clone() })
        .collect();
    let mut docs = (*vfs.docs).clone();
    docs.extend(fallbacks);
    let mut kept = Project::load(root, layout, &state::OverlayVfs { docs: Arc::new(docs) })?;
    kept.problems.extend(errors);
    Ok(kept)
}

fn severity_for(code: &str, default: crate::yaml::Severity, rules: &HashMap<String, String>) -> Option<DiagnosticSeverity> {
    let s = match rules.get(code).map(String::as_str) {
        Some("off") => return None,
        Some("error") => DiagnosticSeverity::ERROR,
        Some("warning") => DiagnosticSeverity::WARNING,
        Some("info") => DiagnosticSeverity::INFORMATION,
        Some("hint") => DiagnosticSeverity::HINT,
        _ => match default {
            crate::yaml::Severity::Error => DiagnosticSeverity::ERROR,
            crate::yaml::Severity::Warning => DiagnosticSeverity::WARNING,
            crate::yaml::Severity::Info => DiagnosticSeverity::INFORMATION,
            crate::yaml::Severity::Hint => DiagnosticSeverity::HINT,
        },
    };
    Some(s)
}

fn to_lsp_diagnostics(
    diags: &[ide::diagnostics::Diag],
    text: &str,
    enc: Encoding,
    rules: &HashMap<String, String>,
    text_of: &dyn Fn(&Path) -> Option<Arc<str>>,
) -> Vec<Diagnostic> {
    let idx = LineIndex::new(text);
    diags
        .iter()
        .filter_map(|d| {
            let severity = severity_for(d.code, d.severity, rules)?;
            let related: Vec<DiagnosticRelatedInformation> = d
                .related
                .iter()
                .filter_map(|r| {
                    let uri = path_to_uri(&r.path)?;
                    let range = match &r.range {
                        Some(rr) => {
                            let t = text_of(&r.path)
                                .or_else(|| crate::workspace::vfs::read_text_file(&r.path).ok().map(Arc::from))
                                .unwrap_or_default();
                            LineIndex::new(&t).range(rr, enc)
                        }
                        None => Range::default(),
                    };
                    Some(DiagnosticRelatedInformation { location: Location::new(uri, range), message: r.message.clone() })
                })
                .collect();
            Some(Diagnostic {
                range: idx.range(&d.range, enc),
                severity: Some(severity),
                code: Some(NumberOrString::String(d.code.to_string())),
                source: Some("homelab-lsp".into()),
                message: d.message.clone(),
                related_information: if related.is_empty() { None } else { Some(related) },
                // Only how many fixes there are: their edits may hold whole generated files
                // (and the secret values rendered into them), which a published
                // diagnostic must never carry. `codeAction` computes them again.
                data: if d.fixes.is_empty() { None } else { Some(serde_json::json!({ "fixes": d.fixes.len() })) },
                ..Default::default()
            })
        })
        .collect()
}

fn file_location(analysis: &Analysis, fr: &FileRange, enc: Encoding) -> Option<Location> {
    let text = analysis
        .project_for(&fr.path)
        .and_then(|pa| pa.text(&fr.path))
        .or_else(|| crate::workspace::vfs::read_text_file(&fr.path).ok().map(Arc::from))?;
    Some(Location::new(path_to_uri(&fr.path)?, LineIndex::new(&text).range(&fr.range, enc)))
}

#[derive(Deserialize)]
struct UriParams {
    uri: Uri,
}

#[derive(Deserialize)]
struct UriLineParams {
    uri: Uri,
    line: u32,
}

#[derive(Serialize)]
struct LineRef {
    uri: Uri,
    line: u32,
}

#[derive(Serialize)]
struct PreviewResult {
    text: String,
    #[serde(rename = "lineMap")]
    line_map: Vec<Option<LineRef>>,
    /// Set when the real data file is missing and the preview was rendered from the repo's
    /// sample data (or from no data at all): a label for the preview.
    #[serde(rename = "dataNote", skip_serializing_if = "Option::is_none")]
    data_note: Option<String>,
}

#[derive(Serialize)]
struct UriResult {
    uri: Uri,
}

/// The answer to `homelab/backgroundWork`.
#[derive(Debug, serde::Serialize)]
pub struct BackgroundWork {
    pub tasks: usize,
}

/// One generated file `homelab/renderDiff` reports.
#[derive(Serialize)]
struct RenderedChange {
    uri: Uri,
    /// Relative to the project root.
    path: String,
    /// `new`, `changed` or `removed`.
    change: &'static str,
    /// What a render would write; null when removed or not text.
    fresh: Option<String>,
}

impl Backend {
    async fn rendered_preview(&self, params: UriParams) -> RpcResult<PreviewResult> {
        self.settled().await;
        let path = uri_to_path(&params.uri).ok_or_else(|| invalid_params("not a file: URI"))?;
        let analysis = self.snapshot();
        let result = run("renderedPreview", move || {
            let pa = analysis.project_for(&path).ok_or_else(|| format!("{} is not in a makejinja project", path.display()))?;
            ide::navigation::rendered_preview(pa, &path)
        })
        .await?;
        let preview =
            result.map_err(|m| RpcError { code: tower_lsp_server::jsonrpc::ErrorCode::ServerError(1), message: m.into(), data: None })?;
        let line_map =
            preview.line_map.into_iter().map(|o| o.and_then(|(p, l)| path_to_uri(&p).map(|uri| LineRef { uri, line: l }))).collect();
        Ok(PreviewResult { text: preview.text, line_map, data_note: preview.data_note })
    }

    async fn generated_file(&self, params: UriParams) -> RpcResult<Option<UriResult>> {
        self.settled().await;
        let path = uri_to_path(&params.uri).ok_or_else(|| invalid_params("not a file: URI"))?;
        let analysis = self.snapshot();
        let out =
            run("generatedFile", move || analysis.project_for(&path).and_then(|pa| ide::navigation::generated_file(pa, &path))).await?;
        Ok(out.and_then(|p| path_to_uri(&p)).map(|uri| UriResult { uri }))
    }

    /// What `render --diff` shows for the project holding `uri`: every generated file a
    /// render would create, change or stop writing, with its fresh text.
    async fn render_diff(&self, params: UriParams) -> RpcResult<Vec<RenderedChange>> {
        self.settled().await;
        let path = uri_to_path(&params.uri).ok_or_else(|| invalid_params("not a file: URI"))?;
        let analysis = self.snapshot();
        let diffs = run("renderDiff", move || {
            analysis.project_for(&path).map(|pa| crate::cli::diff::project_diff(&pa.project).0).unwrap_or_default()
        })
        .await?;
        Ok(diffs
            .into_iter()
            .filter_map(|d| {
                let change = match d.change {
                    crate::cli::diff::Change::New => "new",
                    crate::cli::diff::Change::Changed => "changed",
                    crate::cli::diff::Change::Removed => "removed",
                };
                Some(RenderedChange { uri: path_to_uri(&d.output)?, path: d.path, change, fresh: d.fresh })
            })
            .collect())
    }

    /// How many background tasks (checks, reloads, plugin runs, schema loads) are queued or running:
    /// zero once everything the server was told has been checked and published.
    async fn background_work(&self) -> RpcResult<BackgroundWork> {
        let loading: usize = lock(&self.state).schemas.values().map(|(s, _)| s.store.loading()).sum();
        Ok(BackgroundWork { tasks: self.busy.tasks() + loading })
    }

    async fn template_source(&self, params: UriLineParams) -> RpcResult<Option<LineRef>> {
        self.settled().await;
        let path = uri_to_path(&params.uri).ok_or_else(|| invalid_params("not a file: URI"))?;
        let analysis = self.snapshot();
        let line = params.line as usize;
        let out =
            run("templateSource", move || analysis.project_for(&path).and_then(|pa| ide::navigation::template_source(pa, &path, line)))
                .await?;
        Ok(out.and_then(|(p, l)| path_to_uri(&p).map(|uri| LineRef { uri, line: l })))
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> RpcResult<InitializeResult> {
        let mut st = lock(&self.state);
        let utf8 = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
        st.encoding = if utf8 { Encoding::Utf8 } else { Encoding::Utf16 };
        let ws = params.capabilities.workspace.as_ref();
        st.client_caps = state::ClientCaps {
            configuration: ws.and_then(|w| w.configuration).unwrap_or(false),
            watch_registration: ws.and_then(|w| w.did_change_watched_files.as_ref()).and_then(|d| d.dynamic_registration).unwrap_or(false),
            work_done_progress: params.capabilities.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false),
        };
        if let Some(opts) = &params.initialization_options {
            st.settings = Settings::from_json(opts);
        }
        let mut folders: Vec<PathBuf> = params.workspace_folders.unwrap_or_default().iter().filter_map(|f| uri_to_path(&f.uri)).collect();
        #[allow(deprecated)]
        if folders.is_empty() {
            if let Some(root) = params.root_uri.as_ref().and_then(uri_to_path) {
                folders.push(root);
            }
        }
        if folders.is_empty() {
            if let Ok(cwd) = std::env::current_dir() {
                folders.push(cwd);
            }
        }
        st.folders = folders;
        let legend = SemanticTokensLegend {
            token_types: ide::tokens::LEGEND.iter().map(|t| SemanticTokenType::new(t)).collect(),
            token_modifiers: Vec::new(),
        };
        Ok(InitializeResult {
            server_info: Some(ServerInfo { name: "homelab-lsp".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
            capabilities: ServerCapabilities {
                position_encoding: Some(if utf8 { PositionEncodingKind::UTF8 } else { PositionEncodingKind::UTF16 }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..Default::default()
                })),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), "|".into(), " ".into(), "'".into(), "\"".into(), "[".into()]),
                    ..Default::default()
                }),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), ",".into()]),
                    retrigger_characters: Some(vec![" ".into(), "=".into()]),
                    work_done_progress_options: Default::default(),
                }),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                document_highlight_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                selection_range_provider: Some(SelectionRangeProviderCapability::Simple(true)),
                inlay_hint_provider: Some(OneOf::Left(true)),
                document_link_provider: Some(DocumentLinkOptions {
                    resolve_provider: Some(false),
                    work_done_progress_options: Default::default(),
                }),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                    ..Default::default()
                })),
                semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(SemanticTokensOptions {
                    legend,
                    full: Some(SemanticTokensFullOptions::Bool(true)),
                    range: Some(false),
                    ..Default::default()
                })),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..Default::default()
            },
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // Requests wait for the first indexing.
        let guard = self.begin_reload();
        let caps = lock(&self.state).client_caps;
        // Settings from workspace/configuration, when the client supports it.
        if caps.configuration {
            if let Ok(values) =
                self.client.configuration(vec![ConfigurationItem { scope_uri: None, section: Some("homelabLsp".into()) }]).await
            {
                if let Some(v) = values.first().filter(|v| !v.is_null()) {
                    lock(&self.state).settings = Settings::from_json(v);
                }
            }
        }
        let watchers = ["**/makejinja.toml", "**/*.j2", "**/*.{yaml,yml,toml,json}", "**/.mjfilter.py", "**/*.py", "**/*.key", "**/*.txt"]
            .iter()
            .map(|g| FileSystemWatcher { glob_pattern: GlobPattern::String(g.to_string()), kind: None })
            .collect();
        let registration = Registration {
            id: "homelab-lsp-watch".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions { watchers }).ok(),
        };
        if caps.watch_registration {
            let _ = self.client.register_capability(vec![registration]).await;
        }
        // A schema fetched in the background: check everything again with it.
        let (this, rt) = (self.clone_handles(), tokio::runtime::Handle::current());
        lock(&self.state).on_schema_ready = Some(Arc::new(move || {
            let this = this.clone_handles();
            let busy = this.busy.clone();
            busy.spawn_on(&rt, async move {
                lock(&this.state).invalidate();
                this.schedule_publish_all();
            });
        }));
        let this = self.clone_handles();
        self.busy.spawn(async move { this.index_all(guard).await });
    }

    async fn shutdown(&self) -> RpcResult<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let Some(path) = uri_to_path(&params.text_document.uri) else { return };
        let reload = {
            let mut st = lock(&self.state);
            st.docs.insert(path.clone(), Document::new(&params.text_document.text, params.text_document.version));
            st.invalidate();
            Backend::affects_project(&st, &path)
                .filter(|_| crate::workspace::vfs::read_text_file(&path).ok().as_deref() != Some(params.text_document.text.as_str()))
        };
        if let Some(root) = reload {
            self.reload(root, self.begin_reload()).await;
        }
        self.schedule(path);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let Some(path) = uri_to_path(&params.text_document.uri) else { return };
        let is_repo_config = path.file_name().is_some_and(|n| n == crate::schema::config::FILE_NAME);
        let reload = {
            let mut st = lock(&self.state);
            let enc = st.encoding;
            if let Some(doc) = st.docs.get_mut(&path) {
                for change in &params.content_changes {
                    doc.apply(change, enc);
                }
                doc.version = params.text_document.version;
            }
            st.invalidate();
            Backend::affects_project(&st, &path)
        };
        if is_repo_config && self.repo_config_changed(&path).await {
            return;
        }
        if let Some(root) = reload {
            // Not awaited: notifications are handled one after another, so awaiting would
            // load the project once per keystroke in a data file. Spawned, the loads queued
            // behind the one running see a newer generation and skip (`load_project`); the
            // guard, taken now, keeps requests waiting for the newest text.
            let guard = self.begin_reload();
            let this = self.clone_handles();
            self.busy.spawn(async move { this.reload(root, guard).await });
            return;
        }
        // A template edit can change what other files see (rendered facts): keep the index
        // but re-check this document.
        self.schedule(path);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        if let Some(path) = uri_to_path(&params.text_document.uri) {
            if !self.repo_config_changed(&path).await {
                self.schedule(path);
            }
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let Some(path) = uri_to_path(&params.text_document.uri) else { return };
        let reload = {
            let mut st = lock(&self.state);
            st.docs.remove(&path);
            st.invalidate();
            Backend::affects_project(&st, &path).or_else(|| Backend::holds_editor_text(&st, &path))
        };
        if self.repo_config_changed(&path).await {
            // Back to what the disk says.
        } else if let Some(root) = reload {
            self.reload(root, self.begin_reload()).await;
        } else {
            self.schedule(path);
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let guard = self.begin_reload();
        let pull = params.settings.is_null() || params.settings.as_object().is_some_and(|o| o.is_empty());
        let settings = if pull && !lock(&self.state).client_caps.configuration {
            None
        } else if pull {
            match self.client.configuration(vec![ConfigurationItem { scope_uri: None, section: Some("homelabLsp".into()) }]).await {
                Ok(v) => v.first().map(Settings::from_json),
                Err(_) => None,
            }
        } else {
            Some(Settings::from_json(&params.settings))
        };
        if let Some(s) = settings {
            let mut st = lock(&self.state);
            let plugins_changed = (st.settings.plugins_run, &st.settings.plugins_python) != (s.plugins_run, &s.plugins_python);
            st.settings = s;
            // Other mirrors, cache or offline mode: load schemas anew.
            st.schemas.clear();
            st.invalidate();
            drop(st);
            if plugins_changed {
                self.plugin_settings_changed();
            }
        }
        drop(guard);
        self.schedule_publish_all();
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let guard = self.begin_reload();
        {
            let mut st = lock(&self.state);
            for removed in &params.event.removed {
                if let Some(p) = uri_to_path(&removed.uri) {
                    st.folders.retain(|f| f != &p);
                    st.projects.retain(|root, _| !root.starts_with(&p));
                    st.broken.retain(|root, _| !root.starts_with(&p));
                }
            }
            for added in &params.event.added {
                if let Some(p) = uri_to_path(&added.uri) {
                    st.folders.push(p);
                }
            }
            st.invalidate();
        }
        self.index_all(guard).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let guard = self.begin_reload();
        // Files on disk changed: what diagnostics runs computed before this is older than
        // what they compute after (closed files are read when checked).
        lock(&self.state).touch();
        let mut roots: Vec<PathBuf> = Vec::new();
        let mut new_configs = false;
        // Hand-written YAML and generated outputs, by root: no reload needed.
        let mut light: Vec<ChangedFile> = Vec::new();
        let mut repo_configs: Vec<PathBuf> = Vec::new();
        {
            let st = lock(&self.state);
            for change in &params.changes {
                // Deleted files no longer canonicalize; use the URI's path as is.
                let Some(path) = change.uri.to_file_path().map(|p| std::fs::canonicalize(&p).unwrap_or_else(|_| p.into_owned())) else {
                    continue;
                };
                if path.file_name().is_some_and(|n| n == crate::schema::config::FILE_NAME) {
                    // Read by the schemas and rules only: nothing of the project to reload.
                    repo_configs.push(path);
                    continue;
                }
                if path.file_name().is_some_and(|n| n == config::CONFIG_FILE)
                    && st.root_for(&path).is_none_or(|r| Some(r.as_path()) != path.parent())
                {
                    new_configs = true;
                }
                let Some(root) = st.root_for(&path) else { continue };
                match st.projects.get(&root) {
                    Some(p) if ide::diagnostics::is_plain_yaml(p, &path) => light.push(ChangedFile { root, path, in_index: true }),
                    Some(p) if p.inventory.by_output(&path).is_some() => light.push(ChangedFile { root, path, in_index: false }),
                    // `.git`, `node_modules`, `.github/…` and the like: nothing reads them.
                    Some(p) if ide::diagnostics::is_ignored(p, &path) => {}
                    // Anything else under a project can change its inventory, data or plugin.
                    _ => roots.push(root),
                }
            }
        }
        for path in &repo_configs {
            // An open file's own text wins over the disk until it is closed.
            if !lock(&self.state).docs.contains_key(path) {
                self.repo_config_changed(path).await;
            }
        }
        if new_configs {
            self.index_all(guard).await;
            return;
        }
        roots.sort();
        roots.dedup();
        for root in &roots {
            let layout = if root.join(config::CONFIG_FILE).is_file() {
                config::Layout::Configured
            } else {
                config::fallback_layout(root).unwrap_or(config::Layout::Configured)
            };
            self.load_project(root, layout).await;
        }
        drop(guard);
        if !roots.is_empty() {
            self.schedule_publish_all();
        }
        // A reloaded root re-checks everything anyway.
        light.retain(|c| !roots.contains(&c.root));
        self.update_plain_files(light).await;
    }

    async fn completion(&self, params: CompletionParams) -> RpcResult<Option<CompletionResponse>> {
        self.settled().await;
        let (path, offset) = self.locate(&params.text_document_position)?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        let index = self.cached_index(&analysis, &path);
        run("completion", move || {
            let items = ide::completion::complete(&analysis, &path, offset, index.as_deref());
            if items.is_empty() {
                return None;
            }
            let text = analysis.text(&path);
            let idx = LineIndex::new(&text);
            let items = items
                .into_iter()
                .map(|i| CompletionItem {
                    label: i.label.clone(),
                    kind: Some(match i.kind {
                        ide::completion::ItemKind::Variable => CompletionItemKind::VARIABLE,
                        ide::completion::ItemKind::Field => CompletionItemKind::FIELD,
                        ide::completion::ItemKind::Filter | ide::completion::ItemKind::Function => CompletionItemKind::FUNCTION,
                        ide::completion::ItemKind::Test => CompletionItemKind::FUNCTION,
                        ide::completion::ItemKind::Keyword => CompletionItemKind::KEYWORD,
                        ide::completion::ItemKind::File => CompletionItemKind::FILE,
                        ide::completion::ItemKind::Method => CompletionItemKind::METHOD,
                        ide::completion::ItemKind::Object => CompletionItemKind::REFERENCE,
                    }),
                    detail: i.detail,
                    documentation: i
                        .documentation
                        .map(|d| Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: d })),
                    text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(idx.range(&i.replace, enc), i.insert))),
                    ..Default::default()
                })
                .collect();
            Some(CompletionResponse::List(CompletionList { is_incomplete: false, items }))
        })
        .await
    }

    async fn hover(&self, params: HoverParams) -> RpcResult<Option<Hover>> {
        self.settled().await;
        let (path, offset) = self.locate(&params.text_document_position_params)?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        let index = self.cached_index(&analysis, &path);
        run("hover", move || {
            let h = ide::hover::hover(&analysis, &path, offset, index.as_deref())?;
            let text = analysis.text(&path);
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: h.markdown }),
                range: h.range.map(|r| LineIndex::new(&text).range(&r, enc)),
            })
        })
        .await
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> RpcResult<Option<SignatureHelp>> {
        self.settled().await;
        let (path, offset) = self.locate(&params.text_document_position_params)?;
        let analysis = self.snapshot();
        run("signatureHelp", move || {
            let h = ide::signature::signature_help(&analysis, &path, offset)?;
            // Parameter labels as offsets into the signature: UTF-16 code units.
            let utf16 = |byte: usize| h.label[..byte].encode_utf16().count() as u32;
            let parameters = h
                .parameters
                .iter()
                .map(|r| ParameterInformation { label: ParameterLabel::LabelOffsets([utf16(r.start), utf16(r.end)]), documentation: None })
                .collect();
            Some(SignatureHelp {
                signatures: vec![SignatureInformation {
                    label: h.label.clone(),
                    documentation: Some(Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: h.documentation })),
                    parameters: Some(parameters),
                    active_parameter: h.active_parameter.map(|a| a as u32),
                }],
                active_signature: Some(0),
                active_parameter: h.active_parameter.map(|a| a as u32),
            })
        })
        .await
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> RpcResult<Option<GotoDefinitionResponse>> {
        self.settled().await;
        let (path, offset) = self.locate(&params.text_document_position_params)?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        let index = self.cached_index(&analysis, &path);
        run("definition", move || {
            let targets: Vec<Location> = ide::goto::goto_definition(&analysis, &path, offset, index.as_deref())
                .iter()
                .filter_map(|fr| file_location(&analysis, fr, enc))
                .collect();
            if targets.is_empty() {
                None
            } else {
                Some(GotoDefinitionResponse::Array(targets))
            }
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> RpcResult<Option<Vec<Location>>> {
        self.settled().await;
        let (path, offset) = self.locate(&params.text_document_position)?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        let decl = params.context.include_declaration;
        let index = self.cached_index(&analysis, &path);
        run("references", move || {
            let flux =
                analysis.project_for(&path).zip(index.as_deref()).and_then(|(pa, i)| ide::flux::references(pa, &path, offset, i, decl));
            let refs: Vec<Location> = flux
                .unwrap_or_else(|| ide::references::references(&analysis, &path, offset, decl))
                .iter()
                .filter_map(|fr| file_location(&analysis, fr, enc))
                .collect();
            if refs.is_empty() {
                None
            } else {
                Some(refs)
            }
        })
        .await
    }

    async fn document_highlight(&self, params: DocumentHighlightParams) -> RpcResult<Option<Vec<DocumentHighlight>>> {
        self.settled().await;
        let (path, offset) = self.locate(&params.text_document_position_params)?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        run("documentHighlight", move || {
            let found = ide::highlight::document_highlights(&analysis, &path, offset);
            if found.is_empty() {
                return None;
            }
            let text = analysis.text(&path);
            let idx = LineIndex::new(&text);
            Some(
                found
                    .into_iter()
                    .map(|(r, kind)| DocumentHighlight {
                        range: idx.range(&r, enc),
                        kind: Some(match kind {
                            ide::highlight::HighlightKind::Write => DocumentHighlightKind::WRITE,
                            ide::highlight::HighlightKind::Read => DocumentHighlightKind::READ,
                        }),
                    })
                    .collect(),
            )
        })
        .await
    }

    async fn prepare_rename(&self, params: TextDocumentPositionParams) -> RpcResult<Option<PrepareRenameResponse>> {
        self.settled().await;
        let (path, offset) = self.locate(&params)?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        let index = self.cached_index(&analysis, &path);
        run("prepareRename", move || {
            let flux =
                analysis.project_for(&path).zip(index.as_deref()).and_then(|(pa, i)| ide::flux::prepare_rename(pa, &path, offset, i));
            let r = flux.or_else(|| ide::references::prepare_rename(&analysis, &path, offset))?;
            let text = analysis.text(&path);
            Some(PrepareRenameResponse::Range(LineIndex::new(&text).range(&r, enc)))
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> RpcResult<Option<WorkspaceEdit>> {
        self.settled().await;
        let (path, offset) = self.locate(&params.text_document_position)?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        let new_name = params.new_name.clone();
        let index = self.cached_index(&analysis, &path);
        let result = run("rename", move || {
            let flux =
                analysis.project_for(&path).zip(index.as_deref()).and_then(|(pa, i)| ide::flux::rename(pa, &path, offset, &new_name, i));
            let edits = match flux {
                Some(r) => r?,
                None => ide::references::rename(&analysis, &path, offset, &new_name)?,
            };
            let mut changes = HashMap::new();
            for (file, list) in edits {
                let text = analysis.text(&file);
                let idx = LineIndex::new(&text);
                let Some(uri) = path_to_uri(&file) else { continue };
                changes.insert(uri, list.into_iter().map(|(r, t)| TextEdit::new(idx.range(&r, enc), t)).collect::<Vec<_>>());
            }
            Ok::<_, String>(WorkspaceEdit { changes: Some(changes), ..Default::default() })
        })
        .await?;
        result.map(Some).map_err(invalid_params)
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> RpcResult<Option<DocumentSymbolResponse>> {
        self.on_document("documentSymbol", &params.text_document.uri, |analysis, path, idx, enc| {
            #[allow(deprecated)]
            fn conv(s: ide::symbols::Symbol, idx: &LineIndex, enc: Encoding) -> DocumentSymbol {
                DocumentSymbol {
                    name: if s.name.is_empty() { "(empty)".into() } else { s.name },
                    detail: s.detail,
                    kind: match s.kind {
                        ide::symbols::SymbolKind::Key => SymbolKind::KEY,
                        ide::symbols::SymbolKind::Block => SymbolKind::NAMESPACE,
                        ide::symbols::SymbolKind::Variable => SymbolKind::VARIABLE,
                        ide::symbols::SymbolKind::Document => SymbolKind::MODULE,
                    },
                    tags: None,
                    deprecated: None,
                    range: idx.range(&s.range, enc),
                    selection_range: idx.range(&s.selection, enc),
                    children: Some(s.children.into_iter().map(|c| conv(c, idx, enc)).collect()),
                }
            }
            let syms = ide::symbols::document_symbols(analysis, path);
            Some(DocumentSymbolResponse::Nested(syms.into_iter().map(|s| conv(s, idx, enc)).collect()))
        })
        .await
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> RpcResult<Option<WorkspaceSymbolResponse>> {
        self.settled().await;
        let analysis = self.snapshot();
        let enc = self.encoding();
        // A missing index is built (once, in the background), but waited for only within
        // the request's budget: past it the answer goes without that project's index.
        let mut indexes = Vec::new();
        for pa in &analysis.projects {
            indexes.push(tokio::time::timeout(REQUEST_RENDER_TIME, self.repo_index(pa)).await.ok());
        }
        run("workspaceSymbol", move || {
            let projects: Vec<_> = analysis.projects.iter().zip(&indexes).map(|(pa, i)| (pa.as_ref(), i.as_deref())).collect();
            #[allow(deprecated)]
            let symbols = ide::workspace_symbols::workspace_symbols(&projects, &params.query)
                .into_iter()
                .filter_map(|s| {
                    Some(SymbolInformation {
                        name: s.name,
                        kind: match s.kind {
                            ide::workspace_symbols::WsKind::DataKey => SymbolKind::KEY,
                            ide::workspace_symbols::WsKind::Template => SymbolKind::FILE,
                            ide::workspace_symbols::WsKind::Gateway => SymbolKind::INTERFACE,
                            ide::workspace_symbols::WsKind::Secret => SymbolKind::CONSTANT,
                            ide::workspace_symbols::WsKind::Source => SymbolKind::PACKAGE,
                        },
                        tags: None,
                        deprecated: None,
                        location: file_location(&analysis, &s.location, enc)?,
                        container_name: s.container,
                    })
                })
                .collect();
            Some(WorkspaceSymbolResponse::Flat(symbols))
        })
        .await
    }

    async fn selection_range(&self, params: SelectionRangeParams) -> RpcResult<Option<Vec<SelectionRange>>> {
        let positions = params.positions;
        self.on_document("selectionRange", &params.text_document.uri, move |analysis, path, idx, enc| {
            let ranges = positions
                .iter()
                .map(|&pos| {
                    let offset = idx.offset(pos, enc);
                    // Outermost first, each the parent of the next; the cursor alone when none.
                    let mut chain: Option<Box<SelectionRange>> = None;
                    for r in ide::symbols::selection_ranges(analysis, path, offset).into_iter().rev() {
                        chain = Some(Box::new(SelectionRange { range: idx.range(&r, enc), parent: chain }));
                    }
                    chain.map(|c| *c).unwrap_or(SelectionRange { range: Range { start: pos, end: pos }, parent: None })
                })
                .collect();
            Some(ranges)
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> RpcResult<Option<Vec<FoldingRange>>> {
        self.on_document("foldingRange", &params.text_document.uri, |analysis, path, idx, _| {
            let ranges = ide::symbols::folding_ranges(analysis, path)
                .into_iter()
                .map(|r| {
                    let s = idx.position(r.start, Encoding::Utf8).line;
                    let e = idx.position(r.end, Encoding::Utf8).line.saturating_sub(1).max(s);
                    FoldingRange { start_line: s, end_line: e, kind: Some(FoldingRangeKind::Region), ..Default::default() }
                })
                .filter(|f| f.end_line > f.start_line)
                .collect();
            Some(ranges)
        })
        .await
    }

    async fn document_link(&self, params: DocumentLinkParams) -> RpcResult<Option<Vec<DocumentLink>>> {
        let snapshot = self.snapshot();
        let index = uri_to_path(&params.text_document.uri).and_then(|p| self.cached_index(&snapshot, &p));
        self.on_document("documentLink", &params.text_document.uri, move |analysis, path, idx, enc| {
            let mut found = ide::symbols::document_links(analysis, path);
            // kustomize entries and `spec.path` (Flux).
            if let (Some(pa), Some(index)) = (analysis.project_for(path), index.as_deref()) {
                found.extend(ide::flux::links(pa, path, index));
            }
            let mut links: Vec<DocumentLink> = found
                .into_iter()
                .map(|(r, target)| DocumentLink {
                    range: idx.range(&r, enc),
                    target: path_to_uri(&target),
                    tooltip: Some(target.display().to_string()),
                    data: None,
                })
                .collect();
            // `# yaml-language-server: $schema=URL` opens the schema.
            let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            if name.contains(".yaml") || name.contains(".yml") {
                let text = analysis.text(path);
                for (r, url) in crate::schema::resolve::modeline_links(&text, path) {
                    if let Ok(target) = url.parse::<Uri>() {
                        links.push(DocumentLink { range: idx.range(&r, enc), target: Some(target), tooltip: Some(url), data: None });
                    }
                }
            }
            Some(links)
        })
        .await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> RpcResult<Option<Vec<InlayHint>>> {
        let range = params.range;
        self.on_document("inlayHint", &params.text_document.uri, move |analysis, path, idx, enc| {
            let range = idx.offset(range.start, enc)..idx.offset(range.end, enc);
            let hints = ide::inlay::inlay_hints(analysis, path, range)
                .into_iter()
                .map(|h| InlayHint {
                    position: idx.position(h.offset, enc),
                    label: InlayHintLabel::String(h.label),
                    kind: None,
                    text_edits: None,
                    tooltip: h.tooltip.map(InlayHintTooltip::String),
                    padding_left: Some(true),
                    padding_right: None,
                    data: None,
                })
                .collect();
            Some(hints)
        })
        .await
    }

    async fn semantic_tokens_full(&self, params: SemanticTokensParams) -> RpcResult<Option<SemanticTokensResult>> {
        self.settled().await;
        let path = uri_to_path(&params.text_document.uri).ok_or_else(|| invalid_params("not a file: URI"))?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        run("semanticTokens", move || {
            let text = analysis.text(&path);
            let idx = LineIndex::new(&text);
            let mut data = Vec::new();
            let (mut prev_line, mut prev_col) = (0u32, 0u32);
            for (range, ty) in ide::tokens::semantic_tokens(&analysis, &path) {
                // Tokens must not span lines: split multi-line ones.
                let mut start = range.start;
                while start < range.end {
                    let line_end = text[start..range.end].find('\n').map_or(range.end, |i| start + i);
                    if line_end > start {
                        let p = idx.position(start, enc);
                        let e = idx.position(line_end, enc);
                        let delta_line = p.line - prev_line;
                        let delta_start = if delta_line == 0 { p.character - prev_col } else { p.character };
                        data.push(SemanticToken {
                            delta_line,
                            delta_start,
                            length: e.character - p.character,
                            token_type: ty as u32,
                            token_modifiers_bitset: 0,
                        });
                        prev_line = p.line;
                        prev_col = p.character;
                    }
                    start = line_end + 1;
                }
            }
            Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data }))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> RpcResult<Option<CodeActionResponse>> {
        self.settled().await;
        let path = uri_to_path(&params.text_document.uri).ok_or_else(|| invalid_params("not a file: URI"))?;
        let analysis = self.snapshot();
        let enc = self.encoding();
        let diags = params.context.diagnostics.clone();
        let range = params.range;
        let index = self.cached_index(&analysis, &path);
        run("codeAction", move || code_actions(&analysis, &path, range, &diags, enc, index.as_deref())).await
    }
}

/// Quick fixes: the fixes diagnostics carry, "open the template" for generated files, and
/// "suppress this rule on this line".
fn code_actions(
    analysis: &Analysis,
    path: &Path,
    range: Range,
    diags: &[Diagnostic],
    enc: Encoding,
    index: Option<&crate::yaml::RepoIndex>,
) -> Option<CodeActionResponse> {
    let pa = analysis.project_for(path)?;
    let text = pa.text(path)?;
    let idx = LineIndex::new(&text);
    let mut actions: Vec<CodeActionOrCommand> = Vec::new();
    // The fixes of the diagnostics the client names, computed again on the current text
    // (published diagnostics carry only their count).
    let wants_fixes = diags.iter().any(|d| d.data.as_ref().and_then(|v| v.get("fixes")).is_some());
    let current = if wants_fixes { ide::diagnostics::file_diagnostics(pa, path, index) } else { Vec::new() };
    for d in diags.iter().filter(|d| d.source.as_deref() == Some("homelab-lsp")) {
        let code = match &d.code {
            Some(NumberOrString::String(c)) => c.as_str(),
            _ => "",
        };
        let same = current.iter().filter(|c| c.code == code && idx.range(&c.range, enc) == d.range);
        for fix in same.flat_map(|c| c.fixes.iter()) {
            {
                let title = fix.title.clone();
                let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
                for (p, r, t) in &fix.edits {
                    let ftext = pa.text(p).unwrap_or_default();
                    let fidx = LineIndex::new(&ftext);
                    if let Some(uri) = path_to_uri(p) {
                        changes.entry(uri).or_default().push(TextEdit::new(fidx.range(r, enc), t.clone()));
                    }
                }
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![d.clone()]),
                    edit: Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }),
                    is_preferred: Some(true),
                    ..Default::default()
                }));
            }
        }
        // Suppress on this line.
        if let Some(NumberOrString::String(code)) = &d.code {
            let line = d.range.start.line;
            let line_start = idx.offset(Position::new(line, 0), enc);
            let line_text = text[line_start..].split('\n').next().unwrap_or_default();
            let indent: String = line_text.chars().take_while(|c| c.is_whitespace()).collect();
            let is_template = matches!(pa.role(path), ide::FileRole::Template { .. });
            let comment = if is_template {
                let s = pa.syntax();
                format!("{indent}{} homelab-lsp: ignore[{code}] {}\n", s.comment_start, s.comment_end)
            } else {
                format!("{indent}# homelab-lsp: ignore[{code}]\n")
            };
            let mut changes = HashMap::new();
            changes.insert(path_to_uri(path)?, vec![TextEdit::new(Range::new(Position::new(line, 0), Position::new(line, 0)), comment)]);
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Suppress {code} on this line"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }),
                ..Default::default()
            }));
        }
    }
    if let ide::FileRole::Generated { entry } = pa.role(path) {
        let line = range.start.line as usize;
        let (target, tline) = ide::navigation::template_source(pa, path, line).unwrap_or((entry.source.clone(), 0));
        actions.push(CodeActionOrCommand::Command(Command {
            title: "Open the template this file is generated from".into(),
            command: "homelab.openTemplateSource".into(),
            arguments: Some(vec![serde_json::json!({"uri": path_to_uri(&target), "line": tline})]),
        }));
    }
    Some(actions)
}

/// Serves LSP on stdin/stdout until the client exits.
pub fn run_stdio() -> i32 {
    // 8 MiB stacks (tokio's default is 2 MiB), as on a main thread: a stack overflow kills
    // the process, so the depth limits (500 include levels, 400 data levels, a tag's
    // operators) keep a wide margin in debug builds too.
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_stack_size(8 << 20).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async {
        let (service, socket) = LspService::build(Backend::new)
            .custom_method("homelab/renderedPreview", Backend::rendered_preview)
            .custom_method("homelab/generatedFile", Backend::generated_file)
            .custom_method("homelab/templateSource", Backend::template_source)
            .custom_method("homelab/renderDiff", Backend::render_diff)
            .custom_method("homelab/backgroundWork", Backend::background_work)
            .finish();
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
    });
    0
}

impl Backend {
    async fn reload(&self, root: PathBuf, guard: ReloadGuard) {
        let layout = if root.join(config::CONFIG_FILE).is_file() {
            config::Layout::Configured
        } else {
            config::fallback_layout(&root).unwrap_or(config::Layout::Configured)
        };
        self.load_project(&root, layout).await;
        drop(guard);
        self.schedule_publish_all();
    }
}
