// Checks that package.json, the grammars and the pure modules agree, and that
// the pure modules stay free of `vscode` so these tests can run without it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

import { PLUGIN_RUN_POLICIES, RULE_CODES, SEVERITIES, TRACE_LEVELS } from '../src/lib/settings';
import { PREVIEW_SCHEME } from '../src/lib/previewUri';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const props = pkg.contributes.configuration.properties;

test('settings mirror the server contract', () => {
  assert.deepEqual(Object.keys(props).sort(), [
    'homelabLsp.diagnostics.rules',
    'homelabLsp.plugins.python',
    'homelabLsp.plugins.run',
    'homelabLsp.preview.showSecrets',
    'homelabLsp.schemas.cacheDir',
    'homelabLsp.schemas.mirrors',
    'homelabLsp.schemas.offline',
    'homelabLsp.schemas.plainYaml',
    'homelabLsp.server.path',
    'homelabLsp.trace.server',
  ]);
  assert.deepEqual(props['homelabLsp.plugins.run'].enum, [...PLUGIN_RUN_POLICIES]);
  assert.equal(props['homelabLsp.plugins.run'].default, 'ask');
  // Running a plugin executes the repository's code: a workspace's own settings may not turn it on.
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('homelabLsp.plugins.run'));
  assert.equal(props['homelabLsp.server.path'].type, 'string');
  assert.equal(props['homelabLsp.server.path'].default, '');
  assert.equal(props['homelabLsp.preview.showSecrets'].type, 'boolean');
  assert.equal(props['homelabLsp.preview.showSecrets'].default, false);
  assert.deepEqual(props['homelabLsp.trace.server'].enum, [...TRACE_LEVELS]);
  assert.equal(props['homelabLsp.trace.server'].default, 'off');
  for (const [key, value] of Object.entries(props) as Array<[string, Record<string, unknown>]>) {
    assert.ok(value.markdownDescription || value.description, `${key} needs a description`);
  }
});

test('every diagnostic rule has a per-rule enum and a description', () => {
  const rules = props['homelabLsp.diagnostics.rules'];
  assert.equal(rules.type, 'object');
  assert.deepEqual(Object.keys(rules.properties).sort(), [...RULE_CODES].sort());
  for (const [code, schema] of Object.entries(rules.properties) as Array<[string, Record<string, unknown>]>) {
    assert.deepEqual(schema.enum, [...SEVERITIES], code);
    assert.ok(schema.markdownDescription, `${code} needs a description`);
  }
});

test('commands are contributed, titled and categorised', () => {
  const commands = Object.fromEntries(
    (pkg.contributes.commands as Array<{ command: string; title: string; category: string }>).map((c) => [
      c.command,
      `${c.category}: ${c.title}`,
    ]),
  );
  assert.deepEqual(commands, {
    'homelabLsp.showRenderedPreview': 'Homelab: Show rendered preview',
    'homelabLsp.openGeneratedFile': 'Homelab: Open generated file',
    'homelabLsp.openTemplateSource': 'Homelab: Open template source',
    'homelabLsp.showRenderDiff': 'Homelab: Show what a render would change',
    'homelabLsp.restartServer': 'Homelab: Restart server',
  });
  const src = fs.readFileSync(path.join(ROOT, 'src', 'extension.ts'), 'utf8');
  for (const id of Object.keys(commands)) {
    assert.ok(src.includes(`'${id}'`), `${id} is not registered in src/extension.ts`);
  }
});

test('activates only in makejinja or Flux repositories, not on any *.j2', () => {
  const events: string[] = pkg.activationEvents;
  assert.ok(events.includes('workspaceContains:makejinja.toml'));
  for (const e of events) {
    assert.ok(!/^workspaceContains:(\*\*\/)?\*\.j2$/.test(e) && e !== 'workspaceContains:.sops.yaml', e);
  }
});

test('language and grammars are wired up', () => {
  const lang = pkg.contributes.languages.find((l: { id: string }) => l.id === 'makejinja');
  assert.ok(lang);
  // Only YAML templates: a plain `.j2` (Ansible, Salt, …) keeps whatever language it had.
  assert.equal(lang.extensions, undefined);
  assert.deepEqual(lang.filenamePatterns, ['*.yaml.j2', '*.yml.j2']);
  assert.ok(fs.existsSync(path.join(ROOT, lang.configuration)));
  JSON.parse(fs.readFileSync(path.join(ROOT, lang.configuration), 'utf8'));
  for (const g of pkg.contributes.grammars as Array<{ path: string; scopeName: string }>) {
    const grammar = JSON.parse(fs.readFileSync(path.join(ROOT, g.path), 'utf8'));
    assert.equal(grammar.scopeName, g.scopeName, g.path);
  }
});

test('every #include in the grammars names a rule that exists', () => {
  const grammars: Record<string, { repository: Record<string, unknown> }> = {};
  for (const g of pkg.contributes.grammars as Array<{ path: string; scopeName: string }>) {
    grammars[g.scopeName] = JSON.parse(fs.readFileSync(path.join(ROOT, g.path), 'utf8'));
  }
  const problems: string[] = [];
  const visit = (node: unknown, scope: string) => {
    if (Array.isArray(node)) {
      node.forEach((n) => visit(n, scope));
    } else if (node && typeof node === 'object') {
      const inc = (node as { include?: unknown }).include;
      if (typeof inc === 'string') {
        if (inc.startsWith('#')) {
          if (!(inc.slice(1) in grammars[scope].repository)) {
            problems.push(`${scope}: ${inc}`);
          }
        } else if (inc.includes('#')) {
          const [other, rule] = inc.split('#');
          if (grammars[other] && !(rule in grammars[other].repository)) {
            problems.push(`${scope}: ${inc}`);
          }
        }
      }
      Object.values(node).forEach((v) => visit(v, scope));
    }
  };
  for (const [scope, g] of Object.entries(grammars)) {
    visit(g, scope);
  }
  assert.deepEqual(problems, []);
});

test('the preview scheme is a valid URI scheme', () => {
  assert.match(PREVIEW_SCHEME, /^[a-z][a-z0-9+.-]*$/);
});

test('pure modules do not import vscode', () => {
  const dir = path.join(ROOT, 'src', 'lib');
  for (const file of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    assert.doesNotMatch(text, /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)/, `${file} imports vscode`);
  }
});

test('the package stays small and self-contained', () => {
  assert.equal(pkg.main, './dist/extension.js');
  assert.deepEqual(Object.keys(pkg.dependencies), ['vscode-languageclient']);
  for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
    assert.match(String(version), /^\d+\.\d+\.\d+$/, `${name} should be pinned to an exact version`);
  }
  const ignore = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8');
  for (const entry of ['node_modules/**', 'src/**', 'test/**', 'out/**']) {
    assert.ok(ignore.split('\n').includes(entry), `.vscodeignore should list ${entry}`);
  }
});
