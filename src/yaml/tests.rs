//! Parser, `invalid-yaml`, `mask_template` and robustness tests.

use std::path::Path;
use std::time::Instant;

use super::testutil::*;
use super::tree::{parse, NodeKind, ScalarStyle};
use super::{check, facts, mask_template, CheckOptions, RepoIndex, Severity, TextRange};

#[test]
fn tree_positions_styles_tags_and_aliases() {
    let text = "---\nbase: &base\n  a: 1\n  b: 'two'\nderived:\n  <<: *base\n  c: !custom x\nlist:\n  - *base\n  - |\n    line\n";
    let s = parse(text);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let doc = &s.docs[0];
    let root = doc.root.unwrap();
    assert_eq!(doc.root_str(&["derived", "a"]), Some("1"));
    assert_eq!(doc.root_str(&["derived", "b"]), Some("two"));
    let b = doc.path(root, &["base", "b"]).unwrap();
    assert_eq!(&text[doc.range(b).start..doc.range(b).end], "'two'");
    assert_eq!(doc.scalar_with_style(b), Some(("two", ScalarStyle::SingleQuoted)));
    let c = doc.path(root, &["derived", "c"]).unwrap();
    assert_eq!(doc.node(c).unwrap().tag.as_deref(), Some("!custom"));
    let list = doc.get(root, "list").unwrap();
    assert!(doc.is_mapping(doc.items(list)[0]));
    assert!(matches!(doc.node(doc.items(list)[0]).unwrap().kind, NodeKind::Alias { target: Some(_) }));
    let block = doc.items(list)[1];
    assert_eq!(&text[doc.range(block).start..doc.range(block).end], "|\n    line");
    assert_eq!(doc.scalar(block), Some("line\n"));
    let base = doc.get(root, "base").unwrap();
    assert!(doc.node(base).unwrap().anchored);
    assert_eq!(&text[doc.range(base).start..doc.range(base).end], "&base\n  a: 1\n  b: 'two'");
}

#[test]
fn tree_offsets_are_bytes_with_unicode_and_crlf() {
    let text = "# héllo wörld\r\nname: \"ünïcode\"\r\nnext: ok\r\n";
    let s = parse(text);
    assert!(s.errors.is_empty());
    let doc = &s.docs[0];
    let n = doc.get(doc.root.unwrap(), "next").unwrap();
    assert_eq!(&text[doc.range(n).start..doc.range(n).end], "ok");
    let n = doc.get(doc.root.unwrap(), "name").unwrap();
    assert_eq!(&text[doc.range(n).start..doc.range(n).end], "\"ünïcode\"");
    let text = "\u{feff}a: b\nc: d\n";
    let s = parse(text);
    let d = s.docs[0].get(s.docs[0].root.unwrap(), "c").unwrap();
    assert_eq!(&text[s.docs[0].range(d).start..s.docs[0].range(d).end], "d");
}

#[test]
fn multi_document_stream() {
    let s = parse("a: 1\n---\nb: 2\n...\n---\n- x\n");
    assert!(s.errors.is_empty());
    assert_eq!(s.docs.len(), 3);
    assert!(s.docs[2].is_sequence(s.docs[2].root.unwrap()));
    assert!(parse("").docs.iter().all(|d| d.root.is_none()));
}

