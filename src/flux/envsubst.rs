//! Flux's post-build substitution syntax (fluxcd/pkg `envsubst`, a fork of drone/envsubst):
//! only the braced form `${NAME…}` is substituted (a bare `$NAME` stays as written), `$$`
//! is an escape for a literal `$` (so `$${NAME}` prints `${NAME}`), and in strict mode a
//! variable that is not set fails the build unless the expression supplies its own
//! fallback (`-`, `=`, `+`, `?` with or without a leading `:`).

/// One `${NAME…}` expression in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub name: String,
    /// Byte range of the whole `${…}` in the scanned text.
    pub start: usize,
    pub end: usize,
    /// Byte range of the name.
    pub name_start: usize,
    /// A default-providing operator (`${NAME:=x}`, `${NAME-x}`, …): never fails when unset.
    pub has_default: bool,
}

/// Operators after the name that handle an unset variable themselves.
const DEFAULT_OPERATORS: &[&str] = &[":-", ":=", ":+", ":?", "-", "=", "+", "?"];

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The `${…}` expressions of `text`, escapes (`$$`) honoured. Unterminated or nameless
/// forms are skipped (they are not variables).
pub fn scan(text: &str) -> Vec<Expr> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'$') {
            i += 2;
            continue;
        }
        if bytes.get(i + 1) != Some(&b'{') {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 2;
        // `${#NAME}` (length) reads the value: no default.
        if bytes.get(j) == Some(&b'#') {
            j += 1;
        }
        let name_start = j;
        let rest = &text[j..];
        let name_len: usize = rest.chars().take_while(|&c| is_ident(c)).map(char::len_utf8).sum();
        if name_len == 0 {
            i += 2;
            continue;
        }
        let after = &text[j + name_len..];
        let Some(close) = after.find('}') else {
            i += 2;
            continue;
        };
        // A line break before the brace: not one expression as written by anyone.
        if after[..close].contains('\n') {
            i += 2;
            continue;
        }
        let has_default = DEFAULT_OPERATORS.iter().any(|op| after.starts_with(op));
        let end = j + name_len + close + 1;
        out.push(Expr { name: text[name_start..name_start + name_len].to_string(), start, end, name_start, has_default });
        i = end;
    }
    out
}

/// Whether `name` may be a key of the variables Flux substitutes (its check on var names).
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, bool)> {
        scan(text).into_iter().map(|e| (e.name, e.has_default)).collect()
    }

    #[test]
    fn braced_forms_defaults_and_escapes() {
        assert_eq!(names("a ${A} b"), vec![("A".into(), false)]);
        assert_eq!(
            names("${CAP:=5Gi} ${X:-y} ${Y-z} ${Z=q} ${W:+w} ${V?err}"),
            vec![("CAP".into(), true), ("X".into(), true), ("Y".into(), true), ("Z".into(), true), ("W".into(), true), ("V".into(), true)]
        );
        assert_eq!(names("$${ESCAPED} $HOME ${ } ${unterminated"), vec![]);
        assert_eq!(
            names("${SECRET_DOMAIN/./-}-tls ${#LEN} ${up^^}"),
            vec![("SECRET_DOMAIN".into(), false), ("LEN".into(), false), ("up".into(), false)]
        );
        let e = &scan("x: ${APP}")[0];
        assert_eq!((e.start, e.end, e.name_start), (3, 9, 5));
    }

    #[test]
    fn var_names() {
        assert!(is_var_name("SECRET_DOMAIN"));
        assert!(is_var_name("_x1"));
        assert!(!is_var_name("1x"));
        assert!(!is_var_name("a-b"));
    }
}
