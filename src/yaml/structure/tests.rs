use super::*;
use crate::yaml::tree::{self, NodeKind};

/// The context at `$0` in `src`.
fn at(src: &str) -> Option<CursorContext> {
    let offset = src.find("$0").expect("cursor marker");
    cursor_context(&src.replace("$0", ""), offset)
}

fn show_path(path: &[PathSegment]) -> String {
    path.iter()
        .map(|s| match s {
            PathSegment::Key(k) => format!(".{k}"),
            PathSegment::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// `doc path kind 'text'`, with the sibling keys.
fn describe(src: &str) -> String {
    let text = src.replace("$0", "");
    let Some(c) = at(src) else { return "none".into() };
    let span = |r: TextRange| text[r.start..r.end].to_string();
    let what = match &c.at {
        CursorAt::Key { key_span, .. } => format!("key '{}'", span(*key_span)),
        CursorAt::Value { value_span, .. } => format!("value '{}'", span(*value_span)),
        CursorAt::NewKey { indent, partial } => format!("new@{indent} '{}'", span(*partial)),
    };
    let sib: Vec<&str> = c.siblings.iter().map(|e| e.key.as_str()).collect();
    format!("{} {} {what} [{}]", c.document, show_path(&c.path), sib.join(","))
}

const HR: &str = "\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: echo
spec:
  chart:
    spec:
      chart: app-template
      sourceRef:
        kind: HelmRepository
        name: bjw-s
  values:
    controllers:
      echo:
        containers:
          app:
            image: {repository: ghcr.io/x, tag: \"1.0\"}
            args: [--a, --b]
            env:
              TOKEN:
                valueFrom:
                  secretKeyRef:
                    name: echo-secret
                    key: token
    route:
      app:
        parentRefs:
          - name: internal
            namespace: kube-system
            sectionName: https
";

fn with_cursor(text: &str, needle: &str, delta: usize) -> String {
    let i = text.find(needle).expect(needle) + delta;
    format!("{}$0{}", &text[..i], &text[i..])
}

#[test]
fn keys_values_and_items_in_clean_yaml() {
    assert_eq!(
        describe(&with_cursor(HR, "internal", 2)),
        "0 .spec.values.route.app.parentRefs[0].name value 'internal' [namespace,sectionName]"
    );
    assert_eq!(describe(&with_cursor(HR, "parentRefs", 0)), "0 .spec.values.route.app.parentRefs key 'parentRefs' []");
    assert_eq!(describe(&with_cursor(HR, "bjw-s", 5)), "0 .spec.chart.spec.sourceRef.name value 'bjw-s' [kind]");
    assert_eq!(
        describe(&with_cursor(HR, "ghcr", 1)),
        "0 .spec.values.controllers.echo.containers.app.image.repository value 'ghcr.io/x' [tag]"
    );
    assert_eq!(describe(&with_cursor(HR, "--b", 1)), "0 .spec.values.controllers.echo.containers.app.args[1] value '--b' []");
    assert_eq!(describe(&with_cursor(HR, "kind: Helm", 0)), "0 .kind key 'kind' [apiVersion,metadata,spec]");
    assert_eq!(describe("a: 1\n---\nb:\n  - x: $0\n"), "1 .b[0].x value '' []");
    assert_eq!(describe("# c\n---\nb: v$0\n"), "0 .b value 'v' []");
    assert_eq!(describe("a: 1 # note$0\n"), "none");
    assert_eq!(describe("a: |\n  # not a comment$0\nb: 1\n"), "0 .a value '|\n  # not a comment' [b]");
}

#[test]
fn block_scalars_are_values() {
    assert_eq!(describe("a:\n  script: |\n    echo$0 hi\n    done\n  b: 1\n"), "0 .a.script value '|\n    echo hi\n    done' [b]");
}

#[test]
fn answers_with_an_unclosed_bracket_elsewhere() {
    let broken = HR.replace("args: [--a, --b]", "args: [--a, --b");
    assert!(tree::parse(&broken).errors.len() + usize::from(parse_tree(&broken).unwrap().root_node().has_error()) > 0);
    assert_eq!(
        describe(&with_cursor(&broken, "internal", 2)),
        "0 .spec.values.route.app.parentRefs[0].name value 'internal' [namespace,sectionName]"
    );
    assert_eq!(describe(&with_cursor(&broken, "echo-secret", 0)), describe(&with_cursor(HR, "echo-secret", 0)));
    let quote = HR.replace("tag: \"1.0\"}", "tag: \"1.0}");
    assert_eq!(describe(&with_cursor(&quote, "internal", 2)), describe(&with_cursor(HR, "internal", 2)));
    let brace = HR.replace("image: {repository: ghcr.io/x, tag: \"1.0\"}", "image: {repository: ghcr.io/x");
    assert_eq!(describe(&with_cursor(&brace, "bjw-s", 1)), describe(&with_cursor(HR, "bjw-s", 1)));
    assert_eq!(describe(&with_cursor(&brace, "internal", 1)), describe(&with_cursor(HR, "internal", 1)));
}

#[test]
fn answers_with_bad_indentation_elsewhere() {
    let bad = HR.replace("        kind: HelmRepository", "         kind: HelmRepository");
    assert_eq!(describe(&with_cursor(&bad, "internal", 2)), describe(&with_cursor(HR, "internal", 2)));
    assert_eq!(describe(&with_cursor(&bad, "echo-secret", 2)), describe(&with_cursor(HR, "echo-secret", 2)));
}

#[test]
fn keys_being_typed() {
    assert_eq!(describe("spec:\n  values:\n    a: 1\n    rou$0\n"), "0 .spec.values new@4 'rou' [a]");
    assert_eq!(describe("spec:\n  values:\n    a: 1\n    $0\n    b: [\n"), "0 .spec.values new@4 '' [a]");
    assert_eq!(describe("spec:\n  values:\n    a: 1\n  $0\n"), "0 .spec new@2 '' [values]");
    assert_eq!(describe("spec:\n  values:\n    a: 1\n$0"), "0  new@0 '' [spec]");
    assert_eq!(describe("spec:\n  parentRefs:\n    - name: a\n      $0\n"), "0 .spec.parentRefs[0] new@6 '' [name]");
    assert_eq!(describe("spec:\n  parentRefs:\n    - name: a\n    - $0\n"), "0 .spec.parentRefs[1] new@6 '' []");
    assert_eq!(describe("spec:\n  parentRefs:\n    - name: a\n    -$0\n"), "0 .spec.parentRefs[1] new@6 '' []");
    assert_eq!(describe("spec:\n  x: [a,\n  nam$0\n  y: 1\n"), "0 .spec new@2 'nam' [x,y]");
    // A key being typed under one whose value is still being written.
    assert_eq!(describe("spec:\n  values:\n    a: \"open\n    rou$0\n"), "0 .spec.values new@4 'rou' [a]");
    // A list of scalars: the word is an item.
    assert_eq!(describe("args:\n  - --a\n  - --b$0\n"), "0 .args[1] value '--b' []");
}

#[test]
fn the_cursor_line_itself_broken() {
    assert_eq!(describe("spec:\n  name: \"inter$0\n  kind: Secret\n"), "0 .spec.name value '\"inter' [kind]");
    assert_eq!(describe("spec:\n  ports: [80, 4$0\n  kind: Secret\n"), "0 .spec.ports value '[80, 4' [kind]");
}

#[test]
fn an_ancestor_broken_gives_no_answer() {
    // `spec` itself is broken: its children cannot be placed.
    assert_eq!(describe("spec: [\n  values:\n    a: $0\n"), "none");
}

#[test]
fn exact_values_come_from_saphyr() {
    let text = "a: \"x\\u0041\"\nb: 'it''s'\nc: [1\nd: plain # c\n";
    let v = |k: &str| {
        let c = cursor_context(text, text.find(k).unwrap() + 4).unwrap();
        let CursorAt::Value { value_span, .. } = c.at else { panic!("{k}: {:?}", c.at) };
        scalar_value(text, value_span)
    };
    assert_eq!(v("a:").as_deref(), Some("xA"));
    assert_eq!(v("b:").as_deref(), Some("it's"));
    assert_eq!(v("c:"), None, "an unclosed flow sequence has no exact value");
    assert_eq!(v("d:").as_deref(), Some("plain"));
}

/// The path saphyr gives the scalar containing `offset` (the oracle for clean text).
fn saphyr_path(text: &str, offset: usize) -> Option<(usize, Vec<PathSegment>, bool)> {
    let stream = tree::parse(text);
    let (di, doc) = stream.docs.iter().enumerate().find(|(_, d)| d.range.start <= offset && offset <= d.range.end)?;
    let mut path = Vec::new();
    let mut id = doc.root?;
    loop {
        match &doc.node(id)?.kind {
            NodeKind::Mapping { entries, .. } => {
                let mut next = None;
                for &(k, v) in entries {
                    let kr = doc.range(k);
                    let vr = doc.range(v);
                    if kr.start <= offset && offset < kr.end {
                        path.push(PathSegment::Key(doc.scalar(k)?.to_string()));
                        return Some((di, path, true));
                    }
                    if vr.start <= offset && offset < vr.end {
                        path.push(PathSegment::Key(doc.scalar(k)?.to_string()));
                        next = Some(v);
                        break;
                    }
                }
                id = next?;
            }
            NodeKind::Sequence { items, .. } => {
                let i = items.iter().position(|&it| {
                    let r = doc.range(it);
                    r.start <= offset && offset < r.end
                })?;
                path.push(PathSegment::Index(i));
                id = items[i];
            }
            NodeKind::Scalar { .. } => return Some((di, path, false)),
            NodeKind::Alias { .. } => return None,
        }
    }
}

/// Each line of `text` made broken in several ways, for every other line's scalars: the
/// tolerant answer is the clean one or none, and with an unclosed `[` on a line that is not
/// an ancestor it is always the clean one.
#[test]
fn broken_lines_never_move_the_cursor() {
    let docs = [HR, "a: 1\n---\nkind: Secret\nmetadata:\n  name: s\n  labels:\n    app: x\nstringData:\n  k: v\n  j: 'q'\n"];
    let mut checked = 0;
    let mut answered = 0;
    for text in docs {
        let lines: Vec<&str> = text.lines().collect();
        for (bl, line) in lines.iter().enumerate() {
            let Some(colon) = line.find(": ") else { continue };
            let breaks = [
                format!("{}: [oops, x", &line[..colon]),
                format!("{}: \"oops", &line[..colon]),
                format!(" {line}"),
                format!("{}: {{a: 1", &line[..colon]),
            ];
            for (bi, broken_line) in breaks.iter().enumerate() {
                let mut broken_lines = lines.clone();
                broken_lines[bl] = broken_line;
                let broken = broken_lines.join("\n") + "\n";
                let shift = broken_line.len() as isize - line.len() as isize;
                let line_start_clean: usize = lines[..bl].iter().map(|l| l.len() + 1).sum();
                for (cl, cline) in lines.iter().enumerate() {
                    if cl == bl || cline.trim().is_empty() {
                        continue;
                    }
                    let cstart: usize = lines[..cl].iter().map(|l| l.len() + 1).sum();
                    let b = cline.as_bytes();
                    let word_starts =
                        (0..b.len()).filter(|&c| b[c].is_ascii_alphanumeric() && (c == 0 || !b[c - 1].is_ascii_alphanumeric()));
                    for col in word_starts {
                        let clean_off = cstart + col;
                        let Some((di, path, on_key)) = saphyr_path(text, clean_off) else { continue };
                        let off = if clean_off > line_start_clean { (clean_off as isize + shift) as usize } else { clean_off };
                        checked += 1;
                        let got = cursor_context(&broken, off);
                        let ancestor = lines[bl].len() - lines[bl].trim_start().len() < cline.len() - cline.trim_start().len()
                            && bl < cl
                            && lines[bl + 1..cl]
                                .iter()
                                .all(|l| l.len() - l.trim_start().len() > lines[bl].len() - lines[bl].trim_start().len());
                        match got {
                            Some(c) => {
                                answered += 1;
                                assert_eq!(c.document, di, "{broken}\n@{off}");
                                assert_eq!(c.path, path, "{broken}\n@{off} ({})", &broken[off..]);
                                assert_eq!(matches!(c.at, CursorAt::Key { .. }), on_key, "{broken}\n@{off}");
                            }
                            None => assert!(ancestor || bi != 0, "no answer with `[` on line {bl}:\n{broken}\n@{off} ({})", &broken[off..]),
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 500, "{checked}");
    assert!(answered * 10 > checked * 8, "{answered} of {checked}");
}

/// Every key of a clean document, cut to a prefix without its `:` (as while typing it): the
/// cursor is a new key in the mapping saphyr puts the original key in.
#[test]
fn half_typed_keys_land_in_their_mapping() {
    let mut checked = 0;
    for (i, line) in HR.lines().enumerate() {
        let body = line.trim_start().trim_start_matches("- ");
        let Some(colon) = body.find(':') else { continue };
        if body.starts_with(['{', '[']) {
            continue;
        }
        let lines: Vec<&str> = HR.lines().collect();
        let start: usize = lines[..i].iter().map(|l| l.len() + 1).sum();
        let key_col = line.len() - body.len();
        let Some((_, mut want, true)) = saphyr_path(HR, start + key_col) else { continue };
        want.pop();
        for cut in 1..=colon {
            let typed = format!("{}{}", &line[..key_col], &body[..cut]);
            let mut l2 = lines.clone();
            l2[i] = &typed;
            let text = l2.join("\n") + "\n";
            let c = cursor_context(&text, start + typed.len()).unwrap_or_else(|| panic!("none for {typed:?}"));
            checked += 1;
            assert_eq!(c.path, want, "{typed:?}");
            assert!(matches!(c.at, CursorAt::NewKey { .. }), "{typed:?}: {:?}", c.at);
        }
    }
    assert!(checked > 100, "{checked}");
}

/// Reparsing from a previous tree (the cache's incremental path) gives the tree a fresh
/// parse gives, through edits that break and mend the text.
#[test]
fn incremental_parse_matches_a_fresh_one() {
    let mut text = HR.to_string();
    let mut tree = parse_fresh(&text, None).unwrap();
    let edits: [(&str, &str); 6] = [
        ("[--a, --b]", "[--a, --b"),
        ("    route:", "    rou"),
        ("rou\n", "route:\n"),
        ("\"1.0\"", "\"1.0"),
        ("--b\n", "--b]\n"),
        ("\"1.0}", "\"1.0\"}"),
    ];
    for (from, to) in edits {
        let next = text.replacen(from, to, 1);
        assert_ne!(next, text, "{from}");
        let incremental = reparse(&text, &tree, &next).unwrap();
        let fresh = parse_fresh(&next, None).unwrap();
        assert_eq!(incremental.root_node().to_sexp(), fresh.root_node().to_sexp(), "after {from:?} → {to:?}");
        text = next;
        tree = incremental;
    }
    assert_eq!(text, HR, "the edits mend the text again");
}

/// Random damage (seeded): whatever the text, answers stay inside it, on character
/// boundaries, and the outline and selection ranges never panic.
#[test]
fn damaged_text_gives_sound_answers() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces = ["[", "{", "\"", "'", ":", "- ", "\n", "  ", "#", "|", "---\n", "é", "\t", "&a", "*a", "!t", "?"];
    for _ in 0..300 {
        let mut text = HR.to_string();
        for _ in 0..(next() % 4 + 1) {
            let mut at = (next() as usize) % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, pieces[(next() as usize) % pieces.len()]);
        }
        for _ in 0..10 {
            let offset = (next() as usize) % (text.len() + 1);
            let _ = crate::yaml::outline::selection_ranges(&text, offset);
            let Some(c) = cursor_context(&text, offset) else { continue };
            let spans: Vec<TextRange> = match c.at {
                CursorAt::Key { key_span, value_span } => std::iter::once(key_span).chain(value_span).collect(),
                CursorAt::Value { key_span, value_span } => key_span.into_iter().chain([value_span]).collect(),
                CursorAt::NewKey { partial, .. } => vec![partial],
            };
            for s in spans.iter().chain(c.siblings.iter().map(|e| &e.key_span)) {
                assert!(s.end <= text.len() && text.is_char_boundary(s.start) && text.is_char_boundary(s.end), "{s:?} in {text:?}");
            }
            if !matches!(c.at, CursorAt::NewKey { .. }) {
                assert!(!c.path.is_empty(), "{text:?} @{offset}");
            }
        }
        let _ = crate::yaml::outline::outline(&text);
    }
}
