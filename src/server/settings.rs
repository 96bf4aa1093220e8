//! `homelabLsp.*` settings, from `initializationOptions` (wrapped in `{"homelabLsp": …}` or
//! bare) and `workspace/configuration`.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `homelabLsp.preview.showSecrets`
    pub show_secrets: bool,
    /// `homelabLsp.diagnostics.rules`: rule code → "error" | "warning" | "info" | "off".
    pub rules: HashMap<String, String>,
    /// `homelabLsp.plugins.run`: whether the repo's plugins may run in Python.
    pub plugins_run: crate::bridge::trust::RunPolicy,
    /// `homelabLsp.plugins.python`: the interpreter to run them with.
    pub plugins_python: Option<std::path::PathBuf>,
    /// `homelabLsp.schemas.{offline,mirrors,cacheDir,plainYaml}` (over `.homelab-lsp.toml`).
    pub schemas: crate::schema::Overrides,
}

impl Settings {
    /// Reads settings from a JSON value; unknown or ill-typed entries are ignored.
    pub fn from_json(value: &Value) -> Settings {
        let v = value.get("homelabLsp").unwrap_or(value);
        let mut s = Settings::default();
        // Accept nested objects and VS Code's dotted keys alike.
        let get = |path: &[&str]| -> Option<&Value> {
            let mut cur = v;
            for p in path {
                cur = cur.get(*p)?;
            }
            Some(cur)
        };
        let show = get(&["preview", "showSecrets"]).or_else(|| v.get("preview.showSecrets"));
        if let Some(b) = show.and_then(Value::as_bool) {
            s.show_secrets = b;
        }
        let rules = get(&["diagnostics", "rules"]).or_else(|| v.get("diagnostics.rules"));
        if let Some(obj) = rules.and_then(Value::as_object) {
            for (code, sev) in obj {
                if let Some(sev) = sev.as_str() {
                    if matches!(sev, "error" | "warning" | "info" | "hint" | "off") {
                        s.rules.insert(code.clone(), sev.to_string());
                    }
                }
            }
        }
        let run = get(&["plugins", "run"]).or_else(|| v.get("plugins.run"));
        if let Some(policy) = run.and_then(Value::as_str).and_then(crate::bridge::trust::RunPolicy::parse) {
            s.plugins_run = policy;
        }
        let python = get(&["plugins", "python"]).or_else(|| v.get("plugins.python"));
        s.plugins_python = python.and_then(Value::as_str).filter(|p| !p.is_empty()).map(std::path::PathBuf::from);
        let schema = |k: &str| get(&["schemas", k]).or_else(|| v.get(format!("schemas.{k}").as_str()));
        s.schemas.offline = schema("offline").and_then(Value::as_bool);
        s.schemas.plain_yaml = schema("plainYaml").and_then(Value::as_bool);
        s.schemas.cache_dir = schema("cacheDir").and_then(Value::as_str).filter(|p| !p.is_empty()).map(std::path::PathBuf::from);
        if let Some(m) = schema("mirrors").and_then(Value::as_object) {
            s.schemas.mirrors = m
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .collect();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_bare_and_dotted() {
        let wrapped =
            serde_json::json!({"homelabLsp": {"preview": {"showSecrets": true}, "diagnostics": {"rules": {"drift": "off", "x": 3}}}});
        let s = Settings::from_json(&wrapped);
        assert!(s.show_secrets);
        assert_eq!(s.rules.get("drift").map(String::as_str), Some("off"));
        assert!(!s.rules.contains_key("x"));
        let bare = serde_json::json!({"preview.showSecrets": true});
        assert!(Settings::from_json(&bare).show_secrets);
        assert_eq!(Settings::from_json(&serde_json::json!(null)), Settings::default());
        let plugins = Settings::from_json(&serde_json::json!({"plugins": {"run": "always", "python": "/v/bin/python"}}));
        assert_eq!(plugins.plugins_run, crate::bridge::trust::RunPolicy::Always);
        assert_eq!(plugins.plugins_python.as_deref(), Some(std::path::Path::new("/v/bin/python")));
        let dotted = Settings::from_json(&serde_json::json!({"plugins.run": "never", "plugins.python": ""}));
        assert_eq!(dotted.plugins_run, crate::bridge::trust::RunPolicy::Never);
        assert_eq!(dotted.plugins_python, None);
        assert_eq!(Settings::default().plugins_run, crate::bridge::trust::RunPolicy::Ask);
        let schemas = Settings::from_json(
            &serde_json::json!({"schemas": {"offline": true, "plainYaml": false, "cacheDir": "/c", "mirrors": {"https://": "file:///m/"}}}),
        );
        assert_eq!(schemas.schemas.offline, Some(true));
        assert_eq!(schemas.schemas.plain_yaml, Some(false));
        assert_eq!(schemas.schemas.cache_dir.as_deref(), Some(std::path::Path::new("/c")));
        assert_eq!(schemas.schemas.mirrors, vec![("https://".to_string(), "file:///m/".to_string())]);
    }
}
