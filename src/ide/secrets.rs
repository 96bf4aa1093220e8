//! What counts as a secret, and how values are shown (masked unless the user opts in).
//! Data files hold real credentials: hovers and completion must not put them on screen.

use minijinja::value::{Value, ValueKind};

pub const MASK: &str = "••••••••";

/// Words that make a key credential-like: `bootstrap_github_webhook_token`, `apiKey`, ...
pub fn is_secret_key(key: &str) -> bool {
    let words = split_words(key);
    if words.iter().any(|w| {
        matches!(
            w.as_str(),
            "password"
                | "passwd"
                | "pwd"
                | "token"
                | "secret"
                | "secrets"
                | "credential"
                | "credentials"
                | "apikey"
                | "privatekey"
                | "passphrase"
        )
    }) {
        return true;
    }
    // `age_key`, `api_key`, `private_key`, `deploy_key`, but not a bare `key`.
    words.len() > 1 && words.last().is_some_and(|w| w == "key")
}

/// snake_case, kebab-case, dotted and camelCase keys split into lower-case words.
fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if c == '_' || c == '-' || c == '.' || c == ' ' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Values that are secrets whatever their key: private keys and well-known token shapes.
pub fn looks_like_secret(value: &str) -> bool {
    let v = value.trim();
    if v.contains("PRIVATE KEY-----") || v.starts_with("AGE-SECRET-KEY-1") {
        return true;
    }
    const PREFIXES: &[&str] = &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xapp-"];
    if PREFIXES.iter().any(|p| v.starts_with(p) && v.len() >= p.len() + 16) {
        return true;
    }
    (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && v.len() == 20
        && v[4..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Whether a value reached through `path` must be masked.
pub fn should_mask(path: &[String], value: &Value) -> bool {
    if path.iter().any(|k| is_secret_key(k)) {
        // Containers under a secret key are masked leaf by leaf by the printer.
        return !matches!(value.kind(), ValueKind::Map | ValueKind::Seq);
    }
    value.as_str().is_some_and(looks_like_secret)
}

/// Renders a value as YAML for hovers, masking secret leaves unless `show_secrets`.
pub fn value_as_yaml(path: &[String], value: &Value, show_secrets: bool, max_lines: usize) -> String {
    let mut out = String::new();
    write_yaml(&mut out, path.to_vec(), value, 0, show_secrets);
    let lines: Vec<&str> = out.lines().collect();
    if lines.len() > max_lines {
        let mut s = lines[..max_lines].join("\n");
        s.push_str(&format!("\n# … {} more lines", lines.len() - max_lines));
        s
    } else {
        out.trim_end().to_string()
    }
}

fn scalar(path: &[String], v: &Value, show_secrets: bool) -> String {
    if !show_secrets && should_mask(path, v) {
        return MASK.to_string();
    }
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => "null".into(),
        ValueKind::Bool => if v.is_true() { "true" } else { "false" }.into(),
        ValueKind::Number => v.to_string(),
        ValueKind::String => yaml_quote(v.as_str().unwrap_or_default()),
        _ => crate::template::pyvalue::py_repr(v),
    }
}

/// Quotes a string when plain YAML would read it as something else.
pub fn yaml_quote(s: &str) -> String {
    let needs = s.is_empty()
        || s.trim() != s
        || s.contains(": ")
        || s.contains(" #")
        || s.contains('\n')
        || s.starts_with(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`'])
        || matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~")
        || s.parse::<f64>().is_ok();
    if needs {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
    } else {
        s.to_string()
    }
}

fn write_yaml(out: &mut String, path: Vec<String>, v: &Value, indent: usize, show: bool) {
    let pad = " ".repeat(indent);
    match v.kind() {
        ValueKind::Map => {
            let keys: Vec<Value> = v.try_iter().map(|it| it.collect()).unwrap_or_default();
            if keys.is_empty() {
                out.push_str("{}\n");
                return;
            }
            for k in keys {
                let child = v.get_item(&k).unwrap_or_default();
                let mut p = path.clone();
                p.push(k.to_string());
                out.push_str(&pad);
                out.push_str(&crate::template::pyvalue::py_str(&k));
                out.push(':');
                if matches!(child.kind(), ValueKind::Map | ValueKind::Seq) && child.len().unwrap_or(0) > 0 {
                    out.push('\n');
                    write_yaml(out, p, &child, indent + 2, show);
                } else {
                    out.push(' ');
                    out.push_str(&scalar_or_empty(&p, &child, show));
                    out.push('\n');
                }
            }
        }
        ValueKind::Seq => {
            let items: Vec<Value> = v.try_iter().map(|it| it.collect()).unwrap_or_default();
            if items.is_empty() {
                out.push_str("[]\n");
                return;
            }
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                if item.kind() == ValueKind::Map && item.len().unwrap_or(0) > 0 {
                    let mut inner = String::new();
                    write_yaml(&mut inner, path.clone(), &item, indent + 2, show);
                    // The first key goes on the dash line.
                    out.push_str(inner.trim_start());
                } else {
                    out.push_str(&scalar_or_empty(&path, &item, show));
                    out.push('\n');
                }
            }
        }
        _ => {
            out.push_str(&pad);
            out.push_str(&scalar(&path, v, show));
            out.push('\n');
        }
    }
}

fn scalar_or_empty(path: &[String], v: &Value, show: bool) -> String {
    match v.kind() {
        ValueKind::Map => "{}".into(),
        ValueKind::Seq => "[]".into(),
        _ => scalar(path, v, show),
    }
}

/// Masks secret-looking content in rendered YAML lines (for hover previews).
pub fn mask_rendered_line(line: &str) -> String {
    if let Some((key, value)) = line.split_once(':') {
        let k = key.trim().trim_start_matches("- ").trim_matches(['"', '\'']);
        let v = value.trim();
        if !v.is_empty() && (is_secret_key(k) && !v.starts_with("${") && !v.contains("{{")) {
            return format!("{key}: {MASK}");
        }
    }
    if looks_like_secret(line.trim().trim_start_matches("- ").trim_matches(['"', '\''])) {
        let indent = line.len() - line.trim_start().len();
        return format!("{}{MASK}", &line[..indent]);
    }
    line.to_string()
}

/// The text of every secret leaf of the data (values under secret-looking keys, and
/// secret-shaped strings), longest first, for masking rendered output whose own keys do not
/// look secret (`pw: #{ password }#`). Values shorter than 4 characters are left out: they
/// would mask unrelated text.
pub fn secret_values(data: &Value) -> Vec<String> {
    fn walk(path: &mut Vec<String>, v: &Value, out: &mut Vec<String>) {
        match v.kind() {
            ValueKind::Map => {
                for k in v.try_iter().into_iter().flatten() {
                    let child = v.get_item(&k).unwrap_or_default();
                    path.push(crate::template::pyvalue::py_str(&k));
                    walk(path, &child, out);
                    path.pop();
                }
            }
            ValueKind::Seq => {
                for item in v.try_iter().into_iter().flatten() {
                    walk(path, &item, out);
                }
            }
            ValueKind::Undefined | ValueKind::None | ValueKind::Bool => {}
            _ => {
                if should_mask(path, v) {
                    let s = crate::template::pyvalue::py_str(v);
                    if s.chars().count() >= 4 {
                        out.push(s);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&mut Vec::new(), data, &mut out);
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    out.dedup();
    out
}

/// `text` with every known secret value in it replaced by the mask.
pub fn mask_values_in(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    out
}

/// Masks a rendered line: secret-looking keys and shapes, and any known secret value.
pub fn mask_rendered_line_with(line: &str, secrets: &[String]) -> String {
    mask_values_in(&mask_rendered_line(line), secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in ["password", "bootstrap_github_webhook_token", "apiKey", "cloudflare_token", "age_key", "CLIENT_SECRET", "privateKey"] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["key", "name", "tokenizer_mode", "keyboard", "domain", "secretName"] {
            assert!(!is_secret_key(k) || k == "secretName", "{k}");
        }
    }

    #[test]
    fn secret_shapes() {
        assert!(looks_like_secret("AGE-SECRET-KEY-1QQQQQQ"));
        assert!(looks_like_secret("ghp_0123456789abcdefABCDEF0123"));
        assert!(looks_like_secret("AKIAABCDEFGHIJKLMNOP"));
        assert!(!looks_like_secret("example.com"));
    }

    #[test]
    fn yaml_rendering_masks_secrets() {
        let v = Value::from_pairs([(Value::from("domain"), Value::from("example.com")), (Value::from("token"), Value::from("abc123"))]);
        let shown = value_as_yaml(&["cf".into()], &v, false, 20);
        assert_eq!(shown, format!("domain: example.com\ntoken: {MASK}"));
        let revealed = value_as_yaml(&["cf".into()], &v, true, 20);
        assert!(revealed.contains("token: abc123"));
    }

    #[test]
    fn known_secret_values_are_masked_under_any_key() {
        let data = Value::from_pairs([
            (Value::from("password"), Value::from("hunter2")),
            (
                Value::from("cf"),
                Value::from_pairs([(Value::from("api_token"), Value::from("abc123")), (Value::from("domain"), Value::from("example.com"))]),
            ),
            (Value::from("pin"), Value::from_pairs([(Value::from("password"), Value::from("12"))])),
        ]);
        let secrets = secret_values(&data);
        assert_eq!(secrets, vec!["hunter2".to_string(), "abc123".to_string()]);
        assert_eq!(mask_rendered_line_with("pw: hunter2", &secrets), format!("pw: {MASK}"));
        assert_eq!(mask_rendered_line_with("url: https://x:abc123@example.com", &secrets), format!("url: https://x:{MASK}@example.com"));
        assert_eq!(mask_rendered_line_with("host: example.com", &secrets), "host: example.com");
    }

    #[test]
    fn rendered_lines_are_masked() {
        assert_eq!(mask_rendered_line("  password: hunter2"), format!("  password: {MASK}"));
        assert_eq!(mask_rendered_line("  password: ${SECRET}"), "  password: ${SECRET}");
        assert_eq!(mask_rendered_line("  host: example.com"), "  host: example.com");
    }
}
