//! The plugin bridge: runs a project's makejinja plugins for real in a long-lived Python
//! worker (one per project) through makejinja's own code, and hands the renderer the result
//! as a [`LivePlugin`]: final data plus a [`PluginCalls`] that answers filter, function and
//! test calls over the worker's pipe. The emulation in `template::plugins` stays the fallback.
//!
//! Layering: the workspace and the renderer only see `LivePlugin`; the server and the CLI
//! decide when to run a bridge (trust, settings) and lay its outcome over a `Project`.

pub mod codec;
pub mod discover;
pub mod problems;
pub mod process;
pub mod trust;

use crate::template::live::{LivePlugin, PluginCalls};
use crate::template::plugins::PluginNameKind;
use crate::workspace::Project;
pub use discover::{find_python, FoundPython};
use minijinja::value::Value;
use process::Worker;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Start-up: Python, makejinja, and whatever the plugin imports at module level.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// `data()` and friends; a plugin that validates a big config still answers well within it.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// One filter/function/test call during a render.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a project's plugin can be run: makejinja itself needs its `makejinja.toml`.
pub fn runs_plugins(project: &Project) -> bool {
    !project.config.plugins.is_empty() && project.config.config_file.is_some()
}

/// What running the plugin gave.
#[derive(Clone)]
pub enum LoadOutcome {
    Live(Arc<LivePlugin>),
    /// The plugin (or makejinja) raised: makejinja would fail the same way.
    Raised(PluginError),
    /// The worker could not run (start-up failed, it died, it timed out).
    Unavailable(String),
}

/// An exception from the worker, with what is needed to position it.
#[derive(Debug, Clone, Default)]
pub struct PluginError {
    pub kind: String,
    pub message: String,
    /// Traceback frames, innermost last: file and 1-based line.
    pub frames: Vec<(PathBuf, u32)>,
    /// pydantic `ValidationError` entries: the key path and the message.
    pub locs: Vec<(Vec<String>, String)>,
}

