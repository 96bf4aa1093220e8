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
    }
}
