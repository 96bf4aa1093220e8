//! `# homelab-lsp: ignore[code, ...]` comments.
//!
//! The comment suppresses findings whose range starts on the same line, or, when the
//! comment stands alone on its line, on the line below it. A bare `ignore` suppresses
//! every code.

use super::Finding;

pub(crate) fn filter(text: &str, findings: Vec<Finding>) -> Vec<Finding> {
    if !text.contains("homelab-lsp:") {
        return findings;
    }
    let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let line_text = |line: usize| -> &str {
        let start = starts[line];
        let end = starts.get(line + 1).map_or(text.len(), |&s| s - 1);
        &text[start..end]
    };
    findings
        .into_iter()
        .filter(|f| {
            let line = starts.partition_point(|&s| s <= f.range.start.min(text.len())).saturating_sub(1);
            if ignores(line_text(line), f.code) {
                return false;
            }
            if line > 0 {
                let above = line_text(line - 1);
                if above.trim_start().starts_with('#') && ignores(above, f.code) {
                    return false;
                }
            }
            true
        })
        .collect()
}

/// Whether a line carries a comment ignoring `code`.
fn ignores(line: &str, code: &str) -> bool {
    let bytes = line.as_bytes();
    for (i, _) in line.match_indices('#') {
        // A YAML comment starts at the line start or after whitespace.
        if i > 0 && !matches!(bytes[i - 1], b' ' | b'\t') {
            continue;
        }
        let rest = line[i + 1..].trim_start();
        let Some(rest) = rest.strip_prefix("homelab-lsp:") else { continue };
        let Some(rest) = rest.trim_start().strip_prefix("ignore") else { continue };
        if let Some(list) = rest.strip_prefix('[') {
            let list = list.split(']').next().unwrap_or("");
            if list.split(',').any(|c| c.trim() == code) {
                return true;
            }
        } else if rest.is_empty() || rest.starts_with(char::is_whitespace) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::testutil::*;
    use crate::yaml::Severity;

    const ROUTE_NO_PARENTS: &str =
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: echo\nspec:\n  hostnames: [echo.example.com]\n";

    #[test]
    fn ignore_comment_parsing() {
        assert!(ignores("kind: HTTPRoute # homelab-lsp: ignore[missing-parent-refs]", "missing-parent-refs"));
        assert!(ignores("# homelab-lsp: ignore[a, missing-parent-refs ]", "missing-parent-refs"));
        assert!(ignores("x: 1 #homelab-lsp: ignore", "anything"));
        assert!(!ignores("x: 1 # homelab-lsp: ignore[other]", "missing-parent-refs"));
        assert!(!ignores("x: a#homelab-lsp: ignore", "missing-parent-refs"));
        assert!(!ignores("x: 1 # homelab-lsp: ignored", "missing-parent-refs"));
    }

    #[test]
    fn suppressed_on_same_line_and_line_above() {
        let base = run(ROUTE_NO_PARENTS);
        expect_one(ROUTE_NO_PARENTS, &base, "missing-parent-refs", Severity::Error, (1, 6));

        let same = ROUTE_NO_PARENTS.replace("kind: HTTPRoute\n", "kind: HTTPRoute # homelab-lsp: ignore[missing-parent-refs]\n");
        expect_none(&run(&same), "missing-parent-refs");

        let above = ROUTE_NO_PARENTS.replace("kind: HTTPRoute\n", "# homelab-lsp: ignore\nkind: HTTPRoute\n");
        expect_none(&run(&above), "missing-parent-refs");

        let other = ROUTE_NO_PARENTS.replace("kind: HTTPRoute\n", "# homelab-lsp: ignore[unknown-gateway]\nkind: HTTPRoute\n");
        expect_one(&other, &run(&other), "missing-parent-refs", Severity::Error, (2, 6));

        // A trailing comment on the line above belongs to that line only.
        let trailing = ROUTE_NO_PARENTS.replace("kind: HTTPRoute\n", "x: 1 # homelab-lsp: ignore\nkind: HTTPRoute\n");
        expect_one(&trailing, &run(&trailing), "missing-parent-refs", Severity::Error, (2, 6));
    }
}
