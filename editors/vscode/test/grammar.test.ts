// Tokenizes template text with the real TextMate engine VS Code uses
// (vscode-textmate + oniguruma) and checks the scopes. The YAML grammar VS Code
// ships is not available here, so a small stand-in with the same kinds of rules
// plays `source.yaml` (test/fixtures/yaml-stub.tmLanguage.json).

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

const ROOT = path.resolve(__dirname, '..', '..');
const GRAMMARS: Record<string, string> = {
  'source.makejinja': path.join(ROOT, 'syntaxes', 'makejinja.tmLanguage.json'),
  'source.makejinja.stock-delimiters': path.join(ROOT, 'syntaxes', 'makejinja-stock.injection.tmLanguage.json'),
  'source.yaml': path.join(ROOT, 'test', 'fixtures', 'yaml-stub.tmLanguage.json'),
};

interface Token {
  text: string;
  scopes: string[];
}

let grammar: vsctm.IGrammar;

async function loadGrammar(): Promise<vsctm.IGrammar> {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) => {
      const file = GRAMMARS[scopeName];
      if (!file) {
        return null;
      }
      return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
    },
    // What package.json's `injectTo: ["source.makejinja"]` does inside VS Code.
    getInjections: (scopeName: string) =>
      scopeName === 'source.makejinja' ? ['source.makejinja.stock-delimiters'] : undefined,
  });
  const g = await registry.loadGrammar('source.makejinja');
  assert.ok(g, 'source.makejinja did not load');
  return g;
}

function tokenize(text: string): Token[][] {
  let state = vsctm.INITIAL;
  const out: Token[][] = [];
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, state);
    out.push(r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes })));
    state = r.ruleStack;
  }
  return out;
}

/** Scopes of the token that starts the first occurrence of `needle` on line `lineNo`. */
function scopesAt(lines: Token[][], lineNo: number, needle: string, occurrence = 0): string[] {
  const line = lines[lineNo];
  const text = line.map((t) => t.text).join('');
  let at = -1;
  for (let i = 0; i <= occurrence; i++) {
    at = text.indexOf(needle, at + 1);
  }
  assert.ok(at >= 0, `"${needle}" not on line ${lineNo}: ${text}`);
  let pos = 0;
  for (const t of line) {
    if (at >= pos && at < pos + t.text.length) {
      return t.scopes;
    }
    pos += t.text.length;
  }
  throw new Error('unreachable');
}

function has(scopes: string[], scope: string): boolean {
  return scopes.some((s) => s === scope || s.startsWith(scope + '.'));
}

function assertScope(lines: Token[][], lineNo: number, needle: string, scope: string, occurrence = 0): void {
  const scopes = scopesAt(lines, lineNo, needle, occurrence);
  assert.ok(has(scopes, scope), `"${needle}" on line ${lineNo} should have ${scope}; has ${scopes.join(' ')}`);
}

function assertNoScope(lines: Token[][], lineNo: number, needle: string, scope: string): void {
  const scopes = scopesAt(lines, lineNo, needle);
  assert.ok(!has(scopes, scope), `"${needle}" on line ${lineNo} should not have ${scope}; has ${scopes.join(' ')}`);
}

