//! What the fuzzer types: fragments of templates and YAML, the one-liners that once crashed
//! or ran away (issue 13), unicode line separators, CRLF, and random cuts of the document
//! itself. Every fragment is built from the seed, so a run can be replayed.

use crate::rng::Rng;

/// Fragments that once killed, hung or bloated the server, and their relatives. `{S}` is
/// replaced by the name of the secret data key, so faults happen around the secret value.
const NASTY: &[&str] = &[
    "#{'%999999999999d' % 1}#",
    "#{'%.70000f' % 0}#",
    "#{'{0:>999999999}'.format(1) }#",
    "#{ '{:^99999999}'.format('x') }#",
    "#{ [[1] * 10000] * 10000 }#",
    "#{ 'x' * 999999999 }#",
    "#{ 'ab' * 99999 * 99999 }#",
    "#% for i in range(100000) %##% for j in range(100000) %#x#% endfor %##% endfor %#",
    "#% for i in range(999999999999) %##{ i }##% endfor %#",
    "#% macro m(n) %##{ m(n + 1) }##% endmacro %##{ m(0) }#",
    "#% include 'missing.yaml.j2' %#",
    "#% include self_name %#",
    "#% import 'x' as y %#",
    "#% extends 'nope' %#",
    "#{ {S} | int }#",
    "#{ {S} + 1 }#",
    "#{ {S}.foo.bar() }#",
    "#{ {S} | from_yaml }#",
    "#{ {S} | b64decode }#",
    "#{ range({S}) }#",
    "#{ {S}[99] }#",
    "#% include {S} %#",
    "#{ {S} is divisibleby 0 }#",
    "#{ ({S} ~ 'x') | tojson | from_json | int }#",
    "#{ {S} | format(1, 2, 3) }#",
    "#{ '%d' % {S} }#",
    "#{ {S}.split(':')[5] }#",
    "#{ 1 / 0 }#",
    "#{ 2 ** 999999 }#",
    "#{ 10 ** 10 ** 10 }#",
    "#{ ''.join(range(100000000) | map('string')) }#",
    "#{ lookup('env', 'HOME') }#",
    "#{",
    "}#",
    "#%",
    "%#",
    "#|",
    "#% if %#",
    "#% endfor %#",
    "#% for x in %#",
    "#% set x = %#",
    "#% raw %#",
    "{{ x }}",
    "{% for %}",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\x0c",
    "\r\n",
    "\r",
    "\n",
    "\t",
    "😀",
    "\u{feff}",
    "é",
    "\u{0}",
    "---\n",
    "- &a [x]\n",
    "key: *a\n",
    "<<: *a\n",
    "!!binary x\n",
    "? complex\n: key\n",
    "'unterminated",
    "\"unterminated",
    "  bad:\n indentation\n",
    "%YAML 1.2\n",
    "\"\\uD800\"",
];

/// Ordinary template and YAML text.
const PLAIN: &[&str] = &[
    "#{ cluster.name }#",
    "#{ node.name | lower }#",
    "#{ value | default('x') }#",
    "#% if enabled %#yes#% endif %#",
    "#% for n in nodes %##{ n.name }##% endfor %#",
    "#{ {S} }#",
    "#{ {S} | b64encode }#",
    "#{ {S} | default('') | length }#",
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: fuzz\nstringData:\n  token: #{ {S} }#\n",
    "  name: app\n",
    "namespace: default\n",
    "    - name: x\n",
    "metadata:\n  name: y\n",
    "spec:\n  chart:\n    spec:\n      sourceRef:\n        kind: HelmRepository\n        name: nope\n",
    "- include: ../missing.yaml\n",
    "resources:\n  - ./missing\n",
    "# comment\n",
    "x",
    " ",
    ".",
    "|",
    "(",
    ")",
    "'",
    "\"",
    ":",
];

