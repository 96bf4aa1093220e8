//! In-process cost of the error-tolerant YAML structure (`yaml::structure`, `yaml::outline`)
//! on a 500-line multi-document file with an unclosed `[` near the top: a fresh
//! tree-sitter-yaml parse, the cursor context on unchanged text (cached tree), after one
//! keystroke (incremental reparse), and the outline. Requests call these; keystroke
//! diagnostics do not.

use crate::stats::{ms, Summary};
use homelab_lsp::yaml::{outline, structure};
use std::time::{Duration, Instant};

const DOC: &str = "\
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app-N
spec:
  interval: 1h
  chart:
    spec:
      chart: app-template
      sourceRef:
        kind: HelmRepository
        name: bjw-s
  values:
    controllers:
      app:
        containers:
          app:
            image: {repository: ghcr.io/x/app-N, tag: \"1.0\"}
            args: [--port, \"8080\"]
            env:
              TOKEN:
                valueFrom:
                  secretKeyRef:
                    name: app-N-secret
                    key: token
    route:
      app:
        parentRefs:
          - name: internal
            namespace: network
";

/// The text, and the offsets of its reference names.
fn workload() -> (String, Vec<usize>) {
    let mut text = String::new();
    let mut i = 0;
    while text.lines().count() < 500 {
        text.push_str(&DOC.replace("app-N", &format!("app-{i}")));
        i += 1;
    }
    let text = text.replacen("args: [--port, \"8080\"]", "args: [--port, \"8080\"", 1);
    let offsets = text.match_indices("name: ").map(|(o, _)| o + "name: ".len() + 1).collect();
    (text, offsets)
}

pub fn run(rounds: usize) -> String {
    let (text, offsets) = workload();
    let lines = text.lines().count();
    let mut fresh = Vec::new();
    let mut parser = tree_sitter::Parser::new();
    if parser.set_language(&tree_sitter_yaml::LANGUAGE.into()).is_err() {
        return "structure: tree-sitter-yaml did not load\n".into();
    }
    for _ in 0..rounds {
        let t = Instant::now();
        let _ = parser.parse(&text, None);
        fresh.push(t.elapsed());
    }
    let mut cached = Vec::new();
    let mut answered = 0;
    for &o in offsets.iter().cycle().take(rounds) {
        let t = Instant::now();
        answered += usize::from(homelab_lsp::yaml::refs::reference_at(&text, o).is_some());
        cached.push(t.elapsed());
    }
    // Type one character at a time into a value near the end, asking after each keystroke.
    let mut typed = Vec::new();
    let mut current = text.clone();
    let at = current.rfind("namespace: network").unwrap_or(0) + "namespace: network".len();
    let ask = offsets[offsets.len() / 2];
    for k in 0..rounds {
        current.insert(at + k, 'x');
        let t = Instant::now();
        let _ = structure::cursor_context(&current, ask);
        typed.push(t.elapsed());
    }
    let mut outlined = Vec::new();
    for _ in 0..rounds.min(50) {
        let t = Instant::now();
        let _ = outline::outline(&text);
        outlined.push(t.elapsed());
    }
    let row = |name: &str, d: &[Duration]| {
        let s = Summary::of(d);
        format!("| {name} | {} | {} | {} |\n", ms(s.p50), ms(s.p99), s.n)
    };
    let mut out = format!(
        "\n## Tolerant YAML structure (in-process, {lines}-line file, unclosed `[`)\n\n{answered} of {} reference lookups answered.\n\n| step | p50 ms | p99 ms | n |\n| --- | --- | --- | --- |\n",
        cached.len()
    );
    out += &row("tree-sitter parse, fresh", &fresh);
    out += &row("reference at cursor, unchanged text (cached tree)", &cached);
    out += &row("cursor context after one keystroke (incremental)", &typed);
    out += &row("outline (document symbols)", &outlined);
    out
}
