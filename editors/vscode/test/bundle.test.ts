// The packaged entry point must load with nothing but VS Code's own `vscode`
// module missing (everything else is bundled). This is a load check, not an
// extension-host test: `vscode` is an inert stand-in and nothing is activated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import Module from 'module';

const ROOT = path.resolve(__dirname, '..', '..');
const BUNDLE = path.join(ROOT, 'dist', 'extension.js');

test('dist/extension.js loads and exports activate/deactivate', () => {
  assert.ok(fs.existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run compile\` before \`npm test\``);
  const stubId = path.join(ROOT, '__vscode_stub__.js');
  const inert: unknown = new Proxy({}, { get: (_t, key) => (key === '__esModule' ? false : function () {}) });
  const mod = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const original = mod._resolveFilename;
  const required: string[] = [];
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') {
      return stubId;
    }
    required.push(request);
    return original.call(this, request, ...rest);
  };
  require.cache[stubId] = { id: stubId, filename: stubId, loaded: true, exports: inert } as unknown as NodeJS.Module;
  try {
    delete require.cache[BUNDLE];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ext = require(BUNDLE);
    assert.equal(typeof ext.activate, 'function');
    assert.equal(typeof ext.deactivate, 'function');
    // Only node built-ins may be required at load time: the rest is in the bundle.
    const builtins = new Set(Module.builtinModules);
    const foreign = required.filter((r) => !builtins.has(r.replace(/^node:/, '')) && r !== BUNDLE);
    assert.deepEqual(foreign, []);
  } finally {
    mod._resolveFilename = original;
    delete require.cache[stubId];
    delete require.cache[BUNDLE];
  }
});
