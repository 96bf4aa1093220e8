import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  GENERATED_FILE,
  lookupLine,
  parseGeneratedFile,
  parseRenderDiff,
  parseRenderedPreview,
  parseTemplateSource,
  previewErrorText,
  ProtocolError,
  RENDER_DIFF,
  RENDERED_PREVIEW,
  TEMPLATE_SOURCE,
} from '../src/lib/protocol';

test('method names are the server contract', () => {
  assert.equal(RENDERED_PREVIEW, 'homelab/renderedPreview');
  assert.equal(GENERATED_FILE, 'homelab/generatedFile');
  assert.equal(TEMPLATE_SOURCE, 'homelab/templateSource');
  assert.equal(RENDER_DIFF, 'homelab/renderDiff');
});

test('rendered preview: text and line map', () => {
  const t = 'file:///r/bootstrap/templates/a.yaml.j2';
  const p = parseRenderedPreview({
    text: '---\nkey: value\n',
    lineMap: [{ uri: t, line: 0 }, { uri: t, line: 3 }, null],
  });
  assert.equal(p.text, '---\nkey: value\n');
  assert.deepEqual(p.lineMap, [{ uri: t, line: 0 }, { uri: t, line: 3 }, null]);
  // Extra fields are dropped, a missing map is an empty map.
  assert.deepEqual(parseRenderedPreview({ text: '', extra: 1 }), { text: '', lineMap: [] });
});

test('rendered preview: malformed answers raise a ProtocolError naming the method', () => {
  for (const bad of [null, 'text', { text: 3 }, { text: '', lineMap: {} }, { text: '', lineMap: [{ uri: 'x', line: -1 }] }, { text: '', lineMap: [{ line: 1 }] }, { text: '', lineMap: [{ uri: 'x', line: 1.5 }] }]) {
    assert.throws(() => parseRenderedPreview(bad), (e: unknown) => e instanceof ProtocolError && /homelab\/renderedPreview/.test(e.message));
  }
});

test('generated file', () => {
  assert.equal(parseGeneratedFile({ uri: 'file:///r/kubernetes/a.yaml' }), 'file:///r/kubernetes/a.yaml');
  assert.equal(parseGeneratedFile(null), null);
  assert.equal(parseGeneratedFile(undefined), null);
  assert.throws(() => parseGeneratedFile({ path: '/x' }), ProtocolError);
  assert.throws(() => parseGeneratedFile('file:///x'), ProtocolError);
});

test('template source', () => {
  assert.deepEqual(parseTemplateSource({ uri: 'file:///t.j2', line: 4 }), { uri: 'file:///t.j2', line: 4 });
  assert.equal(parseTemplateSource(null), null);
  assert.throws(() => parseTemplateSource({ uri: 'file:///t.j2' }), ProtocolError);
});

test('line lookup', () => {
  const a = { uri: 'file:///t.j2', line: 0 };
  const b = { uri: 'file:///t.j2', line: 5 };
  const map = [a, null, b];
  assert.deepEqual(lookupLine(map, 0), a);
  assert.equal(lookupLine(map, 1), null);
  assert.deepEqual(lookupLine(map, 2), b);
  assert.deepEqual(lookupLine(map, 9), b);
  assert.equal(lookupLine(map, -1), null);
  assert.equal(lookupLine([], 0), null);
});

test('error text is a YAML comment block', () => {
  const text = previewErrorText('app.yaml.j2', new Error('undefined variable `x`\nat line 3'));
  assert.equal(text, '# homelab-lsp could not render app.yaml.j2:\n#   undefined variable `x`\n#   at line 3\n');
  assert.ok(previewErrorText('a', { code: -32603 }).includes('{"code":-32603}'));
  for (const line of text.trimEnd().split('\n')) {
    assert.ok(line.startsWith('#'));
  }
});

test('renderDiff: changed files with their fresh text', () => {
  const got = parseRenderDiff([
    { uri: 'file:///r/kubernetes/a.yaml', path: 'kubernetes/a.yaml', change: 'changed', fresh: 'a: 2\n' },
    { uri: 'file:///r/kubernetes/b.yaml', path: 'kubernetes/b.yaml', change: 'removed', fresh: null },
  ]);
  assert.deepEqual(got.map((c) => [c.path, c.change, c.fresh]), [
    ['kubernetes/a.yaml', 'changed', 'a: 2\n'],
    ['kubernetes/b.yaml', 'removed', null],
  ]);
  assert.deepEqual(parseRenderDiff([]), []);
  assert.throws(() => parseRenderDiff({}), ProtocolError);
  assert.throws(() => parseRenderDiff([{ uri: 'file:///x', path: 'x', change: 'renamed', fresh: '' }]), /new\|changed\|removed/);
});