#[test]
fn invalid_yaml_position_and_recovery() {
    let text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: [1, 2\n  b: c\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nspec: {}\n";
    let findings = run(text);
    let f = expect_one(text, &findings, "invalid-yaml", Severity::Error, (4, 3));
    assert!(f.range.end - f.range.start <= 1);
    assert!(f.message.starts_with("invalid YAML: "), "{}", f.message);
    // The document after the broken one is still checked.
    expect_one(text, &findings, "missing-parent-refs", Severity::Error, (7, 6));
    let opts = CheckOptions { check_references: true, yaml_syntax: false };
    expect_none(&check(text, Path::new(FILE), &repo(), &opts), "invalid-yaml");
}

#[test]
fn invalid_yaml_variants() {
    for (text, at) in [("a: b\n  c: d\n", (1, 3)), ("key: \"unterminated\n", (0, 5)), ("a:\n\t- b\n", (1, 1)), ("a: *nope\n", (0, 3))] {
        let findings = run(text);
        let of = only(&findings, "invalid-yaml");
        assert_eq!(of.len(), 1, "{text:?}: {findings:#?}");
        assert_eq!(start(text, &of[0]), at, "{text:?}: {:?}", of[0]);
    }
}

#[test]
#[allow(clippy::reversed_empty_ranges, clippy::single_range_in_vec_init)]
fn mask_template_keeps_offsets() {
    let text = "a: {{ x }}\nb: {% if y %}\nç: ü{# c #}\n";
    let spans = [3..10, 14..24, 31..38];
    let masked = mask_template(text, &spans);
    assert_eq!(masked.len(), text.len());
    assert_eq!(masked, "a:        \nb:           \nç: ü       \n");
    // Multi-byte characters become one space per byte; newlines survive; ranges are clamped.
    let masked = mask_template("xéy\nz", &[0..1000]);
    assert_eq!(masked, "    \n ");
    let masked = mask_template("aéb", &[2..3]);
    assert_eq!(masked, "a  b");
    assert_eq!(mask_template("abc", &[2..1, 5..9]), "abc");
    // A masked template parses as YAML with the same positions.
    let tpl = "name: \"#{ cluster_name }#\"\nport: #{ port }#\n";
    let masked = mask_template(tpl, &[7..25, 33..43]);
    let s = parse(&masked);
    assert!(s.errors.is_empty(), "{masked:?}");
    let name = s.docs[0].get(s.docs[0].root.unwrap(), "name").unwrap();
    assert_eq!(s.docs[0].range(name), super::TextRange::new(6, 26));
    assert_eq!(s.docs[0].root_str(&["port"]), Some(""));
}

/// Every prefix of realistic documents, garbage, and hostile nesting: no panic.
#[test]
fn never_panics() {
    let index = repo();
    let opts = CheckOptions::default();
    let all = format!("{GATEWAYS}{SOURCES}{ES}{SOPS_SECRET}{APP_HR}");
    let mut cut = 0;
    while cut <= all.len() {
        if all.is_char_boundary(cut) {
            let part = &all[..cut];
            let _ = check(part, Path::new("x.sops.yaml"), &index, &opts);
            let _ = facts(part, Path::new("x.yaml"));
        }
        cut += 7;
    }

    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let alphabet: Vec<char> = " \n\t:-[]{},#&*!|>'\"?%@`abcé\u{feff}\r0123456789---...".chars().collect();
    for _ in 0..300 {
        let mut s = String::new();
        for _ in 0..(seed % 200) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let _ = check(&s, Path::new("g.yaml"), &index, &opts);
    }

    let deep_flow = "[".repeat(100_000);
    let deep_map = "{a: ".repeat(20_000);
    let mut deep_block = String::new();
    for i in 0..1500 {
        deep_block.push_str(&" ".repeat(i));
        deep_block.push_str("k:\n");
    }
    let deep_seq = "- ".repeat(5_000) + "x\n";
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    let cycle = "a: &a\n  b: *a\n  <<: *a\n";
    let closed_flow = "[".repeat(3000) + &"]".repeat(3000);
    for text in [
        deep_flow.as_str(),
        &deep_map,
        &deep_block,
        &deep_seq,
        bomb,
        cycle,
        &closed_flow,
        "\u{feff}a: b",
        "%YAML 1.2\n---\na: b\n",
        "---\n---\n...\n",
    ] {
        let _ = check(text, Path::new("deep.yaml"), &index, &opts);
        let _ = facts(text, Path::new("deep.yaml"));
    }
}

#[test]
fn big_file_timing() {
    // ~2,000 lines: the realistic fixtures repeated. Prints the best of a few runs.
    let unit = format!("{APP_HR}{GATEWAYS}{SOURCES}");
    let lines_per_unit = unit.lines().count();
    let text = unit.repeat(2000 / lines_per_unit + 1);
    let lines = text.lines().count();
    assert!(lines >= 2000);
    let index = repo();
    let opts = CheckOptions::default();
    let best = |f: &mut dyn FnMut()| {
        (0..5)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let mut findings = Vec::new();
    let t_check = best(&mut || findings = check(&text, Path::new(FILE), &index, &opts));
    let t_parse = best(&mut || drop(parse(&text)));
    let t_raw = best(&mut || {
        let mut p = saphyr_parser::Parser::new_from_str(&text);
        while let Some(Ok(_)) = p.next_event() {}
    });
    let t_facts = best(&mut || drop(facts(&text, Path::new(FILE))));
    println!(
        "{lines} lines ({} bytes): check {t_check:?} (saphyr events alone {t_raw:?}, tree {t_parse:?}, facts {t_facts:?})",
        text.len()
    );
    assert!(findings.is_empty(), "{:#?}", &findings[..findings.len().min(3)]);
}

#[test]
fn empty_index_without_reference_checks_is_quiet() {
    let opts = CheckOptions { check_references: false, yaml_syntax: true };
    let findings = check(APP_HR, Path::new(FILE), &RepoIndex::default(), &opts);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn masked_templates_do_not_raise_false_positives() {
    let template = r##"---
apiVersion: v1
kind: Secret
metadata:
  name: "#{ app }#-secret"
stringData:
  password: "#{ password }#"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: "#{ app }#"
spec:
  chartRef: {kind: OCIRepository, name: "#{ chart }#"}
  values:
    controllers: {}
    auth:
      adminPassword: "#{ admin_password }#"
      token: "prefix-#{ token }#"
    envFrom:
      - secretRef:
          name: "#{ app }#-secret"
    route:
      app:
        parentRefs: [{name: "#{ gateway }#", namespace: network}]
"##;
    let spans: Vec<std::ops::Range<usize>> = template
        .match_indices("#{")
        .map(|(start, _)| start..template[start..].find("}#").map_or(template.len(), |e| start + e + 2))
        .collect();
    let masked = mask_template(template, &spans);
    assert_eq!(masked.len(), template.len());
    let findings = check(&masked, Path::new("templates/config/kubernetes/apps/x/secret.sops.yaml.j2"), &repo(), &CheckOptions::default());
    assert!(findings.is_empty(), "{findings:#?}");
    let f = facts(&masked, Path::new("x.yaml"));
    assert!(f.secrets.is_empty(), "{:?}", f.secrets);
}

#[test]
fn name_lookups_follow_additions_and_removals() {
    let secret =
        |name: &str| format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  a: ENC[x]\nsops:\n  mac: ENC[y]\n");
    let mut idx = RepoIndex::default();
    idx.add(facts(&secret("one"), Path::new("a.sops.yaml")));
    assert_eq!(idx.secrets_named("one").count(), 1);
    assert_eq!(idx.secrets_named("two").count(), 0);
    // A lookup made before an addition must not hide the new entry.
    idx.add(facts(&secret("two"), Path::new("b.sops.yaml")));
    assert_eq!(idx.secrets_named("two").map(|s| s.file.clone()).collect::<Vec<_>>(), vec![Path::new("b.sops.yaml")]);
    idx.remove_file(Path::new("a.sops.yaml"));
    assert_eq!(idx.secrets_named("one").count(), 0);
    assert_eq!(idx.secrets_named("two").count(), 1);
    assert!(idx.sources_named("flux-system").next().is_none());
    let sources = index(&[("r.yaml", SOURCES)]);
    let first = sources.sources.first().expect("the fixture defines sources");
    assert!(sources.sources_named(&first.name).any(|s| s == first));
}

/// A 25 MB file of `a: b` lines took 2.5 GB and 111 s to index (the fuzzer's 33 MB file,
/// read while it was being written): texts over the tree limit are left unread.
#[test]
fn a_text_over_the_tree_limit_is_left_unread() {
    let big = "a: b\n".repeat(crate::yaml::tree::MAX_TREE_BYTES / 5 + 1);
    let stream = crate::yaml::tree::parse(&big);
    assert!(stream.docs.is_empty() && stream.errors.is_empty());
    assert_eq!(crate::yaml::tree::parse("a: b\n").docs.len(), 1);
    // …and `check` says so, on the first line, instead of passing it as clean.
    let file = std::path::Path::new("/r/bundle.yaml");
    let findings = check(&big, file, &Default::default(), &CheckOptions::default());
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!((findings[0].code, findings[0].severity, findings[0].range), ("yaml-too-large", Severity::Info, TextRange::new(0, 4)));
    assert!(findings[0].message.contains("4.0 MB") && findings[0].message.contains("over the 4 MB"), "{}", findings[0].message);
    assert!(check("a: b\n", file, &Default::default(), &CheckOptions::default()).is_empty());
}
