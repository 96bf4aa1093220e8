//! The plugin as one running for real provides it: final data and a way to call its
//! filters, functions and tests. The renderer takes the plugin from one of two providers:
//! this one (filled by `crate::bridge`, which runs Python) or the built-in emulation in
//! [`super::plugins`]. Nothing here knows how the calls are answered.

use super::plugins::PluginNameKind;
use minijinja::value::{Kwargs, Object, ObjectRepr, Rest, Value};
use minijinja::{Environment, Error, ErrorKind};
use std::path::PathBuf;
use std::sync::Arc;

/// Answers calls of a plugin's filters, functions and tests.
pub trait PluginCalls: Send + Sync {
    fn call(&self, kind: PluginNameKind, name: &str, args: &[Value], kwargs: &[(String, Value)]) -> Result<Value, String>;
}

/// What running the plugin produced.
#[derive(Clone)]
pub struct LivePlugin {
    /// The template globals after `data()` (data files, `data_vars`, plugin values), a map.
    pub data: Value,
    /// Names the plugin registered (filters, functions/globals, tests).
    pub names: Vec<(String, PluginNameKind)>,
    pub calls: Arc<dyn PluginCalls>,
    /// Absolute paths the plugin's path filters exclude.
    pub excluded: Vec<PathBuf>,
    /// Which interpreter ran it, for messages (`.venv/bin/python (3.12.1)`).
    pub python: String,
}

impl std::fmt::Debug for LivePlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivePlugin").field("names", &self.names).field("python", &self.python).finish_non_exhaustive()
    }
}

/// A Python value without a JSON form (an `IPv4Address`, a custom class): printed with its
/// own `str()`/`repr()`, passed back to the plugin as the original object.
#[derive(Debug)]
pub struct PyObject {
    pub str: String,
    pub repr: String,
    /// How the provider names the object when it is passed back.
    pub handle: serde_json::Value,
}

impl Object for PyObject {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.str)
    }
}

/// A Python tuple: iterates like a list, prints as `(a, b)`.
#[derive(Debug)]
pub struct PyTuple(pub Vec<Value>);

impl Object for PyTuple {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = i64::try_from(key.clone()).ok()?;
        let i = if i < 0 { self.0.len() as i64 + i } else { i };
        self.0.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Seq(self.0.len())
    }
}

/// Plugin names a preview (the editor) answers from the emulation even when the plugin runs:
/// `encrypt` is bcrypt with a random salt, so its output never matches makejinja's anyway,
/// and one real call costs about a quarter second, on every keystroke's render.
pub const PREVIEW_EMULATED: &[(&str, PluginNameKind)] = &[("encrypt", PluginNameKind::Filter)];

/// Registers every plugin name as a forwarder to `live.calls`; with `preview`, the names in
/// [`PREVIEW_EMULATED`] stay as the emulation registered them.
pub fn register(env: &mut Environment<'static>, live: &LivePlugin, preview: bool) {
    for (name, kind) in &live.names {
        if preview && PREVIEW_EMULATED.iter().any(|(n, k)| n == name && k == kind) {
            super::plugins::register_encrypt(env, false);
            continue;
        }
        let calls = live.calls.clone();
        let n = name.clone();
        let kind = *kind;
        let forward = move |args: Rest<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let mut named = Vec::new();
            for k in kwargs.args() {
                named.push((k.to_string(), kwargs.get::<Value>(k)?));
            }
            calls.call(kind, &n, &args, &named).map_err(|m| Error::new(ErrorKind::InvalidOperation, m))
        };
        match kind {
            PluginNameKind::Filter => env.add_filter(name.clone(), forward),
            PluginNameKind::Function => env.add_function(name.clone(), forward),
            PluginNameKind::Test => {
                env.add_test(name.clone(), move |args: Rest<Value>, kwargs: Kwargs| forward(args, kwargs).map(|v| v.is_true()))
            }
        }
    }
}
