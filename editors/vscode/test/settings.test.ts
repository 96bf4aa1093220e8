import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  configurationItem,
  getterFromObject,
  needsRestart,
  normalizeSeverity,
  readSettings,
  toInitializationOptions,
  toServerSettings,
} from '../src/lib/settings';

/** What a user who configured nothing (or only bad values) gets. */
const DEFAULTS = {
  serverPath: '',
  showSecrets: false,
  rules: {},
  trace: 'off',
  pluginsRun: 'ask',
  pluginsPython: '',
  schemas: {},
};

test('defaults when nothing is configured', () => {
  const { settings, warnings } = readSettings(() => undefined);
  assert.deepEqual(settings, DEFAULTS);
  assert.deepEqual(warnings, []);
});

test('reads every setting through dotted keys', () => {
  const { settings, warnings } = readSettings(
    getterFromObject({
      server: { path: '  /opt/bin/homelab-lsp ' },
      preview: { showSecrets: true },
      diagnostics: { rules: { drift: 'off', 'plaintext-secret': 'error', 'invalid-yaml': 'Warning' } },
      trace: { server: 'verbose' },
      plugins: { run: 'always', python: ' /repo/.venv/bin/python ' },
    }),
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(settings, {
    serverPath: '/opt/bin/homelab-lsp',
    showSecrets: true,
    rules: { drift: 'off', 'plaintext-secret': 'error', 'invalid-yaml': 'warning' },
    trace: 'verbose',
    pluginsRun: 'always',
    pluginsPython: '/repo/.venv/bin/python',
    schemas: {},
  });
});

test('initializationOptions wrap the section and leave out the client-only server path', () => {
  const { settings } = readSettings(
    getterFromObject({
      server: { path: '/x/homelab-lsp' },
      preview: { showSecrets: false },
      diagnostics: { rules: { 'render-error': 'info' } },
      trace: { server: 'messages' },
    }),
  );
  assert.deepEqual(toInitializationOptions(settings), {
    homelabLsp: {
      preview: { showSecrets: false },
      diagnostics: { rules: { 'render-error': 'info' } },
      trace: { server: 'messages' },
      plugins: { run: 'ask' },
      schemas: {},
    },
  });
  assert.equal(JSON.stringify(toInitializationOptions(settings)).includes('/x/homelab-lsp'), false);
});

test('an untrusted workspace never runs plugins, whatever is configured', () => {
  const get = getterFromObject({ plugins: { run: 'always' } });
  assert.equal(readSettings(get, true).settings.pluginsRun, 'always');
  const untrusted = readSettings(get, false).settings;
  assert.equal(untrusted.pluginsRun, 'never');
  assert.deepEqual(toServerSettings(untrusted).plugins, { run: 'never' });
  const bad = readSettings(getterFromObject({ plugins: { run: 'sometimes' } }));
  assert.equal(bad.settings.pluginsRun, 'ask');
  assert.equal(bad.warnings.length, 1);
});

test('the rules object sent is a copy', () => {
  const { settings } = readSettings(getterFromObject({ diagnostics: { rules: { drift: 'off' } } }));
  const sent = toServerSettings(settings);
  sent.diagnostics.rules.drift = 'error';
  assert.equal(settings.rules.drift, 'off');
});

test('severity aliases and bad values', () => {
  assert.equal(normalizeSeverity('ERROR'), 'error');
  assert.equal(normalizeSeverity('warn'), 'warning');
  assert.equal(normalizeSeverity('information'), 'info');
  assert.equal(normalizeSeverity('hint'), 'info');
  assert.equal(normalizeSeverity(' off '), 'off');
  assert.equal(normalizeSeverity(false), 'off');
  assert.equal(normalizeSeverity(true), undefined);
  assert.equal(normalizeSeverity('loud'), undefined);
  assert.equal(normalizeSeverity(3), undefined);
});

test('invalid rule values are dropped with a warning, unknown rule codes pass with a warning', () => {
  const { settings, warnings } = readSettings(
    getterFromObject({ diagnostics: { rules: { drift: 'loud', 'future-rule': 'warning', 'unknown-gateway': true } } }),
  );
  assert.deepEqual(settings.rules, { 'future-rule': 'warning' });
  assert.equal(warnings.length, 2);
  assert.match(warnings.join('\n'), /"loud" is not one of/);
  assert.match(warnings.join('\n'), /unknown rule "future-rule"/);
});

test('wrong types fall back to defaults with warnings', () => {
  const { settings, warnings } = readSettings(
    getterFromObject({
      server: { path: 42 },
      preview: { showSecrets: 'yes' },
      diagnostics: { rules: ['drift'] },
      trace: { server: 'everything' },
    }),
  );
  assert.deepEqual(settings, DEFAULTS);
  assert.equal(warnings.length, 4);
});

test('workspace/configuration answers by section', () => {
  const { settings } = readSettings(
    getterFromObject({ server: { path: '/b' }, diagnostics: { rules: { drift: 'info' } } }),
  );
  assert.deepEqual(configurationItem(settings, 'homelabLsp'), toServerSettings(settings));
  assert.deepEqual(configurationItem(settings, 'homelabLsp.diagnostics'), { rules: { drift: 'info' } });
  assert.deepEqual(configurationItem(settings, 'homelabLsp.diagnostics.rules'), { drift: 'info' });
  assert.equal(configurationItem(settings, 'homelabLsp.preview.showSecrets'), false);
  assert.equal(configurationItem(settings, 'homelabLsp.server.path'), '/b');
  assert.equal(configurationItem(settings, 'homelabLsp.nothing.here'), null);
  assert.equal(configurationItem(settings, 'yaml'), undefined);
  assert.equal(configurationItem(settings, 'homelabLspOther'), undefined);
  assert.equal(configurationItem(settings, undefined), undefined);
});

test('only a new server path needs a restart', () => {
  const a = readSettings(getterFromObject({})).settings;
  const b = readSettings(getterFromObject({ preview: { showSecrets: true } })).settings;
  const c = readSettings(getterFromObject({ server: { path: '/other' } })).settings;
  assert.equal(needsRestart(a, b), false);
  assert.equal(needsRestart(a, c), true);
});


test('schema settings: only what the user set is sent, so .homelab-lsp.toml decides the rest', () => {
  const unset = readSettings(getterFromObject({ schemas: { offline: null, plainYaml: null } }));
  assert.deepEqual(toServerSettings(unset.settings).schemas, {});
  assert.deepEqual(unset.warnings, []);
  const set = readSettings(
    getterFromObject({
      schemas: { offline: true, plainYaml: false, cacheDir: ' /c ', mirrors: { 'https://': 'file:///m/' } },
    }),
  );
  assert.deepEqual(set.warnings, []);
  assert.deepEqual(toServerSettings(set.settings).schemas, {
    offline: true,
    plainYaml: false,
    cacheDir: '/c',
    mirrors: { 'https://': 'file:///m/' },
  });
  const bad = readSettings(getterFromObject({ schemas: { offline: 'yes', mirrors: { 'https://': 3 }, cacheDir: 7 } }));
  assert.deepEqual(bad.settings.schemas, {});
  assert.equal(bad.warnings.length, 3);
});