/// A deep chain: `not not … x`, `- - … 1`, `a.a.a…`, `((((…))))`, `x|f|f…`.
fn deep_chain(rng: &mut Rng) -> String {
    let n = *rng.pick(&[50, 500, 999, 1001, 3000, 5000, 20000]);
    let body = match rng.below(6) {
        0 => format!("{}x", "not ".repeat(n)),
        1 => format!("{}1", "-".repeat(n)),
        2 => format!("{}1", "+".repeat(n)),
        3 => format!("x{}", ".a".repeat(n)),
        4 => format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        _ => format!("x{}", "|lower".repeat(n)),
    };
    format!("#{{ {body} }}#")
}

/// Nested loops, each `range(n)`.
fn nested_loops(rng: &mut Rng) -> String {
    let depth = 1 + rng.below(4);
    let n = *rng.pick(&[10, 1000, 100000]);
    let mut s = String::new();
    for d in 0..depth {
        s.push_str(&format!("#% for i{d} in range({n}) %#"));
    }
    s.push_str("#{ i0 }#");
    for _ in 0..depth {
        s.push_str("#% endfor %#");
    }
    s
}

/// Something to insert, with `{S}` replaced by the secret key name.
/// `includable` are template names an include can reach (for include cycles).
pub fn fragment(rng: &mut Rng, secret_key: &str, doc_text: &str, includable: &[String]) -> String {
    let s = match rng.below(21) {
        0..=5 => rng.pick(NASTY).to_string(),
        6..=10 => rng.pick(PLAIN).to_string(),
        11 => deep_chain(rng),
        12 => nested_loops(rng),
        13 => format!("#{{ '{{:>{}}}'.format(1) }}#", rng.pick(&[10, 10000, 10001, 99999999, 999999999999u64])),
        14 => format!("#{{ '%{}d' % 1 }}#", rng.pick(&[5, 10000, 10001, 999999999999u64])),
        // A copy of a piece of the document itself (tags, YAML structure).
        15..=17 if !doc_text.is_empty() => {
            let a = crate::text::boundary(doc_text, rng.below(doc_text.len()));
            let b = crate::text::boundary(doc_text, a + rng.below(200));
            doc_text[a..b.max(a)].to_string()
        }
        18 | 19 if !includable.is_empty() => format!("#% include '{}' %#", rng.pick(includable)),
        _ => {
            let n = 1 + rng.below(8);
            (0..n).map(|_| *rng.pick(&['#', '{', '}', '%', '|', ' ', '\n', 'a', ':', '-', '\'', '"', '.', '(', ')'])).collect()
        }
    };
    s.replace("{S}", secret_key)
}

/// A mutated whole-file text for a file on disk (data files, `makejinja.toml`, templates).
pub fn mutate_text(rng: &mut Rng, text: &str, secret_key: &str, includable: &[String]) -> String {
    let mut t = text.to_string();
    for _ in 0..1 + rng.below(3) {
        let a = crate::text::boundary(&t, rng.below(t.len() + 1));
        match rng.below(4) {
            0 => {
                let b = crate::text::boundary(&t, a + rng.below(64));
                t.replace_range(a..b.max(a), "");
            }
            1 => t.insert_str(a, "\r\n"),
            _ => {
                let f = fragment(rng, secret_key, text, includable);
                t.insert_str(a, &f);
            }
        }
    }
    t
}

/// A billion-laughs block for a YAML data file: 9 levels of 9 aliases each.
pub fn billion_laughs() -> String {
    let mut s = String::from("laughs:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        s.push_str(&format!("  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    s
}

/// Broken `makejinja.toml` variants (syntax errors, wrong types, missing inputs).
pub fn broken_config(rng: &mut Rng, original: &str) -> String {
    match rng.below(5) {
        0 => original.replacen("[makejinja]", "[makejinja", 1),
        1 => original.replacen("inputs = ", "inputs = 3 #", 1),
        2 => format!("{original}\nundefined = \"nope\"\n"),
        3 => format!("{original}\ndata = [\"./missing.yaml\", \"/dev/zero\"]\n"),
        _ => original.replacen("jinja_suffix", "jinja_suffix = \"\"\n#", 1),
    }
}