describe('makejinja TextMate grammar', () => {
  before(async () => {
    grammar = await loadGrammar();
  });

  test('expression inside a double-quoted YAML string', () => {
    const l = tokenize('        lbipam.cilium.io/ips: "#{ bootstrap_cloudflare.gateway_vip }#"');
    assertScope(l, 0, 'lbipam', 'entity.name.tag.yaml');
    assertScope(l, 0, '#{', 'punctuation.section.embedded.begin.makejinja');
    assertScope(l, 0, '#{', 'string.quoted.double.yaml');
    assertScope(l, 0, 'bootstrap_cloudflare', 'variable.other.makejinja');
    assertScope(l, 0, 'bootstrap_cloudflare', 'meta.embedded.expression.makejinja');
    assertScope(l, 0, 'gateway_vip', 'variable.other.property.makejinja');
    assertScope(l, 0, '}#', 'punctuation.section.embedded.end.makejinja');
    assertNoScope(l, 0, '"', 'meta.embedded.expression.makejinja');
  });

  test('expression where YAML would start a comment', () => {
    const l = tokenize('domain: #{ bootstrap_cloudflare.domain }# # trailing comment');
    assertScope(l, 0, '#{', 'meta.embedded.expression.makejinja');
    assertNoScope(l, 0, '#{', 'comment.line.number-sign.yaml');
    assertScope(l, 0, 'domain }', 'variable.other.property.makejinja');
    assertScope(l, 0, '# trailing', 'comment.line.number-sign.yaml');
    assertNoScope(l, 0, '# trailing', 'meta.embedded.expression.makejinja');
  });

  test('statements: keyword, filter with arguments, constants, whitespace control', () => {
    const l = tokenize(
      [
        '#% if bootstrap_cloudflare.enabled | default(false, true) %#',
        '#%- for node in bootstrap_node_inventory if node.controller -%#',
        '#% set _ = names.append(node.name) %#',
        '#% filter indent(width=4, first=False) %#',
        '#% endfilter %#',
      ].join('\n'),
    );
    assertScope(l, 0, '#%', 'punctuation.section.embedded.begin.makejinja');
    assertScope(l, 0, 'if', 'keyword.control.statement.makejinja');
    assertScope(l, 0, '|', 'keyword.operator.filter.makejinja');
    assertScope(l, 0, 'default', 'support.function.filter.makejinja');
    assertScope(l, 0, 'false', 'constant.language.makejinja');
    assertScope(l, 0, 'true', 'constant.language.makejinja');
    assertScope(l, 0, '%#', 'punctuation.section.embedded.end.makejinja');
    assertScope(l, 1, '-', 'keyword.operator.whitespace-control.makejinja');
    assertScope(l, 1, 'for', 'keyword.control.statement.makejinja');
    assertScope(l, 1, 'in bootstrap', 'keyword.operator.word.makejinja');
    assertScope(l, 1, 'inventory', 'variable.other.makejinja');
    assertScope(l, 1, 'if', 'keyword.control.makejinja');
    assertScope(l, 1, '-%#', 'keyword.operator.whitespace-control.makejinja');
    assertScope(l, 2, 'set', 'keyword.control.statement.makejinja');
    assertScope(l, 2, 'append', 'entity.name.function.member.makejinja');
    assertScope(l, 3, 'filter', 'keyword.control.statement.makejinja');
    assertScope(l, 3, 'indent', 'entity.name.function.makejinja');
    assertScope(l, 3, 'width', 'variable.parameter.makejinja');
    assertScope(l, 3, '4', 'constant.numeric.integer.makejinja');
    assertScope(l, 3, 'False', 'constant.language.makejinja');
    assertScope(l, 4, 'endfilter', 'keyword.control.statement.makejinja');
  });

  test('strings, numbers, operators and tests inside expressions', () => {
    const l = tokenize(`value: #{ '%s/%s' % (a, b) ~ "x\\n" if n >= 1.5e3 else x is not defined }#`);
    assertScope(l, 0, "'%s", 'string.quoted.single.makejinja');
    assertScope(l, 0, '%s/', 'constant.other.placeholder.makejinja');
    assertScope(l, 0, ' % ', 'meta.embedded.expression.makejinja');
    assertScope(l, 0, '% (', 'keyword.operator.arithmetic.makejinja');
    assertScope(l, 0, '~', 'keyword.operator.concatenation.makejinja');
    assertScope(l, 0, '"x', 'string.quoted.double.makejinja');
    assertScope(l, 0, '\\n', 'constant.character.escape.makejinja');
    assertScope(l, 0, '>=', 'keyword.operator.comparison.makejinja');
    assertScope(l, 0, '1.5e3', 'constant.numeric.float.makejinja');
    assertScope(l, 0, 'is', 'keyword.operator.word.makejinja');
    assertScope(l, 0, 'defined', 'support.function.test.makejinja');
  });

  test('makejinja comments, one line and several', () => {
    const l = tokenize(['#| a comment with #{ not_code }# in it #|', 'key: 1 #| starts', 'still comment', 'ends #| after: x'].join('\n'));
    assertScope(l, 0, '#|', 'punctuation.definition.comment.begin.makejinja');
    assertScope(l, 0, 'not_code', 'comment.block.makejinja');
    assertNoScope(l, 0, 'not_code', 'meta.embedded.expression.makejinja');
    assertScope(l, 1, 'starts', 'comment.block.makejinja');
    assertScope(l, 2, 'still', 'comment.block.makejinja');
    assertScope(l, 3, 'ends', 'comment.block.makejinja');
    assertNoScope(l, 3, 'after', 'comment.block.makejinja');
  });

  test('plain YAML around templates stays YAML', () => {
    const l = tokenize(['apiVersion: v1', '# a YAML comment', 'kind: "Secret"'].join('\n'));
    assertScope(l, 0, 'apiVersion', 'entity.name.tag.yaml');
    assertScope(l, 1, '# a', 'comment.line.number-sign.yaml');
    assertScope(l, 2, 'Secret', 'string.quoted.double.yaml');
    for (const line of l) {
      for (const t of line) {
        assert.ok(!t.scopes.some((s) => s.includes('makejinja') && s !== 'source.makejinja'), `${t.text}: ${t.scopes}`);
      }
    }
  });

  test('expressions inside a literal block scalar', () => {
    const l = tokenize(['data:', '  config.yaml: |', '    tunnel: #{ tunnel_id }#', '    plain line', 'next: 1'].join('\n'));
    assertScope(l, 2, 'tunnel_id', 'variable.other.makejinja');
    assertScope(l, 2, 'tunnel_id', 'string.unquoted.block.yaml');
    assertScope(l, 3, 'plain', 'string.unquoted.block.yaml');
    assertScope(l, 4, 'next', 'entity.name.tag.yaml');
  });

  test('dict and list literals do not end the expression early', () => {
    const l = tokenize("x: #{ {'a': [1, 2]}['a'] | last }# y");
    assertScope(l, 0, "'a'", 'meta.structure.dict.makejinja');
    assertScope(l, 0, 'last', 'support.function.filter.makejinja');
    assertScope(l, 0, '}#', 'punctuation.section.embedded.end.makejinja');
    assertNoScope(l, 0, ' y', 'meta.embedded.expression.makejinja');
  });

  test('an unclosed bracket does not swallow the rest of the file', () => {
    const l = tokenize(['a: #{ fn( }#', 'b: #% if [x %#', 'c: 1'].join('\n'));
    assertScope(l, 0, '}#', 'punctuation.section.embedded.end.makejinja');
    assertScope(l, 1, '%#', 'punctuation.section.embedded.end.makejinja');
    assertScope(l, 2, 'c', 'entity.name.tag.yaml');
    assertNoScope(l, 2, 'c', 'meta.embedded.statement.makejinja');
  });

  test('raw blocks are not template code', () => {
    const l = tokenize(['#% raw %#', 'x: #{ literal }#', '#% endraw %#', 'y: #{ code }#'].join('\n'));
    assertScope(l, 0, 'raw', 'keyword.control.raw.makejinja');
    assertScope(l, 1, 'literal', 'string.unquoted.raw.makejinja');
    assertNoScope(l, 1, 'literal', 'meta.embedded.expression.makejinja');
    assertScope(l, 2, 'endraw', 'keyword.control.raw.makejinja');
    assertScope(l, 3, 'code', 'variable.other.makejinja');
  });

  test('stock delimiters are highlighted by the injection', () => {
    const l = tokenize(
      ['name: "{{ .Release.Name }}"', '{% if enabled %}', 'v: {{ value | default("x") }}', '{# note #}', '{% endif %}'].join('\n'),
    );
    assertScope(l, 0, '{{', 'punctuation.section.embedded.begin.makejinja');
    assertScope(l, 0, 'Release', 'meta.embedded.expression.makejinja');
    assertScope(l, 0, 'Release', 'variable.other.property.makejinja');
    assertScope(l, 1, 'if', 'keyword.control.statement.makejinja');
    assertScope(l, 2, 'default', 'support.function.filter.makejinja');
    assertScope(l, 2, '"x"', 'string.quoted.double.makejinja');
    assertScope(l, 3, 'note', 'comment.block.makejinja');
    assertScope(l, 4, 'endif', 'keyword.control.statement.makejinja');
  });

  test('Flux ${VAR} substitutions are left to YAML', () => {
    const l = tokenize('host: "echo.${SECRET_DOMAIN}"');
    assertNoScope(l, 0, 'SECRET_DOMAIN', 'meta.embedded.expression.makejinja');
    assertScope(l, 0, 'SECRET_DOMAIN', 'string.quoted.double.yaml');
  });

  test('every template in the shared corpora tokenizes quickly and closes its regions', () => {
    // $HOMELAB_LSP_CORPORA, else ../shared/corpora beside the repository.
    const corpora = process.env.HOMELAB_LSP_CORPORA
      ? path.resolve(process.env.HOMELAB_LSP_CORPORA)
      : path.resolve(ROOT, '..', '..', '..', 'shared', 'corpora');
    if (!fs.existsSync(corpora)) {
      return; // the corpora live beside the repository on developer machines and in CI only
    }
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          walk(p);
        } else if (e.name.endsWith('.j2') && !e.name.includes('.partial.')) {
          // Partials are excluded from rendering; the corpora's readme partial even
          // writes `#| ... |#`, which with `#|` as both comment delimiters leaves a
          // comment open, exactly as Jinja itself would read it.
          files.push(p);
        }
      }
    };
    for (const name of fs.readdirSync(corpora)) {
      if (!name.endsWith('.rendered') && fs.statSync(path.join(corpora, name)).isDirectory()) {
        walk(path.join(corpora, name));
      }
    }
    assert.ok(files.length > 100, `expected the corpora's templates, found ${files.length}`);
    const started = Date.now();
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      let state = vsctm.INITIAL;
      for (const line of text.split('\n')) {
        const r = grammar.tokenizeLine(line, state, 1000);
        assert.equal(r.stoppedEarly, false, `${file}: tokenizing timed out on: ${line}`);
        state = r.ruleStack;
      }
      // At the end of a file no template region may still be open.
      const last = grammar.tokenizeLine('', state);
      const open = last.tokens.flatMap((t) => t.scopes).filter((s) => /^(meta\.embedded|comment\.block)\..*makejinja/.test(s));
      assert.deepEqual(open, [], `${path.relative(corpora, file)} ends inside ${open.join(', ')}`);
    }
    assert.ok(Date.now() - started < 20000, 'tokenizing the corpora took too long');
  });
});
