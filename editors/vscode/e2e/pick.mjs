// What the real VS Code test asks about in a corpus, chosen from the corpus
// itself (the same choice as editors/nvim/test/run.lua): a template with a
// generated file on disk that uses a top-level data value as `#{ key }#`
// (hover and inlay hint must show the value, the rendered line must be in the
// output) and with a line that moved between template and output (go to
// definition must land on the exact template line, not the same number).

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The few makejinja.toml fields the choice needs (flat TOML, strings and string lists). */
export function readConfig(repo) {
  const toml = fs.readFileSync(path.join(repo, 'makejinja.toml'), 'utf8');
  const list = (key) => {
    const m = toml.match(new RegExp(`^\\s*${key}\\s*=\\s*\\[([^\\]]*)\\]`, 'm'));
    return m ? [...m[1].matchAll(/["']([^"']*)["']/g)].map((x) => x[1]) : [];
  };
  const str = (key, dflt) => {
    const m = toml.match(new RegExp(`^\\s*${key}\\s*=\\s*["']([^"']*)["']`, 'm'));
    return m ? m[1] : dflt;
  };
  return {
    inputs: list('inputs'),
    data: list('data'),
    output: str('output', './'),
    suffix: str('jinja_suffix', '.j2'),
    variableStart: str('variable_start', '{{'),
    variableEnd: str('variable_end', '}}'),
    blockStart: str('block_start', '{%'),
  };
}

const clean = (p) => p.replace(/^\.\//, '').replace(/\/$/, '');

/** Top-level `key: value` scalars of the data files; secret-looking names left out (hovers mask them). */
export function dataValues(repo, cfg) {
  const values = new Map();
  for (const f of cfg.data) {
    let text = '';
    try {
      text = fs.readFileSync(path.join(repo, clean(f)), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split(/\r?\n/)) {
      const m = line.match(/^([A-Za-z_]\w*):\s+(.*?)\s*$/);
      if (!m || /^[|>&*[{!#]/.test(m[2])) continue;
      let value = m[2];
      const q = value.match(/^"(.*)"$/) || value.match(/^'(.*)'$/);
      value = q ? q[1] : value.replace(/\s+#.*$/, '');
      if (value === '' || /token|secret|key|pass|cert|private/i.test(m[1]) || values.has(m[1])) continue;
      values.set(m[1], value);
    }
  }
  return values;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every `#{ name ... }#` start: { line, col (of name), ident, simple, first, last } (0-based). */
function expressions(lines, cfg) {
  const re = new RegExp(`${escape(cfg.variableStart)}[-+]?\\s*([A-Za-z_]\\w*)`, 'g');
  const close = new RegExp(`^\\s*[-+]?${escape(cfg.variableEnd)}`);
  const found = [];
  lines.forEach((line, i) => {
    for (const m of line.matchAll(re)) {
      const end = m.index + m[0].length;
      const c = line.slice(end).match(close);
      found.push({ line: i, col: end - m[1].length, ident: m[1], simple: !!c, first: m.index, last: c ? end + c[0].length : undefined });
    }
  });
  return found;
}

const counts = (lines) => lines.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map());

/** A line identical in template and output, unique in both, preferably moved: { out, tpl, text }. */
function staticLine(tlines, olines, cfg) {
  const ct = counts(tlines);
  const co = counts(olines);
  let first;
  for (const [oi, l] of olines.entries()) {
    if (co.get(l) !== 1 || ct.get(l) !== 1 || !/\w/.test(l) || l.includes(cfg.variableStart)) continue;
    const pick = { out: oi, tpl: tlines.indexOf(l), text: l };
    if (pick.out !== pick.tpl) return pick;
    first ??= pick;
  }
  return first;
}

/** An output line made by `#{ key }#` with the data value, unique on both sides. */
function expressionLine(tlines, olines, cfg, values) {
  const ct = counts(tlines);
  const co = counts(olines);
  let first;
  for (const x of expressions(tlines, cfg)) {
    const value = values.get(x.ident);
    const tl = tlines[x.line];
    if (!x.simple || value === undefined || ct.get(tl) !== 1) continue;
    const expected = tl.slice(0, x.first) + value + tl.slice(x.last);
    if (co.get(expected) !== 1 || expected.trim() === '') continue;
    const pick = { out: olines.indexOf(expected), tpl: x.line, text: expected, expr: x, value };
    if (pick.out !== pick.tpl) return pick;
    first ??= pick;
  }
  return first;
}

function walk(dir, out = []) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * The template to test and what to ask about it, or an error string.
 * { template, output (both repo-relative), rendered, static, value, ident }.
 */
export function pick(repo) {
  const cfg = readConfig(repo);
  const values = dataValues(repo, cfg);
  const inputs = cfg.inputs.length ? cfg.inputs : ['./templates'];
  const yamlTemplate = new RegExp(`\\.ya?ml${escape(cfg.suffix)}$`);
  const candidates = [];
  for (const input of inputs) {
    for (const file of walk(path.join(repo, clean(input)))) {
      const rel = path.relative(repo, file);
      if (!yamlTemplate.test(rel) || rel.includes('.partial.')) continue;
      const inner = path.relative(path.join(repo, clean(input)), file).slice(0, -cfg.suffix.length);
      candidates.push({ template: rel, output: path.join(clean(cfg.output) || '.', inner).replace(/^\.\//, '') });
    }
  }
  // Templates rendered whatever the data says: no .mjfilter.py above, not wrapped
  // whole in an `if`, not a secret; kubernetes/apps/**/helmrelease first.
  const filtered = (rel) => {
    for (let d = path.dirname(path.join(repo, rel)); d.length > repo.length; d = path.dirname(d)) {
      if (fs.existsSync(path.join(d, '.mjfilter.py'))) return true;
    }
    return false;
  };
  const rank = (c) => {
    const text = fs.readFileSync(path.join(repo, c.template), 'utf8');
    const wrapped = new RegExp(`^\\s*${escape(cfg.blockStart)}[-+]?\\s*if\\s`).test(text);
    return (filtered(c.template) ? 8 : 0) + (wrapped ? 4 : 0) + (/sops|secret/.test(c.template) ? 4 : 0) +
      (c.template.includes('kubernetes/apps/') ? 0 : 2) + (c.template.includes('helmrelease') ? 0 : 1);
  };
  const ranked = candidates.map((c) => ({ ...c, rank: rank(c) }))
    .sort((a, b) => a.rank - b.rank || a.template.localeCompare(b.template));
  let best;
  let bestScore = -1;
  for (const c of ranked) {
    const outFile = path.join(repo, c.output);
    if (!fs.existsSync(outFile)) continue;
    const tlines = fs.readFileSync(path.join(repo, c.template), 'utf8').split('\n');
    const olines = fs.readFileSync(outFile, 'utf8').split('\n');
    const rendered = expressionLine(tlines, olines, cfg, values);
    const stat = staticLine(tlines, olines, cfg);
    // All of these are needed; moved lines make a lucky same-number answer fail.
    if (!rendered || !stat) continue;
    const score = (rendered.out !== rendered.tpl ? 2 : 0) + (stat.out !== stat.tpl ? 2 : 0);
    if (score > bestScore) {
      best = { ...c, rendered, static: stat, ident: rendered.expr.ident, value: rendered.value, cfg };
      bestScore = score;
    }
  }
  return best ?? `no template in ${repo} has a generated file, a ${cfg.variableStart} key ${cfg.variableEnd} line with a data value and a line shared with its output`;
}
