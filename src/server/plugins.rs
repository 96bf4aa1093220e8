//! Running a project's plugins in the editor: consent (`homelabLsp.plugins.run`), one
//! bridge per root, and laying each `data()` result over the project. The emulation answers
//! until the worker is ready; a reload keeps the last live result until the new one lands, so
//! diagnostics never flash the emulation's guesses.

use super::{lock, Backend};
use crate::bridge::trust::{self, RunPolicy};
use crate::bridge::{self, Bridge, LoadOutcome};
use crate::workspace::Project;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::{MessageActionItem, MessageType};

const ALLOW: &str = "Run the plugin";
const DENY: &str = "Don't run";

/// `homelab/pluginStatus`: how the plugins of a root are handled, for the editor's status.
pub enum PluginStatus {}

impl Notification for PluginStatus {
    type Params = serde_json::Value;
    const METHOD: &'static str = "homelab/pluginStatus";
}

#[derive(Default)]
pub struct PluginHost {
    bridges: dashmap::DashMap<PathBuf, Arc<Bridge>>,
    /// Each root's project as loaded, before any plugin result was laid over it.
    base: dashmap::DashMap<PathBuf, Arc<Project>>,
    /// Consent asked this session, by root and plugin hash: the answer, `None` while the
    /// prompt is open or after it was dismissed.
    asked: dashmap::DashMap<String, Option<bool>>,
    /// One plugin run per root at a time.
    running: dashmap::DashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>,
    /// The base each root's last finished run started from: runs queued behind it for the
    /// same base (a burst of data keystrokes) are skipped.
    done: dashmap::DashMap<PathBuf, Arc<Project>>,
}

impl PluginHost {
    /// Records a freshly loaded project and returns what to install meanwhile: the project
    /// with the previous run's plugin result kept, when there was one.
    pub fn loaded(&self, root: &Path, project: Project, previous: Option<&Arc<Project>>) -> Project {
        self.base.insert(root.to_path_buf(), Arc::new(project.clone()));
        match previous.and_then(|p| p.live.clone()) {
            Some(live) if bridge::runs_plugins(&project) => project.with_live_plugin(live),
            _ => project,
        }
    }

    /// Stops the root's worker (settings say never, or the project went away).
    pub fn forget(&self, root: &Path) {
        self.bridges.remove(root);
        self.done.remove(root);
    }
}

impl Backend {
    /// Runs the root's plugins in the background, when the settings and the user allow it.
    pub(super) fn schedule_plugins(&self, root: PathBuf) {
        let this = self.clone_handles();
        self.busy.spawn(async move { this.run_plugins(root).await });
    }

    async fn run_plugins(&self, root: PathBuf) {
        let (policy, python) = {
            let st = lock(&self.state);
            (st.settings.plugins_run, st.settings.plugins_python.clone())
        };
        let Some(base) = self.plugins.base.get(&root).map(|b| b.clone()) else { return };
        // `never` starts no process at all, not even the search for a Python.
        if policy == RunPolicy::Never || !bridge::runs_plugins(&base) || base.plugin.file.is_none() {
            return;
        }
        if policy == RunPolicy::Ask && !self.consent(&root, &base).await {
            return;
        }
        let run_lock = self.plugins.running.entry(root.clone()).or_default().clone();
        let _one_at_a_time = run_lock.lock().await;
        let Some(base) = self.plugins.base.get(&root).map(|b| b.clone()) else { return };
        if self.plugins.done.get(&root).is_some_and(|d| Arc::ptr_eq(&d, &base)) {
            return;
        }
        let Some(bridge) = self.bridge_for(&root, python).await else { return };
        let overlay = data_overlay(&lock(&self.state).doc_texts(), &root);
        let running = bridge.clone();
        let outcome = tokio::task::spawn_blocking(move || running.load(&overlay)).await;
        for event in bridge.take_events() {
            self.client.show_message(MessageType::INFO, format!("homelab-lsp: {event}")).await;
        }
        let Ok(outcome) = outcome else { return };
        {
            let mut st = lock(&self.state);
            let current = self.plugins.base.get(&root).is_some_and(|b| Arc::ptr_eq(&b, &base));
            if !current || !st.projects.contains_key(&root) {
                return; // a newer load replaced the project; its own run follows
            }
            st.projects.insert(root.clone(), Arc::new(bridge::apply((*base).clone(), &outcome)));
            st.invalidate();
        }
        self.plugins.done.insert(root.clone(), base);
        self.indexes.invalidate(&root);
        self.schedule_publish_all();
        let (state, message) = match &outcome {
            LoadOutcome::Live(live) => ("python", format!("plugins run with {}", live.python)),
            LoadOutcome::Raised(e) => ("error", format!("the plugin raised {}; showing the emulation", e.summary(&root))),
            LoadOutcome::Unavailable(e) => ("emulated", format!("{e}; showing the emulation")),
        };
        self.client.log_message(MessageType::INFO, format!("homelab-lsp: {}: {message}", root.display())).await;
        let params = serde_json::json!({"root": root.display().to_string(), "state": state, "message": message});
        self.client.send_notification::<PluginStatus>(params).await;
    }

