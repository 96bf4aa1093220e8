import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { bundledServerPath, findOnPath, notFoundMessage, resolveServerCommand } from '../src/lib/serverPath';

const ctx = { homeDir: '/home/me', workspaceFolder: '/work/cluster', platform: 'linux' as const };

test('empty setting runs homelab-lsp serve from PATH', () => {
  assert.deepEqual(resolveServerCommand('', ctx), { command: 'homelab-lsp', args: ['serve'], fromSetting: false });
  assert.deepEqual(resolveServerCommand(undefined, ctx), { command: 'homelab-lsp', args: ['serve'], fromSetting: false });
  assert.deepEqual(resolveServerCommand('   ', ctx).fromSetting, false);
});

test('setting: absolute, ~, relative to the workspace, ${workspaceFolder}, bare name', () => {
  assert.equal(resolveServerCommand('/opt/homelab-lsp', ctx).command, '/opt/homelab-lsp');
  assert.equal(resolveServerCommand('~/.cargo/bin/homelab-lsp', ctx).command, '/home/me/.cargo/bin/homelab-lsp');
  assert.equal(resolveServerCommand('~', ctx).command, '/home/me');
  assert.equal(resolveServerCommand('./target/debug/homelab-lsp', ctx).command, '/work/cluster/target/debug/homelab-lsp');
  assert.equal(
    resolveServerCommand('${workspaceFolder}/../homelab-lsp/target/release/homelab-lsp', ctx).command,
    '/work/cluster/../homelab-lsp/target/release/homelab-lsp',
  );
  assert.equal(resolveServerCommand('homelab-lsp-dev', ctx).command, 'homelab-lsp-dev');
  assert.equal(resolveServerCommand('/opt/homelab-lsp', ctx).fromSetting, true);
});

test('relative path without a workspace stays as given', () => {
  assert.equal(resolveServerCommand('bin/homelab-lsp', { homeDir: '/h' }).command, 'bin/homelab-lsp');
});

test('windows paths', () => {
  const win = { homeDir: 'C:\\Users\\me', workspaceFolder: 'C:\\repo', platform: 'win32' as const };
  assert.equal(resolveServerCommand('~\\bin\\homelab-lsp.exe', win).command, 'C:\\Users\\me\\bin\\homelab-lsp.exe');
  assert.equal(resolveServerCommand('target\\debug\\homelab-lsp.exe', win).command, 'C:\\repo\\target\\debug\\homelab-lsp.exe');
});

test('findOnPath finds an executable file and skips the rest', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-lsp-path-'));
  try {
    const empty = path.join(dir, 'empty');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(empty);
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(empty, 'homelab-lsp')); // a directory of that name is not it
    const exe = path.join(bin, 'homelab-lsp');
    fs.writeFileSync(exe, '#!/bin/sh\n');
    fs.chmodSync(exe, 0o755);
    const notExe = path.join(empty, 'other');
    fs.writeFileSync(notExe, '');
    fs.chmodSync(notExe, 0o644);
    assert.equal(findOnPath('homelab-lsp', `${empty}:${bin}`, 'linux'), exe);
    assert.equal(findOnPath('missing', `${empty}:${bin}`, 'linux'), undefined);
    if (process.platform !== 'win32') {
      assert.equal(findOnPath('other', empty, 'linux'), undefined);
    }
    assert.equal(findOnPath(exe, '', 'linux'), exe);
    assert.equal(findOnPath('homelab-lsp', undefined, 'linux'), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('findOnPath tries PATHEXT on windows', () => {
  const seen: string[] = [];
  const found = findOnPath('homelab-lsp', 'C:\\a;C:\\b', 'win32', '.EXE;.CMD', (f) => {
    seen.push(f);
    return f === 'C:\\b\\homelab-lsp.EXE';
  });
  assert.equal(found, 'C:\\b\\homelab-lsp.EXE');
  assert.deepEqual(seen.slice(0, 3), ['C:\\a\\homelab-lsp', 'C:\\a\\homelab-lsp.EXE', 'C:\\a\\homelab-lsp.CMD']);
});

test('not-found messages say what to do', () => {
  assert.match(notFoundMessage(resolveServerCommand('', ctx)), /not found on PATH.*platform-specific .vsix/);
  assert.match(notFoundMessage(resolveServerCommand('/nope', ctx)), /"\/nope".*homelabLsp\.server\.path/);
});

test('order: the setting, then the bundled server, then PATH', () => {
  const bundled = '/ext/server/homelab-lsp';
  assert.deepEqual(resolveServerCommand('', { ...ctx, bundled }), { command: bundled, args: ['serve'], fromSetting: false, bundled: true });
  assert.equal(resolveServerCommand('/opt/homelab-lsp', { ...ctx, bundled }).command, '/opt/homelab-lsp');
  assert.equal(resolveServerCommand('/opt/homelab-lsp', { ...ctx, bundled }).bundled, undefined);
  assert.equal(resolveServerCommand('', ctx).command, 'homelab-lsp');
  assert.match(notFoundMessage(resolveServerCommand('', { ...ctx, bundled })), /bundled server/);
});

test('bundledServerPath: server/homelab-lsp inside the extension, only when it exists', () => {
  const ext = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-ext-'));
  try {
    assert.equal(bundledServerPath(ext, 'linux'), undefined);
    fs.mkdirSync(path.join(ext, 'server'));
    fs.writeFileSync(path.join(ext, 'server', 'homelab-lsp'), '');
    assert.equal(bundledServerPath(ext, 'linux'), path.join(ext, 'server', 'homelab-lsp'));
    assert.equal(bundledServerPath(ext, 'win32'), undefined, 'Windows looks for homelab-lsp.exe');
    const seen: string[] = [];
    bundledServerPath('C:\\ext', 'win32', (f) => (seen.push(f), false));
    assert.deepEqual(seen, ['C:\\ext\\server\\homelab-lsp.exe']);
  } finally {
    fs.rmSync(ext, { recursive: true, force: true });
  }
});