impl PluginError {
    fn from_json(e: &Json) -> PluginError {
        let s = |k: &str| e.get(k).and_then(Json::as_str).unwrap_or_default().to_string();
        let frames = e
            .get("frames")
            .and_then(Json::as_array)
            .map(|fs| fs.iter().filter_map(|f| Some((PathBuf::from(f.get(0)?.as_str()?), f.get(1)?.as_u64()? as u32))).collect())
            .unwrap_or_default();
        let locs = e
            .get("locs")
            .and_then(Json::as_array)
            .map(|ls| {
                ls.iter()
                    .map(|l| {
                        let path =
                            l.get("loc").and_then(Json::as_array).map(|p| p.iter().filter_map(|x| x.as_str().map(String::from)).collect());
                        (path.unwrap_or_default(), l.get("msg").and_then(Json::as_str).unwrap_or_default().to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        PluginError { kind: s("type"), message: s("message"), frames, locs }
    }

    /// The innermost frame in the repo (the plugin's own line), outside installed packages.
    pub fn repo_frame(&self, root: &Path) -> Option<&(PathBuf, u32)> {
        self.frames.iter().rev().find(|(f, _)| f.starts_with(root) && !f.components().any(|c| c.as_os_str() == "site-packages"))
    }

    pub fn summary(&self, root: &Path) -> String {
        let at =
            self.repo_frame(root).map(|(f, l)| format!(" (at {}:{l})", f.strip_prefix(root).unwrap_or(f).display())).unwrap_or_default();
        if self.message.is_empty() {
            format!("{}{at}", self.kind)
        } else {
            format!("{}: {}{at}", self.kind, first_line(&self.message))
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// A running (or restartable) worker for one project root.
pub struct Bridge {
    root: PathBuf,
    python: FoundPython,
    worker: Mutex<Option<Worker>>,
    /// The last load's unsaved data texts, replayed when a dead worker is restarted.
    overlay: Mutex<Json>,
    /// Results of calls since the last load, by request; `None` when not memoising.
    memo: Option<Mutex<HashMap<String, Result<Value, String>>>>,
    starts: AtomicU32,
    /// Things the host should tell the user (a restart), taken with [`Bridge::take_events`].
    events: Mutex<Vec<String>>,
}

impl Bridge {
    /// A bridge for `root`; the worker starts on the first load. `memoise` caches call
    /// results until the next load (the editor); the CLI calls every time, like makejinja.
    pub fn new(root: &Path, python: FoundPython, memoise: bool) -> Arc<Bridge> {
        Arc::new(Bridge {
            root: root.to_path_buf(),
            python,
            worker: Mutex::new(None),
            overlay: Mutex::new(json!({})),
            memo: memoise.then(|| Mutex::new(HashMap::new())),
            starts: AtomicU32::new(0),
            events: Mutex::new(Vec::new()),
        })
    }

    pub fn python(&self) -> &FoundPython {
        &self.python
    }

    /// The worker's process id, when one runs.
    pub fn pid(&self) -> Option<u32> {
        lock(&self.worker).as_ref().map(Worker::pid)
    }

    pub fn take_events(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.events))
    }

    /// Runs makejinja's data loading and the plugins' `data()` (again, in the warm worker).
    /// `overlay`: unsaved texts of data files, by absolute path.
    pub fn load(self: &Arc<Self>, overlay: &HashMap<PathBuf, Arc<str>>) -> LoadOutcome {
        let overlay: serde_json::Map<String, Json> =
            overlay.iter().map(|(p, t)| (p.to_string_lossy().into_owned(), Json::String(t.to_string()))).collect();
        *lock(&self.overlay) = Json::Object(overlay);
        let mut guard = lock(&self.worker);
        let reply = match self.load_locked(&mut guard) {
            Ok(r) => r,
            Err(e) => return LoadOutcome::Unavailable(e),
        };
        drop(guard);
        if let Some(memo) = &self.memo {
            lock(memo).clear();
        }
        if reply.get("ok").and_then(Json::as_bool) != Some(true) {
            return LoadOutcome::Raised(PluginError::from_json(reply.get("error").unwrap_or(&Json::Null)));
        }
        let names = |key: &str, kind: PluginNameKind| -> Vec<(String, PluginNameKind)> {
            reply
                .get(key)
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(|n| Some((n.as_str()?.to_string(), kind))).collect())
                .unwrap_or_default()
        };
        let mut all = names("filters", PluginNameKind::Filter);
        all.extend(names("functions", PluginNameKind::Function));
        all.extend(names("tests", PluginNameKind::Test));
        let excluded = reply
            .get("excluded")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(|p| p.as_str().map(PathBuf::from)).collect())
            .unwrap_or_default();
        let version = lock(&self.worker).as_ref().map(|w| w.version.clone()).unwrap_or_default();
        LoadOutcome::Live(Arc::new(LivePlugin {
            data: codec::to_value(reply.get("data").unwrap_or(&Json::Null)),
            names: all,
            calls: self.clone(),
            excluded,
            python: format!("{}, Python {version}", self.python),
        }))
    }

    /// Sends a load, starting (or restarting) the worker first when needed.
    fn load_locked(&self, worker: &mut Option<Worker>) -> Result<Json, String> {
        self.ensure_running(worker)?;
        let request = json!({"op": "load", "overlay": *lock(&self.overlay)}).to_string();
        let result = worker.as_mut().map(|w| w.request(&request, LOAD_TIMEOUT)).unwrap_or_else(|| Err("no worker".into()));
        if result.is_err() {
            *worker = None;
        }
        result
    }

    fn ensure_running(&self, worker: &mut Option<Worker>) -> Result<(), String> {
        if worker.as_mut().is_some_and(Worker::alive) {
            return Ok(());
        }
        let restarting = worker.take().is_some() || self.starts.load(Ordering::SeqCst) > 0;
        let w = Worker::start(&self.python.path, &self.root, START_TIMEOUT)?;
        self.starts.fetch_add(1, Ordering::SeqCst);
        if restarting {
            lock(&self.events).push(format!("the plugin worker for {} had stopped; restarted it (pid {})", self.root.display(), w.pid()));
        }
        *worker = Some(w);
        Ok(())
    }

    fn call_uncached(&self, request: &str) -> Result<Value, String> {
        let mut guard = lock(&self.worker);
        if !guard.as_mut().is_some_and(Worker::alive) {
            // The worker died since the last load: bring back the same state, then call.
            self.load_locked(&mut guard)?;
        }
        let reply = match guard.as_mut().map(|w| w.request(request, CALL_TIMEOUT)) {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                *guard = None;
                return Err(e);
            }
            None => return Err("the plugin worker is not running".into()),
        };
        if reply.get("ok").and_then(Json::as_bool) == Some(true) {
            Ok(codec::to_value(reply.get("value").unwrap_or(&Json::Null)))
        } else {
            Err(PluginError::from_json(reply.get("error").unwrap_or(&Json::Null)).summary(&self.root))
        }
    }
}

impl PluginCalls for Bridge {
    fn call(&self, kind: PluginNameKind, name: &str, args: &[Value], kwargs: &[(String, Value)]) -> Result<Value, String> {
        let kwargs: serde_json::Map<String, Json> = kwargs.iter().map(|(k, v)| (k.clone(), codec::to_json(v))).collect();
        let request = json!({
            "op": "call",
            "kind": kind.as_str(),
            "name": name,
            "args": args.iter().map(codec::to_json).collect::<Vec<_>>(),
            "kwargs": kwargs,
        })
        .to_string();
        if let Some(memo) = &self.memo {
            if let Some(hit) = lock(memo).get(&request) {
                return hit.clone();
            }
        }
        let result = self.call_uncached(&request).map_err(|e| format!("plugin {} '{name}' raised {e}", kind.as_str()));
        if let Some(memo) = &self.memo {
            lock(memo).insert(request, result.clone());
        }
        result
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lays a load's outcome over the emulated project: the live plugin, or the plugin's error
/// as diagnostics with the emulation kept (and said so).
pub fn apply(project: Project, outcome: &LoadOutcome) -> Project {
    match outcome {
        LoadOutcome::Live(live) => project.with_live_plugin(live.clone()),
        LoadOutcome::Raised(err) => {
            let mut project = project;
            let found = problems::plugin_error_problems(&project, err);
            project.problems.extend(found);
            project
        }
        LoadOutcome::Unavailable(why) => {
            let mut project = project;
            let file = project.config.config_file.clone().unwrap_or_else(|| project.config.root.clone());
            project.problems.push(crate::workspace::ProjectProblem {
                severity: crate::workspace::Severity::Info,
                code: "plugin-worker",
                file,
                line: None,
                col: None,
                message: format!("{why}; showing the built-in emulation of the plugin instead"),
            });
            project
        }
    }
}