    /// The root's bridge, created (with a Python found) on first use.
    async fn bridge_for(&self, root: &Path, python: Option<PathBuf>) -> Option<Arc<Bridge>> {
        if let Some(b) = self.plugins.bridges.get(root) {
            return Some(b.clone());
        }
        let r = root.to_path_buf();
        let found = tokio::task::spawn_blocking(move || bridge::find_python(&r, python.as_deref())).await.ok()?;
        match found {
            Ok(python) => {
                self.client.log_message(MessageType::INFO, format!("homelab-lsp: {}: running plugins with {python}", root.display())).await;
                let b = Bridge::new(root, python, true);
                self.plugins.bridges.insert(root.to_path_buf(), b.clone());
                Some(b)
            }
            Err(e) => {
                self.client.log_message(MessageType::INFO, format!("homelab-lsp: {}: {e}; the plugin is emulated", root.display())).await;
                let params = serde_json::json!({"root": root.display().to_string(), "state": "emulated", "message": e});
                self.client.send_notification::<PluginStatus>(params).await;
                None
            }
        }
    }

    /// `ask`: the remembered answer for this root and plugin code, or one prompt.
    async fn consent(&self, root: &Path, project: &Project) -> bool {
        let files: Vec<PathBuf> = project.plugin.file.iter().cloned().collect();
        let hash = trust::plugin_hash(&files);
        let store = trust::store_path();
        if let Some(answer) = store.as_deref().and_then(|s| trust::remembered(s, root, &hash)) {
            return answer;
        }
        let key = format!("{}#{hash}", root.display());
        if let Some(asked) = self.plugins.asked.get(&key) {
            return *asked == Some(true);
        }
        self.plugins.asked.insert(key.clone(), None);
        let plugin = files.first().map(|f| f.strip_prefix(root).unwrap_or(f).display().to_string()).unwrap_or_default();
        let message = format!(
            "homelab-lsp: run the makejinja plugin of {} ({plugin}) in Python, so previews and checks are exactly what makejinja writes? This executes the repository's code.",
            root.display()
        );
        let actions = [ALLOW, DENY].iter().map(|t| MessageActionItem { title: t.to_string(), properties: HashMap::new() }).collect();
        let answer = self.client.show_message_request(MessageType::WARNING, message, Some(actions)).await;
        let allowed = match answer {
            Ok(Some(item)) => item.title == ALLOW,
            _ => return false, // dismissed: not asked again this session, not remembered
        };
        self.plugins.asked.insert(key, Some(allowed));
        if let Some(store) = store {
            if let Err(e) = trust::remember(&store, root, &hash, allowed) {
                self.client
                    .log_message(MessageType::WARNING, format!("homelab-lsp: cannot remember the answer in {}: {e}", store.display()))
                    .await;
            }
        }
        allowed
    }

    /// After a settings change: stop workers under `never`, else run what is now allowed.
    pub(super) fn plugin_settings_changed(&self) {
        let (policy, roots): (RunPolicy, Vec<PathBuf>) = {
            let st = lock(&self.state);
            (st.settings.plugins_run, st.projects.keys().cloned().collect())
        };
        for root in roots {
            // A new interpreter or policy: the next run starts from scratch.
            self.plugins.forget(&root);
            if policy == RunPolicy::Never {
                let mut st = lock(&self.state);
                if let Some(base) = self.plugins.base.get(&root) {
                    st.projects.insert(root.clone(), base.clone());
                    st.invalidate();
                }
            } else {
                self.schedule_plugins(root);
            }
        }
    }
}

/// A data-like file directly in the root, which a plugin may read itself.
pub fn is_root_data_file(root: &Path, path: &Path) -> bool {
    path.parent() == Some(root) && is_data_like(path)
}

fn is_data_like(path: &Path) -> bool {
    path.extension().is_some_and(|e| matches!(e.to_str(), Some("yaml" | "yml" | "toml" | "json"))) && !path.ends_with("makejinja.toml")
}

/// Unsaved data texts under the root: makejinja's loaders read these instead of the disk.
fn data_overlay(docs: &HashMap<PathBuf, Arc<str>>, root: &Path) -> HashMap<PathBuf, Arc<str>> {
    docs.iter().filter(|(p, _)| p.starts_with(root) && is_data_like(p)).map(|(p, t)| (p.clone(), t.clone())).collect()
}
