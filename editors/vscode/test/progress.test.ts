import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ProgressState, ProgressTracker, statusText } from '../src/lib/progress';

const progress = (token: string | number, value: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  method: '$/progress',
  params: { token, value },
});

test('an Indexing progress is followed from begin to end', () => {
  const t = new ProgressTracker();
  const seen: ProgressState[] = [];
  t.onDidChange((s) => seen.push(s));

  // The create request and other traffic change nothing.
  assert.equal(t.handleMessage({ jsonrpc: '2.0', id: 1, method: 'window/workDoneProgress/create', params: { token: 'idx' } }), false);
  assert.equal(t.handleMessage({ jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: { uri: 'file:///x', diagnostics: [] } }), false);
  assert.equal(t.handleMessage({ jsonrpc: '2.0', id: 1, result: null }), false);

  assert.equal(t.handleMessage(progress('idx', { kind: 'begin', title: 'Indexing', percentage: 0 })), true);
  assert.deepEqual(t.state(), { active: true, title: 'Indexing', percentage: 0 });
  assert.equal(t.handleMessage(progress('idx', { kind: 'report', message: '12/30 templates', percentage: 40 })), true);
  assert.deepEqual(t.state(), { active: true, title: 'Indexing', message: '12/30 templates', percentage: 40 });
  assert.equal(t.handleMessage(progress('idx', { kind: 'end' })), true);
  assert.deepEqual(t.state(), { active: false });

  assert.equal(seen.length, 3);
  assert.equal(seen[2].active, false);
});

test('progress with other titles is ignored', () => {
  const t = new ProgressTracker();
  assert.equal(t.handleMessage(progress(7, { kind: 'begin', title: 'Rendering' })), false);
  assert.equal(t.handleMessage(progress(7, { kind: 'report', percentage: 50 })), false);
  assert.equal(t.handleMessage(progress(7, { kind: 'end' })), false);
  assert.equal(t.state().active, false);
});

test('string and number tokens do not collide; the newest progress is shown', () => {
  const t = new ProgressTracker();
  t.handleMessage(progress(1, { kind: 'begin', title: 'Indexing', message: 'first' }));
  t.handleMessage(progress('1', { kind: 'begin', title: 'Re-indexing', message: 'second' }));
  assert.equal(t.state().message, 'second');
  t.handleMessage(progress('1', { kind: 'end' }));
  assert.deepEqual(t.state(), { active: true, title: 'Indexing', message: 'first' });
  t.handleMessage(progress(1, { kind: 'end' }));
  assert.equal(t.state().active, false);
});

test('odd input is ignored, percentages are clamped', () => {
  const t = new ProgressTracker();
  for (const junk of [null, 3, 'x', {}, { method: '$/progress' }, { method: '$/progress', params: { token: {}, value: {} } }, progress('a', { kind: 'weird' })]) {
    assert.equal(t.handleMessage(junk), false);
  }
  t.handleMessage(progress('a', { kind: 'begin', title: 'Indexing', percentage: 140 }));
  assert.equal(t.state().percentage, 100);
  t.handleMessage(progress('a', { kind: 'report', percentage: -3 }));
  assert.equal(t.state().percentage, 0);
  t.handleMessage(progress('a', { kind: 'report', percentage: 'half' }));
  assert.equal(t.state().percentage, 0);
});

test('reset clears and notifies once', () => {
  const t = new ProgressTracker();
  let n = 0;
  const sub = t.onDidChange(() => n++);
  t.handleMessage(progress('a', { kind: 'begin', title: 'Indexing' }));
  t.reset();
  t.reset();
  assert.equal(n, 2);
  assert.equal(t.state().active, false);
  sub.dispose();
  t.handleMessage(progress('a', { kind: 'begin', title: 'Indexing' }));
  assert.equal(n, 2);
});

test('status text', () => {
  assert.equal(statusText({ active: false }), '');
  assert.equal(statusText({ active: true, title: 'Indexing' }), '$(sync~spin) Homelab: Indexing');
  assert.equal(
    statusText({ active: true, title: 'Indexing', percentage: 40, message: '12/30' }),
    '$(sync~spin) Homelab: Indexing 40% (12/30)',
  );
});
